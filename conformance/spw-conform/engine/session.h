/* spw-conform engine, internal to runner.c and steps.c — one running case:
 * the connections, what came back on each, and the state the steps act on. */
#ifndef SPW_CONFORM_SESSION_H
#define SPW_CONFORM_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "catalogue.h"
#include "judge.h"
#include "steps.h"
#include "target.h"
#include "wire.h"

#define CF_MAX_ANSWERED 64

/* What came back on one connection, analysed as it arrives. */
typedef struct cf_rx {
    cf_buf rx;
    uint8_t hs_want[8];
    uint16_t proto;
    const cf_framing *framing;
    cf_buf *expected;  /* messages expected back, in order */
    int nexpected;
    int matched, wrong, garbage, frames;
    /* requests from a requesting IUT (req, surveyor) */
    size_t req_off;            /* rx offset of the next frame to look at */
    int outstanding;           /* a request we have not answered correctly */
    uint32_t last_id;          /* id of the newest request */
    int seen_request;
    uint32_t answered[CF_MAX_ANSWERED];
    int nanswered;
    int req_bad, req_reused;
    long last_req_ms;          /* when the newest request (or its resend) came */
    long last_send_ms;         /* when our last write on this connection ended */
    int retry_ms;              /* the IUT's own re-request period (cf_probe), 0 none */
    cf_wire *w;
} cf_rx;

/* Start the analysis for an IUT speaking proto over framing f. */
void cf_rx_init(cf_rx *s, uint16_t proto, const cf_framing *f, cf_wire *w);
void cf_rx_free(cf_rx *s);
/* Count frames and match them with the expected echoes (from scratch). */
void cf_rx_analyse(cf_rx *s);
/* Look at the requests that arrived since the last call. Returns 1 at the
 * first fresh one (a new id: not a resend of the outstanding request, not an
 * id we answered) when stop_at_fresh, else reads to the end. A malformed
 * header or an answered id stops the scan for good. */
int cf_rx_scan_requests(cf_rx *s, int stop_at_fresh);
/* cf_io_read_until conditions, ctx a cf_rx: the whole handshake (or a
 * wrong byte of it) is in; every expected echo (or a wrong frame); a fresh
 * request (or a bad one). */
int cf_rx_done_handshake(void *ctx);
int cf_rx_done_echo(void *ctx);
int cf_rx_done_request(void *ctx);
/* Wait (up to start_ms) until the IUT has said anything on fd — a byte,
 * or its close. A window judges what the IUT did with our bytes; one that
 * ran out before a slow-starting IUT (a loaded machine, a sanitizer
 * build) even spoke would judge the machine, not the IUT. */
void cf_rx_wait_first(int fd, cf_rx *s, int *closed, cf_wire *w, int start_ms);

/* One connection of a case: our end, what came back, what we saw. */
typedef struct cf_side {
    int fd;
    cf_rx s;
    cf_obs o;
    int closed, shut;
    int hold;           /* 'stop-reading': our writes read nothing back */
    uint32_t counter;   /* request ids of the messages we send a responder */
    cf_wire w;
    int outcome, verdict;
} cf_side;

/* The state the steps of a running script act on (steps.c's run
 * functions). */
typedef struct cf_exec {
    const cf_target *t;
    const cf_case *c;
    cf_side *sides;
    int nsides;
    cf_side *cur;      /* the connection steps act on ('on fdK') */
    int timeout;       /* the case's observation window, ms */
    int batching;      /* inside batch ... flush */
    cf_buf batch;
    size_t split;      /* bytes per write, 0 = whole */
    int gap;           /* ms between split writes */
} cf_exec;

#endif
