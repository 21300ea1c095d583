/* interop_proc.h -- running peer processes and reading their JSON events,
 * for the interop driver (spw-interop).
 *
 * A run is a set of processes started together; their stdout (JSON lines,
 * see conformance/peers/README.md) is read concurrently so that no peer ever
 * blocks on a full pipe, and each line is folded into a summary
 * (struct proc).  Nothing here judges anything: interop.c does.
 */
#ifndef SPW_INTEROP_PROC_H
#define SPW_INTEROP_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "spw_proc.h"

#define PROC_MAX_ARGS 64
#define PROC_MAX_KEEP 16
#define PROC_MAX_ADDS 16
#define PROC_MAX_ERRS 16
#define PROC_LOG_HEAD 40
#define PROC_LOG_TAIL 12

struct proc_add {
    char peer_proto[16];
    long long pid, uid, gid; /* -1 when absent */
};

struct proc {
    /* set by the caller */
    const char *label;         /* "spwire", "nng110", ... */
    char *argv[PROC_MAX_ARGS]; /* NULL-terminated; strings owned by proc */
    int argc;
    int keep[PROC_MAX_KEEP];   /* fds the child inherits (same numbers) */
    int nkeep;
    /* --seq checking: when seq_size >= 0, msg event k must show len
     * seq_size and the payload prefix of message k with --seq. */
    long long seq_size;
    /* Payload checking: when expect_sizes is set, msg event i must be the
     * payload of message k (sizes cycling, no --seq) with k == i; with
     * lossy, k may skip ahead (a best-effort sender dropped whole
     * messages), but never back. */
    const char *expect_sizes;
    long long expect_count;
    int lossy;
    long long expect_next;   /* next k */
    long long payload_bad_at; /* first msg index that matched nothing, -1 */

    /* filled by the run */
    spw_proc sp;    /* the process (sp.exited, sp.status: spw_proc.h) */
    int out_fd;
    int killed;     /* killed by the run's deadline or on request */
    char version[40];
    char impl[16];
    int adds;
    struct proc_add add[PROC_MAX_ADDS];
    int rems;
    char rem_err[PROC_MAX_ADDS][24]; /* spw-peer rem "error" keys */
    int nrem_err;
    long long msgs;
    long long seq_bad_at; /* first msg index failing the seq check, -1 none */
    int nerr;
    char err_op[PROC_MAX_ERRS][24];
    char err_name[PROC_MAX_ERRS][24];
    int hs_failed;  /* spw-peer handshake-failed events */
    int drops;
    int done;
    long long done_sent, done_recv;
    char digest[72];
    /* log: first PROC_LOG_HEAD lines and the last PROC_LOG_TAIL */
    char *head[PROC_LOG_HEAD];
    char *tail[PROC_LOG_TAIL];
    long long nlines;
    char partial[8192];
    size_t npartial;
    char errfile[256];
};

void proc_init(struct proc *p, const char *label);
void proc_arg(struct proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void proc_keep(struct proc *p, int fd);
void proc_free(struct proc *p);

/* Start every process; run until all exited or deadline_ms passed (then
 * SIGKILL, killed=1). fds_to_close are closed in the parent once all are
 * started (the children's ends). Returns 0, or -1 if one could not start. */
int procs_run(struct proc **ps, int n, int deadline_ms, const int *fds_to_close, int nclose);

/* The same in two steps, for runs where the driver itself takes part
 * (raw handshakes): start, then poll with procs_pump until done. */
int procs_start(struct proc **ps, int n, const int *fds_to_close, int nclose);
/* Read output and reap for at most wait_ms; returns 1 when all exited. */
int procs_pump(struct proc **ps, int n, int wait_ms);
void procs_kill(struct proc **ps, int n, int sig);
int procs_finish(struct proc **ps, int n, int deadline_ms);

/* Exit code, or 128+signal, or -1 when still running (spw_proc_exit_code). */
int proc_exit_code(const struct proc *p);
/* 1 if one error event had this op (NULL: any) and name (NULL: any). */
int proc_has_error(const struct proc *p, const char *op, const char *name);
/* Print the captured log with a prefix, to stdout. */
void proc_dump(const struct proc *p, const char *prefix);
/* Command line as one string (static buffer). */
const char *proc_cmdline(const struct proc *p);

/* Work directory for stderr files (set once). */
void proc_set_workdir(const char *dir);

/* Expected payload k: byte i = (k*31+i)&0xff, then with seq the first
 * min(8,len) bytes are k as u64 BE. Writes len bytes to out. */
void payload_fill(unsigned char *out, size_t len, long long k, int seq);

/* Size of message k for a --sizes list. */
size_t payload_size(const char *sizes, long long k);

#endif
