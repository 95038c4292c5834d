#!/usr/bin/env bash
# Runs every ArcBench check and test: formatting, lints, then the whole test suite.
# Installs what it needs first, so it works on a fresh Debian 12 machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$(dirname "$here")"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

ensure_apt "${BASE_APT[@]}"
ensure_rust
# Two cores: keep one build at a time and no debug info (see Cargo.toml's profiles).
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log "cargo test"
cargo test --workspace
