/* nng_peer.c -- reference SP peer on NNG (built against NNG 1.5.2 as
 * spw-nng15-peer and against NNG 1.10.1 as spw-nng110-peer).
 *
 * Events: see common/peer_events.h.  "add" comes from NNG_PIPE_EV_ADD_POST and
 * names the peer protocol from the socket's NNG_OPT_PEERNAME; "rem" from
 * NNG_PIPE_EV_REM_POST (NNG reports no reason for a removal).  With --fd
 * (socket://, NNG >= 1.9 only) the add event also carries peer_pid, peer_uid
 * and peer_gid from NNG_OPT_PEER_PID/UID/GID; so does --ctl, whose fds a
 * thread hands to the same kind of listener (nng_listener_set_int is
 * thread-safe) while the main thread runs the behaviour.
 */
#define _POSIX_C_SOURCE 200809L
#include "peer_cli.h"
#include "spw_ctl.h"
#include "peer_driver.h"
#include "peer_events.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/bus0/bus.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/protocol/survey0/respond.h>
#include <nng/protocol/survey0/survey.h>

#if NNG_MAJOR_VERSION > 1 || (NNG_MAJOR_VERSION == 1 && NNG_MINOR_VERSION >= 9)
#define SPW_HAVE_SOCKET_FD 1
#else
#define SPW_HAVE_SOCKET_FD 0
#endif

#ifndef NNG_OPT_PEER_PID
#define NNG_OPT_PEER_PID NNG_OPT_IPC_PEER_PID
#define NNG_OPT_PEER_UID NNG_OPT_IPC_PEER_UID
#define NNG_OPT_PEER_GID NNG_OPT_IPC_PEER_GID
#endif

struct nng_peer {
    nng_socket sock;
    int open;
    int is_fd;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int pipes; /* currently connected pipes */
#if SPW_HAVE_SOCKET_FD
    nng_listener l; /* socket:// (--fd, --ctl) */
#endif
    const char *prog;
    int ctl; /* --ctl, read by ctl_thread, else -1 */
};

static const char *err_name(int rv)
{
    switch (rv) {
    case 0:
        return "OK";
    case NNG_EINTR:
        return "EINTR";
    case NNG_ENOMEM:
        return "ENOMEM";
    case NNG_EINVAL:
        return "EINVAL";
    case NNG_EBUSY:
        return "EBUSY";
    case NNG_ETIMEDOUT:
        return "ETIMEDOUT";
    case NNG_ECONNREFUSED:
        return "ECONNREFUSED";
    case NNG_ECLOSED:
        return "ECLOSED";
    case NNG_EAGAIN:
        return "EAGAIN";
    case NNG_ENOTSUP:
        return "ENOTSUP";
    case NNG_EADDRINUSE:
        return "EADDRINUSE";
    case NNG_ESTATE:
        return "ESTATE";
    case NNG_ENOENT:
        return "ENOENT";
    case NNG_EPROTO:
        return "EPROTO";
    case NNG_EUNREACHABLE:
        return "EUNREACHABLE";
    case NNG_EADDRINVAL:
        return "EADDRINVAL";
    case NNG_EPERM:
        return "EPERM";
    case NNG_EMSGSIZE:
        return "EMSGSIZE";
    case NNG_ECONNABORTED:
        return "ECONNABORTED";
    case NNG_ECONNRESET:
        return "ECONNRESET";
    case NNG_ECANCELED:
        return "ECANCELED";
    case NNG_ENOFILES:
        return "ENOFILES";
    case NNG_ENOSPC:
        return "ENOSPC";
    case NNG_EEXIST:
        return "EEXIST";
    case NNG_EREADONLY:
        return "EREADONLY";
    case NNG_EWRITEONLY:
        return "EWRITEONLY";
    case NNG_ECRYPTO:
        return "ECRYPTO";
    case NNG_EPEERAUTH:
        return "EPEERAUTH";
    case NNG_ENOARG:
        return "ENOARG";
    case NNG_EAMBIGUOUS:
        return "EAMBIGUOUS";
    case NNG_EBADTYPE:
        return "EBADTYPE";
    case NNG_ECONNSHUT:
        return "ECONNSHUT";
    case NNG_EINTERNAL:
        return "EINTERNAL";
    default:
        if (rv & NNG_ESYSERR)
            return "ESYSERR";
        if (rv & NNG_ETRANERR)
            return "ETRANERR";
        return "EUNKNOWN";
    }
}

static void fill_err(spw_peer_err *err, int rv)
{
    err->name = err_name(rv);
    err->detail = nng_strerror(rv);
}

/* Reads an integer pipe option whichever integer type this NNG version uses. */
static int pipe_get_num(nng_pipe p, const char *opt, unsigned long long *out)
{
    uint64_t u;
    int i;

    if (nng_pipe_get_uint64(p, opt, &u) == 0) {
        *out = u;
        return 0;
    }
    if (nng_pipe_get_int(p, opt, &i) == 0) {
        *out = (unsigned long long)(long long)i;
        return 0;
    }
    return -1;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct nng_peer *np = arg;

    if (ev == NNG_PIPE_EV_ADD_POST) {
        spw_ev_line l;
        char *peer = NULL;
        unsigned long long v;

        spw_ev_begin(&l, "add");
        if (nng_socket_get_string(np->sock, NNG_OPT_PEERNAME, &peer) == 0) {
            spw_ev_str(&l, "peer_proto", peer);
            nng_strfree(peer);
        } else {
            spw_ev_str(&l, "peer_proto", "");
        }
        if (np->is_fd) {
            if (pipe_get_num(p, NNG_OPT_PEER_PID, &v) == 0)
                spw_ev_uint(&l, "peer_pid", v);
            if (pipe_get_num(p, NNG_OPT_PEER_UID, &v) == 0)
                spw_ev_uint(&l, "peer_uid", v);
            if (pipe_get_num(p, NNG_OPT_PEER_GID, &v) == 0)
                spw_ev_uint(&l, "peer_gid", v);
        }
        spw_ev_end(&l);
        pthread_mutex_lock(&np->lock);
        np->pipes++;
        pthread_cond_broadcast(&np->cv);
        pthread_mutex_unlock(&np->lock);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        spw_ev_rem();
        pthread_mutex_lock(&np->lock);
        if (np->pipes > 0)
            np->pipes--;
        pthread_cond_broadcast(&np->cv);
        pthread_mutex_unlock(&np->lock);
    }
}

static int be_send(void *ctx, const void *data, size_t len, spw_peer_err *err)
{
    struct nng_peer *np = ctx;
    int rv = nng_send(np->sock, (void *)data, len, 0);

    if (rv != 0) {
        fill_err(err, rv);
        return -1;
    }
    return 0;
}

static int be_recv(void *ctx, spw_peer_rmsg *m, spw_peer_err *err)
{
    struct nng_peer *np = ctx;
    nng_msg *msg = NULL;
    int rv = nng_recvmsg(np->sock, &msg, 0);

    if (rv != 0) {
        fill_err(err, rv);
        return -1;
    }
    m->handle = msg;
    m->data = nng_msg_body(msg);
    m->len = nng_msg_len(msg);
    return 0;
}

static void be_release(void *ctx, spw_peer_rmsg *m)
{
    (void)ctx;
    if (m->handle != NULL)
        nng_msg_free(m->handle);
    m->handle = NULL;
}

/* Wait until the pipe count satisfies want_min <= pipes <= want_max (pipe
 * callbacks signal cv), or timeout_ms passes (-1: forever). 0 or ETIMEDOUT. */
static int wait_pipe_count(struct nng_peer *np, int want_min, int want_max, int timeout_ms)
{
    struct timespec deadline;
    int rv = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms >= 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&np->lock);
    while ((np->pipes < want_min || np->pipes > want_max) && rv == 0) {
        if (timeout_ms < 0)
            rv = pthread_cond_wait(&np->cv, &np->lock);
        else
            rv = pthread_cond_timedwait(&np->cv, &np->lock, &deadline);
    }
    pthread_mutex_unlock(&np->lock);
    return rv;
}

static int be_wait_peers(void *ctx, int n, int timeout_ms, spw_peer_err *err)
{
    if (wait_pipe_count(ctx, n, INT_MAX, timeout_ms) != 0) {
        err->name = "ETIMEDOUT";
        err->detail = "peers did not connect in time";
        return -1;
    }
    return 0;
}

/* --wait-close: wait until NNG reports every pipe removed. */
static int be_wait_close(void *ctx, int timeout_ms, spw_peer_err *err)
{
    if (wait_pipe_count(ctx, 0, 0, timeout_ms) != 0) {
        err->name = "ETIMEDOUT";
        err->detail = "the peer kept its pipe open";
        return -1;
    }
    return 0;
}

static void be_close(void *ctx)
{
    struct nng_peer *np = ctx;

    if (np->open) {
        nng_close(np->sock);
        np->open = 0;
    }
}

typedef int (*nng_open_fn)(nng_socket *);

/* NNG's constructor for each protocol of spwire's table: the one list of
 * what this peer can open. */
static const struct {
    uint16_t id;
    nng_open_fn open;
} nng_protos[] = {
    {SPW_PROTO_PAIR0, nng_pair0_open},        {SPW_PROTO_PAIR1, nng_pair1_open},
    {SPW_PROTO_PUB, nng_pub0_open},           {SPW_PROTO_SUB, nng_sub0_open},
    {SPW_PROTO_REQ, nng_req0_open},           {SPW_PROTO_REP, nng_rep0_open},
    {SPW_PROTO_PUSH, nng_push0_open},         {SPW_PROTO_PULL, nng_pull0_open},
    {SPW_PROTO_SURVEYOR, nng_surveyor0_open}, {SPW_PROTO_RESPONDENT, nng_respondent0_open},
    {SPW_PROTO_BUS, nng_bus0_open},
};

/* The constructor of protocol id, or NULL. */
static nng_open_fn nng_opener(uint16_t id)
{
    for (size_t i = 0; i < sizeof(nng_protos) / sizeof(nng_protos[0]); i++)
        if (nng_protos[i].id == id)
            return nng_protos[i].open;
    return NULL;
}

static int nng_has_proto(uint16_t id)
{
    return nng_opener(id) != NULL;
}

static int open_socket(const spw_proto_desc *p, nng_socket *s)
{
    nng_open_fn open = nng_opener(p->id);
    return open ? open(s) : NNG_ENOTSUP;
}

/* Reports a setup failure and finishes the run (exit code 1). */
static int setup_failed(struct nng_peer *np, const char *op, int rv)
{
    static const char empty_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    spw_ev_error(op, err_name(rv), nng_strerror(rv));
    be_close(np);
    spw_ev_done(0, 0, empty_sha);
    return 1;
}

#if SPW_HAVE_SOCKET_FD
/* --ctl: every fd that arrives goes to the listener, until EOF. The main
 * thread never waits for this one: at exit it may still block in recvmsg. */
static void *ctl_thread(void *arg)
{
    struct nng_peer *np = arg;
    int fd, r;

    while ((r = spw_ctl_recv(np->ctl, 0, np->prog, &fd)) != SPW_CTL_EOF) {
        if (r != SPW_CTL_FD)
            continue;
        int rv = nng_listener_set_int(np->l, NNG_OPT_SOCKET_FD, fd);
        if (rv != 0) {
            /* NNG took no ownership: the fd is still ours. */
            spw_ev_error("ctl", err_name(rv), nng_strerror(rv));
            close(fd);
        }
    }
    close(np->ctl);
    return NULL;
}
#endif

static int setup_endpoint(struct nng_peer *np, const spw_peer_opts *o, const char **op)
{
    int rv;

    switch (o->ep) {
    case SPW_EP_TCP_LISTEN:
        *op = "listen";
        return nng_listen(np->sock, o->url, NULL, 0);
    case SPW_EP_TCP_CONNECT:
        /* Non-blocking: NNG keeps retrying in the background, so the
         * peers may be started in any order. */
        *op = "dial";
        return nng_dial(np->sock, o->url, NULL, NNG_FLAG_NONBLOCK);
    case SPW_EP_FD:
    case SPW_EP_CTL: {
#if SPW_HAVE_SOCKET_FD
        nng_listener l;
        *op = "listen";
        rv = nng_listener_create(&l, np->sock, "socket://");
        if (rv != 0)
            return rv;
        rv = nng_listener_start(l, 0);
        if (rv != 0)
            return rv;
        np->l = l;
        if (o->ep == SPW_EP_CTL) {
            pthread_t t;
            *op = "ctl";
            np->ctl = o->ctl;
            if ((rv = pthread_create(&t, NULL, ctl_thread, np)) != 0)
                return NNG_ENOMEM;
            pthread_detach(t);
            return 0;
        }
        /* The listener takes over the descriptor; it only accepts
         * descriptors once started.  Every --fd goes to this one
         * listener (see conformance/interop/README.md for what NNG
         * 1.10.1 makes of more than one). */
        *op = "setopt";
        for (int i = 0; i < o->nfds; i++) {
            if ((rv = nng_listener_set_int(l, NNG_OPT_SOCKET_FD, o->fds[i])) != 0)
                return rv;
            if (o->fd_one_by_one && i + 1 < o->nfds) {
                spw_peer_err err;
                *op = "fd-one-by-one";
                if (be_wait_peers(np, i + 1, o->timeout_ms, &err) != 0)
                    return NNG_ETIMEDOUT;
                *op = "setopt";
            }
        }
        return 0;
#else
        (void)rv;
        *op = "listen";
        return NNG_ENOTSUP;
#endif
    }
    default:
        *op = "endpoint";
        return NNG_EINVAL;
    }
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    spw_peer_caps caps = {
        .prog = prog,
        .name = SPW_PEER_NAME,
        .proto_ok = nng_has_proto,
        .fd_ok = SPW_HAVE_SOCKET_FD,
        .fd_unsupported = "socket:// needs NNG >= 1.9",
        .raw_ok = 0,
        .wait_close_ok = 1,
        .ipc_ok = 1,
    };
    spw_peer_opts o;
    /* static: the --ctl thread is never joined and may still read it while
     * the process exits. */
    static struct nng_peer np;
    spw_peer_backend be;
    const char *op = "socket";
    int rv, code;

    rv = spw_peer_parse(&o, &caps, argc, argv);
    if (rv == SPW_CLI_HELP)
        return 0;
    if (rv != SPW_CLI_OK)
        return 2;

    spw_ev_init(stdout);
    memset(&np, 0, sizeof(np));
    pthread_mutex_init(&np.lock, NULL);
    pthread_cond_init(&np.cv, NULL);
    np.is_fd = o.ep == SPW_EP_FD || o.ep == SPW_EP_CTL;
    np.prog = prog;
    np.ctl = -1;

    spw_ev_start("nng", nng_version(), o.proto->name);

    rv = open_socket(o.proto, &np.sock);
    if (rv != 0) {
        code = setup_failed(&np, "socket", rv);
        goto out;
    }
    np.open = 1;

    op = "pipe_notify";
    if ((rv = nng_pipe_notify(np.sock, NNG_PIPE_EV_ADD_POST, pipe_cb, &np)) != 0 ||
        (rv = nng_pipe_notify(np.sock, NNG_PIPE_EV_REM_POST, pipe_cb, &np)) != 0) {
        code = setup_failed(&np, op, rv);
        goto out;
    }

    op = "setopt";
    rv = nng_socket_set_ms(np.sock, NNG_OPT_RECVTIMEO, o.timeout_ms);
    if (rv == 0)
        rv = nng_socket_set_ms(np.sock, NNG_OPT_SENDTIMEO, o.timeout_ms);
    if (rv == 0 && o.recvmax_set)
        /* -1 means unlimited, which is 0 for NNG; others verbatim. */
        rv = nng_socket_set_size(np.sock, NNG_OPT_RECVMAXSZ, o.recvmax < 0 ? 0 : (size_t)o.recvmax);
    if (rv == 0 && o.proto->id == SPW_PROTO_SUB)
        rv = nng_socket_set(np.sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    if (rv == 0 && o.proto->id == SPW_PROTO_SURVEYOR)
        rv = nng_socket_set_ms(np.sock, NNG_OPT_SURVEYOR_SURVEYTIME, o.timeout_ms);
    if (rv != 0) {
        code = setup_failed(&np, op, rv);
        goto out;
    }

    rv = setup_endpoint(&np, &o, &op);
    if (rv != 0) {
        code = setup_failed(&np, op, rv);
        goto out;
    }

    be.ctx = &np;
    be.send = be_send;
    be.recv = be_recv;
    be.release = be_release;
    be.wait_peers = be_wait_peers;
    be.close = be_close;
    be.wait_close = be_wait_close;
    code = spw_peer_run(&o, &be);
out:
    spw_peer_opts_free(&o);
    return code;
}
