# Crash signature of a sanitizer / harness report (scripts/triage).
#
# Output: one line, "<kind> | f1 < f2 < ... < fN": kind is the first error
# the report names (ASan "heap-buffer-overflow", "SEGV", ..., UBSan
# "ubsan:<what>", LeakSanitizer "leak", a harness check "invariant(<the
# violated condition, spaces removed>)", a
# replay time-out "timeout", else "crash"); f1..fN are the function names of
# the top N (variable n, default 3) frames of the first stack trace that lie
# in spwire's own code (source under transport/ or fuzz/) or in NNG or
# nanomsg built from source (.../nng-1.5.2/src/...), leaving out the
# reporting helpers (spw_fuzz_fail, the replay driver). Addresses, line
# numbers and build paths play no part, so the same bug found twice, in
# different builds or after unrelated edits, gets the same signature.
#
# A packaged NNG (fuzz_nng110, fuzz_nng112) has no symbols for its internal
# functions: its frames print as "(.../libnng.so.1+0xOFFSET)". When no frame
# of the code above is on the stack, the signature is instead NNG's own
# panic message ("panic: <what>", printed before it aborts), as
# "panic(<what>)", which stays the same across releases; failing that, the
# top N libnng frames as "libnng.so.1+0xOFFSET" (tied to that one build).
BEGIN {
    if (n == "") n = 3
    kind = ""; nf = 0; done = 0; instack = 0; panic = ""; np = 0
}
/^panic: / && panic == "" { panic = $0; sub(/^panic: /, "", panic); sub(/[ \t]+$/, "", panic) }
function setkind(k) { if (kind == "") kind = k }
/spwire fuzz invariant violated at / {
    # the violated condition, without the file:line before it
    k = $0; sub(/.*spwire fuzz invariant violated at [^ ]*: /, "", k); gsub(/ +/, "", k)
    setkind("invariant(" k ")")
}
/ERROR: AddressSanitizer: / {
    k = $0; sub(/.*ERROR: AddressSanitizer: /, "", k); split(k, w, " "); k = w[1]
    if (k == "ABRT" || k == "SIGABRT") k = "abort"
    setkind(k)
}
/ERROR: LeakSanitizer: / { setkind("leak") }
# libFuzzer's own report of a signal: an abort when libc's abort() is on the
# stack (as ASan's handle_abort report of a replay calls it), else "crash".
/ERROR: libFuzzer: deadly signal/ { deadly = 1 }
/^[ \t]*#[0-9]+ 0x[0-9a-f]+ in abort / { if (deadly) setkind("abort") }
/runtime error: / {
    k = $0; sub(/.*runtime error: /, "", k)
    # keep the words before the first number, quote or colon
    gsub(/[0-9'":(].*/, "", k); gsub(/ +$/, "", k); gsub(/ +/, "-", k)
    setkind("ubsan:" k)
}
/: TIMEOUT \(over|ERROR: libFuzzer: timeout/ { setkind("timeout") }
function pkg_frame(name) { if (!pdone && np < n) pk[++np] = name }
# A frame without a function name: "#3 0x7f.. (/path/libnng.so.1+0x230b3)".
/^[ \t]*#[0-9]+ 0x[0-9a-f]+ +\(/ {
    instack = 1
    if (!done && match($0, /\/libnng\.so[.0-9]*\+0x[0-9a-f]+\)/)) {
        pkg_frame(substr($0, RSTART + 1, RLENGTH - 2))
    }
    next
}
/^[ \t]*#[0-9]+ 0x[0-9a-f]+ in / {
    instack = 1
    if (done) next
    fn = $0; sub(/.* in /, "", fn)
    loc = fn; sub(/^[^ ]+ ?/, "", loc)
    split(fn, w, " "); fn = w[1]
    # a source location (not "(module+offset)") under transport/ or fuzz/,
    # or in a reference implementation built from source by
    # scripts/deps/src-libs (.../src/nng-1.5.2/src/..., fuzz_nng's findings)
    if (loc ~ /^\(/) {
        # "in nng_recvmsg (/path/libnng.so.1+0x...)": an exported function
        # of a packaged NNG, by name
        if (loc ~ /\/libnng\.so[.0-9]*\+0x[0-9a-f]+\)/) pkg_frame(fn)
        next
    }
    if (loc !~ /\/(transport|fuzz)\/[^ ]*\.[ch](:[0-9]+)*$/ &&
        loc !~ /\/(nng|nanomsg)-[0-9.]+\/src\/[^ ]*\.[ch](:[0-9]+)*$/) next
    if (fn == "spw_fuzz_fail" || loc ~ /\/fuzz\/replay_main\.c/) next
    if (nf < n) { f[++nf] = fn }
    next
}
# The end of a stack: the first with frames of ours ends the search; so does
# one with a packaged libnng's frames (the crash is in NNG: the next stacks,
# "thread created by" and the like, would name the harness instead).
instack && !/^[ \t]*#[0-9]+/ { if (nf > 0 || np > 0) done = 1; if (np > 0) pdone = 1; instack = 0 }
END {
    if (kind == "") kind = "crash"
    s = kind " |"
    for (i = 1; i <= nf; i++) s = s (i > 1 ? " <" : "") " " f[i]
    if (nf == 0 && panic != "") s = s " panic(" panic ")"
    else if (nf == 0 && np > 0) { for (i = 1; i <= np; i++) s = s (i > 1 ? " <" : "") " " pk[i] }
    else if (nf == 0) s = s " (no spwire frame)"
    print s
}
