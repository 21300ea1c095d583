/* nanomsg_peer.c -- reference SP peer on nanomsg (Debian 12: 1.1.5), tcp only.
 *
 * Differences from the NNG peers, all inherent to nanomsg:
 *  - no pipe events: nanomsg has no pipe notification API, so this peer
 *    emits no "add"/"rem" events at all;
 *  - --wait-peers polls nn_get_statistic(NN_STAT_CURRENT_CONNECTIONS) every
 *    10 ms (a transport-level count: the SP header exchange may still be in
 *    flight), then sleeps SPW_NN_SETTLE_MS more.  This poll-and-sleep is the
 *    only way nanomsg offers;
 *  - no pair1 and no socket:// (--fd): usage error, exit 2;
 *  - version: nanomsg has no run-time version call; NN_VERSION_CURRENT/
 *    REVISION/AGE in nn.h are the libtool ABI version (5.1.0), not the release.
 *    The "version" key is the package version given at build time
 *    (SPW_NANOMSG_VERSION, from pkg-config), "unknown" if not given;
 *  - --recvmax maps to NN_RCVMAXSIZE verbatim (-1 = unlimited, 0 = 0 bytes);
 *  - error names: errno values mapped to the NNG-style names used by the other
 *    peers (EBADF/ETERM -> ECLOSED, EFSM -> ESTATE, EADDRNOTAVAIL/ENODEV ->
 *    EADDRINVAL, EPROTONOSUPPORT/ENOPROTOOPT -> ENOTSUP, EMFILE -> ENOFILES,
 *    EHOSTUNREACH/ENETUNREACH -> EUNREACHABLE, EACCES -> EPERM).
 */
#define _POSIX_C_SOURCE 200809L
#include "peer_cli.h"
#include "peer_driver.h"
#include "peer_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/bus.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>

#ifndef SPW_NANOMSG_VERSION
#define SPW_NANOMSG_VERSION "unknown"
#endif

/* Extra pause after the connection count is reached (see above). */
#define SPW_NN_SETTLE_MS 50

struct nn_peer {
    int sock;
};

static const char *err_name(int e)
{
    if (e == 0)
        return "OK";
    if (e == ETIMEDOUT)
        return "ETIMEDOUT";
    if (e == EAGAIN)
        return "EAGAIN";
    if (e == EINTR)
        return "EINTR";
    if (e == EBADF || e == ETERM)
        return "ECLOSED";
    if (e == EFSM)
        return "ESTATE";
    if (e == ENOTSUP || e == EPROTONOSUPPORT || e == ENOPROTOOPT)
        return "ENOTSUP";
    if (e == EINVAL)
        return "EINVAL";
    if (e == ENOMEM)
        return "ENOMEM";
    if (e == EMFILE)
        return "ENOFILES";
    if (e == EADDRINUSE)
        return "EADDRINUSE";
    if (e == EADDRNOTAVAIL || e == ENODEV || e == ENAMETOOLONG)
        return "EADDRINVAL";
    if (e == ECONNREFUSED)
        return "ECONNREFUSED";
    if (e == ECONNRESET)
        return "ECONNRESET";
    if (e == ECONNABORTED)
        return "ECONNABORTED";
    if (e == EMSGSIZE)
        return "EMSGSIZE";
    if (e == EPROTO)
        return "EPROTO";
    if (e == EHOSTUNREACH || e == ENETUNREACH)
        return "EUNREACHABLE";
    if (e == EACCES)
        return "EPERM";
    if (e == EFAULT)
        return "EINVAL";
    return "EUNKNOWN";
}

static void fill_err(spw_peer_err *err, int e)
{
    err->name = err_name(e);
    err->detail = nn_strerror(e);
}

static int be_send(void *ctx, const void *data, size_t len, spw_peer_err *err)
{
    struct nn_peer *p = ctx;

    if (nn_send(p->sock, data, len, 0) < 0) {
        fill_err(err, nn_errno());
        return -1;
    }
    return 0;
}

static int be_recv(void *ctx, spw_peer_rmsg *m, spw_peer_err *err)
{
    struct nn_peer *p = ctx;
    void *buf = NULL;
    int n = nn_recv(p->sock, &buf, NN_MSG, 0);

    if (n < 0) {
        fill_err(err, nn_errno());
        return -1;
    }
    m->handle = buf;
    m->data = buf;
    m->len = (size_t)n;
    return 0;
}

static void be_release(void *ctx, spw_peer_rmsg *m)
{
    (void)ctx;
    if (m->handle != NULL)
        nn_freemsg(m->handle);
    m->handle = NULL;
}

static int be_wait_peers(void *ctx, int n, int timeout_ms, spw_peer_err *err)
{
    struct nn_peer *p = ctx;
    int waited = 0;

    while (nn_get_statistic(p->sock, NN_STAT_CURRENT_CONNECTIONS) < (uint64_t)n) {
        if (timeout_ms >= 0 && waited >= timeout_ms) {
            err->name = "ETIMEDOUT";
            err->detail = "peers did not connect in time";
            return -1;
        }
        spw_sleep_ms(10);
        waited += 10;
    }
    spw_sleep_ms(SPW_NN_SETTLE_MS);
    return 0;
}

static void be_close(void *ctx)
{
    struct nn_peer *p = ctx;

    if (p->sock >= 0) {
        nn_close(p->sock);
        p->sock = -1;
    }
}

/* nanomsg's socket type for each protocol of spwire's table it has: the one
 * list of what this peer can open. nanomsg has no pair1. */
static const struct {
    uint16_t id;
    int nn;
} nn_protos[] = {
    {SPW_PROTO_PAIR0, NN_PAIR},
    {SPW_PROTO_PUB, NN_PUB},
    {SPW_PROTO_SUB, NN_SUB},
    {SPW_PROTO_REQ, NN_REQ},
    {SPW_PROTO_REP, NN_REP},
    {SPW_PROTO_PUSH, NN_PUSH},
    {SPW_PROTO_PULL, NN_PULL},
    {SPW_PROTO_SURVEYOR, NN_SURVEYOR},
    {SPW_PROTO_RESPONDENT, NN_RESPONDENT},
    {SPW_PROTO_BUS, NN_BUS},
};

/* The socket type of protocol id, or -1. */
static int nn_proto(uint16_t id)
{
    for (size_t i = 0; i < sizeof(nn_protos) / sizeof(nn_protos[0]); i++)
        if (nn_protos[i].id == id)
            return nn_protos[i].nn;
    return -1;
}

static int nn_has_proto(uint16_t id)
{
    return nn_proto(id) >= 0;
}

static int setup_failed(struct nn_peer *p, const char *op, int e)
{
    static const char empty_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    spw_ev_error(op, err_name(e), nn_strerror(e));
    be_close(p);
    spw_ev_done(0, 0, empty_sha);
    return 1;
}

static int setopt_int(int s, int level, int opt, int v)
{
    return nn_setsockopt(s, level, opt, &v, sizeof(v));
}

int main(int argc, char **argv)
{
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    spw_peer_caps caps = {
        .prog = prog,
        .name = "spw-nanomsg-peer",
        .proto_ok = nn_has_proto,
        .fd_ok = 0,
        .fd_unsupported = "socket:// needs NNG >= 1.9",
        .raw_ok = 0,
        .ipc_ok = 1,
    };
    spw_peer_opts o;
    struct nn_peer p = {-1};
    spw_peer_backend be;
    int rv, code;

    rv = spw_peer_parse(&o, &caps, argc, argv);
    if (rv == SPW_CLI_HELP)
        return 0;
    if (rv != SPW_CLI_OK)
        return 2;

    spw_ev_init(stdout);
    spw_ev_start("nanomsg", SPW_NANOMSG_VERSION, o.proto->name);

    p.sock = nn_socket(AF_SP, nn_proto(o.proto->id));
    if (p.sock < 0) {
        code = setup_failed(&p, "socket", nn_errno());
        goto out;
    }
    if (setopt_int(p.sock, NN_SOL_SOCKET, NN_RCVTIMEO, o.timeout_ms) < 0 ||
        setopt_int(p.sock, NN_SOL_SOCKET, NN_SNDTIMEO, o.timeout_ms) < 0 ||
        (o.recvmax_set && setopt_int(p.sock, NN_SOL_SOCKET, NN_RCVMAXSIZE,
                                     o.recvmax > 0x7fffffff ? 0x7fffffff : (int)o.recvmax) < 0) ||
        (o.proto->id == SPW_PROTO_SUB &&
         nn_setsockopt(p.sock, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0) ||
        (o.proto->id == SPW_PROTO_SURVEYOR &&
         setopt_int(p.sock, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, o.timeout_ms) < 0)) {
        code = setup_failed(&p, "setopt", nn_errno());
        goto out;
    }

    if (o.ep == SPW_EP_TCP_LISTEN) {
        if (nn_bind(p.sock, o.url) < 0) {
            code = setup_failed(&p, "listen", nn_errno());
            goto out;
        }
    } else {
        /* nn_connect is asynchronous and retries by itself. */
        if (nn_connect(p.sock, o.url) < 0) {
            code = setup_failed(&p, "dial", nn_errno());
            goto out;
        }
    }

    be.ctx = &p;
    be.send = be_send;
    be.recv = be_recv;
    be.release = be_release;
    be.wait_peers = be_wait_peers;
    be.close = be_close;
    be.wait_close = NULL;
    code = spw_peer_run(&o, &be);
out:
    spw_peer_opts_free(&o);
    return code;
}
