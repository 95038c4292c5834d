#!/usr/bin/env bash
# Runs every ArcBench benchmark and prints its tables. `bench/run.sh --quick` for a smoke run;
# name groups to run only those: `bench/run.sh agent host --quick` (review, agent, host, ui).
#
# The agent and host groups need the pinned Aider venv (scripts/setup-aider.sh); the host group
# runs the release `arcbench` binary, built here first. The ui group (time to interactive of the
# remote in Debian's Chromium, 4x CPU throttling beside unthrottled) needs node and chromium,
# which scripts/test-all.sh installs.
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

rust_groups=()
for g in review agent host; do
    want "$g" && rust_groups+=("$g")
done
if [[ ${#rust_groups[@]} -gt 0 ]]; then
    cargo run --quiet --release -p arcbench-bench -- "${rust_groups[@]}" "${quick[@]}"
fi
if want ui; then
    build_ui "$root"
    runs=7
    [[ ${#quick[@]} -gt 0 ]] && runs=3
    (cd src-ui && node bench/tti.mjs --runs "$runs")
fi
