/* spw_proc -- the one process supervisor of spwire's tools.
 *
 * Starts a program (or a forked copy of the caller) with a chosen set of
 * descriptors kept open, its standard streams pointed somewhere, optionally
 * as the leader of its own process group, and watches it: poll, wait with a
 * deadline, stop (SIGTERM, grace, SIGKILL), and describe how it ended.
 *
 * Used by spw-conform (the implementation under test), spw-interop (the
 * peers), sockpair_run, and the benchmarks. Not thread-safe: one thread
 * supervises its children. Never reaps anything but the pid it was given
 * (no waitpid(-1)), so it coexists with other children of the caller.
 */
#ifndef SPW_PROC_H
#define SPW_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Where one of the child's standard streams goes. A FILE is created or
 * truncated (mode 0644), /dev/null when it cannot be opened. An FD is
 * dup2'd and not closed in the child, so the caller makes it O_CLOEXEC. */
typedef enum spw_proc_sink {
    SPW_PROC_INHERIT = 0, /* the caller's own stream, untouched */
    SPW_PROC_DEVNULL,     /* /dev/null */
    SPW_PROC_FILE,        /* path */
    SPW_PROC_FD,          /* fd */
    SPW_PROC_AS_STDOUT    /* stderr only: where stdout goes (one log) */
} spw_proc_sink;

typedef struct spw_proc_stream {
    spw_proc_sink sink;
    const char *path; /* SPW_PROC_FILE */
    int fd;           /* SPW_PROC_FD */
} spw_proc_stream;

/* How the child is set up. A zero-initialised struct changes nothing: the
 * child inherits the caller's streams, group, environment and signal
 * dispositions, and exec closes every O_CLOEXEC descriptor as usual. The
 * struct and what it points to are only read during the call. */
typedef struct spw_proc_opts {
    /* Kept open in the child under the same numbers, with FD_CLOEXEC and
     * O_NONBLOCK cleared, so a program gets a plain blocking descriptor
     * whatever the caller made of it. O_NONBLOCK belongs to the open file
     * description: the caller's copy turns blocking too. */
    const int *keep;
    int nkeep;
    int new_group;          /* the child leads its own process group: kill and
                             * stop reach everything it started */
    int stdin_devnull;      /* stdin from /dev/null, so a child never reads the terminal */
    int default_signals;    /* SIGPIPE and SIGTERM back to SIG_DFL: an ignored
                             * disposition survives exec, and a program under
                             * test must die of SIGPIPE like it would from a shell */
    spw_proc_stream out;    /* stdout */
    spw_proc_stream err;    /* stderr */
    const char *const *env; /* "NAME=value" added to (or replacing in) the
                             * child's environment; NULL-terminated, or NULL */
} spw_proc_opts;

/* One supervised process. pid is -1 before a start and after a failed one;
 * status is a wait(2) status, valid once exited is 1. */
typedef struct spw_proc {
    pid_t pid;
    int status;
    int exited;
    int group; /* pid leads its own process group */
} spw_proc;

/* fork(2) with the child set up per o (NULL: as zero-initialised). Returns
 * 0 in the child, 1 in the caller (p filled), -1 when fork failed (errno,
 * p->pid -1). The child of a tool that keeps working in-process should end
 * with _exit. Every stdio output stream is flushed before the fork, so
 * nothing buffered is written twice. */
int spw_proc_fork(spw_proc *p, const spw_proc_opts *o);

/* Start argv[0] (looked up in PATH when it has no '/'). Returns 0, or -1
 * when fork failed. A program that cannot be executed is a child that
 * writes "cannot run PROG: REASON" to its stderr and exits 127. */
int spw_proc_spawn(spw_proc *p, const spw_proc_opts *o, char *const argv[]);

/* Start "/bin/sh -c cmd". A simple command (no ; & | newline ( ) `) is
 * started as "exec cmd" ("exec env cmd" when it begins with NAME=value), so
 * the process watched is the program itself and its death by a signal is
 * seen as such; a compound command runs as written, and a shell reports a
 * child's signal N as exit 128+N (see spw_proc_signal). Returns as
 * spw_proc_spawn. */
int spw_proc_spawn_sh(spw_proc *p, const spw_proc_opts *o, const char *cmd);

/* For a child that needs its own steps between fork and exec (creating the
 * very descriptor it runs with, say): set up per o and exec argv, in the
 * calling process. Never returns; exits 127 as spw_proc_spawn's child. */
void spw_proc_exec(const spw_proc_opts *o, char *const argv[]) __attribute__((noreturn));

/* Adopt a pid started another way (it must be a child, or become one of a
 * subreaper caller); group says whether it leads its own process group. */
void spw_proc_adopt(spw_proc *p, pid_t pid, int group);

/* Non-blocking: 1 when the process has ended (status set; every process
 * left in its group, if it leads one, is killed and given up to 100 ms to
 * vanish, so no old child still holds a port or a socket), 0 while it runs
 * or when it is not (yet) the caller's child. A process that never started
 * counts as ended. */
int spw_proc_poll(spw_proc *p);

/* Wait until the process ends or timeout_ms pass (-1: no limit, 0: one
 * poll). Returns spw_proc_poll's answer at the end. */
int spw_proc_wait(spw_proc *p, int timeout_ms);

/* Send sig to the group (when it leads one) or the process. 0, or -1 when
 * it has already ended or kill failed. */
int spw_proc_kill(const spw_proc *p, int sig);

/* SIGTERM, up to grace_ms for the process to end, then SIGKILL and a wait
 * without limit. Returns 0 when it ended by itself or within the grace
 * (also when it had ended before), 1 when it had to be killed. */
int spw_proc_stop(spw_proc *p, int grace_ms);

/* The signal that ended the process, a shell's exit 128+N counted as
 * signal N; 0 when it exited otherwise or still runs. */
int spw_proc_signal(const spw_proc *p);

/* Exit status, 128+N when killed by signal N, -1 while running. */
int spw_proc_exit_code(const spw_proc *p);

/* One line: "exit status 2", "killed by signal 11 (Segmentation fault)"
 * (signal as spw_proc_signal), "running". Always NUL-terminated when len > 0. */
void spw_proc_describe(const spw_proc *p, char *buf, size_t len);

/* The last max bytes of the file at path, NUL-terminated, malloc'd (the
 * caller frees); NULL when path is NULL, the file cannot be read or is
 * empty. Aborts when out of memory. */
char *spw_file_tail(const char *path, size_t max);

#endif
