# Shared helpers for ArcBench's scripts: install only what is missing, say what is happening.
# Sourced, not run.

log() { printf '\033[1m==> [%4ds] %s\033[0m\n' "$SECONDS" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
# ensure_apt PKG...: installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
        APT_UPDATED=1
    fi
    log "installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_rust: cargo plus the rustfmt and clippy components.
ensure_rust() {
    if ! command -v cargo >/dev/null; then
        [[ -x "$HOME/.cargo/bin/cargo" ]] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null || die "Rust is not installed: install it with rustup, then run this again"
    if command -v rustup >/dev/null; then
        rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
        rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
    fi
}

# The packages building and testing the host needs (git's CLI is also the tests' independent check).
# iproute2, curl, openssl: the mesh test (network namespaces, HTTPS from the "phone"); dbus-daemon:
# the stay-awake tests (a private bus with a stand-in login manager); espeak-ng: the host's
# spoken read-back; flite, sox: the voice tests' speech.
BASE_APT=(git build-essential pkg-config ca-certificates iproute2 curl openssl dbus-daemon espeak-ng flite sox)

# What building the desktop app (Tauri 2: WebKitGTK, GTK 3, the tray's appindicator) needs. The
# tray library is loaded at run time, so the app needs it installed too.
DESKTOP_APT=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev)
# What testing it in a real window needs: a virtual display, WebKit's WebDriver, a tray host,
# screenshots (ImageMagick's import), xdotool to open the tray's menu.
DESKTOP_TEST_APT=(xvfb xauth webkit2gtk-driver x11-utils xdotool trayer imagemagick)

# ---- Web UI (src-ui) ------------------------------------------------------------------------
# ensure_node: Node.js >= 20.19 with npm (Vite 8 needs it). Installs Debian's packages if node is
# missing; an older node is reported, not replaced.
ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        ensure_apt nodejs npm
    fi
    local v
    v="$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)"
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' \
        || die "Node.js $v is too old for the web UI: it needs 20.19 or newer"
}

# build_ui: installs the UI's locked dependencies (when the lock changed) and builds src-ui/dist,
# which the host serves at /app/. Browsers are never downloaded (Chromium comes from Debian).
build_ui() {
    local ui="$1/src-ui"
    ensure_node
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [[ ! -f "$ui/node_modules/.package-lock.json" || "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]]; then
        log "npm ci (src-ui)"
        (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    log "npm run build (src-ui)"
    (cd "$ui" && npm run --silent build)
}

# build_app_ui: the desktop window's build of src-ui (src-ui/dist-app, embedded into the app by
# `cargo build`, so it must exist before the desktop crate compiles).
build_app_ui() {
    local ui="$1/src-ui"
    log "npm run build:app (src-ui → dist-app, for the desktop app)"
    (cd "$ui" && npm run --silent build:app)
}
