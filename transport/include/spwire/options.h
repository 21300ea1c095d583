/* spwire — option names and address type shared by listeners and pipes.
 *
 * Options are addressed by name, as in NNG, and typed: an option read or set
 * with the wrong accessor is SPW_EBADTYPE; an unknown name is SPW_ENOENT.
 * There are three types:
 *   int      get_int / set_int;
 *   u64      every 64-bit value (the receive limit, credentials), always through
 *            a uint64_t. NNG has two types here (size_t and uint64_t); spwire
 *            has one, so on a pipe spw_pipe_get_u64 and spw_pipe_get_size are
 *            the same accessor under the two NNG names: either reads every
 *            u64 option below. The listener's only u64 option is the receive
 *            limit, through spw_listener_get_size / spw_listener_set_size;
 *   address  get_addr.
 */
#ifndef SPWIRE_OPTIONS_H
#define SPWIRE_OPTIONS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Listener, int, write-only: hand a connected stream socket to the listener.
 * Each successful set creates exactly one pipe, and spwire owns the fd. */
#define SPW_OPT_SOCKET_FD "socket:fd"
/* Listener and pipe, u64: receive limit, 0 = none. Pipes take the
 * listener's value when their fd is set. */
#define SPW_OPT_RECVMAXSZ "recv-size-max"
/* Listener, int milliseconds: handshake deadline counted once from the
 * moment the fd is set (a trickling peer cannot renew it); -1 = none. */
#define SPW_OPT_HANDSHAKE_TIMEOUT "handshake-timeout"
/* Listener, int, read-only: pipes whose handshake failed or timed out
 * (the sum of the four reasons below). */
#define SPW_OPT_HANDSHAKE_FAILURES "handshake-failures"
/* Listener, int, read-only: the same failures by reason. TIMEOUT: the
 * deadline passed first; PROTO: the peer's header was wrong (SPW_EPROTO);
 * CLOSED: the peer closed or reset the connection before its header was
 * complete; SYSTEM: any other OS error. */
#define SPW_OPT_HANDSHAKE_FAILURES_TIMEOUT "handshake-failures-timeout"
#define SPW_OPT_HANDSHAKE_FAILURES_PROTO "handshake-failures-proto"
#define SPW_OPT_HANDSHAKE_FAILURES_CLOSED "handshake-failures-closed"
#define SPW_OPT_HANDSHAKE_FAILURES_SYSTEM "handshake-failures-system"
/* Listener, int >= 1: most fds the listener holds at once (handshake in
 * progress, or done and not yet accepted); one more set is SPW_ENOSPC.
 * Lowering it below the current count refuses new fds until enough are
 * accepted or fail; none is dropped. */
#define SPW_OPT_PENDING_MAX "pending-max"
/* Listener and pipe, int, read-only: our protocol id / the peer's. */
#define SPW_OPT_PROTO "protocol"
#define SPW_OPT_PEER "peer"
/* Pipe, u64, read-only: peer credentials of the socket (SO_PEERCRED on
 * Linux, getpeereid on BSDs); SPW_ENOTSUP where the platform has none. */
#define SPW_OPT_PEER_UID "peer-uid"
#define SPW_OPT_PEER_GID "peer-gid"
#define SPW_OPT_PEER_PID "peer-pid"
#define SPW_OPT_PEER_ZONEID "peer-zoneid"
/* Listener (LOCADDR) and pipe (both), address, read-only. */
#define SPW_OPT_LOCADDR "local-address"
#define SPW_OPT_REMADDR "remote-address"

enum spw_af {
    SPW_AF_UNSPEC = 0, /* the socket transport never knows the family */
};

typedef struct spw_sockaddr {
    uint16_t family; /* enum spw_af */
} spw_sockaddr;

#ifdef __cplusplus
}
#endif
#endif
