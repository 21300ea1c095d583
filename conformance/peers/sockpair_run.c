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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spw_proc.h"

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

/* Start argv[0..argc) with fd kept open (the pair's other end is O_CLOEXEC,
 * so the child never holds it). Returns 0, or -1 when it could not start. */
static int start(spw_proc *p, char **argv, int argc, int fd)
{
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    spw_proc_opts o = {.keep = &fd, .nkeep = 1};
    int i, rc = -1;

    if (args == NULL)
        return -1;
    for (i = 0; i < argc; i++)
        if ((args[i] = subst(argv[i], fd)) == NULL)
            goto out;
    rc = spw_proc_spawn(p, &o, args);
    if (rc != 0)
        perror("sockpair_run: fork");
out:
    for (i = 0; i < argc; i++)
        free(args[i]);
    free(args);
    return rc;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int exit_ok(const spw_proc *p, const char *name)
{
    char how[96];

    if (spw_proc_exit_code(p) == 0)
        return 1;
    spw_proc_describe(p, how, sizeof(how));
    fprintf(stderr, "sockpair_run: %s: %s\n", name, how);
    return 0;
}

int main(int argc, char **argv)
{
    long timeout_ms = 30000, deadline;
    int i = 1, a0, an, b0, bn, sv[2];
    spw_proc pa, pb;

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

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("sockpair_run: socketpair");
        return 1;
    }
    if (start(&pa, argv + a0, an, sv[0]) != 0)
        return 1;
    if (start(&pb, argv + b0, bn, sv[1]) != 0) {
        spw_proc_kill(&pa, SIGKILL);
        spw_proc_wait(&pa, -1);
        return 1;
    }
    close(sv[0]);
    close(sv[1]);

    deadline = now_ms() + timeout_ms;
    if (!spw_proc_wait(&pa, (int)(deadline - now_ms())) ||
        !spw_proc_wait(&pb, deadline > now_ms() ? (int)(deadline - now_ms()) : 0)) {
        fprintf(stderr, "sockpair_run: timeout after %ld ms, killing\n", timeout_ms);
        spw_proc_kill(&pa, SIGKILL);
        spw_proc_kill(&pb, SIGKILL);
        spw_proc_wait(&pa, -1);
        spw_proc_wait(&pb, -1);
        return 124;
    }
    {
        int ok_a = exit_ok(&pa, "command A"), ok_b = exit_ok(&pb, "command B");
        return (ok_a && ok_b) ? 0 : 1;
    }
}
