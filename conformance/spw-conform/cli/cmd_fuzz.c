/* spw-conform fuzz — black-box fuzzing at the speed of the wire.
 *
 * One IUT process serves many inputs when the target allows it (a
 * socket:// IUT taking connections over {ctl}, a TCP or ipc IUT that
 * listens or dials): a new connection per input, the observation ended as
 * soon as the outcome cannot change, the process restarted only after it
 * died or stopped answering. When it dies, the recent inputs are replayed
 * one by one in fresh processes to find the one responsible. Findings
 * (crash, exit, hang, leak) keep the IUT's output, how often they
 * reproduced, and a replay command with the environment the IUT ran with;
 * one defect seen under many inputs is one finding. --jobs runs N workers,
 * each with its own IUT. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalogue.h"
#include "clock.h"
#include "cli.h"
#include "datadir.h"
#include "fuzz_model.h"
#include "inputs.h"
#include "outcome.h"
#include "rawrun.h"
#include "runner.h"
#include "spw_proc.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "text.h"

/* The recent inputs replayed when a persistent IUT dies. */
#define RECENT 32
/* Distinct findings one worker keeps apart (the rest count as repeats). */
#define MAX_KINDS 256

/* The fuzz run's options. */
typedef struct fuzz_opts {
    cf_target t;
    long long iterations, max_findings, seed, seconds, confirm, jobs;
    int seed_given, fresh, stop_on_crash;
    const char *out, *cases, *self;
    cf_inputs seeds, dict;
} fuzz_opts;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(void)
{
    printf("usage: spw-conform fuzz TARGET [--time SECONDS] [--iterations N] [--jobs N]\n"
           "         [--seed S] [--corpus DIR]... [--dict FILE]... [--cases PATH] [--out DIR]\n"
           "         [--max-findings N] [--stop-on-crash] [--confirm N] [--fresh]\n"
           "         [--quiet MS] [--self PATH]\n"
           "Mutates byte streams (corpus files, dictionary tokens, the case scripts rendered\n"
           "for --proto; boundary values for every length, request id and hop count) and\n"
           "sends each on a new connection. One IUT process serves many inputs when the\n"
           "target allows it: --exec 'CMD ... {ctl}' (socket://: each connection arrives on\n"
           "the control socket {ctl}, conformance/peers/README.md), --connect URL with\n"
           "--exec 'CMD ... {url}', --listen URL; it is restarted only when it died or\n"
           "stopped answering. Inputs whose outcome the IUT visibly handled in a new way\n"
           "(a new behaviour signature) join the corpus, kept in DIR/corpus/.\n"
           "  --time SECONDS    stop after this long (default 60 when --iterations is not\n"
           "                    given; with both, the first limit reached ends the run)\n"
           "  --iterations N    inputs to try\n"
           "  --jobs N          N workers, each with its own IUT and seed S+i (default 1)\n"
           "  --seed S          random seed (default: a fresh one, printed)\n"
           "  --corpus DIR      seed inputs (repeatable); --dict FILE: AFL/libFuzzer\n"
           "                    dictionary tokens (repeatable)\n"
           "  --cases PATH      case scripts rendered as seeds (default DATA/cases;\n"
           "                    " CF_DATA_DIR_HELP ")\n"
           "  --data-dir DIR    spwire's data: the catalogue, and dictionaries (dict/)\n"
           "                    and seed corpora (corpus/) to name in --dict, --corpus\n"
           "  --out DIR         findings and corpus (default spw-conform-findings)\n"
           "  --max-findings N  stop after N distinct findings (default 10)\n"
           "  --stop-on-crash   stop at the first finding\n"
           "  --confirm N       replay a finding N times in fresh IUTs before saving it and\n"
           "                    record how often it reproduced (default 3)\n"
           "  --fresh           a new IUT process for every input (as a {fd} target always)\n"
           "  --quiet MS        end an input's observation after MS without a byte once\n"
           "                    the IUT sent its header (default 1; raise it for a remote\n"
           "                    IUT; 0: the whole window)\n"
           "  --self PATH       spw-conform as the saved replay commands name it\n"
           "TARGET: the options of a run (--exec/--connect/--listen, --proto, --recvmax,\n"
           "--grace, --kill-timeout, --iut-exit-ok); --timeout is the longest observation\n"
           "of one input, default 200 ms here, and --grace (how long a fresh IUT is watched\n"
           "for a late death) 20 ms; a finding's confirmation replays use the same.\n"
           "A finding is saved in DIR as KIND-HASH.bin (the input), KIND-HASH.txt (what\n"
           "happened, how often it reproduced, the command that replays it, with the\n"
           "environment the IUT ran with) and KIND-HASH.log (the IUT's output: a sanitizer\n"
           "report, a panic). A defect that dies in one place under many inputs is one\n"
           "finding with a count. Progress every 2 s; a summary at the end, also after\n"
           "SIGINT or SIGTERM.\n"
           "Exit status: 0 no finding, 1 findings, 2 harness error.\n");
}

/* -1 error (printed), 0 go on, 1 --help done */
static int parse_fuzz_args(fuzz_opts *o, int argc, char **argv)
{
    char err[512];
    for (int i = 0; i < argc; i++) {
        int rc = cf_target_option(&o->t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform fuzz: %s\n", err);
            return -1;
        }
        if (rc)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(a, "--fresh") == 0) {
            o->fresh = 1;
            continue;
        }
        if (strcmp(a, "--stop-on-crash") == 0) {
            o->stop_on_crash = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        static const struct {
            const char *name;
            size_t off;
            unsigned long long lo, hi;
        } nums[] = {
            {"--iterations", offsetof(fuzz_opts, iterations), 1, 1000000000000ULL},
            {"--max-findings", offsetof(fuzz_opts, max_findings), 1, 1000000},
            {"--seed", offsetof(fuzz_opts, seed), 0, LLONG_MAX},
            {"--time", offsetof(fuzz_opts, seconds), 1, 100000000},
            {"--confirm", offsetof(fuzz_opts, confirm), 1, 100},
            {"--jobs", offsetof(fuzz_opts, jobs), 1, 64},
        };
        int known = 0;
        for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !known; k++) {
            if (strcmp(a, nums[k].name) != 0)
                continue;
            known = 1;
            unsigned long long n;
            if (!v || cf_parse_num(v, nums[k].lo, nums[k].hi, &n)) {
                fprintf(stderr, "spw-conform fuzz: %s: a whole number %llu..%llu expected, not "
                        "'%s'\n", a, nums[k].lo, nums[k].hi, v ? v : "(nothing)");
                return -1;
            }
            *(long long *)((char *)o + nums[k].off) = (long long)n;
            if (strcmp(a, "--seed") == 0)
                o->seed_given = 1;
        }
        if (known) {
            i++;
            continue;
        }
        if (!v) {
            fprintf(stderr, "spw-conform fuzz: unknown option or missing value: %s\n", a);
            return -1;
        }
        unsigned long long q;
        if (strcmp(a, "--quiet") == 0) {
            if (cf_parse_num(v, 0, 60000, &q)) {
                fprintf(stderr, "spw-conform fuzz: --quiet: milliseconds 0..60000, not '%s'\n", v);
                return -1;
            }
            o->t.quiet_ms = (int)q;
        } else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--cases") == 0)
            o->cases = v;
        else if (strcmp(a, "--data-dir") == 0)
            cf_data_dir_set(v);
        else if (strcmp(a, "--self") == 0)
            o->self = v;
        else if (strcmp(a, "--corpus") == 0) {
            if (cf_inputs_add_corpus(&o->seeds, v))
                return -1;
        } else if (strcmp(a, "--dict") == 0) {
            if (cf_inputs_add_dict(&o->dict, v))
                return -1;
        } else {
            fprintf(stderr, "spw-conform fuzz: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        i++;
    }
    return 0;
}

/* ------------------------------------------------------------ findings */

static uint64_t fnv64(const void *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t k = 0; k < n; k++)
        h = (h ^ ((const uint8_t *)p)[k]) * 0x100000001b3ULL;
    return h;
}

/* What identifies a defect across inputs: the outcome and the first line
 * of the IUT's report that says where it died (a sanitizer's SUMMARY or
 * ERROR line, an assertion, a panic), digits and addresses removed. */
static uint64_t defect_key(int outcome, const char *log)
{
    static const char *const marks[] = {"SUMMARY:", "ERROR:", "Assertion", "panic", "Aborted",
                                        NULL};
    char norm[512];
    size_t n = 0;
    const char *line = NULL;
    for (int k = 0; marks[k] && !line && log; k++)
        line = strstr(log, marks[k]);
    /* the report's words only: an IUT's other output interleaved on the
     * same line (a peer's JSON events) and the numbers are not the defect */
    for (const char *p = line; p && *p && *p != '\n' && *p != '{' && n + 1 < sizeof norm; p++) {
        if (*p == '0' && p[1] == 'x') { /* an address */
            p += 2;
            while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
                p++;
            p--;
            continue;
        }
        if (*p >= '0' && *p <= '9')
            continue;
        norm[n++] = *p;
    }
    while (n && norm[n - 1] == ' ')
        n--;
    norm[n] = 0;
    return fnv64(norm, n) ^ (uint64_t)outcome;
}

/* The environment the IUT inherits that changes what it does under a
 * sanitizer or a loader: written into replay commands. */
static void env_prefix(cf_buf *b)
{
    static const char *const names[] = {"ASAN_OPTIONS",   "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                        "MSAN_OPTIONS",   "TSAN_OPTIONS",  "LD_LIBRARY_PATH",
                                        "LD_PRELOAD",     NULL};
    int any = 0;
    for (int k = 0; names[k]; k++) {
        const char *v = getenv(names[k]);
        if (!v)
            continue;
        cf_buf_printf(b, "%s%s=", any++ ? " " : "env ", names[k]);
        cf_shell_quote(b, v);
    }
    if (any)
        cf_buf_add(b, " ", 1);
}

typedef struct finding_kind {
    uint64_t key;
    char base[1024];
    long count;
} finding_kind;

/* A worker's state. */
typedef struct worker {
    const fuzz_opts *o;
    int job;
    cf_fuzz_model *model;
    cf_persist *persist;
    /* the last inputs, for finding which one killed a persistent IUT */
    cf_buf recent[RECENT];
    cf_send_plan recent_plan[RECENT];
    const char *recent_from[RECENT];
    int nrecent, recent_at;
    finding_kind kinds[MAX_KINDS];
    int nkinds;
    long long inputs, findings, repeats;
    long long harness_errors, busy_ms;
    int errors_in_row;
    long t0;
} worker;

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(p, 1, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    return bad ? -1 : 0;
}

/* Replay bytes in fresh IUTs n times; how often the outcome was again a
 * robustness one, and the first such run (for its log) in *first. */
static int confirm(const cf_target *t, const cf_buf *b, const cf_send_plan *plan, int n,
                   cf_raw_run *first)
{
    int hits = 0;
    memset(first, 0, sizeof *first);
    for (int k = 0; k < n && !stop_requested; k++) {
        cf_raw_run rr;
        cf_run_raw(t, b->p, b->len, plan, t->timeout_ms, &rr);
        if (!rr.harness_error && cf_outcome_is_robustness(rr.outcome)) {
            if (!hits++)
                *first = rr;
            else
                cf_raw_run_free(&rr);
        } else
            cf_raw_run_free(&rr);
    }
    return hits;
}

/* A defect already kept (same outcome, same first report line): count it
 * on that finding and return 1; 0 when it is new. Checked before any
 * replay, so a defect met at every input costs one lookup, not a bisection. */
static int known_defect(worker *w, int outcome, const char *log, const cf_buf *b, const char *from)
{
    uint64_t key = defect_key(outcome, log);
    for (int k = 0; k < w->nkinds; k++)
        if (w->kinds[k].key == key) {
            w->kinds[k].count++;
            w->repeats++;
            char note[1200];
            snprintf(note, sizeof note, "%s.txt", w->kinds[k].base);
            FILE *f = fopen(note, "a");
            if (f) {
                fprintf(f, "seen again: input %016llx from %s (%ld times in all)\n",
                        (unsigned long long)fnv64(b->p, b->len), from, w->kinds[k].count);
                fclose(f);
            }
            return 1;
        }
    return 0;
}

/* Keep a finding (or count a repeat of one already kept). rr is the run
 * that showed it; seq/nseq the inputs before it when no single input
 * reproduced (a state-dependent defect), else NULL. -1 when a file cannot
 * be written: the run must not go on losing findings. */
static int keep_finding(worker *w, const cf_buf *b, const cf_send_plan *plan, const char *from,
                        const cf_raw_run *rr, int reproduced, int tries, const cf_buf *seq,
                        int nseq)
{
    const fuzz_opts *o = w->o;
    uint64_t key = defect_key(rr->outcome, rr->log);
    const char *detail = rr->errmsg[0] ? rr->errmsg
                         : rr->outcome == CF_O_LEAKED
                             ? "the IUT kept the connection open after our FIN"
                             : "";
    if (known_defect(w, rr->outcome, rr->log, b, from))
        return 0;
    char base[1024], path[1100];
    snprintf(base, sizeof base, "%s/%s-%016llx", o->out, cf_outcome_name(rr->outcome),
             (unsigned long long)fnv64(b->p, b->len));
    cf_buf cmd = {0};
    env_prefix(&cmd);
    cf_buf_printf(&cmd, "%s replay %s.bin --split %d", o->self, base, plan->split);
    if (plan->reset_at >= 0)
        cf_buf_printf(&cmd, " --reset-at %ld", plan->reset_at);
    cf_target_args(&cmd, &o->t);
    int bad = 0;
    snprintf(path, sizeof path, "%s.bin", base);
    bad |= write_file(path, b->p, b->len);
    snprintf(path, sizeof path, "%s.log", base);
    if (rr->log)
        bad |= write_file(path, rr->log, strlen(rr->log));
    snprintf(path, sizeof path, "%s.txt", base);
    cf_buf txt = {0};
    cf_buf_printf(&txt, "finding: %s\nseed input: %s\ndetail: %s\n", cf_outcome_name(rr->outcome),
                  from, detail);
    if (seq)
        cf_buf_printf(&txt, "reproduced: no single input does in a fresh IUT (%d tried); the "
                      "%d inputs before the IUT died are in %s.seq-N.bin, oldest first: a "
                      "defect that needs the IUT's state\n", nseq, nseq, base);
    else
        cf_buf_printf(&txt, "reproduced: %d of %d replays in a fresh IUT\n", reproduced, tries);
    if (rr->log)
        cf_buf_printf(&txt, "IUT output: %s.log\n", base);
    else
        cf_buf_printf(&txt, "IUT output: none\n");
    cf_buf_printf(&txt, "replay: %s\n", (char *)cmd.p);
    bad |= write_file(path, txt.p, txt.len);
    for (int k = 0; seq && k < nseq; k++) {
        snprintf(path, sizeof path, "%s.seq-%02d.bin", base, k);
        bad |= write_file(path, seq[k].p, seq[k].len);
    }
    char job[16] = "";
    if (o->jobs > 1)
        snprintf(job, sizeof job, "[job %d] ", w->job);
    printf("%sFINDING %s (input %lld, from %s): %s\n  %s\n  replay: %s\n", job,
           cf_outcome_name(rr->outcome), w->inputs, from,
           detail, seq ? "no single input reproduces it: the sequence is saved"
                           : "see the .txt for how often it reproduced",
           (char *)cmd.p);
    fflush(stdout);
    cf_buf_free(&txt);
    cf_buf_free(&cmd);
    if (bad) {
        fprintf(stderr, "spw-conform fuzz: cannot write %s: %s\n", base, strerror(errno));
        return -1;
    }
    if (w->nkinds < MAX_KINDS) {
        finding_kind *fk = &w->kinds[w->nkinds++];
        fk->key = key;
        fk->count = 1;
        snprintf(fk->base, sizeof fk->base, "%s", base);
    }
    w->findings++;
    return 0;
}

/* A persistent IUT died or stopped answering after the current input:
 * replay the recent inputs (newest first) in fresh IUTs; the first that
 * reproduces is the finding; none: the sequence is saved. */
static int attribute(worker *w, const cf_raw_run *died, const cf_buf *current, const char *from)
{
    const cf_target *t = &w->o->t;
    if (known_defect(w, died->outcome, died->log, current, from))
        return 0;
    for (int back = 0; back < w->nrecent && !stop_requested; back++) {
        int i = (w->recent_at - 1 - back + RECENT) % RECENT;
        cf_raw_run first;
        int hits = confirm(t, &w->recent[i], &w->recent_plan[i], (int)w->o->confirm, &first);
        if (hits) {
            int rc = keep_finding(w, &w->recent[i], &w->recent_plan[i], w->recent_from[i], &first,
                                  hits, (int)w->o->confirm, NULL, 0);
            cf_raw_run_free(&first);
            return rc;
        }
    }
    cf_buf seq[RECENT];
    for (int k = 0; k < w->nrecent; k++)
        seq[k] = w->recent[(w->recent_at - w->nrecent + k + RECENT) % RECENT];
    const cf_buf *last = &seq[w->nrecent - 1];
    cf_send_plan whole = {0, -1};
    return keep_finding(w, last, &whole, "(a sequence)", died, 0, 0, seq, w->nrecent);
}

static void remember(worker *w, const cf_buf *b, const cf_send_plan *plan, const char *from)
{
    cf_buf *r = &w->recent[w->recent_at];
    r->len = 0;
    cf_buf_add(r, b->p, b->len);
    w->recent_plan[w->recent_at] = *plan;
    w->recent_from[w->recent_at] = from;
    w->recent_at = (w->recent_at + 1) % RECENT;
    if (w->nrecent < RECENT)
        w->nrecent++;
}

static void progress(const worker *w, const char *what)
{
    long ms = cf_now_ms() - w->t0;
    char job[16] = "";
    if (w->o->jobs > 1)
        snprintf(job, sizeof job, " [job %d]", w->job);
    printf("spw-conform fuzz%s: %s%lld inputs (%.0f/s), %lld finding%s (%lld repeat%s), corpus "
           "%d, %d behaviours, %ld IUT start%s, %.0f%% of the time waiting on the IUT\n",
           job, what, w->inputs, ms ? (double)w->inputs * 1000.0 / (double)ms : 0.0, w->findings,
           w->findings == 1 ? "" : "s", w->repeats, w->repeats == 1 ? "" : "s",
           cf_model_corpus_size(w->model), cf_model_behaviours(w->model),
           w->persist ? cf_persist_starts(w->persist) : (long)w->inputs,
           (w->persist ? cf_persist_starts(w->persist) : w->inputs) == 1 ? "" : "s",
           ms ? 100.0 * (double)w->busy_ms / (double)ms : 0.0);
    fflush(stdout);
}

/* A connection of an earlier input that the IUT did not let go: confirm
 * that input in fresh IUTs and keep it. */
static int leak_found(worker *w, const cf_buf *input, const cf_send_plan *plan)
{
    const fuzz_opts *o = w->o;
    if (known_defect(w, CF_O_LEAKED, NULL, input, "(an earlier input)"))
        return 0;
    cf_raw_run first;
    int hits = confirm(&o->t, input, plan, (int)o->confirm, &first);
    if (!hits) {
        /* the fresh IUT let it go: note it with what persistence saw */
        memset(&first, 0, sizeof first);
        first.outcome = CF_O_LEAKED;
        snprintf(first.errmsg, sizeof first.errmsg, "the persistent IUT kept this input's "
                 "connection after our FIN; a fresh IUT did not");
    }
    int rc = keep_finding(w, input, plan, "(an earlier input)", &first, hits, (int)o->confirm,
                          NULL, 0);
    cf_raw_run_free(&first);
    return rc;
}

/* One input: send, learn, judge. 0 go on; 1 stop (a limit, a write
 * failure, three harness errors in a row). */
static int one_input(worker *w, cf_buf *b)
{
    const fuzz_opts *o = w->o;
    const char *from;
    cf_model_next(w->model, b, &from);
    static const int splits[] = {0, 0, 0, 0, 0, 1, 3, 8};
    /* one input in eight ends with a reset at a point of the IUT's own
     * stream instead of a FIN: the peer vanishes while the IUT writes */
    static const long resets[] = {0, 1, 4, 8, 9, 12, 100, 4096, 65536};
    cf_send_plan plan = {splits[rand() % 8], -1};
    if (plan.split == 1 && b->len > 512)
        plan.split = 0;
    if (rand() % 8 == 0)
        plan.reset_at = resets[rand() % 9];
    remember(w, b, &plan, from);
    cf_raw_run rr;
    long t0 = cf_now_ms();
    if (w->persist)
        cf_persist_run(w->persist, b->p, b->len, &plan, o->t.timeout_ms, &rr);
    else
        cf_run_raw(&o->t, b->p, b->len, &plan, o->t.timeout_ms, &rr);
    w->busy_ms += cf_now_ms() - t0;
    w->inputs++;
    int stop = 0;
    if (rr.harness_error) {
        w->harness_errors++;
        fprintf(stderr, "spw-conform fuzz: harness error: %s\n", rr.errmsg);
        stop = ++w->errors_in_row >= 3;
        cf_raw_run_free(&rr);
        return stop;
    }
    w->errors_in_row = 0;
    if (rr.leaked_input.len && leak_found(w, &rr.leaked_input, &rr.leaked_plan))
        stop = 1;
    cf_behaviour bh = {.hs = rr.hs, .closed_by = rr.iut_closed ? 1 : 2, .reset = rr.iut_closed == 2,
                       .close_ms = rr.close_ms, .rx = rr.rx.p, .rx_len = rr.rx.len,
                       .outcome = rr.outcome, .stderr_new = rr.log};
    uint64_t sig;
    cf_model_feedback(w->model, b->p, b->len, &bh, &sig);
    if (cf_outcome_is_robustness(rr.outcome)) {
        long long before = w->findings;
        int rc;
        if (w->persist && rr.iut_ended)
            rc = attribute(w, &rr, b, from);
        else if (known_defect(w, rr.outcome, rr.log, b, from))
            rc = 0;
        else {
            cf_raw_run first;
            int hits = confirm(&o->t, b, &plan, (int)o->confirm, &first);
            rc = keep_finding(w, b, &plan, from, hits ? &first : &rr, hits, (int)o->confirm,
                              NULL, 0);
            if (hits)
                cf_raw_run_free(&first);
        }
        if (rc)
            stop = 1;
        if (w->findings > before && o->stop_on_crash)
            stop = 1;
        if (w->findings >= o->max_findings)
            stop = 1;
        w->nrecent = 0; /* what killed this IUT is dealt with */
    }
    cf_raw_run_free(&rr);
    return stop;
}

/* A worker's whole run. Returns the exit code. */
static int run_worker(const fuzz_opts *o, int job, uint64_t seed)
{
    worker *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->o = o;
    w->job = job;
    srand((unsigned)seed);
    w->model = cf_model_new(seed, o->t.recvmax, o->t.proto, &o->t.driver->framing);
    for (int i = 0; i < o->seeds.n; i++)
        cf_model_add_seed(w->model, o->seeds.v[i].name, o->seeds.v[i].bytes.p,
                          o->seeds.v[i].bytes.len);
    for (int i = 0; i < o->dict.n; i++)
        cf_model_add_token(w->model, o->dict.v[i].bytes.p, o->dict.v[i].bytes.len);
    char tag[32];
    snprintf(tag, sizeof tag, "iut-job%d", job);
    if (!o->fresh && cf_persist_possible(&o->t))
        w->persist = cf_persist_new(&o->t, tag);
    w->t0 = cf_now_ms();
    char jobs[24] = "";
    if (o->jobs > 1)
        snprintf(jobs, sizeof jobs, " [job %d]", job);
    printf("spw-conform fuzz%s: seed %llu, %d seeds, %d dictionary tokens, %s IUT\n", jobs,
           (unsigned long long)seed, o->seeds.n, o->dict.n,
           w->persist ? "a persistent" : "a fresh process per input: a");
    fflush(stdout);
    long next_report = w->t0 + 2000;
    cf_buf b = {0};
    for (;;) {
        if (stop_requested || (o->iterations && w->inputs >= o->iterations) ||
            (o->seconds && cf_now_ms() - w->t0 >= o->seconds * 1000))
            break;
        if (cf_now_ms() >= next_report) {
            next_report += 2000;
            progress(w, "");
        }
        if (one_input(w, &b))
            break;
    }
    cf_buf_free(&b);
    /* the last inputs' connections: a leak among them is still a finding */
    cf_buf leak;
    cf_send_plan leak_plan;
    while (w->persist && !stop_requested && cf_persist_drain(w->persist, &leak, &leak_plan)) {
        leak_found(w, &leak, &leak_plan);
        cf_buf_free(&leak);
    }
    char corpus[1100];
    snprintf(corpus, sizeof corpus, "%s/corpus", o->out);
    int save_rc = cf_model_save(w->model, corpus);
    if (save_rc)
        fprintf(stderr, "spw-conform fuzz: cannot save the corpus in %s: %s\n", corpus,
                strerror(errno));
    progress(w, stop_requested ? "interrupted: " : "done: ");
    cf_persist_free(w->persist);
    cf_model_free(w->model);
    for (int k = 0; k < RECENT; k++)
        cf_buf_free(&w->recent[k]);
    int code = w->errors_in_row >= 3 || save_rc ? 2 : w->findings ? 1 : 0;
    free(w);
    return code;
}

/* --jobs N: N worker processes (each its own IUT and seed); the worst exit
 * code wins (2 over 1 over 0). */
static int run_jobs(const fuzz_opts *o, uint64_t seed)
{
    spw_proc *kids = calloc((size_t)o->jobs, sizeof *kids);
    if (!kids)
        abort();
    for (int j = 0; j < o->jobs; j++) {
        int rc = spw_proc_fork(&kids[j], NULL);
        if (rc == 0) {
            fuzz_opts mine = *o;
            char logdir[1100];
            snprintf(logdir, sizeof logdir, "%s/job%d", o->t.log_dir, j);
            mkdir(logdir, 0700);
            mine.t.log_dir = logdir;
            char err[300];
            if (cf_target_for_job(&mine.t, j, err, sizeof err)) {
                fprintf(stderr, "spw-conform fuzz: %s\n", err);
                _exit(2);
            }
            _exit(run_worker(&mine, j, seed + (uint64_t)j));
        }
        if (rc < 0) {
            fprintf(stderr, "spw-conform fuzz: fork: %s\n", strerror(errno));
            kids[j].pid = -1;
        }
    }
    int code = 0;
    for (int j = 0; j < o->jobs; j++) {
        if (kids[j].pid < 0) {
            code = 2;
            continue;
        }
        while (!spw_proc_wait(&kids[j], 200))
            if (stop_requested)
                spw_proc_kill(&kids[j], SIGTERM); /* it prints its summary and ends */
        int c = spw_proc_exit_code(&kids[j]);
        if (c != 0 && c != 1)
            c = 2;
        if (c > code)
            code = c;
    }
    free(kids);
    return code;
}

int cf_cmd_fuzz(int argc, char **argv)
{
    fuzz_opts o = {.max_findings = 10, .confirm = 3, .jobs = 1,
                   .out = "spw-conform-findings",
                   .self = "spw-conform"};
    cf_target_defaults(&o.t);
    o.t.timeout_ms = 200; /* the longest observation of one input */
    o.t.quiet_ms = 1;     /* a local IUT answers within microseconds */
    o.t.grace_ms = 20;    /* a fresh IUT's late death: fuzzing trades some for speed */
    char err[512];
    int code = 2;
    char *logdir = NULL;
    int pa = parse_fuzz_args(&o, argc, argv);
    if (pa) {
        code = pa > 0 ? 0 : 2;
        goto done;
    }
    if (!o.iterations && !o.seconds)
        o.seconds = 60;
    if (cf_target_finish(&o.t, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    cf_target probe = o.t;
    if (o.jobs > 1 && cf_target_for_job(&probe, 0, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    char cases[4096];
    if (cf_data_cases(&o.cases, cases, sizeof cases, "spw-conform fuzz"))
        goto done;
    if (cf_inputs_add_cases(&o.seeds, o.cases, &o.t))
        goto done;
    uint8_t hs[8];
    spw_handshake_encode(hs, (uint16_t)spw_proto_peer(o.t.proto));
    cf_inputs_add(&o.seeds, "handshake", hs, 8);
    if (!o.seed_given)
        o.seed = (long long)(((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid()) &
                             0x7fffffffffffULL);
    if (cf_check_out_dir("--out", o.out, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    logdir = cf_make_logdir();
    if (!logdir) {
        fprintf(stderr, "spw-conform fuzz: cannot create a log directory in $TMPDIR: %s\n",
                strerror(errno));
        goto done;
    }
    o.t.log_dir = logdir;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("spw-conform fuzz: seed %lld%s (--seed %lld repeats this run), %s over %s\n", o.seed,
           o.seed_given ? "" : " (fresh)", o.seed, spw_proto_name(o.t.proto),
           o.t.driver->scheme);
    fflush(stdout);
    code = o.jobs > 1 ? run_jobs(&o, (uint64_t)o.seed) : run_worker(&o, 0, (uint64_t)o.seed);
done:
    if (logdir)
        cf_remove_logdir(logdir);
    cf_inputs_free(&o.seeds);
    cf_inputs_free(&o.dict);
    return code;
}
