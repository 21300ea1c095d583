#!/usr/bin/env bash
# bench_smoke.sh PROGRAM [ARGS...] — run a benchmark program once and check
# that it exits 0 and that its stdout is one or more "<metric> <number> <unit>"
# lines. Timing is never judged here.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
spw_say_why "bench_smoke ${1##*/}"
rc=0
out=$("$@") || rc=$?
printf '%s\n' "$out"
[ "$rc" = 0 ] || { echo "bench_smoke: $1 exited with status $rc" >&2; exit 1; }
[ -n "$out" ] || { echo "bench_smoke: no output from $1" >&2; exit 1; }
bad=$(printf '%s\n' "$out" | grep -Ev '^[a-z0-9][a-z0-9._-]* [-+]?[0-9][0-9.eE+-]* [A-Za-z/]+$' || true)
if [ -n "$bad" ]; then
    echo "bench_smoke: unparsable lines:" >&2
    printf '%s\n' "$bad" >&2
    exit 1
fi
echo "bench_smoke: $(printf '%s\n' "$out" | wc -l) metrics OK"
