/* spw-conform run — the conformance gate: the catalogue's cases against one
 * IUT, verdicts on the console, in reports, compared with or written to an
 * expectation file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "clock.h"
#include "cli.h"
#include "datadir.h"
#include "expect.h"
#include "judge.h"
#include "report.h"
#include "runner.h"
#include "spwire/proto.h"
#include "text.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: spw-conform [run] TARGET [OPTIONS]      run the conformance catalogue\n"
"       spw-conform --version                    print 'spw-conform VERSION'\n"
"       spw-conform fuzz TARGET [FUZZ OPTIONS]   black-box fuzzing (see --help there)\n"
"       spw-conform diff [DIFF OPTIONS]          differential replay of two targets\n"
"       spw-conform replay FILE TARGET           replay one fuzz reproducer\n"
"\n");
    cf_target_usage(f);
    fprintf(f,
"  Before the catalogue, one preflight connection checks that the IUT starts\n"
"  and answers a valid header (exit 2 with its output if not).\n"
"\n"
"Selection and output:\n"
"  --cases PATH            case file or directory (default DATA/cases)\n"
"  --data-dir DIR          spwire's data (the catalogue, expectations,\n"
"                          dictionaries, seed corpora); " CF_DATA_DIR_HELP "\n"
"  --include GLOB          run only matching case ids (repeatable)\n"
"  --exclude GLOB          leave matching case ids out (repeatable)\n"
"  --list                  print the selected cases and exit (dry run)\n"
"  --strict                NON-STRICT (a SHOULD not met) fails the gate\n"
"  --junit FILE            JUnit XML report\n"
"  --json FILE             JSON report\n"
"  --expect FILE           compare verdicts to 'case-id VERDICT' lines; any\n"
"                          difference (or a case missing there) fails\n"
"  --write-expect FILE     write the verdicts in that format (a new file)\n"
"  --update-expect FILE    merge the verdicts into FILE: a line that already\n"
"                          accepts the verdict stays (racing alternatives A|B\n"
"                          kept), other lines of the cases run are replaced,\n"
"                          new cases added, the rest kept; says what changed\n"
"  --keep-logs DIR         keep the IUT's output per case in DIR\n"
"  --max-time S            start no case after S seconds (default 300): the cases\n"
"                          not run are ERRORs, so the run exits 2\n"
"  --max-errors N          stop after N harness ERRORs in a row (default 3)\n"
"  --pcap DIR              write DIR/CASE-ID.pcap per case: the bytes both ways\n"
"                          as synthesized TCP streams (tool 10.0.0.1, IUT\n"
"                          10.0.0.2:5555+K for fdK), for Wireshark or tcpdump\n"
"  -v, --verbose           details for every case;  -q, --quiet: failures only\n"
"\n"
"Report paths and directories are checked before the first case.\n"
"\n"
"Exit status: 0 every gated case passed, 1 a conformance failure (or an\n"
"--expect mismatch), 2 harness error (bad usage, malformed case file, an IUT\n"
"that fails the preflight, a case that could not run, a report that could\n"
"not be written: takes precedence over 1, also with --expect), 3 the filter\n"
"matched nothing.\n");
}

/* The run's options besides the target's. */
typedef struct run_opts {
    cf_target t;
    const char *cases, *junit, *json, *expect, *write_expect, *update_expect, *keep;
    char **inc, **exc;
    int ninc, nexc, list, quiet;
    long max_time;
    int max_errors;
} run_opts;

/* -1 error (printed), 0 go on, 1 --help done */
static int parse_args(run_opts *o, int argc, char **argv)
{
    char err[1024];
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = cf_target_option(&o->t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform: %s\n", err);
            return -1;
        }
        if (rc > 0)
            continue;
        static const char *const valued[] = {"--cases",  "--data-dir", "--include",       "--exclude",
                                             "--junit",  "--json",          "--expect",
                                             "--write-expect", "--update-expect", "--keep-logs",
                                             "--pcap",   "--max-time",      "--max-errors",
                                             NULL};
        int takes = 0;
        for (int k = 0; valued[k]; k++)
            takes |= strcmp(a, valued[k]) == 0;
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "spw-conform: %s needs a value\n", a);
            return -1;
        }
        const char *v = takes ? argv[++i] : NULL;
        if (strcmp(a, "--cases") == 0)
            o->cases = v;
        else if (strcmp(a, "--data-dir") == 0)
            cf_data_dir_set(v);
        else if (strcmp(a, "--include") == 0)
            o->inc[o->ninc++] = argv[i];
        else if (strcmp(a, "--exclude") == 0)
            o->exc[o->nexc++] = argv[i];
        else if (strcmp(a, "--junit") == 0)
            o->junit = v;
        else if (strcmp(a, "--json") == 0)
            o->json = v;
        else if (strcmp(a, "--expect") == 0)
            o->expect = v;
        else if (strcmp(a, "--write-expect") == 0)
            o->write_expect = v;
        else if (strcmp(a, "--update-expect") == 0)
            o->update_expect = v;
        else if (strcmp(a, "--keep-logs") == 0)
            o->keep = v;
        else if (strcmp(a, "--pcap") == 0)
            o->t.pcap_dir = v;
        else if (strcmp(a, "--max-time") == 0 || strcmp(a, "--max-errors") == 0) {
            unsigned long long n;
            if (cf_parse_num(v, 1, 86400, &n)) {
                fprintf(stderr, "spw-conform: %s: a whole number 1..86400 expected, not '%s'\n",
                        a, v);
                return -1;
            }
            if (strcmp(a, "--max-time") == 0)
                o->max_time = (long)n;
            else
                o->max_errors = (int)n;
        } else if (strcmp(a, "--list") == 0)
            o->list = 1;
        else if (strcmp(a, "--strict") == 0)
            o->t.strict = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            o->t.verbose = 1;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            o->quiet = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "spw-conform: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (o->write_expect && o->update_expect) {
        fprintf(stderr, "spw-conform: give one of --write-expect and --update-expect\n");
        return -1;
    }
    return 0;
}

static int selected(const run_opts *o, const cf_case *c)
{
    int ok = o->ninc == 0;
    for (int i = 0; i < o->ninc; i++)
        ok |= cf_glob(o->inc[i], c->id);
    for (int i = 0; i < o->nexc; i++)
        if (cf_glob(o->exc[i], c->id))
            ok = 0;
    return ok;
}

static void offer_of(const cf_target *t, cf_offer *of)
{
    of->proto = t->proto;
    of->transport = t->driver ? t->driver->transport : CF_TR_SOCKET;
    of->fd_slots = cf_target_fd_slots(t);
}

/* Every place a result goes, checked before the first case: a run whose
 * report cannot be written is a harness error, found up front. */
static int check_outputs(const run_opts *o, char *err, size_t errlen)
{
    return (o->junit && cf_check_out_file("--junit", o->junit, err, errlen)) ||
           (o->json && cf_check_out_file("--json", o->json, err, errlen)) ||
           (o->write_expect &&
            cf_check_out_file("--write-expect", o->write_expect, err, errlen)) ||
           (o->update_expect &&
            cf_check_out_file("--update-expect", o->update_expect, err, errlen)) ||
           (o->keep && cf_check_out_dir("--keep-logs", o->keep, err, errlen)) ||
           (o->t.pcap_dir && cf_check_out_dir("--pcap", o->t.pcap_dir, err, errlen));
}

static int preflight(cf_target *t, int quiet)
{
    long p0 = cf_now_ms();
    char perr[2048];
    if (cf_probe(t, &t->retry_ms, perr, sizeof perr)) {
        fprintf(stderr, "spw-conform: preflight failed, no case was run: %s\n", perr);
        return -1;
    }
    if (quiet)
        return 0;
    printf("spw-conform: preflight: the IUT answered a valid header (%ld ms)", cf_now_ms() - p0);
    if (spw_proto_has(t->proto, SPW_PF_REQUESTS)) {
        if (t->retry_ms)
            printf("; unanswered, it asks again by itself after %d ms", t->retry_ms);
        else
            printf("; unanswered, it did not ask again within %d ms", 2 * t->timeout_ms);
    }
    printf("\n");
    return 0;
}

/* Run the selected cases in order; cnt gets the verdict counts. Returns
 * the reason the run stopped early (static text), or NULL. */
static const char *run_cases(const run_opts *o, const cf_catalogue *cat, const int *sel, int nsel,
                             cf_result *rs, int *cnt)
{
    static char stopbuf[160];
    const char *stop = NULL;
    const cf_target *t = &o->t;
    cf_offer of;
    offer_of(t, &of);
    long t0 = cf_now_ms();
    int errors_in_row = 0;
    for (int k = 0; k < nsel; k++) {
        const cf_case *c = &cat->cases[sel[k]];
        cf_result *r = &rs[k];
        char why[256];
        const char *skip = cf_skip_reason(c, &of, why, sizeof why);
        const char *error = NULL;
        if (!stop && cf_now_ms() - t0 > o->max_time * 1000) {
            snprintf(stopbuf, sizeof stopbuf, "not run: the run's time budget (--max-time %ld s) "
                     "was used up", o->max_time);
            stop = stopbuf;
        }
        if (!stop && errors_in_row >= o->max_errors) {
            snprintf(stopbuf, sizeof stopbuf, "not run: the run stopped after %d harness errors "
                     "in a row (--max-errors)", errors_in_row);
            stop = stopbuf;
        }
        if (stop && !skip)
            error = stop;
        else if (!skip && c->needs_requester && t->retry_ms > 0 && t->retry_ms < CF_MIN_RETRY_MS) {
            snprintf(why, sizeof why, "cannot be judged: the IUT asks again by itself after "
                     "%d ms, too soon to tell its timer from an answer taken (give it a retry "
                     "time of at least %d ms)", t->retry_ms, CF_MIN_RETRY_MS);
            error = why;
        }
        if (skip || error)
            cf_result_not_run(r, c, skip ? CF_SKIP : CF_ERROR, skip ? skip : error);
        else
            cf_run_case(t, c, r);
        if (!stop)
            errors_in_row = r->verdict == CF_ERROR ? errors_in_row + 1
                            : r->verdict == CF_SKIP ? errors_in_row
                                                    : 0;
        cnt[r->verdict]++;
        if (!o->quiet || r->verdict == CF_FAIL || r->verdict == CF_ERROR) {
            cf_report_console(stdout, r, t->verbose);
            fflush(stdout);
        }
    }
    printf("\nspw-conform: %d cases in %.1f s: %d PASS, %d NON-STRICT, %d INFORMATIONAL, "
           "%d FAIL, %d ERROR, %d SKIP\n",
           nsel, (double)(cf_now_ms() - t0) / 1000.0, cnt[CF_PASS], cnt[CF_NONSTRICT],
           cnt[CF_INFORMATIONAL], cnt[CF_FAIL], cnt[CF_ERROR], cnt[CF_SKIP]);
    if (stop)
        printf("spw-conform: %s\n", stop + strlen("not run: "));
    return stop;
}

static int write_text(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "w");
    int bad = !f || fwrite(p, 1, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    return bad ? -1 : 0;
}

/* --write-expect / --update-expect. 0 ok; -1 (printed) when the file
 * cannot be read or written. */
static int record_verdicts(const run_opts *o, const cf_result *rs, int nsel)
{
    const char *path = o->write_expect ? o->write_expect : o->update_expect;
    char err[512];
    char *old = NULL;
    if (o->update_expect) {
        /* the old file must parse: a merge must not spread a broken one */
        cf_expectations x;
        if (cf_expect_load(&x, path, 1, err, sizeof err)) {
            fprintf(stderr, "spw-conform: --update-expect: %s\n", err);
            return -1;
        }
        cf_expect_free(&x);
        old = cf_read_file(path, err, sizeof err); /* NULL: a new file */
    }
    const char **ids = calloc((size_t)nsel + 1, sizeof *ids);
    int *verdicts = calloc((size_t)nsel + 1, sizeof *verdicts);
    if (!ids || !verdicts)
        abort();
    for (int k = 0; k < nsel; k++) {
        ids[k] = rs[k].c->id;
        verdicts[k] = rs[k].verdict;
    }
    cf_buf text = {0};
    int changed = cf_expect_merge(old, ids, verdicts, nsel, &text);
    int rc = write_text(path, text.p, text.len);
    if (rc)
        fprintf(stderr, "spw-conform: cannot write %s: %s\n", path, strerror(errno));
    else if (o->update_expect)
        printf("spw-conform: %s: %d line%s changed or added\n", path, changed,
               changed == 1 ? "" : "s");
    cf_buf_free(&text);
    free(old);
    free(ids);
    free(verdicts);
    return rc;
}

/* --expect: 0 every verdict accepted, 1 a difference. */
static int compare_expectations(const run_opts *o, const cf_expectations *ex, const cf_result *rs,
                                int nsel)
{
    int diffs = 0, racy = 0;
    for (int k = 0; k < nsel; k++) {
        unsigned want = cf_expect_lookup(ex, rs[k].c->id);
        if (want & (1u << rs[k].verdict))
            continue;
        if (!diffs++)
            printf("\nspw-conform: verdicts differ from %s:\n", o->expect);
        cf_buf names = {0};
        cf_expect_names(&names, want);
        printf("  %-46s expected %-13s got %s\n", rs[k].c->id,
               want ? (char *)names.p : "(no entry)", cf_verdict_name(rs[k].verdict));
        cf_buf_free(&names);
    }
    if (diffs)
        printf("spw-conform: %d verdict%s differ from the expectations\n", diffs,
               diffs == 1 ? "" : "s");
    else
        printf("spw-conform: every verdict matches %s\n", o->expect);
    /* a line with alternatives cannot catch a regression: say how many */
    for (int k = 0; k < nsel; k++) {
        unsigned want = cf_expect_lookup(ex, rs[k].c->id);
        if (want & (want - 1))
            printf("%s%s", racy++ ? ", " : "spw-conform: racy expectations (several "
                                           "verdicts accepted): ",
                   rs[k].c->id);
    }
    if (racy)
        printf(" (%d case%s)\n", racy, racy == 1 ? "" : "s");
    return diffs ? 1 : 0;
}

/* Reports after the run. Returns the exit code. */
static int finish_run(const run_opts *o, const cf_expectations *ex, const cf_result *rs,
                      int nsel, const int *cnt)
{
    int code = cnt[CF_FAIL] ? CF_EXIT_FAILED : CF_EXIT_OK;
    int report_failed = 0;
    char suite[160];
    snprintf(suite, sizeof suite, "spw-conform.%s", spw_proto_name(o->t.proto));
    if (o->junit && cf_report_junit(o->junit, rs, nsel, suite)) {
        fprintf(stderr, "spw-conform: cannot write %s: %s\n", o->junit, strerror(errno));
        report_failed = 1;
    }
    if (o->json && cf_report_json(o->json, rs, nsel, &o->t)) {
        fprintf(stderr, "spw-conform: cannot write %s: %s\n", o->json, strerror(errno));
        report_failed = 1;
    }
    if ((o->write_expect || o->update_expect) && record_verdicts(o, rs, nsel))
        report_failed = 1;
    if (o->expect)
        code = compare_expectations(o, ex, rs, nsel) ? CF_EXIT_FAILED : CF_EXIT_OK;
    if (cnt[CF_ERROR] || report_failed)
        code = CF_EXIT_HARNESS;
    return code;
}

int cf_cmd_run(int argc, char **argv)
{
    run_opts o = {.max_time = 300, .max_errors = 3};
    cf_target_defaults(&o.t);
    o.inc = calloc((size_t)argc + 1, sizeof *o.inc);
    o.exc = calloc((size_t)argc + 1, sizeof *o.exc);
    int nsel = 0, code = CF_EXIT_HARNESS;
    char err[1024];
    /* Everything below is released at `out`, whichever way the run ends. */
    cf_catalogue cat = {0};
    cf_expectations ex = {0};
    int *sel = NULL;
    cf_result *rs = NULL;
    char *logdir = NULL;
    if (!o.inc || !o.exc)
        abort();
    int pa = parse_args(&o, argc, argv);
    if (pa) {
        code = pa > 0 ? CF_EXIT_OK : CF_EXIT_HARNESS;
        goto out;
    }
    char cases[4096];
    if (cf_data_cases(&o.cases, cases, sizeof cases, "spw-conform"))
        goto out;
    if (cf_load(&cat, o.cases, err, sizeof err)) {
        fprintf(stderr, "spw-conform: ERROR in the case catalogue: %s\n", err);
        goto out;
    }
    if (o.t.recvmax == 0)
        cf_catalogue_no_limit(&cat);
    sel = calloc((size_t)cat.ncases + 1, sizeof *sel);
    if (!sel)
        abort();
    for (int i = 0; i < cat.ncases; i++)
        if (selected(&o, &cat.cases[i]))
            sel[nsel++] = i;
    if (nsel == 0) {
        fprintf(stderr, "spw-conform: the include/exclude filter matched none of %d cases\n",
                cat.ncases);
        code = CF_EXIT_NOMATCH;
        goto out;
    }
    if (o.list && !o.t.proto) {
        for (int k = 0; k < nsel; k++) {
            const cf_case *c = &cat.cases[sel[k]];
            printf("%-46s %-6s %s\n", c->id, cf_level_name(c->level), c->rule);
        }
        code = CF_EXIT_OK;
        goto out;
    }
    if (cf_target_finish(&o.t, err, sizeof err)) {
        fprintf(stderr, "spw-conform: %s\n", err);
        goto out;
    }
    if (o.expect && cf_expect_load(&ex, o.expect, 0, err, sizeof err)) {
        fprintf(stderr, "spw-conform: %s\n", err);
        goto out;
    }
    if (o.list) {
        cf_offer of;
        offer_of(&o.t, &of);
        char why[256];
        for (int k = 0; k < nsel; k++) {
            const cf_case *c = &cat.cases[sel[k]];
            const char *skip = cf_skip_reason(c, &of, why, sizeof why);
            printf("%-46s %-6s %s\n", c->id, cf_level_name(c->level), skip ? skip : c->rule);
        }
        code = CF_EXIT_OK;
        goto out;
    }
    if (check_outputs(&o, err, sizeof err)) {
        fprintf(stderr, "spw-conform: %s\n", err);
        goto out;
    }
    if (o.keep) {
        o.t.log_dir = o.keep;
    } else {
        logdir = cf_make_logdir();
        if (!logdir) {
            fprintf(stderr, "spw-conform: cannot create a log directory in $TMPDIR: %s\n",
                    strerror(errno));
            goto out;
        }
        o.t.log_dir = logdir;
    }
    signal(SIGPIPE, SIG_IGN);
    if (preflight(&o.t, o.quiet))
        goto out;
    rs = calloc((size_t)nsel, sizeof *rs);
    if (!rs)
        abort();
    int cnt[CF_VERDICT_COUNT] = {0};
    if (!o.quiet)
        printf("spw-conform: %d cases, IUT speaks %s over %s, recvmax %llu%s, timeout %d ms, "
               "grace %d ms\n",
               nsel, spw_proto_name(o.t.proto), o.t.driver->scheme,
               (unsigned long long)o.t.recvmax, o.t.recvmax ? "" : " (none)", o.t.timeout_ms,
               o.t.grace_ms);
    run_cases(&o, &cat, sel, nsel, rs, cnt);
    code = finish_run(&o, &ex, rs, nsel, cnt);
out:
    cf_expect_free(&ex);
    for (int k = 0; rs && k < nsel; k++)
        cf_result_free(&rs[k]);
    free(rs);
    free(sel);
    free(o.inc);
    free(o.exc);
    cf_catalogue_free(&cat);
    if (logdir)
        cf_remove_logdir(logdir);
    return code;
}
