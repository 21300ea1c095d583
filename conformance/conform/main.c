/* spw-conform — command line. */
#include "conform.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spwire/proto.h"

#ifndef SPW_CONFORM_CASES_DIR
#define SPW_CONFORM_CASES_DIR "conformance/cases"
#endif


enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_HARNESS = 2, EXIT_NOMATCH = 3 };

static void usage(FILE *f)
{
    fprintf(f,
"usage: spw-conform [run] TARGET [OPTIONS]      run the conformance catalogue\n"
"       spw-conform fuzz TARGET [FUZZ OPTIONS]   black-box fuzzing (see --help there)\n"
"       spw-conform diff [DIFF OPTIONS]          differential replay of two targets\n"
"       spw-conform replay FILE TARGET           replay one fuzz reproducer\n"
"\n"
"Target (the implementation under test, IUT):\n"
"  --exec 'CMD ... {fd}'   spawn the IUT on one end of a socketpair (socket://),\n"
"                          one fresh process per case\n"
"  --connect tcp://H:P     the IUT listens; with --exec 'CMD ... {url}' it is\n"
"                          started per case (port 0: pick a free port), without\n"
"                          --exec one running IUT serves every case\n"
"  --listen tcp://H:P      with --exec 'CMD ... {url}': the IUT dials us\n"
"  --proto NAME            protocol the IUT speaks (required)\n"
"  Placeholders in CMD: {fd} {fds} {url} {proto} {recvmax} {behaviour}; {fds}\n"
"  is every fd of a case that hands the IUT several (comma-separated; cases\n"
"  with 'fds N' are skipped without it); {behaviour}\n"
"  expands to the spwire peer CLI flags that make the IUT echo (pair0, pair1,\n"
"  bus, rep, respondent), send (req, surveyor, pub, push) or receive (sub, pull).\n"
"  --recvmax N             the IUT's receive limit (default 1048576; 0: it has\n"
"                          none, as NNG's default: cases sized relative to the\n"
"                          limit are skipped, huge lengths judged as unlimited)\n"
"  --timeout MS            per-case observation window (default 1000)\n"
"  --grace MS              after a case's last event, how long the IUT is watched\n"
"                          for dying on its own before it is stopped (default 100)\n"
"  --kill-timeout MS       grace after SIGTERM before the IUT counts as hung (1000)\n"
"  --start-timeout MS      wait for the IUT to listen, dial or send its header\n"
"                          (default 5000)\n"
"  --iut-exit-ok S[,S...]  exit statuses that are the IUT's documented way to end\n"
"                          (a one-connection IUT); any other exit of its own during\n"
"                          a case is the outcome 'exited', death by a signal\n"
"                          'crashed': both FAIL every case\n"
"  An environment prefix works: --exec 'ASAN_OPTIONS=... my-iut {fd}'.\n"
"  Before the catalogue, one preflight connection checks that the IUT starts\n"
"  and answers a valid header (exit 2 with its output if not).\n"
"\n"
"Selection and output:\n"
"  --cases PATH            case file or directory (default %s)\n"
"  --include GLOB          run only matching case ids (repeatable)\n"
"  --exclude GLOB          leave matching case ids out (repeatable)\n"
"  --list                  print the selected cases and exit (dry run)\n"
"  --strict                NON-STRICT (a SHOULD not met) fails the gate\n"
"  --junit FILE            JUnit XML report\n"
"  --json FILE             JSON report\n"
"  --expect FILE           compare verdicts to 'case-id VERDICT' lines; any\n"
"                          difference (or a case missing there) fails\n"
"  --write-expect FILE     write the verdicts in that format\n"
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
"matched nothing.\n",
            SPW_CONFORM_CASES_DIR);
}

static int selected(const cf_case *c, char **inc, int ninc, char **exc, int nexc)
{
    int ok = ninc == 0;
    for (int i = 0; i < ninc; i++)
        ok |= cf_glob(inc[i], c->id);
    for (int i = 0; i < nexc; i++)
        if (cf_glob(exc[i], c->id))
            ok = 0;
    return ok;
}


/* How many fds the target can hand one IUT (cf_skip_reason). */
static int fd_slots(const cf_target *t)
{
    if (t->kind != CF_T_EXEC_FD)
        return 0;
    return strstr(t->exec, "{fds}") ? CF_MAX_CONNS : 1;
}

static int run_main(int argc, char **argv)
{
    cf_target t;
    cf_target_defaults(&t);
    const char *cases = SPW_CONFORM_CASES_DIR, *junit = NULL, *json = NULL, *expect = NULL,
               *write_expect = NULL, *keep = NULL;
    char **inc = calloc((size_t)argc, sizeof *inc), **exc = calloc((size_t)argc, sizeof *exc);
    int ninc = 0, nexc = 0, list = 0, quiet = 0, nsel = 0, code = EXIT_OK;
    long max_time = 300;
    int max_errors = 3;
    char err[1024];
    /* Everything below is released at `out`, whichever way the run ends. */
    cf_catalogue cat = {0};
    cf_expectations ex = {0};
    int *sel = NULL;
    cf_result *rs = NULL;
    char *logdir = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = cf_target_option(&t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform: %s\n", err);
            { code = EXIT_HARNESS; goto out; }
        }
        if (rc > 0)
            continue;
#define NEED()                                                                          \
    do {                                                                                \
        if (i + 1 >= argc) {                                                            \
            fprintf(stderr, "spw-conform: %s needs a value\n", a);                      \
            { code = EXIT_HARNESS; goto out; }                                                        \
        }                                                                               \
    } while (0)
        if (strcmp(a, "--cases") == 0) {
            NEED();
            cases = argv[++i];
        } else if (strcmp(a, "--include") == 0) {
            NEED();
            inc[ninc++] = argv[++i];
        } else if (strcmp(a, "--exclude") == 0) {
            NEED();
            exc[nexc++] = argv[++i];
        } else if (strcmp(a, "--junit") == 0) {
            NEED();
            junit = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            NEED();
            json = argv[++i];
        } else if (strcmp(a, "--expect") == 0) {
            NEED();
            expect = argv[++i];
        } else if (strcmp(a, "--write-expect") == 0) {
            NEED();
            write_expect = argv[++i];
        } else if (strcmp(a, "--keep-logs") == 0) {
            NEED();
            keep = argv[++i];
        } else if (strcmp(a, "--pcap") == 0) {
            NEED();
            t.pcap_dir = argv[++i];
        } else if (strcmp(a, "--max-time") == 0 || strcmp(a, "--max-errors") == 0) {
            NEED();
            unsigned long long v;
            if (cf_parse_num(argv[++i], 1, 86400, &v)) {
                fprintf(stderr, "spw-conform: %s: a whole number 1..86400 expected, not '%s'\n",
                        a, argv[i]);
                { code = EXIT_HARNESS; goto out; }
            }
            if (strcmp(a, "--max-time") == 0)
                max_time = (long)v;
            else
                max_errors = (int)v;
        } else if (strcmp(a, "--list") == 0)
            list = 1;
        else if (strcmp(a, "--strict") == 0)
            t.strict = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            t.verbose = 1;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            quiet = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            { code = EXIT_OK; goto out; }
        } else {
            fprintf(stderr, "spw-conform: unknown option '%s' (see --help)\n", a);
            { code = EXIT_HARNESS; goto out; }
        }
    }

    if (cf_load(&cat, cases, err, sizeof err)) {
        fprintf(stderr, "spw-conform: ERROR in the case catalogue: %s\n", err);
        { code = EXIT_HARNESS; goto out; }
    }
    if (t.recvmax == 0)
        cf_catalogue_no_limit(&cat);
    sel = calloc((size_t)cat.ncases + 1, sizeof *sel);
    for (int i = 0; i < cat.ncases; i++)
        if (selected(&cat.cases[i], inc, ninc, exc, nexc))
            sel[nsel++] = i;
    if (nsel == 0) {
        fprintf(stderr, "spw-conform: the include/exclude filter matched none of %d cases\n",
                cat.ncases);
        { code = EXIT_NOMATCH; goto out; }
    }
    if (list && !t.proto) {
        for (int k = 0; k < nsel; k++) {
            const cf_case *c = &cat.cases[sel[k]];
            printf("%-46s %-6s %s\n", c->id, cf_level_name(c->level), c->rule);
        }
        { code = EXIT_OK; goto out; }
    }
    if (cf_target_finish(&t, err, sizeof err)) {
        fprintf(stderr, "spw-conform: %s\n", err);
        { code = EXIT_HARNESS; goto out; }
    }
    if (expect) {
        char *txt = cf_read_file(expect, err, sizeof err);
        if (!txt) {
            fprintf(stderr, "spw-conform: %s\n", err);
            { code = EXIT_HARNESS; goto out; }
        }
        int rc = cf_expect_parse(&ex, expect, txt, err, sizeof err);
        free(txt);
        if (rc) {
            fprintf(stderr, "spw-conform: %s\n", err);
            { code = EXIT_HARNESS; goto out; }
        }
    }
    if (list) {
        char why[256];
        for (int k = 0; k < nsel; k++) {
            const cf_case *c = &cat.cases[sel[k]];
            const char *skip = cf_skip_reason(c, t.proto, fd_slots(&t), why, sizeof why);
            printf("%-46s %-6s %s\n", c->id, cf_level_name(c->level),
                   skip ? skip : c->rule);
        }
        { code = EXIT_OK; goto out; }
    }

    /* Every place a result goes is checked before the first case: a run
     * whose report cannot be written is a harness error, found up front. */
    if ((junit && cf_check_out_file("--junit", junit, err, sizeof err)) ||
        (json && cf_check_out_file("--json", json, err, sizeof err)) ||
        (write_expect && cf_check_out_file("--write-expect", write_expect, err, sizeof err)) ||
        (keep && cf_check_out_dir("--keep-logs", keep, err, sizeof err)) ||
        (t.pcap_dir && cf_check_out_dir("--pcap", t.pcap_dir, err, sizeof err))) {
        fprintf(stderr, "spw-conform: %s\n", err);
        { code = EXIT_HARNESS; goto out; }
    }
    if (keep) {
        t.log_dir = keep;
    } else {
        logdir = cf_make_logdir();
        if (!logdir) {
            fprintf(stderr, "spw-conform: cannot create a log directory in $TMPDIR: %s\n",
                    strerror(errno));
            { code = EXIT_HARNESS; goto out; }
        }
        t.log_dir = logdir;
    }
    signal(SIGPIPE, SIG_IGN);

    {
        long p0 = cf_now_ms();
        char perr[2048];
        if (cf_probe(&t, &t.retry_ms, perr, sizeof perr)) {
            fprintf(stderr, "spw-conform: preflight failed, no case was run: %s\n", perr);
            { code = EXIT_HARNESS; goto out; }
        }
        if (!quiet) {
            printf("spw-conform: preflight: the IUT answered a valid header (%ld ms)", cf_now_ms() - p0);
            if (cf_proto_requests(t.proto)) {
                if (t.retry_ms)
                    printf("; unanswered, it asks again by itself after %d ms", t.retry_ms);
                else
                    printf("; unanswered, it did not ask again within %d ms", 2 * t.timeout_ms);
            }
            printf("\n");
        }
    }

    rs = calloc((size_t)nsel, sizeof *rs);
    int cnt[6] = {0};
    long t0 = cf_now_ms();
    if (!quiet)
        printf("spw-conform: %d cases, IUT speaks %s, recvmax %llu%s, timeout %d ms, grace %d ms\n",
               nsel, spw_proto_name(t.proto), (unsigned long long)t.recvmax,
               t.recvmax ? "" : " (none)", t.timeout_ms, t.grace_ms);
    int errors_in_row = 0;
    const char *stop = NULL;
    char stopbuf[160];
    for (int k = 0; k < nsel; k++) {
        const cf_case *c = &cat.cases[sel[k]];
        cf_result *r = &rs[k];
        char why[256];
        const char *skip = cf_skip_reason(c, t.proto, fd_slots(&t), why, sizeof why);
        const char *error = NULL;
        if (!stop && cf_now_ms() - t0 > max_time * 1000) {
            snprintf(stopbuf, sizeof stopbuf, "not run: the run's time budget (--max-time %ld s) "
                     "was used up", max_time);
            stop = stopbuf;
        }
        if (!stop && errors_in_row >= max_errors) {
            snprintf(stopbuf, sizeof stopbuf, "not run: the run stopped after %d harness errors "
                     "in a row (--max-errors)", errors_in_row);
            stop = stopbuf;
        }
        if (stop && !skip)
            error = stop;
        else if (!skip && c->needs_requester && t.retry_ms > 0 && t.retry_ms < CF_MIN_RETRY_MS) {
            snprintf(why, sizeof why, "cannot be judged: the IUT asks again by itself after "
                     "%d ms, too soon to tell its timer from an answer taken (give it a retry "
                     "time of at least %d ms)", t.retry_ms, CF_MIN_RETRY_MS);
            error = why;
        }
        if (skip || error) {
            memset(r, 0, sizeof *r);
            r->c = c;
            r->verdict = skip ? CF_SKIP : CF_ERROR;
            r->outcome = -1;
            r->reason = strdup(skip ? skip : error);
        } else
            cf_run_case(&t, c, r);
        if (!stop)
            errors_in_row = r->verdict == CF_ERROR ? errors_in_row + 1
                            : r->verdict == CF_SKIP ? errors_in_row
                                                    : 0;
        cnt[r->verdict]++;
        int show = !quiet || r->verdict == CF_FAIL || r->verdict == CF_ERROR;
        if (show) {
            cf_report_console(stdout, r, t.verbose);
            fflush(stdout);
        }
    }
    printf("\nspw-conform: %d cases in %.1f s: %d PASS, %d NON-STRICT, %d INFORMATIONAL, "
           "%d FAIL, %d ERROR, %d SKIP\n",
           nsel, (double)(cf_now_ms() - t0) / 1000.0, cnt[CF_PASS], cnt[CF_NONSTRICT],
           cnt[CF_INFORMATIONAL], cnt[CF_FAIL], cnt[CF_ERROR], cnt[CF_SKIP]);

    if (stop)
        printf("spw-conform: %s\n", stop + strlen("not run: "));
    code = cnt[CF_FAIL] ? EXIT_FAILED : EXIT_OK;
    int report_failed = 0;
    char suite[160];
    snprintf(suite, sizeof suite, "spw-conform.%s", spw_proto_name(t.proto));
    if (junit && cf_report_junit(junit, rs, nsel, suite)) {
        fprintf(stderr, "spw-conform: cannot write %s: %s\n", junit, strerror(errno));
        report_failed = 1;
    }
    if (json && cf_report_json(json, rs, nsel, &t)) {
        fprintf(stderr, "spw-conform: cannot write %s: %s\n", json, strerror(errno));
        report_failed = 1;
    }
    if (write_expect) {
        FILE *f = fopen(write_expect, "w");
        int bad = !f;
        for (int k = 0; f && k < nsel; k++)
            fprintf(f, "%s %s\n", rs[k].c->id, cf_verdict_name(rs[k].verdict));
        if (f && (ferror(f) | fclose(f)))
            bad = 1;
        if (bad) {
            fprintf(stderr, "spw-conform: cannot write %s: %s\n", write_expect, strerror(errno));
            report_failed = 1;
        }
    }
    if (expect) {
        int diffs = 0;
        for (int k = 0; k < nsel; k++) {
            unsigned want = cf_expect_lookup(&ex, rs[k].c->id);
            if (!(want & (1u << rs[k].verdict))) {
                if (!diffs++)
                    printf("\nspw-conform: verdicts differ from %s:\n", expect);
                cf_buf names = {0};
                for (int v = 0; v <= CF_SKIP; v++)
                    if (want & (1u << v))
                        cf_buf_printf(&names, "%s%s", names.len ? "|" : "", cf_verdict_name(v));
                printf("  %-46s expected %-13s got %s\n", rs[k].c->id,
                       want ? (char *)names.p : "(no entry)", cf_verdict_name(rs[k].verdict));
                cf_buf_free(&names);
            }
        }
        if (diffs)
            printf("spw-conform: %d verdict%s differ from the expectations\n", diffs,
                   diffs == 1 ? "" : "s");
        else
            printf("spw-conform: every verdict matches %s\n", expect);
        /* a line with alternatives cannot catch a regression: say how many */
        int racy = 0;
        for (int k = 0; k < nsel; k++) {
            unsigned want = cf_expect_lookup(&ex, rs[k].c->id);
            if (want & (want - 1))
                printf("%s%s", racy++ ? ", " : "spw-conform: racy expectations (several "
                                               "verdicts accepted): ",
                       rs[k].c->id);
        }
        if (racy)
            printf(" (%d case%s)\n", racy, racy == 1 ? "" : "s");
        code = diffs ? EXIT_FAILED : EXIT_OK;
    }
    if (cnt[CF_ERROR] || report_failed)
        code = EXIT_HARNESS;
out:
    cf_expect_free(&ex);
    for (int k = 0; rs && k < nsel; k++)
        cf_result_free(&rs[k]);
    free(rs);
    free(sel);
    free(inc);
    free(exc);
    cf_catalogue_free(&cat);
    if (logdir)
        cf_remove_logdir(logdir);
    return code;
}

/* ------------------------------------------------------------ targets */

void cf_target_defaults(cf_target *t)
{
    memset(t, 0, sizeof *t);
    t->kind = -1;
    t->recvmax = 1048576;
    t->timeout_ms = 1000;
    t->kill_timeout_ms = 1000;
    t->start_timeout_ms = 5000;
    t->grace_ms = 100;
}

static int parse_url(cf_target *t, const char *a, const char *v, char *err, size_t errlen)
{
    if (t->url) {
        snprintf(err, errlen, "give one of --connect and --listen");
        return -1;
    }
    t->url = v;
    t->kind = strcmp(a, "connect") == 0 ? CF_T_CONNECT : CF_T_LISTEN;
    if (strncmp(v, "tcp://", 6) != 0) {
        snprintf(err, errlen, "%s: expected tcp://HOST:PORT", v);
        return -1;
    }
    const char *hp = v + 6;
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp ||
        (size_t)(colon - hp) >= sizeof t->host) {
        snprintf(err, errlen, "%s: expected tcp://HOST:PORT", v);
        return -1;
    }
    if (*hp == '[' && colon[-1] == ']')
        snprintf(t->host, sizeof t->host, "%.*s", (int)(colon - hp - 2), hp + 1);
    else
        snprintf(t->host, sizeof t->host, "%.*s", (int)(colon - hp), hp);
    unsigned long long port;
    if (cf_parse_num(colon + 1, 0, 65535, &port)) {
        snprintf(err, errlen, "%s: bad port", v);
        return -1;
    }
    t->port = (int)port;
    return 0;
}

static int parse_proto_option(cf_target *t, const char *v, char *err, size_t errlen)
{
    int id = spw_proto_by_name(v);
    if (id >= 0) {
        t->proto = (uint16_t)id;
        return 0;
    }
    int off = snprintf(err, errlen, "unknown protocol '%s' (one of:", v);
    for (int i = 0; i < SPW_PROTO_COUNT && off > 0 && (size_t)off < errlen; i++)
        off += snprintf(err + off, errlen - (size_t)off, " %s",
                        spw_proto_name((uint16_t)spw_proto_at(i)));
    if (off > 0 && (size_t)off < errlen)
        snprintf(err + off, errlen - (size_t)off, ")");
    return -1;
}

static int parse_exit_list(cf_target *t, const char *v, char *err, size_t errlen)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    t->nexit_ok = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned long long st;
        if (t->nexit_ok == (int)(sizeof t->exit_ok / sizeof t->exit_ok[0]) ||
            cf_parse_num(w, 0, 255, &st)) {
            snprintf(err, errlen, "--iut-exit-ok: up to 8 exit statuses 0..255, comma-separated, "
                     "not '%s'", v);
            return -1;
        }
        t->exit_ok[t->nexit_ok++] = (int)st;
    }
    if (t->nexit_ok == 0) {
        snprintf(err, errlen, "--iut-exit-ok needs exit statuses");
        return -1;
    }
    return 0;
}

/* 1 consumed, 0 not a target option, -1 error */
int cf_target_option(cf_target *t, const char *prefix, int argc, char **argv, int *i, char *err,
                     size_t errlen)
{
    const char *a = argv[*i];
    size_t pl = strlen(prefix);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, prefix, pl) != 0)
        return 0;
    const char *o = a + 2 + pl;
    /* the millisecond options: name, field */
    static const struct {
        const char *name;
        size_t off;
        unsigned long long min;
    } ms[] = {
        {"timeout", offsetof(cf_target, timeout_ms), 1},
        {"kill-timeout", offsetof(cf_target, kill_timeout_ms), 1},
        {"start-timeout", offsetof(cf_target, start_timeout_ms), 1},
        {"grace", offsetof(cf_target, grace_ms), 0},
    };
    static const char *const other[] = {"exec",    "connect",     "listen", "proto",
                                        "recvmax", "iut-exit-ok", NULL};
    int known = 0;
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
        known |= strcmp(o, ms[k].name) == 0;
    for (int k = 0; other[k]; k++)
        known |= strcmp(o, other[k]) == 0;
    if (!known)
        return 0;
    if (*i + 1 >= argc) {
        snprintf(err, errlen, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        if (strcmp(o, ms[k].name) != 0)
            continue;
        unsigned long long n;
        if (cf_parse_num(v, ms[k].min, 600000, &n)) {
            snprintf(err, errlen, "%s: milliseconds %llu..600000 expected, not '%s'", a, ms[k].min,
                     v);
            return -1;
        }
        *(int *)((char *)t + ms[k].off) = (int)n;
        return 1;
    }
    if (strcmp(o, "exec") == 0)
        t->exec = v;
    else if (strcmp(o, "connect") == 0 || strcmp(o, "listen") == 0)
        return parse_url(t, o, v, err, errlen) ? -1 : 1;
    else if (strcmp(o, "proto") == 0)
        return parse_proto_option(t, v, err, errlen) ? -1 : 1;
    else if (strcmp(o, "iut-exit-ok") == 0)
        return parse_exit_list(t, v, err, errlen) ? -1 : 1;
    else {
        unsigned long long u;
        if (cf_parse_num(v, 0, UINT64_MAX, &u)) {
            snprintf(err, errlen, "--recvmax: bad number '%s'", v);
            return -1;
        }
        t->recvmax = u;
    }
    return 1;
}

int cf_target_finish(cf_target *t, char *err, size_t errlen)
{
    if (!t->proto) {
        snprintf(err, errlen, "--proto is required (which protocol the IUT speaks)");
        return -1;
    }
    if (t->kind < 0) {
        if (!t->exec) {
            snprintf(err, errlen, "give a target: --exec 'CMD {fd}', --connect or --listen");
            return -1;
        }
        if (!strstr(t->exec, "{fd}") && !strstr(t->exec, "{fds}")) {
            snprintf(err, errlen,
                     "--exec without --connect/--listen needs {fd} or {fds} in the command");
            return -1;
        }
        t->kind = CF_T_EXEC_FD;
        return 0;
    }
    if (t->kind == CF_T_LISTEN && !t->exec) {
        snprintf(err, errlen, "--listen needs --exec 'CMD ... {url}' (the IUT that dials)");
        return -1;
    }
    if (t->exec && !strstr(t->exec, "{url}")) {
        snprintf(err, errlen, "--exec with --%s needs {url} in the command",
                 t->kind == CF_T_CONNECT ? "connect" : "listen");
        return -1;
    }
    t->shared = t->kind == CF_T_CONNECT && !t->exec;
    if (t->port == 0) {
        if (t->shared) {
            snprintf(err, errlen, "--connect without --exec needs the IUT's real port");
            return -1;
        }
        t->port = cf_free_port(t->host);
        if (t->port <= 0) {
            snprintf(err, errlen, "no free port on %s", t->host);
            return -1;
        }
    }
    return 0;
}

char *cf_make_logdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *d = malloc(512);
    if (!d)
        abort();
    snprintf(d, 512, "%s/spw-conform.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

void cf_remove_logdir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fuzz") == 0)
        return cf_fuzz_main(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "diff") == 0)
        return cf_diff_main(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "replay") == 0)
        return cf_replay_main(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run_main(argc - 2, argv + 2);
    return run_main(argc - 1, argv + 1);
}
