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

    # Seeds, dictionary, options.
    zipdir="$work/seeds-$t"
    rm -rf "$zipdir" "$OUT/fuzz_${t}_seed_corpus.zip"
    mkdir -p "$zipdir"
    for f in "$src/corpus/$t"/* "$src/corpus/regression/$t"/*; do
        [ -f "$f" ] || continue
        case "$(basename "$f")" in index*|INDEX*|README*|*.md) continue ;; esac
        cp "$f" "$zipdir/"
    done
    if [ -n "$(ls -A "$zipdir")" ]; then
        if command -v zip >/dev/null; then
            (cd "$zipdir" && zip -q -X -j "$OUT/fuzz_${t}_seed_corpus.zip" ./*)
        else
            (cd "$zipdir" && cmake -E tar cf "$OUT/fuzz_${t}_seed_corpus.zip" --format=zip -- *)
        fi
    fi
    [ -f "$src/fuzz/dict/$t.dict" ] && cp "$src/fuzz/dict/$t.dict" "$OUT/fuzz_$t.dict"
    if [ -f "$src/fuzz/$t.options" ]; then
        sed "s#^dict *=.*#dict = fuzz_$t.dict#" "$src/fuzz/$t.options" >"$OUT/fuzz_$t.options"
    fi
done
