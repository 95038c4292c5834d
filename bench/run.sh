#!/usr/bin/env bash
# Runs every ArcBench benchmark and prints its tables. `bench/run.sh --quick` for a smoke run;
# name groups to run only those: `bench/run.sh agent host --quick` (review, agent, host).
#
# The agent and host groups need the pinned Aider venv (scripts/setup-aider.sh); the host group
# runs the release `arcbench` binary, built here first.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --bin arcbench
export ARCBENCH_BIN="${ARCBENCH_BIN:-$(pwd)/target/release/arcbench}"
cargo run --quiet --release -p arcbench-bench -- "$@"
