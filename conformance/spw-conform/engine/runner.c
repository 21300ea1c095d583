/* spw-conform engine — run a case, the preflight, or raw bytes against a
 * target (runner.h). The steps themselves are steps.c's; what came back is
 * analysed by session.c; verdicts are judge.c's. */
#include "runner.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "judge.h"
#include "pcap.h"
#include "iut.h"
#include "session.h"
#include "spw_proc.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"
#include "wire.h"

void cf_result_free(cf_result *r)
{
    free(r->reason);
    free(r->acceptable);
    free(r->iut_log);
    cf_buf_free(&r->wire);
    memset(r, 0, sizeof *r);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

void cf_result_not_run(cf_result *r, const cf_case *c, int verdict, const char *reason)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->verdict = verdict;
    r->outcome = -1;
    r->reason = xstrdup(reason);
}

/* ------------------------------------------------------------ cases */

/* cf_render.next_id for a running case: a responder IUT gets fresh request
 * ids; a requesting IUT, in a case that drives it, an answer to its last
 * request (-1, noted on the wire, when none came yet). */
static int64_t side_next_id(void *ctx, const cf_step *st)
{
    cf_exec *x = ctx;
    cf_side *sd = x->cur;
    if (!x->c->needs_requester)
        return (int64_t)(sd->counter++ | SPW_REQID_FLAG);
    if (!sd->s.seen_request) {
        cf_log_note(&sd->w, "no request from the IUT to answer: message not sent");
        return -1;
    }
    uint32_t id = sd->s.last_id;
    if (st->reply_id == CF_ID_OTHER)
        return (int64_t)(id ^ 0x40000000u); /* another id, still a valid one */
    if (st->reply_id == CF_ID_NOHIBIT)
        return (int64_t)(id & ~SPW_REQID_FLAG);
    /* a correct answer: a repeat of this id is no longer a resend */
    if (sd->s.outstanding && sd->s.nanswered < CF_MAX_ANSWERED)
        sd->s.answered[sd->s.nanswered++] = id;
    sd->s.outstanding = 0;
    return (int64_t)id;
}

/* cf_render.sent: a message an echoing IUT must send back */
static void side_sent(void *ctx, const cf_step *st, cf_buf *m)
{
    cf_exec *x = ctx;
    cf_rx *s = &x->cur->s;
    if (!x->c->needs_echo || st->drop)
        return;
    s->expected = realloc(s->expected, sizeof *s->expected * (size_t)(s->nexpected + 1));
    if (!s->expected)
        abort();
    s->expected[s->nexpected++] = *m;
    memset(m, 0, sizeof *m);
}

static int side_done(void *ctx)
{
    cf_side *sd = ctx;
    return sd->s.nexpected > 0 ? cf_rx_done_echo(&sd->s) : 0;
}

/* After the script: watch every connection for the window (ending early
 * once every expected echo is back), then half-close and check that the IUT
 * lets each connection go. */
static void observe(const cf_target *t, cf_side *sides, int n, int timeout)
{
    /* the window opens once the IUT has spoken: on the first connection
     * (the process is up; a silent other fd is the IUT's choice, judged) */
    cf_rx_wait_first(sides[0].fd, &sides[0].s, &sides[0].closed, &sides[0].w,
                     t->start_timeout_ms);
    long deadline = cf_now_ms() + timeout;
    for (int k = 0; k < n; k++) {
        cf_side *sd = &sides[k];
        if (sd->fd < 0 || sd->closed)
            continue;
        cf_io_read_until(sd->fd, deadline, &sd->s.rx, &sd->closed, &sd->w, side_done, sd);
        /* a window cut short by the echoes, or spent on an earlier
         * connection: still take what is already there */
        if (sd->s.nexpected > 0 || k > 0)
            cf_io_read_until(sd->fd, cf_now_ms() + 20, &sd->s.rx, &sd->closed, &sd->w, NULL,
                             NULL);
    }
    for (int k = 0; k < n; k++) {
        cf_side *sd = &sides[k];
        sd->o.closed = sd->closed;
        if (sd->fd < 0 || sd->closed)
            continue;
        if (!sd->shut)
            cf_io_shutdown(sd->fd, &sd->w);
        cf_log_note(&sd->w, "end of case: FIN sent, the IUT must close its side");
    }
    long leak_deadline = cf_now_ms() + (timeout < 1000 ? timeout : 1000);
    for (int k = 0; k < n; k++) {
        cf_side *sd = &sides[k];
        if (sd->fd < 0 || sd->closed)
            continue;
        int lc = 0;
        cf_io_read_until(sd->fd, leak_deadline, &sd->s.rx, &lc, &sd->w, NULL, NULL);
        if (!lc)
            cf_io_read_until(sd->fd, cf_now_ms() + 5, &sd->s.rx, &lc, &sd->w, NULL, NULL);
        if (!lc)
            sd->o.leaked = 1;
    }
}

static void judge_side(const cf_target *t, const cf_case *c, int k, cf_side *sd, const cf_ending *e)
{
    cf_rx *s = &sd->s;
    cf_obs *o = &sd->o;
    o->crashed = e->crashed;
    o->exited = e->exited;
    o->hung = e->hung;
    cf_rx_analyse(s);
    if (spw_proto_has(t->proto, SPW_PF_REQUESTS)) {
        s->w = NULL; /* late requests are judged, not logged out of order */
        cf_rx_scan_requests(s, 0);
    }
    o->hs_have = s->rx.len < 8 ? s->rx.len : 8;
    o->hs_valid = memcmp(s->rx.p ? s->rx.p : (uint8_t *)"", s->hs_want, o->hs_have) == 0;
    o->expected = s->nexpected;
    o->matched = s->matched;
    o->wrong = s->wrong;
    o->garbage = s->garbage;
    o->req_bad = s->req_bad;
    o->req_reused = s->req_reused;
    sd->outcome = cf_classify(o);
    sd->verdict = cf_verdict(c, k, t->proto, sd->outcome, t->strict);
}

static void describe_side(const cf_target *t, const cf_side *sd, const cf_ending *e, cf_buf *why)
{
    const cf_obs *o = &sd->o;
    const cf_rx *s = &sd->s;
    cf_buf_printf(why, "saw %s", cf_outcome_name(sd->outcome));
    if (e->detail[0])
        cf_buf_printf(why, ": %s", e->detail);
    else if (o->leaked)
        cf_buf_printf(why, ": the IUT kept the connection open after our FIN");
    else if (sd->outcome == CF_O_BAD_HANDSHAKE) {
        cf_buf_printf(why, ": the IUT sent");
        for (size_t i = 0; i < o->hs_have; i++)
            cf_buf_printf(why, " %02x", s->rx.p[i]);
        cf_buf_printf(why, ", a valid %s header is", spw_proto_name(t->proto));
        for (int i = 0; i < 8; i++)
            cf_buf_printf(why, " %02x", s->hs_want[i]);
    } else if (s->nexpected)
        cf_buf_printf(why, " (%d of %d messages echoed, %d frames received)", s->matched,
                      s->nexpected, s->frames);
    else if (o->req_waits)
        cf_buf_printf(why, " (%d of %d awaited requests came, %d frames received)", o->req_got,
                      o->req_waits, s->frames);
    else if (sd->outcome == CF_O_NO_HANDSHAKE)
        cf_buf_printf(why, " (%zu of 8 handshake bytes from the IUT)", o->hs_have);
}

/* "closed | closed-after-reply" (per connection in an 'fds N' case) */
static char *acceptable_text(const cf_target *t, const cf_case *c)
{
    cf_buf a = {0};
    for (int k = 0; k < c->nconns; k++) {
        int acc[CF_MAX_OUTCOMES * 2];
        int m = cf_resolve_outcomes(c, k, t->proto, acc, CF_MAX_OUTCOMES * 2);
        if (c->nconns > 1)
            cf_buf_printf(&a, "%sfd%d: ", k ? "; " : "", k + 1);
        for (int i = 0; i < m; i++)
            cf_buf_printf(&a, "%s%s", i ? " | " : "", cf_outcome_name(acc[i]));
    }
    if (!a.p)
        cf_buf_add(&a, "", 0);
    return (char *)a.p;
}

/* The script, step by step: a sending step's bytes go out on the current
 * connection (or into the batch), every other step runs (steps.c). */
static void run_script(cf_exec *x)
{
    const cf_target *t = x->t;
    cf_render rd = {.iut = t->proto, .limit = t->recvmax, .framing = &t->driver->framing,
                    .next_id = side_next_id, .sent = side_sent, .ctx = x};
    for (int i = 0; i < x->c->nsteps; i++) {
        const cf_step *st = &x->c->steps[i];
        const cf_step_type *ty = cf_step_type_of(st->kind);
        cf_side *cur = x->cur;
        if (cur->fd < 0 && !(ty->flags & CF_STEP_ALWAYS))
            continue;
        if (!ty->render) {
            ty->run(st, x);
            continue;
        }
        cf_buf out = {0};
        ty->render(st, &rd, &out);
        if (out.len) {
            if (x->batching)
                cf_buf_add(&x->batch, out.p, out.len);
            else if (!cur->closed && !cur->shut) {
                cf_io_write(cur->fd, out.p, out.len, x->split, x->gap,
                            cur->hold ? NULL : &cur->s.rx, &cur->closed, &cur->w);
                cur->s.last_send_ms = cf_now_ms();
            } else if (!cur->o.we_closed)
                cf_log_note(&cur->w, "connection already closed: not sending");
        }
        cf_buf_free(&out);
    }
    cf_buf_free(&x->batch);
}

/* Every connection judged; the case's verdict and outcome are its worst
 * connection's, its reason names each (the process's fate once). */
static void judge_case(const cf_target *t, const cf_case *c, cf_side *sides, const cf_iut *ss,
                       cf_ending *e, cf_result *r)
{
    int n = c->nconns, worst = 0;
    size_t rx_total = 0;
    for (int k = 0; k < n; k++) {
        judge_side(t, c, k, &sides[k], e);
        rx_total += sides[k].s.rx.len;
        if (k == 0 || cf_verdict_worse(sides[worst].verdict, sides[k].verdict) !=
                          sides[worst].verdict)
            worst = k;
    }
    r->outcome = sides[worst].outcome;
    r->verdict = sides[worst].verdict;
    r->nconns = n;
    for (int k = 0; k < n; k++) {
        r->conn_outcome[k] = sides[k].outcome;
        r->conn_verdict[k] = sides[k].verdict;
    }
    if (ss->have_proc && ss->proc.exited && rx_total == 0 && WIFEXITED(ss->proc.status) &&
        (WEXITSTATUS(ss->proc.status) == 127 || WEXITSTATUS(ss->proc.status) == 126)) {
        /* the shell could not run the command: not the IUT's fault */
        r->verdict = CF_ERROR;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT command could not be run (exit status %d from the shell)",
                 WEXITSTATUS(ss->proc.status));
    }
    cf_buf why = {0};
    for (int k = 0; k < n; k++) {
        if (n > 1)
            cf_buf_printf(&why, "%sfd%d: ", k ? "; " : "", k + 1);
        describe_side(t, &sides[k], e, &why);
        if (e->detail[0])
            break; /* about the process: once is enough */
    }
    r->reason = (char *)why.p;
}

int cf_run_case(const cf_target *t, const cf_case *c, cf_result *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    long t0 = cf_now_ms();
    int n = c->nconns;
    cf_wire proc_wire = {.text = &r->wire, .t0 = t0};
    r->acceptable = acceptable_text(t, c);

    struct cf_pcap *pcap = NULL;
    if (t->pcap_dir) {
        char path[1024], perr[300];
        snprintf(path, sizeof path, "%s/%s.pcap", t->pcap_dir, c->id);
        pcap = cf_pcap_open(path, perr, sizeof perr);
        if (!pcap)
            cf_log_note(&proc_wire, perr);
    }

    cf_iut ss;
    if (cf_iut_open(t, c->id, n, &ss, &proc_wire)) {
        /* an ERROR that keeps what the wire log noted so far */
        r->verdict = CF_ERROR;
        r->outcome = -1;
        r->reason = xstrdup(ss.err);
        if (ss.have_proc)
            spw_proc_stop(&ss.proc, t->kill_timeout_ms);
        cf_pcap_close(pcap, NULL, 0);
        r->ms = cf_now_ms() - t0;
        return 0;
    }

    cf_side sides[CF_MAX_CONNS];
    memset(sides, 0, sizeof sides);
    for (int k = 0; k < n; k++) {
        cf_side *sd = &sides[k];
        sd->fd = ss.fds[k];
        sd->counter = 1;
        sd->w = (cf_wire){.text = &r->wire, .t0 = t0, .conn = k, .label = n > 1, .pcap = pcap};
        cf_rx_init(&sd->s, t->proto, &t->driver->framing, &sd->w);
        sd->s.retry_ms = t->retry_ms;
    }
    cf_exec x = {.t = t, .c = c, .sides = sides, .nsides = n, .cur = &sides[0],
                 .timeout = c->timeout_ms ? c->timeout_ms : t->timeout_ms};
    run_script(&x);
    observe(t, sides, n, x.timeout);
    /* Stop the IUT before closing our ends: a close at teardown would be an
     * event the script never asked for (a write into it can SIGPIPE). */
    cf_ending e = {0};
    cf_iut_finish(t, &ss, &e, &proc_wire);
    for (int k = 0; k < n; k++)
        if (sides[k].fd >= 0)
            close(sides[k].fd);
    char perr[300];
    if (cf_pcap_close(pcap, perr, sizeof perr))
        cf_log_note(&proc_wire, perr);
    judge_case(t, c, sides, &ss, &e, r);
    r->iut_log = cf_iut_log_evidence(ss.logpath);
    for (int k = 0; k < n; k++)
        cf_rx_free(&sides[k].s);
    r->ms = cf_now_ms() - t0;
    return 0;
}

/* ------------------------------------------------------------ preflight */

/* Any frame after the first request: a resend or a new request. */
static int done_second_frame(void *ctx)
{
    cf_rx *s = ctx;
    return s->rx.len > s->req_off;
}

static void probe_fail(char *err, size_t errlen, const cf_iut *ss, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void probe_fail(char *err, size_t errlen, const cf_iut *ss, const char *fmt, ...)
{
    cf_buf b = {0};
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cf_buf_printf(&b, "%s", msg);
    char *tail = ss->logpath[0] ? spw_file_tail(ss->logpath, 1200) : NULL;
    if (tail && *tail)
        cf_buf_printf(&b, "\nthe IUT's output (tail):\n%s", tail);
    else if (ss->logpath[0])
        cf_buf_printf(&b, "\nthe IUT printed nothing");
    free(tail);
    snprintf(err, errlen, "%s", (char *)b.p);
    cf_buf_free(&b);
}

int cf_probe(const cf_target *t, int *retry_ms, char *err, size_t errlen)
{
    *retry_ms = 0;
    cf_iut ss;
    if (cf_iut_open(t, "preflight", 1, &ss, NULL)) {
        if (ss.have_proc)
            spw_proc_stop(&ss.proc, t->kill_timeout_ms);
        probe_fail(err, errlen, &ss, "%s", ss.err);
        return -1;
    }
    int fd = ss.fds[0], closed = 0, rc = 0;
    cf_rx s;
    cf_rx_init(&s, t->proto, &t->driver->framing, NULL);
    uint8_t h[8];
    spw_handshake_encode(h, (uint16_t)spw_proto_peer(t->proto));
    long t0 = cf_now_ms();
    cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL);
    cf_io_read_until(fd, t0 + t->start_timeout_ms, &s.rx, &closed, NULL, cf_rx_done_handshake, &s);
    if (s.rx.len < 8 || memcmp(s.rx.p, s.hs_want, 8) != 0) {
        char st[224];
        cf_iut_ended_note(&ss.proc, ss.have_proc, st, sizeof st);
        if (s.rx.len >= 8)
            probe_fail(err, errlen, &ss,
                       "the IUT's 8-byte header %02x %02x %02x %02x %02x %02x %02x %02x is not "
                       "a valid %s header (is --proto right?)%s",
                       s.rx.p[0], s.rx.p[1], s.rx.p[2], s.rx.p[3], s.rx.p[4], s.rx.p[5],
                       s.rx.p[6], s.rx.p[7], spw_proto_name(t->proto), st);
        else if (s.rx.len > 0 && memcmp(s.rx.p, s.hs_want, s.rx.len) != 0)
            probe_fail(err, errlen, &ss,
                       "the IUT's first bytes are not a valid %s header (is --proto right?)%s",
                       spw_proto_name(t->proto), st);
        else if (closed)
            probe_fail(err, errlen, &ss,
                       "the IUT closed the connection after %zu of its 8 header bytes, in "
                       "answer to a valid header%s", s.rx.len, st);
        else
            probe_fail(err, errlen, &ss,
                       "the IUT sent %zu of its 8 header bytes within %d ms (--start-timeout) "
                       "of getting a valid header%s%s", s.rx.len, t->start_timeout_ms, st,
                       t->kind == CF_T_EXEC_FD ? "; does it take its connection from {fd} or "
                                                 "{fds}?" : "");
        rc = -1;
    } else if (spw_proto_has(t->proto, SPW_PF_REQUESTS)) {
        /* Leave the first request unanswered for two windows: an IUT that
         * re-requests by itself within them does so on a timer that the
         * requester cases must not take for an answer. */
        int window = 2 * t->timeout_ms;
        cf_io_read_until(fd, cf_now_ms() + t->timeout_ms, &s.rx, &closed, NULL,
                         cf_rx_done_request, &s);
        if (s.seen_request) {
            long first = s.last_req_ms;
            if (cf_io_read_until(fd, first + window, &s.rx, &closed, NULL, done_second_frame,
                                 &s) == 0)
                *retry_ms = (int)(cf_now_ms() - first);
            if (*retry_ms < 1 && s.rx.len > s.req_off)
                *retry_ms = 1;
        }
    }
    close(fd);
    if (ss.have_proc)
        spw_proc_stop(&ss.proc, t->kill_timeout_ms);
    cf_rx_free(&s);
    return rc;
}

/* ------------------------------------------------------------ seeds */

/* cf_render.next_id for a rendered stream: fresh request ids */
static int64_t seed_next_id(void *ctx, const cf_step *st)
{
    (void)st;
    uint32_t *next = ctx;
    return (int64_t)((*next)++ | SPW_REQID_FLAG);
}

void cf_render_case(const cf_case *c, uint16_t iut_proto, uint64_t limit, const cf_framing *f,
                    cf_buf *out)
{
    uint32_t next = 1;
    cf_render rd = {.iut = iut_proto, .limit = limit,
                    .framing = f ? f : &cf_driver_of(CF_TR_TCP)->framing,
                    .next_id = seed_next_id, .sent = NULL, .ctx = &next};
    for (int i = 0; i < c->nsteps; i++) {
        const cf_step *s = &c->steps[i];
        const cf_step_type *ty = cf_step_type_of(s->kind);
        if (s->conn == 0 && ty->render) /* one stream: the first connection's */
            ty->render(s, &rd, out);
    }
}
