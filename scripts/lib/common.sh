# Shared by the scripts in scripts/: sourced, never run.

# Print a step header.
spw_log() { printf '\n==> %s\n' "$*"; }

# Install the Debian packages in "$@" that are missing (root or sudo).
# apt-get update runs only when something has to be installed.
spw_ensure_packages() {
    local missing=() p
    for p in "$@"; do
        # No `| grep -q`: under pipefail a reader that exits early can fail
        # the pipeline (SIGPIPE) and make an installed package look missing.
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    spw_log "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Packages every build of spwire needs.
SPW_BUILD_PACKAGES=(cmake make gcc clang llvm libclang-rt-14-dev pkg-config libcmocka-dev ca-certificates)
