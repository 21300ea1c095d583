#define _GNU_SOURCE /* struct ucred for SO_PEERCRED */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "spwire/error.h"

int64_t spw__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t spw__deadline(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : spw__now_ms() + timeout_ms;
}

int spw__remaining(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - spw__now_ms();
    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

int spw__wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int left = spw__remaining(deadline);
        int rc = poll(&pfd, 1, left);
        if (rc > 0)
            return SPW_OK;
        if (rc == 0) {
            /* poll may wake a millisecond early; only the clock decides. */
            if (spw__remaining(deadline) == 0)
                return SPW_ETIMEDOUT;
            continue;
        }
        if (errno != EINTR)
            return SPW_ESYSTEM;
    }
}

int spw__check_stream_socket(int fd)
{
    struct stat st;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return SPW_EBADF;
    if (fstat(fd, &st) != 0)
        return SPW_ESYSTEM;
    if (!S_ISSOCK(st.st_mode))
        return SPW_ENOTSOCK;
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return SPW_ESYSTEM;
    if (type != SOCK_STREAM)
        return SPW_ESOCKTYPE;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return errno == ENOTCONN ? SPW_ENOTCONN : SPW_ESYSTEM;
    return SPW_OK;
}

int spw__make_nonblocking(int fd, struct spw__fd_flags *old)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0)
        return SPW_ESYSTEM;
    old->fl = fl;
    old->fdfl = fdfl;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return SPW_ESYSTEM;
    if (!(fdfl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
        int e = errno;
        (void)fcntl(fd, F_SETFL, fl);
        errno = e;
        return SPW_ESYSTEM;
    }
    return SPW_OK;
}

void spw__restore_flags(int fd, const struct spw__fd_flags *old)
{
    (void)fcntl(fd, F_SETFL, old->fl);
    (void)fcntl(fd, F_SETFD, old->fdfl);
}

static ssize_t map_errno(void)
{
    switch (errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return 0;
    case EPIPE:
    case ESHUTDOWN:
        return SPW_ECLOSED;
    case ECONNRESET:
        return SPW_ECONNRESET;
    default:
        return SPW_ESYSTEM;
    }
}

ssize_t spw__read_some(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t r = read(fd, buf, len);
        if (r > 0)
            return r;
        if (r == 0)
            return SPW_ECLOSED;
        if (errno != EINTR)
            return map_errno();
    }
}

ssize_t spw__write_some(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    struct msghdr mh = {0};
    mh.msg_iov = alen ? iov : iov + 1;
    mh.msg_iovlen = alen ? (blen ? 2 : 1) : 1;
    for (;;) {
        ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return map_errno();
    }
}

int spw__peer_creds(int fd, uint64_t *uid, uint64_t *gid, uint64_t *pid)
{
#if defined(SO_PEERCRED) && defined(__linux__)
    struct ucred uc;
    socklen_t len = sizeof uc;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof uc)
        return SPW_ENOTSUP;
    /* TCP sockets answer with "nobody" (pid 0, ids -1): there is no peer
     * process to report, which is "not supported" rather than a credential. */
    if (uc.pid == 0 && uc.uid == (uid_t)-1)
        return SPW_ENOTSUP;
    *uid = uc.uid;
    *gid = uc.gid;
    *pid = (uint64_t)uc.pid;
    return SPW_OK;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    uid_t u;
    gid_t g;
    if (getpeereid(fd, &u, &g) != 0)
        return SPW_ENOTSUP;
    *uid = u;
    *gid = g;
    *pid = UINT64_MAX; /* getpeereid has no pid; callers see SPW_ENOTSUP */
    return SPW_OK;
#else
    (void)fd;
    (void)uid;
    (void)gid;
    (void)pid;
    return SPW_ENOTSUP;
#endif
}
