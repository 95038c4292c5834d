#!/usr/bin/env bash
# Runs every ArcBench benchmark and prints its tables. `bench/run.sh --quick` for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p arcbench-bench -- "$@"
