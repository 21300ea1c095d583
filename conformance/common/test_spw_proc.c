/* Unit tests of spw_proc. Children report through pipes the test reads, so
 * every step waits on an event, never on time; the only time bounds are
 * generous ceilings that turn a hang into a failure. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spw_proc.h"

static void cloexec_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    assert_int_not_equal(fcntl(fds[0], F_SETFD, FD_CLOEXEC), -1);
    assert_int_not_equal(fcntl(fds[1], F_SETFD, FD_CLOEXEC), -1);
}

/* Read until EOF (or cap - 1 bytes); NUL-terminated. */
static size_t read_to_eof(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_true(poll(&p, 1, 30000) == 1); /* a ceiling, not a timing */
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    return got;
}

/* Read one line (the child's "I am ready"). */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t r = read(fd, buf + got, 1);
        if (r < 0 && errno == EINTR)
            continue;
        assert_int_equal(r, 1);
        if (buf[got++] == '\n')
            break;
    }
    buf[got] = 0;
}

static void run_argv(spw_proc *p, const spw_proc_opts *o, const char *script)
{
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)script, NULL};
    assert_int_equal(spw_proc_spawn(p, o, argv), 0);
    assert_true(p->pid > 0);
}

static void exit_status(void **state)
{
    (void)state;
    spw_proc p;
    run_argv(&p, NULL, "exit 3");
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 3);
    assert_int_equal(spw_proc_signal(&p), 0);
    char d[64];
    spw_proc_describe(&p, d, sizeof d);
    assert_string_equal(d, "exit status 3");
    assert_int_equal(spw_proc_stop(&p, 10), 0); /* already ended: nothing to do */
}

static void killed_by_signal(void **state)
{
    (void)state;
    spw_proc p;
    run_argv(&p, NULL, "kill -SEGV $$");
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_signal(&p), SIGSEGV);
    assert_int_equal(spw_proc_exit_code(&p), 128 + SIGSEGV);
    char d[64];
    spw_proc_describe(&p, d, sizeof d);
    assert_string_equal(d, "killed by signal 11 (Segmentation fault)");
}

/* A compound command leaves a shell between us and the program: its exit
 * 128+N is the program's signal N. A simple one is exec'd: the signal is
 * the process's own. */
static void shell_reports_signal_as_128_plus_n(void **state)
{
    (void)state;
    spw_proc p;
    assert_int_equal(spw_proc_spawn_sh(&p, NULL, "sh -c 'kill -USR1 $$'; exit $?"), 0);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 128 + SIGUSR1);
    assert_int_equal(spw_proc_signal(&p), SIGUSR1);
    char d[64];
    spw_proc_describe(&p, d, sizeof d);
    assert_string_equal(d, "killed by signal 10 (User defined signal 1)");

    assert_int_equal(spw_proc_spawn_sh(&p, NULL, "sh -c 'kill -USR1 $$'"), 0);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_true(WIFSIGNALED(p.status));
    assert_int_equal(spw_proc_signal(&p), SIGUSR1);

    /* a leading assignment still reaches the program */
    assert_int_equal(spw_proc_spawn_sh(&p, NULL, "SPW_PROC_T=7 sh -c 'exit $SPW_PROC_T'"), 0);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 7);
}

/* The kept fd has its number, is writable and blocking in the child; an
 * O_CLOEXEC fd that was not kept is closed there. */
static void kept_fd_usable_others_closed(void **state)
{
    (void)state;
    int kept[2], other[2];
    cloexec_pipe(kept);
    cloexec_pipe(other);
    int fl = fcntl(kept[1], F_GETFL);
    assert_int_not_equal(fcntl(kept[1], F_SETFL, fl | O_NONBLOCK), -1);
    char script[512];
    snprintf(script, sizeof script,
             "cat /proc/self/fdinfo/%d > /proc/self/fd/%d || exit 5;"
             " if [ -e /proc/self/fd/%d ]; then echo LEAKED > /proc/self/fd/%d; fi",
             kept[1], kept[1], other[1], kept[1]);
    spw_proc_opts o = {.keep = &kept[1], .nkeep = 1};
    spw_proc p;
    run_argv(&p, &o, script);
    close(kept[1]);
    char out[4096];
    read_to_eof(kept[0], out, sizeof out);
    close(kept[0]);
    close(other[0]);
    close(other[1]);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 0);
    assert_null(strstr(out, "LEAKED"));
    const char *f = strstr(out, "flags:");
    assert_non_null(f);
    long flags = strtol(f + strlen("flags:"), NULL, 8);
    assert_int_equal(flags & O_NONBLOCK, 0);
    assert_int_equal(flags & O_CLOEXEC, 0);
}

static void stop_escalates_to_sigkill(void **state)
{
    (void)state;
    int ready[2];
    cloexec_pipe(ready);
    char script[256];
    snprintf(script, sizeof script,
             "trap '' TERM; echo ready > /proc/self/fd/%d; exec sleep 60 >/dev/null 2>&1",
             ready[1]);
    spw_proc_opts o = {.keep = &ready[1], .nkeep = 1, .new_group = 1, .default_signals = 1};
    spw_proc p;
    run_argv(&p, &o, script);
    close(ready[1]);
    char line[32];
    read_line(ready[0], line, sizeof line);
    assert_string_equal(line, "ready\n");
    assert_int_equal(spw_proc_stop(&p, 20), 1);
    assert_int_equal(spw_proc_signal(&p), SIGKILL);
    close(ready[0]);
}

/* The grandchild holds the write end of hold: EOF on the read end means
 * every holder is dead. A survivor is killed before the test fails, so it
 * cannot hold ctest's output open. */
static void group_member_dies(int hold_rd, const char *gpid_line)
{
    struct pollfd pfd = {.fd = hold_rd, .events = POLLIN};
    int r = poll(&pfd, 1, 30000);
    if (r != 1 && atoi(gpid_line) > 0)
        kill(atoi(gpid_line), SIGKILL);
    assert_int_equal(r, 1);
    char c;
    assert_int_equal(read(hold_rd, &c, 1), 0);
}

/* Start a group leader that leaves a grandchild holding hold's write end,
 * then runs then; returns once the grandchild exists (its pid in line). */
static void start_with_grandchild(spw_proc *p, int hold[2], const char *then, char *line,
                                  size_t cap)
{
    cloexec_pipe(hold);
    char script[256];
    snprintf(script, sizeof script, "sleep 60 >/dev/null 2>&1 & echo $! > /proc/self/fd/%d; %s",
             hold[1], then);
    spw_proc_opts o = {.keep = &hold[1], .nkeep = 1, .new_group = 1};
    run_argv(p, &o, script);
    close(hold[1]);
    read_line(hold[0], line, cap);
    assert_true(atoi(line) > 0);
}

static void stop_kills_the_whole_group(void **state)
{
    (void)state;
    int hold[2];
    char line[32];
    spw_proc p;
    start_with_grandchild(&p, hold, "wait", line, sizeof line);
    spw_proc_stop(&p, 10000);
    assert_int_equal(p.exited, 1);
    group_member_dies(hold[0], line);
    close(hold[0]);
}

/* The leader exits by itself, leaving a grandchild: reaping the leader
 * takes the group with it. */
static void leader_exit_reaps_the_group(void **state)
{
    (void)state;
    int hold[2];
    char line[32];
    spw_proc p;
    start_with_grandchild(&p, hold, "exit 4", line, sizeof line);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 4);
    group_member_dies(hold[0], line);
    close(hold[0]);
}

static void log_tail(void **state)
{
    (void)state;
    char path[] = "/tmp/spw-proc-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_null(spw_file_tail(path, 100)); /* empty */
    spw_proc_opts o = {.stdin_devnull = 1,
                       .out = {SPW_PROC_FILE, path, -1},
                       .err = {SPW_PROC_AS_STDOUT, NULL, -1}};
    spw_proc p;
    run_argv(&p, &o, "echo out; echo err >&2; cat");
    assert_int_equal(spw_proc_wait(&p, -1), 1); /* cat read /dev/null, not our stdin */
    assert_int_equal(spw_proc_exit_code(&p), 0);
    char *all = spw_file_tail(path, 100);
    assert_non_null(all);
    assert_string_equal(all, "out\nerr\n");
    free(all);
    char *last = spw_file_tail(path, 4);
    assert_non_null(last);
    assert_string_equal(last, "err\n");
    free(last);
    unlink(path);
    assert_null(spw_file_tail(path, 100));
    assert_null(spw_file_tail(NULL, 100));
}

static void environment_additions(void **state)
{
    (void)state;
    static const char *const env[] = {"SPW_PROC_T=42", "SPW_PROC_U=x", NULL};
    spw_proc_opts o = {.env = env};
    spw_proc p;
    run_argv(&p, &o, "[ \"$SPW_PROC_U\" = x ] || exit 1; exit $SPW_PROC_T");
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 42);
    assert_null(getenv("SPW_PROC_T")); /* the caller's environment is untouched */
}

static void wait_returns_at_the_deadline(void **state)
{
    (void)state;
    int gate[2];
    cloexec_pipe(gate);
    char script[128];
    snprintf(script, sizeof script, "read x < /proc/self/fd/%d", gate[0]);
    spw_proc_opts o = {.keep = &gate[0], .nkeep = 1};
    spw_proc p;
    run_argv(&p, &o, script);
    close(gate[0]);
    assert_int_equal(spw_proc_wait(&p, 0), 0); /* blocked on our pipe: still running */
    assert_int_equal(spw_proc_poll(&p), 0);
    assert_int_equal(spw_proc_exit_code(&p), -1);
    char d[32];
    spw_proc_describe(&p, d, sizeof d);
    assert_string_equal(d, "running");
    assert_int_equal(write(gate[1], "go\n", 3), 3);
    close(gate[1]);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 0);
}

static void program_that_cannot_run(void **state)
{
    (void)state;
    int err[2];
    cloexec_pipe(err);
    char *argv[] = {(char *)"/nonexistent/spw-proc-test", NULL};
    spw_proc_opts o = {.err = {SPW_PROC_FD, NULL, err[1]}};
    spw_proc p;
    assert_int_equal(spw_proc_spawn(&p, &o, argv), 0);
    close(err[1]);
    char out[256];
    read_to_eof(err[0], out, sizeof out);
    close(err[0]);
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 127);
    assert_non_null(strstr(out, "cannot run /nonexistent/spw-proc-test"));
}

/* A fork that stays in-process gets the same set-up. */
static void fork_in_process(void **state)
{
    (void)state;
    int out[2];
    cloexec_pipe(out);
    spw_proc_opts o = {.out = {SPW_PROC_FD, NULL, out[1]}};
    spw_proc p;
    int r = spw_proc_fork(&p, &o);
    if (r == 0) {
        fputs("from the child\n", stdout);
        fflush(stdout);
        _exit(5);
    }
    assert_int_equal(r, 1);
    close(out[1]);
    char buf[64];
    read_to_eof(out[0], buf, sizeof buf);
    close(out[0]);
    assert_string_equal(buf, "from the child\n");
    assert_int_equal(spw_proc_wait(&p, -1), 1);
    assert_int_equal(spw_proc_exit_code(&p), 5);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status),
        cmocka_unit_test(killed_by_signal),
        cmocka_unit_test(shell_reports_signal_as_128_plus_n),
        cmocka_unit_test(kept_fd_usable_others_closed),
        cmocka_unit_test(stop_escalates_to_sigkill),
        cmocka_unit_test(stop_kills_the_whole_group),
        cmocka_unit_test(leader_exit_reaps_the_group),
        cmocka_unit_test(log_tail),
        cmocka_unit_test(environment_additions),
        cmocka_unit_test(wait_returns_at_the_deadline),
        cmocka_unit_test(program_that_cannot_run),
        cmocka_unit_test(fork_in_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
