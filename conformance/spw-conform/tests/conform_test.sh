#!/usr/bin/env bash
# ctest driver for the `conform` label (see CMakeLists.txt here).
#
#   conform_test.sh impl NAME PROTO exec-fd|tcp|ipc 'CMD' [spw-conform options...]
#       runs the whole catalogue against one implementation and compares every
#       verdict with conformance/expectations/NAME.txt
#   conform_test.sh selftest
#       proves the tool itself, each judgement with a planted-fault IUT mode:
#       FAIL; crash (also one that follows the last event), exit of its own,
#       hang and leak detection, a sanitizer report under a declared exit;
#       the send path (an IUT that dies writing into a vanished peer fails
#       every echo case, every run); the preflight, the time budget,
#       requester retry timers, --recvmax 0,
#       report paths checked up front; exit codes 0/1/2/3, the TCP roles,
#       JUnit/JSON output, --update-expect, a {ctl} IUT; fuzz (fresh and
#       persistent over TCP and {ctl}: crash found and attributed, a wedged
#       IUT found, a slow death not taken for one, --jobs, SIGINT), replay,
#       diff
#
# Environment (set by CMake): SPW_CONFORM, SPW_CONFORM_IUT, SPW_CONFORM_EXPECT,
# SPW_CONFORM_CASES.  SPW_CONFORM_TIMEOUT overrides the per-case window (ms).
# SPW_CONFORM_RECORD=1 makes "impl" record a reference's verdicts into its
# expectations file (SPW_CONFORM_RECORD=1 ctest -L conform -E 'conform.selftest$').
set -u
conform=${SPW_CONFORM:?}
timeout=${SPW_CONFORM_TIMEOUT:-500}
work=$(mktemp -d "${TMPDIR:-/tmp}/spw-conform-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A non-zero exit says why (keeps the EXIT trap above).
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"
spw_say_why "conform_test.sh ${1:-}${2:+ $2}"
fails=0

ok()   { printf 'ok    %s\n' "$*"; }
bad()  { printf 'FAIL  %s\n' "$*"; fails=$((fails + 1)); }

# expect_rc WANT DESCRIPTION -- COMMAND...   (output kept in $work/out)
expect_rc() {
    local want=$1 what=$2
    shift 3
    "$@" >"$work/out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else
        bad "$what: exit $rc, wanted $want"; tail -40 "$work/out"; fi
}
expect_out() {
    if grep -Eq -- "$1" "$work/out"; then ok "  output has: $1"; else
        bad "  output lacks: $1"; tail -40 "$work/out"; fi
}

if [ "${1:-}" = impl ]; then
    name=$2 proto=$3 kind=$4 cmd=$5
    shift 5
    args=("$@" --proto "$proto" --timeout "$timeout" --exec "$cmd"
          --junit "$work/junit.xml" --json "$work/report.json")
    [ "$kind" = tcp ] && args+=(--connect tcp://127.0.0.1:0)
    [ "$kind" = ipc ] && args+=(--connect "ipc://$work/iut.sock")
    # A reference is held to its recorded verdicts; an implementation without
    # an expectations file (spwire's own spw-peer) is gated: every MUST passes.
    # SPW_CONFORM_RECORD=1 (re)writes a reference's file instead of comparing.
    if [ -n "${SPW_CONFORM_RECORD:-}" ] && [ "${name#spw-peer-}" = "$name" ]; then
        # racing alternatives (A|B) stay while the new verdict is one of them
        args+=(--update-expect "$SPW_CONFORM_EXPECT/$name.txt" -q)
    elif [ -f "$SPW_CONFORM_EXPECT/$name.txt" ]; then
        args+=(--expect "$SPW_CONFORM_EXPECT/$name.txt")
    fi
    "$conform" "${args[@]}"
    rc=$?
    if [ -n "${SPW_CONFORM_RECORD:-}" ] && [ "${name#spw-peer-}" = "$name" ] && [ "$rc" -ne 2 ]; then
        echo "recorded $SPW_CONFORM_EXPECT/$name.txt"
        rc=0
    fi
    if [ -n "${SPW_CONFORM_REPORTS:-}" ]; then
        mkdir -p "$SPW_CONFORM_REPORTS"
        cp "$work/junit.xml" "$SPW_CONFORM_REPORTS/$name.junit.xml"
        cp "$work/report.json" "$SPW_CONFORM_REPORTS/$name.json"
    fi
    exit $rc
fi

[ "${1:-}" = selftest ] || { echo "usage: $0 impl NAME PROTO KIND CMD | selftest" >&2; exit 2; }
iut=${SPW_CONFORM_IUT:?}
fd_cmd() { echo "$iut --proto {proto} --fd {fd} --recvmax {recvmax} {behaviour} --mode $1"; }
base=(--proto pair1 --timeout "$timeout")

# exit 0, the three target roles
expect_rc 0 "conforming IUT over socket:// passes" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" -q
expect_rc 0 "conforming IUT over TCP, IUT listening (--connect, process per case)" -- \
    "$conform" "${base[@]}" --exec "$iut --proto {proto} --tcp-listen {url}" \
    --connect tcp://127.0.0.1:0 --include 'handshake.*' --include 'frame.*' -q
expect_rc 0 "conforming IUT over TCP, IUT dialling (--listen)" -- \
    "$conform" "${base[@]}" --exec "$iut --proto {proto} --tcp-connect {url}" \
    --listen tcp://127.0.0.1:0 --include 'pairing.*' --include 'frame.length.*' -q
# A free port: the IUT must be the one listening there (a busy port makes it
# exit at once: try another), and listening before the run starts.
shared=""
for try in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue   # taken
    "$iut" --proto pair1 --tcp-listen "tcp://127.0.0.1:$port" >/dev/null 2>&1 &
    shared=$!
    for _ in $(seq 1 200); do
        kill -0 "$shared" 2>/dev/null || break
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.02
    done
    kill -0 "$shared" 2>/dev/null && break
    wait "$shared" 2>/dev/null; shared=""
done
[ -n "$shared" ] || bad "could not start a shared IUT on a free port"
expect_rc 0 "one shared IUT (--connect without --exec, liveness probe per case)" -- \
    "$conform" "${base[@]}" --connect "tcp://127.0.0.1:$port" --include 'handshake.*' -q
kill "$shared" 2>/dev/null; wait "$shared" 2>/dev/null

# exit 1: a conformance failure, a crash, a hang, a leak -- each naming the case
expect_rc 1 "lax IUT (ignores reserved bytes) fails" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd lax)" --include 'handshake.*' \
    --junit "$work/lax.xml" --json "$work/lax.json"
expect_out '^FAIL +handshake\.reserved-nonzero'
expect_out 'acceptable: +closed'
expect_out 'happened: +saw open'
expect_out '-> 8 bytes:  00 53 50 00 00 11 01 00'
if command -v python3 >/dev/null; then
    if python3 - "$work/lax.xml" "$work/lax.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
assert cases and all(c.get("name") for c in cases), "unnamed testcase"
failed = {c.get("name") for c in cases if c.find("failure") is not None}
assert "handshake.reserved-nonzero" in failed, failed
assert int(root.get("failures")) == len(failed)
rep = json.load(open(sys.argv[2]))
v = {c["id"]: c["verdict"] for c in rep["cases"]}
assert v["handshake.reserved-nonzero"] == "FAIL" and v["handshake.valid"] == "PASS"
assert rep["summary"]["FAIL"] == len(failed)
PY
    then ok "  JUnit XML parses, names every testcase, FAIL is <failure>; JSON agrees"
    else bad "  JUnit/JSON check"; fi
else
    grep -q '<failure message=' "$work/lax.xml" && ok "  JUnit has <failure> (python3 absent: shallow check)" \
        || bad "  JUnit lacks <failure>"
fi
expect_rc 1 "crashing IUT (abort on an over-limit length) fails" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd crash)" --include 'frame.length.*'
expect_out '^FAIL +frame\.length\.limit-plus-one '
expect_out 'saw crashed: the IUT process died .*signal 6'
expect_rc 1 "hanging IUT (ignores SIGTERM after an over-limit length) fails" -- \
    "$conform" "${base[@]}" --kill-timeout 300 --exec "$(fd_cmd hang)" \
    --include 'frame.length.limit-plus-one*'
expect_out '^FAIL +frame\.length\.limit-plus-one-header-only'
expect_out 'saw hung'
expect_rc 1 "leaking IUT (keeps connections the peer closed) fails" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd leak)" --include 'handshake.valid'
expect_out '^FAIL +handshake\.valid '
expect_out 'saw leaked'

# a crash shortly after the last event, an exit of its own with any status:
# the grace period and the 'exited' outcome (issue: no false PASS)
expect_rc 1 "an IUT that dies by SIGSEGV 30 ms after its peer closed fails" -- \
    "$conform" "${base[@]}" --grace 500 --exec "$(fd_cmd segv-after-close) --die-ms 30" \
    --include 'handshake.early-close-*' --include socket.peer-closed-before-start
expect_out '^FAIL +handshake\.early-close-0 '
expect_out '^FAIL +socket\.peer-closed-before-start '
expect_out 'saw crashed: the IUT process died on its own: killed by signal 11'
if grep -Eq '^PASS' "$work/out"; then bad "  a case passed an IUT that crashed after it"; fi
# the IUT's send path: the echo cases stop reading before their burst, so an
# IUT that dies when a write finds its peer gone (NNG 1.10.1's F6) still has
# echoes to write at the reset or close, every run, and the wire log shows
# that the harness took exactly the bytes 'expect bytes' asked for
for run in 1 2 3 4 5; do
    expect_rc 1 "send path, run $run: an IUT dying as it writes to a vanished peer fails" -- \
        "$conform" "${base[@]}" --exec "$(fd_cmd sigpipe)" --include 'robust.send-path.*'
    for c in reset-at-first-echo reset-inside-echo-header reset-inside-echo-body \
             close-inside-echo-body; do
        expect_out "^FAIL +robust\.send-path\.$c "
    done
    expect_out 'saw crashed: the IUT process died on its own: killed by signal 13'
    for n in 9 12 65544 8200; do
        expect_out "stop-reading: $n bytes of the IUT's stream read"
    done
    if grep -Eq '^PASS' "$work/out"; then bad "  a send-path case passed"; fi
done
expect_rc 1 "an IUT that panics (prints, exits 2) on an over-limit length fails" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd panic)" --include 'frame.length.*'
expect_out '^FAIL +frame\.length\.limit-plus-one '
expect_out '^FAIL +frame\.length\.4gib '
expect_out 'saw exited: the IUT process exited on its own with exit status 2'
expect_out '\| panic: frame length above the receive limit'
"$conform" "${base[@]}" --exec "$(fd_cmd panic)" --include 'frame.length.limit-plus-one' \
    --json "$work/panic.json" --junit "$work/panic.xml" >/dev/null 2>&1
if grep -q 'panic: frame length above' "$work/panic.json" && grep -q 'panic: frame length above' "$work/panic.xml"; then
    ok "  the IUT's output is in the JSON and JUnit reports"
else bad "  the IUT's output is missing from the JSON or JUnit report"; fi
expect_rc 1 "an IUT that exits 0 on its own fails unless the exit is declared" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd exit-after-close)" --include 'handshake.valid'
expect_out 'saw exited: .*exit status 0'
expect_rc 0 "... and passes with --iut-exit-ok 0" -- \
    "$conform" "${base[@]}" --iut-exit-ok 0 --exec "$(fd_cmd exit-after-close)" \
    --include 'handshake.*' -q
# A sanitizer report is a crash whatever the exit status: ASan exits 1 when
# abort_on_error is off, the very status spw-peer's gate lines declare.
if grep -qa 'ERROR: AddressSanitizer' "$iut"; then
    expect_rc 1 "an IUT whose send path uses a freed message (ASan exit 1, declared) fails" -- \
        env ASAN_OPTIONS=allocator_may_return_null=1 "$conform" "${base[@]}" --iut-exit-ok 1 \
        --exec "$(fd_cmd uaf-on-send-fail)" --include 'robust.send-path.*'
    expect_out '^FAIL +robust\.send-path\.reset-at-first-echo '
    expect_out '^FAIL +robust\.send-path\.close-inside-echo-body '
    expect_out 'saw crashed: the IUT.s output holds a sanitizer report \(.*\): ==[0-9]+==ERROR: AddressSanitizer: heap-use-after-free'
    expect_out '\| +#0 0x[0-9a-f]+ in send_msg_heap '
    expect_out '\| SUMMARY: AddressSanitizer: heap-use-after-free'
    if grep -Eq '^PASS' "$work/out"; then bad "  a send-path case passed a use-after-free"; fi
else
    ok "skipped: the use-after-free self-test (the self-test IUT is not built with ASan)"
fi
expect_rc 2 "an IUT that never reads is stopped by the run's time budget" -- \
    "$conform" "${base[@]}" --max-time 2 --exec "$(fd_cmd deaf)"
expect_out "time budget \(--max-time 2 s\) was used up"
expect_out 'happened: +not run: the run.s time budget'
expect_out '^ERROR +'


# the preflight: a program that does not exist or does nothing is one clear
# harness error, not a run of ERRORs (or PASSes)
expect_rc 2 "an IUT command that does not exist fails the preflight" -- \
    "$conform" "${base[@]}" --exec "/nonexistent/iut {fd}"
expect_out 'preflight failed, no case was run: .*exit status 127 \(the shell could not find'
expect_out 'nonexistent/iut: not found'
if grep -Eq '^(PASS|FAIL|ERROR) ' "$work/out"; then bad "  cases ran after a failed preflight"; fi
expect_rc 2 "an IUT that does nothing fails the preflight" -- \
    "$conform" "${base[@]}" --start-timeout 500 --exec "sleep 30 # {fd}"
expect_out 'sent 0 of its 8 header bytes within 500 ms'
expect_rc 0 "an environment prefix in --exec works" -- \
    "$conform" "${base[@]}" --exec "SPW_SELFTEST_VAR=1 $(fd_cmd ok)" --include handshake.valid -q

# reports that cannot be written are found before the first case
for opt in --junit --json --write-expect; do
    expect_rc 2 "$opt into a missing directory is a harness error up front" -- \
        "$conform" "${base[@]}" --exec "$(fd_cmd ok)" "$opt" "$work/missing/dir/report"
    expect_out "$opt .*missing/dir/report: the directory .* does not exist"
    if grep -q 'cases in' "$work/out"; then bad "  cases ran before the report path was checked"; fi
done
for opt in --pcap --keep-logs; do
    expect_rc 2 "$opt under a missing directory is a harness error up front" -- \
        "$conform" "${base[@]}" --exec "$(fd_cmd ok)" "$opt" "$work/missing/dir"
    expect_out "$opt .*cannot create the directory"
done

# --recvmax 0 is "no limit": limit-relative cases are skipped with the reason,
# the huge lengths judged by their 'unlimited' outcomes
expect_rc 0 "--recvmax 0: no receive limit" -- \
    "$conform" "${base[@]}" --recvmax 0 --exec "$(fd_cmd ok)" --include 'frame.length.*'
expect_out '^SKIP +frame\.length\.limit-plus-one .*--recvmax 0'
expect_out '^PASS +frame\.length\.4gib +[0-9]+ms +open'

expect_rc 2 "a misspelt --proto lists the protocols" -- \
    "$conform" --proto pari1 --exec "$(fd_cmd ok)"
expect_out "unknown protocol 'pari1' \(one of: pair0 pair1 pub"
expect_rc 0 "the self-test IUT has --help" -- "$iut" --help
expect_out 'segv-after-close'

# requester IUTs: the sp.requester cases tell a requester that takes stray
# answers, reuses ids or sends malformed requests from a conforming one
req_base=(--proto req --timeout "$timeout" --include 'sp.requester.*')
expect_rc 0 "conforming req IUT passes the requester cases" -- \
    "$conform" "${req_base[@]}" --exec "$(fd_cmd ok)" -q
expect_rc 0 "conforming surveyor IUT passes the requester cases" -- \
    "$conform" --proto surveyor --timeout "$timeout" --include 'sp.requester.*' \
    --exec "$(fd_cmd ok)" -q
# a requester whose own timer re-requests within the window is judged the same
expect_rc 0 "a req IUT whose retry timer fires inside the window still passes" -- \
    "$conform" --proto req --timeout 500 --include 'sp.requester.*' -v \
    --exec "$(fd_cmd retry) --retry-ms 300"
expect_out "preflight: .*asks again by itself after [0-9]+ ms"
expect_out "the IUT's own retry"
printf 'sp.requester.answer-accepted PASS\n' >"$work/req-exp.txt"
expect_rc 2 "a requester too fast to judge is an ERROR, exit 2 also with --expect" -- \
    "$conform" --proto req --timeout 500 --include 'sp.requester.answer-accepted' \
    --exec "$(fd_cmd retry) --retry-ms 40" --expect "$work/req-exp.txt"
expect_out '^ERROR +sp\.requester\.answer-accepted .*|cannot be judged: the IUT asks again by itself'
expect_rc 1 "req IUT that takes an answer whatever its id fails" -- \
    "$conform" "${req_base[@]}" --exec "$(fd_cmd lax)"
expect_out '^FAIL +sp\.requester\.answer-wrong-id-dropped'
expect_out 'happened: +saw requested'
expect_out '^PASS +sp\.requester\.answer-accepted'
expect_rc 1 "req IUT that reuses an answered id fails" -- \
    "$conform" "${req_base[@]}" --exec "$(fd_cmd reuse)"
expect_out '^FAIL +sp\.requester\.answer-accepted'
expect_out 'saw reused-id'
expect_out 'request 0x80000001: an id we already answered'
expect_rc 1 "req IUT whose ids lack the top bit fails every case" -- \
    "$conform" "${req_base[@]}" --exec "$(fd_cmd noflag)" --include 'handshake.valid'
expect_out '^FAIL +handshake\.valid'
expect_out 'saw bad-request'

# several fds: the self-test IUT serves only the first fd it is given
fds_cmd="$iut --proto {proto} --fds {fds} --recvmax {recvmax} {behaviour} --mode ok"
expect_rc 1 "an IUT that serves only the first of several fds fails socket.fds" -- \
    "$conform" --proto rep --timeout "$timeout" --include 'socket.fds.*' --exec "$fds_cmd" \
    --json "$work/fds.json"
expect_out '^FAIL +socket\.fds\.each-carries-messages'
expect_out 'fd1: saw echoed [^;]*; fd2: saw leaked'
expect_out 'fd2 -> 8 bytes:  00 53 50 00 00 30 00 00'
if command -v python3 >/dev/null; then
    if python3 - "$work/fds.json" <<'PY'
import json, sys
c = {c["id"]: c for c in json.load(open(sys.argv[1]))["cases"]}["socket.fds.each-carries-messages"]
fds = [(f["fd"], f["outcome"], f["verdict"]) for f in c["fds"]]
assert fds == [(1, "echoed", "PASS"), (2, "leaked", "FAIL"), (3, "leaked", "FAIL")], fds
assert c["verdict"] == "FAIL" and c["outcome"] == "leaked", c
PY
    then ok "  JSON gives each fd's outcome and verdict"
    else bad "  JSON per-fd check"; fi
fi
expect_rc 0 "without {fds} the several-fd cases are skipped, with the reason" -- \
    "$conform" --proto rep --timeout "$timeout" --include 'socket.fds.*' --exec "$(fd_cmd ok)"
expect_out '^SKIP +socket\.fds\.eight .*needs \{fds\}'

# --pcap: one capture per case that tcpdump reads back with the case's bytes
expect_rc 1 "--pcap writes a capture per case" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd lax)" --include 'handshake.reserved-nonzero' \
    --include 'handshake.valid' --pcap "$work/pcap"
if [ -s "$work/pcap/handshake.reserved-nonzero.pcap" ] && [ -s "$work/pcap/handshake.valid.pcap" ]; then
    ok "  one .pcap per case"
else
    bad "  missing .pcap files: $(ls "$work/pcap" 2>&1)"
fi
if command -v tcpdump >/dev/null; then
    tcpdump -nn -vv -x -r "$work/pcap/handshake.reserved-nonzero.pcap" >"$work/out" 2>&1
    expect_out '10\.0\.0\.1\.40000 > 10\.0\.0\.2\.5555: Flags \[S\]'
    expect_out 'length 8'
    expect_out '0053 5000 0011 0100'
    if grep -q incorrect "$work/out"; then bad "  tcpdump reports a bad checksum"; else ok "  checksums correct"; fi
else
    echo "note  tcpdump absent: capture contents not checked here (unit.pcap reads them)"
fi

printf 'case x.should\nlevel SHOULD\nrule r\nsend handshake reserved=0x0100\noutcome open\n' \
    >"$work/should.cases"
expect_rc 0 "a NON-STRICT verdict does not fail the gate" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --cases "$work/should.cases"
expect_out '^NON-STRICT +x\.should'
expect_rc 1 "... but does with --strict" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --cases "$work/should.cases" --strict

# exit 2: harness errors
printf 'case bad.one\nlevel MUST\nrule r\nsend handshake\noutcome open\nfrobnicate 3\n' >"$work/bad.cases"
expect_rc 2 "malformed case file is a harness error" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --cases "$work/bad.cases"
expect_out 'bad\.cases:6: unknown keyword'
expect_rc 2 "a TCP IUT that never listens is a harness error" -- \
    "$conform" "${base[@]}" --exec "sleep 5 # {url}" --connect tcp://127.0.0.1:0 \
    --start-timeout 300 --include handshake.valid
expect_out 'preflight failed, no case was run: could not connect to tcp://127\.0\.0\.1:[0-9]+ within 300 ms'
expect_rc 2 "missing --proto is a usage error" -- "$conform" --exec "x {fd}"

# exit 3: the filter matched nothing
expect_rc 3 "a filter that matches nothing" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --include 'handshak.*'

# --list is a dry run that shows skips
expect_rc 0 "--list" -- "$conform" --proto pair1 --exec "$(fd_cmd ok)" --list
expect_out 'sp\.rep\.request-id +MUST +applies to rep respondent only'

# expectations: a changed verdict is noticed
"$conform" "${base[@]}" --exec "$(fd_cmd ok)" --include 'handshake.reserved*' \
    --write-expect "$work/exp.txt" >/dev/null 2>&1
expect_rc 1 "--expect notices a changed verdict" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd lax)" --include 'handshake.reserved*' \
    --expect "$work/exp.txt"
expect_out 'handshake\.reserved-nonzero +expected PASS +got FAIL'

# --update-expect: a racing line that accepts the verdict stays, a wrong
# verdict is replaced, a case not run and comments are kept, a new case added
printf '# kept comment\nhandshake.reserved-nonzero PASS|FAIL\nhandshake.reserved-low-nonzero FAIL\nnot.run.case SKIP\n' \
    >"$work/upd.txt"
expect_rc 0 "--update-expect merges into an expectation file" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --include 'handshake.reserved*' \
    --update-expect "$work/upd.txt"
expect_out 'upd\.txt: [1-9][0-9]* lines? changed or added'
cp "$work/upd.txt" "$work/out"
expect_out '^# kept comment$'
expect_out '^handshake\.reserved-nonzero PASS\|FAIL$'
expect_out '^handshake\.reserved-low-nonzero PASS$'
expect_out '^not\.run\.case SKIP$'
expect_rc 0 "... and the merged file gates the same run" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --include 'handshake.reserved*' \
    --expect "$work/upd.txt"
printf 'handshake.reserved-low-nonzero MAYBE\n' >"$work/badupd.txt"
expect_rc 2 "--update-expect refuses to merge into a malformed file" -- \
    "$conform" "${base[@]}" --exec "$(fd_cmd ok)" --include 'handshake.reserved*' \
    --update-expect "$work/badupd.txt"

# fuzz: finds the crash, saves a reproducer, the saved command replays it
expect_rc 1 "fuzz finds the crashing IUT's defect" -- \
    "$conform" fuzz --proto pair1 --timeout 150 --exec "$(fd_cmd crash)" \
    --iterations 300 --seed 7 --max-findings 1 --out "$work/findings" --self "$conform"
expect_out '^FINDING crashed'
repro=$(ls "$work"/findings/crashed-*.txt 2>/dev/null | head -1)
if [ -n "$repro" ]; then
    cmd=$(sed -n 's/^replay: //p' "$repro")
    expect_rc 1 "the saved replay command reproduces the crash" -- bash -c "$cmd"
    expect_out '^FAIL crashed'
    expect_rc 1 "... and with --pcap writes the exchange" -- bash -c "$cmd --pcap $work/repro.pcap"
    if command -v tcpdump >/dev/null; then
        tcpdump -nn -vv -r "$work/repro.pcap" >"$work/out" 2>&1
        expect_out '10\.0\.0\.1\.40000 > 10\.0\.0\.2\.5555: Flags \[P\.\].*length [1-9]'
        if grep -q incorrect "$work/out"; then bad "  tcpdump reports a bad checksum"; fi
    elif [ -s "$work/repro.pcap" ]; then ok "  capture written (tcpdump absent)"
    else bad "  no capture"; fi
else
    bad "no reproducer saved"
fi
expect_rc 0 "fuzz finds nothing in the conforming IUT" -- \
    "$conform" fuzz --proto pair1 --timeout 100 --exec "$(fd_cmd ok)" --iterations 40 \
    --seed 3 --out "$work/findings-ok"
expect_out 'a fresh process per input'
expect_out 'done: 40 inputs'

# fuzz with a persistent IUT: one TCP process for many inputs, restarted
# after the crash; the input responsible is found by replaying the recent
# ones in fresh IUTs, confirmed, and saved with the IUT's output
tcp_cmd() { echo "$iut --proto {proto} --tcp-listen {url} --recvmax {recvmax} --mode $1"; }
expect_rc 1 "persistent fuzz finds and attributes the crash" -- \
    "$conform" fuzz --proto pair1 --timeout 150 --connect tcp://127.0.0.1:0 \
    --exec "$(tcp_cmd crash)" --iterations 3000 --seed 7 --stop-on-crash \
    --out "$work/pfind" --self "$conform"
expect_out 'a persistent IUT'
expect_out '^FINDING crashed'
expect_out 'IUT starts?'
repro=$(ls "$work"/pfind/crashed-*.txt 2>/dev/null | head -1)
if [ -n "$repro" ]; then
    cp "$repro" "$work/out"
    expect_out '^reproduced: [1-3] of 3 replays in a fresh IUT$'
    cmd=$(sed -n 's/^replay: //p' "$repro")
    expect_rc 1 "  its replay command reproduces it" -- bash -c "$cmd"
    expect_out '^FAIL crashed'
else
    bad "  no persistent-mode reproducer saved"
fi
expect_rc 0 "persistent fuzz of the conforming IUT: one process, no finding" -- \
    "$conform" fuzz --proto pair1 --timeout 100 --connect tcp://127.0.0.1:0 \
    --exec "$(tcp_cmd ok)" --iterations 300 --seed 3 --out "$work/pok"
expect_out 'done: 300 inputs.*, 1 IUT start,'
# a quiet window below a millisecond (microseconds, not poll's whole ms)
expect_rc 0 "persistent fuzz with --quiet 0.25" -- \
    "$conform" fuzz --proto pair1 --timeout 100 --connect tcp://127.0.0.1:0 --quiet 0.25 \
    --exec "$(tcp_cmd ok)" --iterations 100 --seed 3 --out "$work/pq"
expect_out 'done: 100 inputs.*, 1 IUT start,'
# an IUT that cannot start: a harness error that says why (the shell's 127).
# The start waits end as soon as the process has died, so a long
# --start-timeout costs nothing here and no load can make the note miss it.
expect_rc 2 "persistent fuzz of an IUT the shell cannot find: exit 2, and why" -- \
    "$conform" fuzz --proto pair1 --connect tcp://127.0.0.1:0 --start-timeout 10000 \
    --exec "$work/no-such-iut --tcp-listen {url}" --iterations 5 --out "$work/pnf"
expect_out 'never took a connection within 10000 ms .*exit status 127 \(the shell could not find'
expect_rc 2 "fuzz --quiet with four decimals is refused" -- \
    "$conform" fuzz --proto pair1 --connect tcp://127.0.0.1:0 --quiet 0.2500 --exec "$(tcp_cmd ok)"
expect_out 'up to three decimals'
# socket:// persistent: each connection over {ctl} (SCM_RIGHTS), one process
ctl_cmd() { echo "$iut --proto {proto} --ctl {ctl} --recvmax {recvmax} --mode $1"; }
expect_rc 1 "persistent fuzz over {ctl} finds and attributes the crash" -- \
    "$conform" fuzz --proto pair1 --timeout 150 --exec "$(ctl_cmd crash)" --iterations 3000 \
    --seed 11 --stop-on-crash --out "$work/cfind" --self "$conform"
expect_out 'pair1 over socket'
expect_out 'a persistent IUT'
expect_out '^FINDING crashed'
expect_rc 0 "persistent fuzz over {ctl}: the conforming IUT, one process" -- \
    "$conform" fuzz --proto pair1 --timeout 100 --exec "$(ctl_cmd ok)" --iterations 300 \
    --seed 3 --out "$work/cok"
expect_out 'done: 300 inputs.*, 1 IUT start,'
expect_rc 0 "run takes a {ctl} IUT too (its case connections over the control socket)" -- \
    "$conform" "${base[@]}" --exec "$(ctl_cmd ok)" --include 'handshake.*' --include 'frame.*' -q
# a wedged IUT (stops reading, ignores SIGTERM) is found by the liveness
# probe between inputs and counted as hung
expect_rc 1 "persistent fuzz finds a wedged IUT" -- \
    "$conform" fuzz --proto pair1 --timeout 150 --kill-timeout 200 --connect tcp://127.0.0.1:0 \
    --exec "$(tcp_cmd hang)" --iterations 3000 --seed 7 --stop-on-crash --confirm 1 \
    --out "$work/phang" --self "$conform"
expect_out '^FINDING hung'
# one that closes its sockets and only dies later (as NNG, F6) is a crash, not
# a wedge: the liveness probe fails at once and the process must be waited for
expect_rc 1 "persistent fuzz over {ctl}: a slow death is a crash, not a wedge" -- \
    "$conform" fuzz --proto pair1 --timeout 150 --exec "$(ctl_cmd crash-slowly) --die-ms 300" \
    --iterations 3000 --seed 11 --stop-on-crash --confirm 1 --out "$work/cslow" --self "$conform"
expect_out '^FINDING crashed'
if grep -q '^FINDING hung' "$work/out"; then bad "  a slow death counted as hung"; else
    ok "  no hung finding"; fi
# --jobs: two workers, two IUTs
expect_rc 0 "fuzz --jobs 2" -- \
    "$conform" fuzz --proto pair1 --timeout 100 --connect tcp://127.0.0.1:0 \
    --exec "$(tcp_cmd ok)" --iterations 50 --jobs 2 --seed 5 --out "$work/pjobs"
expect_out '\[job 0\]: done: 50 inputs'
expect_out '\[job 1\]: done: 50 inputs'
# no --seed: a fresh one, printed; SIGINT ends the run with its summary
"$conform" fuzz --proto pair1 --timeout 100 --connect tcp://127.0.0.1:0 --exec "$(tcp_cmd ok)" \
    --time 60 --out "$work/pint" >"$work/out" 2>&1 &
fpid=$!
for _ in $(seq 1 500); do grep -q 'seed .*dictionary tokens' "$work/out" && break; sleep 0.02; done
kill -INT "$fpid"
wait "$fpid"
frc=$?
if [ "$frc" -eq 0 ]; then ok "an interrupted fuzz run exits 0 (no finding)"; else
    bad "an interrupted fuzz run exits $frc"; tail -20 "$work/out"; fi
expect_out 'seed [0-9]+ \(fresh\) \(--seed [0-9]+ repeats this run\)'
expect_out 'interrupted: [0-9]+ inputs'

# diff: two implementations disagree exactly where one is lax
expect_rc 1 "diff reports where two implementations disagree" -- \
    "$conform" diff --proto pair1 --timeout 150 --a-exec "$(fd_cmd ok)" --b-exec "$(fd_cmd lax)"
expect_out '^DIFF case:handshake\.reserved-nonzero'
if grep -q '^DIFF case:handshake.valid$' "$work/out"; then bad "  diff flags identical behaviour"; fi

echo
if [ "$fails" -eq 0 ]; then echo "selftest: all checks passed"; exit 0; fi
echo "selftest: $fails check(s) failed"
exit 1
