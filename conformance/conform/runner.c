/* spw-conform — run one case script (or a raw byte stream) against a target.
 * All syscalls go through io.c; judging is judge.c's. */
#include "conform.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ connection */

typedef struct conn {
    int fd;
    cf_proc proc;
    int have_proc;
    char logpath[512];
    char err[256];
} conn;

static int open_target(const cf_target *t, const char *tag, conn *cn, cf_buf *log, long t0)
{
    memset(cn, 0, sizeof *cn);
    cn->fd = -1;
    cn->proc.pid = -1;
    if (t->log_dir && tag)
        snprintf(cn->logpath, sizeof cn->logpath, "%s/%s.log", t->log_dir, tag);
    const char *lp = cn->logpath[0] ? cn->logpath : NULL;
    char url[200];
    snprintf(url, sizeof url, "tcp://%s:%d", t->host, t->port);

    if (t->kind == CF_T_EXEC_FD) {
        int sv[2];
        if (cf_socketpair(sv)) {
            snprintf(cn->err, sizeof cn->err, "socketpair: %s", strerror(errno));
            return -1;
        }
        char *cmd = cf_expand(t->exec, sv[1], NULL, t->proto, t->recvmax);
        int rc = cf_spawn(cmd, sv[1], lp, &cn->proc);
        free(cmd);
        close(sv[1]);
        if (rc) {
            close(sv[0]);
            snprintf(cn->err, sizeof cn->err, "fork: %s", strerror(errno));
            return -1;
        }
        cn->have_proc = 1;
        cn->fd = sv[0];
        cf_set_nonblock(cn->fd);
        return 0;
    }
    if (t->kind == CF_T_CONNECT) {
        if (t->exec && !t->shared) {
            char *cmd = cf_expand(t->exec, -1, url, t->proto, t->recvmax);
            int rc = cf_spawn(cmd, -1, lp, &cn->proc);
            free(cmd);
            if (rc) {
                snprintf(cn->err, sizeof cn->err, "fork: %s", strerror(errno));
                return -1;
            }
            cn->have_proc = 1;
        }
        long end = cf_now_ms() + t->start_timeout_ms;
        for (;;) {
            cn->fd = cf_tcp_connect(t->host, t->port, 200);
            if (cn->fd >= 0)
                break;
            if (cn->have_proc && cf_proc_poll(&cn->proc)) {
                snprintf(cn->err, sizeof cn->err, "the IUT exited (status %d) before listening on %s",
                         cn->proc.status, url);
                return -1;
            }
            if (cf_now_ms() > end) {
                snprintf(cn->err, sizeof cn->err, "could not connect to %s within %d ms", url,
                         t->start_timeout_ms);
                return -1;
            }
            cf_sleep_ms(3);
        }
        cf_log_note(log, t0, "connected");
        return 0;
    }
    /* CF_T_LISTEN: we listen, the IUT dials */
    int lfd = cf_tcp_listen(t->host, t->port, NULL);
    if (lfd < 0) {
        snprintf(cn->err, sizeof cn->err, "listen on %s: %s", url, strerror(errno));
        return -1;
    }
    char *cmd = cf_expand(t->exec, -1, url, t->proto, t->recvmax);
    int rc = cf_spawn(cmd, -1, lp, &cn->proc);
    free(cmd);
    if (rc) {
        close(lfd);
        snprintf(cn->err, sizeof cn->err, "fork: %s", strerror(errno));
        return -1;
    }
    cn->have_proc = 1;
    long end = cf_now_ms() + t->start_timeout_ms;
    while ((cn->fd = cf_tcp_accept(lfd, 50)) < 0) {
        if (cf_proc_poll(&cn->proc) || cf_now_ms() > end) {
            snprintf(cn->err, sizeof cn->err, "the IUT did not dial %s within %d ms", url,
                     t->start_timeout_ms);
            close(lfd);
            return -1;
        }
    }
    close(lfd);
    cf_log_note(log, t0, "accepted the IUT's connection");
    return 0;
}

/* ------------------------------------------------------------ rx analysis */

typedef struct rxstate {
    cf_buf rx;
    uint8_t hs_want[8];
    uint16_t proto;
    cf_buf *expected;  /* messages expected back, in order */
    int nexpected;
    int matched, wrong, garbage, frames;
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
                render_message(s, iut, limit, reqid++, k, &m);
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
    int crashed, hung, leaked;
    char detail[256];
} ending;

static void describe_status(const cf_proc *p, char *buf, size_t len)
{
    if (WIFSIGNALED(p->status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(p->status),
                 strsignal(WTERMSIG(p->status)));
    else if (WIFEXITED(p->status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(p->status));
    else
        snprintf(buf, len, "status 0x%x", p->status);
}

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
    cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL, 0);
    cf_io_read_until(fd, cf_now_ms() + t->timeout_ms, &s.rx, &closed, NULL, 0, done_hs, &s);
    int ok = s.rx.len >= 8 && memcmp(s.rx.p, s.hs_want, 8) == 0;
    close(fd);
    cf_buf_free(&s.rx);
    return ok;
}

static void finish_proc(const cf_target *t, conn *cn, ending *e, cf_buf *log, long t0)
{
    if (!cn->have_proc) {
        if (t->shared && !probe_alive(t)) {
            e->hung = 1;
            snprintf(e->detail, sizeof e->detail,
                     "after this case the IUT at tcp://%s:%d no longer completes a handshake "
                     "(crashed or hung)", t->host, t->port);
        }
        return;
    }
    int already = cf_proc_poll(&cn->proc);
    int killed = already ? 0 : cf_proc_stop(&cn->proc, t->kill_timeout_ms);
    char st[128];
    describe_status(&cn->proc, st, sizeof st);
    if (killed) {
        e->hung = 1;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT did not exit within %d ms of SIGTERM (hung); SIGKILLed", t->kill_timeout_ms);
    } else if (cf_proc_crashed(&cn->proc, !already)) {
        e->crashed = 1;
        snprintf(e->detail, sizeof e->detail, "the IUT process died %s: %s",
                 already ? "during the case" : "when asked to stop", st);
    }
    char m[200];
    snprintf(m, sizeof m, "IUT process %s%s", already ? "had already ended: " : "stopped: ", st);
    cf_log_note(log, t0, m);
}

/* ------------------------------------------------------------ cases */

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

int cf_run_case(const cf_target *t, const cf_case *c, cf_result *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    long t0 = cf_now_ms();
    int timeout = c->timeout_ms ? c->timeout_ms : t->timeout_ms;
    cf_buf *log = &r->wire;
    conn cn;

    {
        int acc[CF_MAX_OUTCOMES * 2];
        int n = cf_resolve_outcomes(c, t->proto, acc, CF_MAX_OUTCOMES * 2);
        cf_buf a = {0};
        for (int i = 0; i < n; i++)
            cf_buf_printf(&a, "%s%s", i ? " | " : "", cf_outcome_name(acc[i]));
        r->acceptable = (char *)a.p;
    }

    if (open_target(t, c->id, &cn, log, t0)) {
        r->verdict = CF_ERROR;
        r->outcome = -1;
        r->reason = xstrdup(cn.err);
        if (cn.have_proc)
            cf_proc_stop(&cn.proc, t->kill_timeout_ms);
        r->ms = cf_now_ms() - t0;
        return 0;
    }

    rxstate s = {0};
    s.proto = t->proto;
    spw_handshake_encode(s.hs_want, t->proto);
    cf_obs o = {0};
    int closed = 0, shut = 0, batching = 0;
    size_t split = 0;
    int gap = 0;
    uint32_t reqid = 1;
    cf_buf batch = {0};

    for (int i = 0; i < c->nsteps && cn.fd >= 0; i++) {
        const cf_step *st = &c->steps[i];
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
            for (int k = 0; k < st->count; k++) {
                cf_buf m = {0};
                render_message(st, t->proto, t->recvmax, reqid++, k, &m);
                uint8_t h[8];
                spw_frame_encode_header(h, m.len);
                cf_buf_add(&out, h, 8);
                cf_buf_add(&out, m.p, m.len);
                if (c->needs_echo && !st->drop) {
                    s.expected = realloc(s.expected, sizeof *s.expected * (size_t)(s.nexpected + 1));
                    if (!s.expected)
                        abort();
                    s.expected[s.nexpected++] = m;
                } else
                    cf_buf_free(&m);
            }
            break;
        case CF_S_SPLIT:
            split = (size_t)st->n;
            gap = st->gap_ms;
            break;
        case CF_S_PAUSE:
            cf_io_read_until(cn.fd, cf_now_ms() + st->n, &s.rx, &closed, log, t0, NULL, NULL);
            break;
        case CF_S_BATCH:
            batching = 1;
            break;
        case CF_S_FLUSH:
            batching = 0;
            if (!closed && batch.len)
                cf_io_write(cn.fd, batch.p, batch.len, split, gap, &s.rx, &closed, log, t0);
            batch.len = 0;
            break;
        case CF_S_SHUTDOWN_WRITE:
            shutdown(cn.fd, SHUT_WR);
            shut = 1;
            cf_log_note(log, t0, "we shut down our write side (FIN)");
            break;
        case CF_S_CLOSE:
            close(cn.fd);
            cn.fd = -1;
            o.we_closed = 1;
            closed = 1;
            cf_log_note(log, t0, "we closed the connection");
            break;
        case CF_S_EXPECT_HANDSHAKE:
            if (cf_io_read_until(cn.fd, cf_now_ms() + timeout, &s.rx, &closed, log, t0, done_hs,
                                 &s) > 0)
                o.hs_timeout = 1;
            break;
        case CF_S_EXPECT_ECHO:
            cf_io_read_until(cn.fd, cf_now_ms() + timeout, &s.rx, &closed, log, t0, done_echo, &s);
            break;
        }
        if (out.len) {
            if (batching)
                cf_buf_add(&batch, out.p, out.len);
            else if (!closed && !shut)
                cf_io_write(cn.fd, out.p, out.len, split, gap, &s.rx, &closed, log, t0);
            else if (!o.we_closed)
                cf_log_note(log, t0, "connection already closed: not sending");
        }
        cf_buf_free(&out);
    }
    cf_buf_free(&batch);

    /* observation window */
    if (cn.fd >= 0 && !closed) {
        if (s.nexpected > 0) {
            cf_io_read_until(cn.fd, cf_now_ms() + timeout, &s.rx, &closed, log, t0, done_echo, &s);
            cf_io_read_until(cn.fd, cf_now_ms() + 20, &s.rx, &closed, log, t0, NULL, NULL);
        } else {
            cf_io_read_until(cn.fd, cf_now_ms() + timeout, &s.rx, &closed, log, t0, NULL, NULL);
        }
    }
    o.closed = closed;
    /* leak check: after our FIN the IUT must let the connection go */
    if (cn.fd >= 0 && !closed) {
        if (!shut)
            shutdown(cn.fd, SHUT_WR);
        cf_log_note(log, t0, "end of case: FIN sent, the IUT must close its side");
        int lc = 0;
        int wait = timeout < 1000 ? timeout : 1000;
        cf_io_read_until(cn.fd, cf_now_ms() + wait, &s.rx, &lc, log, t0, NULL, NULL);
        if (!lc)
            o.leaked = 1;
    }
    if (cn.fd >= 0)
        close(cn.fd);

    ending e = {0};
    finish_proc(t, &cn, &e, log, t0);
    o.crashed = e.crashed;
    o.hung = e.hung;

    analyse(&s);
    o.hs_have = s.rx.len < 8 ? s.rx.len : 8;
    o.hs_valid = memcmp(s.rx.p ? s.rx.p : (uint8_t *)"", s.hs_want, o.hs_have) == 0;
    o.expected = s.nexpected;
    o.matched = s.matched;
    o.wrong = s.wrong;
    o.garbage = s.garbage;
    r->outcome = cf_classify(&o);
    r->verdict = cf_verdict(c, t->proto, r->outcome, 0);
    if (cn.have_proc && cn.proc.exited && s.rx.len == 0 && WIFEXITED(cn.proc.status) &&
        (WEXITSTATUS(cn.proc.status) == 127 || WEXITSTATUS(cn.proc.status) == 126)) {
        /* the shell could not run the command: not the IUT's fault */
        r->verdict = CF_ERROR;
        snprintf(e.detail, sizeof e.detail,
                 "the IUT command could not be run (exit status %d from the shell)",
                 WEXITSTATUS(cn.proc.status));
    }

    cf_buf why = {0};
    cf_buf_printf(&why, "saw %s", cf_outcome_name(r->outcome));
    if (e.detail[0])
        cf_buf_printf(&why, ": %s", e.detail);
    else if (o.leaked)
        cf_buf_printf(&why, ": the IUT kept the connection open after our FIN");
    else if (r->outcome == CF_O_BAD_HANDSHAKE) {
        cf_buf_printf(&why, ": the IUT sent");
        for (size_t i = 0; i < o.hs_have; i++)
            cf_buf_printf(&why, " %02x", s.rx.p[i]);
        cf_buf_printf(&why, ", a valid %s header is", spw_proto_name(t->proto));
        for (int i = 0; i < 8; i++)
            cf_buf_printf(&why, " %02x", s.hs_want[i]);
    } else if (s.nexpected)
        cf_buf_printf(&why, " (%d of %d messages echoed, %d frames received)", s.matched,
                      s.nexpected, s.frames);
    else if (r->outcome == CF_O_NO_HANDSHAKE)
        cf_buf_printf(&why, " (%zu of 8 handshake bytes from the IUT)", o.hs_have);
    r->reason = (char *)why.p;
    if (cn.logpath[0])
        r->iut_log = cf_file_tail(cn.logpath, 1500);
    for (int i = 0; i < s.nexpected; i++)
        cf_buf_free(&s.expected[i]);
    free(s.expected);
    cf_buf_free(&s.rx);
    r->ms = cf_now_ms() - t0;
    return 0;
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
    conn cn;
    if (open_target(t, "raw", &cn, NULL, t0)) {
        out->harness_error = 1;
        snprintf(out->errmsg, sizeof out->errmsg, "%s", cn.err);
        if (cn.have_proc)
            cf_proc_stop(&cn.proc, t->kill_timeout_ms);
        return -1;
    }
    rxstate s = {0};
    spw_handshake_encode(s.hs_want, t->proto);
    int closed = 0;
    cf_io_write(cn.fd, bytes, len, (size_t)split, split ? 1 : 0, &s.rx, &closed, NULL, t0);
    if (!closed)
        cf_io_read_until(cn.fd, cf_now_ms() + wait_ms, &s.rx, &closed, NULL, t0, NULL, NULL);
    cf_obs o = {0};
    o.closed = closed;
    if (!closed) {
        shutdown(cn.fd, SHUT_WR);
        int lc = 0;
        cf_io_read_until(cn.fd, cf_now_ms() + (wait_ms < 1000 ? 1000 : wait_ms), &s.rx, &lc,
                         NULL, t0, NULL, NULL);
        if (!lc)
            o.leaked = 1;
    }
    close(cn.fd);
    ending e = {0};
    finish_proc(t, &cn, &e, NULL, t0);
    o.crashed = e.crashed;
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
