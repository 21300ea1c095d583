#!/usr/bin/env bash
# run-libfuzzer.sh — run one libFuzzer target with its options and seeds.
#
# usage: fuzz/run-libfuzzer.sh BUILD_DIR TARGET [SECONDS] [libFuzzer args...]
#   BUILD_DIR  a build configured with -DSPW_FUZZ_ENGINE=libfuzzer
#   TARGET     a target of fuzz/targets.tsv (--help lists them), or
#              <target>_plain for one built without its frame mutator
#   SECONDS    -max_total_time (default 60)
# Reads fuzz/<seeds>.options ([libfuzzer] key = value lines) into -key=value
# flags (scripts/lib/fuzz.sh's spw_lf_options; <seeds> is the manifest's seeds
# column). The committed seeds are copied to a scratch corpus ($SPW_FUZZ_WORK,
# default BUILD_DIR/fuzz-work/<target>) so the run never writes into corpus/;
# crashes land in that directory too.
# Merge worthwhile finds back with: fuzz_<t> -merge=1 corpus/<seeds> WORK
set -eu
SPW_ROOT=$(cd "$(dirname "$0")/.." && pwd)
SPW_PROG=run-libfuzzer
. "$SPW_ROOT/scripts/lib/common.sh"
. "$SPW_ROOT/scripts/lib/fuzz.sh"
spw_fuzz_run_usage "$0" 14 "$@"
build=$1
target=$2
secs=${3:-60}
shift 2
[ $# -gt 0 ] && shift
base=${target%_plain}
[ -n "${SPW_FUZZ_KIND[$base]:-}" ] || spw_die "unknown target '$base' (fuzz/targets.tsv; see --help)"
bin="$build/fuzz/fuzz_$target"
[ -x "$bin" ] || spw_die "no $bin (configure with -DSPW_FUZZ_ENGINE=libfuzzer)"

work=${SPW_FUZZ_WORK:-"$build/fuzz-work/$target"}
mkdir -p "$work/corpus" "$work/artifacts"
for f in "$SPW_ROOT/corpus/$(spw_fuzz_seeds_of "$base")"/*; do
    spw_is_input "$f" && cp -n "$f" "$work/corpus/" 2>/dev/null || true
done

mapfile -t opts < <(spw_lf_options "$base")
exec "$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus"
