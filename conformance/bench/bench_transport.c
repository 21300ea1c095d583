/* bench_transport — SP messages over a socketpair, two processes.
 *
 * Driver: creates an AF_UNIX stream socketpair and starts one process per
 * end: the first implementation of --pair is the sender (oneway) or client
 * (rr), the second the receiver or server. spwire and raw ends are this
 * program, forked; NNG ends are bench_ep_nng110 (implementation "nng", NNG
 * 1.10.1) or bench_ep_nng112 ("nng112", NNG 1.12.4), each run through its
 * release's loader. Every pair is two processes, so spwire and NNG pay the same
 * scheduling and wake-up costs; cases run one after another, never in
 * parallel. Roles and metrics: bench_roles.h.
 *
 *   bench_transport --all [--quick] [--pairs LIST] [--sizes LIST]
 *   bench_transport --pair A-B --mode oneway|rr --size S [--count N] [--warmup W]
 *   bench_transport --endpoint --impl spw|raw ...   (internal)
 *
 * The raw loop is the physical limit for this framing: blocking socket,
 * one writev (12-byte header: length + pair1 hop count, then the payload)
 * per message, and a reader that reads 256 KiB at a time and walks the
 * lengths without copying or allocating anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench_roles.h"
#include "bench_util.h"
#include "spw_proc.h"
#include "spwire/error.h"
#include "spwire/frame.h"
#include "spwire/listener.h"
#include "spwire/pipe.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

#ifndef BENCH_NNG_EP
#define BENCH_NNG_EP ""
#endif
#ifndef BENCH_NNG_LOADER
#define BENCH_NNG_LOADER ""
#endif
#ifndef BENCH_NNG_LIBPATH
#define BENCH_NNG_LIBPATH ""
#endif
#ifndef BENCH_NNG112_EP
#define BENCH_NNG112_EP ""
#endif
#ifndef BENCH_NNG112_LOADER
#define BENCH_NNG112_LOADER ""
#endif
#ifndef BENCH_NNG112_LIBPATH
#define BENCH_NNG112_LIBPATH ""
#endif

/* The NNG ends: an implementation name of --pair, its program and loader
 * (empty when CMake found no prefix for that release). */
typedef struct nng_end {
    const char *impl, *release, *ep, *loader, *libpath;
} nng_end;
static const nng_end NNG_ENDS[] = {
    {"nng", "NNG 1.10.1", BENCH_NNG_EP, BENCH_NNG_LOADER, BENCH_NNG_LIBPATH},
    {"nng112", "NNG 1.12.4", BENCH_NNG112_EP, BENCH_NNG112_LOADER, BENCH_NNG112_LIBPATH},
};

#define PAIR1_HDR 4
#define RECV_LIMIT ((uint64_t)2 * 1024 * 1024)

/* ------------------------------------------------------------ spwire end */

typedef struct spw_ctx {
    spw_listener *l;
    spw_pipe *p;
} spw_ctx;

static int spw_send(void *c, uint8_t *payload, size_t len)
{
    spw_ctx *x = c;
    spw_pair1_encode(payload - PAIR1_HDR, 1);
    int rc = spw_pipe_send(x->p, payload - PAIR1_HDR, len + PAIR1_HDR, -1);
    if (rc != SPW_OK)
        fprintf(stderr, "spw send: %s\n", spw_strerror(rc));
    return rc == SPW_OK ? 0 : -1;
}

static int spw_get(spw_ctx *x, spw_msg *m)
{
    int rc = spw_pipe_recv(x->p, m, -1);
    if (rc != SPW_OK) {
        fprintf(stderr, "spw recv: %s\n", spw_strerror(rc));
        return -1;
    }
    unsigned hops;
    if (spw_pair1_parse(m->data, m->len, SPW_TTL_DEFAULT, &hops) != SPW_HDR_ACCEPT) {
        fprintf(stderr, "spw recv: bad pair1 header\n");
        spw_pipe_msg_free(x->p, m);
        return -1;
    }
    return 0;
}

static int spw_recv(void *c, size_t *len)
{
    spw_ctx *x = c;
    spw_msg m;
    if (spw_get(x, &m) != 0)
        return -1;
    *len = m.len - PAIR1_HDR;
    bench_sink(m.data, m.len);
    spw_pipe_msg_free(x->p, &m);
    return 0;
}

static int spw_echo(void *c)
{
    spw_ctx *x = c;
    spw_msg m;
    if (spw_get(x, &m) != 0)
        return -1;
    int rc = spw_pipe_send(x->p, m.data, m.len, -1);
    spw_pipe_msg_free(x->p, &m);
    return rc == SPW_OK ? 0 : -1;
}

static int spw_endpoint(const bench_args *a)
{
    spw_ctx x = {0};
    int rc = spw_listener_create(&x.l, SPW_PROTO_PAIR1, SPW_URL, NULL);
    if (rc == SPW_OK)
        rc = spw_listener_set_size(x.l, SPW_OPT_RECVMAXSZ, RECV_LIMIT);
    if (rc == SPW_OK)
        rc = spw_listener_set_int(x.l, SPW_OPT_SOCKET_FD, a->fd);
    if (rc == SPW_OK)
        rc = spw_listener_accept(x.l, &x.p, 10000);
    if (rc != SPW_OK) {
        fprintf(stderr, "spw endpoint: %s\n", spw_strerror(rc));
        return 1;
    }
    static const bench_ops ops = {spw_send, spw_recv, spw_echo, NULL};
    int status = bench_run_role(a, &ops, &x);
    spw_pipe_close(x.p);
    spw_listener_close(x.l);
    return status;
}

/* --------------------------------------------------------------- raw end */

#define RAW_BUF ((size_t)256 * 1024)

typedef struct raw_ctx {
    int fd;
    uint8_t *buf;
    size_t cap, pos, len;
} raw_ctx;

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int raw_writev(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            perror("raw writev");
            return -1;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static int raw_send(void *c, uint8_t *payload, size_t len)
{
    raw_ctx *x = c;
    uint8_t hdr[SPW_FRAME_HEADER_SIZE + PAIR1_HDR];
    spw_frame_encode_header(hdr, len + PAIR1_HDR);
    spw_pair1_encode(hdr + SPW_FRAME_HEADER_SIZE, 1);
    struct iovec iov[2] = {{hdr, sizeof hdr}, {payload, len}};
    return raw_writev(x->fd, iov, 2);
}

/* Read more after what is buffered; compacts first when the tail is short. */
static int raw_fill(raw_ctx *x)
{
    if (x->pos == x->len) {
        x->pos = x->len = 0;
    } else if (x->len == x->cap) {
        memmove(x->buf, x->buf + x->pos, x->len - x->pos);
        x->len -= x->pos;
        x->pos = 0;
    }
    for (;;) {
        ssize_t r = read(x->fd, x->buf + x->len, x->cap - x->len);
        if (r > 0) {
            x->len += (size_t)r;
            return 0;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            perror("raw read");
        else
            fprintf(stderr, "raw read: EOF\n");
        return -1;
    }
}

/* Walk one frame's length; skip its body without copying it. */
static int raw_recv(void *c, size_t *len)
{
    raw_ctx *x = c;
    while (x->len - x->pos < SPW_FRAME_HEADER_SIZE + PAIR1_HDR)
        if (raw_fill(x) != 0)
            return -1;
    uint64_t n = be64(x->buf + x->pos);
    if (n < PAIR1_HDR || n > RECV_LIMIT)
        return -1;
    uint64_t total = n;
    x->pos += SPW_FRAME_HEADER_SIZE;
    while (n > 0) {
        size_t have = x->len - x->pos;
        size_t take = have < n ? have : (size_t)n;
        bench_sink(x->buf + x->pos, take);
        x->pos += take;
        n -= take;
        if (n > 0 && raw_fill(x) != 0)
            return -1;
    }
    *len = (size_t)total - PAIR1_HDR;
    return 0;
}

/* The echo needs the whole frame in hand, then writes it back at once. */
static int raw_echo(void *c)
{
    raw_ctx *x = c;
    while (x->len - x->pos < SPW_FRAME_HEADER_SIZE)
        if (raw_fill(x) != 0)
            return -1;
    uint64_t n = be64(x->buf + x->pos);
    if (n < PAIR1_HDR || n > RECV_LIMIT)
        return -1;
    size_t flen = (size_t)n + SPW_FRAME_HEADER_SIZE;
    if (x->cap - x->pos < flen) {
        memmove(x->buf, x->buf + x->pos, x->len - x->pos);
        x->len -= x->pos;
        x->pos = 0;
    }
    while (x->len - x->pos < flen)
        if (raw_fill(x) != 0)
            return -1;
    struct iovec iov[1] = {{x->buf + x->pos, flen}};
    x->pos += flen;
    return raw_writev(x->fd, iov, 1);
}

static int raw_endpoint(const bench_args *a)
{
    raw_ctx x = {a->fd, NULL, 0, 0, 0};
    x.cap = RAW_BUF;
    if (strcmp(a->role, "server") == 0 || strcmp(a->role, "client") == 0)
        x.cap = (size_t)RECV_LIMIT + 64; /* an echo holds a whole frame */
    x.buf = malloc(x.cap);
    if (!x.buf)
        bench_die("out of memory");
    static const bench_ops ops = {raw_send, raw_recv, raw_echo, NULL};
    int status = bench_run_role(a, &ops, &x);
    free(x.buf);
    close(a->fd);
    return status;
}

/* ---------------------------------------------------------------- driver */

/* The NNG end called impl, or NULL when impl is not an NNG end. */
static const nng_end *nng_end_of(const char *impl)
{
    for (size_t i = 0; i < sizeof NNG_ENDS / sizeof NNG_ENDS[0]; i++)
        if (strcmp(NNG_ENDS[i].impl, impl) == 0)
            return &NNG_ENDS[i];
    return NULL;
}

static int nng_available(const nng_end *e)
{
    return e->ep[0] != 0 && access(e->ep, X_OK) == 0 && e->loader[0] != 0 &&
           access(e->loader, X_OK) == 0;
}

static void start_end(spw_proc *p, const char *impl, const char *role, int fd, int other,
                      const char *tag, size_t size, size_t count, size_t warmup)
{
    char fds[16], sizes[32], counts[32], warms[32];
    snprintf(fds, sizeof fds, "%d", fd);
    snprintf(sizes, sizeof sizes, "%zu", size);
    snprintf(counts, sizeof counts, "%zu", count);
    snprintf(warms, sizeof warms, "%zu", warmup);
    const nng_end *e = nng_end_of(impl);
    if (e) {
        char *argv[] = {(char *)e->loader, (char *)"--library-path",
                        (char *)e->libpath, (char *)e->ep,
                        (char *)"--impl", (char *)impl, (char *)"--role", (char *)role,
                        (char *)"--fd", fds, (char *)"--size", sizes, (char *)"--count", counts,
                        (char *)"--warmup", warms, (char *)"--tag", (char *)tag, NULL};
        spw_proc_opts o = {.keep = &fd, .nkeep = 1};
        if (spw_proc_spawn(p, &o, argv) != 0)
            bench_die("fork: %s", strerror(errno));
        return;
    }
    int r = spw_proc_fork(p, NULL);
    if (r < 0)
        bench_die("fork: %s", strerror(errno));
    if (r > 0)
        return;
    close(other);
    bench_args a = {impl, role, tag, fd, size, count, warmup};
    int st = strcmp(impl, "spw") == 0 ? spw_endpoint(&a) : raw_endpoint(&a);
    fflush(stdout);
    _exit(st);
}

/* One case: returns 0 when both ends exited 0. */
static int run_case(const char *pair, const char *mode, size_t size, size_t count, size_t warmup)
{
    char a[8] = {0}, b[8] = {0};
    if (sscanf(pair, "%7[a-z0-9]-%7[a-z0-9]", a, b) != 2)
        bench_die("bad --pair %s (want e.g. spw-nng)", pair);
    for (int i = 0; i < 2; i++) {
        const char *impl = i ? b : a;
        if (strcmp(impl, "spw") && !nng_end_of(impl) && strcmp(impl, "raw"))
            bench_die("unknown implementation %s", impl);
    }
    if ((strcmp(a, "raw") == 0) != (strcmp(b, "raw") == 0))
        bench_die("the raw loop only talks to itself");
    int oneway = strcmp(mode, "oneway") == 0;
    if (!oneway && strcmp(mode, "rr") != 0)
        bench_die("unknown mode %s", mode);
    int sv[2];
    /* O_CLOEXEC: an exec'd end must not hold the other end open */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        bench_die("socketpair: %s", strerror(errno));
    char tag[128];
    snprintf(tag, sizeof tag, "transport.%s.%s.%zu", mode, pair, size);
    spw_proc ends[2];
    start_end(&ends[0], a, oneway ? "sender" : "client", sv[0], sv[1], tag, size, count, warmup);
    start_end(&ends[1], b, oneway ? "receiver" : "server", sv[1], sv[0], tag, size, count, warmup);
    close(sv[0]);
    close(sv[1]);
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        spw_proc_wait(&ends[i], -1);
        if (spw_proc_exit_code(&ends[i]) != 0) {
            fprintf(stderr, "bench_transport: %s end of %s failed\n", i ? b : a, tag);
            ok = 0;
            /* the other end may wait forever on a dead peer's socket: it
             * cannot, both ends of the pair are closed once the dead end is */
        }
    }
    return ok ? 0 : 1;
}

static size_t default_count(const char *mode, size_t size)
{
    int rr = strcmp(mode, "rr") == 0;
    if (size <= 4096)
        return rr ? 10000 : (size <= 256 ? 200000 : 50000);
    if (size <= 65536)
        return rr ? 2000 : 5000;
    return rr ? 200 : 500;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_transport --all [--quick] [--pairs A-B,..] [--sizes S,..] [--modes M,..]\n"
            "       bench_transport --pair A-B --mode oneway|rr --size S [--count N] [--warmup W]\n"
            "  implementations: spw, raw (raw-raw only)");
    for (size_t i = 0; i < sizeof NNG_ENDS / sizeof NNG_ENDS[0]; i++)
        fprintf(stderr, ", %s (%s %s)", NNG_ENDS[i].impl, NNG_ENDS[i].release,
                nng_available(&NNG_ENDS[i]) ? "available" : "NOT built");
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "--endpoint") == 0) {
        bench_args a;
        if (bench_parse_endpoint(argc - 2, argv + 2, &a) != 0)
            return 2;
        if (strcmp(a.impl ? a.impl : "", "spw") == 0)
            return spw_endpoint(&a);
        if (strcmp(a.impl ? a.impl : "", "raw") == 0)
            return raw_endpoint(&a);
        fprintf(stderr, "bench_transport: --endpoint needs --impl spw|raw\n");
        return 2;
    }
    int all = 0, quick = 0;
    const char *pair = NULL, *mode = NULL;
    char pairs[256] = "spw-spw,nng-nng,spw-nng,nng112-nng112,spw-nng112,raw-raw",
         sizes[128] = "64,4k,64k,1m",
         modes[64] = "oneway,rr";
    size_t size = 64, count = 0, warmup = (size_t)-1;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(k, "--all") == 0) {
            all = 1;
            continue;
        }
        if (strcmp(k, "--quick") == 0) {
            quick = 1;
            continue;
        }
        if (strcmp(k, "--help") == 0 || !v) {
            usage();
            return strcmp(k, "--help") == 0 ? 0 : 2;
        }
        i++;
        if (strcmp(k, "--pair") == 0)
            pair = v;
        else if (strcmp(k, "--mode") == 0)
            mode = v;
        else if (strcmp(k, "--size") == 0)
            size = bench_parse_size(v, &ok);
        else if (strcmp(k, "--count") == 0)
            count = bench_parse_size(v, &ok);
        else if (strcmp(k, "--warmup") == 0)
            warmup = bench_parse_size(v, &ok);
        else if (strcmp(k, "--pairs") == 0)
            snprintf(pairs, sizeof pairs, "%s", v);
        else if (strcmp(k, "--sizes") == 0)
            snprintf(sizes, sizeof sizes, "%s", v);
        else if (strcmp(k, "--modes") == 0)
            snprintf(modes, sizeof modes, "%s", v);
        else
            ok = 0;
        if (!ok) {
            usage();
            return 2;
        }
    }
    if (!all) {
        if (!pair || !mode) {
            usage();
            return 2;
        }
        if (!count)
            count = default_count(mode, size) / (quick ? 100 : 1);
        if (warmup == (size_t)-1)
            warmup = count / 10 + 1;
        return run_case(pair, mode, size, count ? count : 1, warmup);
    }
    int failed = 0;
    char *ms, *ps, *ss;
    for (char *m = strtok_r(modes, ",", &ms); m; m = strtok_r(NULL, ",", &ms)) {
        char pcopy[256];
        snprintf(pcopy, sizeof pcopy, "%s", pairs);
        for (char *p = strtok_r(pcopy, ",", &ps); p; p = strtok_r(NULL, ",", &ps)) {
            char a[8] = {0}, b[8] = {0};
            const nng_end *missing = NULL;
            if (sscanf(p, "%7[a-z0-9]-%7[a-z0-9]", a, b) == 2)
                for (int i = 0; i < 2; i++) {
                    const nng_end *e = nng_end_of(i ? b : a);
                    if (e && !nng_available(e))
                        missing = e;
                }
            if (missing) {
                fprintf(stderr, "bench_transport: skipping %s (%s end not built)\n", p,
                        missing->release);
                continue;
            }
            char scopy[128];
            snprintf(scopy, sizeof scopy, "%s", sizes);
            for (char *s = strtok_r(scopy, ",", &ss); s; s = strtok_r(NULL, ",", &ss)) {
                int ok;
                size_t sz = bench_parse_size(s, &ok);
                if (!ok)
                    bench_die("bad size %s", s);
                size_t n = count ? count : default_count(m, sz) / (quick ? 100 : 1);
                if (n == 0)
                    n = 1;
                size_t w = warmup == (size_t)-1 ? n / 10 + 1 : warmup;
                failed |= run_case(p, m, sz, n, w);
            }
        }
    }
    return failed;
}
