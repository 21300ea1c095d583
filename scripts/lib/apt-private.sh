# shellcheck shell=bash
# Private apt configurations for scripts/deps/*: sourced, never run.
#
# Nothing system-wide changes: lists, cache, status and the sources file live
# in a directory of the caller's choosing. The Debian mirror is read at run
# time from the machine's own apt sources, so no mirror host name is stored in
# the repository. Expects a die function named `die`.

SPW_APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# spw_apt_mirror: prints the first mirror URI that serves suite bookworm
# (deb822 .sources first, then one-line .list entries), without a trailing
# slash; prints nothing when there is none.
spw_apt_mirror() {
    local m
    m=$(_spw_apt_mirror_deb822 || true)
    [ -n "$m" ] || m=$(_spw_apt_mirror_oneline || true)
    echo "${m%/}"
}

_spw_apt_mirror_deb822() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # Paragraphs are separated by blank lines; comment lines are ignored.
        awk '
            function flush() {
                if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
                    n = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (s[i] == "bookworm") { split(uris, u, /[ \t]+/); print u[1]; exit }
                }
                uris = ""; suites = ""; types = ""; enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                line = $0
                key = line; sub(/:.*/, "", key); gsub(/[ \t]/, "", key)
                val = line; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                k = tolower(key)
                if (k == "uris") uris = val
                else if (k == "suites") suites = val
                else if (k == "types") types = val
                else if (k == "enabled") enabled = tolower(val)
            }
            END { flush() }
        ' "$f"
    done | awk 'NR == 1'   # the first; reads all (head would SIGPIPE the loop)
}

_spw_apt_mirror_oneline() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        # deb [options] URI SUITE COMPONENTS...
        awk '
            /^[ \t]*#/ { next }
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ((i + 1) <= NF && $(i + 1) == "bookworm") { print $i; exit }
            }
        ' "$f"
    done | awk 'NR == 1'   # the first; reads all (head would SIGPIPE the loop)
}

# spw_apt_private DIR TYPE SUITE: a private apt configuration in DIR for one
# "TYPE MIRROR SUITE main" line (TYPE deb or deb-src), signed by the Debian
# archive keyring; sets the array SPW_APT_OPTS (the -o options every apt
# command of the caller must get) and runs `apt-get update` with it. Dies
# with the step that failed.
spw_apt_private() {
    local dir=$1 type=$2 suite=$3 mirror
    [ -r "$SPW_APT_KEYRING" ] || die "keyring $SPW_APT_KEYRING not found (install debian-archive-keyring)"
    mirror=$(spw_apt_mirror)
    [ -n "$mirror" ] || die "step 'find mirror': no apt source for suite bookworm found in /etc/apt/sources.list{,.d/*.list,.d/*.sources}"
    case "$mirror" in
        http://*|https://*|file:/*) ;;
        *) die "step 'find mirror': unsupported mirror URI scheme in '$mirror'" ;;
    esac
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" \
        || die "step 'apt config': cannot create directories under $dir"
    : > "$dir/status"
    cat > "$dir/sources.list" <<SRC
# Private apt source written by ${prog:-scripts/deps} (mirror read from the
# system's apt configuration at run time).
$type [signed-by=$SPW_APT_KEYRING] $mirror $suite main
SRC
    SPW_APT_OPTS=(
        -o "Dir::Etc::SourceList=$dir/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::Etc::Preferences=/dev/null"
        -o "Dir::Etc::PreferencesParts=/dev/null"
        -o "Dir::State::Lists=$dir/lists"
        -o "Dir::State::status=$dir/status"
        -o "Dir::Cache=$dir/cache"
        -o "APT::Architecture=amd64"
        -o "APT::Get::List-Cleanup=0"
        -o "Acquire::Languages=none"
    )
    # apt drops privileges to _apt for downloads; the private dirs are ours,
    # so stay as the invoking user.
    if [ "$(id -u)" = 0 ]; then
        SPW_APT_OPTS+=(-o "APT::Sandbox::User=root")
    fi
    echo "${prog:-scripts/deps}: step 'apt-get update' ($type $suite main, private lists in $dir)" >&2
    if ! apt-get "${SPW_APT_OPTS[@]}" update >"$dir/update.log" 2>&1; then
        sed 's/^/  /' "$dir/update.log" >&2
        die "step 'apt-get update' for $suite failed (see above)"
    fi
    if grep -qiE 'NO_PUBKEY|not signed|EXPKEYSIG|BADSIG|KEYEXPIRED|is not valid|signature' "$dir/update.log"; then
        sed 's/^/  /' "$dir/update.log" >&2
        die "step 'apt-get update': $SPW_APT_KEYRING does not verify the $suite Release file (update debian-archive-keyring)"
    fi
    local kind=binary-amd64_Packages
    [ "$type" = deb-src ] && kind=source_Sources
    if ! ls "$dir/lists/"*"_dists_${suite}_main_${kind}"* >/dev/null 2>&1; then
        sed 's/^/  /' "$dir/update.log" >&2
        die "step 'apt-get update': no $suite main ${kind%%_*} index was fetched"
    fi
}
