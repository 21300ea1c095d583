/* fuzz_nng — NNG itself, in-process: one whole SP connection per input
 * against long-lived NNG sockets.
 *
 * Two builds of this one source:
 *
 * fuzz_nng (default): TCP.
 * Built against the NNG 1.5.2 static library that scripts/deps/src-libs
 * compiles from Debian 12's source package with the campaign's compiler and
 * flags, so coverage and the sanitizers reach inside NNG (its TCP transport,
 * message code and protocols). NNG 1.5.2 has no socket:// transport: the
 * harness connects to NNG's own listener over loopback TCP.
 *
 * fuzz_nng110, fuzz_nng112 (-DSPW_NNG_FUZZ_SOCKET): socket://. Built against
 * the packaged NNG 1.10.1 / 1.12.4 (scripts/deps/nng110, nng112: Debian's
 * uninstrumented libnng.so, run with the suite's own loader), so coverage
 * counters are the harness's only and the sanitizers see NNG only through
 * what they intercept (ASan's malloc replaces the one libnng.so calls). Per
 * protocol and receive limit one listener on "socket://"; per input a
 * socketpair whose one end is given to it with NNG_OPT_SOCKET_FD: no ports,
 * no network. The wire bytes are those of the TCP transport.
 *
 * Long-lived state (created on the first input, never torn down): one NNG
 * socket per protocol, each with three listeners (127.0.0.1 ephemeral
 * ports, or socket://), one per receive limit, and pipe notifications
 * counting pipes added and removed. Everything per input is closed before
 * the input returns.
 *
 * Input layout: fuzz/ref_peer.h (shared by every reference target).
 *
 * Per input: connect (or hand NNG its end of a socketpair), read NNG's
 * 8-byte header (so NNG has accepted the connection before we go on), write
 * the stream in the chosen cuts while draining what NNG answers, finish as
 * chosen, then wait until NNG has closed its end of the connection and every
 * pipe added has been removed.
 *
 * Checks (abort = a finding): the 8 bytes NNG sends first are exactly its
 * header; NNG closes the connection after EOF or reset within
 * SPW_REF_BOUND_MS (NNG has all it needs by then: a hang is a defect, and
 * the bound is far above any scheduling delay); no fd and no pipe outlives
 * the input; a valid peer header gets a pipe within the bound; plus
 * everything ASan and UBSan see inside NNG. No verdict depends on timing
 * below the bound: timing only changes which paths run.
 *
 * Reproducing a finding against a packaged NNG: the stream (the input minus
 * its 3 leading bytes) is what was written to the connection; scripts/fuzz
 * writes it as NAME.wire next to each crash.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
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

#include "fuzz_common.h"
#include "ref_peer.h"
#include "spwire/proto.h"

#define NNG_FUZZ_NLIMITS 3

/* NNG with no receive limit allocates what the peer announces (FINDINGS F2),
 * zero-filled (calloc). A length of 2^60 must fail the allocation the way it
 * fails in production (NULL, NNG_ENOMEM) instead of ASan's report, which
 * would make every such input a crash of a known defect; and lengths of a
 * few GiB, which production's calloc maps lazily, cost ASan a second of
 * zero-filling each. So ASan refuses blocks above 64 MiB with NULL: NNG then
 * behaves as on a machine with less memory. libFuzzer's own malloc limit
 * never sees those blocks. handle_abort: NNG's panic (F8) calls abort();
 * reported by ASan as "abort" with a stack, the campaign log's signature is
 * the one scripts/triage and FINDINGS use. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=64:handle_abort=1";
}

/* NNG's side of each protocol; name, peer and whether it sends unprompted
 * (the send path byte 1 bit 2 exercises) are spwire's table's. In
 * spw_proto_at's order: byte 0 indexes it. */
typedef struct nng_fuzz_proto {
    uint16_t id;
    int (*open)(nng_socket *);
    int can_recv; /* messages to drain */
} nng_fuzz_proto;

static const nng_fuzz_proto PROTOS[] = {
    {SPW_PROTO_PAIR0, nng_pair0_open, 1},
    {SPW_PROTO_PAIR1, nng_pair1_open, 1},
    {SPW_PROTO_PUB, nng_pub0_open, 0},
    {SPW_PROTO_SUB, nng_sub0_open, 1},
    {SPW_PROTO_REQ, nng_req0_open, 0},
    {SPW_PROTO_REP, nng_rep0_open, 1},
    {SPW_PROTO_PUSH, nng_push0_open, 0},
    {SPW_PROTO_PULL, nng_pull0_open, 1},
    {SPW_PROTO_SURVEYOR, nng_surveyor0_open, 1},
    {SPW_PROTO_RESPONDENT, nng_respondent0_open, 1},
    {SPW_PROTO_BUS, nng_bus0_open, 1},
};
#define NPROTOS (sizeof PROTOS / sizeof PROTOS[0])

/* The only state kept across inputs: NNG's sockets and the pipe counters its
 * threads update. */
static struct {
    int ready;
    nng_socket sock[NPROTOS];
    nng_listener listener[NPROTOS][NNG_FUZZ_NLIMITS];
#ifndef SPW_NNG_FUZZ_SOCKET
    uint16_t port[NPROTOS][NNG_FUZZ_NLIMITS];
    uint8_t cooling[NPROTOS][NNG_FUZZ_NLIMITS];
#endif
    int recvfd[NPROTOS]; /* NNG_OPT_RECVFD: readable when a message waits; -1 none */
    nng_aio *aio;
} G;
/* Pipes NNG has added (ADD_PRE or ADD_POST seen) and not yet removed. NNG
 * also fires REM_POST for a pipe it refused before adding it (a peer of the
 * wrong protocol), so the harness tracks pipe ids, not counts; and the
 * callbacks run on different NNG threads, so an ADD_POST can arrive after the
 * REM_POST of the same pipe: ids removed recently are remembered and never
 * counted as live again. */
#define NNG_FUZZ_MAX_LIVE 64
#define NNG_FUZZ_GONE 256
static pthread_mutex_t g_pipes_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint32_t g_live[NNG_FUZZ_MAX_LIVE];
static size_t g_nlive;
static uint32_t g_gone[NNG_FUZZ_GONE];
static size_t g_gone_next;
static atomic_uint_fast64_t g_added;
static atomic_uint_fast64_t g_events; /* every pipe event, REM_POST included */

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)arg;
    uint32_t id = (uint32_t)nng_pipe_id(p);
    atomic_fetch_add(&g_events, 1);
    pthread_mutex_lock(&g_pipes_mtx);
    size_t i = 0;
    while (i < g_nlive && g_live[i] != id) {
        i++;
    }
    if (ev == NNG_PIPE_EV_REM_POST) {
        if (i < g_nlive) {
            g_live[i] = g_live[--g_nlive];
        }
        g_gone[g_gone_next] = id;
        g_gone_next = (g_gone_next + 1) % NNG_FUZZ_GONE;
    } else if (i == g_nlive) {
        int gone = 0;
        for (size_t k = 0; k < NNG_FUZZ_GONE; k++) {
            gone |= g_gone[k] == id;
        }
        if (!gone) {
            SPW_FUZZ_CHECK(g_nlive < NNG_FUZZ_MAX_LIVE); /* pipes pile up */
            g_live[g_nlive++] = id;
        }
        atomic_fetch_add(&g_added, 1);
    }
    pthread_mutex_unlock(&g_pipes_mtx);
}

static size_t live_pipes(void)
{
    pthread_mutex_lock(&g_pipes_mtx);
    size_t n = g_nlive;
    pthread_mutex_unlock(&g_pipes_mtx);
    return n;
}

static void nng_fuzz_die(const char *what, int rv)
{
    fprintf(stderr, "fuzz_nng: %s: %s\n", what, rv ? nng_strerror(rv) : strerror(errno));
    fflush(stderr);
    abort();
}

#ifdef SPW_NNG_FUZZ_SOCKET
#define NNG_FUZZ_URL "socket://"
#else
#define NNG_FUZZ_URL "tcp://127.0.0.1:0"
#endif

/* One listener (127.0.0.1 ephemeral port, or socket://), receive limit k. */
static void start_listener(size_t i, int k)
{
    nng_listener l;
    int rv;
    if ((rv = nng_listener_create(&l, G.sock[i], NNG_FUZZ_URL)) != 0) {
        nng_fuzz_die("listener_create", rv);
    }
    /* k == 0 leaves NNG's default (no limit). */
    if (k > 0 && (rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, (size_t)spw_ref_limit_bytes(k))) != 0) {
        nng_fuzz_die("RECVMAXSZ", rv);
    }
    if ((rv = nng_listener_start(l, 0)) != 0) {
        nng_fuzz_die("listener_start", rv);
    }
    G.listener[i][k] = l;
#ifndef SPW_NNG_FUZZ_SOCKET
    nng_sockaddr sa;
    if ((rv = nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa)) != 0) {
        nng_fuzz_die("LOCADDR", rv);
    }
    G.port[i][k] = ntohs(sa.s_in.sa_port);
#endif
}

static void setup(void)
{
    int rv;
#ifdef SPW_NNG_FUZZ_SOCKET
    /* NNG over socket:// writes without MSG_NOSIGNAL: a peer that goes away
     * while NNG sends kills the process by SIGPIPE (FINDINGS F6, known), as it
     * would kill any application that does not ignore the signal. Ignored
     * here like such an application must, so the campaign goes on to other
     * defects; the harness's own writes use MSG_NOSIGNAL. */
    (void)signal(SIGPIPE, SIG_IGN);
    /* Which library the loader found, once per process, for the logs. */
    fprintf(stderr, "fuzz_nng: NNG %s (packaged, uninstrumented) over socket://\n", nng_version());
#endif
    for (size_t i = 0; i < NPROTOS; i++) {
        nng_socket *s = &G.sock[i];
        SPW_FUZZ_CHECK(spw_proto_at((int)i) == PROTOS[i].id);
        if ((rv = PROTOS[i].open(s)) != 0) {
            nng_fuzz_die("open", rv);
        }
        /* Received messages wait in the socket until drained: a deep
         * buffer keeps NNG reading while the harness writes. Not every
         * protocol has the option; those that lack it are drained too. */
        (void)nng_socket_set_int(*s, NNG_OPT_RECVBUF, 8192);
        (void)nng_socket_set_int(*s, NNG_OPT_SENDBUF, 8);
        if (PROTOS[i].id == SPW_PROTO_SUB) {
            if ((rv = nng_socket_set(*s, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0) {
                nng_fuzz_die("subscribe", rv);
            }
        }
        /* Some protocols (pull0, ...) keep no receive buffer: the pipe
         * reads the next message only once the application has taken the
         * last one. Polling this fd with ours wakes the harness for both. */
        G.recvfd[i] = -1;
        if (PROTOS[i].can_recv && nng_socket_get_int(*s, NNG_OPT_RECVFD, &G.recvfd[i]) != 0) {
            G.recvfd[i] = -1;
        }
        if ((rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, on_pipe, NULL)) != 0 ||
            (rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_POST, on_pipe, NULL)) != 0 ||
            (rv = nng_pipe_notify(*s, NNG_PIPE_EV_REM_POST, on_pipe, NULL)) != 0) {
            nng_fuzz_die("pipe_notify", rv);
        }
        for (int k = 0; k < NNG_FUZZ_NLIMITS; k++) {
            start_listener(i, k);
        }
    }
    if ((rv = nng_aio_alloc(&G.aio, NULL, NULL)) != 0) {
        nng_fuzz_die("aio_alloc", rv);
    }
    G.ready = 1;
}

/* Is a message waiting for the application? Asked of NNG_OPT_RECVFD before
 * receiving because NNG 1.10.1 and 1.12.4 surveyor0's nng_recvmsg with
 * NNG_FLAG_NONBLOCK, while a survey is out, blocks for the whole survey time
 * (1 s by default) before it returns NNG_EAGAIN (FINDINGS F11; 1.5.2 returns
 * at once): every input where NNG sends a survey would cost a second. */
static int nng_has_msg(size_t pi)
{
    if (G.recvfd[pi] < 0) {
        return 1; /* no fd to ask: try the receive */
    }
    struct pollfd p = {G.recvfd[pi], POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

/* Take every message NNG has queued for the application. ctx: the protocol's
 * index, as spw_ref_impl passes it. */
static void drain_nng(void *ctx)
{
    const size_t pi = (size_t)(uintptr_t)ctx;
    if (!PROTOS[pi].can_recv) {
        return;
    }
    nng_msg *m;
    while (nng_has_msg(pi) && nng_recvmsg(G.sock[pi], &m, NNG_FLAG_NONBLOCK) == 0) {
        nng_msg_free(m);
    }
}

static size_t live_pipes_cb(void *ctx)
{
    (void)ctx;
    return live_pipes();
}

static uint16_t peer_of(size_t pi)
{
    return (uint16_t)spw_proto_peer(PROTOS[pi].id);
}

/* NNG sends one message: what the pipe's send path does with a peer that may
 * vanish at any point. req0 goes through a context that is closed at the end
 * of the input, so its retry logic cannot carry the request into the next
 * input's pipe. */
static void nng_side_send(size_t pi, size_t body, nng_ctx *ctx, int *have_ctx)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, body) != 0) {
        nng_fuzz_die("msg_alloc", 0);
    }
    if (body > 0) {
        memset(nng_msg_body(m), 0x5A, body);
    }
    if (PROTOS[pi].id == SPW_PROTO_REQ) {
        if (nng_ctx_open(ctx, G.sock[pi]) != 0) {
            nng_msg_free(m);
            return;
        }
        *have_ctx = 1;
        nng_aio_set_msg(G.aio, m);
        nng_aio_set_timeout(G.aio, SPW_REF_BOUND_MS);
        nng_ctx_send(*ctx, G.aio);
        nng_aio_wait(G.aio);
        if (nng_aio_result(G.aio) != 0) {
            nng_msg_free(nng_aio_get_msg(G.aio));
        }
        return;
    }
    if (nng_sendmsg(G.sock[pi], m, NNG_FLAG_NONBLOCK) != 0) {
        nng_msg_free(m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spw_ref_input in;
    if (!spw_ref_input_parse(data, size, NPROTOS, peer_of, &in)) {
        return 0;
    }
    if (!G.ready) {
        setup();
    }
    const size_t pi = in.proto;
    const int limit_k = in.limit_k;
    const nng_fuzz_proto *pr = &PROTOS[pi];
    const spw_ref_impl impl = {drain_nng, (void *)(uintptr_t)pi, G.recvfd[pi], 1000};
    spw_ref_describe(&in, pr->id);

#ifndef SPW_NNG_FUZZ_SOCKET
    /* After a connection that never became a pipe (a failed SP handshake),
     * NNG's listener stops accepting for 100 ms (listener.c, "cool down"):
     * the next input on it would wait that long. A fresh listener costs far
     * less; it replaces the old one before the fd table is recorded.
     * socket:// (1.10.1, 1.12.4) has no such pause, measured: 20 bad
     * headers each followed by a valid one whose pipe NNG must add before
     * it sends run in 20-60 ms all told, so no listener is replaced there. */
    if (G.cooling[pi][limit_k]) {
        int rv = nng_listener_close(G.listener[pi][limit_k]);
        if (rv != 0) {
            nng_fuzz_die("listener_close", rv);
        }
        start_listener(pi, limit_k);
        G.cooling[pi][limit_k] = 0;
    }
#endif

    spw_ref_fds before;
    spw_ref_fds_snapshot(&before);
    uint64_t added0 = atomic_load(&g_added);
#ifndef SPW_NNG_FUZZ_SOCKET
    uint64_t events0 = atomic_load(&g_events);
#endif
    drain_nng(impl.ctx);

#ifdef SPW_NNG_FUZZ_SOCKET
    int theirs;
    int fd = spw_ref_socketpair(&theirs);
    /* NNG owns `theirs` from here: it closes it with the pipe. */
    int srv = nng_listener_set_int(G.listener[pi][limit_k], NNG_OPT_SOCKET_FD, theirs);
    if (srv != 0) {
        nng_fuzz_die("NNG_OPT_SOCKET_FD", srv);
    }
#else
    int fd = spw_ref_connect_loopback(G.port[pi][limit_k]);
#endif
    spw_ref_read_header(fd, pr->id);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        nng_fuzz_die("O_NONBLOCK", 0);
    }

    nng_ctx ctx;
    int have_ctx = 0;
    if (in.impl_sends && (spw_proto_desc_of(pr->id)->flags & SPW_PF_SENDS_FIRST) && in.hs_valid) {
        /* Header first, then wait for the pipe so the send has somewhere to
         * go; the rest of the stream follows while NNG may be sending. */
        spw_ref_write(fd, &impl, in.stream, 8, in.cut);
        int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
        unsigned spins = 0;
        while (atomic_load(&g_added) == added0) {
            SPW_FUZZ_CHECK(spw_ref_now_ms() < deadline); /* a valid header got no pipe */
            spw_ref_backoff(&spins);
        }
        nng_side_send(pi, in.cut, &ctx, &have_ctx);
        spw_ref_write(fd, &impl, in.stream + 8, in.len - 8, in.cut);
    } else {
        spw_ref_write(fd, &impl, in.stream, in.len, in.cut);
    }
    spw_ref_finish(fd, &impl, in.end);

    /* NNG must drop the pipe and its fd. */
    char what[160];
    snprintf(what, sizeof what, "NNG %s, mode 0x%02x, cut %u, %zu stream bytes",
             spw_proto_name(pr->id), data[1], data[2], in.len);
    spw_ref_wait_clean(&before, &impl, live_pipes_cb, NULL, what);
    if (have_ctx) {
        nng_ctx_close(ctx);
    }
#ifndef SPW_NNG_FUZZ_SOCKET
    G.cooling[pi][limit_k] = atomic_load(&g_events) == events0;
#endif
    drain_nng(impl.ctx);
    return 0;
}
