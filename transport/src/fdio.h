/* Internal: the only place spwire talks to the OS. Not installed.
 * Functions here return spwire codes and keep errno for SPW_ESYSTEM. */
#ifndef SPWIRE_FDIO_H
#define SPWIRE_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic milliseconds. */
int64_t spw__now_ms(void);

/* Absolute deadline for a relative timeout: -1 stays -1 (never). */
int64_t spw__deadline(int timeout_ms);

/* Milliseconds left until deadline for poll(): -1 for never, 0 if passed. */
int spw__remaining(int64_t deadline);

/* Wait until fd has `events` (POLLIN/POLLOUT) or the deadline passes.
 * Returns SPW_OK (ready, or an error/hang-up condition the next I/O call
 * will report), SPW_ETIMEDOUT, or SPW_ESYSTEM. EINTR restarts with the time
 * left. */
int spw__wait_fd(int fd, short events, int64_t deadline);

/* Check that fd is an open, connected stream socket. SPW_OK, SPW_EBADF,
 * SPW_ENOTSOCK, SPW_ESOCKTYPE, SPW_ENOTCONN, SPW_ESYSTEM. */
int spw__check_stream_socket(int fd);

/* An fd's file status flags (F_GETFL) and descriptor flags (F_GETFD). */
struct spw__fd_flags {
    int fl, fdfl;
};

/* Set O_NONBLOCK and FD_CLOEXEC; *old gets both previous flag words so a
 * caller handing the fd back can undo everything with spw__restore_flags.
 * On error nothing was changed. */
int spw__make_nonblocking(int fd, struct spw__fd_flags *old);
void spw__restore_flags(int fd, const struct spw__fd_flags *old);

/* One non-blocking read/write attempt. Returns bytes moved (> 0), 0 for
 * "would block", or a negative spwire code: SPW_ECLOSED for EOF / EPIPE,
 * SPW_ECONNRESET, SPW_ESYSTEM. Writes never raise SIGPIPE. */
ssize_t spw__read_some(int fd, void *buf, size_t len);
ssize_t spw__write_some(int fd, const void *a, size_t alen, const void *b, size_t blen);

/* Peer credentials. SPW_OK or SPW_ENOTSUP. */
int spw__peer_creds(int fd, uint64_t *uid, uint64_t *gid, uint64_t *pid);

#endif
