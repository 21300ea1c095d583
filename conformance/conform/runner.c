/* spw-conform — run one case script (or a raw byte stream) against a target.
 * All syscalls go through io.c; judging is judge.c's. */
#include "conform.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcap.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

void cf_result_free(cf_result *r)
{
    free(r->reason);
    free(r->acceptable);
    free(r->iut_log);
    cf_buf_free(&r->wire);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ target */

/* The IUT as the case sees it: maybe a process, and one or more connected
 * fds (several only for the socket transport, 'fds N'). */
typedef struct session {
    int nfds;
    int fds[CF_MAX_CONNS];
    cf_proc proc;
    int have_proc;
    char logpath[512];
    char err[256];
} session;

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

static int open_exec_fd(const cf_target *t, int nconns, session *ss, const char *lp)
{
    int theirs[CF_MAX_CONNS];
    for (int i = 0; i < nconns; i++) {
        int sv[2];
        if (cf_socketpair(sv)) {
            snprintf(ss->err, sizeof ss->err, "socketpair: %s", strerror(errno));
            close_all(theirs, i);
            close_all(ss->fds, i);
            return -1;
        }
        ss->fds[i] = sv[0];
        theirs[i] = sv[1];
    }
    ss->nfds = nconns;
    char *cmd = cf_expand(t->exec, theirs, nconns, NULL, t->proto, t->recvmax);
    int rc = cf_spawn(cmd, theirs, nconns, lp, &ss->proc);
    free(cmd);
    close_all(theirs, nconns);
    if (rc) {
        snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
        close_all(ss->fds, nconns);
        return -1;
    }
    ss->have_proc = 1;
    for (int i = 0; i < nconns; i++)
        cf_set_nonblock(ss->fds[i]);
    return 0;
}

static int open_target(const cf_target *t, const char *tag, int nconns, session *ss, cf_wire *w)
{
    memset(ss, 0, sizeof *ss);
    for (int i = 0; i < CF_MAX_CONNS; i++)
        ss->fds[i] = -1;
    ss->proc.pid = -1;
    if (t->log_dir && tag)
        snprintf(ss->logpath, sizeof ss->logpath, "%s/%s.log", t->log_dir, tag);
    const char *lp = ss->logpath[0] ? ss->logpath : NULL;
    char url[200];
    snprintf(url, sizeof url, "tcp://%s:%d", t->host, t->port);

    if (t->kind == CF_T_EXEC_FD)
        return open_exec_fd(t, nconns, ss, lp);
    ss->nfds = 1;
    if (t->kind == CF_T_CONNECT) {
        if (t->exec && !t->shared) {
            char *cmd = cf_expand(t->exec, NULL, 0, url, t->proto, t->recvmax);
            int rc = cf_spawn(cmd, NULL, 0, lp, &ss->proc);
            free(cmd);
            if (rc) {
                snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
                return -1;
            }
            ss->have_proc = 1;
        }
        long end = cf_now_ms() + t->start_timeout_ms;
        for (;;) {
            ss->fds[0] = cf_tcp_connect(t->host, t->port, 200);
            if (ss->fds[0] >= 0)
                break;
            if (ss->have_proc && cf_proc_poll(&ss->proc)) {
                char st[128];
                cf_proc_describe(&ss->proc, st, sizeof st);
                snprintf(ss->err, sizeof ss->err, "the IUT ended (%.60s) before listening on %.150s", st,
                         url);
                return -1;
            }
            if (cf_now_ms() > end) {
                snprintf(ss->err, sizeof ss->err, "could not connect to %s within %d ms", url,
                         t->start_timeout_ms);
                return -1;
            }
            cf_sleep_ms(3);
        }
        cf_log_note(w, "connected");
        return 0;
    }
    /* CF_T_LISTEN: we listen, the IUT dials */
    int lfd = cf_tcp_listen(t->host, t->port, NULL);
    if (lfd < 0) {
        snprintf(ss->err, sizeof ss->err, "listen on %s: %s", url, strerror(errno));
        return -1;
    }
    char *cmd = cf_expand(t->exec, NULL, 0, url, t->proto, t->recvmax);
    int rc = cf_spawn(cmd, NULL, 0, lp, &ss->proc);
    free(cmd);
    if (rc) {
        close(lfd);
        snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
        return -1;
    }
    ss->have_proc = 1;
    long end = cf_now_ms() + t->start_timeout_ms;
    while ((ss->fds[0] = cf_tcp_accept(lfd, 50)) < 0) {
        if (cf_proc_poll(&ss->proc) || cf_now_ms() > end) {
            snprintf(ss->err, sizeof ss->err, "the IUT did not dial %s within %d ms", url,
                     t->start_timeout_ms);
            close(lfd);
            return -1;
        }
    }
    close(lfd);
    cf_log_note(w, "accepted the IUT's connection");
    return 0;
}

/* ------------------------------------------------------------ rx analysis */

#define CF_MAX_ANSWERED 64

typedef struct rxstate {
    cf_buf rx;
    uint8_t hs_want[8];
    uint16_t proto;
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
} rxstate;

static void analyse(rxstate *s)
{
    s->matched = s->wrong = s->garbage = s->frames = 0;
    if (s->rx.len <= 8)
        return;
    const uint8_t *p = s->rx.p + 8;
    size_t left = s->rx.len - 8;
    for (;;) {
        size_t body, flen;
        int rc = spw_frame_parse(p, left, 0, &body, &flen);
        if (rc == SPW_FRAME_NEED_MORE)
            return;
        if (rc < 0) {
            s->garbage = 1;
            return;
        }
        s->frames++;
        if (s->nexpected > 0) {
            if (s->matched < s->nexpected &&
                cf_echo_matches(s->proto, s->expected[s->matched].p, s->expected[s->matched].len,
                                p + 8, body))
                s->matched++;
            else
                s->wrong = 1;
        }
        p += flen;
        left -= flen;
    }
}

static int was_answered(const rxstate *s, uint32_t id)
{
    for (int i = 0; i < s->nanswered; i++)
        if (s->answered[i] == id)
            return 1;
    return 0;
}

/* Look at the requests that arrived since the last call. Returns 1 at the
 * first fresh one (a new id: not a resend of the outstanding request, not an
 * id we answered) when stop_at_fresh, else reads to the end. A malformed
 * header or an answered id stops the scan for good. */
static int scan_requests(rxstate *s, int stop_at_fresh)
{
    if (s->req_off == 0)
        s->req_off = 8;
    while (!s->req_bad && !s->req_reused && s->rx.len > s->req_off) {
        size_t body, flen;
        int rc = spw_frame_parse(s->rx.p + s->req_off, s->rx.len - s->req_off, 0, &body, &flen);
        if (rc != SPW_FRAME_MESSAGE)
            return 0; /* need more, or garbage (judged by analyse) */
        const uint8_t *msg = s->rx.p + s->req_off + 8;
        s->req_off += flen;
        uint32_t id;
        char m[160];
        if (cf_request_id(msg, body, &id)) {
            s->req_bad = 1;
            snprintf(m, sizeof m, "request of %zu bytes without a request id (4 bytes, top bit "
                     "set)", body);
            cf_log_note(s->w, m);
            return 0;
        }
        long now = cf_now_ms(), since = now - s->last_req_ms;
        if (s->outstanding && id == s->last_id) {
            s->last_req_ms = now;
            snprintf(m, sizeof m, "request 0x%08x again: a resend", id);
            cf_log_note(s->w, m);
            continue;
        }
        if (was_answered(s, id)) {
            s->req_reused = 1;
            snprintf(m, sizeof m, "request 0x%08x: an id we already answered", id);
            cf_log_note(s->w, m);
            return 0;
        }
        /* An IUT whose own timer re-requests (a new survey, a retried
         * request with a new id) does so about retry_ms after its last
         * request; one that took an answer asks at once after it. A request
         * that comes at the timer's period and long after our last write is
         * the timer's, not an answer taken. */
        int timer = s->seen_request && s->retry_ms > 0 && since >= s->retry_ms * 3 / 4 &&
                    now - s->last_send_ms >= s->retry_ms / 2;
        s->last_id = id;
        s->outstanding = 1;
        s->seen_request = 1;
        s->last_req_ms = now;
        if (timer) {
            snprintf(m, sizeof m, "request 0x%08x %ld ms after the last: the IUT's own retry "
                     "(about every %d ms), not an answer taken", id, since, s->retry_ms);
            cf_log_note(s->w, m);
            continue;
        }
        snprintf(m, sizeof m, "request 0x%08x", id);
        cf_log_note(s->w, m);
        if (stop_at_fresh)
            return 1;
    }
    return 0;
}

static int done_request(void *ctx)
{
    rxstate *s = ctx;
    return s->rx.len >= 8 && (scan_requests(s, 1) || s->req_bad || s->req_reused);
}

static int done_hs(void *ctx)
{
    rxstate *s = ctx;
    return s->rx.len >= 8 || (s->rx.len > 0 && memcmp(s->rx.p, s->hs_want, s->rx.len) != 0);
}

static int done_echo(void *ctx)
{
    rxstate *s = ctx;
    analyse(s);
    return s->wrong || s->garbage || s->matched >= s->nexpected;
}

/* ------------------------------------------------------------ rendering */

static void render_handshake(const cf_step *s, uint16_t iut, cf_buf *out)
{
    uint8_t h[8];
    int peer = spw_proto_peer(iut);
    if (peer < 0)
        peer = 0;
    uint16_t p = s->hs_sel == CF_HS_PEER      ? (uint16_t)peer
                 : s->hs_sel == CF_HS_SELF    ? iut
                 : s->hs_sel == CF_HS_SWAPPED ? (uint16_t)(((peer & 0xff) << 8) | (peer >> 8))
                                              : s->hs_proto;
    spw_handshake_encode(h, p);
    for (int i = 0; i < 8; i++)
        if (s->hs_byte[i] >= 0)
            h[i] = (uint8_t)s->hs_byte[i];
    cf_buf_add(out, h, (size_t)s->hs_len);
}

static void fill(cf_buf *out, uint64_t n)
{
    uint8_t tmp[4096];
    for (size_t i = 0; i < sizeof tmp; i++)
        tmp[i] = (uint8_t)('a' + i % 26);
    while (n > 0) {
        size_t k = n > sizeof tmp ? sizeof tmp : (size_t)n;
        cf_buf_add(out, tmp, k);
        n -= k;
    }
}

#define CF_BODY_CAP ((uint64_t)64 * 1024 * 1024)

static void render_frame(const cf_step *s, uint64_t limit, cf_buf *out)
{
    uint64_t len = s->has_len ? cf_expr_eval(&s->len, limit) : s->data_len;
    uint8_t h[8];
    spw_frame_encode_header(h, len);
    cf_buf_add(out, h, 8);
    if (s->has_data) {
        cf_buf_add(out, s->data, s->data_len);
        return;
    }
    uint64_t body = s->has_body ? cf_expr_eval(&s->body, limit) : (len <= CF_BODY_CAP ? len : 0);
    if (body > CF_BODY_CAP)
        body = CF_BODY_CAP;
    fill(out, body);
}

/* One message; returns its bytes (without the length) in msg. */
static void render_message(const cf_step *s, uint16_t iut, uint64_t limit, uint32_t reqid, int k,
                           cf_buf *msg)
{
    cf_buf body = {0};
    if (s->has_data)
        cf_buf_add(&body, s->data, s->data_len);
    else if (!s->has_size)
        cf_buf_printf(&body, "spwire-%d", k);
    cf_build_message(msg, iut, reqid, s->hops, s->hdr, s->hdr_len, s->has_hdr, body.p, body.len);
    if (s->has_size) {
        uint64_t want = cf_expr_eval(&s->len, limit);
        if (want > CF_BODY_CAP)
            want = CF_BODY_CAP;
        if (want < msg->len)
            msg->len = (size_t)want;
        else
            fill(msg, want - msg->len);
    }
    cf_buf_free(&body);
}

void cf_render_case(const cf_case *c, uint16_t iut, uint64_t limit, cf_buf *out)
{
    uint32_t reqid = 1;
    for (int i = 0; i < c->nsteps; i++) {
        const cf_step *s = &c->steps[i];
        if (s->conn != 0)
            continue; /* one stream: the first connection's */
        switch (s->kind) {
        case CF_S_SEND_HANDSHAKE:
            render_handshake(s, iut, out);
            break;
        case CF_S_SEND_BYTES:
            cf_buf_add(out, s->data, s->data_len);
            break;
        case CF_S_SEND_FRAME:
            render_frame(s, limit, out);
            break;
        case CF_S_SEND_MESSAGE:
            for (int k = 0; k < s->count; k++) {
                cf_buf m = {0};
                render_message(s, iut, limit, reqid++ | 0x80000000u, k, &m);
                uint8_t h[8];
                spw_frame_encode_header(h, m.len);
                cf_buf_add(out, h, 8);
                cf_buf_add(out, m.p, m.len);
                cf_buf_free(&m);
            }
            break;
        default:
            break;
        }
    }
}

/* ------------------------------------------------------------ teardown */

typedef struct ending {
    int crashed, exited, hung;
    char detail[256];
} ending;

/* Liveness probe for a shared IUT: a fresh connection must still complete
 * the handshake. */
static int probe_alive(const cf_target *t)
{
    int fd = cf_tcp_connect(t->host, t->port, t->timeout_ms);
    if (fd < 0)
        return 0;
    rxstate s = {0};
    spw_handshake_encode(s.hs_want, t->proto);
    int closed = 0;
    uint8_t h[8];
    spw_handshake_encode(h, (uint16_t)spw_proto_peer(t->proto));
    cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL);
    cf_io_read_until(fd, cf_now_ms() + t->timeout_ms, &s.rx, &closed, NULL, done_hs, &s);
    int ok = s.rx.len >= 8 && memcmp(s.rx.p, s.hs_want, 8) == 0;
    close(fd);
    cf_buf_free(&s.rx);
    return ok;
}

static int exit_declared(const cf_target *t, int status)
{
    for (int i = 0; i < t->nexit_ok; i++)
        if (t->exit_ok[i] == status)
            return 1;
    return 0;
}

/* The end of a case for the IUT process. It is first watched for the grace
 * period: what the last event (a close, an over-limit length) does to it may
 * take a moment to show. A process that ended on its own by then crashed
 * (any signal) or exited (any status not declared with --iut-exit-ok); one
 * still running is stopped, and is hung when SIGTERM does not end it. */
static void finish_proc(const cf_target *t, session *ss, ending *e, cf_wire *w)
{
    if (!ss->have_proc) {
        cf_sleep_ms(t->grace_ms);
        if (t->shared && !probe_alive(t)) {
            e->hung = 1;
            snprintf(e->detail, sizeof e->detail,
                     "after this case the IUT at tcp://%s:%d no longer completes a handshake "
                     "(crashed or hung)", t->host, t->port);
        }
        return;
    }
    long grace_end = cf_now_ms() + t->grace_ms;
    int ended = cf_proc_poll(&ss->proc);
    while (!ended && cf_now_ms() < grace_end) {
        cf_sleep_ms(2);
        ended = cf_proc_poll(&ss->proc);
    }
    int killed = ended ? 0 : cf_proc_stop(&ss->proc, t->kill_timeout_ms);
    char st[128];
    cf_proc_describe(&ss->proc, st, sizeof st);
    int sig = cf_proc_signal(&ss->proc);
    if (killed) {
        e->hung = 1;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT did not exit within %d ms of SIGTERM (hung); SIGKILLed", t->kill_timeout_ms);
    } else if (ended && sig) {
        e->crashed = 1;
        snprintf(e->detail, sizeof e->detail, "the IUT process died on its own: %s", st);
    } else if (ended && !exit_declared(t, WEXITSTATUS(ss->proc.status))) {
        e->exited = 1;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT process exited on its own with %s (a panic or an uncaught error "
                 "looks like this; --iut-exit-ok declares a documented exit)", st);
    } else if (!ended && sig && sig != SIGTERM && sig != SIGKILL) {
        e->crashed = 1;
        snprintf(e->detail, sizeof e->detail, "the IUT process died when asked to stop: %s", st);
    }
    char m[200];
    snprintf(m, sizeof m, "IUT process %s%s", ended ? "had ended on its own: " : "stopped: ", st);
    cf_log_note(w, m);
}

/* ------------------------------------------------------------ cases */

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

/* One connection of a case: our end, what came back, what we saw. */
typedef struct side {
    int fd;
    rxstate s;
    cf_obs o;
    int closed, shut;
    uint32_t counter;   /* request ids of the messages we send a responder */
    cf_wire w;
    int outcome, verdict;
} side;

/* The SP header id of the next message on sd: a responder IUT gets fresh
 * request ids; a requesting IUT, in a case that drives it, an answer to its
 * last request. Returns -1 when there is no request to answer yet. */
static int64_t message_id(const cf_case *c, const cf_step *st, side *sd)
{
    if (!c->needs_requester)
        return (int64_t)(sd->counter++ | 0x80000000u);
    if (!sd->s.seen_request)
        return -1;
    uint32_t id = sd->s.last_id;
    if (st->reply_id == CF_ID_OTHER)
        return (int64_t)(id ^ 0x40000000u);
    if (st->reply_id == CF_ID_NOHIBIT)
        return (int64_t)(id & 0x7fffffffu);
    /* a correct answer: a repeat of this id is no longer a resend */
    if (sd->s.outstanding && sd->s.nanswered < CF_MAX_ANSWERED)
        sd->s.answered[sd->s.nanswered++] = id;
    sd->s.outstanding = 0;
    return (int64_t)id;
}

static void render_messages(const cf_target *t, const cf_case *c, const cf_step *st, side *sd,
                            cf_buf *out)
{
    for (int k = 0; k < st->count; k++) {
        int64_t id = message_id(c, st, sd);
        if (id < 0) {
            cf_log_note(&sd->w, "no request from the IUT to answer: message not sent");
            return;
        }
        cf_buf m = {0};
        render_message(st, t->proto, t->recvmax, (uint32_t)id, k, &m);
        uint8_t h[8];
        spw_frame_encode_header(h, m.len);
        cf_buf_add(out, h, 8);
        cf_buf_add(out, m.p, m.len);
        if (c->needs_echo && !st->drop) {
            rxstate *s = &sd->s;
            s->expected = realloc(s->expected, sizeof *s->expected * (size_t)(s->nexpected + 1));
            if (!s->expected)
                abort();
            s->expected[s->nexpected++] = m;
        } else
            cf_buf_free(&m);
    }
}

static int side_done(void *ctx)
{
    side *sd = ctx;
    return sd->s.nexpected > 0 ? done_echo(&sd->s) : 0;
}

/* After the script: watch every connection for the window (ending early
 * once every expected echo is back), then half-close and check that the IUT
 * lets each connection go. */
static void observe(side *sides, int n, int timeout)
{
    long deadline = cf_now_ms() + timeout;
    for (int k = 0; k < n; k++) {
        side *sd = &sides[k];
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
        side *sd = &sides[k];
        sd->o.closed = sd->closed;
        if (sd->fd < 0 || sd->closed)
            continue;
        if (!sd->shut)
            cf_io_shutdown(sd->fd, &sd->w);
        cf_log_note(&sd->w, "end of case: FIN sent, the IUT must close its side");
    }
    long leak_deadline = cf_now_ms() + (timeout < 1000 ? timeout : 1000);
    for (int k = 0; k < n; k++) {
        side *sd = &sides[k];
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

static void judge_side(const cf_target *t, const cf_case *c, int k, side *sd, const ending *e)
{
    rxstate *s = &sd->s;
    cf_obs *o = &sd->o;
    o->crashed = e->crashed;
    o->exited = e->exited;
    o->hung = e->hung;
    analyse(s);
    if (cf_proto_requests(t->proto)) {
        s->w = NULL; /* late requests are judged, not logged out of order */
        scan_requests(s, 0);
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

static void describe_side(const cf_target *t, const side *sd, const ending *e, cf_buf *why)
{
    const cf_obs *o = &sd->o;
    const rxstate *s = &sd->s;
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

int cf_run_case(const cf_target *t, const cf_case *c, cf_result *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    long t0 = cf_now_ms();
    int timeout = c->timeout_ms ? c->timeout_ms : t->timeout_ms;
    int n = c->nconns;
    cf_wire proc_wire = {.text = &r->wire, .t0 = t0};

    {
        cf_buf a = {0};
        for (int k = 0; k < n; k++) {
            int acc[CF_MAX_OUTCOMES * 2];
            int m = cf_resolve_outcomes(c, k, t->proto, acc, CF_MAX_OUTCOMES * 2);
            if (n > 1)
                cf_buf_printf(&a, "%sfd%d: ", k ? "; " : "", k + 1);
            for (int i = 0; i < m; i++)
                cf_buf_printf(&a, "%s%s", i ? " | " : "", cf_outcome_name(acc[i]));
        }
        r->acceptable = (char *)a.p;
    }

    struct cf_pcap *pcap = NULL;
    if (t->pcap_dir) {
        char path[1024], perr[300];
        snprintf(path, sizeof path, "%s/%s.pcap", t->pcap_dir, c->id);
        pcap = cf_pcap_open(path, perr, sizeof perr);
        if (!pcap)
            cf_log_note(&proc_wire, perr);
    }

    session ss;
    if (open_target(t, c->id, n, &ss, &proc_wire)) {
        r->verdict = CF_ERROR;
        r->outcome = -1;
        r->reason = xstrdup(ss.err);
        if (ss.have_proc)
            cf_proc_stop(&ss.proc, t->kill_timeout_ms);
        cf_pcap_close(pcap, NULL, 0);
        r->ms = cf_now_ms() - t0;
        return 0;
    }

    side sides[CF_MAX_CONNS];
    memset(sides, 0, sizeof sides);
    for (int k = 0; k < n; k++) {
        side *sd = &sides[k];
        sd->fd = ss.fds[k];
        sd->counter = 1;
        sd->w = (cf_wire){.text = &r->wire, .t0 = t0, .conn = k, .label = n > 1, .pcap = pcap};
        sd->s.proto = t->proto;
        sd->s.retry_ms = t->retry_ms;
        sd->s.w = &sd->w;
        spw_handshake_encode(sd->s.hs_want, t->proto);
    }
    int batching = 0, gap = 0;
    size_t split = 0;
    cf_buf batch = {0};
    side *cur = &sides[0];

    for (int i = 0; i < c->nsteps; i++) {
        const cf_step *st = &c->steps[i];
        if (st->kind == CF_S_ON) {
            cur = &sides[st->n];
            continue;
        }
        if (cur->fd < 0)
            continue;
        rxstate *s = &cur->s;
        cf_buf out = {0};
        switch (st->kind) {
        case CF_S_SEND_HANDSHAKE:
            render_handshake(st, t->proto, &out);
            break;
        case CF_S_SEND_BYTES:
            cf_buf_add(&out, st->data, st->data_len);
            break;
        case CF_S_SEND_FRAME:
            render_frame(st, t->recvmax, &out);
            break;
        case CF_S_SEND_MESSAGE:
            render_messages(t, c, st, cur, &out);
            break;
        case CF_S_SPLIT:
            split = (size_t)st->n;
            gap = st->gap_ms;
            break;
        case CF_S_PAUSE:
            cf_io_read_until(cur->fd, cf_now_ms() + st->n, &s->rx, &cur->closed, &cur->w, NULL,
                             NULL);
            break;
        case CF_S_BATCH:
            batching = 1;
            break;
        case CF_S_FLUSH:
            batching = 0;
            if (!cur->closed && batch.len) {
                cf_io_write(cur->fd, batch.p, batch.len, split, gap, &s->rx, &cur->closed,
                            &cur->w);
                s->last_send_ms = cf_now_ms();
            }
            batch.len = 0;
            break;
        case CF_S_SHUTDOWN_WRITE:
            cf_io_shutdown(cur->fd, &cur->w);
            cur->shut = 1;
            cf_log_note(&cur->w, "we shut down our write side (FIN)");
            break;
        case CF_S_CLOSE:
            cf_io_close(cur->fd, &cur->w);
            cur->fd = -1;
            cur->o.we_closed = 1;
            cur->closed = 1;
            cf_log_note(&cur->w, "we closed the connection");
            break;
        case CF_S_EXPECT_HANDSHAKE:
            if (cf_io_read_until(cur->fd, cf_now_ms() + timeout, &s->rx, &cur->closed, &cur->w,
                                 done_hs, s) > 0)
                cur->o.hs_timeout = 1;
            break;
        case CF_S_EXPECT_ECHO:
            cf_io_read_until(cur->fd, cf_now_ms() + timeout, &s->rx, &cur->closed, &cur->w,
                             done_echo, s);
            break;
        case CF_S_EXPECT_REQUEST:
            cur->o.req_waits++;
            if (cf_io_read_until(cur->fd, cf_now_ms() + timeout, &s->rx, &cur->closed, &cur->w,
                                 done_request, s) == 0 &&
                !s->req_bad && !s->req_reused)
                cur->o.req_got++;
            break;
        }
        if (out.len) {
            if (batching)
                cf_buf_add(&batch, out.p, out.len);
            else if (!cur->closed && !cur->shut) {
                cf_io_write(cur->fd, out.p, out.len, split, gap, &s->rx, &cur->closed, &cur->w);
                s->last_send_ms = cf_now_ms();
            }
            else if (!cur->o.we_closed)
                cf_log_note(&cur->w, "connection already closed: not sending");
        }
        cf_buf_free(&out);
    }
    cf_buf_free(&batch);

    observe(sides, n, timeout);
    /* Stop the IUT before closing our ends: a close at teardown would be an
     * event the script never asked for (a write into it can SIGPIPE). */
    ending e = {0};
    finish_proc(t, &ss, &e, &proc_wire);
    for (int k = 0; k < n; k++)
        if (sides[k].fd >= 0)
            close(sides[k].fd);
    char perr[300];
    if (cf_pcap_close(pcap, perr, sizeof perr))
        cf_log_note(&proc_wire, perr);

    /* the case's verdict is its worst connection's; that one is reported */
    int worst = 0;
    size_t rx_total = 0;
    for (int k = 0; k < n; k++) {
        judge_side(t, c, k, &sides[k], &e);
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
    if (ss.have_proc && ss.proc.exited && rx_total == 0 && WIFEXITED(ss.proc.status) &&
        (WEXITSTATUS(ss.proc.status) == 127 || WEXITSTATUS(ss.proc.status) == 126)) {
        /* the shell could not run the command: not the IUT's fault */
        r->verdict = CF_ERROR;
        snprintf(e.detail, sizeof e.detail,
                 "the IUT command could not be run (exit status %d from the shell)",
                 WEXITSTATUS(ss.proc.status));
    }

    cf_buf why = {0};
    for (int k = 0; k < n; k++) {
        if (n > 1)
            cf_buf_printf(&why, "%sfd%d: ", k ? "; " : "", k + 1);
        describe_side(t, &sides[k], &e, &why);
        if (e.detail[0])
            break; /* about the process: once is enough */
    }
    r->reason = (char *)why.p;
    if (ss.logpath[0])
        r->iut_log = cf_file_tail(ss.logpath, 1500);
    for (int k = 0; k < n; k++) {
        rxstate *s = &sides[k].s;
        for (int i = 0; i < s->nexpected; i++)
            cf_buf_free(&s->expected[i]);
        free(s->expected);
        cf_buf_free(&s->rx);
    }
    r->ms = cf_now_ms() - t0;
    return 0;
}

/* ------------------------------------------------------------ preflight */

/* Any frame after the first request: a resend or a new request. */
static int done_second_frame(void *ctx)
{
    rxstate *s = ctx;
    return s->rx.len > s->req_off;
}

static void probe_fail(char *err, size_t errlen, const session *ss, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void probe_fail(char *err, size_t errlen, const session *ss, const char *fmt, ...)
{
    cf_buf b = {0};
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cf_buf_printf(&b, "%s", msg);
    char *tail = ss->logpath[0] ? cf_file_tail(ss->logpath, 1200) : NULL;
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
    session ss;
    if (open_target(t, "preflight", 1, &ss, NULL)) {
        if (ss.have_proc)
            cf_proc_stop(&ss.proc, t->kill_timeout_ms);
        probe_fail(err, errlen, &ss, "%s", ss.err);
        return -1;
    }
    int fd = ss.fds[0], closed = 0, rc = 0;
    rxstate s = {0};
    s.proto = t->proto;
    spw_handshake_encode(s.hs_want, t->proto);
    uint8_t h[8];
    spw_handshake_encode(h, (uint16_t)spw_proto_peer(t->proto));
    long t0 = cf_now_ms();
    cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL);
    cf_io_read_until(fd, t0 + t->start_timeout_ms, &s.rx, &closed, NULL, done_hs, &s);
    if (s.rx.len < 8 || memcmp(s.rx.p, s.hs_want, 8) != 0) {
        /* let a dying IUT finish dying, so its status can be told */
        for (long end = cf_now_ms() + 200; ss.have_proc && !cf_proc_poll(&ss.proc) &&
                                           cf_now_ms() < end;)
            cf_sleep_ms(2);
        char st[160] = "";
        if (ss.have_proc && ss.proc.exited) {
            char d[128];
            cf_proc_describe(&ss.proc, d, sizeof d);
            int code = WIFEXITED(ss.proc.status) ? WEXITSTATUS(ss.proc.status) : 0;
            snprintf(st, sizeof st, "; the IUT process ended: %s%s", d,
                     code == 127   ? " (the shell could not find the command)"
                     : code == 126 ? " (the shell could not run the command)"
                                   : "");
        }
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
    } else if (cf_proto_requests(t->proto)) {
        /* Leave the first request unanswered for two windows: an IUT that
         * re-requests by itself within them does so on a timer that the
         * requester cases must not take for an answer. */
        int window = 2 * t->timeout_ms;
        cf_io_read_until(fd, cf_now_ms() + t->timeout_ms, &s.rx, &closed, NULL,
                         done_request, &s);
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
        cf_proc_stop(&ss.proc, t->kill_timeout_ms);
    cf_buf_free(&s.rx);
    return rc;
}

/* ------------------------------------------------------------ raw runs */

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int cf_run_raw(const cf_target *t, const uint8_t *bytes, size_t len, int split, int wait_ms,
               cf_raw_run *out)
{
    memset(out, 0, sizeof *out);
    long t0 = cf_now_ms();
    cf_wire capture = {.t0 = t0}, *w = NULL;
    if (t->pcap_file) {
        capture.pcap = cf_pcap_open(t->pcap_file, out->errmsg, sizeof out->errmsg);
        if (!capture.pcap) {
            out->harness_error = 1;
            return -1;
        }
        w = &capture;
    }
    session ss;
    if (open_target(t, "raw", 1, &ss, w)) {
        cf_pcap_close(capture.pcap, NULL, 0);
        out->harness_error = 1;
        snprintf(out->errmsg, sizeof out->errmsg, "%s", ss.err);
        if (ss.have_proc)
            cf_proc_stop(&ss.proc, t->kill_timeout_ms);
        return -1;
    }
    int fd = ss.fds[0];
    rxstate s = {0};
    spw_handshake_encode(s.hs_want, t->proto);
    int closed = 0;
    cf_io_write(fd, bytes, len, (size_t)split, split ? 1 : 0, &s.rx, &closed, w);
    if (!closed)
        cf_io_read_until(fd, cf_now_ms() + wait_ms, &s.rx, &closed, w, NULL, NULL);
    cf_obs o = {0};
    o.closed = closed;
    if (!closed) {
        cf_io_shutdown(fd, w);
        int lc = 0;
        cf_io_read_until(fd, cf_now_ms() + (wait_ms < 1000 ? 1000 : wait_ms), &s.rx, &lc, w,
                         NULL, NULL);
        if (!lc)
            o.leaked = 1;
    }
    ending e = {0};
    finish_proc(t, &ss, &e, NULL);
    cf_io_close(fd, w);
    if (cf_pcap_close(capture.pcap, out->errmsg, sizeof out->errmsg))
        out->harness_error = 1;
    o.crashed = e.crashed;
    o.exited = e.exited;
    o.hung = e.hung;
    analyse(&s);
    o.hs_have = s.rx.len < 8 ? s.rx.len : 8;
    o.hs_valid = memcmp(s.rx.p ? s.rx.p : (uint8_t *)"", s.hs_want, o.hs_have) == 0;
    o.garbage = s.garbage;
    out->outcome = cf_classify(&o);
    if (out->outcome == CF_O_NO_HANDSHAKE)
        out->outcome = CF_O_OPEN;
    if (e.detail[0])
        snprintf(out->errmsg, sizeof out->errmsg, "%s", e.detail);
    out->nframes = s.frames;
    /* digest of the frames (the messages the IUT sent back, in order) */
    uint64_t h = 0xcbf29ce484222325ULL;
    if (s.rx.len > 8)
        h = fnv(h, s.rx.p + 8, s.rx.len - 8);
    memcpy(out->digest, &h, sizeof h);
    if (s.rx.len > 8)
        cf_buf_add(&out->rx, s.rx.p + 8, s.rx.len - 8);
    cf_buf_free(&s.rx);
    out->ms = cf_now_ms() - t0;
    return 0;
}
