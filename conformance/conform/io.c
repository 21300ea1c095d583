/* spw-conform — every syscall of the tool: processes, sockets, poll loops. */
#include "conform.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcap.h"
#include "spwire/proto.h"

long long cf_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long cf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void cf_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ processes */

static const char *behaviour_for(uint16_t proto)
{
    switch (proto) {
    case SPW_PROTO_PAIR0:
    case SPW_PROTO_PAIR1:
    case SPW_PROTO_BUS:
    case SPW_PROTO_REP:
    case SPW_PROTO_RESPONDENT:
        return "--echo --count 1000000 --timeout 600000";
    case SPW_PROTO_REQ:
        return "--send 7370 --count 1000000 --timeout 600000";
    case SPW_PROTO_SURVEYOR:
        /* a survey ends at its first response, so taking a response shows
         * as the next survey (the sp.requester cases rely on it) */
        return "--send 7370 --count 1000000 --timeout 600000 --wait-peers 1";
    case SPW_PROTO_PUB:
    case SPW_PROTO_PUSH:
        return "--size 8 --count 1000000 --timeout 600000";
    default:
        return "--recv --count 1000000 --timeout 600000";
    }
}

char *cf_expand(const char *tmpl, const int *fds, int nfds, const char *url, uint16_t proto,
                uint64_t recvmax)
{
    cf_buf b = {0};
    const char *p = tmpl;
    while (*p) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e) {
                size_t n = (size_t)(e - p - 1);
                char key[32] = {0};
                if (n < sizeof key) {
                    memcpy(key, p + 1, n);
                    int done = 1;
                    if (strcmp(key, "fd") == 0)
                        cf_buf_printf(&b, "%d", nfds > 0 ? fds[0] : -1);
                    else if (strcmp(key, "fds") == 0)
                        for (int i = 0; i < nfds; i++)
                            cf_buf_printf(&b, "%s%d", i ? "," : "", fds[i]);
                    else if (strcmp(key, "url") == 0)
                        cf_buf_printf(&b, "%s", url ? url : "");
                    else if (strcmp(key, "proto") == 0)
                        cf_buf_printf(&b, "%s", spw_proto_name(proto));
                    else if (strcmp(key, "recvmax") == 0)
                        cf_buf_printf(&b, "%llu", (unsigned long long)recvmax);
                    else if (strcmp(key, "behaviour") == 0 || strcmp(key, "behavior") == 0)
                        cf_buf_printf(&b, "%s", behaviour_for(proto));
                    else
                        done = 0;
                    if (done) {
                        p = e + 1;
                        continue;
                    }
                }
            }
        }
        cf_buf_add(&b, p, 1);
        p++;
    }
    if (!b.p)
        cf_buf_add(&b, "", 0);
    return (char *)b.p;
}

/* Does the command start with a shell variable assignment (NAME=...)? */
static int leading_assignment(const char *cmd)
{
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    if (!(*cmd == '_' || (*cmd >= 'A' && *cmd <= 'Z') || (*cmd >= 'a' && *cmd <= 'z')))
        return 0;
    while (*cmd == '_' || (*cmd >= 'A' && *cmd <= 'Z') || (*cmd >= 'a' && *cmd <= 'z') ||
           (*cmd >= '0' && *cmd <= '9'))
        cmd++;
    return *cmd == '=';
}

int cf_spawn(const char *cmd, const int *keep, int nkeep, const char *logpath, cf_proc *p)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        int out = logpath ? open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                          : open("/dev/null", O_WRONLY);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
            if (out > 2)
                close(out);
        }
        for (int i = 0; i < nkeep; i++) {
            int fl = fcntl(keep[i], F_GETFD);
            fcntl(keep[i], F_SETFD, fl & ~FD_CLOEXEC);
            fl = fcntl(keep[i], F_GETFL);
            fcntl(keep[i], F_SETFL, fl & ~O_NONBLOCK);
        }
        /* A simple command is exec'ed by the shell, so the IUT is our child
         * (its death by a signal is seen as such); a compound one runs as is. */
        int simple = strpbrk(cmd, ";&|\n()`") == NULL;
        if (simple) {
            /* "VAR=value prog": exec would take the assignment for the
             * program, so such a command runs through env(1), which execs */
            const char *pre = leading_assignment(cmd) ? "exec env " : "exec ";
            size_t n = strlen(cmd) + strlen(pre) + 1;
            char *e = malloc(n);
            if (e) {
                snprintf(e, n, "%s%s", pre, cmd);
                cmd = e;
            }
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    p->pid = pid;
    return 0;
}

/* The leader is reaped: kill what is left of its process group (a shell's
 * child, say) and wait until it is gone, so no old IUT still holds a port or
 * a socket when the next case starts. */
static void reap_group(int pgid)
{
    kill(-pgid, SIGKILL);
    long end = cf_now_ms() + 100; /* zombies count too: bounded */
    while (kill(-pgid, 0) == 0 && cf_now_ms() < end)
        cf_sleep_ms(1);
}

int cf_proc_poll(cf_proc *p)
{
    if (p->pid < 0 || p->exited)
        return 1;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->status = st;
        p->exited = 1;
        reap_group(p->pid);
        return 1;
    }
    return 0;
}

int cf_proc_stop(cf_proc *p, int grace_ms)
{
    if (p->pid < 0)
        return 0;
    if (cf_proc_poll(p))
        return 0;
    kill(-p->pid, SIGTERM);
    long end = cf_now_ms() + grace_ms;
    while (cf_now_ms() < end) {
        if (cf_proc_poll(p))
            return 0;
        cf_sleep_ms(2);
    }
    kill(-p->pid, SIGKILL);
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
    }
    p->status = st;
    p->exited = 1;
    reap_group(p->pid);
    return 1;
}

int cf_proc_signal(const cf_proc *p)
{
    if (!p->exited)
        return 0;
    if (WIFSIGNALED(p->status))
        return WTERMSIG(p->status);
    /* through a shell that did not exec: 128 + signal */
    if (WIFEXITED(p->status)) {
        int c = WEXITSTATUS(p->status);
        if (c > 128 && c < 128 + 65)
            return c - 128;
    }
    return 0;
}

void cf_proc_describe(const cf_proc *p, char *buf, size_t len)
{
    int sig = cf_proc_signal(p);
    if (sig)
        snprintf(buf, len, "killed by signal %d (%s)", sig, strsignal(sig));
    else if (WIFEXITED(p->status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(p->status));
    else
        snprintf(buf, len, "wait status 0x%x", p->status);
}

char *cf_file_tail(const char *path, size_t max)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    if (sz <= 0) {
        fclose(f);
        return NULL;
    }
    long from = sz > (long)max ? sz - (long)max : 0;
    fseek(f, from, SEEK_SET);
    char *b = malloc((size_t)(sz - from) + 1);
    if (!b)
        abort();
    size_t n = fread(b, 1, (size_t)(sz - from), f);
    b[n] = 0;
    fclose(f);
    return b;
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

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
        return -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int cf_tcp_connect(const char *host, int port, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (resolve(host, port, &ss, &sl))
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, timeout_ms) <= 0) {
            close(fd);
            return -1;
        }
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int cf_tcp_listen(const char *host, int port, int *bound)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (resolve(host, port, &ss, &sl))
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
        close(fd);
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

int cf_tcp_accept(int lfd, int timeout_ms)
{
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, timeout_ms) <= 0)
        return -1;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int cf_free_port(const char *host)
{
    int port = 0;
    int fd = cf_tcp_listen(host, 0, &port);
    if (fd < 0)
        return -1;
    close(fd);
    return port;
}

/* ------------------------------------------------------------ wire log */

#define CF_LOG_MAX (24 * 1024)

static int log_full(cf_wire *w)
{
    if (!w || !w->text)
        return 1;
    if (w->text->len > CF_LOG_MAX) {
        if (w->text->len < CF_LOG_MAX + 200)
            cf_buf_printf(w->text, "  ... (wire log truncated)\n");
        return 1;
    }
    cf_buf_printf(w->text, "  %+6ldms  ", cf_now_ms() - w->t0);
    if (w->label)
        cf_buf_printf(w->text, "fd%d ", w->conn + 1);
    return 0;
}

void cf_log_note(cf_wire *w, const char *msg)
{
    if (!log_full(w))
        cf_buf_printf(w->text, "** %s\n", msg);
}

void cf_log_bytes(cf_wire *w, int from_iut, const uint8_t *p, size_t n)
{
    if (w && w->pcap)
        cf_pcap_data(w->pcap, w->conn, from_iut, cf_wall_us(), p, n);
    if (log_full(w))
        return;
    cf_buf_printf(w->text, "%s %zu byte%s:", from_iut ? "<-" : "->", n, n == 1 ? "" : "s");
    size_t show = n > 48 ? 48 : n;
    for (size_t i = 0; i < show; i++)
        cf_buf_printf(w->text, "%s%02x", i % 8 == 0 ? "  " : " ", p[i]);
    if (show < n)
        cf_buf_printf(w->text, " ...");
    cf_buf_add(w->text, "\n", 1);
}

static void log_end(cf_wire *w, int from_iut, int reset)
{
    if (!w || !w->pcap)
        return;
    if (reset)
        cf_pcap_rst(w->pcap, w->conn, from_iut, cf_wall_us());
    else
        cf_pcap_fin(w->pcap, w->conn, from_iut, cf_wall_us());
}

void cf_io_shutdown(int fd, cf_wire *w)
{
    shutdown(fd, SHUT_WR);
    log_end(w, 0, 0);
}

void cf_io_close(int fd, cf_wire *w)
{
    close(fd);
    log_end(w, 0, 0);
}

/* ------------------------------------------------------------ I/O loops */

#define CF_RX_CAP ((size_t)32 * 1024 * 1024)
#define CF_STALL_MS 3000
#define CF_XSTR(x) #x
#define CF_STR(x) CF_XSTR(x)

static int read_some(int fd, cf_buf *rx, int *closed, cf_wire *w)
{
    uint8_t tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n > 0) {
            cf_log_bytes(w, 1, tmp, (size_t)n);
            if (rx->len + (size_t)n <= CF_RX_CAP)
                cf_buf_add(rx, tmp, (size_t)n);
            continue;
        }
        if (n == 0) {
            if (!*closed) {
                cf_log_note(w, "IUT closed the connection (EOF)");
                log_end(w, 1, 0);
            }
            *closed = 1;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (!*closed) {
            char m[96];
            snprintf(m, sizeof m, "read: %s (connection closed)", strerror(errno));
            cf_log_note(w, m);
            log_end(w, 1, errno == ECONNRESET);
        }
        *closed = 1;
        return -1;
    }
}

int cf_io_write(int fd, const uint8_t *buf, size_t len, size_t chunk, int gap_ms, cf_buf *rx,
                int *closed, cf_wire *w)
{
    size_t off = 0;
    /* a stall is time without progress: a slow reader is not a deaf one */
    long deadline = cf_now_ms() + CF_STALL_MS;
    while (off < len) {
        size_t want = len - off;
        if (chunk && want > chunk)
            want = chunk;
        struct pollfd pf = {fd, (short)(POLLOUT | (*closed ? 0 : POLLIN)), 0};
        long left = deadline - cf_now_ms();
        if (left <= 0) {
            cf_log_note(w, "write stalled: the IUT read nothing for " CF_STR(CF_STALL_MS) " ms");
            return -2;
        }
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pf.revents & (POLLIN | POLLHUP | POLLERR))
            read_some(fd, rx, closed, w);
        if (!(pf.revents & POLLOUT)) {
            if (pf.revents & (POLLHUP | POLLERR)) {
                *closed = 1;
                return -1;
            }
            continue;
        }
        ssize_t n = send(fd, buf + off, want, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            char m[96];
            snprintf(m, sizeof m, "write: %s", strerror(errno));
            cf_log_note(w, m);
            *closed = 1;
            return -1;
        }
        cf_log_bytes(w, 0, buf + off, (size_t)n);
        off += (size_t)n;
        deadline = cf_now_ms() + CF_STALL_MS;
        if (chunk && gap_ms > 0 && off < len) {
            long until = cf_now_ms() + gap_ms;
            long l;
            while ((l = until - cf_now_ms()) > 0) {
                struct pollfd rp = {fd, POLLIN, 0};
                if (*closed) {
                    cf_sleep_ms((int)l);
                    break;
                }
                if (poll(&rp, 1, (int)l) > 0)
                    read_some(fd, rx, closed, w);
            }
        }
    }
    return 0;
}

int cf_io_read_until(int fd, long deadline, cf_buf *rx, int *closed, cf_wire *w,
                     int (*done)(void *ctx), void *ctx)
{
    for (;;) {
        if (done && done(ctx))
            return 0;
        if (*closed)
            return -1;
        long left = deadline - cf_now_ms();
        if (left <= 0)
            return 1;
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr > 0)
            read_some(fd, rx, closed, w);
    }
}

/* ------------------------------------------------------------ output paths */

int cf_check_out_file(const char *option, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (!*path) {
        snprintf(err, errlen, "%s: an empty path", option);
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a directory, a file is expected", option, path);
        return -1;
    }
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: the directory %s does not exist", option, path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0 || (access(path, F_OK) == 0 && access(path, W_OK) != 0)) {
        snprintf(err, errlen, "%s %s: not writable: %s", option, path, strerror(errno));
        return -1;
    }
    return 0;
}

int cf_check_out_dir(const char *option, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (!*path) {
        snprintf(err, errlen, "%s: an empty path", option);
        return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s %s: cannot create the directory: %s", option, path,
                 strerror(errno));
        return -1;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a directory", option, path);
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s %s: not writable: %s", option, path, strerror(errno));
        return -1;
    }
    return 0;
}
