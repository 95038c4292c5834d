#!/usr/bin/env bash
# Create (or reuse, or repair) the Python venv that holds the pinned Aider the ArcBench host drives.
#
#   scripts/setup-aider.sh [VENV_DIR]
#
# VENV_DIR defaults to $ARCBENCH_DATA_DIR/aider-venv, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/aider-venv.
# The work is done by setup-venv.sh, the one mechanism for every managed runtime (the host runs
# the same steps itself when it finds no usable venv). The last line printed on stdout is the
# venv's python path; everything else goes to stderr.
set -euo pipefail

if [[ $# -gt 1 || "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    [[ $# -gt 1 ]] && exit 2 || exit 0
fi

if [[ -n "${1:-}" ]]; then
    VENV_DIR="$1"
elif [[ -n "${ARCBENCH_DATA_DIR:-}" ]]; then
    VENV_DIR="$ARCBENCH_DATA_DIR/aider-venv"
else
    [[ -n "${XDG_DATA_HOME:-}" || -n "${HOME:-}" ]] || { echo "setup-aider: neither HOME nor XDG_DATA_HOME is set; pass VENV_DIR" >&2; exit 1; }
    VENV_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/aider-venv"
fi

# Keep in step with arcbench_host::provision::AIDER (the bridge is tested against exactly this).
exec bash "$(dirname "$0")/setup-venv.sh" aider "$VENV_DIR" aider-chat 0.86.2 aider 3.10 3.12
