/* spw_proc.c -- see spw_proc.h. */
#define _GNU_SOURCE /* strsignal */
#include "spw_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Point stream target (0, 1 or 2) where s says; stderr may follow stdout. */
static void redirect(int target, const spw_proc_stream *s)
{
    int fd = -1;
    switch (s->sink) {
    case SPW_PROC_INHERIT:
        return;
    case SPW_PROC_AS_STDOUT:
        dup2(1, target);
        return;
    case SPW_PROC_FD:
        if (s->fd != target)
            dup2(s->fd, target);
        return;
    case SPW_PROC_FILE:
        fd = s->path ? open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
        break;
    case SPW_PROC_DEVNULL:
        break;
    }
    if (fd < 0)
        fd = open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
    if (fd >= 0 && fd != target) {
        dup2(fd, target);
        close(fd);
    }
}

/* Everything the child does before it runs: the same for a fork that stays
 * in-process and one that execs. */
static void child_setup(const spw_proc_opts *o)
{
    if (o->new_group)
        setpgid(0, 0);
    if (o->default_signals) {
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    if (o->stdin_devnull) {
        spw_proc_stream null_in = {SPW_PROC_DEVNULL, NULL, -1};
        redirect(0, &null_in);
    }
    redirect(1, &o->out);
    redirect(2, &o->err);
    for (int i = 0; i < o->nkeep; i++) {
        int fl = fcntl(o->keep[i], F_GETFD);
        if (fl >= 0)
            fcntl(o->keep[i], F_SETFD, fl & ~FD_CLOEXEC);
        fl = fcntl(o->keep[i], F_GETFL);
        if (fl >= 0)
            fcntl(o->keep[i], F_SETFL, fl & ~O_NONBLOCK);
    }
    for (const char *const *e = o->env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[256];
        size_t n = (size_t)(eq - *e);
        if (n == 0 || n >= sizeof name)
            continue;
        memcpy(name, *e, n);
        name[n] = 0;
        setenv(name, eq + 1, 1);
    }
}

void spw_proc_adopt(spw_proc *p, pid_t pid, int group)
{
    p->pid = pid;
    p->status = 0;
    p->exited = 0;
    p->group = group;
}

int spw_proc_fork(spw_proc *p, const spw_proc_opts *o)
{
    static const spw_proc_opts none;
    if (!o)
        o = &none;
    spw_proc_adopt(p, -1, 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        child_setup(o);
        return 0;
    }
    /* Also here, so that a kill of the group right after the start cannot
     * miss a child that has not run its own setpgid yet. */
    if (o->new_group)
        setpgid(pid, pid);
    spw_proc_adopt(p, pid, o->new_group);
    return 1;
}

static void exec_or_exit(char *const argv[]) __attribute__((noreturn));
static void exec_or_exit(char *const argv[])
{
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

void spw_proc_exec(const spw_proc_opts *o, char *const argv[])
{
    static const spw_proc_opts none;
    child_setup(o ? o : &none);
    exec_or_exit(argv);
}

int spw_proc_spawn(spw_proc *p, const spw_proc_opts *o, char *const argv[])
{
    int r = spw_proc_fork(p, o);
    if (r == 0)
        exec_or_exit(argv);
    return r < 0 ? -1 : 0;
}

/* Does the command start with a shell variable assignment (NAME=...)? */
static int leading_assignment(const char *cmd)
{
    cmd += strspn(cmd, " \t");
    static const char first[] = "_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if (!*cmd || !strchr(first, *cmd))
        return 0;
    cmd += strspn(cmd, "_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    return *cmd == '=';
}

int spw_proc_spawn_sh(spw_proc *p, const spw_proc_opts *o, const char *cmd)
{
    /* "exec" makes the shell become the program; an assignment in front
     * would be taken as the program by exec, env(1) runs it instead. */
    const char *pre = "";
    if (strpbrk(cmd, ";&|\n()`") == NULL)
        pre = leading_assignment(cmd) ? "exec env " : "exec ";
    size_t n = strlen(pre) + strlen(cmd) + 1;
    char *line = malloc(n);
    if (!line)
        abort();
    snprintf(line, n, "%s%s", pre, cmd);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", line, NULL};
    int rc = spw_proc_spawn(p, o, argv);
    free(line);
    return rc;
}

/* The leader is reaped: kill what is left of its group (a shell's child,
 * say) and wait until it is gone. Zombies still count for kill(2), and
 * their parent may be slow to reap them: bounded. */
static void reap_group(pid_t pgid)
{
    kill(-pgid, SIGKILL);
    long end = now_ms() + 100;
    while (kill(-pgid, 0) == 0 && now_ms() < end)
        nap_ms(1);
}

static void ended(spw_proc *p, int status)
{
    p->status = status;
    p->exited = 1;
    if (p->group)
        reap_group(p->pid);
}

int spw_proc_poll(spw_proc *p)
{
    if (p->pid < 0 || p->exited)
        return 1;
    int st;
    pid_t r;
    while ((r = waitpid(p->pid, &st, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == p->pid) {
        ended(p, st);
        return 1;
    }
    return 0;
}

int spw_proc_wait(spw_proc *p, int timeout_ms)
{
    long end = now_ms() + timeout_ms;
    int step = 1;
    while (!spw_proc_poll(p)) {
        if (timeout_ms >= 0 && now_ms() >= end)
            return 0;
        /* short first, so quick exits are seen quickly; a longer wait
         * costs no more than a wake-up every 10 ms */
        nap_ms(step);
        if (step < 10)
            step++;
    }
    return 1;
}

int spw_proc_kill(const spw_proc *p, int sig)
{
    if (p->pid < 0 || p->exited)
        return -1;
    return kill(p->group ? -p->pid : p->pid, sig) == 0 ? 0 : -1;
}

int spw_proc_stop(spw_proc *p, int grace_ms)
{
    if (spw_proc_poll(p))
        return 0;
    spw_proc_kill(p, SIGTERM);
    if (spw_proc_wait(p, grace_ms))
        return 0;
    spw_proc_kill(p, SIGKILL);
    int st;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, 0);
        if (r == p->pid)
            break;
        if (r < 0 && errno == ECHILD)
            nap_ms(1); /* an adopted grandchild not yet handed to us */
    }
    ended(p, st);
    return 1;
}

int spw_proc_signal(const spw_proc *p)
{
    if (!p->exited)
        return 0;
    if (WIFSIGNALED(p->status))
        return WTERMSIG(p->status);
    if (WIFEXITED(p->status)) {
        int c = WEXITSTATUS(p->status);
        if (c > 128 && c < 128 + 65)
            return c - 128;
    }
    return 0;
}

int spw_proc_exit_code(const spw_proc *p)
{
    if (!p->exited)
        return -1;
    if (WIFEXITED(p->status))
        return WEXITSTATUS(p->status);
    if (WIFSIGNALED(p->status))
        return 128 + WTERMSIG(p->status);
    return -1;
}

void spw_proc_describe(const spw_proc *p, char *buf, size_t len)
{
    if (len == 0)
        return;
    int sig = spw_proc_signal(p);
    if (!p->exited)
        snprintf(buf, len, "running");
    else if (sig)
        snprintf(buf, len, "killed by signal %d (%s)", sig, strsignal(sig));
    else if (WIFEXITED(p->status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(p->status));
    else
        snprintf(buf, len, "wait status 0x%x", p->status);
}

char *spw_file_tail(const char *path, size_t max)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    long size;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
        long from = (size_t)size > max ? size - (long)max : 0;
        size_t want = (size_t)(size - from);
        if (fseek(f, from, SEEK_SET) == 0) {
            b = malloc(want + 1);
            if (!b)
                abort();
            b[fread(b, 1, want, f)] = 0;
        }
    }
    fclose(f);
    return b;
}
