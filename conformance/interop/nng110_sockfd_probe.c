/* nng110_sockfd_probe.c -- measure what NNG 1.10.1 makes of several fds
 * handed to ONE socket:// listener (NNG_OPT_SOCKET_FD set repeatedly), and
 * of fd values that are not connected stream sockets.
 *
 * The probe is the NNG socket (pull) and, at the same time, the far end of
 * every socketpair it hands over: for each far end it records the bytes NNG
 * wrote (a valid SP header is 8 bytes, so 16 means two headers on one fd),
 * then answers with a push header and one message carrying the end's index,
 * and records which indices NNG delivered and how many pipes NNG added.
 *
 * Prints one JSON line per experiment:
 *   {"exp":NAME,"set_rc":[..],"hdr_bytes":[..],"eof":[..],"adds":N,
 *    "rems":N,"delivered":[indices]}
 * Observation windows are generous and only bound how long the probe waits
 * for something that may never come; nothing is judged on time.  The
 * expectations live in interop_nng110_sockfd.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>

#define MAXE 8
#define WINDOW_MS 1000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int adds, rems;

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)arg;
    pthread_mutex_lock(&mu);
    if (ev == NNG_PIPE_EV_ADD_POST)
        adds++;
    else if (ev == NNG_PIPE_EV_REM_POST)
        rems++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until adds >= n or timeout; returns adds. */
static int wait_adds(int n, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    pthread_mutex_lock(&mu);
    while (adds < n && now_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cv, &mu, &ts);
    }
    int a = adds;
    pthread_mutex_unlock(&mu);
    return a;
}

struct probe {
    nng_socket s;
    nng_listener l;
    int n;
    int far[MAXE];  /* our ends, -1 when none/closed */
    int set_rc[MAXE];
    int hdr_bytes[MAXE];
    int eof[MAXE];
    int delivered[MAXE * 4];
    int ndelivered;
    int zero_far;   /* far end of the socketpair installed as fd 0 */
    int zero_bytes; /* bytes NNG wrote to fd 0 */
    int zero_eof;
};

/* fd 0 is replaced by one end of a socketpair for each experiment, so that
 * a listener that wrongly uses descriptor 0 shows up as bytes on the far
 * end instead of going unnoticed (or writing to a terminal). */
static int install_zero(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || dup2(sv[0], 0) != 0) {
        perror("probe: fd 0");
        exit(1);
    }
    close(sv[0]);
    fcntl(sv[1], F_SETFD, FD_CLOEXEC);
    return sv[1];
}

static int open_probe(struct probe *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < MAXE; i++)
        p->far[i] = -1;
    p->zero_far = install_zero();
    pthread_mutex_lock(&mu);
    adds = rems = 0;
    pthread_mutex_unlock(&mu);
    int rv;
    if ((rv = nng_pull0_open(&p->s)) != 0 ||
        (rv = nng_pipe_notify(p->s, NNG_PIPE_EV_ADD_POST, on_pipe, NULL)) != 0 ||
        (rv = nng_pipe_notify(p->s, NNG_PIPE_EV_REM_POST, on_pipe, NULL)) != 0 ||
        (rv = nng_socket_set_ms(p->s, NNG_OPT_RECVTIMEO, 1000)) != 0 ||
        (rv = nng_listener_create(&p->l, p->s, "socket://")) != 0 ||
        (rv = nng_listener_start(p->l, 0)) != 0) {
        fprintf(stderr, "probe: setup: %s\n", nng_strerror(rv));
        return -1;
    }
    return 0;
}

/* Hand a fresh socketpair end to the listener; keep the other end. */
static void hand_over(struct probe *p)
{
    int sv[2];
    int i = p->n++;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
    p->far[i] = sv[1];
    p->set_rc[i] = nng_listener_set_int(p->l, NNG_OPT_SOCKET_FD, sv[0]);
}

/* Collect what NNG writes on every open far end for window_ms. */
static void observe(struct probe *p, int window_ms)
{
    int64_t end = now_ms() + window_ms;
    for (;;) {
        struct pollfd pfd[MAXE + 1];
        int idx[MAXE + 1], n = 0;
        for (int i = 0; i < p->n; i++)
            if (p->far[i] >= 0 && !p->eof[i]) {
                pfd[n] = (struct pollfd){.fd = p->far[i], .events = POLLIN};
                idx[n++] = i;
            }
        if (!p->zero_eof) {
            pfd[n] = (struct pollfd){.fd = p->zero_far, .events = POLLIN};
            idx[n++] = -1;
        }
        int left = (int)(end - now_ms());
        if (left <= 0)
            return;
        if (poll(pfd, (nfds_t)n, left) <= 0)
            continue;
        for (int j = 0; j < n; j++) {
            if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[256];
            if (idx[j] < 0) {
                ssize_t r = read(p->zero_far, buf, sizeof buf);
                if (r > 0)
                    p->zero_bytes += (int)r;
                else if (r == 0 || errno != EINTR)
                    p->zero_eof = 1;
                continue;
            }
            ssize_t r = read(p->far[idx[j]], buf, sizeof buf);
            if (r > 0)
                p->hdr_bytes[idx[j]] += (int)r;
            else if (r == 0 || errno != EINTR)
                p->eof[idx[j]] = 1;
        }
    }
}

static void write_all(int fd, const void *b, size_t n)
{
    const char *c = b;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the peer went away: recorded through eof */
        c += w;
        n -= (size_t)w;
    }
}

/* Answer as a push peer on end i, then send one message "index i". */
static void answer(struct probe *p, int i)
{
    static const uint8_t hdr[8] = {0, 'S', 'P', 0, 0x00, 0x50, 0, 0};
    uint8_t frame[9] = {0, 0, 0, 0, 0, 0, 0, 1, (uint8_t)i};
    if (p->far[i] < 0 || p->eof[i])
        return;
    write_all(p->far[i], hdr, sizeof hdr);
    write_all(p->far[i], frame, sizeof frame);
}

static void drain(struct probe *p)
{
    for (;;) {
        nng_msg *m;
        if (nng_recvmsg(p->s, &m, 0) != 0)
            return;
        if (nng_msg_len(m) == 1 && p->ndelivered < MAXE * 4)
            p->delivered[p->ndelivered++] = ((uint8_t *)nng_msg_body(m))[0];
        nng_msg_free(m);
    }
}

static void print_arr(const char *key, const int *v, int n)
{
    printf(",\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", v[i]);
    printf("]");
}

static void report(struct probe *p, const char *name, const char *extra)
{
    pthread_mutex_lock(&mu);
    int a = adds, r = rems;
    pthread_mutex_unlock(&mu);
    /* delivery order across pipes is not defined: report indices sorted */
    for (int i = 1; i < p->ndelivered; i++)
        for (int j = i; j > 0 && p->delivered[j - 1] > p->delivered[j]; j--) {
            int t = p->delivered[j];
            p->delivered[j] = p->delivered[j - 1];
            p->delivered[j - 1] = t;
        }
    printf("{\"exp\":\"%s\"", name);
    print_arr("set_rc", p->set_rc, p->n);
    print_arr("hdr_bytes", p->hdr_bytes, p->n);
    print_arr("eof", p->eof, p->n);
    printf(",\"adds\":%d,\"rems\":%d", a, r);
    printf(",\"fd0_bytes\":%d,\"fd0_eof\":%d", p->zero_bytes, p->zero_eof);
    print_arr("delivered", p->delivered, p->ndelivered);
    if (extra)
        printf(",%s", extra);
    printf("}\n");
    fflush(stdout);
}

static void close_probe(struct probe *p)
{
    nng_close(p->s);
    close(p->zero_far);
    for (int i = 0; i < p->n; i++)
        if (p->far[i] >= 0)
            close(p->far[i]);
}

/* All fds set back to back, before any handshake. */
static void exp_burst(int k)
{
    struct probe p;
    char name[32];
    if (open_probe(&p) != 0)
        exit(1);
    for (int i = 0; i < k; i++)
        hand_over(&p);
    observe(&p, WINDOW_MS);
    for (int i = 0; i < k; i++)
        answer(&p, i);
    wait_adds(k, 4000);
    observe(&p, WINDOW_MS);
    drain(&p);
    snprintf(name, sizeof name, "burst%d", k);
    report(&p, name, NULL);
    close_probe(&p);
}

/* One fd at a time: the next is set only once the previous is a pipe. */
static void exp_sequential(int k)
{
    struct probe p;
    char name[32];
    if (open_probe(&p) != 0)
        exit(1);
    for (int i = 0; i < k; i++) {
        hand_over(&p);
        observe(&p, 300);
        answer(&p, i);
        wait_adds(i + 1, 5000);
    }
    observe(&p, WINDOW_MS);
    drain(&p);
    snprintf(name, sizeof name, "sequential%d", k);
    report(&p, name, NULL);
    close_probe(&p);
}

/* Two fds set back to back; the first pipe completes and is then closed by
 * its far end: does the second fd become a pipe afterwards? */
static void exp_after_close(void)
{
    struct probe p;
    if (open_probe(&p) != 0)
        exit(1);
    hand_over(&p);
    hand_over(&p);
    observe(&p, WINDOW_MS);
    answer(&p, 0);
    wait_adds(1, 5000);
    drain(&p);
    close(p.far[0]);
    p.far[0] = -1;
    observe(&p, WINDOW_MS);
    answer(&p, 1);
    wait_adds(2, 3000);
    observe(&p, WINDOW_MS);
    drain(&p);
    report(&p, "after_close", NULL);
    close_probe(&p);
}

/* Values that are not connected stream sockets, each on a fresh listener,
 * then a good fd on that same listener. */
static void exp_bogus(const char *name, int fd)
{
    struct probe p;
    char extra[64];
    if (open_probe(&p) != 0)
        exit(1);
    int rc = nng_listener_set_int(p.l, NNG_OPT_SOCKET_FD, fd);
    hand_over(&p);
    observe(&p, WINDOW_MS);
    answer(&p, 0);
    int64_t t0 = now_ms();
    int wait = getenv("PROBE_BOGUS_WAIT") ? atoi(getenv("PROBE_BOGUS_WAIT")) : 4000;
    wait_adds(1, wait);
    fprintf(stderr, "%s: add after %lld ms\n", name, (long long)(now_ms() - t0));
    observe(&p, 300);
    drain(&p);
    snprintf(extra, sizeof extra, "\"bogus_fd\":%d,\"bogus_rc\":%d", fd, rc);
    report(&p, name, extra);
    close_probe(&p);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("{\"exp\":\"version\",\"nng_version\":\"%s\"}\n", nng_version());
    fflush(stdout);
    exp_burst(1);
    exp_burst(2);
    exp_burst(3);
    exp_sequential(3);
    exp_after_close();
    exp_bogus("bogus_minus1", -1);
    exp_bogus("bogus_unopened", 9999);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    exp_bogus("bogus_devnull", devnull);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    exp_bogus("bogus_unconnected", ls);
    return 0;
}
