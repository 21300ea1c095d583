/* fuzz_spwlistener — the reference targets' harness (ref_peer.h) with the
 * implementation replaced by spwire's own listener and pipes.
 *
 * What it is for: the baseline of scripts/bench's harness table. fuzz_nng
 * pays for NNG's threads, allocations and TCP transport on every input;
 * this harness does the same per-input work on the harness side (a loopback
 * TCP connection, the 8-byte header read, the stream written in the input's
 * cuts, the chosen finish, the fd leak wait) against an implementation that
 * has no threads, so the gap between the two rows is what NNG costs. It is
 * also a fuzz target of spwire's listener and pipe reached through a real
 * socket (the other spwire targets drive the sans-I/O core or one pipe), and
 * its checks are the same as fuzz_nng's; it runs on corpus/nng (the input
 * layout is the reference targets').
 *
 * spwire is single-threaded, so it runs inside the harness's drain callback:
 * each call accepts completed handshakes, reads every message that is
 * there, and closes a pipe at its first error (the peer closed, reset,
 * announced too much). With the implementation's limit 0 ("its default")
 * spwire's default limit applies. When the input asks the implementation to
 * send, the accepted pipe sends one message of the cut's length (mod 257).
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

#include "fuzz_common.h"
#include "ref_peer.h"
#include "spwire/error.h"
#include "spwire/listener.h"
#include "spwire/pipe.h"
#include "spwire/proto.h"

#define SPWL_MAX_PIPES 4

static struct {
    int ready;
    int lfd;       /* our TCP listening socket */
    uint16_t port;
} G;

/* Per input: spwire's listener and the pipes it handed out. */
typedef struct spwl_impl {
    spw_listener *l;
    spw_pipe *pipes[SPWL_MAX_PIPES];
    size_t npipes;
    int send_len; /* >= 0: send one message of this size once a pipe is up */
} spwl_impl;

static void spwl_die(const char *what)
{
    fprintf(stderr, "fuzz_spwlistener: %s: %s\n", what, strerror(errno));
    fflush(stderr);
    abort();
}

static void setup(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    G.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (G.lfd < 0 || bind(G.lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(G.lfd, 16) != 0 ||
        getsockname(G.lfd, (struct sockaddr *)&a, &al) != 0) {
        spwl_die("loopback listening socket");
    }
    G.port = ntohs(a.sin_port);
    G.ready = 1;
}

static uint16_t peer_of(size_t i)
{
    int self = spw_proto_at((int)i);
    return (uint16_t)spw_proto_peer((uint16_t)self);
}

/* One non-blocking pass of spwire's side. */
static void spwl_drain(void *ctx)
{
    spwl_impl *im = ctx;
    spw_pipe *p;
    while (im->npipes < SPWL_MAX_PIPES && spw_listener_accept(im->l, &p, 0) == SPW_OK) {
        im->pipes[im->npipes++] = p;
        if (im->send_len >= 0) {
            static uint8_t body[256];
            memset(body, 0x5A, sizeof body);
            (void)spw_pipe_send(p, body, (size_t)im->send_len, 0);
            im->send_len = -1;
        }
    }
    for (size_t i = 0; i < im->npipes;) {
        spw_msg m;
        int rc;
        while ((rc = spw_pipe_recv(im->pipes[i], &m, 0)) == SPW_OK) {
            spw_pipe_msg_free(im->pipes[i], &m);
        }
        if (rc != SPW_ETIMEDOUT) {
            spw_pipe_close(im->pipes[i]);
            im->pipes[i] = im->pipes[--im->npipes];
            continue;
        }
        i++;
    }
}

static size_t spwl_live(void *ctx)
{
    spwl_impl *im = ctx;
    return im->npipes + (size_t)spw_listener_pending(im->l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spw_ref_input in;
    if (!spw_ref_input_parse(data, size, SPW_PROTO_COUNT, peer_of, &in)) {
        return 0;
    }
    if (!G.ready) {
        setup();
    }
    const uint16_t self = (uint16_t)spw_proto_at((int)in.proto);
    spw_ref_describe(&in, self);

    spw_ref_fds before;
    spw_ref_fds_snapshot(&before);

    spwl_impl im = {.send_len = -1};
    if (spw_listener_create(&im.l, self, "socket://", NULL) != SPW_OK) {
        spwl_die("spw_listener_create");
    }
    const uint64_t limit = spw_ref_limit_bytes(in.limit_k);
    if (limit > 0 && spw_listener_set_size(im.l, SPW_OPT_RECVMAXSZ, limit) != SPW_OK) {
        spwl_die("RECVMAXSZ");
    }
    /* The transport sends for any protocol: what a message means is the
     * protocol layer's, which spwire's transport does not have. */
    if (in.impl_sends && in.hs_valid) {
        im.send_len = (int)(in.cut % 257);
    }
    const spw_ref_impl impl = {spwl_drain, &im, -1, 1};

    int fd = spw_ref_connect_loopback(G.port);
    int afd = accept4(G.lfd, NULL, NULL, SOCK_CLOEXEC);
    if (afd < 0) {
        spwl_die("accept");
    }
    if (spw_listener_set_int(im.l, SPW_OPT_SOCKET_FD, afd) != SPW_OK) {
        spwl_die("SOCKET_FD");
    }
    spw_ref_read_header(fd, self);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        spwl_die("O_NONBLOCK");
    }
    spw_ref_write(fd, &impl, in.stream, in.len, in.cut);
    spw_ref_finish(fd, &impl, in.end);

    char what[128];
    snprintf(what, sizeof what, "spwire %s, mode 0x%02x, cut %u, %zu stream bytes",
             spw_proto_name(self), data[1], data[2], in.len);
    /* spwire closes a pipe once it sees the end; a pending handshake ends at
     * the next pass after the peer's close. */
    spw_ref_wait_clean(&before, &impl, spwl_live, &im, what);
    spw_listener_close(im.l);
    return 0;
}
