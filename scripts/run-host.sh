#!/usr/bin/env bash
# Installs what the ArcBench host needs and runs it (`arcbench serve`) on the current directory's
# repository, or on the repositories named with --repo. Extra arguments go to `arcbench serve`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

ensure_apt "${BASE_APT[@]}"
ensure_rust
log "preparing the pinned Aider venv"
"$here/setup-aider.sh" >/dev/null
# ---- Web UI: build src-ui/dist, served by the host at /app/ ---------------------------------
build_ui "$root"
log "building arcbench (release)"
cargo build --quiet --release --bin arcbench --manifest-path "$root/Cargo.toml"
# The UI just built (a flag still wins; the host also finds it beside a target/ in the checkout).
export ARCBENCH_UI_DIR="${ARCBENCH_UI_DIR:-$root/src-ui/dist}"
exec "${CARGO_TARGET_DIR:-$root/target}/release/arcbench" serve "$@"
