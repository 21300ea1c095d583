# shellcheck shell=bash
# Shared by the fuzzing scripts (fuzz, replay, minimise, triage, coverage):
# sourced after common.sh, never run. Expects $SPW_ROOT (the checkout).

# The targets: fuzz/targets.tsv, through its reader (scripts/lib/targets.sh).
# shellcheck source=targets.sh
. "$SPW_ROOT/scripts/lib/targets.sh"
spw_fuzz_manifest_load "$SPW_ROOT/fuzz/targets.tsv" || exit 2
# spwire's own targets, and those aimed at a reference implementation
# (scripts/fuzz runs them after spwire's own unless --targets says
# otherwise): they need that implementation fetched or built first
# (spw_fuzz_build does it), and they find its known defects within seconds.
mapfile -t SPW_FUZZ_ALL_TARGETS < <(spw_fuzz_targets kind=own)
mapfile -t SPW_FUZZ_REF_TARGETS < <(spw_fuzz_targets kind=ref)
# Which of them are built from source (build src:<lib>) for this run:
# spw_fuzz_want_refs fills it.
SPW_FUZZ_WITH_REFS=()
# What a campaign of a packaged-NNG target sees, per engine.
SPW_FUZZ_PKG_NOTE="NO coverage inside NNG (Debian's uninstrumented libnng.so): the coverage counters are the harness's only"
declare -A SPW_FUZZ_PKG_SAN_NOTE=(
    [libfuzzer]="ASan's allocator serves libnng.so's malloc/calloc/free (measured: NNG's own 4 GiB and 2^64-32 callocs are refused by ASan, LeakSanitizer reports a block NNG allocated and dropped), so leaks, double and invalid frees and bad ranges passed to the libc calls ASan intercepts (memcpy, memset, ...) inside NNG are caught; NNG's own loads and stores are not instrumented: a use-after-free or overflow NNG does by itself goes unseen (measured: F9 in 1.10.1/1.12.4 never crashes under ASan, whose allocator keeps freed blocks mapped)"
    [afl]="no sanitizer: NNG's heap is glibc's, so a use-after-free inside NNG shows only if it crashes (F9 in 1.10.1/1.12.4 does, as SIGSEGV, in a replay build without ASan)"
)
# The seeds, dictionary (fuzz/dict/) and options (fuzz/*.options) a target
# uses: the manifest's seeds column (the packaged NNG targets share
# fuzz_nng's input layout, so corpus/nng, nng.dict and nng.options serve
# them).
spw_fuzz_seeds_of() { echo "${SPW_FUZZ_SEEDS[$1]:-$1}"; }

# Is T a reference target against a packaged NNG (build pkg)?
spw_is_pkg_target() { [ "${SPW_FUZZ_KIND[$1]:-}" = ref ] && [ "${SPW_FUZZ_BUILD[$1]}" = pkg ]; }

# Is T a reference target?
spw_is_ref_target() { [ "${SPW_FUZZ_KIND[$1]:-}" = ref ]; }

# Does T take the reference targets' input layout (fuzz/ref_peer.h)?
spw_is_ref_layout() { [ "${SPW_FUZZ_KIND[$1]:-own}" != own ]; }

# spw_fuzz_list INDENT [COLUMN=VALUE...]: the matching targets, each with
# what it fuzzes (wrapped), for usage texts.
spw_fuzz_list() {
    local ind=$1 t
    shift
    while IFS= read -r t; do
        printf '%s\n' "${SPW_FUZZ_WHAT[$t]}" | fold -s -w $((64 - ${#ind})) |
            awk -v ind="$ind" -v t="$t" '{ sub(/ +$/, ""); printf "%s%-12s %s\n", ind, NR == 1 ? t : "", $0 }'
    done < <(spw_fuzz_targets "$@")
}

# spw_fuzz_run_usage SCRIPT LAST ARGS...: the usage of fuzz/run-*.sh (which
# take BUILD_DIR TARGET ...): for --help, or fewer than two arguments, print
# SCRIPT's header comment (lines 2 to LAST) and the targets, then exit (0
# for --help, else 2); otherwise return.
spw_fuzz_run_usage() {
    local script=$1 last=$2
    shift 2
    case "${1:-}" in -h|--help) ;; *) [ $# -lt 2 ] || return 0 ;; esac
    sed -n "2,${last}p" "$script" | sed 's/^# \{0,1\}//'
    echo "targets:"
    spw_fuzz_list "  "
    case "${1:-}" in -h|--help) exit 0 ;; esac
    exit 2
}

# spw_afl_timeout T: afl-fuzz's -t option for T (its afl_t column), or
# nothing.
spw_afl_timeout() {
    local v=${SPW_FUZZ_AFL_T[$1]:--}
    [ "$v" = - ] || printf '%s\n' -t "$v"
}

# spw_fuzz_mutator_so BUILD T: the AFL++ custom mutator library of BUILD for
# T (its mutator column), when T has one and BUILD has it.
spw_fuzz_mutator_so() {
    local m=${SPW_FUZZ_MUTATOR[$2]:--}
    [ "$m" != - ] && [ -f "$1/fuzz/libspw_mutator_$m.so" ] && echo "$1/fuzz/libspw_mutator_$m.so"
    return 0
}

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

# spw_fuzz_want_refs TARGET...: for each reference target among them, make
# the next spw_fuzz_build get its implementation: the ones built from source
# (scripts/lib/refsrc.sh: nng, nanomsg) for the engine's flavour(s); nng110 /
# nng112 fetch the packaged release into build/deps/<target>
# (scripts/deps/<target>).
spw_fuzz_want_refs() {
    local t e
    for t in "$@"; do
        if e=$(spw_ref_src_lib "$t"); then SPW_FUZZ_WITH_REFS+=("$t $e"); fi
        spw_is_pkg_target "$t" && SPW_FUZZ_WITH_PKG="${SPW_FUZZ_WITH_PKG:-} $t"
    done
    return 0
}

# The packaged NNG of a target (nng110, nng112) in build/deps/<target>;
# prints the -D option for the fuzz build.
_spw_fuzz_nng_pkg() {
    local t=$1 prefix="$SPW_ROOT/build/deps/$1"
    "$SPW_ROOT/scripts/deps/$t" "$prefix" >&2 || spw_die "scripts/deps/$t $prefix failed"
    echo "-DSPW_${t^^}_PREFIX=$prefix"
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
    local refs=() e d t
    for e in "${SPW_FUZZ_WITH_REFS[@]}"; do
        d=$(_spw_fuzz_src_lib "$engine" "${e#* }") || exit 2
        refs+=("$d")
    done
    for t in ${SPW_FUZZ_WITH_PKG:-}; do
        d=$(_spw_fuzz_nng_pkg "$t") || exit 2
        refs+=("$d")
    done
    args+=("${refs[@]}")
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        echo "configuring $dir" >&2
        spw_quiet cmake "${args[@]}" || spw_die "cmake configure of $dir failed"
    elif [ ${#refs[@]} -gt 0 ]; then
        # An existing tree learns where the references are (a re-configure,
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
# to its SUMMARY line; libFuzzer's fork mode copies each job's report in;
# NNG's "panic: ..." banner, printed before it aborts, opens one too, so the
# signature of a packaged NNG's panic can name it).
spw_log_signatures() {
    local log=$1 dir
    dir=$(mktemp -d)
    awk -v dir="$dir" '
        !open && /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|invariant violated at |runtime error: |^panic: / {
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

# Read [libfuzzer] key = value lines of fuzz/<t>.options as -key=value flags
# (<t> as spw_fuzz_seeds_of maps it).
spw_lf_options() {
    local t key val
    t=$(spw_fuzz_seeds_of "$1")
    [ -f "$SPW_ROOT/fuzz/$t.options" ] || return 0
    while IFS='=' read -r key val; do
        key=$(echo "$key" | tr -d ' ')
        val=$(echo "$val" | sed 's/^ *//; s/ *$//')
        case "$key" in ''|\#*|\[*) continue ;; esac
        [ "$key" = dict ] && val="$SPW_ROOT/fuzz/$val"
        printf -- '-%s=%s\n' "$key" "$val"
    done <"$SPW_ROOT/fuzz/$t.options"
}

# spw_log_artifact_signatures LOG: "PATH<TAB>SIGNATURE" for every report in
# a libFuzzer log that ends with the crash file it wrote ("Test unit written
# to PATH"): the signature of a crash as the campaign saw it, which a race
# may not repeat in a replay. Only whole reports count: libFuzzer's fork
# mode keeps just the first line of each (scripts/fuzz restarts libFuzzer
# instead for reference targets, so their reports are whole).
spw_log_artifact_signatures() {
    local log=$1 dir r p
    dir=$(mktemp -d)
    awk -v dir="$dir" '
        !open && /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|invariant violated at |runtime error: / {
            open = 1; n++ }
        open { print > (dir "/" n ".txt") }
        open && /^SUMMARY: / { open = 0; close(dir "/" n ".txt") }
        /Test unit written to / && n > 0 && !(n in done) {
            p = $0; sub(/.*Test unit written to /, "", p); sub(/[ \t]+$/, "", p)
            print p > (dir "/" n ".path"); close(dir "/" n ".path"); done[n] = 1 }' "$log"
    for r in "$dir"/*.txt; do
        [ -f "$r" ] && [ -f "${r%.txt}.path" ] || continue
        p=$(cat "${r%.txt}.path")
        printf '%s\t%s\n' "$p" "$(awk -f "$SPW_ROOT/scripts/lib/signature.awk" "$r")"
    done
    rm -rf "$dir"
    return 0
}

# The unmodified, packaged implementation a reference target's finding is
# replayed against (scripts/triage --reference): "PEER KIND TARGET", the
# manifest's peer column (the packaged NNG peers are a loader wrapper written
# at configure time around PEER-bin). Status 1 for a target without one.
spw_ref_reference() {
    local p=${SPW_FUZZ_PEER[$1]:--}
    [ "$p" != - ] || return 1
    echo "${p//:/ }"
}

# A plain build of spw-conform and the reference peers in build/fuzz-tools
# (the system compiler, no sanitizers: the packaged libraries are what is
# judged), only spw-conform and the peer targets named. Prints the tree.
spw_ref_tools_build() {
    local dir="$SPW_ROOT/build/fuzz-tools" args
    args=(-S "$SPW_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
    # The reference peers are built only with every reference present
    # (SPW_INTEROP), the private prefixes of NNG 1.10.1 and 1.12.4 included.
    local t
    for t in nng110 nng112; do
        args+=("$(_spw_fuzz_nng_pkg "$t")") || exit 1
    done
    echo "configuring $dir" >&2
    spw_quiet cmake "${args[@]}" || spw_die "cmake configure of $dir failed"
    echo "building $dir: spw-conform $*" >&2
    spw_quiet cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target spw-conform "$@" ||
        spw_die "build of $dir failed"
    echo "$dir"
}

# libFuzzer logs -> "execs exec/s cov ft corpus". One log may hold several
# runs one after the other (spw_lf_restart_loop): execs add up over the runs (a
# finished run's final stat line, then the running one's last status line);
# cov, ft and corpus are the last status line's. Several logs (parallel
# loops): execs and exec/s add up, the rest is the largest.
spw_lf_status() {
    local lg
    for lg in "$@"; do
        [ -f "$lg" ] && awk '
            /^#[0-9]+/ {
                cur = $1; sub(/^#/, "", cur); sub(/:$/, "", cur)
                for (i = 2; i <= NF; i++) {
                    if ($i == "cov:") cov = $(i+1)
                    if ($i == "ft:") ft = $(i+1)
                    if ($i == "corp:") { corp = $(i+1); sub(/\/.*/, "", corp) }
                    if ($i == "exec/s:" || $i == "exec/s") rate = $(i+1)
                }
            }
            /^stat::number_of_executed_units:/ { done += $2; cur = 0 }
            END { print done + cur, rate + 0, cov + 0, ft + 0, corp + 0 }' "$lg"
    done | awk '{ ex += $1; rate += $2; if ($3 > cov) cov = $3; if ($4 > ft) ft = $4;
                  if ($5 > corp) corp = $5 }
                END { print ex + 0, rate + 0, cov + 0, ft + 0, corp + 0 }'
}


# spw_lf_restart_loop W LOG BIN SECS [libFuzzer options...]: libFuzzer on
# the corpus W/corpus for SECS seconds in all, crash files in W/artifacts/.
# A reference implementation meets its known defects within seconds, and
# libFuzzer stops at the first crash; its fork mode goes on but keeps only
# the first line of each report (no stack: no signature, known and new look
# alike). So for a reference target the campaign restarts libFuzzer on the
# grown corpus after each crash until the time is used, every run's whole
# report appended to one log. A crash input that is in the corpus (it struck
# while the corpus loaded: a race, or a leak libFuzzer checks only then) is
# set aside in W/dropped/, so the next run does not start on it again.
# Returns non-zero only when a run failed without writing a crash file (a
# setup error, not a finding).
spw_lf_restart_loop() {
    local w=$1 log=$2 bin=$3 secs=$4 end left st run=0 a c arts mark
    shift 4
    end=$(( $(date +%s) + secs ))
    mark="$w/.run-start-$(basename "$log")"
    mkdir -p "$w/dropped"
    : >"$log"
    while :; do
        left=$(( end - $(date +%s) ))
        [ "$left" -gt 0 ] || return 0
        run=$((run + 1))
        touch "$mark"
        echo "==> scripts/fuzz: libFuzzer run $run, ${left}s left" >>"$log"
        st=0
        (cd "$w" && exec "$bin" "$@" -max_total_time="$left" -print_final_stats=1 \
            -artifact_prefix="$w/artifacts/" "$w/corpus") >>"$log" 2>&1 || st=$?
        [ "$st" -eq 0 ] && return 0
        # Crash files are named by content: the same input crashing again
        # rewrites its file, hence "newer than the run", not a count.
        mapfile -t arts < <(find "$w/artifacts" -maxdepth 1 -type f -newer "$mark" 2>/dev/null || true)
        [ ${#arts[@]} -gt 0 ] || return "$st"
        for a in "${arts[@]}"; do
            for c in "$w/corpus"/*; do
                if [ -f "$c" ] && cmp -s "$a" "$c"; then mv "$c" "$w/dropped/" 2>/dev/null || true; fi
            done
        done
    done
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
