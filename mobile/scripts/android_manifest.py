#!/usr/bin/env python3
"""Adds what the phone app needs to the Android manifest `tauri android init` generates
(gen/android/app/src/main/AndroidManifest.xml), idempotently:

- RECORD_AUDIO and MODIFY_AUDIO_SETTINGS (hold-to-talk prompts; the webview's getUserMedia),
  CAMERA (QR pairing; the barcode-scanner plugin declares it too), POST_NOTIFICATIONS (turn
  finished, needs you, budget);
- cleartext HTTP in release builds too: hosts are reached over the tailnet, whose WireGuard
  tunnel encrypts every packet, usually as http://100.x.y.z:port (an address no network security
  config can name by range). The template allows it in debug builds only.

Usage: android_manifest.py <AndroidManifest.xml>   (rewrites it in place; prints what changed)
"""
import re
import sys

PERMISSIONS = [
    "android.permission.INTERNET",
    "android.permission.RECORD_AUDIO",
    "android.permission.MODIFY_AUDIO_SETTINGS",
    "android.permission.CAMERA",
    "android.permission.POST_NOTIFICATIONS",
]


def patch(xml: str) -> tuple[str, list[str]]:
    changed = []
    if "<manifest" not in xml or "<application" not in xml:
        raise ValueError("not an Android manifest (no <manifest> or <application>)")
    for perm in PERMISSIONS:
        if re.search(r'<uses-permission\s+android:name="%s"' % re.escape(perm), xml):
            continue
        xml = re.sub(
            r"(<manifest\b[^>]*>)",
            lambda m: m.group(1) + '\n    <uses-permission android:name="%s" />' % perm,
            xml,
            count=1,
        )
        changed.append(perm)
    app = re.search(r"<application\b[^>]*>", xml, re.S)
    tag = app.group(0)
    if re.search(r'android:usesCleartextTraffic="true"', tag):
        pass
    elif "android:usesCleartextTraffic=" in tag:
        new = re.sub(r'android:usesCleartextTraffic="[^"]*"', 'android:usesCleartextTraffic="true"', tag)
        xml = xml.replace(tag, new, 1)
        changed.append("usesCleartextTraffic=true")
    else:
        new = tag.replace("<application", '<application\n        android:usesCleartextTraffic="true"', 1)
        xml = xml.replace(tag, new, 1)
        changed.append("usesCleartextTraffic=true")
    return xml, changed


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        xml = f.read()
    try:
        xml, changed = patch(xml)
    except ValueError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)
    print(f"{path}: " + (", ".join(changed) if changed else "already complete"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
