# shellcheck shell=bash
# Shared by the fuzzing scripts (fuzz, replay, minimise, triage, coverage):
# sourced after common.sh, never run. Expects $SPW_ROOT (the checkout).

SPW_FUZZ_ALL_TARGETS=(handshake frame roundtrip session proto_header)
# Targets aimed at a reference implementation, run only when named
# (--targets nng): they need that implementation built from source first
# (scripts/deps/src-libs), and they find its known defects within seconds.
#   nng      NNG 1.5.2 from Debian 12's source package, instrumented like the
#            engine build: coverage and sanitizers reach inside NNG
#   nanomsg  nanomsg 1.1.5 from the upstream tarball of Debian 12's source
#            package, instrumented the same way
SPW_FUZZ_REF_TARGETS=(nng nanomsg)
# The reference targets built from source by scripts/deps/src-libs: target
# and its --lib (the library's version is src-libs' alone).
SPW_FUZZ_SRC_REFS=("nng nng" "nanomsg nanomsg")
SPW_FUZZ_WITH_REFS=()

spw_die() { echo "${SPW_PROG:-spwire}: $*" >&2; exit 2; }

# Validate a comma-separated target list; prints one target per line.
spw_parse_targets() {
    local list=$1 t ok u
    [ -n "$list" ] || spw_die "empty target list"
    IFS=',' read -r -a _spw_t <<<"$list"
    for t in "${_spw_t[@]}"; do
        ok=0
        for u in "${SPW_FUZZ_ALL_TARGETS[@]}" "${SPW_FUZZ_REF_TARGETS[@]}"; do [ "$t" = "$u" ] && ok=1; done
        [ $ok = 1 ] || spw_die "unknown target '$t' (known: ${SPW_FUZZ_ALL_TARGETS[*]} ${SPW_FUZZ_REF_TARGETS[*]})"
        echo "$t"
    done
}

# Quiet unless it fails: run "$@", keep the output in $1.log-ish file.
spw_quiet() {
    local log; log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# spw_fuzz_want_refs TARGET...: for each of them built from source
# (SPW_FUZZ_SRC_REFS), make the next spw_fuzz_build build that library for
# its flavour(s) and the fuzz_<target> with it.
spw_fuzz_want_refs() {
    local t e
    for t in "$@"; do
        for e in "${SPW_FUZZ_SRC_REFS[@]}"; do
            [ "$t" = "${e%% *}" ] && SPW_FUZZ_WITH_REFS+=("$e")
        done
    done
    return 0
}

# _spw_fuzz_src_lib ENGINE LIB: LIB from source, the flavours an engine
# build links (see scripts/deps/src-libs); prints the -D option for the fuzz
# build: SPW_<LIB>_SRC_ROOT, the directory src-libs reports it installed to
# without its flavour.
_spw_fuzz_src_lib() {
    local engine=$1 lib=$2 f flavours=() line root=""
    case "$engine" in
        libfuzzer) flavours=(libfuzzer) ;;
        afl) flavours=(afl afl-cmplog) ;;
        replay) flavours=(replay) ;;
        coverage) flavours=(coverage) ;;
    esac
    for f in "${flavours[@]}"; do
        echo "$lib from source ($f flavour)" >&2
        line=$("$SPW_ROOT/scripts/deps/src-libs" --lib "$lib" --flavour "$f" "$SPW_ROOT/build/deps/src" \
               | tail -1) || spw_die "scripts/deps/src-libs --lib $lib --flavour $f failed"
        echo "$line" >&2
        # "<lib> <version> (<debian version>) <flavour> [already] built: <dir>"
        root=$(dirname "${line##*: }")
    done
    if [ -z "$root" ] || [ ! -d "$root" ]; then
        spw_die "scripts/deps/src-libs --lib $lib named no install directory"
    fi
    echo "-DSPW_$(echo "$lib" | tr '[:lower:]' '[:upper:]')_SRC_ROOT=$root"
}

# Configure (once) and build one engine tree: libfuzzer | afl | replay
# (replay = ASan+UBSan replay drivers) | coverage (clang source-based
# coverage replay drivers). Prints the build directory.
spw_fuzz_build() {
    local engine=$1 dir="$SPW_ROOT/build/fuzz-$1" jobs=${2:-$(nproc 2>/dev/null || echo 2)}
    local args=(-S "$SPW_ROOT" -B "$dir" -DSPW_INTEROP=OFF -DCMAKE_BUILD_TYPE=Debug)
    case "$engine" in
        libfuzzer) args+=(-DCMAKE_C_COMPILER=clang -DSPW_FUZZ_ENGINE=libfuzzer -DSPW_BUILD_TESTS=OFF) ;;
        afl)       args+=(-DCMAKE_C_COMPILER=afl-clang-fast -DSPW_FUZZ_ENGINE=afl -DSPW_BUILD_TESTS=OFF) ;;
        replay)    args+=(-DCMAKE_C_COMPILER=clang -DSPW_FUZZ_ENGINE=replay -DSPW_SANITIZE=address,undefined
                          -DSPW_BUILD_TESTS=OFF) ;;
        coverage)  args+=(-DCMAKE_C_COMPILER=clang -DSPW_FUZZ_ENGINE=replay -DSPW_BUILD_TESTS=OFF
                          "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping"
                          "-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate"
                          "-DCMAKE_SHARED_LINKER_FLAGS=-fprofile-instr-generate") ;;
        *) spw_die "unknown build '$engine'" ;;
    esac
    local refs=() e d
    for e in "${SPW_FUZZ_WITH_REFS[@]}"; do
        d=$(_spw_fuzz_src_lib "$engine" "${e#* }") || exit 2
        refs+=("$d")
    done
    args+=("${refs[@]}")
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        echo "configuring $dir" >&2
        spw_quiet cmake "${args[@]}" || spw_die "cmake configure of $dir failed"
    elif [ ${#refs[@]} -gt 0 ]; then
        # An existing tree learns where the libraries are (a re-configure,
        # no rebuild).
        spw_quiet cmake -S "$SPW_ROOT" -B "$dir" "${refs[@]}" || spw_die "cmake re-configure of $dir failed"
    fi
    echo "building $dir" >&2
    spw_quiet cmake --build "$dir" -j "$jobs" || spw_die "build of $dir failed"
    echo "$dir"
}

# Packages a fuzzing engine needs on Debian 12.
spw_fuzz_packages() {
    local pk=("${SPW_BUILD_PACKAGES[@]}")
    case "$1" in
        afl) pk+=(afl++) ;;
        coverage) pk+=(llvm-14) ;;
    esac
    spw_ensure_packages "${pk[@]}" || spw_die "could not install packages: ${pk[*]}"
}

# spw_known_finding SIGNATURE [TARGET]: the id (F<n>) of the
# conformance/FINDINGS.md entry with a line "Fuzz signature: `SIGNATURE`",
# or "Fuzz signature (TARGET): `SIGNATURE`", or nothing. A signature made of
# the shared harness's frames alone (ref_peer's checks) is the same for every
# reference target, so its line names the target it was seen in.
spw_known_finding() {
    awk -v sig="\`$1\`" -v t="${2:-}" '
        /^### F[0-9]+\./ { id = $2; sub(/\.$/, "", id) }
        $0 == "Fuzz signature: " sig || (t != "" && $0 == "Fuzz signature (" t "): " sig) {
            print id; exit }' "$SPW_ROOT/conformance/FINDINGS.md"
}

# spw_log_signatures LOG: the signature of every sanitizer or harness report
# in a fuzzer's log, one per line (a report runs from its first error line
# to its SUMMARY line; libFuzzer's fork mode copies each job's report in).
spw_log_signatures() {
    local log=$1 dir
    dir=$(mktemp -d)
    awk -v dir="$dir" '
        !open && /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|invariant violated at |runtime error: / {
            open = 1; n++ }
        open { print > (dir "/" n ".txt") }
        open && /^SUMMARY: / { open = 0; close(dir "/" n ".txt") }' "$log"
    local r
    for r in "$dir"/*.txt; do
        [ -f "$r" ] && awk -f "$SPW_ROOT/scripts/lib/signature.awk" "$r"
    done
    rm -rf "$dir"
    return 0
}

# Is this corpus file name a data file (not an index or README)?
spw_is_input() {
    case "$(basename "$1")" in
        index*|INDEX*|README*|*.md|*.wire|.*) return 1 ;;
    esac
    [ -f "$1" ]
}

# Count inputs in a directory.
spw_count_inputs() {
    local n=0 f
    [ -d "$1" ] || { echo 0; return; }
    for f in "$1"/*; do spw_is_input "$f" && n=$((n + 1)); done
    echo $n
}

# Add FILE to corpus directory DIR under its SHA-256 name, with a line
# "<sha256> <name>" in DIR/index.txt. Prints the hash; returns 1 when the
# content was already there.
spw_corpus_add() {
    local file=$1 dir=$2 name=$3 h
    h=$(sha256sum "$file" | cut -d' ' -f1)
    mkdir -p "$dir"
    [ -e "$dir/$h" ] && { echo "$h"; return 1; }
    cp "$file" "$dir/$h"
    [ -f "$dir/index.txt" ] || echo "# sha256 name" >"$dir/index.txt"
    printf '%s %s\n' "$h" "$name" >>"$dir/index.txt"
    echo "$h"
}

# Read [libfuzzer] key = value lines of fuzz/<t>.options as -key=value flags.
spw_lf_options() {
    local t=$1 key val
    [ -f "$SPW_ROOT/fuzz/$t.options" ] || return 0
    while IFS='=' read -r key val; do
        key=$(echo "$key" | tr -d ' ')
        val=$(echo "$val" | sed 's/^ *//; s/ *$//')
        case "$key" in ''|\#*|\[*) continue ;; esac
        [ "$key" = dict ] && val="$SPW_ROOT/fuzz/$val"
        printf -- '-%s=%s\n' "$key" "$val"
    done <"$SPW_ROOT/fuzz/$t.options"
}

# spw_fuzz_dict T: the dictionary of target T, for AFL++ too: the dict of
# fuzz/<t>.options (a target may name another target's, as nanomsg names
# nng's: the same wire), else fuzz/dict/<t>.dict; nothing when there is none.
spw_fuzz_dict() {
    local d
    d=$(spw_lf_options "$1" | sed -n 's/^-dict=//p')
    [ -n "$d" ] || d="$SPW_ROOT/fuzz/dict/$1.dict"
    [ -f "$d" ] && echo "$d"
    return 0
}
