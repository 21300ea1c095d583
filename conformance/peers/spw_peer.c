/* spw_peer.c -- spw-peer, the command-line SP peer on spwire (the
 * counterpart of nngcat), with the same options and JSON-lines events as the
 * reference peers.
 *
 * spwire is listener-only, so every endpoint ends as a connected fd handed
 * to a socket:// listener: --fd N as is, --tcp-connect after connect(2),
 * --tcp-listen for each connection accept(2) returns.
 *
 * spwire moves frames; the SP protocol headers are this program's job:
 *   req/surveyor  send a request id (high bit set) in front of each request,
 *                 accept only replies carrying the id they wait for;
 *   rep/respondent  strip the backtrace of each request and put it back in
 *                 front of the reply, which goes to the pipe it came from;
 *   pair1         a hop count word (1 when sent, checked against the ttl);
 *   others        no header.
 * A malformed header closes that pipe ("rem" with EPROTO and the reason); a
 * message over the hop limit is dropped ("drop" with the reason). Unlike the
 * NNG peers, "rem" here always says why the pipe went away.
 *
 * Extra events: {"event":"handshake-failed","total":N} when the listener's
 * SPW_OPT_HANDSHAKE_FAILURES count grows (a peer sent a bad or mismatched
 * header, or timed out); {"event":"drop","reason":..} as above.
 * --fd may be repeated: every fd goes to the one listener; so does every fd
 * that arrives on --ctl, which is read in the same poll loop (the listener
 * has no locks: one thread).  --wait-close MS
 * (spw-peer only) waits for the peers to close every pipe.
 */
#define _POSIX_C_SOURCE 200809L
#include "peer_cli.h"
#include "spw_ctl.h"
#include "peer_driver.h"
#include "peer_events.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spwire/spwire.h"

#define MAX_PIPES 64

struct peer_pipe {
    spw_pipe *p;
};

struct spw_peer {
    const spw_peer_opts *o;
    const char *prog; /* for the stderr lines of --ctl */
    spw_listener *l;
    int listen_fd; /* --tcp-listen, else -1 */
    int ctl_fd;    /* --ctl until its EOF, else -1 */
    struct peer_pipe pipes[MAX_PIPES];
    int npipes;
    int rr; /* round robin for push */
    uint32_t next_id;
    uint32_t want_id; /* req/surveyor: the id we wait for, 0 none */
    /* rep/respondent: the request being answered. */
    uint8_t btrace[4 * SPW_TTL_MAX];
    size_t btrace_len;
    spw_pipe *reply_to;
    int hs_failures; /* SPW_OPT_HANDSHAKE_FAILURES already reported */
    char detail[160];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t l = deadline - now_ms();
    return l <= 0 ? 0 : (int)(l > 1000000 ? 1000000 : l);
}

static int fail(spw_peer_err *err, int code, const char *detail)
{
    err->name = spw_errname(code);
    err->detail = detail ? detail : spw_strerror(code);
    return -1;
}

static void emit_add(struct spw_peer *sp, spw_pipe *p)
{
    spw_ev_line l;
    int peer = 0;
    uint64_t v;
    spw_pipe_get_int(p, SPW_OPT_PEER, &peer);
    spw_ev_begin(&l, "add");
    spw_ev_str(&l, "peer_proto", spw_proto_name((uint16_t)peer));
    if (spw_pipe_get_u64(p, SPW_OPT_PEER_PID, &v) == SPW_OK)
        spw_ev_uint(&l, "peer_pid", v);
    if (spw_pipe_get_u64(p, SPW_OPT_PEER_UID, &v) == SPW_OK)
        spw_ev_uint(&l, "peer_uid", v);
    if (spw_pipe_get_u64(p, SPW_OPT_PEER_GID, &v) == SPW_OK)
        spw_ev_uint(&l, "peer_gid", v);
    spw_ev_end(&l);
    (void)sp;
}

static void emit_rem(int code, const char *detail)
{
    spw_ev_line l;
    spw_ev_begin(&l, "rem");
    spw_ev_str(&l, "error", spw_errname(code));
    spw_ev_str(&l, "detail", detail ? detail : spw_strerror(code));
    spw_ev_end(&l);
}

static void emit_drop(const char *reason)
{
    spw_ev_line l;
    spw_ev_begin(&l, "drop");
    spw_ev_str(&l, "reason", reason);
    spw_ev_end(&l);
}

static void remove_pipe(struct spw_peer *sp, int i, int code, const char *detail)
{
    if (sp->reply_to == sp->pipes[i].p)
        sp->reply_to = NULL;
    spw_pipe_close(sp->pipes[i].p);
    sp->pipes[i] = sp->pipes[--sp->npipes];
    emit_rem(code, detail);
}

/* A new connection for the listener; op names its source in the error
 * event when the listener refuses it. */
static void hand_fd(struct spw_peer *sp, int fd, const char *op)
{
    int rc = spw_listener_set_int(sp->l, SPW_OPT_SOCKET_FD, fd);
    if (rc != SPW_OK) {
        spw_ev_error(op, spw_errname(rc), spw_strerror(rc));
        close(fd);
    }
}

/* 1 when ctl should be read now: the connections still in their handshake
 * leave room, so the listener's SPW_ENOSPC is never reached; the rest wait
 * in ctl's socket buffer. */
static int ctl_ready(const struct spw_peer *sp)
{
    return sp->ctl_fd >= 0 && spw_listener_pending(sp->l) < SPW_PENDING_MAX_DEFAULT;
}

/* Take every pipe whose handshake finished; hand new TCP and ctl connections
 * to the listener first. Never blocks. */
static void service(struct spw_peer *sp)
{
    if (sp->listen_fd >= 0) {
        int fd;
        while ((fd = accept(sp->listen_fd, NULL, NULL)) >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            hand_fd(sp, fd, "accept");
        }
    }
    while (ctl_ready(sp)) {
        int fd, r = spw_ctl_recv(sp->ctl_fd, 1, sp->prog, &fd);
        if (r == SPW_CTL_FD) {
            hand_fd(sp, fd, "ctl");
        } else if (r == SPW_CTL_EOF) {
            close(sp->ctl_fd);
            sp->ctl_fd = -1;
        } else if (r == SPW_CTL_AGAIN) {
            break;
        }
    }
    while (spw_listener_pending(sp->l) > 0 && sp->npipes < MAX_PIPES) {
        spw_pipe *p;
        if (spw_listener_accept(sp->l, &p, 0) != SPW_OK)
            break;
        sp->pipes[sp->npipes++].p = p;
        emit_add(sp, p);
    }
    int failures = 0;
    if (spw_listener_get_int(sp->l, SPW_OPT_HANDSHAKE_FAILURES, &failures) == SPW_OK &&
        failures > sp->hs_failures) {
        spw_ev_line l;
        sp->hs_failures = failures;
        spw_ev_begin(&l, "handshake-failed");
        spw_ev_int(&l, "total", failures);
        spw_ev_end(&l);
    }
}

/* Wait up to the deadline for something to do: a readable pipe, a new
 * connection, or a handshake in progress (which only accept can drive, so
 * it is polled in short slices). */
static void wait_activity(struct spw_peer *sp, int64_t deadline)
{
    struct pollfd pfd[MAX_PIPES + 2];
    int n = 0;
    for (int i = 0; i < sp->npipes; i++) {
        if (spw_pipe_buffered(sp->pipes[i].p) > 0)
            return;
        pfd[n++] = (struct pollfd){.fd = spw_pipe_fd(sp->pipes[i].p), .events = POLLIN};
    }
    if (sp->listen_fd >= 0)
        pfd[n++] = (struct pollfd){.fd = sp->listen_fd, .events = POLLIN};
    if (ctl_ready(sp))
        pfd[n++] = (struct pollfd){.fd = sp->ctl_fd, .events = POLLIN};
    int t = left_ms(deadline);
    if (spw_listener_pending(sp->l) > 0 && (t < 0 || t > 5))
        t = 5;
    if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
        spw_ev_error("poll", "ESYSERR", strerror(errno));
}

static int any_source(const struct spw_peer *sp)
{
    return sp->npipes > 0 || sp->listen_fd >= 0 || sp->ctl_fd >= 0 ||
           spw_listener_pending(sp->l) > 0;
}

/* Nothing to hand out yet: fail when nothing can ever arrive or the deadline
 * passed, else wait for activity. 0 to look again, -1 with err filled. */
static int idle_until(struct spw_peer *sp, int64_t deadline, spw_peer_err *err)
{
    if (!any_source(sp)) {
        /* spw_listener_pending (in any_source) advances handshakes: the last
         * one may just have failed there. Report it before giving up. */
        service(sp);
        if (!any_source(sp))
            return fail(err, SPW_ECLOSED, "no connection left");
    }
    if (left_ms(deadline) == 0)
        return fail(err, SPW_ETIMEDOUT, NULL);
    wait_activity(sp, deadline);
    return 0;
}

static int wait_for_pipes(struct spw_peer *sp, int n, int64_t deadline, spw_peer_err *err)
{
    for (;;) {
        service(sp);
        if (sp->npipes >= n)
            return 0;
        if (idle_until(sp, deadline, err) != 0)
            return -1;
    }
}

static int be_wait_peers(void *ctx, int n, int timeout_ms, spw_peer_err *err)
{
    struct spw_peer *sp = ctx;
    return wait_for_pipes(sp, n, timeout_ms < 0 ? -1 : now_ms() + timeout_ms, err);
}

/* The header this protocol puts in front of what the application sends. */
static size_t make_header(struct spw_peer *sp, uint8_t *hdr, spw_peer_err *err, int *bad)
{
    *bad = 0;
    /* Our messages carry the header our peer receives. */
    switch (spw_hdr_kind_for(sp->o->proto->peer)) {
    case SPW_HDR_BACKTRACE:
        sp->next_id = (sp->next_id + 1) & 0x7fffffff;
        if (sp->next_id == 0)
            sp->next_id = 1;
        sp->want_id = sp->next_id | SPW_REQID_FLAG;
        spw_reqid_encode(hdr, sp->next_id);
        return 4;
    case SPW_HDR_REQID:
        if (!sp->reply_to) {
            *bad = 1;
            fail(err, SPW_ESTATE, "no request to reply to");
            return 0;
        }
        memcpy(hdr, sp->btrace, sp->btrace_len);
        return sp->btrace_len;
    case SPW_HDR_PAIR1:
        spw_pair1_encode(hdr, 1);
        return 4;
    default:
        return 0;
    }
}

static int send_on(struct spw_peer *sp, int i, const uint8_t *hdr, size_t hlen, const void *data,
                   size_t len, int64_t deadline, spw_peer_err *err)
{
    uint8_t *buf = malloc(hlen + len + 1);
    if (!buf)
        return fail(err, SPW_ENOMEM, NULL);
    memcpy(buf, hdr, hlen);
    if (len)
        memcpy(buf + hlen, data, len);
    int rc = spw_pipe_send(sp->pipes[i].p, buf, hlen + len, left_ms(deadline));
    free(buf);
    if (rc == SPW_OK)
        return 0;
    if (rc != SPW_ETIMEDOUT)
        remove_pipe(sp, i, rc, NULL);
    return fail(err, rc, NULL);
}

static int be_send(void *ctx, const void *data, size_t len, spw_peer_err *err)
{
    struct spw_peer *sp = ctx;
    int64_t deadline = sp->o->timeout_ms < 0 ? -1 : now_ms() + sp->o->timeout_ms;
    uint8_t hdr[4 * SPW_TTL_MAX];
    int bad;
    size_t hlen = make_header(sp, hdr, err, &bad);
    if (bad)
        return -1;
    if (spw_peer_proto_replies(sp->o->proto)) {
        for (int i = 0; i < sp->npipes; i++)
            if (sp->pipes[i].p == sp->reply_to) {
                sp->reply_to = NULL;
                return send_on(sp, i, hdr, hlen, data, len, deadline, err);
            }
        return fail(err, SPW_ECLOSED, "the requester's pipe is gone");
    }
    if (wait_for_pipes(sp, 1, deadline, err) != 0)
        return -1;
    if (!(sp->o->proto->flags & SPW_PF_BROADCASTS)) {
        int i = sp->rr++ % sp->npipes;
        return send_on(sp, i, hdr, hlen, data, len, deadline, err);
    }
    int sent = 0;
    for (int i = sp->npipes - 1; i >= 0; i--)
        if (send_on(sp, i, hdr, hlen, data, len, deadline, err) == 0)
            sent++;
    return sent > 0 ? 0 : -1;
}

/* Apply the protocol's receive rules to m. Returns 1 to deliver (with
 * *off the header length), 0 when dropped, -1 when the pipe must close. */
static int check_header(struct spw_peer *sp, spw_pipe *from, const spw_msg *m, size_t *off)
{
    *off = 0;
    switch (sp->o->proto->hdr_kind) {
    case SPW_HDR_BACKTRACE: {
        int hops;
        int v = spw_backtrace_parse(m->data, m->len, SPW_TTL_DEFAULT, off, &hops);
        if (v == SPW_HDR_MALFORMED) {
            snprintf(sp->detail, sizeof sp->detail,
                     "malformed backtrace (%zu bytes, no request id)", m->len);
            return -1;
        }
        if (v == SPW_HDR_DROP) {
            emit_drop("backtrace over the hop limit");
            return 0;
        }
        memcpy(sp->btrace, m->data, *off);
        sp->btrace_len = *off;
        sp->reply_to = from;
        return 1;
    }
    case SPW_HDR_REQID: {
        uint32_t id;
        if (spw_reqid_parse(m->data, m->len, &id) != SPW_HDR_ACCEPT) {
            snprintf(sp->detail, sizeof sp->detail, "malformed reply header (%zu bytes)", m->len);
            return -1;
        }
        if (id != sp->want_id) {
            char why[64];
            snprintf(why, sizeof why, "reply for id 0x%08x, waiting for 0x%08x", (unsigned)id,
                     (unsigned)sp->want_id);
            emit_drop(why);
            return 0;
        }
        /* A request takes one reply; a survey, broadcast, collects many. */
        if (!(sp->o->proto->flags & SPW_PF_BROADCASTS))
            sp->want_id = 0;
        *off = 4;
        return 1;
    }
    case SPW_HDR_PAIR1: {
        unsigned hops;
        int v = spw_pair1_parse(m->data, m->len, SPW_TTL_DEFAULT, &hops);
        if (v == SPW_HDR_MALFORMED) {
            snprintf(sp->detail, sizeof sp->detail, "malformed pair1 header (%zu bytes)", m->len);
            return -1;
        }
        if (v == SPW_HDR_DROP) {
            emit_drop("pair1 hop count over the limit");
            return 0;
        }
        *off = 4;
        return 1;
    }
    default:
        return 1;
    }
}

struct held {
    spw_pipe *from;
    spw_msg m;
};

static int be_recv(void *ctx, spw_peer_rmsg *out, spw_peer_err *err)
{
    struct spw_peer *sp = ctx;
    int64_t deadline = sp->o->timeout_ms < 0 ? -1 : now_ms() + sp->o->timeout_ms;
    for (;;) {
        service(sp);
        for (int i = 0; i < sp->npipes; i++) {
            spw_msg m;
            spw_pipe *p = sp->pipes[i].p;
            int rc = spw_pipe_recv(p, &m, 0);
            if (rc == SPW_ETIMEDOUT)
                continue;
            if (rc != SPW_OK) {
                remove_pipe(sp, i, rc, NULL);
                i--;
                continue;
            }
            size_t off;
            int v = check_header(sp, p, &m, &off);
            if (v <= 0) {
                spw_pipe_msg_free(p, &m);
                if (v < 0) {
                    remove_pipe(sp, i, SPW_EPROTO, sp->detail);
                    i--;
                }
                continue;
            }
            struct held *h = malloc(sizeof *h);
            if (!h) {
                spw_pipe_msg_free(p, &m);
                return fail(err, SPW_ENOMEM, NULL);
            }
            h->from = p;
            h->m = m;
            out->data = m.data ? m.data + off : (const unsigned char *)"";
            out->len = m.len - off;
            out->handle = h;
            return 0;
        }
        if (idle_until(sp, deadline, err) != 0)
            return -1;
    }
}

static void be_release(void *ctx, spw_peer_rmsg *m)
{
    struct spw_peer *sp = ctx;
    struct held *h = m->handle;
    (void)sp;
    if (!h)
        return;
    spw_msg_free(&h->m, NULL);
    free(h);
    m->handle = NULL;
}

/* --wait-close: stop taking connections, keep finishing handshakes, and
 * wait until every pipe is closed by the peer (a message that still comes
 * is dropped with a "drop" event). */
static int be_wait_close(void *ctx, int timeout_ms, spw_peer_err *err)
{
    struct spw_peer *sp = ctx;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    if (sp->listen_fd >= 0) {
        close(sp->listen_fd);
        sp->listen_fd = -1;
    }
    if (sp->ctl_fd >= 0) {
        close(sp->ctl_fd);
        sp->ctl_fd = -1;
    }
    for (;;) {
        service(sp);
        for (int i = 0; i < sp->npipes; i++) {
            spw_msg m;
            int rc = spw_pipe_recv(sp->pipes[i].p, &m, 0);
            if (rc == SPW_OK) {
                spw_pipe_msg_free(sp->pipes[i].p, &m);
                emit_drop("message while waiting for the peer to close");
            } else if (rc != SPW_ETIMEDOUT) {
                remove_pipe(sp, i, rc, NULL);
                i--;
            }
        }
        if (sp->npipes == 0 && spw_listener_pending(sp->l) == 0)
            return 0;
        if (left_ms(deadline) == 0) {
            snprintf(sp->detail, sizeof sp->detail, "%d pipe(s) still open", sp->npipes);
            return fail(err, SPW_ETIMEDOUT, sp->detail);
        }
        wait_activity(sp, deadline);
    }
}

static void be_close(void *ctx)
{
    struct spw_peer *sp = ctx;
    while (sp->npipes > 0)
        remove_pipe(sp, sp->npipes - 1, SPW_ECLOSED, "closed by spw-peer");
    spw_listener_close(sp->l);
    sp->l = NULL;
    if (sp->listen_fd >= 0)
        close(sp->listen_fd);
    sp->listen_fd = -1;
    if (sp->ctl_fd >= 0)
        close(sp->ctl_fd);
    sp->ctl_fd = -1;
}

/* "tcp://HOST:PORT" -> addrinfo. HOST may be [v6]. */
static int resolve(const char *url, int passive, struct addrinfo **res, spw_peer_err *err)
{
    static char detail[160];
    if (strncmp(url, "tcp://", 6) != 0)
        return fail(err, SPW_EADDRINVAL, "URL must be tcp://HOST:PORT");
    char host[256];
    snprintf(host, sizeof host, "%s", url + 6);
    char *colon = strrchr(host, ':');
    if (!colon || !colon[1])
        return fail(err, SPW_EADDRINVAL, "URL has no port");
    *colon = 0;
    char *h = host;
    if (*h == '[' && colon[-1] == ']') {
        h++;
        colon[-1] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (passive)
        hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, res);
    if (rc != 0) {
        snprintf(detail, sizeof detail, "%s: %s", url, gai_strerror(rc));
        return fail(err, SPW_EADDRINVAL, detail);
    }
    return 0;
}

static int tcp_listen(struct spw_peer *sp, const char *url, spw_peer_err *err)
{
    struct addrinfo *ai;
    if (resolve(url, 1, &ai, err) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        freeaddrinfo(ai);
        err->name = "EADDRINUSE";
        err->detail = strerror(errno);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    freeaddrinfo(ai);
    sp->listen_fd = fd;
    return 0;
}

/* Connect, retrying refused attempts until the timeout: the peer may start
 * after us, as NNG's dialer allows. */
static int tcp_connect(struct spw_peer *sp, const char *url, spw_peer_err *err)
{
    struct addrinfo *ai;
    if (resolve(url, 0, &ai, err) != 0)
        return -1;
    int64_t deadline = sp->o->timeout_ms < 0 ? -1 : now_ms() + sp->o->timeout_ms;
    for (;;) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(ai);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            int rc = spw_listener_set_int(sp->l, SPW_OPT_SOCKET_FD, fd);
            if (rc != SPW_OK) {
                close(fd);
                return fail(err, rc, NULL);
            }
            return 0;
        }
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (left_ms(deadline) == 0 || (e != ECONNREFUSED && e != EINTR)) {
            freeaddrinfo(ai);
            err->name = e == ECONNREFUSED ? "ECONNREFUSED" : "ESYSERR";
            err->detail = strerror(e);
            return -1;
        }
        spw_sleep_ms(20);
    }
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    spw_peer_caps caps = {
        .prog = prog,
        .name = "spw-peer",
        .proto_ok = NULL,
        .fd_ok = 1,
        .fd_unsupported = NULL,
        .raw_ok = 0,
        .wait_close_ok = 1,
    };
    /* The protocols it speaks, one per line: scripts/conform-matrix asks
     * the program rather than keeping a list of its own. */
    if (argc == 2 && strcmp(argv[1], "--list-protos") == 0) {
        for (int i = 0; spw_proto_desc_at(i); i++)
            if (!caps.proto_ok || caps.proto_ok(spw_proto_desc_at(i)->id))
                printf("%s\n", spw_proto_desc_at(i)->name);
        return 0;
    }
    spw_peer_opts o;
    int rv = spw_peer_parse(&o, &caps, argc, argv);
    if (rv == SPW_CLI_HELP)
        return 0;
    if (rv != SPW_CLI_OK)
        return 2;

    spw_ev_init(stdout);
    spw_ev_start("spwire", SPWIRE_VERSION_STRING, o.proto->name);

    struct spw_peer sp;
    memset(&sp, 0, sizeof sp);
    sp.o = &o;
    sp.prog = prog;
    sp.listen_fd = -1;
    sp.ctl_fd = -1;
    spw_peer_err err = {"EINTERNAL", ""};
    const char *op = "listener";
    int code = 1;

    rv = spw_listener_create(&sp.l, o.proto->id, SPW_URL, NULL);
    if (rv == SPW_OK && o.recvmax_set)
        rv =
            spw_listener_set_size(sp.l, SPW_OPT_RECVMAXSZ, o.recvmax < 0 ? 0 : (uint64_t)o.recvmax);
    if (rv == SPW_OK && o.timeout_ms >= 0)
        rv = spw_listener_set_int(sp.l, SPW_OPT_HANDSHAKE_TIMEOUT, o.timeout_ms);
    if (rv != SPW_OK) {
        fail(&err, rv, NULL);
        goto setup_failed;
    }
    op = "endpoint";
    int erc = 0;
    switch (o.ep) {
    case SPW_EP_FD:
        rv = SPW_OK;
        for (int i = 0; i < o.nfds && rv == SPW_OK; i++)
            rv = spw_listener_set_int(sp.l, SPW_OPT_SOCKET_FD, o.fds[i]);
        erc = rv == SPW_OK ? 0 : fail(&err, rv, NULL);
        break;
    case SPW_EP_CTL:
        sp.ctl_fd = o.ctl;
        break;
    case SPW_EP_TCP_LISTEN:
        erc = tcp_listen(&sp, o.url, &err);
        break;
    case SPW_EP_TCP_CONNECT:
        erc = tcp_connect(&sp, o.url, &err);
        break;
    default:
        erc = fail(&err, SPW_EINVAL, "no endpoint");
    }
    if (erc != 0)
        goto setup_failed;

    spw_peer_backend be = {
        .ctx = &sp,
        .send = be_send,
        .recv = be_recv,
        .release = be_release,
        .wait_peers = be_wait_peers,
        .close = be_close,
        .wait_close = be_wait_close,
    };
    code = spw_peer_run(&o, &be);
    spw_peer_opts_free(&o);
    return code;

setup_failed:
    spw_ev_error(op, err.name, err.detail);
    if (sp.l)
        spw_listener_close(sp.l);
    if (sp.listen_fd >= 0)
        close(sp.listen_fd);
    spw_ev_done(0, 0, "");
    spw_peer_opts_free(&o);
    return 1;
}
