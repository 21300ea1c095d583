/* bench_rss — peak resident memory of one pipe, each scenario in a fresh
 * process (this program re-executes itself), minus a baseline run of the
 * same program that makes no pipe at all.
 *
 * The peer is a forked child, so its memory is not counted; the figure is
 * getrusage(RUSAGE_SELF).ru_maxrss of the receiving process (KiB).
 *   baseline  socketpair + peer, no pipe
 *   idle      pipe after the handshake, nothing received
 *   recv1m    pipe that receives one 1 MiB message (limit raised to fit)
 *   stall     peer announces the receive limit (default, 1 MiB), sends
 *             100 bytes of body, stalls; receiver times out
 *   stallmax  limit 0 (none), peer announces 2^60 - 1, sends 100 bytes
 * Output: rss.<scenario> <KiB> KiB and rss.<scenario>.delta <KiB> KiB.
 *   usage: bench_rss [--all] | --scenario NAME
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "spw_proc.h"
#include "spwire/error.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/listener.h"
#include "spwire/pipe.h"
#include "spwire/proto.h"

#define MIB ((size_t)1024 * 1024)

static void write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        b += w;
        n -= (size_t)w;
    }
}

/* The peer: handshake, then what the scenario needs, then wait for EOF. */
static void peer(int fd, const char *scen)
{
    uint8_t hs[SPW_HANDSHAKE_SIZE], in[SPW_HANDSHAKE_SIZE];
    spw_handshake_encode(hs, SPW_PROTO_PAIR1);
    write_all(fd, hs, sizeof hs);
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t r = read(fd, in + got, sizeof in - got);
        if (r <= 0)
            _exit(0);
        got += (size_t)r;
    }
    uint8_t hdr[SPW_FRAME_HEADER_SIZE];
    if (strcmp(scen, "recv1m") == 0) {
        uint8_t *body = malloc(MIB);
        if (!body)
            _exit(3);
        bench_fill(body, MIB, 1);
        spw_frame_encode_header(hdr, MIB);
        write_all(fd, hdr, sizeof hdr);
        write_all(fd, body, MIB);
        free(body);
    } else if (strncmp(scen, "stall", 5) == 0) {
        uint8_t body[100];
        bench_fill(body, sizeof body, 2);
        uint64_t announce = strcmp(scen, "stallmax") == 0 ? (UINT64_C(1) << 60) - 1
                                                          : SPW_RECVMAX_DEFAULT;
        spw_frame_encode_header(hdr, announce);
        write_all(fd, hdr, sizeof hdr);
        write_all(fd, body, sizeof body);
    }
    char c;
    while (read(fd, &c, 1) > 0) {
    }
    _exit(0);
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int scenario(const char *scen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        bench_die("socketpair: %s", strerror(errno));
    spw_proc pp;
    int forked = spw_proc_fork(&pp, NULL);
    if (forked < 0)
        bench_die("fork: %s", strerror(errno));
    if (forked == 0) {
        close(sv[0]);
        peer(sv[1], scen);
    }
    close(sv[1]);
    int rc = SPW_OK;
    if (strcmp(scen, "baseline") != 0) {
        spw_listener *l;
        spw_pipe *p;
        rc = spw_listener_create(&l, SPW_PROTO_PAIR1, SPW_URL, NULL);
        if (rc == SPW_OK && strcmp(scen, "recv1m") == 0)
            rc = spw_listener_set_size(l, SPW_OPT_RECVMAXSZ, MIB);
        if (rc == SPW_OK && strcmp(scen, "stallmax") == 0)
            rc = spw_listener_set_size(l, SPW_OPT_RECVMAXSZ, 0);
        if (rc == SPW_OK)
            rc = spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]);
        if (rc == SPW_OK)
            rc = spw_listener_accept(l, &p, 10000);
        if (rc != SPW_OK)
            bench_die("%s: %s", scen, spw_strerror(rc));
        spw_msg m = {0};
        if (strcmp(scen, "recv1m") == 0) {
            rc = spw_pipe_recv(p, &m, 10000);
            if (rc != SPW_OK || m.len != MIB)
                bench_die("recv1m: %s", spw_strerror(rc));
            bench_sink(m.data, m.len);
        } else if (strncmp(scen, "stall", 5) == 0) {
            rc = spw_pipe_recv(p, &m, 200);
            if (rc != SPW_ETIMEDOUT)
                bench_die("%s: expected a timeout, got %s", scen, spw_strerror(rc));
        }
        long kib = maxrss_kib();
        spw_pipe_msg_free(p, &m);
        spw_pipe_close(p);
        spw_listener_close(l);
        printf("%ld\n", kib);
    } else {
        printf("%ld\n", maxrss_kib());
        close(sv[0]);
    }
    spw_proc_wait(&pp, -1);
    return 0;
}

/* Run one scenario in a fresh process (exec), return its peak RSS. */
static long fresh(const char *self, const char *scen)
{
    int pfd[2];
    if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0)
        bench_die("pipe: %s", strerror(errno));
    char *argv[] = {(char *)self, (char *)"--scenario", (char *)scen, NULL};
    spw_proc_opts o = {.out = {SPW_PROC_FD, NULL, pfd[1]}};
    spw_proc child;
    if (spw_proc_spawn(&child, &o, argv) != 0)
        bench_die("fork: %s", strerror(errno));
    close(pfd[1]);
    char buf[64] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    close(pfd[0]);
    spw_proc_wait(&child, -1);
    if (spw_proc_exit_code(&child) != 0)
        bench_die("scenario %s failed", scen);
    return strtol(buf, NULL, 10);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "--scenario") == 0)
        return scenario(argv[2]);
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--all") != 0 && strcmp(argv[1], "--quick") != 0)) {
        fprintf(stderr, "usage: bench_rss [--all] | --scenario baseline|idle|recv1m|stall|stallmax\n");
        return 2;
    }
    static const char *scens[] = {"idle", "recv1m", "stall", "stallmax"};
    long base = fresh("/proc/self/exe", "baseline");
    bench_emit("rss.baseline", (double)base, "KiB");
    for (size_t i = 0; i < sizeof scens / sizeof scens[0]; i++) {
        long k = fresh("/proc/self/exe", scens[i]);
        char name[64];
        snprintf(name, sizeof name, "rss.%s", scens[i]);
        bench_emit(name, (double)k, "KiB");
        snprintf(name, sizeof name, "rss.%s.delta", scens[i]);
        bench_emit(name, (double)(k - base), "KiB");
    }
    return 0;
}
