/* spwire — the socket:// listener, mirroring NNG's socket transport.
 *
 * The transport is listener-only: there is nothing to dial, so
 * spw_dialer_create always fails with SPW_ENOTSUP. The one URL is exactly
 * "socket://". A pipe is created by handing a connected stream socket to the
 * listener with the write-only option SPW_OPT_SOCKET_FD, as many times as
 * there are sockets. On a successful set spwire owns the fd, sends its
 * handshake at once, and starts the handshake deadline.
 *
 * Every successful set ends exactly one way: its pipe is handed out by
 * spw_listener_accept (handshake complete); or it is closed and counted as
 * a handshake failure (SPW_OPT_HANDSHAKE_FAILURES, and one of the
 * per-reason counts); or spw_listener_close closes it, uncounted. A failed or timed-out handshake never reaches the
 * caller. Among pipes ready at the same time, accept hands out the one whose
 * fd was set first. Accepted pipes are independent of the listener and
 * outlive it.
 *
 * No threads, so handshakes move only inside listener calls: accept, pending,
 * the SOCKET_FD set and the HANDSHAKE_FAILURES* gets each make one
 * non-blocking pass over the pending fds, advancing every handshake and
 * closing the failed and the late. Between calls nothing happens: a silent
 * peer past its deadline keeps its fd open until the next such call. The
 * deadline is checked before the handshake is looked at: a handshake that a
 * call finds incomplete after its deadline fails, even if the peer's bytes
 * arrived in time but no call looked. A caller that polls (timeout 0) must
 * therefore call more often than the handshake timeout.
 *
 * Resources: at most SPW_OPT_PENDING_MAX fds are held at once (default
 * SPW_PENDING_MAX_DEFAULT, NNG's fixed limit); the next set is SPW_ENOSPC.
 * A pending fd costs its pipe's bookkeeping only (a few hundred bytes): the
 * 64 KiB read buffer is allocated by the first spw_pipe_recv, since the
 * handshake reads exactly the 8 header bytes. Everything accept needs is
 * allocated by the set, so accept itself never allocates.
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
#define SPW_PENDING_MAX_DEFAULT 16

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
 * its handshake. *pipe is NULL unless SPW_OK. Returns
 *   SPW_OK        *pipe set; the caller owns it;
 *   SPW_EIDLE     nothing is pending, or nothing is any more (the last
 *                 handshakes failed during this call): no pipe can appear
 *                 until another fd is set, so accept returns at once,
 *                 whatever the timeout (with -1 too: a listener has one
 *                 thread, no set can happen while accept waits);
 *   SPW_ETIMEDOUT handshakes are still in progress and none completed in
 *                 time; they carry on at the next call;
 *   SPW_ESYSTEM   poll failed;
 *   SPW_EINVAL    l or pipe NULL.
 * Never SPW_ENOMEM: accept allocates nothing. So a loop
 *   while ((rc = spw_listener_accept(l, &p, -1)) == SPW_OK) ...
 * ends with SPW_EIDLE once every fd set has been accepted or has failed. */
int spw_listener_accept(spw_listener *l, spw_pipe **pipe, int timeout_ms);

/* Make one non-blocking pass (see above), then return the number of fds set
 * whose handshake is still in progress or done but not yet accepted. 0 for
 * l NULL. */
int spw_listener_pending(spw_listener *l);

/* Close pending fds, free the listener. Accepted pipes are not touched.
 * NULL is a no-op. */
void spw_listener_close(spw_listener *l);

/* Options (spwire/options.h).
 * set_int(SPW_OPT_SOCKET_FD, fd) returns
 *   SPW_OK         fd now owned by spwire (it sets O_NONBLOCK and
 *                  FD_CLOEXEC, and closes it when done);
 *   SPW_EBADF      negative or closed fd;
 *   SPW_ENOTSOCK   open, but not a socket (a file, a device);
 *   SPW_ESOCKTYPE  not SOCK_STREAM;
 *   SPW_ENOTCONN   not connected; on Linux also a TCP socket whose peer
 *                  already reset it (the kernel forgets the peer on reset);
 *   SPW_ENOSPC     SPW_OPT_PENDING_MAX fds are already pending;
 *   SPW_ENOMEM;
 *   SPW_ECLOSED    the peer already closed or reset the connection: the
 *                  first write of spwire's handshake failed with nothing
 *                  sent. A peer whose close the kernel does not report
 *                  yet (a TCP FIN still accepts writes) gives SPW_OK, and
 *                  its handshake then fails (counted as CLOSED);
 *   SPW_ESYSTEM.
 * The fd is checked first, then the cap, then memory is allocated, and only
 * then is the fd changed. On any error the fd is left open and exactly as
 * it was: still the caller's, file status and descriptor flags unchanged,
 * nothing written to it.
 * set_int(SPW_OPT_HANDSHAKE_TIMEOUT, ms): ms >= -1, else SPW_EINVAL; applies
 * to fds set afterwards.
 * set_int(SPW_OPT_PENDING_MAX, n): n >= 1, else SPW_EINVAL.
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
