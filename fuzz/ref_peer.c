/* ref_peer — see ref_peer.h. */
#define _GNU_SOURCE

#include "ref_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "spwire/proto.h"

static void ref_die(const char *what)
{
    fprintf(stderr, "ref_peer: %s: %s\n", what, strerror(errno));
    fflush(stderr);
    abort();
}

int spw_ref_input_parse(const uint8_t *data, size_t size, size_t nprotos,
                        uint16_t (*peer_of)(size_t proto), spw_ref_input *in)
{
    if (size < SPW_REF_PREFIX || nprotos == 0) {
        return 0;
    }
    memset(in, 0, sizeof *in);
    in->proto = data[0] % nprotos;
    in->limit_k = (data[1] & 3) == 3 ? 0 : (data[1] & 3);
    in->impl_sends = (data[1] >> 2) & 1;
    unsigned e = (data[1] >> 3) & 3;
    in->end = e == 3 ? SPW_REF_END_SHUTDOWN : (spw_ref_end)e;
    in->cut = data[2];
    in->stream = data + SPW_REF_PREFIX;
    in->len = size - SPW_REF_PREFIX;
    const uint16_t peer = peer_of(in->proto);
    const uint8_t valid[8] = {0, 'S', 'P', 0, (uint8_t)(peer >> 8), (uint8_t)peer, 0, 0};
    in->hs_valid = in->len >= 8 && memcmp(in->stream, valid, 8) == 0;
    return 1;
}

void spw_ref_describe(const spw_ref_input *in, uint16_t self)
{
    static int want = -1; /* 0 no, 1 describe, 2 describe and stop */
    if (want < 0) {
        const char *v = getenv("SPW_REF_DESCRIBE");
        want = v == NULL ? 0 : strcmp(v, "only") == 0 ? 2 : 1;
    }
    if (!want) {
        return;
    }
    static const char *const ends[] = {"shutdown", "close", "reset"};
    const char *name = spw_proto_name(self);
    fprintf(stderr, "spw-ref-input: proto %s limit %llu impl-sends %d end %s cut %zu\n",
            name != NULL ? name : "?", (unsigned long long)spw_ref_limit_bytes(in->limit_k),
            in->impl_sends, ends[in->end], in->cut);
    fflush(stderr);
    if (want == 2) {
        /* Only the description was asked for: no connection, and no
         * exit handlers (the implementation's threads are running). */
        _exit(0);
    }
}

int64_t spw_ref_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spw_ref_backoff(unsigned *spins)
{
    static int slack_set;
    if (!slack_set) {
        /* Linux rounds every sleep up by the timer slack (50 us by
         * default): a 20 us backoff would sleep 70 us or more, and most
         * inputs wait here a few times for the implementation's threads. */
        (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        slack_set = 1;
    }
    struct timespec ts = {0, *spins < 50 ? 20000 : 1000000};
    (*spins)++;
    nanosleep(&ts, NULL);
}

int spw_ref_connect_loopback(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ref_die("socket");
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno != EINTR) {
            ref_die("connect to the implementation's listener");
        }
    }
    return fd;
}

int spw_ref_socketpair(int *theirs)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        ref_die("socketpair");
    }
    *theirs = sv[1];
    return sv[0];
}

void spw_ref_read_header(int fd, uint16_t self)
{
    uint8_t h[8];
    size_t got = 0;
    int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
    while (got < sizeof h) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - spw_ref_now_ms();
        SPW_FUZZ_CHECK(left > 0); /* accepted nothing or sent no header */
        if (poll(&p, 1, (int)left) <= 0) {
            continue;
        }
        ssize_t n = recv(fd, h + got, sizeof h - got, 0);
        SPW_FUZZ_CHECK(n > 0 || (n < 0 && errno == EINTR));
        if (n > 0) {
            got += (size_t)n;
        }
    }
    const uint8_t want[8] = {0, 'S', 'P', 0, (uint8_t)(self >> 8), (uint8_t)self, 0, 0};
    SPW_FUZZ_CHECK(memcmp(h, want, sizeof want) == 0);
}

int spw_ref_drain_fd(int fd)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        if (n == 0) {
            return 1;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

static void impl_drain(const spw_ref_impl *impl)
{
    if (impl->drain != NULL) {
        impl->drain(impl->ctx);
    }
}

/* Wait up to ms for our fd (events ev) or for the implementation's wake fd. */
static void poll_both(int fd, short ev, const spw_ref_impl *impl, int ms)
{
    const int cap = impl->poll_ms > 0 ? impl->poll_ms : 1000;
    if (ms > cap) {
        ms = cap;
    }
    struct pollfd p[2] = {{fd, ev, 0}, {impl->wake_fd, POLLIN, 0}};
    (void)poll(p, impl->wake_fd >= 0 ? 2 : 1, ms);
}

void spw_ref_write(int fd, const spw_ref_impl *impl, const uint8_t *s, size_t len, size_t cut)
{
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (cut > 0 && n > cut) {
            n = cut;
        }
        ssize_t w = send(fd, s + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The implementation is not reading: it waits for the
             * application or is busy. Drain both ways, then wait for room. */
            impl_drain(impl);
            if (spw_ref_drain_fd(fd)) {
                return;
            }
            poll_both(fd, POLLOUT, impl, 1000);
            continue;
        }
        return; /* EPIPE / ECONNRESET: the implementation dropped us */
    }
}

void spw_ref_finish(int fd, const spw_ref_impl *impl, spw_ref_end end)
{
    if (end == SPW_REF_END_CLOSE) {
        close(fd);
        return;
    }
    if (end == SPW_REF_END_RESET) {
        struct linger lg = {1, 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
        return;
    }
    (void)shutdown(fd, SHUT_WR);
    /* It has every byte and the EOF: it must close its end. */
    int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
    while (!spw_ref_drain_fd(fd)) {
        int64_t left = deadline - spw_ref_now_ms();
        SPW_FUZZ_CHECK(left > 0); /* kept the connection open after EOF */
        impl_drain(impl);
        poll_both(fd, POLLIN, impl, left < 1000 ? (int)left : 1000);
    }
    close(fd);
}

void spw_ref_fds_snapshot(spw_ref_fds *s)
{
    for (int fd = 0; fd < SPW_REF_FD_PROBE; fd++) {
        s->open[fd] = (uint8_t)(fcntl(fd, F_GETFD) != -1);
    }
}

void spw_ref_wait_clean(const spw_ref_fds *before, const spw_ref_impl *impl,
                        size_t (*live)(void *ctx), void *live_ctx, const char *what)
{
    int64_t deadline = spw_ref_now_ms() + SPW_REF_BOUND_MS;
    unsigned spins = 0;
    spw_ref_fds after;
    for (;;) {
        impl_drain(impl);
        spw_ref_fds_snapshot(&after);
        int same = 1;
        for (int i = 0; i < SPW_REF_FD_PROBE; i++) {
            same &= !(after.open[i] && !before->open[i]);
        }
        size_t n = live(live_ctx);
        if (same && n == 0) {
            return;
        }
        if (spw_ref_now_ms() >= deadline) {
            for (int i = 0; i < SPW_REF_FD_PROBE; i++) {
                if (after.open[i] && !before->open[i]) {
                    char path[64], link[128] = "?";
                    snprintf(path, sizeof path, "/proc/self/fd/%d", i);
                    ssize_t k = readlink(path, link, sizeof link - 1);
                    link[k > 0 ? k : 1] = '\0';
                    fprintf(stderr, "ref_peer: fd %d leaked (still open: %s)\n", i, link);
                }
            }
            fprintf(stderr, "ref_peer: %zu connection(s) still live; %s\n", n, what);
            spw_fuzz_fail(__FILE__, __LINE__,
                          "the implementation kept a connection or an fd after it ended");
        }
        spw_ref_backoff(&spins);
    }
}
