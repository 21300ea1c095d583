/* interop.c -- spw-interop: spwire against the reference SP implementations.
 *
 *   spw-interop --peers DIR --impl nng110|nng15|nanomsg --suite SUITE
 *               [--transport socket|tcp] [--results FILE] [--workdir DIR]
 *
 * Suites:
 *   matrix   every valid protocol pair in both directions (sizes 0, 1, 4096,
 *            1 MiB), several respondents for one survey, the receive limit
 *            -1/exact/+1 both ways, and the negative cases (mismatched
 *            protocol, bad handshake bytes, oversize frame).  socket: over
 *            socketpair() (nng110 only); tcp: over 127.0.0.1, once with
 *            spwire listening and once with spwire connecting.
 *   stream   100,000 messages each way over a socketpair, order and content
 *            checked message by message (nng110).
 *   multifd  several fds to one spwire listener and to one NNG socket://
 *            listener (nng110).
 *   creds    peer credentials on both sides (nng110).
 *
 * Every case prints PASS/FAIL/KNOWN with what was observed, and appends a
 * tab-separated row "impl transport group direction verdict detail" to the
 * results file (interop_summary.sh turns those into the table).  KNOWN is a
 * reference behaviour that differs from the SP rules and matches what was
 * measured (conformance/interop/README.md); a change in it is a FAIL.
 *
 * Peers are judged on what they report: exit status, message counts, the
 * sha256 digest of everything received (compared with digests computed here
 * from the payload rule), per-message sequence numbers in the stream, and
 * add/rem/error events.  Timeouts only bound waits; nothing is judged on
 * how long anything took.
 */
#define _GNU_SOURCE
#include "interop_proc.h"
#include "spw_sha256.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spwire/spwire.h"

/* Per-operation timeout handed to peers when nothing should time out. */
#define OP_TIMEOUT "20000"
/* When a timeout is the expected end (nothing more will come). */
#define SHORT_TIMEOUT "4000"
/* Bound of one whole case (processes killed after it). */
#define CASE_DEADLINE_MS 120000
/* Raw side: how long to wait for the reference's header and for its close. */
#define RAW_WAIT_MS 15000

#define MATRIX_SIZES "0,1,4096,1048576"
#define MATRIX_COUNT 8
#define STREAM_COUNT 100000
#define STREAM_SIZE 64

enum tr { TR_SOCKET, TR_TCP_SPW_LISTEN, TR_TCP_SPW_CONNECT };
static const char *tr_name[] = {"socket", "tcp-spwlisten", "tcp-spwconnect"};

static struct {
    const char *peers;
    const char *impl; /* reference label */
    char refbin[512];
    char spwbin[512];
    FILE *results;
    int pass, fail, known, na;
    char versions[256];
} G;

/* ------------------------------------------------------------- helpers */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct verdict {
    int bad;
    int deviation; /* a reference deviates from the SP rules (-> KNOWN if measured) */
    char why[2048];
    size_t n;
};

static void note(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct verdict *v, const char *fmt, ...)
{
    va_list ap;
    if (v->n + 4 >= sizeof v->why)
        return;
    if (v->n)
        v->n += (size_t)snprintf(v->why + v->n, sizeof v->why - v->n, "; ");
    va_start(ap, fmt);
    int k = vsnprintf(v->why + v->n, sizeof v->why - v->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        v->n += (size_t)k;
    if (v->n >= sizeof v->why)
        v->n = sizeof v->why - 1;
}

/* Records cond; on failure the reason is kept. */
static void want(struct verdict *v, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void want(struct verdict *v, int cond, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (cond)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v->bad = 1;
    note(v, "%s", buf);
}

static void record(const char *transport, const char *group, const char *dir, const char *verdict,
                   const char *detail)
{
    printf("%-5s %s %s %s %s%s%s\n", verdict, G.impl, transport, group, dir, detail && *detail ? ": " : "",
           detail ? detail : "");
    if (strcmp(verdict, "PASS") == 0)
        G.pass++;
    else if (strcmp(verdict, "KNOWN") == 0)
        G.known++;
    else if (strcmp(verdict, "n/a") == 0)
        G.na++;
    else
        G.fail++;
    if (G.results) {
        fprintf(G.results, "%s\t%s\t%s\t%s\t%s\t", G.impl, transport, group, dir, verdict);
        for (const char *c = detail ? detail : ""; *c; c++)
            fputc(*c == '\t' || *c == '\n' ? ' ' : *c, G.results);
        fputc('\n', G.results);
        fflush(G.results);
    }
    fflush(stdout);
}

static void finish_case(struct verdict *v, struct proc **ps, int n, const char *transport,
                        const char *group, const char *dir)
{
    if (v->bad) {
        record(transport, group, dir, "FAIL", v->why);
        for (int i = 0; i < n; i++) {
            char prefix[40];
            snprintf(prefix, sizeof prefix, "    [%s#%d] ", ps[i]->label, i);
            proc_dump(ps[i], prefix);
        }
    } else {
        record(transport, group, dir, "PASS", v->why);
    }
    for (int i = 0; i < n; i++) {
        if (ps[i]->version[0] && !strstr(G.versions, ps[i]->impl)) {
            size_t l = strlen(G.versions);
            snprintf(G.versions + l, sizeof G.versions - l, "%s%s %s", l ? ", " : "", ps[i]->impl,
                     ps[i]->version);
        }
    }
}

static void sizes_parse(const char *list, long long *out, int *n)
{
    *n = 0;
    const char *s = list;
    while (*s && *n < 64) {
        out[(*n)++] = strtoll(s, (char **)&s, 10);
        if (*s == ',')
            s++;
    }
}

/* sha256 hex of payloads k = 0..count-1 (sizes cycling), each repeated
 * `repeat` times in a row. */
static void expected_digest(const char *sizes, long long count, int repeat, int seq, char hex[65])
{
    long long sz[64];
    int nsz;
    spw_sha256_ctx c;
    sizes_parse(sizes, sz, &nsz);
    spw_sha256_init(&c);
    for (long long k = 0; k < count; k++) {
        size_t len = (size_t)sz[k % nsz];
        unsigned char *b = malloc(len ? len : 1);
        if (!b) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        payload_fill(b, len, k, seq);
        for (int r = 0; r < repeat; r++)
            spw_sha256_update(&c, b, len);
        free(b);
    }
    spw_sha256_final_hex(&c, hex);
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) != 0) {
        perror("spw-interop: free port");
        exit(2);
    }
    close(s);
    return ntohs(a.sin_port);
}

static int is_spw(const struct proc *p)
{
    return strcmp(p->label, "spwire") == 0;
}

static int has_events(const struct proc *p)
{
    return strcmp(p->label, "nanomsg") != 0; /* nanomsg has no pipe events */
}

static void new_peer(struct proc *p, int spw, const char *proto)
{
    proc_init(p, spw ? "spwire" : G.impl);
    proc_arg(p, "%s", spw ? G.spwbin : G.refbin);
    proc_arg(p, "--proto");
    proc_arg(p, "%s", proto);
}

/* Connect hub to every leaf over transport t.  Adds the endpoint options;
 * socket fds to close in the parent go to close_fds.  Returns 0, or -1
 * when the topology cannot be built over t (e.g. several spwire leaves
 * each listening). */
static int wire(enum tr t, struct proc *hub, struct proc **leaves, int nl, int *close_fds, int *nclose)
{
    *nclose = 0;
    if (t == TR_SOCKET) {
        for (int i = 0; i < nl; i++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
                perror("socketpair");
                exit(2);
            }
            proc_arg(hub, "--fd");
            proc_arg(hub, "%d", sv[0]);
            proc_keep(hub, sv[0]);
            proc_arg(leaves[i], "--fd");
            proc_arg(leaves[i], "%d", sv[1]);
            proc_keep(leaves[i], sv[1]);
            close_fds[(*nclose)++] = sv[0];
            close_fds[(*nclose)++] = sv[1];
        }
        return 0;
    }
    /* The spwire side listens (TR_TCP_SPW_LISTEN) or connects. */
    int spw_listens = t == TR_TCP_SPW_LISTEN;
    int hub_listens = is_spw(hub) ? spw_listens : !spw_listens;
    if (!hub_listens && nl > 1)
        return -1;
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
    proc_arg(hub, hub_listens ? "--tcp-listen" : "--tcp-connect");
    proc_arg(hub, "%s", url);
    for (int i = 0; i < nl; i++) {
        proc_arg(leaves[i], hub_listens ? "--tcp-connect" : "--tcp-listen");
        proc_arg(leaves[i], "%s", url);
    }
    return 0;
}

/* A listener could not bind its port (taken between free_port and bind). */
static int port_clash(struct proc **ps, int n)
{
    for (int i = 0; i < n; i++)
        if (proc_has_error(ps[i], NULL, "EADDRINUSE"))
            return 1;
    return 0;
}

/* The side that sends last must not close before its last message is on
 * the wire: NNG queues sends and does not flush on close, so a fixed
 * linger can cut a 1 MiB message short on a busy machine.  NNG and spwire
 * wait for the peer to close (--wait-close); nanomsg cannot tell, it
 * lingers (its close does not drop what the kernel already has). */
static void last_sender(struct proc *p)
{
    if (strcmp(p->label, "nanomsg") == 0) {
        proc_arg(p, "--linger");
        proc_arg(p, "1000");
    } else {
        proc_arg(p, "--wait-close");
        proc_arg(p, OP_TIMEOUT);
    }
}

/* Generic check of one peer's outcome. */
static void check_peer(struct verdict *v, const struct proc *p, const char *who, int exit_code,
                       long long sent, long long recv, const char *digest)
{
    int ec = proc_exit_code(p);
    want(v, ec == exit_code, "%s exit %d (want %d)%s", who, ec, exit_code, p->killed ? " killed" : "");
    want(v, p->done, "%s: no done event", who);
    if (sent >= 0)
        want(v, p->done_sent == sent, "%s sent %lld (want %lld)", who, p->done_sent, sent);
    if (recv >= 0)
        want(v, p->done_recv == recv, "%s received %lld (want %lld)", who, p->done_recv, recv);
    if (digest)
        want(v, strcmp(p->digest, digest) == 0, "%s digest %.12s.. (want %.12s..)", who, p->digest,
             digest);
}

/* ---------------------------------------------------------------- matrix */

struct pspec {
    const char *group;
    const char *a_proto; /* the side that starts: sender, req, surveyor */
    const char *b_proto;
    const char *b_mode;  /* --recv or --echo */
    int reply;           /* b answers (req/rep, survey) */
    int nb;              /* leaves */
};

static const struct pspec PSPECS[] = {
    {"pair0", "pair0", "pair0", "--recv", 0, 1},
    {"pair1", "pair1", "pair1", "--recv", 0, 1},
    {"reqrep", "req", "rep", "--echo", 1, 1},
    {"pubsub", "pub", "sub", "--recv", 0, 1},
    {"pipeline", "push", "pull", "--recv", 0, 1},
    {"survey", "surveyor", "respondent", "--echo", 1, 1},
    {"survey-x3", "surveyor", "respondent", "--echo", 1, 3},
    {"bus", "bus", "bus", "--recv", 0, 1},
};

static void matrix_case(enum tr t, const struct pspec *s, int spw_is_a)
{
    const char *dir = spw_is_a ? "spw->ref" : "ref->spw";
    if (strcmp(G.impl, "nanomsg") == 0 && strcmp(s->a_proto, "pair1") == 0) {
        record(tr_name[t], s->group, dir, "n/a", "nanomsg has no pair1");
        return;
    }
    char count[16];
    snprintf(count, sizeof count, "%d", MATRIX_COUNT);
    /* nanomsg's pub and bus are best effort: while a 1 MiB message is
     * still being written, later sends are dropped whole (measured).  The
     * receiver then must see an in-order subsequence, every message intact. */
    int lossy = !spw_is_a && strcmp(G.impl, "nanomsg") == 0 &&
                (strcmp(s->a_proto, "pub") == 0 || strcmp(s->a_proto, "bus") == 0);
    for (int attempt = 0;; attempt++) {
        struct proc a, b[3];
        struct proc *ps[4], *leaves[3];
        int close_fds[8], nclose;
        new_peer(&a, spw_is_a, s->a_proto);
        proc_arg(&a, "--sizes");
        proc_arg(&a, MATRIX_SIZES);
        proc_arg(&a, "--count");
        proc_arg(&a, "%s", count);
        proc_arg(&a, "--wait-peers");
        proc_arg(&a, "%d", s->nb);
        ps[0] = &a;
        for (int i = 0; i < s->nb; i++) {
            new_peer(&b[i], !spw_is_a, s->b_proto);
            proc_arg(&b[i], "%s", s->b_mode);
            proc_arg(&b[i], "--count");
            proc_arg(&b[i], "%s", count);
            b[i].expect_sizes = MATRIX_SIZES;
            b[i].expect_count = MATRIX_COUNT;
            b[i].lossy = lossy;
            leaves[i] = ps[i + 1] = &b[i];
        }
        for (int i = 0; i <= s->nb; i++) {
            proc_arg(ps[i], "--timeout");
            proc_arg(ps[i], lossy && i > 0 ? SHORT_TIMEOUT : OP_TIMEOUT);
            proc_arg(ps[i], "--recvmax");
            proc_arg(ps[i], "-1");
        }
        if (s->reply)
            for (int i = 0; i < s->nb; i++)
                last_sender(&b[i]);
        else
            last_sender(&a);
        /* NNG 1.10.1 takes several back-to-back fds wrongly (see multifd):
         * the reference hub hands them over one by one. */
        if (t == TR_SOCKET && !spw_is_a && s->nb > 1)
            proc_arg(&a, "--fd-one-by-one");
        if (wire(t, &a, leaves, s->nb, close_fds, &nclose) != 0) {
            record(tr_name[t], s->group, dir, "n/a",
                   "needs one process dialing several listeners; covered by the other tcp variant");
            for (int i = 0; i <= s->nb; i++)
                proc_free(ps[i]);
            return;
        }
        /* The listening side first (the dialers retry anyway). */
        procs_run(ps, s->nb + 1, CASE_DEADLINE_MS, close_fds, nclose);
        if (t != TR_SOCKET && port_clash(ps, s->nb + 1) && attempt < 3) {
            for (int i = 0; i <= s->nb; i++)
                proc_free(ps[i]);
            continue;
        }
        char exp[65], exp_a[65], empty[65];
        expected_digest(MATRIX_SIZES, MATRIX_COUNT, 1, 0, exp);
        expected_digest(MATRIX_SIZES, MATRIX_COUNT, s->nb, 0, exp_a);
        expected_digest(MATRIX_SIZES, 0, 1, 0, empty);
        struct verdict v = {0};
        check_peer(&v, &a, s->a_proto, 0, MATRIX_COUNT, s->reply ? (long long)MATRIX_COUNT * s->nb : 0,
                   s->reply ? exp_a : empty);
        if (has_events(&a))
            want(&v, a.adds >= s->nb, "%s: %d add event(s), want %d", s->a_proto, a.adds, s->nb);
        for (int i = 0; i < s->nb; i++) {
            char who[32];
            snprintf(who, sizeof who, "%s#%d", s->b_proto, i);
            if (lossy) {
                want(&v, b[i].done && b[i].msgs >= 1, "%s: nothing delivered", who);
            } else {
                check_peer(&v, &b[i], who, 0, s->reply ? MATRIX_COUNT : 0, MATRIX_COUNT, exp);
            }
            want(&v, b[i].payload_bad_at < 0, "%s: message %lld is not the expected payload%s", who,
                 b[i].payload_bad_at, lossy ? " (nor a later one)" : "");
            if (has_events(&b[i]))
                want(&v, b[i].adds >= 1, "%s: no add event", who);
        }
        if (!v.bad && lossy)
            note(&v, "best-effort %s: %lld of %d msgs delivered, in order and intact%s", s->a_proto,
                 b[0].msgs, MATRIX_COUNT,
                 b[0].msgs < MATRIX_COUNT ? " (nanomsg dropped the rest whole while a 1 MiB one was "
                                            "being written)"
                                          : "");
        else if (!v.bad)
            note(&v, "%d msgs of %s B%s, each checked, digest %.12s..", MATRIX_COUNT, MATRIX_SIZES,
                 s->nb > 1 ? ", 3 respondents" : "", exp);
        finish_case(&v, ps, s->nb + 1, tr_name[t], s->group, dir);
        for (int i = 0; i <= s->nb; i++)
            proc_free(ps[i]);
        return;
    }
}

/* Receive limit L: sender sends L-1, L, L+1 (push -> pull); the receiver
 * delivers the first two and closes on the third. */
static void limit_case(enum tr t, long long limit, int explicit_limit, int spw_sends)
{
    const char *dir = spw_sends ? "spw->ref" : "ref->spw";
    char group[48], sizes[96];
    snprintf(group, sizeof group, "limit-%s", explicit_limit ? "4096" : "default1MiB");
    snprintf(sizes, sizeof sizes, "%lld,%lld,%lld", limit - 1, limit, limit + 1);
    for (int attempt = 0;; attempt++) {
        struct proc s, r;
        struct proc *ps[2] = {&s, &r}, *leaves[1] = {&r};
        int close_fds[4], nclose;
        new_peer(&s, spw_sends, "push");
        proc_arg(&s, "--sizes");
        proc_arg(&s, "%s", sizes);
        proc_arg(&s, "--count");
        proc_arg(&s, "3");
        proc_arg(&s, "--wait-peers");
        proc_arg(&s, "1");
        proc_arg(&s, "--timeout");
        proc_arg(&s, OP_TIMEOUT);
        last_sender(&s);
        new_peer(&r, !spw_sends, "pull");
        proc_arg(&r, "--recv");
        proc_arg(&r, "--count");
        proc_arg(&r, "3");
        proc_arg(&r, "--timeout");
        proc_arg(&r, SHORT_TIMEOUT);
        if (explicit_limit) {
            proc_arg(&r, "--recvmax");
            proc_arg(&r, "%lld", limit);
        }
        wire(t, &s, leaves, 1, close_fds, &nclose);
        procs_run(ps, 2, CASE_DEADLINE_MS, close_fds, nclose);
        if (t != TR_SOCKET && port_clash(ps, 2) && attempt < 3) {
            proc_free(&s);
            proc_free(&r);
            continue;
        }
        char exp2[65], exp3[65];
        expected_digest(sizes, 2, 1, 0, exp2);
        expected_digest(sizes, 3, 1, 0, exp3);
        /* Measured: NNG (1.5.2 and 1.10.1) applies no receive limit by
         * default; it delivers the 1 MiB + 1 message. */
        if (!explicit_limit && !is_spw(&r) && strncmp(r.label, "nng", 3) == 0 &&
            proc_exit_code(&r) == 0 && r.done_recv == 3 && strcmp(r.digest, exp3) == 0 &&
            proc_exit_code(&s) == 0 && s.done_sent == 3) {
            record(tr_name[t], group, dir, "KNOWN",
                   "NNG with default options delivered all of 1048575/1048576/1048577 B: no 1 MiB "
                   "default receive limit (spwire and nanomsg have one)");
            proc_free(&s);
            proc_free(&r);
            return;
        }
        struct verdict v = {0};
        /* receiver: L-1 and L delivered, then the connection is gone */
        check_peer(&v, &r, "pull", 1, 0, 2, exp2);
        want(&v, proc_has_error(&r, "recv", NULL), "pull: no recv error after the oversize frame");
        if (is_spw(&r))
            want(&v, r.nrem_err > 0 && strcmp(r.rem_err[0], "EMSGSIZE") == 0,
                 "spwire pull: first rem is %s, want EMSGSIZE", r.nrem_err ? r.rem_err[0] : "none");
        else if (has_events(&r))
            want(&v, r.rems >= 1, "%s pull: no rem event (did not close)", r.label);
        /* sender */
        if (is_spw(&s)) {
            int saw_close_after_send = proc_exit_code(&s) == 0 && s.done_sent == 3 && s.rems >= 1;
            int send_failed = proc_exit_code(&s) == 1 && s.done_sent == 2 &&
                              (proc_has_error(&s, "send", "ECLOSED") ||
                               proc_has_error(&s, "send", "ECONNRESET"));
            want(&v, saw_close_after_send || send_failed,
                 "spwire push: neither sent 3 then saw the close, nor failed the 3rd send "
                 "(exit %d, sent %lld, rems %d)",
                 proc_exit_code(&s), s.done_sent, s.rems);
            if (!v.bad)
                note(&v, "spwire sender %s", saw_close_after_send
                                                 ? "sent all 3, then saw the receiver close"
                                                 : "saw its 3rd send fail: the receiver closed mid-frame");
        } else {
            check_peer(&v, &s, "push", 0, 3, 0, NULL);
            if (!v.bad)
                note(&v, "%s sender reports all 3 sends successful", s.label);
        }
        if (!v.bad && !is_spw(&r))
            note(&v, "%s receiver delivered %lld/%lld B and dropped the %lld B frame", r.label, limit - 1,
                 limit, limit + 1);
        finish_case(&v, ps, 2, tr_name[t], group, dir);
        proc_free(&s);
        proc_free(&r);
        return;
    }
}

/* Both real peers, mismatched protocols: pair0 (spwire) against pull. */
static void mismatch_case(enum tr t)
{
    for (int attempt = 0;; attempt++) {
        struct proc s, r;
        struct proc *ps[2] = {&s, &r}, *leaves[1] = {&r};
        int close_fds[4], nclose;
        new_peer(&s, 1, "pair0");
        new_peer(&r, 0, "pull");
        for (int i = 0; i < 2; i++) {
            proc_arg(ps[i], "--recv");
            proc_arg(ps[i], "--timeout");
            proc_arg(ps[i], SHORT_TIMEOUT);
        }
        wire(t, &s, leaves, 1, close_fds, &nclose);
        procs_run(ps, 2, CASE_DEADLINE_MS, close_fds, nclose);
        if (t != TR_SOCKET && port_clash(ps, 2) && attempt < 3) {
            proc_free(&s);
            proc_free(&r);
            continue;
        }
        struct verdict v = {0};
        check_peer(&v, &s, "spwire pair0", 1, 0, 0, NULL);
        check_peer(&v, &r, "pull", 1, 0, 0, NULL);
        want(&v, s.adds == 0, "spwire made %d pipe(s) with a pull peer", s.adds);
        want(&v, s.hs_failed >= 1, "spwire reported no handshake failure");
        if (has_events(&r))
            want(&v, r.adds == 0, "%s pull made %d pipe(s) with a pair0 peer", r.label, r.adds);
        if (!v.bad)
            note(&v, "no pipe on either side; spwire counted the handshake failure");
        finish_case(&v, ps, 2, tr_name[t], "mismatch", "both");
        proc_free(&s);
        proc_free(&r);
        return;
    }
}

/* ------------------------------------------------------------ raw side */

/* Read exactly want bytes (or until EOF/error) within wait_ms, pumping the
 * processes' output meanwhile.  Returns bytes read; *eof set on EOF/reset. */
static size_t raw_read(int fd, uint8_t *buf, size_t want_n, int wait_ms, struct proc **ps, int n,
                       int *eof)
{
    size_t got = 0;
    long long end = now_ms() + wait_ms;
    *eof = 0;
    while (got < want_n && now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            ssize_t r = recv(fd, buf + got, want_n - got, 0);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                *eof = 1;
                break;
            }
        }
        procs_pump(ps, n, 0);
    }
    return got;
}

/* Wait for the far side to close (EOF or reset); other bytes are ignored.
 * Stops early (returning 0) once target delivered a message beyond
 * msgs_before: the header was accepted, no close is coming. */
static int raw_wait_close(int fd, int wait_ms, struct proc **ps, int n, const struct proc *target,
                          long long msgs_before)
{
    long long end = now_ms() + wait_ms;
    while (now_ms() < end && !(target && target->msgs > msgs_before)) {
        uint8_t junk[4096];
        int eof;
        raw_read(fd, junk, sizeof junk, 50, ps, n, &eof);
        if (eof)
            return 1;
    }
    return 0;
}

static void raw_send(int fd, const void *b, size_t n)
{
    if (send(fd, b, n, MSG_NOSIGNAL) < 0) {
        /* The peer may already be gone; its close is what we look for. */
    }
}

/* Connect to 127.0.0.1:port, retrying while the peer starts. */
static int raw_connect(int port, int wait_ms, struct proc **ps, int n)
{
    long long end = now_ms() + wait_ms;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    while (now_ms() < end) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        procs_pump(ps, n, 20);
    }
    return -1;
}

static int raw_listen(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) != 0) {
        perror("spw-interop: raw listen");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return s;
}

static int raw_accept(int ls, int wait_ms, struct proc **ps, int n)
{
    long long end = now_ms() + wait_ms;
    while (now_ms() < end) {
        struct pollfd p = {.fd = ls, .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0) {
                fcntl(fd, F_SETFD, FD_CLOEXEC);
                return fd;
            }
        }
        procs_pump(ps, n, 0);
    }
    return -1;
}

struct rawkind {
    const char *name;
    uint8_t hdr[8];
    int oversize; /* valid header, then a frame length one above 1 MiB */
};

/* What the raw side sends to a pull peer (valid peer: push 0x0050). */
static const struct rawkind RAWKINDS[] = {
    {"proto-mismatch", {0, 'S', 'P', 0, 0x00, 0x51, 0, 0}, 0}, /* pull to pull */
    {"proto-unknown", {0, 'S', 'P', 0, 0x12, 0x34, 0, 0}, 0},
    {"bad-byte0", {1, 'S', 'P', 0, 0x00, 0x50, 0, 0}, 0},
    {"bad-byte2", {0, 'S', 'Q', 0, 0x00, 0x50, 0, 0}, 0},
    {"bad-version", {0, 'S', 'P', 1, 0x00, 0x50, 0, 0}, 0},
    {"bad-reserved6", {0, 'S', 'P', 0, 0x00, 0x50, 1, 0}, 0},
    {"bad-reserved7", {0, 'S', 'P', 0, 0x00, 0x50, 0, 1}, 0},
    {"oversize-frame", {0, 'S', 'P', 0, 0x00, 0x50, 0, 0}, 1}, /* receiver --recvmax 4096 */
};
#define NRAWKINDS (sizeof RAWKINDS / sizeof RAWKINDS[0])

static void hex8(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

/* One raw session on fd against target (a pull peer). Returns closed. */
static void raw_session(int fd, const struct rawkind *k, struct proc *target, struct verdict *v,
                        struct proc **ps, int n)
{
    uint8_t got[8];
    int eof;
    size_t g = raw_read(fd, got, 8, RAW_WAIT_MS, ps, n, &eof);
    char gh[20];
    hex8(got, g, gh);
    want(v, g == 8 && memcmp(got, "\0SP\0\0\x51\0\0", 8) == 0,
         "%s sent %s before our bytes, want the pull header 0053500000510000", target->label, gh);
    raw_send(fd, k->hdr, 8);
    if (k->oversize) {
        uint8_t len[8] = {0, 0, 0, 0, 0, 0, 0x10, 0x01}; /* 4097: the limit + 1 */
        raw_send(fd, len, 8);
    } else {
        /* A message after the bad header: delivered means accepted. */
        static const uint8_t hello[13] = {0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
        raw_send(fd, hello, sizeof hello);
    }
    long long msgs_before = target->msgs;
    int closed = raw_wait_close(fd, RAW_WAIT_MS, ps, n, target, msgs_before);
    int accepted = target->msgs > msgs_before;
    if (!closed && accepted) {
        v->deviation = 1;
        note(v, "%s accepted the header (%s) and delivered the message sent after it", target->label,
             k->name);
        return;
    }
    want(v, closed, "%s kept the connection open %d ms after %s", target->label, RAW_WAIT_MS, k->name);
    want(v, !accepted, "%s delivered a message after %s", target->label, k->name);
}

/* Deviations measured on the references (README.md); anything else must
 * close, and a measured deviation that stops happening is a FAIL too. */
static int measured_deviation(const char *kind)
{
    return strcmp(G.impl, "nanomsg") == 0 &&
           (strcmp(kind, "bad-reserved6") == 0 || strcmp(kind, "bad-reserved7") == 0);
}

static void finish_raw(struct verdict *v, struct proc **ps, const char *transport, const char *kind,
                       const char *dir)
{
    int meas = measured_deviation(kind);
    if (!v->bad && v->deviation && meas) {
        record(transport, kind, dir, "KNOWN", v->why);
        return;
    }
    if (!v->bad && v->deviation)
        want(v, 0, "a deviation not measured before");
    else if (!v->bad && meas)
        want(v, 0, "the measured deviation (header accepted) is gone: update README.md and interop.c");
    finish_case(v, ps, 1, transport, kind, dir);
}

/* Raw sessions against the reference (pull): every kind must be closed.
 * A fresh reference process per session: the nanomsg dialer, once a
 * connection it made failed its handshake, sometimes closes every later
 * connection right after the header exchange (README.md), which would
 * spoil the sessions after the first. */

enum raw_attach_kind { RAW_SOCKETPAIR, RAW_PEER_LISTENS, RAW_PEER_DIALS };

/* Start the one peer process p (ps = {p}) connected to the test's raw side:
 * over a socketpair (its --fd), or over TCP with the peer listening or
 * dialing. Returns the raw side's fd (-1 if no connection); *ls gets the
 * raw listening socket to close afterwards, when there is one. */
static int raw_attach(struct proc *p, struct proc **ps, enum raw_attach_kind kind, int *ls)
{
    int port = 0;
    if (kind == RAW_SOCKETPAIR) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            exit(2);
        proc_arg(p, "--fd");
        proc_arg(p, "%d", sv[0]);
        proc_keep(p, sv[0]);
        procs_start(ps, 1, &sv[0], 1);
        return sv[1];
    }
    if (kind == RAW_PEER_LISTENS) {
        port = free_port();
        proc_arg(p, "--tcp-listen");
        proc_arg(p, "tcp://127.0.0.1:%d", port);
        procs_start(ps, 1, NULL, 0);
        return raw_connect(port, RAW_WAIT_MS, ps, 1);
    }
    *ls = raw_listen(&port);
    proc_arg(p, "--tcp-connect");
    proc_arg(p, "tcp://127.0.0.1:%d", port);
    procs_start(ps, 1, NULL, 0);
    return raw_accept(*ls, RAW_WAIT_MS, ps, 1);
}

static void raw_ref_cases(enum tr t)
{
    const char *dir = "spwtest->ref";
    for (size_t i = 0; i < NRAWKINDS; i++) {
        struct proc r;
        struct proc *ps[1] = {&r};
        int fd = -1, ls = -1;
        new_peer(&r, 0, "pull");
        proc_arg(&r, "--recv");
        proc_arg(&r, "--count"); /* a delivered message must not end it */
        proc_arg(&r, "1000");
        proc_arg(&r, "--recvmax");
        proc_arg(&r, "4096");
        proc_arg(&r, "--timeout");
        proc_arg(&r, "%d", 3 * RAW_WAIT_MS);
        struct verdict v = {0};
        /* the test side takes spwire's place */
        fd = raw_attach(&r, ps, t == TR_SOCKET ? RAW_SOCKETPAIR
                                : t == TR_TCP_SPW_CONNECT ? RAW_PEER_LISTENS : RAW_PEER_DIALS, &ls);
        want(&v, fd >= 0, "no connection with %s", r.label);
        if (fd >= 0) {
            raw_session(fd, &RAWKINDS[i], &r, &v, ps, 1);
            close(fd);
            /* let the add/rem events of this session arrive */
            procs_pump(ps, 1, RAWKINDS[i].oversize ? 500 : 100);
        }
        if (ls >= 0)
            close(ls);
        procs_kill(ps, 1, SIGTERM);
        procs_finish(ps, 1, 20000);
        if (RAWKINDS[i].oversize && has_events(&r))
            want(&v, r.adds == 1 && r.rems == 1,
                 "%s: %d add / %d rem events, want 1/1 (pipe up, then dropped)", r.label, r.adds, r.rems);
        else if (has_events(&r) && !v.deviation)
            want(&v, r.adds == 0, "%s made a pipe (%d add events)", r.label, r.adds);
        if (!v.bad && !v.deviation)
            note(&v, "%s closed the connection", r.label);
        finish_raw(&v, ps, tr_name[t], RAWKINDS[i].name, dir);
        proc_free(&r);
    }
}

/* The raw side sends a mismatched header to spwire: spwire must refuse. */
static void raw_spw_case(enum tr t)
{
    struct proc s;
    struct proc *ps[1] = {&s};
    int fd = -1, ls = -1;
    new_peer(&s, 1, "pull");
    proc_arg(&s, "--recv");
    proc_arg(&s, "--timeout");
    proc_arg(&s, "%d", RAW_WAIT_MS);
    fd = raw_attach(&s, ps, t == TR_SOCKET ? RAW_SOCKETPAIR
                            : t == TR_TCP_SPW_LISTEN ? RAW_PEER_LISTENS : RAW_PEER_DIALS, &ls);
    struct verdict v = {0};
    want(&v, fd >= 0, "no connection with spw-peer");
    if (fd >= 0) {
        uint8_t got[8];
        int eof;
        size_t g = raw_read(fd, got, 8, RAW_WAIT_MS, ps, 1, &eof);
        want(&v, g == 8 && memcmp(got, "\0SP\0\0\x51\0\0", 8) == 0, "spwire header wrong");
        raw_send(fd, RAWKINDS[0].hdr, 8);
        want(&v, raw_wait_close(fd, RAW_WAIT_MS, ps, 1, NULL, 0), "spwire kept a pull-pull connection open");
        close(fd);
        /* the event follows the close: wait for it before ending the peer */
        for (long long end = now_ms() + RAW_WAIT_MS; s.hs_failed == 0 && !s.sp.exited && now_ms() < end;)
            procs_pump(ps, 1, 20);
    }
    if (t == TR_TCP_SPW_LISTEN)
        procs_kill(ps, 1, SIGTERM); /* it would wait for further connections */
    procs_finish(ps, 1, 30000);
    want(&v, s.hs_failed >= 1 && s.adds == 0, "spwire: %d handshake-failed, %d add", s.hs_failed, s.adds);
    if (!v.bad)
        note(&v, "spwire closed and counted the handshake failure");
    finish_case(&v, ps, 1, tr_name[t], "proto-mismatch", "ref->spw(test side)");
    if (ls >= 0)
        close(ls);
    proc_free(&s);
}

static void suite_matrix(enum tr t)
{
    for (size_t i = 0; i < sizeof PSPECS / sizeof PSPECS[0]; i++)
        for (int spw_a = 1; spw_a >= 0; spw_a--)
            matrix_case(t, &PSPECS[i], spw_a);
    for (int spw_sends = 1; spw_sends >= 0; spw_sends--) {
        limit_case(t, 1048576, 0, spw_sends);
        limit_case(t, 4096, 1, spw_sends);
    }
    mismatch_case(t);
    raw_ref_cases(t);
    raw_spw_case(t);
}

/* ---------------------------------------------------------------- stream */

static void stream_case(int spw_sends)
{
    const char *dir = spw_sends ? "spw->ref" : "ref->spw";
    struct proc s, r;
    struct proc *ps[2] = {&s, &r}, *leaves[1] = {&r};
    int close_fds[4], nclose;
    new_peer(&s, spw_sends, "push");
    proc_arg(&s, "--size");
    proc_arg(&s, "%d", STREAM_SIZE);
    proc_arg(&s, "--seq");
    proc_arg(&s, "--count");
    proc_arg(&s, "%d", STREAM_COUNT);
    last_sender(&s);
    new_peer(&r, !spw_sends, "pull");
    proc_arg(&r, "--recv");
    proc_arg(&r, "--count");
    proc_arg(&r, "%d", STREAM_COUNT);
    for (int i = 0; i < 2; i++) {
        proc_arg(ps[i], "--timeout");
        proc_arg(ps[i], OP_TIMEOUT);
    }
    r.seq_size = STREAM_SIZE;
    wire(TR_SOCKET, &s, leaves, 1, close_fds, &nclose);
    long long t0 = now_ms();
    procs_run(ps, 2, 300000, close_fds, nclose);
    long long ms = now_ms() - t0;
    char sizes[16], exp[65];
    snprintf(sizes, sizeof sizes, "%d", STREAM_SIZE);
    expected_digest(sizes, STREAM_COUNT, 1, 1, exp);
    struct verdict v = {0};
    check_peer(&v, &s, "push", 0, STREAM_COUNT, 0, NULL);
    check_peer(&v, &r, "pull", 0, 0, STREAM_COUNT, exp);
    want(&v, r.msgs == STREAM_COUNT, "pull reported %lld msg events", r.msgs);
    want(&v, r.seq_bad_at < 0, "message %lld arrived out of order or altered", r.seq_bad_at);
    if (!v.bad)
        note(&v, "%d x %d B, every message in order and intact, digest %.12s.. (%lld ms, informational)",
             STREAM_COUNT, STREAM_SIZE, exp, ms);
    finish_case(&v, ps, 2, "socket", "stream-100k", dir);
    proc_free(&s);
    proc_free(&r);
}

/* --------------------------------------------------------------- multifd */

static void multifd_cases(void)
{
    /* One spwire listener, three fds, three NNG pushers. */
    {
        struct proc hub, l[3];
        struct proc *ps[4] = {&hub, &l[0], &l[1], &l[2]}, *leaves[3] = {&l[0], &l[1], &l[2]};
        int close_fds[8], nclose;
        new_peer(&hub, 1, "pull");
        proc_arg(&hub, "--recv");
        proc_arg(&hub, "--count");
        proc_arg(&hub, "30");
        proc_arg(&hub, "--wait-peers");
        proc_arg(&hub, "3");
        proc_arg(&hub, "--timeout");
        proc_arg(&hub, OP_TIMEOUT);
        for (int i = 0; i < 3; i++) {
            new_peer(&l[i], 0, "push");
            proc_arg(&l[i], "--size");
            proc_arg(&l[i], "100");
            proc_arg(&l[i], "--count");
            proc_arg(&l[i], "10");
            last_sender(&l[i]);
            proc_arg(&l[i], "--timeout");
            proc_arg(&l[i], OP_TIMEOUT);
        }
        wire(TR_SOCKET, &hub, leaves, 3, close_fds, &nclose);
        procs_run(ps, 4, CASE_DEADLINE_MS, close_fds, nclose);
        struct verdict v = {0};
        check_peer(&v, &hub, "spwire pull", 0, 0, 30, NULL);
        want(&v, hub.adds == 3, "spwire listener made %d pipes from 3 fds", hub.adds);
        for (int i = 0; i < 3; i++)
            check_peer(&v, &l[i], "nng push", 0, 10, 0, NULL);
        if (!v.bad)
            note(&v, "3 fds -> 3 pipes, 30 messages from 3 NNG pushers");
        finish_case(&v, ps, 4, "socket", "multifd-spwire-listener", "ref->spw");
        for (int i = 0; i < 4; i++)
            proc_free(ps[i]);
    }
    /* One NNG socket:// listener, fds set back to back or one by one. */
    for (int one_by_one = 0; one_by_one <= 1; one_by_one++) {
        struct proc hub, l[3];
        struct proc *ps[4] = {&hub, &l[0], &l[1], &l[2]}, *leaves[3] = {&l[0], &l[1], &l[2]};
        int close_fds[8], nclose;
        new_peer(&hub, 0, "surveyor");
        proc_arg(&hub, "--size");
        proc_arg(&hub, "100");
        proc_arg(&hub, "--count");
        proc_arg(&hub, "1");
        /* back to back: survey once the first pipe is up (only one comes) */
        proc_arg(&hub, "--wait-peers");
        proc_arg(&hub, one_by_one ? "3" : "1");
        proc_arg(&hub, "--timeout");
        proc_arg(&hub, one_by_one ? OP_TIMEOUT : SHORT_TIMEOUT);
        if (one_by_one)
            proc_arg(&hub, "--fd-one-by-one");
        for (int i = 0; i < 3; i++) {
            new_peer(&l[i], 1, "respondent");
            proc_arg(&l[i], "--echo");
            proc_arg(&l[i], "--timeout");
            proc_arg(&l[i], one_by_one ? OP_TIMEOUT : SHORT_TIMEOUT);
        }
        wire(TR_SOCKET, &hub, leaves, 3, close_fds, &nclose);
        procs_run(ps, 4, CASE_DEADLINE_MS, close_fds, nclose);
        struct verdict v = {0};
        if (one_by_one) {
            char exp[65];
            expected_digest("100", 1, 3, 0, exp);
            check_peer(&v, &hub, "nng surveyor", 0, 1, 3, exp);
            want(&v, hub.adds == 3, "NNG made %d pipes from 3 fds", hub.adds);
            for (int i = 0; i < 3; i++)
                check_peer(&v, &l[i], "spwire respondent", 0, 1, 1, NULL);
            if (!v.bad)
                note(&v, "fd set only after the previous became a pipe: 3 fds -> 3 pipes, 3 responses");
            finish_case(&v, ps, 4, "socket", "multifd-nng-one-by-one", "spw->ref");
        } else {
            /* Measured NNG 1.10.1 behaviour (README): of 3 fds set back
             * to back, only the first becomes a pipe; the second gets
             * NNG's header and is then closed; the third is never used. */
            if (hub.adds == 3 && proc_exit_code(&hub) == 0) {
                /* The race that loses fds was not hit this time. */
                record("socket", "multifd-nng-back-to-back", "spw->ref", "PASS",
                       "NNG made 3 pipes from 3 back-to-back fds this run (the queueing race was "
                       "not hit; see README)");
                for (int i = 0; i < 4; i++)
                    proc_free(ps[i]);
                continue;
            }
            want(&v, hub.adds == 1, "NNG made %d pipe(s) from 3 back-to-back fds (measured: 1 or 3)",
                 hub.adds);
            int r0 = l[0].adds == 1 && proc_exit_code(&l[0]) == 0 && l[0].done_recv == 1;
            want(&v, r0, "respondent on fd 1 did not answer the survey");
            int others_ok = 0;
            for (int i = 1; i < 3; i++)
                others_ok += proc_exit_code(&l[i]) == 0;
            want(&v, others_ok == 0, "%d of the respondents on fds 2-3 completed (measured: 0)", others_ok);
            want(&v, l[2].adds == 0 && l[2].hs_failed >= 1,
                 "respondent on fd 3: %d add, %d handshake-failed (measured: never a byte from NNG)",
                 l[2].adds, l[2].hs_failed);
            char d[256];
            snprintf(d, sizeof d,
                     "NNG: 1 pipe of 3 (all set_int returned 0); fd2: %d add/%d rem, exit %d; fd3: "
                     "NNG never wrote to it, no handshake",
                     l[1].adds, l[1].rems, proc_exit_code(&l[1]));
            if (v.bad) {
                record("socket", "multifd-nng-back-to-back", "spw->ref", "FAIL", v.why);
                for (int i = 0; i < 4; i++)
                    proc_dump(ps[i], "    ");
            } else {
                record("socket", "multifd-nng-back-to-back", "spw->ref", "KNOWN", d);
            }
        }
        for (int i = 0; i < 4; i++)
            proc_free(ps[i]);
    }
    /* spwire refuses what NNG accepts silently. */
    {
        struct proc s;
        struct proc *ps[1] = {&s};
        new_peer(&s, 1, "pull");
        proc_arg(&s, "--recv");
        proc_arg(&s, "--fd");
        proc_arg(&s, "9999");
        procs_run(ps, 1, 30000, NULL, 0);
        struct verdict v = {0};
        check_peer(&v, &s, "spwire", 1, 0, 0, NULL);
        want(&v, proc_has_error(&s, "endpoint", "EBADF"), "spwire did not refuse fd 9999 with EBADF");
        if (!v.bad)
            note(&v, "SPW_OPT_SOCKET_FD 9999 -> EBADF (NNG 1.10.1 returns 0)");
        finish_case(&v, ps, 1, "socket", "multifd-bogus-fd", "spwire");
        proc_free(&s);
    }
}

/* ----------------------------------------------------------------- creds */

/* Start one peer (argv built by p) in the child after setup; used by the
 * credential cases, where fork/exec order decides SO_PEERCRED. */
static void child_exec(struct proc *p, int fd, int outw, const char *errfile)
{
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    proc_arg(p, "--fd");
    proc_arg(p, "%s", num);
    spw_proc_opts o = {.keep = &fd, .nkeep = 1, .out = {SPW_PROC_FD, NULL, outw},
                       .err = {SPW_PROC_FILE, errfile, -1}};
    spw_proc_exec(&o, p->argv);
}

/* mode 0: AF_UNIX listen/accept (A) and connect (B): each side's
 *         SO_PEERCRED names the other process.
 * mode 1: A creates a socketpair and forks B with the other end: both
 *         sides' SO_PEERCRED name A, the creator. */
static void creds_case(int mode, int spw_is_a)
{
    struct proc a, b;
    struct proc *ps[2] = {&a, &b};
    new_peer(&a, spw_is_a, "pair0");
    new_peer(&b, !spw_is_a, "pair0");
    proc_arg(is_spw(&a) ? &a : &b, "--size");
    proc_arg(is_spw(&a) ? &a : &b, "16");
    proc_arg(is_spw(&a) ? &a : &b, "--wait-peers");
    proc_arg(is_spw(&a) ? &a : &b, "1");
    last_sender(is_spw(&a) ? &a : &b);
    proc_arg(is_spw(&a) ? &b : &a, "--recv");
    for (int i = 0; i < 2; i++) {
        proc_arg(ps[i], "--timeout");
        proc_arg(ps[i], OP_TIMEOUT);
    }
    int oa[2], ob[2], ctl[2];
    if (pipe(oa) || pipe(ob) || pipe(ctl))
        exit(2);
    for (int i = 0; i < 2; i++) {
        fcntl(oa[i], F_SETFD, FD_CLOEXEC);
        fcntl(ob[i], F_SETFD, FD_CLOEXEC);
        fcntl(ctl[i], F_SETFD, FD_CLOEXEC);
    }
    snprintf(a.errfile, sizeof a.errfile, "/tmp/spw-interop-creds-%d-a.err", (int)getpid());
    snprintf(b.errfile, sizeof b.errfile, "/tmp/spw-interop-creds-%d-b.err", (int)getpid());
    fflush(stdout);
    char name[108];
    snprintf(name, sizeof name, "spw-interop-%d-%d", (int)getpid(), mode * 2 + spw_is_a);
    struct sockaddr_un ua = {.sun_family = AF_UNIX};
    memcpy(ua.sun_path + 1, name, strlen(name)); /* abstract namespace */
    socklen_t ualen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    pid_t pa, pb = -1;
    if (mode == 0) {
        /* A: listens itself (SO_PEERCRED on the connecting side names the
         * process that called listen()), accepts one, execs with it. */
        pa = fork();
        if (pa == 0) {
            int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (ls < 0 || bind(ls, (struct sockaddr *)&ua, ualen) != 0 || listen(ls, 1) != 0)
                _exit(126);
            int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
            close(ls);
            child_exec(&a, fd, oa[1], a.errfile);
        }
        /* B: connects (retrying until A listens), execs with its end. */
        pb = fork();
        if (pb == 0) {
            for (int tries = 0; tries < 2000; tries++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&ua, ualen) == 0)
                    child_exec(&b, fd, ob[1], b.errfile);
                close(fd);
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
            }
            _exit(126);
        }
    } else {
        pa = fork();
        if (pa == 0) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                _exit(126);
            pid_t c = fork();
            if (c == 0) {
                close(sv[0]);
                child_exec(&b, sv[1], ob[1], b.errfile);
            }
            close(sv[1]);
            if (write(ctl[1], &c, sizeof c) != sizeof c)
                _exit(126);
            child_exec(&a, sv[0], oa[1], a.errfile);
        }
        close(ctl[1]);
        if (read(ctl[0], &pb, sizeof pb) != sizeof pb)
            pb = -1;
    }
    close(ctl[0]);
    if (mode == 0)
        close(ctl[1]);
    close(oa[1]);
    close(ob[1]);
    spw_proc_adopt(&a.sp, pa, 0);
    a.out_fd = oa[0];
    spw_proc_adopt(&b.sp, pb, 0);
    b.out_fd = ob[0];
    /* B is A's child in mode 1; as subreaper the driver reaps it. */
    procs_finish(ps, 2, CASE_DEADLINE_MS);

    struct verdict v = {0};
    check_peer(&v, &a, "A", 0, -1, -1, NULL);
    check_peer(&v, &b, "B", 0, -1, -1, NULL);
    want(&v, a.adds == 1 && b.adds == 1, "add events: A %d, B %d", a.adds, b.adds);
    long long uid = getuid(), gid = getgid();
    if (a.adds == 1 && b.adds == 1) {
        struct proc_add *ca = &a.add[0], *cb = &b.add[0];
        want(&v, ca->uid == uid && ca->gid == gid && cb->uid == uid && cb->gid == gid,
             "uid/gid: A sees %lld/%lld, B sees %lld/%lld, want %lld/%lld", ca->uid, ca->gid, cb->uid,
             cb->gid, uid, gid);
        if (mode == 0) {
            /* A accepted: it sees the connecting process B.  B connected:
             * it sees the process that called listen(), A. */
            want(&v, ca->pid == pb, "A (%s) sees peer pid %lld, B is %d", a.label, ca->pid, (int)pb);
            want(&v, cb->pid == pa, "B (%s) sees peer pid %lld, A is %d", b.label, cb->pid, (int)pa);
        } else {
            want(&v, cb->pid == pa, "B (%s) sees peer pid %lld, A (creator) is %d", b.label, cb->pid,
                 (int)pa);
            want(&v, ca->pid == pa, "A (%s) sees peer pid %lld, want its own pid %d (creator)", a.label,
                 ca->pid, (int)pa);
        }
        if (!v.bad)
            note(&v, "A=%s pid %d sees %lld; B=%s pid %d sees %lld; uid %lld gid %lld", a.label, (int)pa,
                 ca->pid, b.label, (int)pb, cb->pid, uid, gid);
    }
    char dir[48];
    snprintf(dir, sizeof dir, "A=%s", a.label);
    finish_case(&v, ps, 2, mode == 0 ? "unix-accept" : "socketpair-by-A", "creds", dir);
    proc_free(&a);
    proc_free(&b);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr, "usage: spw-interop --peers DIR --impl nng110|nng15|nanomsg "
                    "--suite matrix|stream|multifd|creds [--transport socket|tcp] "
                    "[--results FILE] [--workdir DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *suite = NULL, *transport = "tcp", *results = NULL, *workdir = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--peers") == 0)
            G.peers = argv[++i];
        else if (strcmp(argv[i], "--impl") == 0)
            G.impl = argv[++i];
        else if (strcmp(argv[i], "--suite") == 0)
            suite = argv[++i];
        else if (strcmp(argv[i], "--transport") == 0)
            transport = argv[++i];
        else if (strcmp(argv[i], "--results") == 0)
            results = argv[++i];
        else if (strcmp(argv[i], "--workdir") == 0)
            workdir = argv[++i];
        else
            usage();
    }
    if (!G.peers || !G.impl || !suite)
        usage();
    const char *bin = strcmp(G.impl, "nng110") == 0   ? "spw-nng110-peer"
                      : strcmp(G.impl, "nng15") == 0  ? "spw-nng15-peer"
                      : strcmp(G.impl, "nanomsg") == 0 ? "spw-nanomsg-peer"
                                                       : NULL;
    if (!bin)
        usage();
    snprintf(G.refbin, sizeof G.refbin, "%s/%s", G.peers, bin);
    snprintf(G.spwbin, sizeof G.spwbin, "%s/spw-peer", G.peers);
    if (access(G.refbin, X_OK) != 0 || access(G.spwbin, X_OK) != 0) {
        printf("spw-interop: reference peer %s or %s missing: the reference %s is not installed "
               "(see conformance/peers/README.md)\n",
               G.refbin, G.spwbin, G.impl);
        return 1;
    }
    if (results) {
        G.results = fopen(results, "w");
        if (!G.results) {
            perror(results);
            return 2;
        }
    }
    proc_set_workdir(workdir);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    printf("spw-interop: %s, suite %s, transport %s\n", G.impl, suite, transport);

    if (strcmp(suite, "matrix") == 0) {
        if (strcmp(transport, "socket") == 0) {
            if (strcmp(G.impl, "nng110") != 0) {
                printf("spw-interop: socket:// needs NNG >= 1.9 (nng110)\n");
                return 2;
            }
            suite_matrix(TR_SOCKET);
        } else {
            suite_matrix(TR_TCP_SPW_LISTEN);
            suite_matrix(TR_TCP_SPW_CONNECT);
        }
    } else if (strcmp(suite, "stream") == 0) {
        stream_case(1);
        stream_case(0);
    } else if (strcmp(suite, "multifd") == 0) {
        multifd_cases();
    } else if (strcmp(suite, "creds") == 0) {
        for (int mode = 0; mode <= 1; mode++)
            for (int spw_a = 1; spw_a >= 0; spw_a--)
                creds_case(mode, spw_a);
    } else {
        usage();
    }
    printf("spw-interop: reference versions seen: %s\n", G.versions[0] ? G.versions : "none");
    printf("spw-interop: %d passed, %d failed, %d known reference deviations, %d n/a\n", G.pass,
           G.fail, G.known, G.na);
    if (G.results)
        fclose(G.results);
    return G.fail ? 1 : 0;
}
