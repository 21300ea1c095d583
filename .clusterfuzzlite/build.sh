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
# Writes to $OUT, per target t in handshake frame roundtrip session
# proto_header:
#   fuzz_<t>                 the fuzzer
#   fuzz_<t>_seed_corpus.zip corpus/<t>/ and corpus/regression/<t>/ inputs
#   fuzz_<t>.dict            fuzz/dict/<t>.dict
#   fuzz_<t>.options         fuzz/<t>.options with the dict path made local
# The transport sources are compiled once per kind (core, full) with the
# same $CC $CFLAGS, so the whole program is instrumented alike.
#
# And fuzz_nng (with its seed zip, dict and options) when NNG's source is
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

core="error alloc proto handshake frame sp_header"
fd="fdio pipe listener"
inc=(-I"$src/transport/include" -I"$src/transport/src" -I"$src/fuzz")

for f in $core; do
    $CC $CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L "${inc[@]}" -c "$src/transport/src/$f.c" -o "$obj/core/$f.o"
done
for f in $core $fd; do
    $CC $CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "${inc[@]}" \
        -c "$src/transport/src/$f.c" -o "$obj/full/$f.o"
done

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
    if [ -f "$src/fuzz/dict/$t.dict" ]; then cp "$src/fuzz/dict/$t.dict" "$OUT/fuzz_$t.dict"; fi
    if [ -f "$src/fuzz/$t.options" ]; then
        sed "s#^dict *=.*#dict = fuzz_$t.dict#" "$src/fuzz/$t.options" >"$OUT/fuzz_$t.options"
    fi
}

for t in handshake frame roundtrip session proto_header; do
    [ -f "$src/fuzz/fuzz_$t.c" ] || continue
    kind=core
    [ "$t" = session ] && kind=full
    extra=()
    if [ "$t" = frame ] && [ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ] \
        && [[ "$LIB_FUZZING_ENGINE" == *fuzzer* ]] && [[ "$LIB_FUZZING_ENGINE" != *AFL* ]]; then
        # Structure-aware mutator (needs libFuzzer's LLVMFuzzerMutate).
        $CC -O2 -std=c11 "${inc[@]}" -DSPW_MUTATOR_LIBFUZZER -c "$src/fuzz/mutator_frame.c" \
            -o "$obj/mutator_frame.o"
        extra=("$obj/mutator_frame.o")
    fi
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src/fuzz/fuzz_$t.c" -o "$obj/fuzz_$t.o"
    # Link with the compiler driver; C++ runtime for the engine if it needs it.
    ${CXX:-clang++} $CFLAGS "$obj/fuzz_$t.o" "${extra[@]}" "$obj/$kind"/*.o $LIB_FUZZING_ENGINE \
        -o "$OUT/fuzz_$t"

    seeds_dicts_options "$t" "$src/corpus/$t" "$src/corpus/regression/$t"
done

# ---- fuzz_nng: NNG built from its source with $CC $CFLAGS ------------------
nng_src=${SPW_NNG_SRC:-}
if [ -z "$nng_src" ]; then
    for d in "$SRC"/nng-*/; do
        [ -f "$d/CMakeLists.txt" ] || continue
        [ -z "$nng_src" ] || { echo "build.sh: more than one NNG source in $SRC (nng-*/): set SPW_NNG_SRC" >&2; exit 1; }
        nng_src=${d%/}
    done
fi
if [ ! -f "$src/fuzz/fuzz_nng.c" ]; then
    echo "build.sh: fuzz_nng skipped: no fuzz/fuzz_nng.c"
elif [ -z "$nng_src" ]; then
    echo "build.sh: fuzz_nng skipped: no NNG source (neither \$SPW_NNG_SRC nor \$SRC/nng-*/; the Dockerfile unpacks one with apt-get source nng)"
else
    [ -f "$nng_src/CMakeLists.txt" ] || { echo "build.sh: $nng_src holds no NNG source (no CMakeLists.txt)" >&2; exit 1; }
    echo "build.sh: fuzz_nng against NNG from $nng_src"
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
    $CC $CFLAGS -std=c11 "${inc[@]}" -I"$nng_src/include" -DNNG_STATIC_LIB \
        -c "$src/fuzz/fuzz_nng.c" -o "$obj/fuzz_nng.o"
    # The harness's connection side (ref_peer.c), which names protocols
    # with spwire's core; and under libFuzzer the structure-aware mutator
    # for the reference targets' layout.
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src/fuzz/ref_peer.c" -o "$obj/ref_peer.o"
    nng_extra=()
    if [ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ] \
        && [[ "$LIB_FUZZING_ENGINE" == *fuzzer* ]] && [[ "$LIB_FUZZING_ENGINE" != *AFL* ]]; then
        $CC -O2 -std=c11 "${inc[@]}" -DSPW_MUTATOR_LIBFUZZER -DSPW_MUTATOR_REF \
            -c "$src/fuzz/mutator_frame.c" -o "$obj/mutator_ref.o"
        nng_extra=("$obj/mutator_ref.o")
    fi
    ${CXX:-clang++} $CFLAGS "$obj/fuzz_nng.o" "$obj/ref_peer.o" "${nng_extra[@]}" "$obj/core"/*.o \
        "$nng_obj/libnng.a" $LIB_FUZZING_ENGINE -lpthread -o "$OUT/fuzz_nng"
    # Seeds: corpus/nng only. Its regression inputs would be NNG's known
    # crashes (conformance/FINDINGS.md): a fuzzing farm finds those again on
    # its own, and seeds are meant to run clean.
    seeds_dicts_options nng "$src/corpus/nng"
fi
