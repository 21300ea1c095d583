#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build for spwire's fuzz targets.
#
# Honours the environment those systems set: $CC, $CFLAGS (sanitizer and
# coverage flags), $LIB_FUZZING_ENGINE (link flags or archive of the engine:
# -fsanitize=fuzzer, or AFL++'s libAFLDriver.a), $SRC (sources; spwire is
# $SRC/spwire unless $SPW_SRC says otherwise), $OUT (results), $WORK
# (scratch). $FUZZING_ENGINE, when set, is only used to pick the frame
# custom mutator (libFuzzer only).
#
# Writes to $OUT, per own target t of fuzz/targets.tsv with cflite yes (read
# through scripts/lib/targets.sh):
#   fuzz_<t>                 the fuzzer
#   fuzz_<t>_seed_corpus.zip corpus/<s>/ and corpus/regression/<s>/ inputs
#   fuzz_<t>.dict            fuzz/dict/<s>.dict
#   fuzz_<t>.options         fuzz/<s>.options with the dict path made local
# (<s>: the target's seeds column). The transport sources (transport/
# sources.txt) are compiled once per kind (core, full) with the same $CC
# $CFLAGS, so the whole program is instrumented alike.
#
# And the ref target with cflite yes, fuzz_nng (with its seed zip, dict and
# options), when NNG's source is
# there: the directory $SPW_NNG_SRC, else the one $SRC/nng-*/ that the
# Dockerfile unpacks from the distribution's source package. NNG is built
# here with the same $CC $CFLAGS (cmake, static, tests, tools, TLS and HTTP
# off), so coverage and the sanitizers reach inside NNG. Without a source
# directory fuzz_nng is skipped, with a message saying so.
# Also when run as `bash build.sh` (scripts/tests/cflite-build), which
# ignores the flags of the #! line: a failed step must fail the build.
set -euo pipefail
src=${SPW_SRC:-"$SRC/spwire"}
work=${WORK:-$(mktemp -d)}
obj="$work/spwire-obj"
rm -rf "$obj"
mkdir -p "$obj/core" "$obj/full" "$OUT"

# shellcheck source=../scripts/lib/targets.sh
. "$src/scripts/lib/targets.sh"
spw_fuzz_manifest_load "$src/fuzz/targets.tsv"
inc=(-I"$src/transport/include" -I"$src/transport/src" -I"$src/fuzz")

# The library: core parts into core/ (as spwire_core), every part into full/
# (as spwire_static), with the definitions transport/CMakeLists.txt gives
# each.
while read -r part f; do
    case "$part" in core|fd) ;; *) continue ;; esac
    o=$(basename "$f" .c).o
    if [ "$part" = core ]; then
        $CC $CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L "${inc[@]}" -c "$src/transport/$f" -o "$obj/core/$o"
    fi
    $CC $CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "${inc[@]}" \
        -c "$src/transport/$f" -o "$obj/full/$o"
done <"$src/transport/sources.txt"
[ -n "$(ls -A "$obj/core")" ] || { echo "build.sh: no core sources in transport/sources.txt" >&2; exit 1; }

# libfuzzer_engine: is the engine libFuzzer (which the structure-aware
# mutators need: they call its LLVMFuzzerMutate)?
libfuzzer_engine() {
    [ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ] && [[ "$LIB_FUZZING_ENGINE" == *fuzzer* ]] \
        && [[ "$LIB_FUZZING_ENGINE" != *AFL* ]]
}
# mutator_objs T: the object of T's mutator (its manifest column), under
# libFuzzer; appended to the array `extra`.
mutator_objs() {
    local m=${SPW_FUZZ_MUTATOR[$1]} defs=(-DSPW_MUTATOR_LIBFUZZER)
    [ "$m" != - ] && libfuzzer_engine || return 0
    [ "$m" = ref ] && defs+=(-DSPW_MUTATOR_REF)
    [ -f "$obj/mutator_$m.o" ] ||
        $CC -O2 -std=c11 "${inc[@]}" "${defs[@]}" -c "$src/fuzz/mutator_frame.c" -o "$obj/mutator_$m.o"
    extra+=("$obj/mutator_$m.o")
}

# seeds_dicts_options T DIR...: $OUT/fuzz_<T>_seed_corpus.zip from the inputs
# in DIR... (not index files, READMEs, or .wire files, which are bytes on a
# wire, not harness inputs), $OUT/fuzz_<T>.dict and $OUT/fuzz_<T>.options.
seeds_dicts_options() {
    local t=$1 zipdir="$work/seeds-$1" d f
    shift
    rm -rf "$zipdir" "$OUT/fuzz_${t}_seed_corpus.zip"
    mkdir -p "$zipdir"
    for d in "$@"; do
        for f in "$d"/*; do
            [ -f "$f" ] || continue
            case "$(basename "$f")" in index*|INDEX*|README*|*.md|*.wire) continue ;; esac
            cp "$f" "$zipdir/"
        done
    done
    if [ -n "$(ls -A "$zipdir")" ]; then
        if command -v zip >/dev/null; then
            (cd "$zipdir" && zip -q -X -j "$OUT/fuzz_${t}_seed_corpus.zip" ./*)
        else
            (cd "$zipdir" && cmake -E tar cf "$OUT/fuzz_${t}_seed_corpus.zip" --format=zip -- *)
        fi
    fi
    local s=${SPW_FUZZ_SEEDS[$t]}
    if [ -f "$src/fuzz/dict/$s.dict" ]; then cp "$src/fuzz/dict/$s.dict" "$OUT/fuzz_$t.dict"; fi
    if [ -f "$src/fuzz/$s.options" ]; then
        sed "s#^dict *=.*#dict = fuzz_$t.dict#" "$src/fuzz/$s.options" >"$OUT/fuzz_$t.options"
    fi
}

while read -r t; do
    kind=${SPW_FUZZ_BUILD[$t]}
    case "$kind" in core|full) ;; *) echo "build.sh: $t: build '$kind' is not core or full" >&2; exit 1 ;; esac
    extra=()
    mutator_objs "$t"
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src/fuzz/${SPW_FUZZ_SOURCE[$t]}" -o "$obj/fuzz_$t.o"
    # Link with the compiler driver; C++ runtime for the engine if it needs it.
    ${CXX:-clang++} $CFLAGS "$obj/fuzz_$t.o" "${extra[@]}" "$obj/$kind"/*.o $LIB_FUZZING_ENGINE \
        -o "$OUT/fuzz_$t"

    s=${SPW_FUZZ_SEEDS[$t]}
    seeds_dicts_options "$t" "$src/corpus/$s" "$src/corpus/regression/$s"
done < <(spw_fuzz_targets kind=own cflite=yes)

# ---- ref targets (fuzz_nng): NNG built from its source with $CC $CFLAGS ----
# The manifest's ref targets with cflite yes; NNG is the one library this
# script knows how to build from a distribution's source (build src:nng).
nng_src=${SPW_NNG_SRC:-}
if [ -z "$nng_src" ]; then
    for d in "$SRC"/nng-*/; do
        [ -f "$d/CMakeLists.txt" ] || continue
        [ -z "$nng_src" ] || { echo "build.sh: more than one NNG source in $SRC (nng-*/): set SPW_NNG_SRC" >&2; exit 1; }
        nng_src=${d%/}
    done
fi
nng_obj=""
while read -r t; do
    [ "${SPW_FUZZ_BUILD[$t]}" = src:nng ] ||
        { echo "build.sh: $t: cflite yes, but build '${SPW_FUZZ_BUILD[$t]}' is not src:nng" >&2; exit 1; }
    if [ -z "$nng_src" ]; then
        echo "build.sh: fuzz_$t skipped: no NNG source (neither \$SPW_NNG_SRC nor \$SRC/nng-*/; the Dockerfile unpacks one with apt-get source nng)"
        continue
    fi
    [ -f "$nng_src/CMakeLists.txt" ] || { echo "build.sh: $nng_src holds no NNG source (no CMakeLists.txt)" >&2; exit 1; }
    echo "build.sh: fuzz_$t against NNG from $nng_src"
    if [ -z "$nng_obj" ]; then
        nng_obj="$work/nng-build"
        rm -rf "$nng_obj"
        # CMAKE_BUILD_TYPE=None: no optimisation flags of cmake's own on top of
        # $CFLAGS, which carry the sanitizer's and the engine's.
        cmake -S "$nng_src" -B "$nng_obj" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER="$CC" \
            -DCMAKE_C_FLAGS="$CFLAGS" -DBUILD_SHARED_LIBS=OFF -DNNG_TESTS=OFF -DNNG_TOOLS=OFF \
            -DNNG_ENABLE_NNGCAT=OFF -DNNG_ENABLE_TLS=OFF -DNNG_ENABLE_HTTP=OFF >"$work/nng-cmake.log" 2>&1 \
            || { cat "$work/nng-cmake.log" >&2; echo "build.sh: cmake of NNG failed" >&2; exit 1; }
        cmake --build "$nng_obj" -j "$(nproc 2>/dev/null || echo 2)" >"$work/nng-build.log" 2>&1 \
            || { tail -30 "$work/nng-build.log" >&2; echo "build.sh: build of NNG failed" >&2; exit 1; }
        [ -f "$nng_obj/libnng.a" ] || { echo "build.sh: no libnng.a in $nng_obj" >&2; exit 1; }
    fi
    $CC $CFLAGS -std=c11 "${inc[@]}" -I"$nng_src/include" -DNNG_STATIC_LIB \
        -c "$src/fuzz/${SPW_FUZZ_SOURCE[$t]}" -o "$obj/fuzz_$t.o"
    # The harness's connection side (ref_peer.c), which names protocols
    # with spwire's core; and under libFuzzer the structure-aware mutator
    # of its manifest row.
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src/fuzz/ref_peer.c" -o "$obj/ref_peer.o"
    extra=()
    mutator_objs "$t"
    ${CXX:-clang++} $CFLAGS "$obj/fuzz_$t.o" "$obj/ref_peer.o" "${extra[@]}" "$obj/core"/*.o \
        "$nng_obj/libnng.a" $LIB_FUZZING_ENGINE -lpthread -o "$OUT/fuzz_$t"
    # Seeds: corpus/<seeds> only. Its regression inputs would be NNG's known
    # crashes (conformance/FINDINGS.md): a fuzzing farm finds those again on
    # its own, and seeds are meant to run clean.
    seeds_dicts_options "$t" "$src/corpus/${SPW_FUZZ_SEEDS[$t]}"
done < <(spw_fuzz_targets kind=ref cflite=yes)
