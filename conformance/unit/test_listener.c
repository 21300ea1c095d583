/* The socket:// listener: URL, dialer, the write-only fd option, pipes in
 * the order their fds were set, refused fds, failed and slow handshakes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spwire/spwire.h"
#include "testutil.h"


static spw_listener *new_listener(uint16_t proto)
{
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, proto, SPW_URL, NULL), SPW_OK);
    return l;
}

static void url_must_be_exactly_socket_scheme(void **state)
{
    (void)state;
    const char *bad[] = {"socket://x", "socket:/", "socket:", "SOCKET://", "tcp://127.0.0.1:5555",
                         "ipc:///tmp/x", "", "socket:// "};
    spw_listener *l = (spw_listener *)&l;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR1, bad[i], NULL), SPW_EADDRINVAL);
        assert_null(l);
    }
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR1, NULL, NULL), SPW_EADDRINVAL);
    assert_int_equal(spw_listener_create(&l, 0x12, SPW_URL, NULL), SPW_ENOTSUP);
    assert_int_equal(spw_listener_create(NULL, SPW_PROTO_PAIR1, SPW_URL, NULL), SPW_EINVAL);
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR1, SPW_URL, NULL), SPW_OK);
    spw_sockaddr sa = {42};
    assert_int_equal(spw_listener_get_addr(l, SPW_OPT_LOCADDR, &sa), SPW_OK);
    assert_int_equal(sa.family, SPW_AF_UNSPEC);
    spw_listener_close(l);
}

static void dialer_is_not_supported(void **state)
{
    (void)state;
    spw_dialer *d = (spw_dialer *)&d;
    assert_int_equal(spw_dialer_create(&d, SPW_PROTO_REQ, SPW_URL), SPW_ENOTSUP);
    assert_null(d);
    assert_int_equal(spw_dialer_create(&d, SPW_PROTO_REQ, "tcp://127.0.0.1:1"), SPW_ENOTSUP);
}

static void socket_fd_option_is_write_only_and_options_are_typed(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_REQ);
    int v;
    uint64_t u;
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_SOCKET_FD, &v), SPW_EWRITEONLY);
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, &v), SPW_OK);
    assert_int_equal(v, SPW_HANDSHAKE_TIMEOUT_DEFAULT_MS);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, -2), SPW_EINVAL);
    assert_int_equal(spw_listener_get_size(l, SPW_OPT_RECVMAXSZ, &u), SPW_OK);
    assert_int_equal(u, SPW_RECVMAX_DEFAULT);
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_RECVMAXSZ, &v), SPW_EBADTYPE);
    assert_int_equal(spw_listener_set_size(l, SPW_OPT_SOCKET_FD, 3), SPW_EBADTYPE);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_FAILURES, 0), SPW_EREADONLY);
    assert_int_equal(spw_listener_get_int(l, "nope", &v), SPW_ENOENT);
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_PROTO, &v), SPW_OK);
    assert_int_equal(v, SPW_PROTO_REQ);
    spw_listener_close(l);
}

/* Five fds set before any accept: five pipes, handed out in that order. */
static void many_fds_set_before_accept_become_pipes_in_order(void **state)
{
    (void)state;
    enum { N = 5 };
    spw_listener *l = new_listener(SPW_PROTO_PULL);
    int peers[N];
    for (int i = 0; i < N; i++)
        peers[i] = test_raw_peer(l);
    assert_int_equal(spw_listener_pending(l), N);
    for (int i = 0; i < N; i++) {
        uint8_t seg[8 + 9];
        spw_handshake_encode(seg, SPW_PROTO_PUSH);
        size_t w;
        char tag = (char)('0' + i);
        assert_int_equal(spw_frame_encode(seg + 8, 9, &tag, 1, &w), SPW_OK);
        test_write_all(peers[i], seg, sizeof seg);
    }
    for (int i = 0; i < N; i++) {
        spw_pipe *p;
        assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
        spw_msg m;
        assert_int_equal(spw_pipe_recv(p, &m, 5000), SPW_OK);
        assert_int_equal(m.len, 1);
        assert_int_equal(m.data[0], '0' + i);
        spw_pipe_msg_free(p, &m);
        spw_pipe_close(p);
    }
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 0), SPW_EIDLE);
    assert_null(p);
    for (int i = 0; i < N; i++)
        close(peers[i]);
    spw_listener_close(l);
}

static void stalled_peer_does_not_hold_back_a_ready_one(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    int stalled = test_raw_peer(l);
    int ready = test_raw_peer(l);
    test_send_header(ready, SPW_PROTO_PAIR1);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    assert_int_equal(spw_listener_pending(l), 1);
    assert_int_equal(spw_pipe_send(p, "r", 1, 1000), SPW_OK);
    uint8_t got[8 + 9];
    assert_int_equal(test_read_full(ready, got, sizeof got), sizeof got);
    assert_int_equal(got[16], 'r');
    spw_pipe_close(p);
    close(stalled);
    close(ready);
    spw_listener_close(l);
}

static void check_refused(spw_listener *l, int fd, int expect)
{
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, fd), expect);
    assert_int_equal(spw_listener_pending(l), 0);
    if (fd >= 0)
        assert_true(test_fd_open(fd) || expect == SPW_EBADF);
}

static void bad_fds_are_refused_and_stay_the_callers(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_REP);
    check_refused(l, -1, SPW_EBADF);
    check_refused(l, -42, SPW_EBADF);

    int closed = dup(0);
    close(closed);
    check_refused(l, closed, SPW_EBADF);

    char path[] = "/tmp/spw-test-XXXXXX";
    int file = mkstemp(path);
    unlink(path);
    check_refused(l, file, SPW_ENOTSOCK);
    close(file);

    int zero = open("/dev/zero", O_RDONLY);
    check_refused(l, zero, SPW_ENOTSOCK);
    close(zero);

    int dg[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
    check_refused(l, dg[0], SPW_ESOCKTYPE);
    close(dg[0]);
    close(dg[1]);

    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    check_refused(l, tcp, SPW_ENOTCONN);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(tcp, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(tcp, 1), 0);
    check_refused(l, tcp, SPW_ENOTCONN);
    /* Still the caller's: blocking flags untouched. */
    assert_int_equal(fcntl(tcp, F_GETFL) & O_NONBLOCK, 0);
    close(tcp);
    int v;
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_HANDSHAKE_FAILURES, &v), SPW_OK);
    assert_int_equal(v, 0);
    spw_listener_close(l);
}

static int failures(spw_listener *l)
{
    int v = -1;
    assert_int_equal(spw_listener_get_int(l, SPW_OPT_HANDSHAKE_FAILURES, &v), SPW_OK);
    return v;
}

/* Wait for EOF on fd after draining: proves the other end was closed. */
static int peer_sees_eof(int fd)
{
    uint8_t buf[64];
    size_t n;
    while ((n = test_read_full(fd, buf, sizeof buf)) == sizeof buf)
        ;
    return n < sizeof buf;
}

static void failed_handshake_never_reaches_caller_and_fd_is_closed(void **state)
{
    (void)state;
    static const uint8_t bad[][8] = {
        {1, 'S', 'P', 0, 0, 0x31, 0, 0}, {0, 'S', 'P', 1, 0, 0x31, 0, 0},
        {0, 'S', 'P', 0, 0, 0x30, 0, 0}, {0, 'S', 'P', 0, 0, 0x31, 0, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spw_listener *l = new_listener(SPW_PROTO_REQ);
        int peer = test_raw_peer(l);
        test_write_all(peer, bad[i], 8);
        spw_pipe *p;
        assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_EIDLE);
        assert_null(p);
        assert_int_equal(failures(l), 1);
        assert_int_equal(spw_listener_pending(l), 0);
        assert_true(peer_sees_eof(peer));
        close(peer);
        spw_listener_close(l);
    }
}

static void handshake_timeout_closes_a_stalled_peer(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, 100), SPW_OK);
    int peer = test_raw_peer(l);
    spw_pipe *p;
    /* Accept's own deadline is far off: it returns because the pipe was
     * dropped at its handshake deadline. */
    assert_int_equal(spw_listener_accept(l, &p, 30000), SPW_EIDLE);
    assert_int_equal(failures(l), 1);
    assert_int_equal(spw_listener_pending(l), 0);
    assert_true(peer_sees_eof(peer));
    close(peer);
    spw_listener_close(l);
}

struct trickle {
    int fd;
    int gap_ms;
};

static void *trickle_thread(void *arg)
{
    struct trickle *t = arg;
    uint8_t hdr[8];
    spw_handshake_encode(hdr, SPW_PROTO_PAIR1);
    for (int i = 0; i < 8; i++) {
        if (send(t->fd, hdr + i, 1, MSG_NOSIGNAL) != 1)
            break;
        struct timespec ts = {0, (long)t->gap_ms * 1000000L};
        nanosleep(&ts, 0);
    }
    return 0;
}

/* Eight valid bytes, one every 60 ms: each byte arrives well within the
 * 150 ms timeout, but the whole header does not, so the deadline must be
 * one absolute point, not renewed per byte. */
static void trickling_peer_cannot_extend_the_handshake_deadline(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, 150), SPW_OK);
    int peer = test_raw_peer(l);
    struct trickle t = {peer, 60};
    pthread_t th;
    assert_int_equal(pthread_create(&th, 0, trickle_thread, &t), 0);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 30000), SPW_EIDLE);
    assert_int_equal(failures(l), 1);
    pthread_join(th, 0);
    close(peer);
    spw_listener_close(l);
}

static void closing_listener_closes_pending_fds(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_BUS);
    int peer = test_raw_peer(l);
    spw_listener_close(l);
    assert_true(peer_sees_eof(peer));
    close(peer);
}

static void listener_recvmax_applies_to_new_pipes(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PULL);
    assert_int_equal(spw_listener_set_size(l, SPW_OPT_RECVMAXSZ, 0), SPW_OK);
    int peer = test_raw_peer(l);
    test_send_header(peer, SPW_PROTO_PUSH);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    uint64_t v = 1;
    assert_int_equal(spw_pipe_get_size(p, SPW_OPT_RECVMAXSZ, &v), SPW_OK);
    assert_int_equal(v, 0);
    spw_pipe_close(p);
    close(peer);
    spw_listener_close(l);
}

/* Every allocation the listener and its pipes make can fail without leaking
 * memory or an fd, and an fd whose set failed is still the caller's. */
static void listener_allocation_failures_leak_nothing(void **state)
{
    (void)state;
    for (size_t k = 1; k < 12; k++) {
        spw_countalloc t;
        spw_countalloc_init(&t, k, 1);
        spw_listener *l = 0;
        int rc = spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.api);
        if (rc == SPW_OK) {
            int sv[2];
            assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
            rc = spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]);
            if (rc == SPW_OK) {
                test_send_header(sv[1], SPW_PROTO_PAIR0);
                spw_pipe *p;
                rc = spw_listener_accept(l, &p, 5000);
                if (rc == SPW_OK)
                    spw_pipe_close(p);
            } else {
                assert_int_equal(rc, SPW_ENOMEM);
                assert_true(test_fd_open(sv[0]));
                close(sv[0]);
            }
            close(sv[1]);
            spw_listener_close(l);
        } else {
            assert_int_equal(rc, SPW_ENOMEM);
        }
        assert_int_equal(t.nblocks, 0);
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int count(spw_listener *l, const char *name)
{
    int v = -1;
    assert_int_equal(spw_listener_get_int(l, name, &v), SPW_OK);
    return v;
}

/* The fd's flags, to prove a refused fd is left exactly as it was. */
struct fd_flags {
    int fl, fdfl;
};

static struct fd_flags flags_of(int fd)
{
    struct fd_flags f = {fcntl(fd, F_GETFL), fcntl(fd, F_GETFD)};
    assert_true(f.fl >= 0 && f.fdfl >= 0);
    return f;
}

static void assert_flags_unchanged(int fd, struct fd_flags before)
{
    struct fd_flags now = flags_of(fd);
    assert_int_equal(now.fl, before.fl);
    assert_int_equal(now.fdfl, before.fdfl);
}

/* Issue 11, point 1: the deadline counts from the set, whoever polls. A
 * header sent long after it must not be accepted by a later poll. The sleep
 * only has to outlast the deadline; its length does not decide anything. */
static void polled_accept_never_hands_out_a_handshake_past_its_deadline(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, 100), SPW_OK);
    int peer = test_raw_peer(l);
    spw_pipe *p;
    int rc = spw_listener_accept(l, &p, 0);
    assert_true(rc == SPW_ETIMEDOUT || rc == SPW_EIDLE);
    assert_null(p);
    sleep_ms(400);
    test_send_header(peer, SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_accept(l, &p, 0), SPW_EIDLE);
    assert_null(p);
    assert_int_equal(failures(l), 1);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES_TIMEOUT), 1);
    assert_int_equal(spw_listener_pending(l), 0);
    assert_true(peer_sees_eof(peer));
    close(peer);
    spw_listener_close(l);
}

/* Point 3: with nothing pending no pipe can ever arrive during the call,
 * so accept says so at once, whatever the timeout, instead of a timeout a
 * `while (accept(-1))` loop would spin on. */
static void accept_with_nothing_pending_is_eidle_whatever_the_timeout(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR0);
    const int timeouts[] = {-1, 0, 30000};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        spw_pipe *p = (spw_pipe *)&p;
        assert_int_equal(spw_listener_accept(l, &p, timeouts[i]), SPW_EIDLE);
        assert_null(p);
    }
    /* The last pending handshake fails inside the call: idle again. */
    int peer = test_raw_peer(l);
    static const uint8_t bad[8] = {0, 'S', 'P', 1, 0, 0x10, 0, 0};
    test_write_all(peer, bad, sizeof bad);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, -1), SPW_EIDLE);
    assert_null(p);
    assert_int_equal(failures(l), 1);
    close(peer);
    spw_listener_close(l);
}

/* Point 4: accept allocates nothing, so it cannot fail with SPW_ENOMEM
 * (which its contract does not list). */
static void accept_allocates_nothing(void **state)
{
    (void)state;
    enum { N = 3 };
    spw_countalloc t;
    spw_countalloc_init(&t, 0, 0);
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.api), SPW_OK);
    int peers[N];
    for (int i = 0; i < N; i++)
        peers[i] = test_raw_peer(l);
    t.fail_at = t.ops + 1;
    t.sticky = 1;
    for (int i = 0; i < N; i++)
        test_send_header(peers[i], SPW_PROTO_PAIR0);
    for (int i = 0; i < N; i++) {
        spw_pipe *p;
        assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
        spw_pipe_close(p);
    }
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 0), SPW_EIDLE);
    assert_int_equal(t.refused, 0);
    for (int i = 0; i < N; i++)
        close(peers[i]);
    spw_listener_close(l);
    assert_int_equal(t.nblocks, 0);
}

/* Point 5: a socketpair whose peer is gone is refused with SPW_ECLOSED at
 * the set, and the fd goes back untouched. */
static void peer_closed_before_the_fd_is_set_is_eclosed_and_fd_stays_the_callers(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    struct fd_flags before = flags_of(sv[0]);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]), SPW_ECLOSED);
    assert_true(test_fd_open(sv[0]));
    assert_flags_unchanged(sv[0], before);
    assert_int_equal(spw_listener_pending(l), 0);
    assert_int_equal(failures(l), 0);
    close(sv[0]);
    spw_listener_close(l);
}

/* Point 5, TCP: after a reset the kernel no longer knows the peer, so the
 * set is SPW_ENOTCONN (as listener.h says), fd untouched. */
static void tcp_socket_reset_before_the_fd_is_set_is_enotconn(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof sin), 0);
    int s = accept(lfd, 0, 0);
    assert_true(s >= 0);
    struct linger lg = {1, 0};
    assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(c);
    struct pollfd pf = {.fd = s, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    struct fd_flags before = flags_of(s);
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, s), SPW_ENOTCONN);
    assert_flags_unchanged(s, before);
    assert_int_equal(spw_listener_pending(l), 0);
    spw_listener_close(l);
    close(s);
    close(lfd);
}

/* Point 6: whichever allocation fails, an fd refused with SPW_ENOMEM keeps
 * its file status flags and its descriptor flags (FD_CLOEXEC included). */
static void fd_refused_for_lack_of_memory_keeps_its_flags(void **state)
{
    (void)state;
    size_t enomem = 0;
    for (size_t k = 1; k < 8; k++) {
        spw_countalloc t;
        spw_countalloc_init(&t, 0, 0);
        spw_listener *l;
        assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.api), SPW_OK);
        t.fail_at = t.ops + k;
        t.sticky = 1;
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        struct fd_flags before = flags_of(sv[0]);
        int rc = spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]);
        if (rc == SPW_ENOMEM) {
            enomem++;
            assert_true(test_fd_open(sv[0]));
            assert_flags_unchanged(sv[0], before);
            assert_int_equal(spw_listener_pending(l), 0);
            close(sv[0]);
        } else {
            assert_int_equal(rc, SPW_OK);
        }
        close(sv[1]);
        spw_listener_close(l);
        assert_int_equal(t.nblocks, 0);
    }
    assert_true(enomem > 0);
}

/* Point 8: a silent peer past its deadline is closed by the next listener
 * call of any kind, here spw_listener_pending, not only by accept. */
static void silent_peer_past_its_deadline_is_closed_by_pending(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, 100), SPW_OK);
    int peer = test_raw_peer(l);
    sleep_ms(400);
    assert_int_equal(spw_listener_pending(l), 0);
    assert_true(peer_sees_eof(peer));
    assert_int_equal(failures(l), 1);
    close(peer);
    spw_listener_close(l);
}

/* Point 8: why handshakes failed, one count per reason, summing to the
 * total. */
static void handshake_failures_are_counted_by_reason(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR1);
    int wrong_proto = test_raw_peer(l);
    static const uint8_t pair0[8] = {0, 'S', 'P', 0, 0, 0x10, 0, 0};
    test_write_all(wrong_proto, pair0, sizeof pair0);
    int gone = test_raw_peer(l);
    close(gone);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_EIDLE);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, 100), SPW_OK);
    int silent = test_raw_peer(l);
    sleep_ms(400);
    assert_int_equal(spw_listener_pending(l), 0);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES), 3);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES_TIMEOUT), 1);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES_PROTO), 1);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES_CLOSED), 1);
    assert_int_equal(count(l, SPW_OPT_HANDSHAKE_FAILURES_SYSTEM), 0);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_FAILURES_PROTO, 0), SPW_EREADONLY);
    close(wrong_proto);
    close(silent);
    spw_listener_close(l);
}

/* Point 9: at most SPW_OPT_PENDING_MAX fds (16 by default, as NNG); the
 * next is refused with SPW_ENOSPC and stays the caller's; an accept frees a
 * slot. */
static void pending_fds_are_capped_at_pending_max(void **state)
{
    (void)state;
    spw_listener *l = new_listener(SPW_PROTO_PAIR0);
    /* No deadline: however slow the machine, no handshake may time out and
     * free a slot behind the test's back. */
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_HANDSHAKE_TIMEOUT, -1), SPW_OK);
    assert_int_equal(count(l, SPW_OPT_PENDING_MAX), SPW_PENDING_MAX_DEFAULT);
    assert_int_equal(SPW_PENDING_MAX_DEFAULT, 16);
    int peers[SPW_PENDING_MAX_DEFAULT];
    for (int i = 0; i < SPW_PENDING_MAX_DEFAULT; i++)
        peers[i] = test_raw_peer(l);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct fd_flags before = flags_of(sv[0]);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]), SPW_ENOSPC);
    assert_flags_unchanged(sv[0], before);
    assert_int_equal(spw_listener_pending(l), SPW_PENDING_MAX_DEFAULT);
    test_send_header(peers[0], SPW_PROTO_PAIR0);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    spw_pipe_close(p);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]), SPW_OK);
    assert_int_equal(spw_listener_pending(l), SPW_PENDING_MAX_DEFAULT);

    assert_int_equal(spw_listener_set_int(l, SPW_OPT_PENDING_MAX, 0), SPW_EINVAL);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_PENDING_MAX, 2), SPW_OK);
    assert_int_equal(count(l, SPW_OPT_PENDING_MAX), 2);
    int sv2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    assert_int_equal(spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv2[0]), SPW_ENOSPC);
    assert_int_equal(spw_listener_pending(l), SPW_PENDING_MAX_DEFAULT); /* none dropped */
    close(sv2[0]);
    close(sv2[1]);
    for (int i = 0; i < SPW_PENDING_MAX_DEFAULT; i++)
        close(peers[i]);
    close(sv[1]);
    spw_listener_close(l);
}

/* Point 9: a pending fd costs bookkeeping only; the 64 KiB read buffer
 * comes with the first receive. */
static void pending_fds_reserve_no_read_buffer(void **state)
{
    (void)state;
    enum { N = 8 };
    spw_countalloc t;
    spw_countalloc_init(&t, 0, 0);
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.api), SPW_OK);
    size_t base = t.live;
    int peers[N];
    for (int i = 0; i < N; i++)
        peers[i] = test_raw_peer(l);
    size_t per_fd = (t.live - base) / N;
    assert_true(per_fd < 4096);
    /* The buffer arrives with the first message and works as before. */
    uint8_t seg[8 + 9];
    spw_handshake_encode(seg, SPW_PROTO_PAIR0);
    size_t w;
    assert_int_equal(spw_frame_encode(seg + 8, 9, "z", 1, &w), SPW_OK);
    test_write_all(peers[0], seg, sizeof seg);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    spw_msg m;
    assert_int_equal(spw_pipe_recv(p, &m, 5000), SPW_OK);
    assert_int_equal(m.len, 1);
    assert_int_equal(m.data[0], 'z');
    assert_true(t.peak - base >= 64 * 1024);
    spw_pipe_msg_free(p, &m);
    spw_pipe_close(p);
    for (int i = 0; i < N; i++)
        close(peers[i]);
    spw_listener_close(l);
    assert_int_equal(t.nblocks, 0);
}

/* Point 9: the read buffer that the first receive allocates can be refused
 * like any allocation: SPW_ENOMEM, the pipe unusable after it, no leak. */
static void first_recv_without_memory_for_its_buffer_is_enomem(void **state)
{
    (void)state;
    spw_countalloc t;
    spw_countalloc_init(&t, 0, 0);
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.api), SPW_OK);
    int peer = test_raw_peer(l);
    test_send_header(peer, SPW_PROTO_PAIR0);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    t.fail_at = t.ops + 1;
    t.sticky = 1;
    spw_msg m;
    assert_int_equal(spw_pipe_recv(p, &m, 0), SPW_ENOMEM);
    assert_null(m.data);
    assert_int_equal(spw_pipe_recv(p, &m, 0), SPW_ENOMEM);
    assert_int_equal(t.refused, 1);
    spw_pipe_close(p);
    close(peer);
    spw_listener_close(l);
    assert_int_equal(t.nblocks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(url_must_be_exactly_socket_scheme, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(dialer_is_not_supported, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(socket_fd_option_is_write_only_and_options_are_typed, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(many_fds_set_before_accept_become_pipes_in_order, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(stalled_peer_does_not_hold_back_a_ready_one, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(bad_fds_are_refused_and_stay_the_callers, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(failed_handshake_never_reaches_caller_and_fd_is_closed, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(handshake_timeout_closes_a_stalled_peer, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(trickling_peer_cannot_extend_the_handshake_deadline, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(closing_listener_closes_pending_fds, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(listener_recvmax_applies_to_new_pipes, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(listener_allocation_failures_leak_nothing, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(polled_accept_never_hands_out_a_handshake_past_its_deadline, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(accept_with_nothing_pending_is_eidle_whatever_the_timeout, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(accept_allocates_nothing, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(peer_closed_before_the_fd_is_set_is_eclosed_and_fd_stays_the_callers, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(tcp_socket_reset_before_the_fd_is_set_is_enotconn, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(fd_refused_for_lack_of_memory_keeps_its_flags, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(silent_peer_past_its_deadline_is_closed_by_pending, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(handshake_failures_are_counted_by_reason, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(pending_fds_are_capped_at_pending_max, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(pending_fds_reserve_no_read_buffer, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(first_recv_without_memory_for_its_buffer_is_enomem, test_fd_setup, test_fd_teardown),
    };
    return cmocka_run_group_tests_name("listener", tests, NULL, NULL);
}
