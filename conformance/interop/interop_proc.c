/* interop_proc.c -- see interop_proc.h. */
#define _POSIX_C_SOURCE 200809L
#include "interop_proc.h"
#include "spw_sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char workdir[200] = "/tmp";
static int serial;

void proc_set_workdir(const char *dir)
{
    snprintf(workdir, sizeof workdir, "%s", dir);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void payload_fill(unsigned char *out, size_t len, long long k, int seq)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(((unsigned long long)k * 31u + i) & 0xffu);
    for (size_t i = 0; seq && i < 8 && i < len; i++)
        out[i] = (unsigned char)((unsigned long long)k >> (56 - 8 * i));
}

size_t payload_size(const char *sizes, long long k)
{
    long long v[64];
    int n = 0;
    const char *s = sizes;
    while (*s && n < 64) {
        char *end;
        v[n++] = strtoll(s, &end, 10);
        s = *end == ',' ? end + 1 : end;
    }
    return n ? (size_t)v[k % n] : 0;
}

void proc_init(struct proc *p, const char *label)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    spw_proc_adopt(&p->sp, -1, 0);
    p->out_fd = -1;
    p->seq_size = -1;
    p->seq_bad_at = -1;
    p->payload_bad_at = -1;
    p->done_sent = p->done_recv = -1;
}

void proc_arg(struct proc *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (p->argc + 1 < PROC_MAX_ARGS)
        p->argv[p->argc++] = strdup(buf);
    p->argv[p->argc] = NULL;
}

void proc_keep(struct proc *p, int fd)
{
    if (p->nkeep < PROC_MAX_KEEP)
        p->keep[p->nkeep++] = fd;
}

void proc_free(struct proc *p)
{
    for (int i = 0; i < p->argc; i++)
        free(p->argv[i]);
    for (int i = 0; i < PROC_LOG_HEAD; i++)
        free(p->head[i]);
    for (int i = 0; i < PROC_LOG_TAIL; i++)
        free(p->tail[i]);
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->errfile[0])
        unlink(p->errfile);
    p->argc = 0;
    p->out_fd = -1;
}

const char *proc_cmdline(const struct proc *p)
{
    static char buf[2048];
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < p->argc && n < sizeof buf - 2; i++) {
        const char *a = p->argv[i];
        if (i == 0 && strrchr(a, '/'))
            a = strrchr(a, '/') + 1;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "", a);
    }
    return buf;
}

/* ------------------------------------------------------------ JSON bits */

/* Value of "key": as a string (quoted or bare) in out; 0 if found. */
static int jget(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *s = strstr(line, pat);
    if (!s || cap == 0)
        return -1;
    s += strlen(pat);
    size_t n = 0;
    if (*s == '"') {
        s++;
        while (*s && *s != '"' && n + 1 < cap) {
            if (*s == '\\' && s[1])
                s++;
            out[n++] = *s++;
        }
    } else {
        while (*s && *s != ',' && *s != '}' && n + 1 < cap)
            out[n++] = *s++;
    }
    out[n] = 0;
    return 0;
}

static long long jnum(const char *line, const char *key, long long dflt)
{
    char v[40];
    if (jget(line, key, v, sizeof v) != 0)
        return dflt;
    return strtoll(v, NULL, 10);
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

static void on_line(struct proc *p, const char *line)
{
    char ev[32];
    if (p->nlines < PROC_LOG_HEAD)
        p->head[p->nlines] = strdup(line);
    else {
        int t = (int)(p->nlines % PROC_LOG_TAIL);
        free(p->tail[t]);
        p->tail[t] = strdup(line);
    }
    p->nlines++;
    if (jget(line, "event", ev, sizeof ev) != 0)
        return;
    if (strcmp(ev, "msg") == 0) {
        if (p->seq_size >= 0 && p->seq_bad_at < 0) {
            unsigned char want[32];
            char wanthex[65], got[80];
            size_t n = (size_t)(p->seq_size < 32 ? p->seq_size : 32);
            payload_fill(want, n, p->msgs, 1);
            hex_of(want, n, wanthex);
            if (jnum(line, "len", -1) != p->seq_size || jget(line, "hex", got, sizeof got) != 0 ||
                strcmp(got, wanthex) != 0)
                p->seq_bad_at = p->msgs;
        }
        if (p->expect_sizes && p->payload_bad_at < 0) {
            char got[72];
            long long len = jnum(line, "len", -1);
            int matched = 0;
            jget(line, "sha256", got, sizeof got);
            while (p->expect_next < p->expect_count) {
                long long k = p->expect_next++;
                size_t n = payload_size(p->expect_sizes, k);
                if ((long long)n == len) {
                    unsigned char *b = malloc(n ? n : 1);
                    char hex[SPW_SHA256_HEX_LEN + 1];
                    if (b) {
                        payload_fill(b, n, k, 0);
                        spw_sha256_hex(b, n, hex);
                        free(b);
                        if (strcmp(hex, got) == 0) {
                            matched = 1;
                            break;
                        }
                    }
                }
                if (!p->lossy)
                    break;
            }
            if (!matched)
                p->payload_bad_at = p->msgs;
        }
        p->msgs++;
    } else if (strcmp(ev, "start") == 0) {
        jget(line, "version", p->version, sizeof p->version);
        jget(line, "impl", p->impl, sizeof p->impl);
    } else if (strcmp(ev, "add") == 0) {
        if (p->adds < PROC_MAX_ADDS) {
            struct proc_add *a = &p->add[p->adds];
            jget(line, "peer_proto", a->peer_proto, sizeof a->peer_proto);
            a->pid = jnum(line, "peer_pid", -1);
            a->uid = jnum(line, "peer_uid", -1);
            a->gid = jnum(line, "peer_gid", -1);
        }
        p->adds++;
    } else if (strcmp(ev, "rem") == 0) {
        if (p->nrem_err < PROC_MAX_ADDS &&
            jget(line, "error", p->rem_err[p->nrem_err], sizeof p->rem_err[0]) == 0)
            p->nrem_err++;
        p->rems++;
    } else if (strcmp(ev, "error") == 0) {
        if (p->nerr < PROC_MAX_ERRS) {
            jget(line, "op", p->err_op[p->nerr], sizeof p->err_op[0]);
            jget(line, "error", p->err_name[p->nerr], sizeof p->err_name[0]);
            p->nerr++;
        }
    } else if (strcmp(ev, "handshake-failed") == 0) {
        p->hs_failed++;
    } else if (strcmp(ev, "drop") == 0) {
        p->drops++;
    } else if (strcmp(ev, "done") == 0) {
        p->done = 1;
        p->done_sent = jnum(line, "sent", -1);
        p->done_recv = jnum(line, "received", -1);
        jget(line, "digest", p->digest, sizeof p->digest);
    }
}

/* Returns 0 on EOF or error (fd closed), 1 otherwise. */
static int read_out(struct proc *p)
{
    char buf[65536];
    ssize_t r = read(p->out_fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (r <= 0) {
        if (p->npartial) {
            p->partial[p->npartial] = 0;
            on_line(p, p->partial);
            p->npartial = 0;
        }
        close(p->out_fd);
        p->out_fd = -1;
        return 0;
    }
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n') {
            p->partial[p->npartial] = 0;
            on_line(p, p->partial);
            p->npartial = 0;
        } else if (p->npartial + 1 < sizeof p->partial) {
            p->partial[p->npartial++] = buf[i];
        }
    }
    return 1;
}

static int spawn(struct proc *p)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    /* the child gets its end as stdout only; nobody else inherits either */
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    fcntl(out[1], F_SETFD, FD_CLOEXEC);
    snprintf(p->errfile, sizeof p->errfile, "%s/proc-%d-%d.stderr", workdir, (int)getpid(),
             ++serial);
    spw_proc_opts o = {.keep = p->keep,
                       .nkeep = p->nkeep,
                       .stdin_devnull = 1,
                       .default_signals = 1,
                       .out = {SPW_PROC_FD, NULL, out[1]},
                       .err = {SPW_PROC_FILE, p->errfile, -1}};
    int rc = spw_proc_spawn(&p->sp, &o, p->argv);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return -1;
    }
    p->out_fd = out[0];
    return 0;
}

static int running(const struct proc *p)
{
    return p->sp.pid > 0 && !p->sp.exited;
}

int procs_start(struct proc **ps, int n, const int *fds_to_close, int nclose)
{
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (spawn(ps[i]) != 0) {
            fprintf(stdout, "spw-interop: cannot start %s\n", ps[i]->argv[0]);
            rc = -1;
        }
    for (int i = 0; i < nclose; i++)
        if (fds_to_close[i] >= 0)
            close(fds_to_close[i]);
    return rc;
}

int procs_pump(struct proc **ps, int n, int wait_ms)
{
    long long end = now_ms() + wait_ms;
    for (;;) {
        struct pollfd pfd[32];
        int idx[32], k = 0, alive = 0;
        for (int i = 0; i < n; i++) {
            struct proc *p = ps[i];
            if (running(p))
                spw_proc_poll(&p->sp);
            if (p->out_fd >= 0 && k < 32) {
                pfd[k] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
                idx[k++] = i;
            }
            if (running(p) || p->out_fd >= 0)
                alive++;
        }
        if (alive == 0)
            return 1;
        long long left = end - now_ms();
        if (left < 0)
            left = 0;
        /* Short slices: exits are noticed by spw_proc_poll, not by poll.  One
         * pass is always made, so wait_ms 0 still reads what is there. */
        int r = poll(pfd, (nfds_t)k, left > 50 ? 50 : (int)left);
        if (r <= 0) {
            if (left == 0)
                return 0;
            continue;
        }
        for (int j = 0; j < k; j++)
            if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
                while (read_out(ps[idx[j]]) && ps[idx[j]]->out_fd >= 0) {
                    struct pollfd one = {.fd = ps[idx[j]]->out_fd, .events = POLLIN};
                    if (poll(&one, 1, 0) <= 0)
                        break;
                }
        if (left == 0)
            return 0;
    }
}

void procs_kill(struct proc **ps, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (running(ps[i])) {
            spw_proc_kill(&ps[i]->sp, sig);
            ps[i]->killed = 1;
        }
}

int procs_finish(struct proc **ps, int n, int deadline_ms)
{
    if (procs_pump(ps, n, deadline_ms))
        return 0;
    procs_kill(ps, n, SIGKILL);
    procs_pump(ps, n, 10000);
    return -1;
}

int procs_run(struct proc **ps, int n, int deadline_ms, const int *fds_to_close, int nclose)
{
    if (procs_start(ps, n, fds_to_close, nclose) != 0) {
        procs_kill(ps, n, SIGKILL);
        procs_pump(ps, n, 10000);
        return -1;
    }
    procs_finish(ps, n, deadline_ms);
    return 0;
}

int proc_exit_code(const struct proc *p)
{
    return spw_proc_exit_code(&p->sp);
}

int proc_has_error(const struct proc *p, const char *op, const char *name)
{
    for (int i = 0; i < p->nerr; i++)
        if ((!op || strcmp(p->err_op[i], op) == 0) && (!name || strcmp(p->err_name[i], name) == 0))
            return 1;
    return 0;
}

void proc_dump(const struct proc *p, const char *prefix)
{
    printf("%s$ %s\n", prefix, proc_cmdline(p));
    printf("%s  exit %d%s, %lld event line(s)\n", prefix, proc_exit_code(p),
           p->killed ? " (killed)" : "", p->nlines);
    for (long long i = 0; i < p->nlines && i < PROC_LOG_HEAD; i++)
        printf("%s  %s\n", prefix, p->head[i]);
    if (p->nlines > PROC_LOG_HEAD) {
        long long first = p->nlines - PROC_LOG_TAIL;
        if (first < PROC_LOG_HEAD)
            first = PROC_LOG_HEAD;
        if (first > PROC_LOG_HEAD)
            printf("%s  ... (%lld lines)\n", prefix, first - PROC_LOG_HEAD);
        for (long long i = first; i < p->nlines; i++)
            printf("%s  %s\n", prefix, p->tail[i % PROC_LOG_TAIL]);
    }
    FILE *f = fopen(p->errfile, "r");
    if (f) {
        char line[512];
        int n = 0;
        while (fgets(line, sizeof line, f) && n++ < 20)
            printf("%s  stderr: %s", prefix, line);
        fclose(f);
    }
}
