/* spwire — a pipe: one SP connection over one connected stream socket.
 *
 * Pipes come from spw_listener_accept with the handshake already complete.
 * Everything here blocks for at most the timeout given (milliseconds; -1
 * waits forever, 0 polls once). The fd is non-blocking underneath; EINTR,
 * EAGAIN, short reads and short writes are absorbed; SIGPIPE is never raised.
 *
 * Threads: a pipe has no locks. One thread may send while another receives;
 * two concurrent sends or two concurrent receives are undefined, as is any
 * call racing spw_pipe_close.
 */
#ifndef SPWIRE_PIPE_H
#define SPWIRE_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "spwire/frame.h"
#include "spwire/options.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spw_pipe spw_pipe;

/* Send one message (len may be 0; data may then be NULL). Returns SPW_OK once every byte is with
 * the kernel; SPW_ETIMEDOUT if the deadline passed before the first byte
 * went out (the pipe stays usable); SPW_ECLOSED if the peer closed, or if the
 * deadline passed mid-frame (the stream would be corrupt, so the pipe is
 * shut and every later call returns SPW_ECLOSED); SPW_ECONNRESET,
 * SPW_ESYSTEM; SPW_EINVAL for NULL data with len > 0. */
int spw_pipe_send(spw_pipe *p, const void *data, size_t len, int timeout_ms);

/* Receive one message into *msg, which the caller then owns (free it with
 * spw_pipe_msg_free). Returns SPW_OK; SPW_ETIMEDOUT (a partial frame stays
 * buffered for the next call); SPW_ECLOSED when the peer closed — including
 * mid-frame, in which case nothing partial is delivered; SPW_EMSGSIZE (the
 * peer announced more than the limit; the pipe is unusable afterwards, as
 * after every error but SPW_ETIMEDOUT); SPW_ENOMEM (the pipe's 64 KiB read
 * buffer is allocated by the first call, or the message); SPW_ECONNRESET;
 * SPW_ESYSTEM. */
int spw_pipe_recv(spw_pipe *p, spw_msg *msg, int timeout_ms);

/* Free a message received on p (uses the pipe's allocator). */
void spw_pipe_msg_free(spw_pipe *p, spw_msg *msg);

/* Close the fd (exactly once) and free the pipe. NULL is a no-op. */
void spw_pipe_close(spw_pipe *p);

/* Options: see spwire/options.h. Returns SPW_OK, SPW_ENOENT, SPW_EBADTYPE,
 * SPW_EREADONLY, SPW_ENOTSUP (credential not available on this platform).
 * spw_pipe_get_u64 and spw_pipe_get_size are one accessor under NNG's two
 * names: either reads every u64 option (receive limit, credentials). */
int spw_pipe_get_int(spw_pipe *p, const char *name, int *val);
int spw_pipe_get_u64(spw_pipe *p, const char *name, uint64_t *val);
int spw_pipe_get_size(spw_pipe *p, const char *name, uint64_t *val);
int spw_pipe_set_size(spw_pipe *p, const char *name, uint64_t val);
int spw_pipe_get_addr(spw_pipe *p, const char *name, spw_sockaddr *val);

/* The underlying fd, for poll()-based callers; still owned by the pipe. */
int spw_pipe_fd(const spw_pipe *p);

/* Bytes already read from the socket and not yet delivered: when non-zero,
 * spw_pipe_recv may return a message without the fd being readable. */
size_t spw_pipe_buffered(const spw_pipe *p);

/* errno of the last SPW_ESYSTEM, for diagnostics; 0 if none. */
int spw_pipe_sys_errno(const spw_pipe *p);

#ifdef __cplusplus
}
#endif
#endif
