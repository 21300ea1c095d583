/* sockpair_run.c -- run two commands connected by a socketpair.
 *
 *   sockpair_run [--timeout MS] -- CMD_A ARGS... -- CMD_B ARGS...
 *
 * Creates an AF_UNIX SOCK_STREAM socketpair; CMD_A inherits one end and
 * CMD_B the other.  Every "{fd}" inside an argument is replaced by the number
 * of the inherited descriptor.  Waits for both; on --timeout (default 30000
 * ms) both are killed.  Exit status: 0 if both exited 0, 1 if either failed,
 * 124 on timeout, 2 on usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "Usage: sockpair_run [--timeout MS] -- CMD_A ARGS... -- CMD_B ARGS...\n"
               "Runs CMD_A and CMD_B, each inheriting one end of an AF_UNIX stream\n"
               "socketpair; \"{fd}\" in any argument becomes that descriptor's number.\n"
               "Exit: 0 both succeeded, 1 either failed, 124 timeout (default 30000 ms),\n"
               "2 usage error.\n");
}

/* Returns a copy of s with every "{fd}" replaced by the number fd. */
static char *subst(const char *s, int fd)
{
    char num[16];
    size_t nl, out = 0, cap;
    const char *p;
    char *r;

    snprintf(num, sizeof(num), "%d", fd);
    nl = strlen(num);
    cap = strlen(s) * (nl > 4 ? nl : 4) + 1;
    r = malloc(cap);
    if (r == NULL)
        return NULL;
    for (p = s; *p;) {
        if (strncmp(p, "{fd}", 4) == 0) {
            memcpy(r + out, num, nl);
            out += nl;
            p += 4;
        } else {
            r[out++] = *p++;
        }
    }
    r[out] = '\0';
    return r;
}

static pid_t spawn(char **argv, int argc, int keep, int other)
{
    pid_t pid = fork();
    int i;

    if (pid != 0)
        return pid;
    close(other);
    {
        char **args = calloc((size_t)argc + 1, sizeof(char *));
        if (args == NULL)
            _exit(127);
        for (i = 0; i < argc; i++) {
            args[i] = subst(argv[i], keep);
            if (args[i] == NULL)
                _exit(127);
        }
        execvp(args[0], args);
        fprintf(stderr, "sockpair_run: cannot run '%s': %s\n", args[0], strerror(errno));
        _exit(127);
    }
}

static int exit_ok(int status, const char *name)
{
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 0)
            return 1;
        fprintf(stderr, "sockpair_run: %s exited with status %d\n", name, WEXITSTATUS(status));
        return 0;
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "sockpair_run: %s killed by signal %d\n", name, WTERMSIG(status));
    return 0;
}

int main(int argc, char **argv)
{
    long timeout_ms = 30000;
    int i = 1, a0, an, b0, bn, sv[2], status_a = 0, status_b = 0, done_a = 0, done_b = 0;
    pid_t pa, pb;
    struct timespec start, now, tick = {0, 5 * 1000000L};

    while (i < argc && strcmp(argv[i], "--") != 0) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            timeout_ms = strtol(argv[i + 1], &end, 10);
            if (*end != '\0' || timeout_ms <= 0) {
                fprintf(stderr, "sockpair_run: bad --timeout '%s'\n", argv[i + 1]);
                return 2;
            }
            i += 2;
        } else {
            fprintf(stderr, "sockpair_run: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    a0 = ++i;
    while (i < argc && strcmp(argv[i], "--") != 0)
        i++;
    an = i - a0;
    if (i >= argc || an == 0) {
        fprintf(stderr, "sockpair_run: need two commands separated by --\n");
        return 2;
    }
    b0 = ++i;
    bn = argc - b0;
    if (bn == 0) {
        fprintf(stderr, "sockpair_run: second command missing\n");
        return 2;
    }

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("sockpair_run: socketpair");
        return 1;
    }
    fflush(stdout);
    pa = spawn(argv + a0, an, sv[0], sv[1]);
    if (pa < 0) {
        perror("sockpair_run: fork");
        return 1;
    }
    pb = spawn(argv + b0, bn, sv[1], sv[0]);
    if (pb < 0) {
        perror("sockpair_run: fork");
        kill(pa, SIGKILL);
        waitpid(pa, NULL, 0);
        return 1;
    }
    close(sv[0]);
    close(sv[1]);

    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!done_a || !done_b) {
        long elapsed;
        if (!done_a && waitpid(pa, &status_a, WNOHANG) == pa)
            done_a = 1;
        if (!done_b && waitpid(pb, &status_b, WNOHANG) == pb)
            done_b = 1;
        if (done_a && done_b)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed > timeout_ms) {
            fprintf(stderr, "sockpair_run: timeout after %ld ms, killing\n", timeout_ms);
            if (!done_a) {
                kill(pa, SIGKILL);
                waitpid(pa, NULL, 0);
            }
            if (!done_b) {
                kill(pb, SIGKILL);
                waitpid(pb, NULL, 0);
            }
            return 124;
        }
        nanosleep(&tick, NULL);
    }
    {
        int ok_a = exit_ok(status_a, "command A"), ok_b = exit_ok(status_b, "command B");
        return (ok_a && ok_b) ? 0 : 1;
    }
}
