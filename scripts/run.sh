#!/usr/bin/env bash
# Runs ArcBench: the desktop app where there is a display, the headless host otherwise.
#   bash scripts/run.sh               # pick by the display ($DISPLAY / $WAYLAND_DISPLAY)
#   bash scripts/run.sh --desktop     # the desktop app (tray, dashboard; runs the host inside)
#   bash scripts/run.sh --headless [serve flags…]   # `arcbench serve` on the current directory
# Either installs what it needs first (Debian packages, the pinned Aider venv, the web UI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

mode=auto
case "${1:-}" in
    --desktop) mode=desktop; shift ;;
    --headless) mode=headless; shift ;;
esac
if [[ $mode == auto ]]; then
    if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then mode=desktop; else mode=headless; fi
fi
if [[ $mode == headless ]]; then
    exec bash "$here/run-host.sh" "$@"
fi

[[ $# -eq 0 ]] || die "the desktop app takes no arguments (its settings are in its window); for serve flags use --headless"
ensure_apt "${BASE_APT[@]}" "${DESKTOP_APT[@]}"
ensure_rust
log "preparing the pinned Aider venv"
"$here/setup-aider.sh" >/dev/null
build_ui "$root"
build_app_ui "$root"
log "building the desktop app (release; the first build takes several minutes)"
cargo build --quiet --release -p arcbench-desktop --manifest-path "$root/Cargo.toml"
export ARCBENCH_UI_DIR="${ARCBENCH_UI_DIR:-$root/src-ui/dist}"
exec "${CARGO_TARGET_DIR:-$root/target}/release/arcbench-desktop"
