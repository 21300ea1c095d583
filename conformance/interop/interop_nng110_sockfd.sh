#!/usr/bin/env bash
# interop_nng110_sockfd.sh -- run spw-nng110-sockfd-probe (NNG 1.10.1's own
# socket:// listener given several fds, and fd values that are not connected
# stream sockets) and assert the behaviour MEASURED on NNG 1.10.1, so that
# any change in it is noticed.  spwire's side of the same questions is
# asserted by spw-interop --suite multifd (one pipe per fd, EBADF for 9999).
#
#   interop_nng110_sockfd.sh LOADER LIBPATH PROBE RESULTS.tsv
#
# See conformance/interop/README.md, "NNG 1.10.1 and several fds".
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
spw_say_why interop_nng110_sockfd
loader=$1 libpath=$2 probe=$3 results=$4
: >"$results"
out=$("$loader" --library-path "$libpath" "$probe" 2>&1)
rc=$?
echo "$out" | sed 's/^/probe: /'
fails=0
row() { # EXP VERDICT DETAIL
    printf 'nng110\tsocket\tsockfd-%s\tnng-listener\t%s\t%s\n' "$1" "$2" "$3" >>"$results"
    printf '%-5s nng110 socket sockfd-%s: %s\n' "$2" "$1" "$3"
    [ "$2" = FAIL ] && fails=$((fails + 1))
}
# check EXP VERDICT-IF-MATCHED DETAIL KEY=VALUE...: every "key":value must
# appear verbatim in the probe's line for EXP.
check() {
    local exp=$1 verdict=$2 detail=$3 line miss=""
    shift 3
    line=$(echo "$out" | grep "^{\"exp\":\"$exp\"" | head -n 1)
    if [ -z "$line" ]; then
        row "$exp" FAIL "no probe output for $exp (probe exit $rc)"
        return
    fi
    [ "$exp" = version ] || set -- "$@" '"fd0_bytes":0'
    for kv in "$@"; do
        [[ "$line" == *"$kv"* ]] || miss="$miss $kv"
    done
    if [ -n "$miss" ]; then
        row "$exp" FAIL "measured behaviour changed: want$miss; got $line"
    else
        row "$exp" "$verdict" "$detail"
    fi
}
check version PASS "nng_version() says 1.10.0 for the 1.10.1 release" '"nng_version":"1.10.0"'
check burst1 PASS "1 fd -> 1 pipe" '"set_rc":[0]' '"adds":1' '"delivered":[0]'
check burst2 PASS "2 fds back to back -> 2 pipes" '"set_rc":[0,0]' '"adds":2' '"delivered":[0,1]'
# 3 fds back to back: a race.  When fds 2 and 3 are both queued before the
# listener re-arms its accept (most runs), fd 2 is taken twice and fd 3
# never: measured pattern below (KNOWN).  When NNG re-arms in between, all
# three work (PASS, noted).  Any other outcome is a FAIL.
line=$(echo "$out" | grep '^{"exp":"burst3"' | head -n 1)
if [[ "$line" == *'"hdr_bytes":[8,8,8]'* && "$line" == *'"adds":3'* && "$line" == *'"delivered":[0,1,2]'* ]]; then
    row burst3 PASS "3 fds back to back -> 3 pipes this run (the queueing race was not hit; see README)"
else
    check burst3 KNOWN "3 fds back to back, all set_int 0: fd1 a pipe; fd2 gets NNG's header, then EOF, never a pipe; fd3 never sees a byte" \
        '"set_rc":[0,0,0]' '"hdr_bytes":[8,8,0]' '"eof":[0,1,0]' '"adds":1' '"delivered":[0]'
fi
check sequential3 PASS "3 fds, each set after the previous became a pipe -> 3 pipes" \
    '"set_rc":[0,0,0]' '"hdr_bytes":[8,8,8]' '"adds":3' '"delivered":[0,1,2]'
check after_close PASS "2 fds back to back, the first pipe closed: the second still becomes a pipe" \
    '"adds":2' '"rems":1' '"delivered":[0,1]'
check bogus_minus1 KNOWN "set_int(-1) returns 0; the next, valid fd gets NNG's header but never becomes a pipe" \
    '"bogus_rc":0' '"hdr_bytes":[8]' '"adds":0' '"delivered":[]'
check bogus_unopened KNOWN "set_int(9999, not open) returns 0; the next, valid fd gets NNG's header but never becomes a pipe" \
    '"bogus_rc":0' '"hdr_bytes":[8]' '"adds":0' '"delivered":[]'
check bogus_devnull KNOWN "set_int(fd of /dev/null) returns 0; the next, valid fd still works" \
    '"bogus_rc":0' '"adds":1' '"delivered":[0]'
check bogus_unconnected KNOWN "set_int(unconnected AF_UNIX socket) returns 0; the next, valid fd still works" \
    '"bogus_rc":0' '"adds":1' '"delivered":[0]'
[ "$rc" = 0 ] || { echo "probe exited $rc"; fails=$((fails + 1)); }
echo "interop_nng110_sockfd: $fails failure(s)"
[ "$fails" = 0 ] || { echo "interop_nng110_sockfd: $fails check(s) failed (FAIL lines above)" >&2; exit 1; }
