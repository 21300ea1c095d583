/* The socket:// listener: URL, dialer, the write-only fd option, pipes in
 * the order their fds were set, refused fds, failed and slow handshakes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
    assert_int_equal(spw_listener_accept(l, &p, 0), SPW_ETIMEDOUT);
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
        assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_ETIMEDOUT);
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
    assert_int_equal(spw_listener_accept(l, &p, 30000), SPW_ETIMEDOUT);
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
    assert_int_equal(spw_listener_accept(l, &p, 30000), SPW_ETIMEDOUT);
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
        struct test_alloc t;
        test_alloc_init(&t, k, 1);
        spw_listener *l = 0;
        int rc = spw_listener_create(&l, SPW_PROTO_PAIR0, SPW_URL, &t.a);
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
        assert_int_equal(t.live_blocks, 0);
    }
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
    };
    return cmocka_run_group_tests_name("listener", tests, NULL, NULL);
}
