#!/usr/bin/env bash
# peers_smoke.sh -- prove the reference peers work and interoperate.
#
#   peers_smoke.sh MODE [--nng15 BIN] [--nng110 BIN] [--nng112 BIN] [--nanomsg BIN]
#                       [--sockpair-run BIN]
#
# MODE tcp:    every ordered pair of the given peers over tcp 127.0.0.1 on a
#              free port: req/rep (3 echoed messages) and push/pull
#              (3 messages); the done-line digests must agree with each other
#              and with sha256sum of the generated payloads.
# MODE socket: two nng110 peers over a socketpair (sockpair_run): req/rep,
#              push/pull and pair1; add events must carry peer credentials.
# MODE cli:    usage errors exit 2 (--fd and --ctl where socket:// is missing),
#              --help exits 0.
# Prints "N passed, M failed" and exits non-zero on any failure.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
spw_say_why "peers_smoke ${1:-}"

mode=${1:-}
shift || true
declare -A BIN=()
SPR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --nng15|--nng110|--nng112|--nanomsg) BIN[${1#--}]=$2; shift 2 ;;
        --sockpair-run) SPR=$2; shift 2 ;;
        *) echo "peers_smoke: unknown argument $1" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spw-peers-smoke.XXXXXX")
spw_at_exit 'rm -rf "$WORK"'
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# Value of a string or number key in the last line of FILE matching "event":"EV".
field() { # FILE EVENT KEY
    grep "\"event\":\"$2\"" "$1" | tail -n 1 |
        sed -n "s/.*\"$3\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"
}

# A TCP port nobody listens on (checked against /proc/net/tcp*).
free_port() {
    local p hex
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        hex=$(printf '%04X' "$p")
        if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
                awk '{print $2}' | grep -qi ":$hex\$"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# sha256 of the concatenated generated payloads: COUNT messages of SIZE bytes,
# byte i of message k = (k*31 + i) & 0xff.
expected_digest() { # COUNT SIZE
    local k i
    for ((k = 0; k < $1; k++)); do
        for ((i = 0; i < $2; i++)); do
            printf "\\$(printf '%03o' $(((k * 31 + i) & 255)))"
        done
    done | sha256sum | cut -d' ' -f1
}

COUNT=3
SIZE=100
EXPECT=$(expected_digest $COUNT $SIZE)

# Runs listener and connector; checks exit codes and digests.
run_pair() { # NAME LBIN LPROTO LMODE CBIN CPROTO CMODE
    local name=$1 lbin=$2 lproto=$3 lmode=$4 cbin=$5 cproto=$6 cmode=$7
    local port url lout cout lrc crc
    port=$(free_port) || { bad "$name: no free port"; return; }
    url=tcp://127.0.0.1:$port
    lout=$WORK/$name.listen.jsonl
    cout=$WORK/$name.connect.jsonl
    # shellcheck disable=SC2086
    "$lbin" --proto "$lproto" --tcp-listen "$url" $lmode --count $COUNT --timeout 5000 >"$lout" 2>"$lout.err" &
    local lpid=$!
    # shellcheck disable=SC2086
    "$cbin" --proto "$cproto" --tcp-connect "$url" $cmode --count $COUNT --timeout 5000 >"$cout" 2>"$cout.err"
    crc=$?
    wait "$lpid"
    lrc=$?
    local ld cdg lr cr
    ld=$(field "$lout" "done" digest)
    cdg=$(field "$cout" "done" digest)
    lr=$(field "$lout" "done" received)
    cr=$(field "$cout" "done" received)
    if [ "$lrc" = 0 ] && [ "$crc" = 0 ] && [ "$ld" = "$EXPECT" ] && [ "$cdg" = "$EXPECT" ] &&
            [ "$lr" = "$COUNT" ] && { [ "$cr" = "$COUNT" ] || [ "$cproto" = push ]; }; then
        ok "$name (digest ${ld:0:16}...)"
    elif [ "$cproto" = push ] && [ "$lrc" = 0 ] && [ "$crc" = 0 ] && [ "$ld" = "$EXPECT" ] && [ "$lr" = "$COUNT" ]; then
        ok "$name (digest ${ld:0:16}...)"
    else
        bad "$name: exit listen=$lrc connect=$crc digest listen=$ld connect=$cdg expected=$EXPECT"
        sed 's/^/    listen: /' "$lout" "$lout.err"
        sed 's/^/    connect: /' "$cout" "$cout.err"
    fi
}

case "$mode" in
tcp)
    impls=()
    for i in nng15 nng110 nng112 nanomsg; do [ -n "${BIN[$i]:-}" ] && impls+=("$i"); done
    [ ${#impls[@]} -ge 2 ] || { echo "peers_smoke: tcp needs at least two peers" >&2; exit 2; }
    for a in "${impls[@]}"; do
        for b in "${impls[@]}"; do
            [ "$a" = "$b" ] && continue
            # a listens as rep (echo), b connects as req.
            run_pair "reqrep-$a-rep-listen-$b-req" "${BIN[$a]}" rep --echo "${BIN[$b]}" req "--size $SIZE"
            # a listens as pull, b connects as push (push's own digest is of
            # nothing received, so only pull's digest is compared).
            run_pair "pipeline-$a-pull-listen-$b-push" "${BIN[$a]}" pull --recv "${BIN[$b]}" push "--size $SIZE"
        done
    done
    # push/pull: the connecting push received nothing; its digest is the
    # empty one.  run_pair accepts that case explicitly above.
    ;;
socket)
    [ -n "${BIN[nng110]:-}" ] && [ -n "$SPR" ] || { echo "peers_smoke: socket needs --nng110 and --sockpair-run" >&2; exit 2; }
    P=${BIN[nng110]}
    for combo in "rep --echo|req --size $SIZE" "pull --recv|push --size $SIZE" "pair1 --recv|pair1 --size $SIZE"; do
        a=${combo%%|*}; b=${combo#*|}
        name="socket-${a%% *}-${b%% *}"
        out_a=$WORK/$name.a.jsonl; out_b=$WORK/$name.b.jsonl
        # shellcheck disable=SC2086
        "$SPR" --timeout 20000 \
            -- sh -c 'out=$1; shift; exec "$@" >"$out"' sh "$out_a" "$P" --proto ${a%% *} --fd '{fd}' ${a#* } --count $COUNT \
            -- sh -c 'out=$1; shift; exec "$@" >"$out"' sh "$out_b" "$P" --proto ${b%% *} --fd '{fd}' ${b#* } --count $COUNT \
            2>"$WORK/$name.err"
        rc=$?
        da=$(field "$out_a" "done" digest)
        pid=$(field "$out_a" add peer_pid)
        uid=$(field "$out_a" add peer_uid)
        gid=$(field "$out_a" add peer_gid)
        if [ "$rc" = 0 ] && [ "$da" = "$EXPECT" ] && [ -n "$pid" ] && [ -n "$uid" ] && [ -n "$gid" ]; then
            ok "$name (digest ${da:0:16}..., peer_pid=$pid peer_uid=$uid peer_gid=$gid)"
        else
            bad "$name: rc=$rc digest=$da expected=$EXPECT pid=$pid uid=$uid gid=$gid"
            sed 's/^/    a: /' "$out_a"; sed 's/^/    b: /' "$out_b"; sed 's/^/    err: /' "$WORK/$name.err"
        fi
    done
    ;;
cli)
    for i in "${!BIN[@]}"; do
        P=${BIN[$i]}
        check_rc() { # WANT DESC ARGS...
            local want=$1 desc=$2 rc
            shift 2
            "$P" "$@" >/dev/null 2>&1
            rc=$?
            if [ "$rc" = "$want" ]; then ok "$i cli: $desc"; else bad "$i cli: $desc: exit $rc, want $want"; fi
        }
        check_rc 0 "--help" --help
        check_rc 2 "no arguments"
        check_rc 2 "unknown proto" --proto nope --tcp-listen tcp://127.0.0.1:1 --recv
        check_rc 2 "no endpoint" --proto pull --recv
        check_rc 2 "bad hex" --proto push --tcp-connect tcp://127.0.0.1:1 --send 0g
        check_rc 2 "sub cannot send" --proto sub --tcp-connect tcp://127.0.0.1:1 --send 00
        check_rc 2 "two behaviours" --proto pair0 --tcp-connect tcp://127.0.0.1:1 --send 00 --recv
        check_rc 2 "bad count" --proto pull --tcp-listen tcp://127.0.0.1:1 --recv --count x
        for fds in "3,x:not a file descriptor number" "3,,4:not a file descriptor number" \
                   "$(seq -s, 3 19):too many"; do
            msg=$("$P" --proto pull --fds "${fds%%:*}" --recv 2>&1 >/dev/null); rc=$?
            if [ "$rc" = 2 ] && [[ "$msg" == *"${fds#*:}"* ]]; then
                ok "$i cli: --fds ${fds%%:*} refused (${fds#*:})"
            else
                bad "$i cli: --fds ${fds%%:*}: exit $rc, message '$msg'"
            fi
        done
        if [ "$i" = nng110 ] || [ "$i" = nng112 ]; then
            check_rc 2 "--fd 999 needs a proto" --fd 999 --recv
            check_rc 2 "--ctl x is not an fd" --proto pair0 --ctl x --recv
            check_rc 2 "--ctl and --fd: two endpoints" --proto pair0 --ctl 3 --fd 4 --recv
        else
            for ep in --fd --ctl; do
                msg=$("$P" --proto pair0 $ep 3 --recv 2>&1 >/dev/null); rc=$?
                if [ "$rc" = 2 ] && [[ "$msg" == *"socket:// needs NNG >= 1.9"* ]]; then
                    ok "$i cli: $ep refused"
                else
                    bad "$i cli: $ep: exit $rc, message '$msg'"
                fi
            done
        fi
        # A receive that times out: exit 1 with an ETIMEDOUT error event.
        port=$(free_port)
        out=$("$P" --proto pull --tcp-listen "tcp://127.0.0.1:$port" --recv --timeout 200 2>/dev/null); rc=$?
        if [ "$rc" = 1 ] && [[ "$out" == *'"error":"ETIMEDOUT"'* ]] && [[ "$out" == *'"event":"done"'* ]]; then
            ok "$i cli: recv timeout -> ETIMEDOUT, exit 1"
        else
            bad "$i cli: recv timeout: exit $rc, output $out"
        fi
    done
    ;;
*)
    echo "usage: peers_smoke.sh tcp|socket|cli [--nng15 BIN] [--nng110 BIN] [--nng112 BIN] [--nanomsg BIN] [--sockpair-run BIN]" >&2
    exit 2
    ;;
esac

echo "$pass passed, $fail failed"
[ "$fail" = 0 ] || { echo "peers_smoke: $fail check(s) failed (FAIL lines above)" >&2; exit 1; }
[ "$pass" -gt 0 ] || { echo "peers_smoke: no check ran" >&2; exit 1; }
