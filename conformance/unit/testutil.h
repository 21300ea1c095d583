/* Shared test helpers: socket plumbing and fd accounting. The accounting
 * allocator that fails on demand is spw_countalloc (conformance/common). */
#ifndef SPW_TESTUTIL_H
#define SPW_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "spw_countalloc.h"

/* Open fds in this process: for checking nothing leaks. */
int test_count_fds(void);

/* cmocka setup/teardown pair: the teardown fails the test when the number
 * of open fds differs from what the setup saw (a leaked or double-closed fd). */
int test_fd_setup(void **state);
int test_fd_teardown(void **state);

/* 1 when fd is open. */
int test_fd_open(int fd);

/* Write all of buf (blocking); aborts on error. */
void test_write_all(int fd, const void *buf, size_t len);

#endif

#include "spwire/listener.h"

/* A socketpair whose first end is handed to l; returns the other end (the
 * raw peer the test drives by hand). Aborts on failure. */
int test_raw_peer(spw_listener *l);

/* Write a valid header for proto to fd. */
void test_send_header(int fd, uint16_t proto);

/* Read exactly len bytes (blocking, 5 s limit); returns bytes read before
 * EOF/timeout. */
size_t test_read_full(int fd, void *buf, size_t len);

/* Two spwire pipes connected over a socketpair, handshakes done. */
void test_pipe_pair(uint16_t proto_a, uint16_t proto_b, spw_pipe **a, spw_pipe **b);
