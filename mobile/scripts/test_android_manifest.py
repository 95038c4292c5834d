"""The Android manifest patch against a manifest shaped like Tauri 2's template."""
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from android_manifest import PERMISSIONS, patch  # noqa: E402

TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android">
    <uses-permission android:name="android.permission.INTERNET" />

    <!-- AndroidTV support -->
    <uses-feature android:name="android.software.leanback" android:required="false" />

    <application
        android:icon="@mipmap/ic_launcher"
        android:label="@string/app_name"
        android:theme="@style/Theme.arcbench"
        android:usesCleartextTraffic="${usesCleartextTraffic}">
        <activity android:name=".MainActivity" android:exported="true" />
    </application>
</manifest>
"""


def test_adds_each_permission_once_and_cleartext_for_the_tailnet():
    xml, changed = patch(TEMPLATE)
    for perm in PERMISSIONS:
        assert xml.count(f'android:name="{perm}"') == 1, perm
    assert "android.permission.INTERNET" not in changed, "already there"
    assert 'android:usesCleartextTraffic="true"' in xml
    assert "${usesCleartextTraffic}" not in xml
    assert '<activity android:name=".MainActivity"' in xml


def test_a_second_run_changes_nothing():
    once, _ = patch(TEMPLATE)
    twice, changed = patch(once)
    assert twice == once
    assert changed == []


def test_an_application_without_the_attribute_gets_it():
    xml, changed = patch(TEMPLATE.replace('\n        android:usesCleartextTraffic="${usesCleartextTraffic}"', ""))
    assert 'android:usesCleartextTraffic="true"' in xml
    assert "usesCleartextTraffic=true" in changed


def test_something_else_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "AndroidManifest.xml"
    path.write_text("<resources/>")
    script = pathlib.Path(__file__).with_name("android_manifest.py")
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "not an Android manifest" in run.stderr
    assert path.read_text() == "<resources/>"
    with pytest.raises(ValueError):
        patch("<resources/>")
