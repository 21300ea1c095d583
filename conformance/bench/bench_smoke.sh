#!/bin/sh
# bench_smoke.sh PROGRAM [ARGS...] — run a benchmark program once and check
# that it exits 0 and that its stdout is one or more "<metric> <number> <unit>"
# lines. Timing is never judged here.
set -eu
out=$("$@")
printf '%s\n' "$out"
[ -n "$out" ] || { echo "bench_smoke: no output from $1" >&2; exit 1; }
bad=$(printf '%s\n' "$out" | grep -Ev '^[a-z0-9][a-z0-9._-]* [-+]?[0-9][0-9.eE+-]* [A-Za-z/]+$' || true)
if [ -n "$bad" ]; then
    echo "bench_smoke: unparsable lines:" >&2
    printf '%s\n' "$bad" >&2
    exit 1
fi
echo "bench_smoke: $(printf '%s\n' "$out" | wc -l) metrics OK"
