/* spw-conform-selftest-iut — a tiny SP implementation under test on spwire's
 * sans-I/O core, used as spw-conform's own self-test. It accepts the peer CLI
 * subset that {behaviour} produces, and has deliberately broken modes:
 *
 *   --mode ok     conforming: echoes as pair0/pair1/bus/rep/respondent;
 *                 as req/surveyor asks again each time it is answered
 *   --mode lax    ignores the version and reserved handshake bytes, and
 *                 as a requester takes an answer whatever its id     -> FAIL
 *   --mode crash  abort()s on a frame length above the limit         -> crash
 *   --mode hang   on such a frame stops reading and ignores SIGTERM  -> hang
 *   --mode leak   never closes a connection the peer closed          -> leak
 *   --mode reuse  a requester that asks every time with the same id  -> FAIL
 *   --mode noflag a requester whose ids lack the top bit             -> FAIL
 *   --mode segv-after-close  dies by SIGSEGV --die-ms (30) ms after
 *                 its peer closed the connection                     -> crash
 *   --mode crash-slowly  on such a frame closes every descriptor (its
 *                 connections, ctl, a listener), then abort()s --die-ms
 *                 later, as a process with many threads takes a while to
 *                 die after its sockets closed                      -> crash
 *   --mode panic  on an over-limit length prints a panic and exits 2,
 *                 as a Go or Rust runtime panic does                 -> exited
 *   --mode exit-after-close  exits 0 once its connection is closed:
 *                 a one-shot IUT (PASS only with --iut-exit-ok 0)
 *   --mode deaf   sends its header, then never reads                 -> FAIL
 *   --mode close  sends its header and closes at once: the fastest IUT
 *                 there can be (scripts/bench's limit for spw-conform fuzz)
 *   --mode retry  conforming requester that also asks again by itself,
 *                 with a new id, every --retry-ms (300) ms           -> PASS
 *   --mode uaf-on-send-fail  conforming, but when a send fails (the peer
 *                 closed or reset under it) it reads the message it has
 *                 just freed: a real heap-use-after-free, reported by ASan
 *                 in a sanitizer build (then exit 1 or SIGABRT, as
 *                 ASAN_OPTIONS say), unseen in any other   -> crash under ASan
 *   --mode sigpipe  dies of SIGPIPE when a write finds its peer gone, as
 *                 NNG 1.10.1 over socket:// does (FINDINGS F6): it dies
 *                 exactly when the peer vanished while it still had
 *                 echoes to write                                    -> crash
 *
 * It serves one connection: given several fds (--fds) it takes the first
 * and leaves the others alone, as a listener that keeps one fd would, which
 * the socket.fds cases must catch. Like a listener it keeps running once
 * its connection is gone, until a signal ends it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>

#include "spw_ctl.h"
#include "spwire/error.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

enum {
    M_OK,
    M_LAX,
    M_CRASH,
    M_HANG,
    M_LEAK,
    M_REUSE,
    M_NOFLAG,
    M_SEGV_AFTER_CLOSE,
    M_PANIC,
    M_EXIT_AFTER_CLOSE,
    M_DEAF,
    M_RETRY,
    M_CLOSE,
    M_CRASH_SLOWLY,
    M_UAF_ON_SEND_FAIL,
    M_SIGPIPE,
    M_COUNT
};
static const char *const mode_names[M_COUNT] = {
    "ok",    "lax",   "crash", "hang", "leak", "reuse", "noflag", "segv-after-close", "panic",
    "exit-after-close", "deaf", "retry", "close", "crash-slowly", "uaf-on-send-fail",
    "sigpipe"};

static int die_ms = 30;
static int retry_ms = 300;

static int mode = M_OK;
static uint32_t request_id = 0x80000001u; /* of the outstanding request */
static uint16_t proto;
static uint64_t recvmax = SPW_RECVMAX_DEFAULT;

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (mode == M_SIGPIPE && (errno == EPIPE || errno == ECONNRESET)) {
                signal(SIGPIPE, SIG_DFL);
                raise(SIGPIPE);
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* uaf-on-send-fail's send: the frame in one heap buffer, as an
 * implementation queues an outgoing message, and the bug where the failure
 * path frees it and then reports from it. The volatile copy keeps the
 * compiler from seeing (and refusing, -Wuse-after-free) what ASan is there
 * to catch. */
static int send_msg_heap(int fd, const uint8_t *hdr, size_t hl, const uint8_t *body, size_t bl)
{
    size_t n = 8 + hl + bl;
    uint8_t *out = malloc(n);
    if (!out)
        return -1;
    spw_frame_encode_header(out, hl + bl);
    if (hl)
        memcpy(out + 8, hdr, hl);
    if (bl)
        memcpy(out + 8 + hl, body, bl);
    int rc = write_all(fd, out, n), err = errno;
    uint8_t *volatile stale = out;
    free(out);
    if (rc)
        fprintf(stderr, "send failed (%s); dropped a message of %zu bytes, length byte 7 = %u\n",
                strerror(err), n, stale[7]);
    return rc;
}

static int send_msg(int fd, const uint8_t *hdr, size_t hl, const uint8_t *body, size_t bl)
{
    if (mode == M_UAF_ON_SEND_FAIL)
        return send_msg_heap(fd, hdr, hl, body, bl);
    uint8_t h[8];
    spw_frame_encode_header(h, hl + bl);
    if (write_all(fd, h, 8) || write_all(fd, hdr, hl) || write_all(fd, body, bl))
        return -1;
    return 0;
}

static void forever(void)
{
    for (;;)
        pause();
}

static int send_request(int fd)
{
    uint8_t rq[] = {0, 0, 0, 0, 's', 'p'};
    uint32_t id = mode == M_NOFLAG ? request_id & ~SPW_REQID_FLAG : request_id;
    spw_reqid_encode(rq, id & ~SPW_REQID_FLAG);
    if (mode == M_NOFLAG)
        rq[0] &= 0x7f;
    return send_msg(fd, NULL, 0, rq, sizeof rq);
}

/* 0 keep going, -1 close */
static int on_message(int fd, const uint8_t *m, size_t len)
{
    size_t hl;
    int hops;
    unsigned ph;
    switch (spw_hdr_kind_for(proto)) {
    case SPW_HDR_NONE:
        return spw_proto_has(proto, SPW_PF_ECHOES) ? send_msg(fd, NULL, 0, m, len) : 0;
    case SPW_HDR_PAIR1: {
        int v = spw_pair1_parse(m, len, SPW_TTL_DEFAULT, &ph);
        if (v == SPW_HDR_MALFORMED)
            return -1;
        if (v == SPW_HDR_DROP)
            return 0;
        uint8_t h[4];
        spw_pair1_encode(h, 1);
        return send_msg(fd, h, 4, m + 4, len - 4);
    }
    case SPW_HDR_BACKTRACE: {
        int v = spw_backtrace_parse(m, len, SPW_TTL_DEFAULT, &hl, &hops);
        if (v == SPW_HDR_MALFORMED)
            return -1;
        if (v == SPW_HDR_DROP)
            return 0;
        return send_msg(fd, m, hl, m + hl, len - hl);
    }
    case SPW_HDR_REQID: {
        if (len < 4)
            return -1;
        uint32_t id = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
        uint32_t want = mode == M_NOFLAG ? request_id & ~SPW_REQID_FLAG : request_id;
        if (id != want && mode != M_LAX)
            return 0; /* a stray answer */
        if (mode != M_REUSE)
            request_id = ((request_id + 1) & ~SPW_REQID_FLAG) | SPW_REQID_FLAG;
        return send_request(fd);
    }
    default:
        return 0;
    }
}

static void serve(int fd)
{
    /* A small send buffer keeps uaf-on-send-fail writing when the peer
     * goes: a burst of echoes larger than the buffers then always meets the
     * close or reset, and the planted fault never depends on timing. */
    if (mode == M_UAF_ON_SEND_FAIL) {
        int sz = 4096;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }
    spw_handshake hs;
    spw_handshake_init(&hs, proto);
    size_t ol;
    const uint8_t *o = spw_handshake_output(&hs, &ol);
    if (write_all(fd, o, ol)) {
        close(fd);
        return;
    }
    spw_handshake_sent(&hs, ol);
    if (mode == M_CLOSE) {
        close(fd);
        return;
    }
    if (spw_proto_has(proto, SPW_PF_REQUESTS))
        send_request(fd);
    if (mode == M_DEAF)
        forever();
    uint8_t peerhs[8];
    size_t have = 0;
    int done = 0;
    spw_decoder d;
    spw_decoder_init(&d, recvmax, NULL);
    uint8_t buf[65536];
    for (;;) {
        if (mode == M_RETRY) {
            /* the requester's own timer: a new request, a new id */
            struct pollfd pf = {fd, POLLIN, 0};
            if (poll(&pf, 1, retry_ms) == 0) {
                request_id = ((request_id + 1) & ~SPW_REQID_FLAG) | SPW_REQID_FLAG;
                if (send_request(fd))
                    break;
                continue;
            }
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (mode == M_LEAK)
                forever();
            break;
        }
        const uint8_t *p = buf;
        size_t left = (size_t)n;
        if (!done) {
            if (mode == M_LAX) {
                while (left && have < 8) {
                    peerhs[have++] = *p++;
                    left--;
                }
                if (have < 8)
                    continue;
                peerhs[3] = peerhs[6] = peerhs[7] = 0;
                if (spw_handshake_check(peerhs, proto, NULL, NULL) != SPW_OK)
                    break;
            } else {
                size_t used;
                int rc = spw_handshake_feed(&hs, p, left, &used);
                p += used;
                left -= used;
                if (rc < 0)
                    break;
                if (rc != SPW_HANDSHAKE_DONE)
                    continue;
            }
            done = 1;
        }
        int bad = 0;
        while (left > 0 && !bad) {
            size_t used;
            spw_msg m;
            int rc = spw_decoder_feed(&d, p, left, &used, &m);
            p += used;
            left -= used;
            if (rc == SPW_FRAME_MESSAGE) {
                bad = on_message(fd, m.data, m.len) < 0;
                spw_msg_free(&m, NULL);
            } else if (rc < 0) {
                if (rc == SPW_EMSGSIZE && mode == M_CRASH)
                    abort();
                if (rc == SPW_EMSGSIZE && mode == M_CRASH_SLOWLY) {
                    for (int f = 3; f < 1024; f++)
                        close(f);
                    struct timespec ts = {die_ms / 1000, (long)(die_ms % 1000) * 1000000L};
                    nanosleep(&ts, NULL);
                    abort();
                }
                if (rc == SPW_EMSGSIZE && mode == M_PANIC) {
                    fprintf(stderr, "panic: frame length above the receive limit of %llu\n"
                            "goroutine 1 [running]:\nmain.serve()\n",
                            (unsigned long long)recvmax);
                    exit(2);
                }
                if (rc == SPW_EMSGSIZE && mode == M_HANG) {
                    signal(SIGTERM, SIG_IGN);
                    forever();
                }
                bad = 1;
            }
        }
        if (bad)
            break;
    }
    spw_decoder_fini(&d);
    close(fd);
}

/* The connection is over (the peer closed it, or it failed): what the
 * after-close modes do then; the others keep running, as a listener does. */
static void after_connection(void)
{
    if (mode == M_SEGV_AFTER_CLOSE) {
        struct timespec ts = {die_ms / 1000, (long)(die_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        signal(SIGSEGV, SIG_DFL); /* no sanitizer report: a plain crash */
        raise(SIGSEGV);
    }
    if (mode == M_EXIT_AFTER_CLOSE)
        exit(0);
    forever();
}

static int parse_url(const char *url, char *host, size_t hl, char *port, size_t pl)
{
    if (strncmp(url, "tcp://", 6))
        return -1;
    const char *hp = url + 6, *c = strrchr(hp, ':');
    if (!c)
        return -1;
    snprintf(host, hl, "%.*s", (int)(c - hp), hp);
    snprintf(port, pl, "%s", c + 1);
    return 0;
}

static int tcp(const char *url, int listening)
{
    char host[128], port[16];
    if (parse_url(url, host, sizeof host, port, sizeof port))
        return -1;
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai))
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = listening ? bind(fd, ai->ai_addr, ai->ai_addrlen) : connect(fd, ai->ai_addr,
                                                                         ai->ai_addrlen);
    if (rc == 0 && listening)
        rc = listen(fd, 8);
    freeaddrinfo(ai);
    if (rc) {
        close(fd);
        return -1;
    }
    return fd;
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f, "usage: %s --proto NAME (--fd N | --fds N,... | --ctl N | --tcp-listen URL |\n"
               "           --tcp-connect URL) [--mode MODE] [--recvmax N] [--die-ms MS]\n"
               "           [--retry-ms MS]\n"
               "spw-conform's self-test IUT: a tiny SP implementation with planted faults.\n"
               "MODE:", prog);
    for (int k = 0; k < M_COUNT; k++)
        fprintf(f, " %s", mode_names[k]);
    fprintf(f, " (see the top of selftest_iut.c; default ok)\n"
               "It also takes the spwire peer flags that {behaviour} expands to.\n");
}

int main(int argc, char **argv)
{
    int fd = -1, ctl = -1;
    const char *listen_url = NULL, *connect_url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--proto") == 0) {
            int id = spw_proto_by_name(v);
            if (id < 0) {
                fprintf(stderr, "unknown protocol %s\n", v);
                return 2;
            }
            proto = (uint16_t)id;
            i++;
        } else if (strcmp(a, "--fd") == 0 || strcmp(a, "--fds") == 0) {
            fd = atoi(v); /* --fds: the first only (see the top) */
            i++;
        } else if (strcmp(a, "--ctl") == 0) {
            ctl = atoi(v); /* the {ctl} adapter: connections one by one */
            i++;
        } else if (strcmp(a, "--tcp-listen") == 0) {
            listen_url = v;
            i++;
        } else if (strcmp(a, "--tcp-connect") == 0) {
            connect_url = v;
            i++;
        } else if (strcmp(a, "--recvmax") == 0) {
            recvmax = strtoull(v, NULL, 0);
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            int k;
            for (k = 0; k < M_COUNT; k++)
                if (strcmp(v, mode_names[k]) == 0)
                    break;
            if (k == M_COUNT) {
                fprintf(stderr, "unknown mode %s\n", v);
                return 2;
            }
            mode = k;
            i++;
        } else if (strcmp(a, "--die-ms") == 0 || strcmp(a, "--retry-ms") == 0) {
            char *end;
            long ms = strtol(v, &end, 10);
            if (!*v || *end || ms < 1 || ms > 600000) {
                fprintf(stderr, "%s: %s needs milliseconds 1..600000\n", argv[0], a);
                return 2;
            }
            *(a[2] == 'd' ? &die_ms : &retry_ms) = (int)ms;
            i++;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(a, "--count") == 0 || strcmp(a, "--timeout") == 0 ||
                   strcmp(a, "--send") == 0 || strcmp(a, "--size") == 0 ||
                   strcmp(a, "--wait-peers") == 0) {
            i++; /* peer CLI flags from {behaviour}: this IUT always echoes */
        } else if (strcmp(a, "--echo") == 0 || strcmp(a, "--recv") == 0) {
        } else {
            fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], a);
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (!proto || (fd < 0 && ctl < 0 && !listen_url && !connect_url)) {
        fprintf(stderr, "%s: --proto and an endpoint are required\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (fd >= 0) {
        serve(fd);
        after_connection();
    }
    if (ctl >= 0) {
        /* each connection served in turn; after the end of ctl (no more
         * connections) it carries on as after its --fd connection */
        int r, c;
        while ((r = spw_ctl_recv(ctl, 0, argv[0], &c)) != SPW_CTL_EOF)
            if (r == SPW_CTL_FD)
                serve(c);
        after_connection();
    }
    if (connect_url) {
        int c = tcp(connect_url, 0);
        if (c < 0)
            return 1;
        serve(c);
        after_connection();
    }
    int l = tcp(listen_url, 1);
    if (l < 0) {
        perror("listen");
        return 1;
    }
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        serve(c);
    }
}
