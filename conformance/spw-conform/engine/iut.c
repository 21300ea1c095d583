/* spw-conform engine — reaching the IUT and ending it (iut.h). */
#include "iut.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "spw_ctl.h"
#include "session.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* The IUT: "sh -c CMD" leading its own process group (stopping it stops
 * whatever it started), holding the fds it is handed (blocking, as a
 * program expects), stdin from /dev/null, SIGPIPE and SIGTERM at their
 * defaults whatever this tool ignores, stdout and stderr into one log. */
int cf_iut_spawn(const char *cmd, const int *keep, int nkeep, const char *logpath,
                     spw_proc *p)
{
    spw_proc_opts o = {
        .keep = keep,
        .nkeep = nkeep,
        .new_group = 1,
        .stdin_devnull = 1,
        .default_signals = 1,
        .out = {logpath ? SPW_PROC_FILE : SPW_PROC_DEVNULL, logpath, -1},
        .err = {SPW_PROC_AS_STDOUT, NULL, -1},
    };
    return spw_proc_spawn_sh(p, &o, cmd);
}

static int open_exec_fd(const cf_target *t, int nconns, cf_iut *ss, const char *lp)
{
    int theirs[CF_MAX_CONNS];
    for (int i = 0; i < nconns; i++) {
        int sv[2];
        if (cf_socketpair(sv)) {
            snprintf(ss->err, sizeof ss->err, "socketpair: %s", strerror(errno));
            close_all(theirs, i);
            close_all(ss->fds, i);
            return -1;
        }
        ss->fds[i] = sv[0];
        theirs[i] = sv[1];
    }
    ss->nfds = nconns;
    int ctl[2] = {-1, -1}, rc;
    if (t->ctl) {
        /* {ctl}: the IUT gets the control socket; the connections follow
         * over it, then its end of file (no more connections) */
        if (cf_socketpair(ctl)) {
            snprintf(ss->err, sizeof ss->err, "socketpair: %s", strerror(errno));
            close_all(theirs, nconns);
            close_all(ss->fds, nconns);
            return -1;
        }
        char *cmd = cf_target_command(t, NULL, 0, ctl[1]);
        rc = cf_iut_spawn(cmd, &ctl[1], 1, lp, &ss->proc);
        free(cmd);
        close(ctl[1]);
        for (int i = 0; rc == 0 && i < nconns; i++)
            if (spw_ctl_send(ctl[0], theirs[i]))
                break; /* the IUT is gone: the case sees its end */
        close(ctl[0]);
    } else {
        char *cmd = cf_target_command(t, theirs, nconns, -1);
        rc = cf_iut_spawn(cmd, theirs, nconns, lp, &ss->proc);
        free(cmd);
    }
    close_all(theirs, nconns);
    if (rc) {
        snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
        close_all(ss->fds, nconns);
        return -1;
    }
    ss->have_proc = 1;
    for (int i = 0; i < nconns; i++)
        cf_set_nonblock(ss->fds[i]);
    return 0;
}

/* Reach the IUT: a socketpair per connection for the socket driver, else
 * an address the IUT listens on (we connect) or that we listen on (it
 * dials). The IUT is started here unless it is shared. */
int cf_iut_open(const cf_target *tin, const char *tag, int nconns, cf_iut *ss, cf_wire *w)
{
    cf_target local = *tin; /* this IUT's own address (cf_target_fresh_addr) */
    const cf_target *t = &local;
    memset(ss, 0, sizeof *ss);
    for (int i = 0; i < CF_MAX_CONNS; i++)
        ss->fds[i] = -1;
    ss->proc.pid = -1;
    if (t->log_dir && tag)
        snprintf(ss->logpath, sizeof ss->logpath, "%s/%s.log", t->log_dir, tag);
    const char *lp = ss->logpath[0] ? ss->logpath : NULL;
    if (cf_target_fresh_addr(&local)) {
        snprintf(ss->err, sizeof ss->err, "no free port on %.100s", local.addr.host);
        return -1;
    }
    const char *url = t->addr.url;
    const cf_driver *d = t->driver;

    if (t->kind == CF_T_EXEC_FD)
        return open_exec_fd(t, nconns, ss, lp);
    ss->nfds = 1;
    if (t->kind == CF_T_CONNECT) {
        if (t->exec && !t->shared) {
            char *cmd = cf_target_command(t, NULL, 0, -1);
            int rc = cf_iut_spawn(cmd, NULL, 0, lp, &ss->proc);
            free(cmd);
            if (rc) {
                snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
                return -1;
            }
            ss->have_proc = 1;
        }
        long end = cf_now_ms() + t->start_timeout_ms;
        for (;;) {
            ss->fds[0] = d->connect(&t->addr, 200);
            if (ss->fds[0] >= 0)
                break;
            if (ss->have_proc && spw_proc_poll(&ss->proc)) {
                char st[128];
                spw_proc_describe(&ss->proc, st, sizeof st);
                snprintf(ss->err, sizeof ss->err, "the IUT ended (%.60s) before listening on %.150s", st,
                         url);
                return -1;
            }
            if (cf_now_ms() > end) {
                snprintf(ss->err, sizeof ss->err, "could not connect to %.200s within %d ms", url,
                         t->start_timeout_ms);
                return -1;
            }
            cf_sleep_ms(3);
        }
        cf_log_note(w, "connected");
        return 0;
    }
    /* CF_T_LISTEN: we listen, the IUT dials */
    int lfd = d->listen(&t->addr);
    if (lfd < 0) {
        snprintf(ss->err, sizeof ss->err, "listen on %.150s: %s", url, strerror(errno));
        return -1;
    }
    char *cmd = cf_target_command(t, NULL, 0, -1);
    int rc = cf_iut_spawn(cmd, NULL, 0, lp, &ss->proc);
    free(cmd);
    if (rc) {
        close(lfd);
        if (d->cleanup)
            d->cleanup(&t->addr);
        snprintf(ss->err, sizeof ss->err, "fork: %s", strerror(errno));
        return -1;
    }
    ss->have_proc = 1;
    long end = cf_now_ms() + t->start_timeout_ms;
    while ((ss->fds[0] = cf_accept(lfd, 50)) < 0) {
        if (spw_proc_poll(&ss->proc) || cf_now_ms() > end) {
            snprintf(ss->err, sizeof ss->err, "the IUT did not dial %.200s within %d ms", url,
                     t->start_timeout_ms);
            close(lfd);
            if (d->cleanup)
                d->cleanup(&t->addr);
            return -1;
        }
    }
    close(lfd);
    if (d->cleanup)
        d->cleanup(&t->addr);
    cf_log_note(w, "accepted the IUT's connection");
    return 0;
}

/* ------------------------------------------------------------ teardown */

/* Liveness probe for a shared IUT: a fresh connection must still complete
 * the handshake. */
int cf_iut_alive(const cf_target *t)
{
    int fd = t->driver->connect(&t->addr, t->timeout_ms);
    if (fd < 0)
        return 0;
    cf_rx s;
    cf_rx_init(&s, t->proto, &t->driver->framing, NULL);
    int closed = 0;
    uint8_t h[8];
    spw_handshake_encode(h, (uint16_t)spw_proto_peer(t->proto));
    cf_io_write(fd, h, 8, 0, 0, &s.rx, &closed, NULL);
    cf_io_read_until(fd, cf_now_ms() + t->timeout_ms, &s.rx, &closed, NULL, cf_rx_done_handshake, &s);
    int ok = s.rx.len >= 8 && memcmp(s.rx.p, s.hs_want, 8) == 0;
    close(fd);
    cf_rx_free(&s);
    return ok;
}

int cf_iut_exit_declared(const cf_target *t, int status)
{
    for (int i = 0; i < t->nexit_ok; i++)
        if (t->exit_ok[i] == status)
            return 1;
    return 0;
}

void cf_iut_judge_end(const cf_target *t, const spw_proc *p, int ended, int killed, cf_ending *e)
{
    char st[128];
    spw_proc_describe(p, st, sizeof st);
    int sig = spw_proc_signal(p);
    if (killed) {
        e->hung = 1;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT did not exit within %d ms of SIGTERM (hung); SIGKILLed", t->kill_timeout_ms);
    } else if (ended && sig) {
        e->crashed = 1;
        snprintf(e->detail, sizeof e->detail, "the IUT process died on its own: %s", st);
    } else if (ended && !cf_iut_exit_declared(t, WEXITSTATUS(p->status))) {
        e->exited = 1;
        snprintf(e->detail, sizeof e->detail,
                 "the IUT process exited on its own with %s (a panic or an uncaught error "
                 "looks like this; --iut-exit-ok declares a documented exit)", st);
    } else if (!ended && sig && sig != SIGTERM && sig != SIGKILL) {
        e->crashed = 1;
        snprintf(e->detail, sizeof e->detail, "the IUT process died when asked to stop: %s", st);
    }
}

/* How much of a log is searched for a sanitizer report: an IUT's output in
 * one case is far less; a report sits near the end of a longer one. */
#define LOG_SCAN_MAX (1u << 20)

const char *cf_iut_sanitizer_report(const char *log)
{
    static const char *const marks[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
        "ERROR: ThreadSanitizer", "WARNING: MemorySanitizer", "ERROR: MemorySanitizer",
        ": runtime error: "};
    const char *first = NULL;
    for (size_t i = 0; log && i < sizeof marks / sizeof marks[0]; i++) {
        const char *m = strstr(log, marks[i]);
        if (m && (!first || m < first))
            first = m;
    }
    while (first && first > log && first[-1] != '\n')
        first--;
    return first;
}

char *cf_iut_log_evidence(const char *logpath)
{
    if (!logpath || !*logpath)
        return NULL;
    char *all = spw_file_tail(logpath, LOG_SCAN_MAX);
    const char *rep = cf_iut_sanitizer_report(all);
    if (!all)
        return NULL;
    const char *from = rep;
    if (!from) {
        size_t n = strlen(all);
        from = all + (n > 1500 ? n - 1500 : 0);
    }
    char *keep = strndup(from, rep ? 4000 : 1500);
    if (!keep)
        abort();
    free(all);
    return keep;
}

/* How long an IUT whose sanitizer is writing a report may take to end. */
#define SANITIZER_FINISH_MS 5000

static int report_begun(const char *logpath)
{
    if (!logpath || !*logpath)
        return 0;
    char *all = spw_file_tail(logpath, LOG_SCAN_MAX);
    int begun = cf_iut_sanitizer_report(all) != NULL;
    free(all);
    return begun;
}

void cf_iut_judge_report(const char *logpath, const char *st, cf_ending *e)
{
    if (e->hung || !logpath || !*logpath)
        return;
    char *all = spw_file_tail(logpath, LOG_SCAN_MAX);
    const char *rep = cf_iut_sanitizer_report(all);
    if (rep) {
        int n = (int)strcspn(rep, "\n");
        e->crashed = 1;
        e->exited = 0;
        snprintf(e->detail, sizeof e->detail, "the IUT's output holds a sanitizer report (%s): %.*s",
                 st, n > 160 ? 160 : n, rep);
    }
    free(all);
}

/* The end of a case for the IUT process. It is first watched for the grace
 * period: what the last event (a close, an over-limit length) does to it may
 * take a moment to show. A process that ended on its own by then crashed
 * (any signal) or exited (any status not declared with --iut-exit-ok); one
 * still running is stopped, and is hung when SIGTERM does not end it. */
void cf_iut_finish(const cf_target *t, cf_iut *ss, cf_ending *e, cf_wire *w)
{
    if (!ss->have_proc) {
        cf_sleep_ms(t->grace_ms);
        if (t->shared && !cf_iut_alive(t)) {
            e->hung = 1;
            snprintf(e->detail, sizeof e->detail,
                     "after this case the IUT at %.150s no longer completes a handshake "
                     "(crashed or hung)", t->addr.url);
        }
        return;
    }
    long grace_end = cf_now_ms() + t->grace_ms;
    int ended = spw_proc_poll(&ss->proc);
    while (!ended && cf_now_ms() < grace_end) {
        cf_sleep_ms(2);
        ended = spw_proc_poll(&ss->proc);
    }
    /* A sanitizer that has begun a report is let finish it: symbolizing
     * the frames takes longer than a grace period under load, and SIGTERM
     * would cut the evidence after its first line. */
    if (!ended && report_begun(ss->logpath)) {
        long end = cf_now_ms() + SANITIZER_FINISH_MS;
        while (!ended && cf_now_ms() < end) {
            cf_sleep_ms(5);
            ended = spw_proc_poll(&ss->proc);
        }
    }
    int killed = ended ? 0 : spw_proc_stop(&ss->proc, t->kill_timeout_ms);
    char st[128];
    spw_proc_describe(&ss->proc, st, sizeof st);
    cf_iut_judge_end(t, &ss->proc, ended, killed, e);
    cf_iut_judge_report(ss->logpath, st, e);
    char m[200];
    snprintf(m, sizeof m, "IUT process %s%s", ended ? "had ended on its own: " : "stopped: ", st);
    cf_log_note(w, m);
}


void cf_iut_ended_note(spw_proc *p, int have_proc, char *out, size_t outlen)
{
    out[0] = '\0';
    /* let a dying IUT finish dying, so its status can be told */
    for (long end = cf_now_ms() + 200; have_proc && !spw_proc_poll(p) && cf_now_ms() < end;)
        cf_sleep_ms(2);
    if (!have_proc || !p->exited)
        return;
    char d[128];
    spw_proc_describe(p, d, sizeof d);
    int code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 0;
    snprintf(out, outlen, "; the IUT process ended: %s%s", d,
             code == 127   ? " (the shell could not find the command)"
             : code == 126 ? " (the shell could not run the command)"
                           : "");
}
