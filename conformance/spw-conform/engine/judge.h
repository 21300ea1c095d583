/* spw-conform engine — pure judgement: what the runner observed becomes an
 * outcome, an outcome becomes a verdict against a case's acceptable set, and
 * a case that cannot apply to a target says why. */
#ifndef SPW_CONFORM_JUDGE_H
#define SPW_CONFORM_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "catalogue.h"

/* What the runner saw on one connection; input of the classifier. */
typedef struct cf_obs {
    int closed;          /* EOF or reset from the IUT (or we closed) */
    int we_closed;       /* the script closed its end: nothing more observable */
    size_t hs_have;      /* bytes of the IUT's handshake received (<= 8) */
    int hs_valid;        /* 1 when the bytes received match a valid header for --proto */
    int hs_timeout;      /* an expect handshake step timed out */
    int expected;        /* messages expected back */
    int matched;         /* of them, received in order and correct */
    int wrong;           /* a frame that is not the next expected one */
    int garbage;         /* undecodable bytes after the handshake */
    int req_waits;       /* 'expect request' steps run */
    int req_got;         /* of them, answered by a fresh request */
    int req_bad;         /* a request with a malformed SP header */
    int req_reused;      /* a request with an id we had already answered */
    int crashed, exited, hung, leaked;
} cf_obs;

int cf_classify(const cf_obs *o);

/* Connection conn's acceptable outcomes for an IUT speaking iut_proto, the
 * pseudo outcome 'paired' resolved by that connection's last handshake
 * step. Returns how many were written to out (at most max). */
int cf_resolve_outcomes(const cf_case *c, int conn, uint16_t iut_proto, int *out, int max);

/* Verdict for connection conn's outcome. strict turns NON-STRICT into FAIL. */
int cf_verdict(const cf_case *c, int conn, uint16_t iut_proto, int outcome, int strict);
/* The worse of two verdicts (ERROR over FAIL over NON-STRICT over
 * INFORMATIONAL over PASS), for a case judged on several connections. */
int cf_verdict_worse(int a, int b);

/* What a target offers a case (cf_skip_reason's input). */
typedef struct cf_offer {
    uint16_t proto;   /* the IUT's protocol */
    int transport;    /* CF_TR_* (conn.h) */
    int fd_slots;     /* fds one IUT can be handed: 0 none (an address), 1 ({fd}),
                       * CF_MAX_CONNS ({fds}) */
} cf_offer;

/* Why a case does not apply, or NULL when it does (buf holds the text). */
const char *cf_skip_reason(const cf_case *c, const cf_offer *o, char *buf, size_t len);

#endif
