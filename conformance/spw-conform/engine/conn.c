/* spw-conform engine — the connection seam (conn.h): transport drivers,
 * their framing, and the socket calls they make. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "spwire/frame.h"
#include "text.h"

/* ------------------------------------------------------------ framing */

void cf_framing_encode(const cf_framing *f, uint8_t *hdr, uint64_t len)
{
    if (f->type_byte >= 0)
        *hdr++ = (uint8_t)f->type_byte;
    spw_frame_encode_header(hdr, len);
}

int cf_framing_parse(const cf_framing *f, const uint8_t *p, size_t n, size_t *body,
                     size_t *flen)
{
    size_t pre = 0;
    if (f->type_byte >= 0) {
        if (n == 0)
            return 0;
        if (p[0] != (uint8_t)f->type_byte)
            return -1;
        pre = 1;
    }
    int rc = spw_frame_parse(p + pre, n - pre, 0, body, flen);
    if (rc == SPW_FRAME_NEED_MORE)
        return 0;
    if (rc != SPW_FRAME_MESSAGE)
        return -1;
    *flen += pre;
    return 1;
}

/* ------------------------------------------------------------ sockets */

int cf_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int cf_socketpair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    return 0;
}

/* Connect fd to sa, waiting up to timeout_ms for a non-blocking connect. */
static int connect_wait(int fd, const struct sockaddr *sa, socklen_t sl, int timeout_ms)
{
    if (connect(fd, sa, sl) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return -1;
    struct pollfd pf = {fd, POLLOUT, 0};
    if (poll(&pf, 1, timeout_ms) <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int cf_accept(int lfd, int timeout_ms)
{
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, timeout_ms) <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
        int one = 1; /* fails harmlessly on a UNIX-domain socket */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* ------------------------------------------------------------ tcp */

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int tcp_parse(const char *url, cf_addr *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *hp = url + strlen("tcp://");
    const char *colon = strrchr(hp, ':');
    unsigned long long port;
    if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof a->host) {
        snprintf(err, errlen, "%s: expected tcp://HOST:PORT", url);
        return -1;
    }
    if (*hp == '[' && colon[-1] == ']')
        snprintf(a->host, sizeof a->host, "%.*s", (int)(colon - hp - 2), hp + 1);
    else
        snprintf(a->host, sizeof a->host, "%.*s", (int)(colon - hp), hp);
    if (cf_parse_num(colon + 1, 0, 65535, &port)) {
        snprintf(err, errlen, "%s: bad port", url);
        return -1;
    }
    a->port = (int)port;
    snprintf(a->url, sizeof a->url, "%s", url);
    return 0;
}

static int tcp_listen_port(const cf_addr *a, int *bound)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (resolve(a->host, a->port, &ss, &sl))
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (bound) {
        struct sockaddr_storage got;
        socklen_t gl = sizeof got;
        getsockname(fd, (struct sockaddr *)&got, &gl);
        *bound = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&got)->sin_port);
    }
    return fd;
}

static int tcp_listen(const cf_addr *a)
{
    return tcp_listen_port(a, NULL);
}

/* Port 0: a port that was free a moment ago (the IUT binds it next). */
static int tcp_pick(cf_addr *a)
{
    if (a->port != 0)
        return 0;
    int port = 0, fd = tcp_listen_port(a, &port);
    if (fd < 0)
        return -1;
    close(fd);
    a->port = port;
    int v6 = strchr(a->host, ':') != NULL;
    snprintf(a->url, sizeof a->url, "tcp://%s%s%s:%d", v6 ? "[" : "", a->host, v6 ? "]" : "",
             port);
    return 0;
}

static int tcp_connect(const cf_addr *a, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (resolve(a->host, a->port, &ss, &sl))
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect_wait(fd, (struct sockaddr *)&ss, sl, timeout_ms)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------ ipc */

static int ipc_parse(const char *url, cf_addr *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *path = url + strlen("ipc://");
    if (*path != '/' || strlen(path) >= sizeof a->path) {
        snprintf(err, errlen, "%s: expected ipc:///ABSOLUTE/PATH (at most %zu bytes)", url,
                 sizeof a->path - 1);
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->url, sizeof a->url, "%s", url);
    return 0;
}

static int ipc_pick(cf_addr *a)
{
    (void)a;
    return 0;
}

static void ipc_sockaddr(const cf_addr *a, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof sun->sun_path, "%s", a->path);
}

static int ipc_connect(const cf_addr *a, int timeout_ms)
{
    struct sockaddr_un sun;
    ipc_sockaddr(a, &sun);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect_wait(fd, (struct sockaddr *)&sun, sizeof sun, timeout_ms)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int ipc_listen(const cf_addr *a)
{
    struct sockaddr_un sun;
    struct stat st;
    ipc_sockaddr(a, &sun);
    /* a socket file left by an earlier run; never remove anything else */
    if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void ipc_cleanup(const cf_addr *a)
{
    struct stat st;
    if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a->path);
}

/* ------------------------------------------------------------ drivers */

static const cf_driver drivers[CF_TR_COUNT] = {
    [CF_TR_SOCKET] = {"socket", CF_TR_SOCKET, {8, -1}, NULL, NULL, NULL, NULL, NULL},
    [CF_TR_TCP] = {"tcp", CF_TR_TCP, {8, -1}, tcp_parse, tcp_pick, tcp_connect, tcp_listen,
                   NULL},
    /* NNG and nanomsg ipc: message type 1 in front of every length */
    [CF_TR_IPC] = {"ipc", CF_TR_IPC, {9, 1}, ipc_parse, ipc_pick, ipc_connect, ipc_listen,
                   ipc_cleanup},
};

const cf_driver *cf_driver_of(int transport)
{
    return transport >= 0 && transport < CF_TR_COUNT ? &drivers[transport] : NULL;
}

const cf_driver *cf_driver_for_url(const char *url)
{
    for (int t = 0; t < CF_TR_COUNT; t++) {
        size_t n = strlen(drivers[t].scheme);
        if (drivers[t].parse && strncmp(url, drivers[t].scheme, n) == 0 &&
            strncmp(url + n, "://", 3) == 0)
            return &drivers[t];
    }
    return NULL;
}

int cf_transport_by_name(const char *name)
{
    for (int t = 0; t < CF_TR_COUNT; t++)
        if (strcmp(drivers[t].scheme, name) == 0)
            return t;
    return -1;
}

const char *cf_transport_name(int transport)
{
    const cf_driver *d = cf_driver_of(transport);
    return d ? d->scheme : "?";
}
