/* spw-conform engine — the IUT as a process (proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

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
