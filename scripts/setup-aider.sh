#!/usr/bin/env bash
# Create (or reuse) the Python venv that holds the pinned Aider the ArcBench host drives.
#
#   scripts/setup-aider.sh [VENV_DIR]
#
# VENV_DIR defaults to $ARCBENCH_DATA_DIR/aider-venv, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/aider-venv.
# Idempotent: an existing venv that already imports aider 0.86.2 is left alone.
# The last line printed on stdout is the venv's python path (the host reads it);
# everything else goes to stderr.
set -euo pipefail

AIDER_VERSION="0.86.2"   # the bridge is written and tested against exactly this version

log() { printf 'setup-aider: %s\n' "$*" >&2; }
die() { printf 'setup-aider: error: %s\n' "$*" >&2; exit 1; }

if [[ $# -gt 1 || "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    [[ $# -gt 1 ]] && exit 2 || exit 0
fi

if [[ -n "${1:-}" ]]; then
    VENV_DIR="$1"
elif [[ -n "${ARCBENCH_DATA_DIR:-}" ]]; then
    VENV_DIR="$ARCBENCH_DATA_DIR/aider-venv"
else
    [[ -n "${XDG_DATA_HOME:-}" || -n "${HOME:-}" ]] || die "neither HOME nor XDG_DATA_HOME is set; pass VENV_DIR"
    VENV_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/arcbench/aider-venv"
fi

mkdir -p -- "$(dirname -- "$VENV_DIR")" || die "cannot create the parent directory of $VENV_DIR"

# Two hosts (or sessions) setting up at once must not run two pip installs into one venv.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV_DIR.lock" || die "cannot open lock file $VENV_DIR.lock"
    flock -w 900 9 || die "timed out waiting for another setup-aider.sh to finish ($VENV_DIR.lock)"
fi

# Aider 0.86.2 requires Python >=3.10,<3.13.
# Actually run each candidate: `command -v` alone is not enough (e.g. pyenv shims exist
# for versions that are not selected and fail when run).
python_ok() {
    "$1" -c 'import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local cand
    for cand in "${ARCBENCH_PYTHON:-}" python3.12 python3.11 python3.10 python3; do
        [[ -n "$cand" ]] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        if python_ok "$cand"; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

VENV_PY="$VENV_DIR/bin/python"

installed_version() {
    "$VENV_PY" -c 'import aider; print(aider.__version__)' 2>/dev/null || true
}

# A venv whose interpreter is gone (e.g. base Python removed) or out of range is rebuilt.
if [[ -e "$VENV_DIR" ]] && ! { [[ -x "$VENV_PY" ]] && python_ok "$VENV_PY"; }; then
    if [[ -f "$VENV_DIR/pyvenv.cfg" ]]; then
        log "existing venv at $VENV_DIR is broken or uses an unsupported Python; recreating it"
        rm -rf -- "$VENV_DIR"
    else
        die "$VENV_DIR exists but is not a Python venv; remove it or pass another VENV_DIR"
    fi
fi

if [[ ! -x "$VENV_PY" ]]; then
    PYTHON="$(find_python)" || die "no suitable Python found: Aider $AIDER_VERSION needs Python 3.10, 3.11 or 3.12 \
(tried \${ARCBENCH_PYTHON}, python3.12, python3.11, python3.10, python3). Install one (with its venv module, \
e.g. Debian's python3-venv) or point ARCBENCH_PYTHON at it."
    log "creating venv at $VENV_DIR with $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
    "$PYTHON" -m venv "$VENV_DIR" >&2 || die "could not create a venv at $VENV_DIR with $PYTHON (is the venv/ensurepip module installed?)"
fi

if [[ "$(installed_version)" != "$AIDER_VERSION" ]]; then
    log "installing aider-chat==$AIDER_VERSION into $VENV_DIR (about 30 s and 700 MB)"
    PIP=("$VENV_PY" -m pip --disable-pip-version-check --no-input)
    if ! "${PIP[@]}" install "aider-chat==$AIDER_VERSION" >&2; then
        die "pip could not install aider-chat==$AIDER_VERSION into $VENV_DIR (see pip's output above; \
is the package index reachable?)"
    fi
    # A venv broken half-way (files deleted, an interrupted install) still has pip's records, so
    # pip calls it "already satisfied": reinstall Aider's own files, then, if that is not
    # enough, everything it depends on.
    if [[ "$(installed_version)" != "$AIDER_VERSION" ]]; then
        log "aider does not import after install: reinstalling it"
        "${PIP[@]}" install --force-reinstall --no-deps "aider-chat==$AIDER_VERSION" >&2 || true
    fi
    if [[ "$(installed_version)" != "$AIDER_VERSION" ]]; then
        log "aider still does not import: reinstalling it with all its dependencies"
        "${PIP[@]}" install --force-reinstall "aider-chat==$AIDER_VERSION" >&2 || true
    fi
    got="$(installed_version)"
    [[ "$got" == "$AIDER_VERSION" ]] || die "after install, 'import aider' reports '${got:-nothing}', expected $AIDER_VERSION"
    log "aider $AIDER_VERSION installed"
else
    log "aider $AIDER_VERSION already present in $VENV_DIR"
fi

printf '%s\n' "$VENV_PY"
