/* spwire — option names and address type shared by listeners and pipes.
 *
 * Options are addressed by name, as in NNG, and typed: an option read or set
 * with the wrong accessor is SPW_EBADTYPE; an unknown name is SPW_ENOENT.
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
/* Listener and pipe, size (u64): receive limit, 0 = none. Pipes take the
 * listener's value when their fd is set. */
#define SPW_OPT_RECVMAXSZ "recv-size-max"
/* Listener, int milliseconds: handshake deadline counted once from the
 * moment the fd is set (a trickling peer cannot renew it); -1 = none. */
#define SPW_OPT_HANDSHAKE_TIMEOUT "handshake-timeout"
/* Listener, int, read-only: pipes whose handshake failed or timed out. */
#define SPW_OPT_HANDSHAKE_FAILURES "handshake-failures"
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
