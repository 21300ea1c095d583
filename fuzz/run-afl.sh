#!/bin/sh
# run-afl.sh — run one AFL++ target (persistent mode, shared-memory input)
# with its CMPLOG twin, dictionary and, for frame, the custom mutator.
#
# usage: fuzz/run-afl.sh BUILD_DIR TARGET [SECONDS] [afl-fuzz args...]
#   BUILD_DIR  a build configured with CC=afl-clang-fast -DSPW_FUZZ_ENGINE=afl
#   TARGET     handshake | frame | roundtrip | session
#   SECONDS    afl-fuzz -V (default 60)
# Seeds come from corpus/<target> (index/README files left out); output goes
# to $SPW_FUZZ_WORK (default BUILD_DIR/afl-work/<target>), crashes under
# its default/crashes/. Set SPW_AFL_NO_MUTATOR=1 to fuzz frame without
# libspw_mutator_frame.so, SPW_AFL_NO_CMPLOG=1 to skip -c.
set -eu
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
build=$1
target=$2
secs=${3:-60}
shift 2
[ $# -gt 0 ] && shift
bin="$build/fuzz/fuzz_$target"
[ -x "$bin" ] || { echo "run-afl: no $bin (configure with CC=afl-clang-fast -DSPW_FUZZ_ENGINE=afl)" >&2; exit 2; }

work=${SPW_FUZZ_WORK:-"$build/afl-work/$target"}
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in "$root/corpus/$target"/*; do
    case "$(basename "$f")" in index*|README*|INDEX*|*.md) continue ;; esac
    [ -f "$f" ] && cp "$f" "$seeds/"
done
[ -n "$(ls "$seeds")" ] || printf '\0\0' >"$seeds/empty"

set -- -i "$seeds" -o "$work/out" -V "$secs" "$@"
[ -f "$fuzz/dict/$target.dict" ] && set -- -x "$fuzz/dict/$target.dict" "$@"
if [ -z "${SPW_AFL_NO_CMPLOG:-}" ] && [ -x "$bin.cmplog" ]; then
    set -- -c "$bin.cmplog" "$@"
fi
if [ "$target" = frame ] && [ -z "${SPW_AFL_NO_MUTATOR:-}" ] \
    && [ -f "$build/fuzz/libspw_mutator_frame.so" ]; then
    export AFL_CUSTOM_MUTATOR_LIBRARY="$build/fuzz/libspw_mutator_frame.so"
fi
[ "$target" = session ] && set -- -t 2000 "$@"

export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CRASHES=1
exec afl-fuzz "$@" -- "$bin"
