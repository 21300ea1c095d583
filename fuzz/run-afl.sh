#!/usr/bin/env bash
# run-afl.sh — run one AFL++ target (persistent mode, shared-memory input)
# with its CMPLOG twin, dictionary, -t and custom mutator (fuzz/targets.tsv).
#
# usage: fuzz/run-afl.sh BUILD_DIR TARGET [SECONDS] [afl-fuzz args...]
#   BUILD_DIR  a build configured with CC=afl-clang-fast -DSPW_FUZZ_ENGINE=afl
#   TARGET     a target of fuzz/targets.tsv (--help lists them)
#   SECONDS    afl-fuzz -V (default 60)
# Seeds come from corpus/<seeds> (the manifest's seeds column; index/README
# files left out); output goes to $SPW_FUZZ_WORK (default
# BUILD_DIR/afl-work/<target>), crashes under its default/crashes/. Set
# SPW_AFL_NO_MUTATOR=1 to fuzz without the custom mutator,
# SPW_AFL_NO_CMPLOG=1 to skip -c.
set -eu
SPW_ROOT=$(cd "$(dirname "$0")/.." && pwd)
SPW_PROG=run-afl
. "$SPW_ROOT/scripts/lib/common.sh"
. "$SPW_ROOT/scripts/lib/fuzz.sh"
spw_fuzz_run_usage "$0" 13 "$@"
build=$1
target=$2
secs=${3:-60}
shift 2
[ $# -gt 0 ] && shift
[ -n "${SPW_FUZZ_KIND[$target]:-}" ] || spw_die "unknown target '$target' (fuzz/targets.tsv; see --help)"
bin="$build/fuzz/fuzz_$target"
[ -x "$bin" ] || spw_die "no $bin (configure with CC=afl-clang-fast -DSPW_FUZZ_ENGINE=afl)"

work=${SPW_FUZZ_WORK:-"$build/afl-work/$target"}
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in "$SPW_ROOT/corpus/$(spw_fuzz_seeds_of "$target")"/*; do
    spw_is_input "$f" && cp "$f" "$seeds/"
done
[ -n "$(ls "$seeds")" ] || printf '\0\0' >"$seeds/empty"

args=(-i "$seeds" -o "$work/out" -V "$secs")
dict=$(spw_fuzz_dict "$target")
[ -z "$dict" ] || args+=(-x "$dict")
mapfile -t -O ${#args[@]} args < <(spw_afl_timeout "$target")
if [ -z "${SPW_AFL_NO_CMPLOG:-}" ] && [ -x "$bin.cmplog" ]; then
    args+=(-c "$bin.cmplog")
fi
mso=$(spw_fuzz_mutator_so "$build" "$target")
if [ -z "${SPW_AFL_NO_MUTATOR:-}" ] && [ -n "$mso" ]; then
    export AFL_CUSTOM_MUTATOR_LIBRARY="$mso"
fi

export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CRASHES=1
exec afl-fuzz "${args[@]}" "$@" -- "$bin"
