/* spwire — the socket:// listener, mirroring NNG's socket transport.
 *
 * The transport is listener-only: there is nothing to dial, so
 * spw_dialer_create always fails with SPW_ENOTSUP. The one URL is exactly
 * "socket://". A pipe is created by handing a connected stream socket to the
 * listener with the write-only option SPW_OPT_SOCKET_FD, as many times as
 * there are sockets. On a successful set spwire owns the fd, sends its
 * handshake at once, and starts the handshake deadline.
 *
 * spw_listener_accept drives all pending handshakes together and hands out
 * a pipe that completed; among those ready at the same time, the one whose
 * fd was set first. A pipe whose handshake fails or times out is closed and
 * counted (SPW_OPT_HANDSHAKE_FAILURES); it never reaches the caller.
 * Accepted pipes are independent of the listener and outlive it.
 *
 * Threads: a listener has no locks; use it from one thread at a time.
 */
#ifndef SPWIRE_LISTENER_H
#define SPWIRE_LISTENER_H

#include <stdint.h>

#include "spwire/alloc.h"
#include "spwire/options.h"
#include "spwire/pipe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPW_URL "socket://"
#define SPW_HANDSHAKE_TIMEOUT_DEFAULT_MS 10000

typedef struct spw_listener spw_listener;
typedef struct spw_dialer spw_dialer;

/* Create a listener speaking protocol proto (an spw_proto_id) at url.
 * alloc may be NULL (default allocator); it must outlive the listener and
 * its pipes. Returns SPW_OK, SPW_EADDRINVAL (url not exactly "socket://",
 * or NULL), SPW_ENOTSUP (unknown protocol), SPW_EINVAL (l NULL),
 * SPW_ENOMEM. */
int spw_listener_create(spw_listener **l, uint16_t proto, const char *url,
                        const spw_allocator *alloc);

/* Always SPW_ENOTSUP (SPW_EINVAL for d NULL); *d is set to NULL. */
int spw_dialer_create(spw_dialer **d, uint16_t proto, const char *url);

/* Wait up to timeout_ms (-1 forever, 0 poll once) for a pipe that completed
 * its handshake. Returns SPW_OK with *pipe set; SPW_ETIMEDOUT (no pipe ready
 * in time; handshakes in progress carry on at the next call); SPW_ESYSTEM. */
int spw_listener_accept(spw_listener *l, spw_pipe **pipe, int timeout_ms);

/* Number of fds set whose handshake is still in progress or done but not
 * yet accepted. */
int spw_listener_pending(const spw_listener *l);

/* Close pending fds, free the listener. Accepted pipes are not touched.
 * NULL is a no-op. */
void spw_listener_close(spw_listener *l);

/* Options (spwire/options.h).
 * set_int(SPW_OPT_SOCKET_FD, fd) returns SPW_OK (fd now owned by spwire),
 * SPW_EBADF (negative or closed fd), SPW_ENOTSOCK (a file, a device),
 * SPW_ESOCKTYPE (not SOCK_STREAM), SPW_ENOTCONN (not connected), SPW_ENOMEM,
 * SPW_ECLOSED (peer already reset the socket), SPW_ESYSTEM. On any error
 * the fd is left open and still the caller's.
 * get_int(SPW_OPT_SOCKET_FD) is SPW_EWRITEONLY. */
int spw_listener_set_int(spw_listener *l, const char *name, int val);
int spw_listener_get_int(spw_listener *l, const char *name, int *val);
int spw_listener_set_size(spw_listener *l, const char *name, uint64_t val);
int spw_listener_get_size(spw_listener *l, const char *name, uint64_t *val);
int spw_listener_get_addr(spw_listener *l, const char *name, spw_sockaddr *val);

#ifdef __cplusplus
}
#endif
#endif
