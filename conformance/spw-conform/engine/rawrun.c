/* spw-conform engine — raw runs, fresh and persistent (rawrun.h). */
#include "rawrun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "spw_ctl.h"
#include "conn.h"
#include "iut.h"
#include "judge.h"
#include "pcap.h"
#include "session.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "wire.h"

/* What the IUT printed is kept up to this much per input. */
#define CF_LOG_KEEP (64 * 1024)

void cf_raw_run_free(cf_raw_run *r)
{
    cf_buf_free(&r->rx);
    cf_buf_free(&r->leaked_input);
    free(r->log);
    r->log = NULL;
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Watch the connection after our last write until the IUT closed, the
 * deadline, or — with t->quiet_us, once the IUT's header is in — quiet_us
 * without a byte: an IUT that answered and then said nothing more will
 * not change the outcome by being watched longer (a crash is seen in its
 * process, a close after our FIN on the watched connection). */
static int done_header_in(void *ctx)
{
    return ((const cf_rx *)ctx)->rx.len >= 8;
}

static void observe(const cf_target *t, int fd, long deadline, cf_rx *s, int *closed, cf_wire *w)
{
    if (!t->quiet_us || s->rx.len < 8)
        cf_io_read_until(fd, deadline, &s->rx, closed, w, t->quiet_us ? done_header_in : NULL, s);
    if (t->quiet_us && s->rx.len >= 8)
        cf_io_read_quiet(fd, deadline, t->quiet_us, &s->rx, closed, w);
}

/* The exchange on one connection: write, observe, half-close, and see
 * whether the IUT lets the connection go (leaked when not). */
/* until the IUT has sent reset_at bytes after its header */
struct reset_point {
    const cf_rx *s;
    long at;
};

static int done_reset_point(void *ctx)
{
    const struct reset_point *r = ctx;
    return r->s->rx.len >= 8 + (size_t)r->at;
}

/* The exchange on one connection: write, observe, then end as planned —
 * half-close and (wait_close) see whether the IUT lets the connection go,
 * leaked when not; or reset once the IUT has sent plan->reset_at bytes. *fd
 * is -1 after a reset. */
static void exchange(const cf_target *t, int *fd_io, const uint8_t *bytes, size_t len,
                     const cf_send_plan *plan, int wait_ms, int wait_close, cf_wire *w, cf_rx *s,
                     cf_obs *o, cf_raw_run *out)
{
    int closed = 0, fd = *fd_io, split = plan->split;
    /* split writes follow each other at once: separate segments (TCP_NODELAY), and a
     * reader that is slower than the writer sees them together, as on a real network */
    cf_io_write(fd, bytes, len, (size_t)split, 0, &s->rx, &closed, w);
    if (wait_close) /* a fresh IUT: the window opens once it has spoken */
        cf_rx_wait_first(fd, s, &closed, w, t->start_timeout_ms);
    long sent = cf_now_ms();
    out->close_ms = -1;
    if (plan->reset_at >= 0 && !closed) {
        struct reset_point rp = {s, plan->reset_at};
        /* An IUT that went quiet after its header will not reach the reset
         * point: reset then (it is not writing), rather than wait the whole
         * window — an input that truncates its own frame cost 200 ms. */
        if (t->quiet_us) {
            cf_io_read_until(fd, sent + wait_ms, &s->rx, &closed, w, done_header_in, s);
            if (!closed && s->rx.len >= 8)
                cf_io_read_until_quiet(fd, sent + wait_ms, t->quiet_us, &s->rx, &closed, w,
                                       done_reset_point, &rp);
        } else {
            cf_io_read_until(fd, sent + wait_ms, &s->rx, &closed, w, done_reset_point, &rp);
        }
        if (!closed) {
            cf_io_reset(fd, w);
            *fd_io = -1;
            o->we_closed = 1;
            o->closed = 1;
            return;
        }
    }
    if (!closed)
        observe(t, fd, sent + wait_ms, s, &closed, w);
    o->closed = closed;
    if (closed) {
        out->iut_closed = closed;
        out->close_ms = cf_now_ms() - sent;
        return;
    }
    cf_io_shutdown(fd, w);
    if (!wait_close)
        return;
    int lc = 0;
    cf_io_read_until(fd, cf_now_ms() + (wait_ms < 1000 ? 1000 : wait_ms), &s->rx, &lc, w, NULL,
                     NULL);
    if (!lc)
        o->leaked = 1;
}

/* Outcome and behaviour from what came back (and how the process ended). */
static void judge_raw(cf_rx *s, cf_obs *o, const cf_ending *e, cf_raw_run *out)
{
    o->crashed = e->crashed;
    o->exited = e->exited;
    o->hung = e->hung;
    cf_rx_analyse(s);
    o->hs_have = s->rx.len < 8 ? s->rx.len : 8;
    o->hs_valid = memcmp(s->rx.p ? s->rx.p : (uint8_t *)"", s->hs_want, o->hs_have) == 0;
    o->garbage = s->garbage;
    out->outcome = cf_classify(o);
    if (out->outcome == CF_O_NO_HANDSHAKE)
        out->outcome = CF_O_OPEN;
    out->hs = !o->hs_valid ? 2 : o->hs_have == 8 ? 1 : 0;
    if (e->detail[0])
        snprintf(out->errmsg, sizeof out->errmsg, "%s", e->detail);
    out->nframes = s->frames;
    out->digest = 0xcbf29ce484222325ULL;
    if (s->rx.len > 8) {
        out->digest = fnv(out->digest, s->rx.p + 8, s->rx.len - 8);
        cf_buf_add(&out->rx, s->rx.p + 8, s->rx.len - 8);
    }
}

/* The bytes of path from *off on (at most CF_LOG_KEEP, the newest), and
 * *off moved to the end; NULL when there are none. */
static char *read_log_from(const char *path, long *off)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *b = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > *off) {
        long from = st.st_size - *off > CF_LOG_KEEP ? st.st_size - CF_LOG_KEEP : *off;
        size_t n = (size_t)(st.st_size - from);
        b = malloc(n + 1);
        if (!b)
            abort();
        ssize_t got = pread(fd, b, n, from);
        b[got > 0 ? got : 0] = 0;
        *off = st.st_size;
        if (got <= 0) {
            free(b);
            b = NULL;
        }
    }
    close(fd);
    return b;
}

int cf_run_raw(const cf_target *t, const uint8_t *bytes, size_t len, const cf_send_plan *plan,
               int wait_ms, cf_raw_run *out)
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
    cf_iut ss;
    if (cf_iut_open(t, "raw", 1, &ss, w)) {
        cf_pcap_close(capture.pcap, NULL, 0);
        out->harness_error = 1;
        snprintf(out->errmsg, sizeof out->errmsg, "%s", ss.err);
        if (ss.have_proc)
            spw_proc_stop(&ss.proc, t->kill_timeout_ms);
        return -1;
    }
    int fd = ss.fds[0];
    cf_rx s;
    cf_rx_init(&s, t->proto, &t->driver->framing, NULL);
    cf_obs o = {0};
    exchange(t, &fd, bytes, len, plan, wait_ms, 1, w, &s, &o, out);
    cf_ending e = {0};
    cf_iut_finish(t, &ss, &e, NULL);
    if (fd >= 0)
        cf_io_close(fd, w);
    if (cf_pcap_close(capture.pcap, out->errmsg, sizeof out->errmsg))
        out->harness_error = 1;
    judge_raw(&s, &o, &e, out);
    cf_rx_free(&s);
    if (ss.logpath[0]) {
        long off = 0;
        out->log = read_log_from(ss.logpath, &off);
    }
    out->ms = cf_now_ms() - t0;
    return 0;
}

/* ------------------------------------------------------------ persistent */

/* Connections watched for their close at once; with more, the run waits
 * for the oldest. */
#define CF_WATCH_MAX 64

struct cf_persist {
    const cf_target *t;   /* &tt */
    cf_target tt;         /* the run's target, with this IUT's own address */
    spw_proc proc;
    int have_proc;  /* the tool started it (not a shared IUT) */
    int running;    /* started and not known to have ended */
    int fresh;      /* no connection made since the (re)start */
    int ctl;        /* exec-fd: our end of {ctl}, else -1 */
    int lfd;        /* --listen: our listening socket, else -1 */
    long starts;
    /* connections after our FIN, waiting for the IUT's close */
    struct watched {
        int fd;
        long deadline;
        cf_send_plan plan;
        cf_buf input;
    } watched[CF_WATCH_MAX];
    int nwatched;
    cf_buf pending_leak;  /* found while waiting for room to watch */
    cf_send_plan pending_plan;
    char logdir_tag[480]; /* LOG_DIR/TAG: each start logs to LOG_DIR/TAG.N.log */
    char logpath[512];    /* the running process's log */
    long log_off;         /* what earlier inputs already took of it */
};

int cf_persist_possible(const cf_target *t)
{
    return t->kind != CF_T_EXEC_FD || t->ctl;
}

cf_persist *cf_persist_new(const cf_target *t, const char *tag)
{
    cf_persist *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->tt = *t;
    p->t = &p->tt;
    p->ctl = p->lfd = -1;
    p->proc.pid = -1;
    if (t->log_dir)
        snprintf(p->logdir_tag, sizeof p->logdir_tag, "%s/%s", t->log_dir, tag);
    return p;
}

long cf_persist_starts(const cf_persist *p)
{
    return p->starts;
}

static void unwatch(cf_persist *p, int i)
{
    close(p->watched[i].fd);
    cf_buf_free(&p->watched[i].input);
    p->watched[i] = p->watched[--p->nwatched];
}

static void persist_stop(cf_persist *p)
{
    if (p->have_proc)
        spw_proc_stop(&p->proc, p->t->kill_timeout_ms);
    if (p->ctl >= 0)
        close(p->ctl);
    if (p->lfd >= 0) {
        close(p->lfd);
        if (p->t->driver->cleanup)
            p->t->driver->cleanup(&p->t->addr);
    }
    p->ctl = p->lfd = -1;
    p->have_proc = p->running = 0;
    /* the process is gone: its connections with it, none of them a leak */
    while (p->nwatched)
        unwatch(p, 0);
}

/* Start the IUT process (none for a shared IUT), logging to a file of its
 * own: a restart keeps what the ended process printed. */
static int persist_start(cf_persist *p, char *err, size_t errlen)
{
    const cf_target *t = p->t;
    if (cf_target_fresh_addr(&p->tt)) {
        snprintf(err, errlen, "no free port on %.100s", t->addr.host);
        return -1;
    }
    p->logpath[0] = 0;
    p->log_off = 0;
    if (p->logdir_tag[0] && !t->shared)
        snprintf(p->logpath, sizeof p->logpath, "%s.%ld.log", p->logdir_tag, p->starts + 1);
    const char *lp = p->logpath[0] ? p->logpath : NULL;
    int keep = -1, nkeep = 0, ctl[2] = {-1, -1};
    if (t->kind == CF_T_EXEC_FD) {
        if (cf_socketpair(ctl)) {
            snprintf(err, errlen, "socketpair: %s", strerror(errno));
            return -1;
        }
        keep = ctl[1];
        nkeep = 1;
        p->ctl = ctl[0];
    } else if (t->kind == CF_T_LISTEN) {
        p->lfd = t->driver->listen(&t->addr);
        if (p->lfd < 0) {
            snprintf(err, errlen, "listen on %.200s: %s", t->addr.url, strerror(errno));
            return -1;
        }
    }
    p->running = p->fresh = 1;
    p->starts++;
    if (t->shared)
        return 0;
    char *cmd = cf_target_command(t, NULL, 0, keep);
    int rc = cf_iut_spawn(cmd, nkeep ? &keep : NULL, nkeep, lp, &p->proc);
    free(cmd);
    if (ctl[1] >= 0)
        close(ctl[1]);
    if (rc) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        persist_stop(p);
        return -1;
    }
    p->have_proc = 1;
    return 0;
}

/* A new connection to the running IUT, non-blocking; -1 when none came
 * (the process ended, or did not listen / dial / take the fd in time). */
static int persist_connect(cf_persist *p)
{
    const cf_target *t = p->t;
    if (t->kind == CF_T_EXEC_FD) {
        int sv[2];
        if (cf_socketpair(sv))
            return -1;
        int rc = spw_ctl_send(p->ctl, sv[1]);
        close(sv[1]);
        if (rc) {
            close(sv[0]);
            return -1;
        }
        cf_set_nonblock(sv[0]);
        return sv[0];
    }
    long end = cf_now_ms() + (p->fresh ? t->start_timeout_ms : t->timeout_ms);
    for (;;) {
        int fd = t->kind == CF_T_LISTEN ? cf_accept(p->lfd, 20) : t->driver->connect(&t->addr, 200);
        if (fd >= 0)
            return fd;
        if ((p->have_proc && spw_proc_poll(&p->proc)) || cf_now_ms() > end)
            return -1;
        if (t->kind != CF_T_LISTEN)
            cf_sleep_ms(2);
    }
}

/* Does the running IUT still answer a fresh connection with its header?
 * Three tries: an implementation may lose or refuse one connection (NNG
 * 1.10.1 drops fds handed to it close together, F3; its pair refuses one
 * while the last pipe is torn down) without having stopped answering. */
static int persist_alive(cf_persist *p)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = persist_connect(p);
        if (fd < 0)
            return 0;
        cf_rx s;
        cf_rx_init(&s, p->t->proto, &p->t->driver->framing, NULL);
        int closed = 0;
        uint8_t h[8];
        spw_handshake_encode(h, (uint16_t)spw_proto_peer(p->t->proto));
        cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL);
        cf_io_read_until(fd, cf_now_ms() + p->t->timeout_ms, &s.rx, &closed, NULL,
                         cf_rx_done_handshake, &s);
        int ok = s.rx.len >= 8 && memcmp(s.rx.p, s.hs_want, 8) == 0;
        close(fd);
        cf_rx_free(&s);
        if (ok)
            return 1;
    }
    return 0;
}

/* After an input: did the process end, or does it no longer answer? */
static void persist_check(cf_persist *p, const cf_rx *s, cf_ending *e)
{
    const cf_target *t = p->t;
    int ended = p->have_proc && spw_proc_poll(&p->proc);
    if (!ended && s->rx.len < 8 && !persist_alive(p)) {
        /* A dying process closes its descriptors (EPIPE on ctl, a refused
         * connect) before it can be waited for, and NNG's many threads make
         * that gap long enough to be met: one that stops answering gets
         * --kill-timeout to end before it counts as wedged. Polling once
         * called such deaths (F6's SIGPIPE) hangs no input reproduced. */
        ended = p->have_proc && spw_proc_wait(&p->proc, t->kill_timeout_ms);
        if (!ended) {
            e->hung = 1;
            snprintf(e->detail, sizeof e->detail,
                     "the IUT no longer completes a handshake on a new connection (3 tried: "
                     "wedged)%s",
                     p->have_proc ? "; stopped" : "");
            persist_stop(p);
            return;
        }
    }
    if (ended) {
        cf_iut_judge_end(t, &p->proc, 1, 0, e);
        char st[128];
        spw_proc_describe(&p->proc, st, sizeof st);
        cf_iut_judge_report(p->logpath, st, e);
        if (!e->crashed && !e->exited)
            snprintf(e->detail, sizeof e->detail, "the IUT process ended (a declared exit)");
        persist_stop(p);
    }
}


/* Look at the watched connections: closed ones are done; one whose window
 * ended is a leak (the first into *leak, 1 returned). block: wait for the
 * oldest's close or window. */
static int reap(cf_persist *p, int block, cf_buf *leak, cf_send_plan *plan)
{
    if (block && p->nwatched) {
        int oldest = 0;
        for (int i = 1; i < p->nwatched; i++)
            if (p->watched[i].deadline < p->watched[oldest].deadline)
                oldest = i;
        cf_buf junk = {0};
        int closed = 0;
        cf_io_read_until(p->watched[oldest].fd, p->watched[oldest].deadline, &junk, &closed, NULL,
                         NULL, NULL);
        cf_buf_free(&junk);
    }
    long now = cf_now_ms();
    for (int i = 0; i < p->nwatched;) {
        struct watched *x = &p->watched[i];
        uint8_t tmp[4096];
        ssize_t n;
        while ((n = read(x->fd, tmp, sizeof tmp)) > 0) {
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            unwatch(p, i);
            continue;
        }
        if (now >= x->deadline && leak && !leak->len) {
            *leak = x->input;
            *plan = x->plan;
            memset(&x->input, 0, sizeof x->input);
            unwatch(p, i);
            return 1;
        }
        i++;
    }
    return 0;
}

static void watch(cf_persist *p, int fd, const uint8_t *bytes, size_t len,
                  const cf_send_plan *plan, int wait_ms)
{
    /* full: wait for the oldest; a leak found so is reported by the next run */
    while (p->nwatched == CF_WATCH_MAX && !p->pending_leak.len)
        reap(p, 1, &p->pending_leak, &p->pending_plan);
    if (p->nwatched == CF_WATCH_MAX) {
        close(fd); /* one leak already waits to be reported: this one is not watched */
        return;
    }
    struct watched *x = &p->watched[p->nwatched++];
    memset(x, 0, sizeof *x);
    x->fd = fd;
    x->deadline = cf_now_ms() + (wait_ms < 1000 ? 1000 : wait_ms);
    x->plan = *plan;
    cf_buf_add(&x->input, bytes, len);
}

int cf_persist_drain(cf_persist *p, cf_buf *input, cf_send_plan *plan)
{
    memset(input, 0, sizeof *input);
    if (p->pending_leak.len) {
        *input = p->pending_leak;
        *plan = p->pending_plan;
        memset(&p->pending_leak, 0, sizeof p->pending_leak);
        return 1;
    }
    while (p->nwatched) {
        if (reap(p, 0, input, plan))
            return 1;
        if (reap(p, 1, input, plan))
            return 1;
    }
    return 0;
}

int cf_persist_run(cf_persist *p, const uint8_t *bytes, size_t len, const cf_send_plan *plan,
                   int wait_ms, cf_raw_run *out)
{
    const cf_target *t = p->t;
    memset(out, 0, sizeof *out);
    long t0 = cf_now_ms();
    if (p->pending_leak.len) {
        out->leaked_input = p->pending_leak;
        out->leaked_plan = p->pending_plan;
        memset(&p->pending_leak, 0, sizeof p->pending_leak);
    } else
        reap(p, 0, &out->leaked_input, &out->leaked_plan);
    if (!p->running && persist_start(p, out->errmsg, sizeof out->errmsg)) {
        out->harness_error = 1;
        return -1;
    }
    int fd = persist_connect(p);
    cf_rx s;
    cf_rx_init(&s, t->proto, &t->driver->framing, NULL);
    cf_obs o = {0};
    cf_ending e = {0};
    if (fd < 0) {
        if (p->fresh) {
            char st[224];
            cf_iut_ended_note(&p->proc, p->have_proc, st, sizeof st);
            snprintf(out->errmsg, sizeof out->errmsg, "the IUT was started but never took a "
                     "connection within %d ms (--start-timeout)%.150s", t->start_timeout_ms, st);
            out->harness_error = 1;
            persist_stop(p);
            cf_rx_free(&s);
            return -1;
        }
        /* it took connections before: it ended or stopped accepting */
        persist_check(p, &s, &e);
        if (!e.crashed && !e.exited && !e.hung) {
            e.hung = 1;
            snprintf(e.detail, sizeof e.detail, "the IUT no longer takes connections; stopped");
            persist_stop(p);
        }
    } else {
        p->fresh = 0;
        exchange(t, &fd, bytes, len, plan, wait_ms, 0, NULL, &s, &o, out);
        if (fd >= 0 && o.closed)
            close(fd);
        else if (fd >= 0)
            watch(p, fd, bytes, len, plan, wait_ms);
        persist_check(p, &s, &e);
    }
    out->iut_ended = e.crashed || e.exited || e.hung || !p->running;
    judge_raw(&s, &o, &e, out);
    cf_rx_free(&s);
    if (p->logpath[0])
        out->log = read_log_from(p->logpath, &p->log_off);
    out->ms = cf_now_ms() - t0;
    return 0;
}

void cf_persist_free(cf_persist *p)
{
    if (!p)
        return;
    persist_stop(p);
    cf_buf_free(&p->pending_leak);
    free(p);
}
