/* spw-conform engine — the IUT as a process: spawned through the shell in
 * its own process group with the fds it is handed, polled, stopped. */
#ifndef SPW_CONFORM_PROC_H
#define SPW_CONFORM_PROC_H

#include <stddef.h>

typedef struct cf_proc {
    int pid;
    int status;
    int exited;
    char *logpath;
} cf_proc;

/* Spawn "sh -c CMD" in its own process group, keeping the nkeep fds of
 * keep open (blocking, inheritable) in the child; stdout and stderr to
 * logpath (NULL: /dev/null). 0 ok, -1 (errno) when fork failed. */
int cf_spawn(const char *cmd, const int *keep, int nkeep, const char *logpath, cf_proc *p);
/* Non-blocking check; 1 when the process has ended (p->status set). */
int cf_proc_poll(cf_proc *p);
/* SIGTERM, wait grace ms, SIGKILL. Returns 0 exited in time, 1 had to kill. */
int cf_proc_stop(cf_proc *p, int grace_ms);
/* The signal that ended the process (a shell's 128+N exit included), 0 when
 * it exited. */
int cf_proc_signal(const cf_proc *p);
/* "exit status 2", "killed by signal 11 (Segmentation fault)" */
void cf_proc_describe(const cf_proc *p, char *buf, size_t len);
/* The last max bytes of a file, malloc'ed; NULL when it cannot be read. */
char *cf_file_tail(const char *path, size_t max);

#endif
