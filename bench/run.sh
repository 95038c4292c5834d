#!/usr/bin/env bash
# Runs every ArcBench benchmark and prints its tables. `bench/run.sh --quick` for a smoke run;
# name groups to run only those: `bench/run.sh agent host --quick` (review, agent, host, anchor,
# ui, voice, live, desktop).
#
# The agent, host and live groups need the pinned Aider venv (scripts/setup-aider.sh); the host group
# runs the release `arcbench` binary, built here first. The anchor group runs that binary beside
# the original design's stack (bench/anchor/app.py, FastAPI + uvicorn), whose venv of pinned
# versions is made here when missing (bench/out/anchor-venv); it needs the Aider venv too. The ui
# group (time to interactive of the remote in Debian's Chromium, 4x CPU throttling beside
# unthrottled) needs node and chromium, which scripts/test-all.sh installs. The voice group needs
# the transcriber venv (scripts/setup-transcriber.sh), flite and sox. The desktop group builds the
# release desktop app and measures it under Xvfb beside the release `arcbench serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
source scripts/lib.sh
cargo build --quiet --release --bin arcbench
export ARCBENCH_BIN="${ARCBENCH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/arcbench}"

groups=()
quick=()
for a in "$@"; do
    case "$a" in
        --*) quick+=("$a") ;;
        *) groups+=("$a") ;;
    esac
done
want() { [[ ${#groups[@]} -eq 0 ]] || [[ " ${groups[*]} " == *" $1 "* ]]; }

# ensure_anchor_venv: the anchor's venv with exactly bench/anchor/requirements.txt (its whole
# closure, so --no-deps). Made when missing, remade when the pins are newer than the venv.
ensure_anchor_venv() {
    local venv="$root/bench/out/anchor-venv" req="$root/bench/anchor/requirements.txt"
    if [[ ! -f "$venv/pinned.txt" || "$req" -nt "$venv/pinned.txt" ]]; then
        python3 -c 'import venv, ensurepip' 2>/dev/null || ensure_apt python3 python3-venv
        log "making the anchor venv ($venv)"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --no-deps -r "$req"
        "$venv/bin/pip" check >/dev/null \
            || die "the anchor venv's pins are inconsistent: $("$venv/bin/pip" check)"
        cp "$req" "$venv/pinned.txt"
    fi
    export ANCHOR_PYTHON="$venv/bin/python"
}

rust_groups=()
for g in review agent host anchor voice live; do
    want "$g" && rust_groups+=("$g")
done
if want anchor && [[ -z "${ANCHOR_PYTHON:-}" ]]; then
    ensure_anchor_venv
fi
if [[ ${#rust_groups[@]} -gt 0 ]]; then
    cargo run --quiet --release -p arcbench-bench -- "${rust_groups[@]}" "${quick[@]}"
fi
if want ui; then
    build_ui "$root"
    runs=7
    [[ ${#quick[@]} -gt 0 ]] && runs=3
    (cd src-ui && node bench/tti.mjs --runs "$runs")
fi
if want desktop; then
    ensure_apt "${DESKTOP_APT[@]}" "${DESKTOP_TEST_APT[@]}"
    build_ui "$root"
    build_app_ui "$root"
    cargo build --quiet --release -p arcbench-desktop
    runs=5
    idle=60
    [[ ${#quick[@]} -gt 0 ]] && runs=2 && idle=5
    # The pinned Aider venv, as the tests use: no first-start install inside the measurement.
    ARCBENCH_PYTHON="$("$root/scripts/setup-aider.sh" | tail -n 1)"
    export ARCBENCH_PYTHON
    cargo build --quiet --release -p arcbench-cli
    node bench/desktop/desktop.mjs --runs "$runs" --idle "$idle"
fi
