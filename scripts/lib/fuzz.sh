# shellcheck shell=bash
# Shared by the fuzzing scripts (fuzz, replay, minimise, triage, coverage):
# sourced after common.sh, never run. Expects $SPW_ROOT (the checkout).

SPW_FUZZ_ALL_TARGETS=(handshake frame roundtrip session proto_header)
# Targets aimed at a reference implementation, run only when named
# (--targets nng): they need that implementation built from source first
# (scripts/deps/src-libs), and they find its known defects within seconds.
#   nng  NNG 1.5.2 from Debian 12's source package, instrumented like the
#        engine build: coverage and sanitizers reach inside NNG
SPW_FUZZ_REF_TARGETS=(nng)

spw_die() { echo "${SPW_PROG:-spwire}: $*" >&2; exit 2; }
# Reference libraries built from source: their table (coverage sources).
# shellcheck source=refsrc.sh
. "$SPW_ROOT/scripts/lib/refsrc.sh"

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

# spw_fuzz_want_nng TARGET...: when one of them is nng, make the next
# spw_fuzz_build build NNG 1.5.2 from source for its flavour(s) and the
# fuzz_nng target with it.
spw_fuzz_want_nng() {
    local t
    for t in "$@"; do [ "$t" = nng ] && SPW_FUZZ_WITH_NNG=1; done
    return 0
}

# NNG 1.5.2 from source, the flavours an engine build links (see
# scripts/deps/src-libs); prints the -D option for the fuzz build.
_spw_fuzz_nng_libs() {
    local engine=$1 f flavours=()
    case "$engine" in
        libfuzzer) flavours=(libfuzzer) ;;
        afl) flavours=(afl afl-cmplog) ;;
        replay) flavours=(replay) ;;
        coverage) flavours=(coverage) ;;
    esac
    for f in "${flavours[@]}"; do
        echo "NNG 1.5.2 from source ($f flavour)" >&2
        "$SPW_ROOT/scripts/deps/src-libs" --lib nng --flavour "$f" "$SPW_ROOT/build/deps/src" >&2 \
            || spw_die "scripts/deps/src-libs --lib nng --flavour $f failed"
    done
    echo "-DSPW_NNG_SRC_ROOT=$SPW_ROOT/build/deps/src/nng-1.5.2"
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
    local nng=""
    if [ "${SPW_FUZZ_WITH_NNG:-0}" = 1 ]; then
        nng=$(_spw_fuzz_nng_libs "$engine") || exit 2
        args+=("$nng")
    fi
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        echo "configuring $dir" >&2
        spw_quiet cmake "${args[@]}" || spw_die "cmake configure of $dir failed"
    elif [ -n "$nng" ]; then
        # An existing tree learns where NNG is (a re-configure, no rebuild).
        spw_quiet cmake -S "$SPW_ROOT" -B "$dir" "$nng" || spw_die "cmake re-configure of $dir failed"
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

# spw_known_finding SIGNATURE: the id (F<n>) of the conformance/FINDINGS.md
# entry with a line "Fuzz signature: `SIGNATURE`", or nothing.
spw_known_finding() {
    awk -v sig="Fuzz signature: \`$1\`" '
        /^### F[0-9]+\./ { id = $2; sub(/\.$/, "", id) }
        $0 == sig { print id; exit }' "$SPW_ROOT/conformance/FINDINGS.md"
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
