#!/usr/bin/env bash
# interop_summary.sh -- the interop table: implementation x transport x
# protocol x direction -> verdict, from the rows the interop tests wrote.
#
#   interop_summary.sh RESULTS_DIR TEST1,TEST2,... OUT_FILE
#
# Fails when a test left no results (it did not run or crashed) or any row
# is FAIL.  Verdicts: PASS; FAIL; KNOWN (a reference deviates from the SP
# rules exactly as measured and as its expectation file allows, see
# README.md); n/a (cannot exist, e.g. nanomsg has no pair1).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
spw_say_why interop_summary
dir=$1 tests=$2 out=$3
status=0
{
echo "spwire interop summary ($(date -u '+%Y-%m-%d %H:%M:%S UTC'))"
missing=""
for t in ${tests//,/ }; do
    [ -s "$dir/$t.tsv" ] || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "MISSING results (test did not run or crashed):$missing"
    status=1
fi
cat "$dir"/*.tsv 2>/dev/null >"$dir/.all" || true
echo
echo "Grid: one cell per protocol/case; the letters are the directions"
echo "(spw->ref, then ref->spw; a single letter when there is one direction)."
echo "P pass, F FAIL, K known reference deviation (as measured), - n/a"
echo
awk -F'\t' '
function letter(v) { return v=="PASS"?"P":v=="FAIL"?"F":v=="KNOWN"?"K":"-" }
{
    row=$1" "$2; g=$3
    if (!(row in seenr)) { seenr[row]=1; rows[++nr]=row }
    if (!(g in seeng)) { seeng[g]=1; groups[++ng]=g }
    cell[row,g]=cell[row,g] letter($5)
}
END {
    # print in blocks of groups so lines stay readable
    per=8
    for (b=1; b<=ng; b+=per) {
        printf "%-24s", "impl/transport"
        for (j=b; j<b+per && j<=ng; j++) printf " %-14s", substr(groups[j],1,14)
        printf "\n"
        for (i=1; i<=nr; i++) {
            line=sprintf("%-24s", rows[i]); any=0
            for (j=b; j<b+per && j<=ng; j++) {
                c=cell[rows[i],groups[j]]; if (c!="") any=1; else c="."
                line=line sprintf(" %-14s", c)
            }
            if (any) print line
        }
        printf "\n"
    }
}' "$dir/.all"
n_pass=$(awk -F'\t' '$5=="PASS"' "$dir/.all" | wc -l)
n_fail=$(awk -F'\t' '$5=="FAIL"' "$dir/.all" | wc -l)
n_known=$(awk -F'\t' '$5=="KNOWN"' "$dir/.all" | wc -l)
n_na=$(awk -F'\t' '$5=="n/a"' "$dir/.all" | wc -l)
echo "Totals: $n_pass pass, $n_fail FAIL, $n_known known reference deviations, $n_na n/a"
if [ "$n_known" -gt 0 ]; then
    echo
    echo "Known reference deviations (measured; a change makes them FAIL):"
    awk -F'\t' '$5=="KNOWN" { printf "  %s %s %s %s: %s\n", $1, $2, $3, $4, $6 }' "$dir/.all"
fi
if [ "$n_fail" -gt 0 ]; then
    echo
    echo "FAILURES:"
    awk -F'\t' '$5=="FAIL" { printf "  %s %s %s %s: %s\n", $1, $2, $3, $4, $6 }' "$dir/.all"
    status=1
fi
rm -f "$dir/.all"
exit $status
} | tee "$out"
exit "${PIPESTATUS[0]}"
