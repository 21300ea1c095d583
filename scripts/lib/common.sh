# Shared by the scripts in scripts/: sourced, never run.

# This file's directory, fixed when it is sourced (a script may cd later).
_spw_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# ---- version ---------------------------------------------------------------
# spw_version: spwire's one version, the first line of VERSION at the top of
# the repository (CMakeLists.txt's project() reads the same file).
spw_version() {
    local v=""
    IFS= read -r v <"$_spw_lib_dir/../../VERSION" || [ -n "$v" ] || {
        echo "spwire: cannot read $_spw_lib_dir/../../VERSION" >&2
        return 1
    }
    printf '%s\n' "$v"
}

# spw_print_version [NAME]: every script's --version, "NAME VERSION" on
# stdout. NAME defaults to the running script's path in the repository
# (scripts/fuzz, scripts/deps/nng110); a script that changed directory since
# it started, so that $0 no longer leads to it, gives it.
spw_print_version() {
    local root self v
    root=$(cd "$_spw_lib_dir/../.." && pwd -P)
    self=${1:-$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")}
    v=$(spw_version) || return 1
    printf '%s %s\n' "${self#"$root"/}" "$v"
}

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

# ---- say why -------------------------------------------------------------
# spw_say_why [NAME]: from here on, a non-zero exit of this (bash) script
# prints one line to stderr saying why: NAME (default: the script's file
# name), the exit status (what a status above 128 means), and, when `set -e`
# ended the script, the file, line and text of the command that failed.
# Every script-based test calls it right after sourcing this file, so that a
# failing ctest never shows only "Failed".
# An EXIT trap set before the call is kept (it runs first); cleanups set up
# later go through spw_at_exit CMD -- a later `trap CMD EXIT` would replace
# this one.
spw_say_why() {
    _spw_why_name=${1:-$(basename "$0")}
    _spw_why_err=""
    _spw_why_err_rc=""
    _spw_why_atexit=()
    local prev
    prev=$(trap -p EXIT)
    if [ -n "$prev" ]; then
        eval "set -- $prev"   # trap -- 'CMD' EXIT
        _spw_why_atexit+=("$3")
    fi
    set -o errtrace
    trap '_spw_why_on_err "$?" "${BASH_SOURCE[0]:-$0}" "$LINENO" "$BASH_COMMAND"' ERR
    trap '_spw_why_on_exit "$?"' EXIT
}

# spw_at_exit CMD: run CMD (eval'd) when the script exits, after the ones
# registered before. Needs spw_say_why first.
spw_at_exit() { _spw_why_atexit+=("$1"); }

_spw_why_on_err() {
    # Recorded in every shell (with errtrace also in subshells, where it is
    # simply lost); reported by the EXIT trap only if it ended the script.
    _spw_why_err_rc=$1
    _spw_why_err="${2#"${SPW_ROOT:-/nonexistent}/"}:$3: \`$4\`"
}

_spw_why_on_exit() {
    local rc=$1 c errexit=0
    [[ $- == *e* ]] && errexit=1
    trap - ERR
    set +e
    for c in "${_spw_why_atexit[@]}"; do eval "$c"; done
    if [ "$rc" -ne 0 ]; then
        local what="exit status $rc"
        if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
            what="$what = 128 + SIG$(kill -l $((rc - 128)) 2>/dev/null || echo '?')"
            [ "$rc" -eq 141 ] && what="$what (typically a pipeline's writer, after its reader exited early)"
        fi
        if [ "$errexit" = 1 ] && [ -n "$_spw_why_err" ] && [ "$_spw_why_err_rc" = "$rc" ]; then
            echo "$_spw_why_name: FAILED: set -e stopped it at $_spw_why_err ($what)" >&2
        else
            echo "$_spw_why_name: FAILED with $what (see the messages above)" >&2
        fi
    fi
    exit "$rc"
}
