/* spw-conform engine, internal — the IUT as a case or an input reaches it:
 * its process (when the tool starts it) and the connected fds, and how a
 * process's end is judged. Used by runner.c and rawrun.c. */
#ifndef SPW_CONFORM_IUT_H
#define SPW_CONFORM_IUT_H

#include "catalogue.h"
#include "spw_proc.h"
#include "target.h"
#include "wire.h"

/* The IUT: maybe a process, and one or more connected fds (several only
 * for the socket transport, 'fds N'). */
typedef struct cf_iut {
    int nfds;
    int fds[CF_MAX_CONNS];
    spw_proc proc;
    int have_proc;
    char logpath[512];
    char err[256];
} cf_iut;

/* How the IUT process ended a case (or an input): at most one is set. */
typedef struct cf_ending {
    int crashed, exited, hung;
    char detail[256];
} cf_ending;

/* Start the IUT command: "sh -c CMD" leading its own process group,
 * holding keep (blocking), stdin /dev/null, default SIGPIPE/SIGTERM,
 * stdout+stderr into logpath (NULL: /dev/null). 0, or -1 (errno). */
int cf_iut_spawn(const char *cmd, const int *keep, int nkeep, const char *logpath, spw_proc *p);
/* Reach a fresh IUT for one case (tag names its log in t->log_dir): fds
 * non-blocking. 0; -1 with ss->err (the caller stops ss->proc if
 * have_proc). */
int cf_iut_open(const cf_target *t, const char *tag, int nconns, cf_iut *ss, cf_wire *w);
/* A fresh connection to an address target still completes the handshake. */
int cf_iut_alive(const cf_target *t);
/* Is status one of --iut-exit-ok's? */
int cf_iut_exit_declared(const cf_target *t, int status);
/* "; the IUT process ended: HOW" (with the shell's 126/127 meaning) into
 * out when p has ended, else "": the tail of a harness error about an IUT
 * that did not answer. Gives a dying p up to 200 ms to finish. */
void cf_iut_ended_note(spw_proc *p, int have_proc, char *out, size_t outlen);
/* Judge a process's end: ended (by itself), killed (did not end within
 * --kill-timeout of SIGTERM), or stopped by us; e gets crashed, exited
 * (a status --iut-exit-ok does not declare) or hung, with the detail. */
void cf_iut_judge_end(const cf_target *t, const spw_proc *p, int ended, int killed, cf_ending *e);
/* The end of a case: watch the process for the grace period (longer, up
 * to 5 s, while a sanitizer report it began is being written), then stop
 * it; e says whether it crashed, exited on its own or hung. A sanitizer
 * report in the IUT's output (cf_iut_sanitizer_report) is a crash whatever
 * the exit status: ASan exits 1 by default, which --iut-exit-ok may declare
 * (spw-peer's documented end), and a report must never be a PASS. Only hung
 * outranks it. */
void cf_iut_finish(const cf_target *t, cf_iut *ss, cf_ending *e, cf_wire *w);
/* A sanitizer report in the log at logpath (the process's output since it
 * started) makes its end a crash, unless it hung: e->crashed, the status st
 * and the report's first line in e->detail. Nothing without a report. */
void cf_iut_judge_report(const char *logpath, const char *st, cf_ending *e);
/* Where the first sanitizer report (AddressSanitizer, LeakSanitizer,
 * ThreadSanitizer, MemorySanitizer: its "ERROR:"/"WARNING:" line;
 * UndefinedBehaviorSanitizer: its "runtime error:" line) starts in log, a
 * NUL-terminated text: a pointer to the start of that line, or NULL. */
const char *cf_iut_sanitizer_report(const char *log);
/* What to keep of the IUT's log (logpath; NULL or "" gives NULL) as a
 * case's evidence, malloc'd: from the first sanitizer report's line on (its
 * first 4000 bytes: the error and the top frames, which a tail would cut
 * off behind ASan's shadow-byte dump), else the last 1500 bytes. */
char *cf_iut_log_evidence(const char *logpath);

#endif
