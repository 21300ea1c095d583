/* Pipes over real socketpairs: messages both ways, EOF and timeouts,
 * limits, options and credentials. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "spwire/spwire.h"
#include "testutil.h"


static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *b = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i * 7 + seed);
    return b;
}

struct sender {
    spw_pipe *p;
    const uint8_t *data;
    size_t len;
    int rc;
};

static void *send_thread(void *arg)
{
    struct sender *s = arg;
    s->rc = spw_pipe_send(s->p, s->data, s->len, 10000);
    return 0;
}

/* Send from `from` on a thread (so messages above the socket buffer cannot
 * deadlock) and receive on `to`. */
static void transfer(spw_pipe *from, spw_pipe *to, size_t len, unsigned seed)
{
    uint8_t *data = pattern(len, seed);
    struct sender s = {from, data, len, -100};
    pthread_t th;
    assert_int_equal(pthread_create(&th, 0, send_thread, &s), 0);
    spw_msg m;
    int rc = spw_pipe_recv(to, &m, 10000);
    pthread_join(th, 0);
    assert_int_equal(s.rc, SPW_OK);
    assert_int_equal(rc, SPW_OK);
    assert_int_equal(m.len, len);
    if (len)
        assert_memory_equal(m.data, data, len);
    else
        assert_null(m.data);
    spw_pipe_msg_free(to, &m);
    free(data);
}

static void pipes_exchange_messages_both_ways(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_PAIR1, SPW_PROTO_PAIR1, &a, &b);
    size_t sizes[] = {0, 1, 64 * 1024, SPW_RECVMAX_DEFAULT};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        transfer(a, b, sizes[i], (unsigned)i);
        transfer(b, a, sizes[i], (unsigned)i + 100);
    }
    spw_pipe_close(a);
    spw_pipe_close(b);
}

static void limit_plus_one_is_refused_and_peer_sees_close(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_PUSH, SPW_PROTO_PULL, &a, &b);
    assert_int_equal(spw_pipe_set_size(b, SPW_OPT_RECVMAXSZ, 100), SPW_OK);
    transfer(a, b, 100, 1);
    uint8_t buf[101] = {0};
    assert_int_equal(spw_pipe_send(a, buf, sizeof buf, 1000), SPW_OK);
    spw_msg m;
    assert_int_equal(spw_pipe_recv(b, &m, 1000), SPW_EMSGSIZE);
    assert_null(m.data);
    assert_int_equal(spw_pipe_recv(b, &m, 1000), SPW_EMSGSIZE);
    /* The refusing side shut the connection, so the sender learns of it. */
    assert_int_equal(spw_pipe_recv(a, &m, 1000), SPW_ECLOSED);
    spw_pipe_close(a);
    spw_pipe_close(b);
}

static spw_pipe *accept_raw(uint16_t proto, int *peer)
{
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, proto, SPW_URL, NULL), SPW_OK);
    *peer = test_raw_peer(l);
    test_send_header(*peer, (uint16_t)spw_proto_peer(proto));
    uint8_t theirs[8];
    assert_int_equal(test_read_full(*peer, theirs, 8), 8);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    spw_listener_close(l);
    return p;
}

static void eof_mid_frame_is_eclosed_without_partial_message(void **state)
{
    (void)state;
    static const size_t cuts[] = {1, 7, 8, 9, 13};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        int peer;
        spw_pipe *p = accept_raw(SPW_PROTO_PAIR0, &peer);
        uint8_t frame[18];
        size_t w;
        assert_int_equal(spw_frame_encode(frame, sizeof frame, "0123456789", 10, &w), SPW_OK);
        test_write_all(peer, frame, cuts[c]);
        close(peer);
        spw_msg m;
        assert_int_equal(spw_pipe_recv(p, &m, 5000), SPW_ECLOSED);
        assert_null(m.data);
        assert_int_equal(m.len, 0);
        spw_pipe_close(p);
    }
}

static void recv_timeout_keeps_partial_frame(void **state)
{
    (void)state;
    int peer;
    spw_pipe *p = accept_raw(SPW_PROTO_PULL, &peer);
    uint8_t frame[13];
    size_t w;
    assert_int_equal(spw_frame_encode(frame, sizeof frame, "hello", 5, &w), SPW_OK);
    test_write_all(peer, frame, 10);
    spw_msg m;
    assert_int_equal(spw_pipe_recv(p, &m, 20), SPW_ETIMEDOUT);
    assert_int_equal(spw_pipe_recv(p, &m, 0), SPW_ETIMEDOUT);
    test_write_all(peer, frame + 10, 3);
    assert_int_equal(spw_pipe_recv(p, &m, 5000), SPW_OK);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.data, "hello", 5);
    spw_pipe_msg_free(p, &m);
    close(peer);
    spw_pipe_close(p);
}

/* With the peer not reading, header-only frames fill the socket buffer;
 * a send that cannot start times out cleanly and the pipe stays usable. */
static void send_timeout_before_first_byte_leaves_pipe_usable(void **state)
{
    (void)state;
    int peer;
    spw_pipe *p = accept_raw(SPW_PROTO_PUSH, &peer);
    int rc;
    size_t sent = 0;
    while ((rc = spw_pipe_send(p, "", 0, 0)) == SPW_OK)
        sent++;
    assert_int_equal(rc, SPW_ETIMEDOUT);
    assert_true(sent > 0);
    uint8_t drain[4096];
    size_t want = sent * 8;
    while (want) {
        size_t n = test_read_full(peer, drain, want < sizeof drain ? want : sizeof drain);
        assert_true(n > 0);
        want -= n;
    }
    assert_int_equal(spw_pipe_send(p, "x", 1, 1000), SPW_OK);
    uint8_t got[9];
    assert_int_equal(test_read_full(peer, got, 9), 9);
    assert_int_equal(got[7], 1);
    assert_int_equal(got[8], 'x');
    close(peer);
    spw_pipe_close(p);
}

static void send_timeout_mid_frame_closes_pipe(void **state)
{
    (void)state;
    int peer;
    spw_pipe *p = accept_raw(SPW_PROTO_PUSH, &peer);
    size_t big = 8u << 20;
    uint8_t *data = pattern(big, 3);
    assert_int_equal(spw_pipe_send(p, data, big, 50), SPW_ECLOSED);
    assert_int_equal(spw_pipe_send(p, "x", 1, 50), SPW_ECLOSED);
    free(data);
    close(peer);
    spw_pipe_close(p);
}

/* Without MSG_NOSIGNAL this test dies of SIGPIPE. */
static void send_to_closed_peer_is_eclosed_not_sigpipe(void **state)
{
    (void)state;
    int peer;
    spw_pipe *p = accept_raw(SPW_PROTO_PAIR1, &peer);
    close(peer);
    int rc = SPW_OK;
    for (int i = 0; i < 4 && rc == SPW_OK; i++)
        rc = spw_pipe_send(p, "abc", 3, 1000);
    assert_true(rc == SPW_ECLOSED || rc == SPW_ECONNRESET);
    spw_pipe_close(p);
}

static void frames_sent_with_handshake_in_one_segment_are_delivered(void **state)
{
    (void)state;
    spw_listener *l;
    assert_int_equal(spw_listener_create(&l, SPW_PROTO_REP, SPW_URL, NULL), SPW_OK);
    int peer = test_raw_peer(l);
    uint8_t seg[8 + 8 + 2 + 8];
    spw_handshake_encode(seg, SPW_PROTO_REQ);
    size_t w;
    assert_int_equal(spw_frame_encode(seg + 8, 10, "hi", 2, &w), SPW_OK);
    spw_frame_encode_header(seg + 18, 0);
    test_write_all(peer, seg, sizeof seg);
    spw_pipe *p;
    assert_int_equal(spw_listener_accept(l, &p, 5000), SPW_OK);
    spw_msg m;
    assert_int_equal(spw_pipe_recv(p, &m, 1000), SPW_OK);
    assert_int_equal(m.len, 2);
    assert_memory_equal(m.data, "hi", 2);
    spw_pipe_msg_free(p, &m);
    assert_int_equal(spw_pipe_recv(p, &m, 1000), SPW_OK);
    assert_int_equal(m.len, 0);
    close(peer);
    spw_pipe_close(p);
    spw_listener_close(l);
}

static void peer_credentials_are_this_process(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_PAIR1, SPW_PROTO_PAIR1, &a, &b);
    uint64_t v;
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER_UID, &v), SPW_OK);
    assert_int_equal(v, getuid());
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER_GID, &v), SPW_OK);
    assert_int_equal(v, getgid());
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER_PID, &v), SPW_OK);
    assert_int_equal(v, (uint64_t)getpid());
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER_ZONEID, &v), SPW_ENOTSUP);
    spw_pipe_close(a);
    spw_pipe_close(b);
}

static void pipe_options_are_typed(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_SURVEYOR, SPW_PROTO_RESPONDENT, &a, &b);
    int iv;
    uint64_t uv;
    spw_sockaddr sa = {99};
    assert_int_equal(spw_pipe_get_int(a, SPW_OPT_PEER, &iv), SPW_OK);
    assert_int_equal(iv, SPW_PROTO_RESPONDENT);
    assert_int_equal(spw_pipe_get_int(a, SPW_OPT_PROTO, &iv), SPW_OK);
    assert_int_equal(iv, SPW_PROTO_SURVEYOR);
    assert_int_equal(spw_pipe_get_addr(a, SPW_OPT_REMADDR, &sa), SPW_OK);
    assert_int_equal(sa.family, SPW_AF_UNSPEC);
    sa.family = 99;
    assert_int_equal(spw_pipe_get_addr(a, SPW_OPT_LOCADDR, &sa), SPW_OK);
    assert_int_equal(sa.family, SPW_AF_UNSPEC);
    assert_int_equal(spw_pipe_get_size(a, SPW_OPT_RECVMAXSZ, &uv), SPW_OK);
    assert_int_equal(uv, SPW_RECVMAX_DEFAULT);
    assert_int_equal(spw_pipe_get_int(a, SPW_OPT_RECVMAXSZ, &iv), SPW_EBADTYPE);
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER, &uv), SPW_EBADTYPE);
    assert_int_equal(spw_pipe_set_size(a, SPW_OPT_PEER_UID, 1), SPW_EREADONLY);
    assert_int_equal(spw_pipe_get_int(a, "no-such-option", &iv), SPW_ENOENT);
    assert_int_equal(spw_pipe_get_int(NULL, SPW_OPT_PEER, &iv), SPW_EINVAL);
    assert_int_equal(spw_pipe_send(a, NULL, 1, 0), SPW_EINVAL);
    assert_true(spw_pipe_fd(a) >= 0);
    assert_int_equal(spw_pipe_buffered(a), 0);
    spw_pipe_close(a);
    spw_pipe_close(b);
}

static void pipe_fd_is_closed_exactly_once(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_BUS, SPW_PROTO_BUS, &a, &b);
    int fd = spw_pipe_fd(a);
    spw_pipe_close(a);
    assert_false(test_fd_open(fd));
    /* Reuse the number: a second close by spwire would take this one. */
    int again = dup2(spw_pipe_fd(b), fd);
    assert_int_equal(again, fd);
    spw_pipe_close(b);
    assert_true(test_fd_open(again));
    close(again);
}

/* pipe.h allows NULL data when len is 0: that is the empty message, and
 * spwire must not do pointer arithmetic on the NULL (UBSan aborts). */
static void send_null_with_len_zero_is_the_empty_message(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_PAIR0, SPW_PROTO_PAIR0, &a, &b);
    assert_int_equal(spw_pipe_send(a, NULL, 0, 1000), SPW_OK);
    assert_int_equal(spw_pipe_send(a, NULL, 0, 0), SPW_OK);
    for (int i = 0; i < 2; i++) {
        spw_msg m;
        assert_int_equal(spw_pipe_recv(b, &m, 5000), SPW_OK);
        assert_int_equal(m.len, 0);
        assert_null(m.data);
    }
    assert_int_equal(spw_pipe_send(a, NULL, 1, 0), SPW_EINVAL);
    spw_pipe_close(a);
    spw_pipe_close(b);
}

/* One u64 type: spw_pipe_get_u64 and spw_pipe_get_size read the same
 * options, so a user never has to guess which one an option answers. */
static void u64_options_answer_both_accessor_names(void **state)
{
    (void)state;
    spw_pipe *a, *b;
    test_pipe_pair(SPW_PROTO_PAIR1, SPW_PROTO_PAIR1, &a, &b);
    assert_int_equal(spw_pipe_set_size(a, SPW_OPT_RECVMAXSZ, 12345), SPW_OK);
    const char *names[] = {SPW_OPT_PEER_UID, SPW_OPT_PEER_GID, SPW_OPT_PEER_PID, SPW_OPT_RECVMAXSZ};
    const uint64_t want[] = {getuid(), getgid(), (uint64_t)getpid(), 12345};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint64_t x = 1, y = 2;
        assert_int_equal(spw_pipe_get_u64(a, names[i], &x), SPW_OK);
        assert_int_equal(spw_pipe_get_size(a, names[i], &y), SPW_OK);
        assert_int_equal(x, want[i]);
        assert_int_equal(y, want[i]);
    }
    uint64_t v;
    assert_int_equal(spw_pipe_get_size(a, SPW_OPT_PEER_ZONEID, &v), SPW_ENOTSUP);
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_PEER_ZONEID, &v), SPW_ENOTSUP);
    assert_int_equal(spw_pipe_get_size(a, SPW_OPT_PEER, &v), SPW_EBADTYPE);
    assert_int_equal(spw_pipe_get_u64(a, SPW_OPT_REMADDR, &v), SPW_EBADTYPE);
    assert_int_equal(spw_pipe_get_size(a, "no-such-option", &v), SPW_ENOENT);
    spw_pipe_close(a);
    spw_pipe_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pipes_exchange_messages_both_ways, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(limit_plus_one_is_refused_and_peer_sees_close, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(eof_mid_frame_is_eclosed_without_partial_message, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(recv_timeout_keeps_partial_frame, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(send_timeout_before_first_byte_leaves_pipe_usable, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(send_timeout_mid_frame_closes_pipe, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(send_to_closed_peer_is_eclosed_not_sigpipe, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(frames_sent_with_handshake_in_one_segment_are_delivered, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(peer_credentials_are_this_process, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(pipe_options_are_typed, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(pipe_fd_is_closed_exactly_once, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(send_null_with_len_zero_is_the_empty_message, test_fd_setup, test_fd_teardown),
        cmocka_unit_test_setup_teardown(u64_options_answer_both_accessor_names, test_fd_setup, test_fd_teardown),
    };
    return cmocka_run_group_tests_name("pipe", tests, NULL, NULL);
}
