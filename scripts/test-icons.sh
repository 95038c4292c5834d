#!/usr/bin/env bash
# Tests the committed icon set in icons/:
#  - it is what scripts/icons.sh makes of icons/source.svg today (no file stale, missing or extra):
#    byte for byte when this machine renders with the versions in icons/rendered-with.txt, else
#    pixel for pixel within an anti-aliasing tolerance (a Debian update of librsvg or cairo moves
#    edge pixels, not the design);
#  - every file each target needs is there at its size; iOS icons have no alpha channel; icon.ico
#    holds 16, 24, 32, 48, 64 and 256 px; icon.icns opens with every size; no PNG carries a time
#    or text chunk; the five tray states differ from each other.
#
#   bash scripts/test-icons.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
log "regenerating the icons into a temporary folder"
bash "$here/icons.sh" "$fresh/icons"

# icons.sh made this venv (Pillow, pinned) on its way.
target="${CARGO_TARGET_DIR:-target}"
[[ "$target" == /* ]] || target="$root/$target"

log "comparing icons/ with the fresh set"
"$target/icons-venv/bin/python" - "$root/icons" "$fresh/icons" <<'PY'
import os, re, struct, sys
from PIL import Image, ImageChops

committed, fresh = sys.argv[1:]
HAND_WRITTEN = {"source.svg", "README.md"}  # the only files in icons/ that the script does not write
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")
    return ok

def files(top):
    out = set()
    for d, _, names in os.walk(top):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), top).replace(os.sep, "/")
            if rel not in HAND_WRITTEN:
                out.add(rel)
    return out

# ---- (a) stale: the committed set is the fresh one -------------------------------------------
def read(top, rel):
    with open(os.path.join(top, rel), "rb") as f:
        return f.read()

def frames(path):
    """Every image in a file: one for a PNG, one per size for .ico and .icns."""
    im = Image.open(path)
    if path.endswith(".ico"):
        out = {}
        for s in sorted(im.info["sizes"]):
            im.size = s
            im.load()
            out[s] = im.convert("RGBA")
        return out
    if path.endswith(".icns"):
        out = {}
        for w, h, scale in sorted(im.info["sizes"]):
            im.size = (w, h)
            im.load(scale=scale)
            out[(w, h, scale)] = im.convert("RGBA")
        return out
    return {im.size: im.convert("RGBA")}

def alike(a, b):
    """Same pixels but for anti-aliasing: at most 2 % of them off by more than 24 in a channel."""
    if a.size != b.size:
        return False
    diff = ImageChops.difference(a, b).split()
    worst = diff[0]
    for band in diff[1:]:
        worst = ImageChops.lighter(worst, band)
    off = sum(worst.histogram()[25:])
    return off <= 0.02 * a.width * a.height

want, have = files(fresh), files(committed)
same_renderer = "rendered-with.txt" in have and read(committed, "rendered-with.txt") == read(fresh, "rendered-with.txt")
if not same_renderer:
    print("note: this machine renders with other versions than icons/rendered-with.txt says; comparing pixels, not bytes")
stale = []
for rel in sorted(want - have):
    stale.append(f"missing: icons/{rel}")
for rel in sorted(have - want):
    stale.append(f"extra (not made by scripts/icons.sh): icons/{rel}")
for rel in sorted(want & have):
    a, b = read(committed, rel), read(fresh, rel)
    if a == b:
        continue
    if same_renderer:
        stale.append(f"differs: icons/{rel}")
    elif rel == "rendered-with.txt":
        continue  # it differs by design: that is why pixels are compared
    elif rel.endswith((".png", ".ico", ".icns")):
        fa, fb = frames(os.path.join(committed, rel)), frames(os.path.join(fresh, rel))
        if fa.keys() != fb.keys() or not all(alike(fa[k], fb[k]) for k in fa):
            stale.append(f"differs: icons/{rel}")
    else:
        stale.append(f"differs: icons/{rel}")
for line in stale:
    print(f"  {line}")
if not check(not stale, f"{len(stale)} icon file(s) stale"):
    print("icons are stale: run bash scripts/icons.sh")

# ---- (b) each target's files, at their sizes ---------------------------------------------------
expected = {  # file: pixel size
    "32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512,
    "icon-192.png": 192, "icon-512.png": 512, "icon-maskable-512.png": 512, "icon-180.png": 180,
    "windows/StoreLogo.png": 50,
}
for s in (30, 44, 71, 89, 107, 142, 150, 284, 310):
    expected[f"windows/Square{s}x{s}Logo.png"] = s
for dpi, s in {"mdpi": 48, "hdpi": 72, "xhdpi": 96, "xxhdpi": 144, "xxxhdpi": 192}.items():
    expected[f"android/mipmap-{dpi}/ic_launcher.png"] = s
    expected[f"android/mipmap-{dpi}/ic_launcher_round.png"] = s
    expected[f"android/mipmap-{dpi}/ic_launcher_foreground.png"] = s * 108 // 48
for name in ("20x20@1x", "20x20@2x", "20x20@2x-1", "20x20@3x", "29x29@1x", "29x29@2x", "29x29@2x-1",
             "29x29@3x", "40x40@1x", "40x40@2x", "40x40@2x-1", "40x40@3x", "60x60@2x", "60x60@3x",
             "76x76@1x", "76x76@2x", "83.5x83.5@2x", "512@2x"):
    m = re.fullmatch(r"([\d.]+)(?:x[\d.]+)?@(\d)x(?:-1)?", name)
    expected[f"ios/AppIcon-{name}.png"] = round(float(m[1]) * int(m[2]))
TRAY = ("idle", "running", "review", "warning", "installing")
for st in TRAY:
    expected[f"tray/{st}.png"] = 32
    expected[f"tray/{st}@2x.png"] = 64
OPAQUE = [r for r in expected if r.startswith("ios/")] + ["icon-180.png", "icon-maskable-512.png"]
others = ["icon.ico", "icon.icns", "icon.svg", "icon-maskable.svg", "android/values/ic_launcher_background.xml",
          "android/mipmap-anydpi-v26/ic_launcher.xml", "android/mipmap-anydpi-v26/ic_launcher_round.xml"]

def png_chunks(data):
    pos, out = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        out.append(kind.decode("latin-1"))
        pos += 12 + n
    return out

for rel in others:
    check(os.path.isfile(os.path.join(committed, rel)), f"icons/{rel} missing")
for rel, size in expected.items():
    path = os.path.join(committed, rel)
    if not check(os.path.isfile(path), f"icons/{rel} missing"):
        continue
    data = read(committed, rel)
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"icons/{rel} is not a PNG")
    check(not {"tIME", "tEXt", "iTXt", "zTXt"} & set(png_chunks(data)), f"icons/{rel} carries a time or text chunk")
    im = Image.open(path)
    check(im.size == (size, size), f"icons/{rel} is {im.size[0]}x{im.size[1]}, not {size}x{size}")
    if rel in OPAQUE:
        check(im.mode == "RGB" and "transparency" not in im.info, f"icons/{rel} has an alpha channel ({im.mode})")

ico = os.path.join(committed, "icon.ico")
if os.path.isfile(ico):
    sizes = sorted(Image.open(ico).info["sizes"])
    check(sizes == [(s, s) for s in (16, 24, 32, 48, 64, 256)], f"icon.ico holds {sizes}")
icns = os.path.join(committed, "icon.icns")
if os.path.isfile(icns):
    try:
        got = frames(icns)
        check({(w * s, h * s) for w, h, s in got} >= {(s, s) for s in (32, 64, 128, 256, 512, 1024)},
              f"icon.icns holds {sorted(got)}")
    except Exception as e:  # a broken .icns is a failure to report, not a crash
        check(False, f"icon.icns does not open: {e}")

# The states must tell apart: each pair of tray icons differs in a good part of the badge's area.
tray = {st: Image.open(os.path.join(committed, f"tray/{st}@2x.png")).convert("RGBA")
        for st in TRAY if os.path.isfile(os.path.join(committed, f"tray/{st}@2x.png"))}
for i, a in enumerate(TRAY):
    for b in TRAY[i + 1:]:
        if a in tray and b in tray:
            diff = ImageChops.difference(tray[a], tray[b]).convert("L")
            changed = sum(diff.histogram()[33:])
            check(changed >= 150, f"tray states {a} and {b} look alike ({changed} pixels differ)")

print(f"icons: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
