/* sp_recorder — record real SP-over-TCP exchanges and turn them into seeds.
 *
 * Two modes (scripts/record-seeds drives both):
 *
 *   spw_sp_recorder relay UPSTREAM_PORT OUT_PREFIX [TIMEOUT_MS]
 *       Listens on 127.0.0.1 (an ephemeral port, printed as "port N" on
 *       stdout once listening), accepts one connection, connects to
 *       127.0.0.1:UPSTREAM_PORT and relays bytes both ways unchanged until
 *       both directions have ended (an EOF on one side is passed on as
 *       shutdown(SHUT_WR) to the other) or nothing moved for TIMEOUT_MS
 *       (default 10000). The bytes the dialer sent go to OUT_PREFIX.c2s,
 *       the bytes the listener sent to OUT_PREFIX.s2c.
 *
 *   spw_sp_recorder seeds OUT_DIR NAME STREAM_FILE
 *       STREAM_FILE is what one side of an exchange sent (its 8-byte SP
 *       header, then frames). Writes, each under OUT_DIR/<target>/NAME:
 *         handshake/  local side 11 (the valid partner of the announced id),
 *                     no cuts, then the first 64 bytes of the stream
 *         frame/      default limit, whole-stream feed, the frames after
 *                     the header (cut at a frame boundary so it fits
 *                     fuzz_frame's max_len of 4096)
 *         session/    the receiving protocol (the announced id's partner,
 *                     as a table index), mode 0 (everything, then
 *                     shutdown), then the header and the same frames
 *       A stream that does not start with a valid SP header writes nothing
 *       and exits 1.
 *
 * Exit status: 0 done, 1 relay or seed error, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

#define REC_HS_MAX 64
#define REC_FRAME_MAX 4096
#define REC_SESSION_MAX 16384

static int usage(void)
{
    fprintf(stderr, "usage: spw_sp_recorder relay UPSTREAM_PORT OUT_PREFIX [TIMEOUT_MS]\n"
                    "       spw_sp_recorder seeds OUT_DIR NAME STREAM_FILE\n");
    return 2;
}

/* ---- relay ------------------------------------------------------------- */

typedef struct relay_dir {
    int from, to;
    FILE *log;
    int open; /* still reading from `from` */
} relay_dir;

/* Move what is readable on d->from to d->to (blocking write) and the log.
 * Returns 1 on progress, 0 on EOF, -1 on error. */
static int pump(relay_dir *d)
{
    uint8_t buf[65536];
    ssize_t n = read(d->from, buf, sizeof(buf));
    if (n < 0) {
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    }
    if (n == 0) {
        shutdown(d->to, SHUT_WR);
        d->open = 0;
        return 0;
    }
    if (fwrite(buf, 1, (size_t)n, d->log) != (size_t)n) {
        return -1;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = write(d->to, buf + off, (size_t)n - off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            /* The other side went away: stop this direction. */
            d->open = 0;
            return 0;
        }
        off += (size_t)w;
    }
    return 1;
}

static int relay(const char *port_s, const char *prefix, int timeout_ms)
{
    char *end = NULL;
    long up = strtol(port_s, &end, 10);
    if (*port_s == '\0' || *end != '\0' || up <= 0 || up > 65535) {
        return usage();
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t alen = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("bind/listen");
        return 1;
    }
    printf("port %u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);

    struct pollfd lp = {ls, POLLIN, 0};
    if (poll(&lp, 1, timeout_ms) <= 0) {
        fprintf(stderr, "spw_sp_recorder: nobody connected\n");
        return 1;
    }
    int c = accept(ls, NULL, NULL);
    close(ls);
    if (c < 0) {
        perror("accept");
        return 1;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons((uint16_t)up);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect upstream");
        close(c);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s.c2s", prefix);
    FILE *c2s = fopen(path, "wb");
    snprintf(path, sizeof(path), "%s.s2c", prefix);
    FILE *s2c = fopen(path, "wb");
    if (!c2s || !s2c) {
        perror("open output");
        return 1;
    }
    relay_dir d[2] = {{c, s, c2s, 1}, {s, c, s2c, 1}};
    int rc = 0;
    while (d[0].open || d[1].open) {
        struct pollfd p[2];
        int map[2], np = 0;
        for (int i = 0; i < 2; i++) {
            if (d[i].open) {
                p[np].fd = d[i].from;
                p[np].events = POLLIN;
                p[np].revents = 0;
                map[np++] = i;
            }
        }
        int r = poll(p, (nfds_t)np, timeout_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            fprintf(stderr, "spw_sp_recorder: idle for %d ms, stopping\n", timeout_ms);
            break;
        }
        for (int k = 0; k < np; k++) {
            if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (pump(&d[map[k]]) < 0) {
                    d[map[k]].open = 0;
                    rc = 1;
                }
            }
        }
    }
    fclose(c2s);
    fclose(s2c);
    close(c);
    close(s);
    return rc;
}

/* ---- seeds ------------------------------------------------------------- */

static int write_seed(const char *dir, const char *target, const char *name,
                      const uint8_t *pre, size_t npre, const uint8_t *body, size_t nbody)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(pre, 1, npre, f) != npre || (nbody && fwrite(body, 1, nbody, f) != nbody) ||
        fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* Length of the longest run of whole frames from s that fits in max. */
static size_t whole_frames(const uint8_t *s, size_t len, size_t max)
{
    size_t pos = 0;
    for (;;) {
        size_t body = 0, frame = 0;
        if (spw_frame_parse(s + pos, len - pos, 0, &body, &frame) != SPW_FRAME_MESSAGE ||
            pos + frame > max) {
            return pos;
        }
        pos += frame;
    }
}

static int seeds(const char *dir, const char *name, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *s = malloc(cap);
    for (;;) {
        if (!s) {
            fprintf(stderr, "spw_sp_recorder: out of memory\n");
            return 1;
        }
        size_t n = fread(s + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (len == cap) {
            cap *= 2;
            s = realloc(s, cap);
        }
    }
    fclose(f);
    if (len < SPW_HANDSHAKE_SIZE || s[0] != 0 || s[1] != 'S' || s[2] != 'P' || s[3] != 0) {
        fprintf(stderr, "spw_sp_recorder: %s does not start with an SP header\n", file);
        free(s);
        return 1;
    }
    uint16_t announced = (uint16_t)(s[4] << 8 | s[5]);
    int receiver = spw_proto_peer(announced);
    int index = -1;
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        if (receiver >= 0 && spw_proto_at(i) == receiver) {
            index = i;
        }
    }
    if (index < 0) {
        fprintf(stderr, "spw_sp_recorder: %s announces unknown protocol 0x%04x\n", file, announced);
        free(s);
        return 1;
    }
    int rc = 0;
    /* handshake: <local side 11> <no cuts> <stream prefix> */
    static const uint8_t hs_pre[2] = {11, 0x00};
    rc |= write_seed(dir, "handshake", name, hs_pre, 2, s, len < REC_HS_MAX - 2 ? len : REC_HS_MAX - 2);
    /* frame: <default limit> <mode 0, no splits> <frames> */
    const uint8_t *fr = s + SPW_HANDSHAKE_SIZE;
    size_t flen = whole_frames(fr, len - SPW_HANDSHAKE_SIZE, REC_FRAME_MAX - 2);
    if (flen == 0 && len - SPW_HANDSHAKE_SIZE > 0) {
        flen = len - SPW_HANDSHAKE_SIZE < REC_FRAME_MAX - 2 ? len - SPW_HANDSHAKE_SIZE
                                                              : REC_FRAME_MAX - 2;
    }
    static const uint8_t fr_pre[2] = {65, 0x00};
    rc |= write_seed(dir, "frame", name, fr_pre, 2, fr, flen);
    /* session: <receiver index> <mode 0> <P 0> <header + frames> */
    size_t slen = SPW_HANDSHAKE_SIZE + whole_frames(fr, len - SPW_HANDSHAKE_SIZE,
                                                    REC_SESSION_MAX - 3 - SPW_HANDSHAKE_SIZE);
    const uint8_t ss_pre[3] = {(uint8_t)index, 0x00, 0x00};
    rc |= write_seed(dir, "session", name, ss_pre, 3, s, slen);
    free(s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && argc <= 5 && strcmp(argv[1], "relay") == 0) {
        int t = argc == 5 ? atoi(argv[4]) : 10000;
        return relay(argv[2], argv[3], t > 0 ? t : 10000);
    }
    if (argc == 5 && strcmp(argv[1], "seeds") == 0) {
        return seeds(argv[2], argv[3], argv[4]);
    }
    return usage();
}
