#!/bin/sh
# run-libfuzzer.sh — run one libFuzzer target with its options and seeds.
#
# usage: fuzz/run-libfuzzer.sh BUILD_DIR TARGET [SECONDS] [libFuzzer args...]
#   BUILD_DIR  a build configured with -DSPW_FUZZ_ENGINE=libfuzzer
#   TARGET     handshake | frame | frame_plain | roundtrip | session
#   SECONDS    -max_total_time (default 60)
# Reads fuzz/<target>.options ([libfuzzer] key = value lines) into -key=value
# flags (dict paths are relative to fuzz/). The committed seeds are copied
# to a scratch corpus ($SPW_FUZZ_WORK, default BUILD_DIR/fuzz-work/<target>) so the
# run never writes into corpus/; crashes land in that directory too.
# Merge worthwhile finds back with: fuzz_<t> -merge=1 corpus/<t> WORK
set -eu
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
build=$1
target=$2
secs=${3:-60}
shift 2
[ $# -gt 0 ] && shift
base=${target%_plain}
bin="$build/fuzz/fuzz_$target"
[ -x "$bin" ] || { echo "run-libfuzzer: no $bin (configure with -DSPW_FUZZ_ENGINE=libfuzzer)" >&2; exit 2; }

work=${SPW_FUZZ_WORK:-"$build/fuzz-work/$target"}
mkdir -p "$work/corpus" "$work/artifacts"
for f in "$root/corpus/$base"/*; do
    case "$(basename "$f")" in index*|README*|INDEX*|*.md) continue ;; esac
    [ -f "$f" ] && cp -n "$f" "$work/corpus/" 2>/dev/null || true
done

opts=""
if [ -f "$fuzz/$base.options" ]; then
    while IFS='=' read -r key val; do
        key=$(echo "$key" | tr -d ' ')
        val=$(echo "$val" | sed 's/^ *//; s/ *$//')
        case "$key" in ''|\#*|\[*) continue ;; esac
        [ "$key" = dict ] && val="$fuzz/$val"
        opts="$opts -$key=$val"
    done <"$fuzz/$base.options"
fi
# shellcheck disable=SC2086
exec "$bin" $opts -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus"
