/* fuzz_session — one whole pipe over a real socketpair, through the fd layer.
 *
 * Input layout:
 *   byte 0   local protocol: index into the protocol table (mod 11)
 *   byte 1   bits 0-1 how our end finishes:
 *              0 write everything, shutdown(SHUT_WR), read spwire's bytes
 *              1 write everything, close() without reading (peer reset)
 *              2 write the first P/256 of the stream, then close()
 *              3 close our end before the fd is even handed to spwire
 *            bits 2-3 receive limit: 0 leave the default, 1 none (0),
 *              2 P, 3 P * 1024
 *            bit 4   set the limit on the pipe after accept instead of on
 *                    the listener
 *   byte 2   P, parameter for the above
 *   rest     the bytes the peer sends: its handshake, then frames
 *
 * The harness is its own model: it knows whether the 8 handshake bytes are
 * valid for the local protocol, and which messages and which final error
 * the stream must produce. Modes 0 and 1 are fully determined by the bytes
 * (everything plus EOF, or a reset, is queued before spwire looks), so the
 * messages and the verdict must match exactly. Also checked: spwire sends
 * exactly its 8-byte header; a failed set leaves the fd with the caller;
 * nothing leaks (allocator and fds); no call ever times out while all the
 * data and the EOF are already queued; SIGPIPE is never raised (it is not
 * ignored here, so it would kill the process).
 *
 * Deadlock cannot happen: our end is non-blocking and writes interleave
 * with spwire calls that poll once (timeout 0) until every byte is queued;
 * only then do spwire calls get a timeout, and they have all they need.
 * spwire itself writes only its 8 header bytes into an empty socket.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "spwire/error.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/listener.h"
#include "spwire/pipe.h"
#include "spwire/proto.h"

#define SESSION_WAIT_MS 1000
/* Every mode ends our side (EOF or a reset), so a handshake never needs its
 * deadline to end. A handshake that a listener call finds incomplete after
 * its deadline fails even when the bytes were there (listener.h), so the
 * deadline sits far above any scheduling delay: the verdict must not
 * depend on when the harness got the CPU. */
#define SESSION_HS_TIMEOUT_MS (4 * SESSION_WAIT_MS)
#define SESSION_FD_PROBE 128
#define SESSION_MAX_SPIN 20000

enum { END_SHUTDOWN = 0, END_RESET = 1, END_EARLY = 2, END_BEFORE_SET = 3 };

static void fd_snapshot(uint8_t open_fds[SESSION_FD_PROBE])
{
    for (int fd = 0; fd < SESSION_FD_PROBE; fd++) {
        open_fds[fd] = (uint8_t)(fcntl(fd, F_GETFD) != -1);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct session_model {
    int hs_ok;          /* first 8 bytes are the valid peer header */
    size_t nmsgs;       /* complete messages within the delivered bytes */
    int msgsize;        /* a refused length lies within the delivered bytes */
} session_model;

/* Walk the delivered bytes (stream[0..len)) as spwire must. */
static void model_walk(const uint8_t *s, size_t len, uint16_t self, uint64_t limit,
                       session_model *m)
{
    uint8_t want[SPW_HANDSHAKE_SIZE];
    spw_handshake_encode(want, (uint16_t)spw_proto_peer(self));
    m->hs_ok = len >= SPW_HANDSHAKE_SIZE && memcmp(s, want, SPW_HANDSHAKE_SIZE) == 0;
    m->nmsgs = 0;
    m->msgsize = 0;
    if (!m->hs_ok) {
        return;
    }
    size_t pos = SPW_HANDSHAKE_SIZE;
    while (len - pos >= SPW_FRAME_HEADER_SIZE) {
        uint64_t n = spw_fuzz_be64(s + pos);
        if (!spw_fuzz_length_ok(n, limit)) {
            m->msgsize = 1;
            return;
        }
        if (n > len - pos - SPW_FRAME_HEADER_SIZE) {
            return;
        }
        pos += SPW_FRAME_HEADER_SIZE + (size_t)n;
        m->nmsgs++;
    }
}

/* Offset of the body of message i in the stream (the model's walk again). */
static size_t model_body_at(const uint8_t *s, size_t i)
{
    size_t pos = SPW_HANDSHAKE_SIZE;
    for (size_t k = 0; k < i; k++) {
        pos += SPW_FRAME_HEADER_SIZE + (size_t)spw_fuzz_be64(s + pos);
    }
    return pos + SPW_FRAME_HEADER_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    uint16_t self = (uint16_t)spw_proto_at(data[0] % SPW_PROTO_COUNT);
    int end_mode = data[1] & 3;
    int limit_mode = (data[1] >> 2) & 3;
    int limit_on_pipe = (data[1] >> 4) & 1;
    uint8_t param = data[2];
    const uint8_t *stream = data + 3;
    size_t len = size - 3;

    uint64_t limit = SPW_RECVMAX_DEFAULT;
    if (limit_mode == 1) {
        limit = 0;
    } else if (limit_mode == 2) {
        limit = param;
    } else if (limit_mode == 3) {
        limit = (uint64_t)param * 1024;
    }
    size_t target = len; /* bytes we will write */
    if (end_mode == END_EARLY) {
        target = (size_t)(((uint64_t)len * param) / 256);
    } else if (end_mode == END_BEFORE_SET) {
        target = 0;
    }

    uint8_t fds_before[SESSION_FD_PROBE], fds_after[SESSION_FD_PROBE];
    fd_snapshot(fds_before);
    spw_countalloc alloc;
    spw_countalloc_init(&alloc, 0, 0);

    spw_listener *l = NULL;
    SPW_FUZZ_CHECK(spw_listener_create(&l, self, SPW_URL, &alloc.api) == SPW_OK);
    SPW_FUZZ_CHECK(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, SESSION_HS_TIMEOUT_MS) ==
                   SPW_OK);
    if (limit_mode != 0 && !limit_on_pipe) {
        SPW_FUZZ_CHECK(spw_listener_set_size(l, SPW_OPT_RECVMAXSZ, limit) == SPW_OK);
    }

    int sv[2];
    SPW_FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int ours = sv[0];
    int theirs = sv[1];
    SPW_FUZZ_CHECK(fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK) == 0);
    if (end_mode == END_BEFORE_SET) {
        SPW_FUZZ_CHECK(close(ours) == 0);
        ours = -1;
    }

    int set_rc = spw_listener_set_int(l, SPW_OPT_SOCKET_FD, theirs);
    if (set_rc != SPW_OK) {
        /* The fd is still ours and still open. */
        SPW_FUZZ_CHECK(end_mode == END_BEFORE_SET);
        SPW_FUZZ_CHECK(set_rc == SPW_ECLOSED || set_rc == SPW_ENOTCONN);
        SPW_FUZZ_CHECK(close(theirs) == 0);
        SPW_FUZZ_CHECK(spw_listener_pending(l) == 0);
    } else {
        SPW_FUZZ_CHECK(spw_listener_pending(l) == 1);
    }
    int get_fd = 0;
    SPW_FUZZ_CHECK(spw_listener_get_int(l, SPW_OPT_SOCKET_FD, &get_fd) == SPW_EWRITEONLY);

    size_t written = 0;
    int finished_writing = end_mode == END_BEFORE_SET;
    int resolved = set_rc != SPW_OK; /* handshake outcome known */
    spw_pipe *p = NULL;
    size_t got_msgs = 0;
    int final_rc = 0;
    uint8_t hs_seen[16];
    size_t hs_seen_len = 0;
    int stop_writing = 0; /* spwire's end went away */
    int spin = 0;
    int64_t started = now_ms();

    for (;;) {
        int progress = 0;
        /* 1. Our side: write, then finish as the mode says. */
        if (!finished_writing) {
            if (written < target && !stop_writing) {
                ssize_t n = send(ours, stream + written, target - written, MSG_NOSIGNAL);
                if (n > 0) {
                    written += (size_t)n;
                    progress = 1;
                } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    SPW_FUZZ_CHECK(errno == EPIPE || errno == ECONNRESET);
                    stop_writing = 1; /* spwire closed: handshake or pipe failed */
                }
            }
            if (written == target || stop_writing) {
                if (end_mode == END_SHUTDOWN) {
                    SPW_FUZZ_CHECK(shutdown(ours, SHUT_WR) == 0 || errno == ENOTCONN);
                } else {
                    SPW_FUZZ_CHECK(close(ours) == 0);
                    ours = -1;
                }
                finished_writing = 1;
                progress = 1;
            }
        }
        if (ours >= 0 && end_mode == END_SHUTDOWN) {
            /* Modes 1 and 2 never read, so their close() is a reset. */
            uint8_t buf[256];
            ssize_t n;
            while ((n = recv(ours, buf, sizeof(buf), 0)) > 0) {
                for (ssize_t i = 0; i < n && hs_seen_len < sizeof(hs_seen); i++) {
                    hs_seen[hs_seen_len++] = buf[i];
                }
            }
        }
        int wait = finished_writing ? SESSION_WAIT_MS : 0;

        /* 2. spwire's side. */
        if (!resolved) {
            int rc = spw_listener_accept(l, &p, wait);
            if (rc == SPW_OK) {
                SPW_FUZZ_CHECK(p != NULL);
                resolved = 1;
                progress = 1;
                SPW_FUZZ_CHECK(spw_listener_pending(l) == 0);
                int v = -1;
                SPW_FUZZ_CHECK(spw_pipe_get_int(p, SPW_OPT_PROTO, &v) == SPW_OK && v == self);
                SPW_FUZZ_CHECK(spw_pipe_get_int(p, SPW_OPT_PEER, &v) == SPW_OK &&
                               v == spw_proto_peer(self));
                if (limit_mode != 0 && limit_on_pipe) {
                    SPW_FUZZ_CHECK(spw_pipe_set_size(p, SPW_OPT_RECVMAXSZ, limit) == SPW_OK);
                }
                uint64_t got_limit = 1;
                SPW_FUZZ_CHECK(spw_pipe_get_size(p, SPW_OPT_RECVMAXSZ, &got_limit) == SPW_OK);
                SPW_FUZZ_CHECK(got_limit == limit);
            } else {
                /* EIDLE: the handshake failed, nothing is pending. */
                SPW_FUZZ_CHECK(rc == SPW_ETIMEDOUT || rc == SPW_EIDLE);
                SPW_FUZZ_CHECK(p == NULL);
                if (spw_listener_pending(l) == 0) {
                    resolved = 1; /* failed and reaped */
                    progress = 1;
                    int failures = -1;
                    SPW_FUZZ_CHECK(spw_listener_get_int(l, SPW_OPT_HANDSHAKE_FAILURES,
                                                        &failures) == SPW_OK);
                    SPW_FUZZ_CHECK(failures == 1);
                }
            }
        } else if (p != NULL && final_rc == 0) {
            spw_msg m = {NULL, 0};
            int rc = spw_pipe_recv(p, &m, wait);
            if (rc == SPW_OK) {
                progress = 1;
                SPW_FUZZ_CHECK(limit == 0 || m.len <= limit);
                SPW_FUZZ_CHECK((m.data == NULL) == (m.len == 0));
                size_t at = model_body_at(stream, got_msgs);
                SPW_FUZZ_CHECK(at <= written && m.len <= written - at);
                SPW_FUZZ_CHECK(spw_fuzz_be64(stream + at - SPW_FRAME_HEADER_SIZE) == m.len);
                SPW_FUZZ_CHECK(m.len == 0 || memcmp(m.data, stream + at, m.len) == 0);
                spw_pipe_msg_free(p, &m);
                got_msgs++;
            } else if (rc == SPW_ETIMEDOUT) {
                /* Everything (data and EOF or reset) is queued: no waiting. */
                SPW_FUZZ_CHECK(!finished_writing);
            } else {
                progress = 1;
                final_rc = rc;
                spw_msg m2 = {NULL, 0};
                int again = spw_pipe_recv(p, &m2, 0);
                SPW_FUZZ_CHECK(again != SPW_OK && again != SPW_ETIMEDOUT);
            }
        }
        if (finished_writing && resolved && (p == NULL || final_rc != 0)) {
            break;
        }
        spin = progress ? 0 : spin + 1;
        SPW_FUZZ_CHECK(spin < SESSION_MAX_SPIN);
        SPW_FUZZ_CHECK(now_ms() - started < 5 * SESSION_WAIT_MS);
    }

    /* Judge against the model of what was delivered. */
    if (set_rc == SPW_OK && end_mode != END_BEFORE_SET && !stop_writing) {
        session_model m;
        model_walk(stream, written, self, limit, &m);
        if (end_mode == END_SHUTDOWN || end_mode == END_RESET) {
            SPW_FUZZ_CHECK((p != NULL) == m.hs_ok);
        } else {
            SPW_FUZZ_CHECK(p == NULL || m.hs_ok);
        }
        if (p != NULL) {
            SPW_FUZZ_CHECK(got_msgs == m.nmsgs);
            if (m.msgsize) {
                SPW_FUZZ_CHECK(final_rc == SPW_EMSGSIZE);
            } else if (end_mode == END_SHUTDOWN) {
                SPW_FUZZ_CHECK(final_rc == SPW_ECLOSED);
            } else {
                /* We close with spwire's header unread: a reset, after the data. */
                SPW_FUZZ_CHECK(final_rc == SPW_ECONNRESET);
            }
        }
    }

    spw_pipe_close(p);
    spw_listener_close(l);
    if (ours >= 0) {
        /* spwire's fd is closed now: read to EOF, then check its header. */
        uint8_t buf[256];
        ssize_t n;
        int spins = 0;
        for (;;) {
            n = recv(ours, buf, sizeof(buf), 0);
            if (n > 0) {
                for (ssize_t i = 0; i < n && hs_seen_len < sizeof(hs_seen); i++) {
                    hs_seen[hs_seen_len++] = buf[i];
                }
                continue;
            }
            if (n == 0 || errno == ECONNRESET) {
                break;
            }
            SPW_FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
            SPW_FUZZ_CHECK(++spins < 1000); /* spwire's end must be closed */
        }
        uint8_t want[SPW_HANDSHAKE_SIZE];
        spw_handshake_encode(want, self);
        SPW_FUZZ_CHECK(hs_seen_len == SPW_HANDSHAKE_SIZE);
        SPW_FUZZ_CHECK(memcmp(hs_seen, want, SPW_HANDSHAKE_SIZE) == 0);
        SPW_FUZZ_CHECK(close(ours) == 0);
    }

    /* No fd and no byte outlives the iteration. */
    fd_snapshot(fds_after);
    SPW_FUZZ_CHECK(memcmp(fds_before, fds_after, sizeof(fds_before)) == 0);
    spw_countalloc_check_empty(&alloc);
    return 0;
}
