/* spw-conform engine — raw runs: a byte stream (a fuzz input, a reproducer,
 * a diff input) sent to the IUT on one connection, and what came of it.
 * Two ways to reach the IUT:
 *
 *   fresh        a new IUT (process, connection) per input, ended as a case
 *                ends (grace period, stop): cf_run_raw
 *   persistent   one IUT process for many inputs, a new connection per
 *                input: over {ctl} for a socket:// IUT, a reconnect for a
 *                listening one (--connect with --exec, or a running IUT),
 *                the next accept for one that dials (--listen). The process
 *                is restarted only after it died or stopped answering:
 *                cf_persist_*
 */
#ifndef SPW_CONFORM_RAWRUN_H
#define SPW_CONFORM_RAWRUN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "target.h"

/* How an input is sent and how its connection ends. */
typedef struct cf_send_plan {
    int split;      /* bytes per write, 0: at once */
    long reset_at;  /* -1: a half-close (FIN) after the input, the IUT's close awaited;
                     * N >= 0: a reset (SO_LINGER 0) as soon as the IUT has sent N
                     * bytes after its header, or the window ends: the peer vanishes
                     * while the IUT writes (its send path) */
} cf_send_plan;

typedef struct cf_raw_run {
    int outcome;             /* closed / open / crashed / hung / leaked / ... */
    int harness_error;       /* the run could not happen (errmsg says why) */
    char errmsg[256];        /* harness error, or the process's fate */
    cf_buf rx;               /* everything received after the IUT's 8-byte header */
    int nframes;
    uint64_t digest;         /* FNV-1a of rx */
    long ms;
    /* what the IUT visibly did (behaviour feedback) */
    int hs;                  /* its header: 0 none or partial, 1 valid, 2 invalid */
    int iut_closed;          /* 1 it closed the connection, 2 it reset it, 0 no */
    long close_ms;           /* ms after our last write when it closed, -1 when not */
    int iut_ended;           /* persistent: the process died or stopped answering
                              * with this input (outcome crashed, exited or hung) */
    char *log;               /* malloc'ed: what the IUT printed during this input
                              * (its whole output for a fresh run), or NULL */
    /* persistent: an EARLIER input whose connection the IUT did not let go
     * within the leak window after our FIN (its bytes, malloc'ed; len 0
     * when none): a leak found while this input ran */
    cf_buf leaked_input;
    cf_send_plan leaked_plan;
} cf_raw_run;

/* Free the run's buffers (rx, log). */
void cf_raw_run_free(cf_raw_run *r);

/* A fresh IUT for bytes, sent and ended per plan: watched for wait_ms
 * (less with t->quiet_us), half-closed and the IUT given one window to
 * close (or reset, plan->reset_at), then its process watched for the grace
 * period and stopped. 0 ran (out filled); -1 harness error (out->errmsg). */
int cf_run_raw(const cf_target *t, const uint8_t *bytes, size_t len, const cf_send_plan *plan,
               int wait_ms, cf_raw_run *out);

/* The persistent IUT. */
typedef struct cf_persist cf_persist;

/* 1 when t's IUT can serve many inputs (exec-fd with {ctl}, --connect,
 * --listen), 0 when every input needs a fresh process ({fd}, {fds}). */
int cf_persist_possible(const cf_target *t);
/* tag names the IUT's log in t->log_dir (kept; a restart appends). */
cf_persist *cf_persist_new(const cf_target *t, const char *tag);
/* One input on a new connection (the IUT started first when it is not
 * running). The observation is cf_run_raw's, without the stop and without
 * waiting for the IUT to close after our FIN: that connection is watched
 * while the next inputs run, and one still open a window (at least 1 s)
 * after the FIN is reported as out->leaked_input by the run in progress
 * then (cf_persist_drain reports the last ones). After the observation,
 * the process is polled and, when this connection never saw the IUT's
 * header, a fresh connection must still complete a handshake; a process
 * that ended, or one that no longer answers (then killed), sets
 * out->iut_ended with the outcome crashed / exited / hung, and the next
 * input restarts it. 0 ran; -1 harness error (the IUT could not be
 * started or reached at all: out->errmsg). */
int cf_persist_run(cf_persist *p, const uint8_t *bytes, size_t len, const cf_send_plan *plan,
                   int wait_ms, cf_raw_run *out);
/* Wait out the connections still being watched; 1 with *input (the bytes
 * of a leaked connection's input, to free) and its plan for each leak, 0
 * when none is left. */
int cf_persist_drain(cf_persist *p, cf_buf *input, cf_send_plan *plan);
/* How often the process was (re)started. */
long cf_persist_starts(const cf_persist *p);
/* Stop the IUT (SIGTERM, --kill-timeout) and free. */
void cf_persist_free(cf_persist *p);

#endif
