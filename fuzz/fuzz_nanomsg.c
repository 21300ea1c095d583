/* fuzz_nanomsg — nanomsg itself, in-process: one whole SP-over-TCP
 * connection per input against long-lived nanomsg sockets.
 *
 * Built against the nanomsg 1.1.5 static library that scripts/deps/src-libs
 * compiles from the upstream tarball of Debian 12's source package with the
 * campaign's compiler and flags, so coverage and the sanitizers reach inside
 * nanomsg (its TCP transport, state machines, message code and protocols).
 * The harness connects to nanomsg's own listener over loopback TCP.
 *
 * Long-lived state: one nanomsg socket per protocol and receive limit
 * (NN_RCVMAXSIZE is a socket option, read when a frame's length arrives, so
 * a limit needs a socket of its own), created on the first input that needs
 * it, bound with nn_bind on 127.0.0.1. nanomsg cannot report the port of a
 * "tcp://127.0.0.1:0" listener, so the harness asks the kernel for a free
 * one (a probe socket bound to port 0, then closed) and binds nanomsg to
 * that number; another process can take the port in between, so
 * EADDRINUSE means: probe again. Everything per input is closed before the
 * input returns.
 *
 * Input layout: fuzz/ref_peer.h (shared by every reference target). Byte 0
 * indexes PROTOS below: spw_proto_at's order without pair1, which nanomsg
 * lacks (fuzz/gen_seeds.c writes the seeds of corpus/nanomsg in that order).
 * The receive limits: 0 nanomsg's default, left untouched (1 MiB: checked
 * when the socket is made), 1 1 MiB set explicitly, 2 SPW_REF_SMALL_LIMIT.
 * Never -1 (none): nanomsg then aborts on every length it cannot allocate
 * (FINDINGS F17), which would be most of the fuzzer's long lengths.
 *
 * Per input: connect, read nanomsg's 8-byte header (so it has accepted the
 * connection), write the stream in the chosen cuts while draining what
 * nanomsg queued for the application (nn_recv NN_DONTWAIT; NN_RCVFD is the
 * wake fd: nanomsg holds one received message per pipe and reads no further
 * until the application takes it), optionally have nanomsg send one message
 * once the connection is a pipe, finish as chosen, then wait until nanomsg
 * has dropped the connection: first no fd left that the input opened
 * (spw_ref_wait_clean; a connection still in its handshake is no pipe yet),
 * then NN_STAT_CURRENT_CONNECTIONS back at 0 (the socket's pipes: counted up
 * when a connection whose SP header was accepted joins the socket, down when
 * that pipe stops). Waited for apart, a pipe still counted once its
 * connection is closed (FINDINGS F14) fails a check of its own.
 *
 * An abrupt end (close, reset) after a valid header comes only once the
 * connection is a pipe or nanomsg has closed it: a reset soon after the
 * header exchange can leave a pipe that is never removed (FINDINGS F14);
 * without this wait every pass over the seeds hit it, with it a campaign
 * still meets it, within a few hundred inputs. A reset inside the
 * handshake, or after a bad header, is sent as it comes.
 *
 * Checks (abort = a finding): the 8 bytes nanomsg sends first are exactly
 * its header; nanomsg closes the connection after EOF or reset within
 * SPW_REF_BOUND_MS; no fd and no pipe outlives the input; a valid peer header
 * gets a pipe within the bound; plus everything ASan and UBSan see inside
 * nanomsg, and nanomsg's own assertions (they abort). No verdict depends on
 * timing below the bound: timing only changes which paths run.
 *
 * State that must not carry into the next input: req keeps its last
 * request and sends it again to the next pipe that arrives (its resend on
 * pipe removal), a surveyor has its survey open until the deadline: the
 * socket that sent in an input is closed after it and made afresh by the
 * next input that needs it.
 *
 * Known defects every input would hit: the sending side of each pattern
 * (pub, req, push, surveyor) is written only the stream's first 8 bytes (the
 * handshake), as any frame after it is a known defect of nanomsg 1.1.5,
 * which would end every campaign at once: pub aborts the process (an
 * assertion, FINDINGS F12); push, and a surveyor outside a survey, take the
 * message from the pipe never, so the pipe reads nothing more, not even the
 * EOF, and the connection outlives the peer (F13); a surveyor inside a
 * survey leaks every response whose survey id is not the current one (F15);
 * req frees every reply it ignores but keeps pointing at it, and frees it
 * again when the socket is closed (F16). An input cannot know the ids
 * (nanomsg draws them at random), so every response or reply it writes is
 * one of those. corpus/regression/nanomsg pins each of them.
 *
 * Reproducing a finding against a packaged nanomsg: the stream (the input
 * minus its 3 leading bytes) is what was written to the connection (for
 * pub, req, push and surveyor its first 8 bytes); scripts/fuzz writes it as
 * NAME.wire next to each crash.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nanomsg/bus.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>

#include "fuzz_common.h"
#include "spwire/proto.h"
#include "ref_peer.h"

/* The table below passes nanomsg's socket types where the SP header wants
 * the protocol id: they are the same numbers. */
_Static_assert(NN_PAIR == 0x10 && NN_PUB == 0x20 && NN_SUB == 0x21 && NN_REQ == 0x30 &&
                   NN_REP == 0x31 && NN_PUSH == 0x50 && NN_PULL == 0x51 &&
                   NN_SURVEYOR == 0x62 && NN_RESPONDENT == 0x63 && NN_BUS == 0x70,
               "nanomsg's socket types are the SP protocol ids");

/* nanomsg's assertions and the harness's checks end in abort(): ASan
 * reports it ("ABRT", with the stack) in the campaign as scripts/triage's
 * replay does, so both give a finding the same signature. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_abort=1";
}

/* The waits that hold a check stay functions of their own in every build
 * (libFuzzer's and the replay driver's inline differently), so a finding's
 * stack signature is the same in the campaign and in scripts/triage. */
#if defined(__GNUC__) || defined(__clang__)
#define NN_FUZZ_NOINLINE __attribute__((noinline))
#else
#define NN_FUZZ_NOINLINE
#endif

#define NN_FUZZ_NLIMITS 3
#define NN_FUZZ_DEFAULT_LIMIT (1 << 20) /* nanomsg's own default, and limit 1 */
#define NN_FUZZ_BIND_TRIES 100

/* nanomsg's side of each protocol; name, peer and whether it sends
 * unprompted (the send path byte 1 bit 2 exercises) are spwire's table's,
 * read through the socket type, which is the SP protocol id. */
typedef struct nn_fuzz_proto {
    int type;             /* nanomsg's socket type = the SP protocol id */
    int can_recv;         /* messages to drain */
    int header_only;      /* only the stream's first 8 bytes are written */
    int fresh_after_send; /* closed after an input in which it sent */
} nn_fuzz_proto;

static const nn_fuzz_proto PROTOS[] = {
    {NN_PAIR, 1, 0, 0},       {NN_PUB, 0, 1, 0},      {NN_SUB, 1, 0, 0},
    {NN_REQ, 0, 1, 1},        {NN_REP, 1, 0, 0},      {NN_PUSH, 0, 1, 0},
    {NN_PULL, 1, 0, 0},       {NN_SURVEYOR, 0, 1, 1}, {NN_RESPONDENT, 1, 0, 0},
    {NN_BUS, 1, 0, 0},
};

static const spw_proto_desc *nn_desc(const nn_fuzz_proto *pr)
{
    const spw_proto_desc *d = spw_proto_desc_of((uint16_t)pr->type);
    SPW_FUZZ_CHECK(d != NULL);
    return d;
}
#define NPROTOS (sizeof PROTOS / sizeof PROTOS[0])

/* One nanomsg socket: a protocol with one receive limit. */
typedef struct nn_fuzz_slot {
    int open;
    int sock;
    uint16_t port;
    int recvfd; /* NN_RCVFD: readable when a message waits; -1 none */
    const nn_fuzz_proto *pr;
} nn_fuzz_slot;

/* The only state kept across inputs. */
static nn_fuzz_slot g_slot[NPROTOS][NN_FUZZ_NLIMITS];

static void nn_fuzz_die(const char *what, int err)
{
    fprintf(stderr, "fuzz_nanomsg: %s: %s\n", what, err ? nn_strerror(err) : "failed");
    fflush(stderr);
    abort();
}

static void set_int(int s, int level, int opt, int val, const char *what)
{
    if (nn_setsockopt(s, level, opt, &val, sizeof val) != 0) {
        nn_fuzz_die(what, nn_errno());
    }
}

/* A port on 127.0.0.1 that nobody listens on right now. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        nn_fuzz_die("probe socket", errno);
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        nn_fuzz_die("probe bind", errno);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void open_slot(nn_fuzz_slot *sl, const nn_fuzz_proto *pr, int k)
{
    int s = nn_socket(AF_SP, pr->type);
    if (s < 0) {
        nn_fuzz_die("nn_socket", nn_errno());
    }
    int lim = 0;
    size_t sz = sizeof lim;
    if (k == 0) {
        /* ref_peer.h's limit 0 (the default) is 1 MiB here, as limit 1. */
        if (nn_getsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &lim, &sz) != 0 ||
            lim != NN_FUZZ_DEFAULT_LIMIT) {
            nn_fuzz_die("nanomsg's default NN_RCVMAXSIZE is not 1 MiB", 0);
        }
    } else {
        set_int(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, k == 1 ? NN_FUZZ_DEFAULT_LIMIT : SPW_REF_SMALL_LIMIT,
                "NN_RCVMAXSIZE");
    }
    if (nn_desc(pr)->flags & SPW_PF_SENDS_FIRST) {
        /* A send waits for the pipe to be writable, never past the bound. */
        set_int(s, NN_SOL_SOCKET, NN_SNDTIMEO, SPW_REF_BOUND_MS, "NN_SNDTIMEO");
    }
    if (pr->type == NN_SUB && nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) != 0) {
        nn_fuzz_die("subscribe", nn_errno());
    }
    sl->recvfd = -1;
    sz = sizeof sl->recvfd;
    if (pr->can_recv && nn_getsockopt(s, NN_SOL_SOCKET, NN_RCVFD, &sl->recvfd, &sz) != 0) {
        nn_fuzz_die("NN_RCVFD", nn_errno());
    }
    int tries = 0;
    for (;;) {
        char url[40];
        uint16_t port = free_port();
        snprintf(url, sizeof url, "tcp://127.0.0.1:%u", (unsigned)port);
        if (nn_bind(s, url) >= 0) {
            sl->port = port;
            break;
        }
        int e = nn_errno();
        if (e != EADDRINUSE || ++tries == NN_FUZZ_BIND_TRIES) {
            nn_fuzz_die("nn_bind", e);
        }
    }
    sl->sock = s;
    sl->pr = pr;
    sl->open = 1;
}

static void close_slot(nn_fuzz_slot *sl)
{
    if (nn_close(sl->sock) != 0) {
        nn_fuzz_die("nn_close", nn_errno());
    }
    sl->open = 0;
}

/* Take every message nanomsg has queued for the application. ctx: the slot,
 * as spw_ref_impl passes it. */
static void drain_nanomsg(void *ctx)
{
    const nn_fuzz_slot *sl = ctx;
    if (!sl->pr->can_recv) {
        return;
    }
    void *m;
    while (nn_recv(sl->sock, &m, NN_MSG, NN_DONTWAIT) >= 0) {
        nn_freemsg(m);
    }
}

static size_t live_pipes(void *ctx)
{
    const nn_fuzz_slot *sl = ctx;
    uint64_t n = nn_get_statistic(sl->sock, NN_STAT_CURRENT_CONNECTIONS);
    if (n == (uint64_t)-1) {
        nn_fuzz_die("NN_STAT_CURRENT_CONNECTIONS", nn_errno());
    }
    return (size_t)n;
}

/* For spw_ref_wait_clean, which then waits for the fds alone: the pipe
 * count is waited for apart, so that a pipe counted after its connection is
 * gone has a signature of its own. */
static size_t no_pipes(void *ctx)
{
    (void)ctx;
    return 0;
}

/* Once no fd of the input is left, nanomsg must stop counting its pipe. */
NN_FUZZ_NOINLINE static void wait_pipe_gone(nn_fuzz_slot *sl, const char *what)
{
    int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
    unsigned spins = 0;
    while (live_pipes(sl) != 0) {
        drain_nanomsg(sl);
        const int counted_without_connection = spw_ref_now_ms() >= deadline;
        if (counted_without_connection) {
            fprintf(stderr, "fuzz_nanomsg: a pipe is still counted, its connection closed; %s\n", what);
        }
        SPW_FUZZ_CHECK(!counted_without_connection);
        spw_ref_backoff(&spins);
    }
}

/* After a valid header: wait until the connection is a pipe (before nanomsg
 * sends on it; before our end vanishes abruptly, see the header comment on
 * F14), or nanomsg has closed it. */
NN_FUZZ_NOINLINE static void wait_pipe_or_eof(int fd, nn_fuzz_slot *sl)
{
    int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
    unsigned spins = 0;
    while (live_pipes(sl) == 0 && !spw_ref_drain_fd(fd)) {
        const int valid_header_got_no_pipe = spw_ref_now_ms() >= deadline;
        SPW_FUZZ_CHECK(!valid_header_got_no_pipe);
        drain_nanomsg(sl);
        spw_ref_backoff(&spins);
    }
}

static uint16_t peer_of(size_t pi)
{
    return nn_desc(&PROTOS[pi])->peer;
}

/* nanomsg sends one message of body bytes: what the pipe's send path does
 * with a peer that may vanish at any point. req and surveyor send a request
 * or survey of their own making. A send that finds no writable pipe within
 * the bound is given up: the input decides whether there is one. */
static void nanomsg_side_send(const nn_fuzz_slot *sl, size_t body)
{
    uint8_t buf[256];
    memset(buf, 0x5A, sizeof buf);
    (void)nn_send(sl->sock, buf, body, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spw_ref_input in;
    if (!spw_ref_input_parse(data, size, NPROTOS, peer_of, &in)) {
        return 0;
    }
    const size_t pi = in.proto;
    const nn_fuzz_proto *pr = &PROTOS[pi];
    nn_fuzz_slot *sl = &g_slot[pi][in.limit_k];
    if (!sl->open) {
        open_slot(sl, pr, in.limit_k);
    }
    const spw_ref_impl impl = {drain_nanomsg, sl, sl->recvfd, 1000};
    spw_ref_describe(&in, (uint16_t)pr->type);
    size_t len = in.len;
    if (pr->header_only && len > 8) {
        len = 8;
    }

    spw_ref_fds before;
    spw_ref_fds_snapshot(&before);
    drain_nanomsg(sl);

    int fd = spw_ref_connect_loopback(sl->port);
    spw_ref_read_header(fd, (uint16_t)pr->type);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        nn_fuzz_die("O_NONBLOCK", errno);
    }

    int sent = 0;
    if (in.impl_sends && (nn_desc(pr)->flags & SPW_PF_SENDS_FIRST) && in.hs_valid) {
        /* Header first, then wait for the pipe so the send has somewhere to
         * go; the rest of the stream follows while nanomsg may be sending. */
        spw_ref_write(fd, &impl, in.stream, 8, in.cut);
        wait_pipe_or_eof(fd, sl);
        nanomsg_side_send(sl, in.cut);
        sent = 1;
        spw_ref_write(fd, &impl, in.stream + 8, len - 8, in.cut);
    } else {
        spw_ref_write(fd, &impl, in.stream, len, in.cut);
    }
    if (in.hs_valid && in.end != SPW_REF_END_SHUTDOWN) {
        wait_pipe_or_eof(fd, sl);
    }
    spw_ref_finish(fd, &impl, in.end);

    /* nanomsg must drop the pipe and its fd. */
    char what[160];
    snprintf(what, sizeof what, "nanomsg %s, mode 0x%02x, cut %u, %zu stream bytes", nn_desc(pr)->name,
             data[1], data[2], len);
    spw_ref_wait_clean(&before, &impl, no_pipes, NULL, what);
    wait_pipe_gone(sl, what);
    drain_nanomsg(sl);
    if (sent && pr->fresh_after_send) {
        close_slot(sl);
    }
    return 0;
}
