/* spw-conform — command line. */
#include "conform.h"

#include <dirent.h>
#include <errno.h>
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
"  --recvmax N             the IUT's receive limit (default 1048576)\n"
"  --timeout MS            per-case observation window (default 1000)\n"
"  --kill-timeout MS       grace after SIGTERM before the IUT counts as hung (1000)\n"
"  --start-timeout MS      wait for the IUT to listen or dial (default 5000)\n"
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
"  --pcap DIR              write DIR/CASE-ID.pcap per case: the bytes both ways\n"
"                          as synthesized TCP streams (tool 10.0.0.1, IUT\n"
"                          10.0.0.2:5555+K for fdK), for Wireshark or tcpdump\n"
"  -v, --verbose           details for every case;  -q, --quiet: failures only\n"
"\n"
"Exit status: 0 every gated case passed, 1 a conformance failure (or an\n"
"--expect mismatch), 2 harness error (bad usage, malformed case file, a case\n"
"that could not run: takes precedence over 1), 3 the filter matched nothing.\n",
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

    if (keep) {
        mkdir(keep, 0755);
        t.log_dir = keep;
    } else {
        logdir = cf_make_logdir();
        t.log_dir = logdir;
    }
    if (t.pcap_dir && mkdir(t.pcap_dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "spw-conform: --pcap %s: %s\n", t.pcap_dir, strerror(errno));
        { code = EXIT_HARNESS; goto out; }
    }
    signal(SIGPIPE, SIG_IGN);

    rs = calloc((size_t)nsel, sizeof *rs);
    int cnt[6] = {0};
    long t0 = cf_now_ms();
    if (!quiet)
        printf("spw-conform: %d cases, IUT speaks %s, recvmax %llu, timeout %d ms\n", nsel,
               spw_proto_name(t.proto), (unsigned long long)t.recvmax, t.timeout_ms);
    for (int k = 0; k < nsel; k++) {
        const cf_case *c = &cat.cases[sel[k]];
        cf_result *r = &rs[k];
        char why[256];
        const char *skip = cf_skip_reason(c, t.proto, fd_slots(&t), why, sizeof why);
        if (skip) {
            memset(r, 0, sizeof *r);
            r->c = c;
            r->verdict = CF_SKIP;
            r->outcome = -1;
            r->reason = strdup(skip);
        } else
            cf_run_case(&t, c, r);
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

    code = cnt[CF_ERROR] ? EXIT_HARNESS : cnt[CF_FAIL] ? EXIT_FAILED : EXIT_OK;
    char suite[160];
    snprintf(suite, sizeof suite, "spw-conform.%s", spw_proto_name(t.proto));
    if (junit && cf_report_junit(junit, rs, nsel, suite)) {
        fprintf(stderr, "spw-conform: cannot write %s\n", junit);
        code = EXIT_HARNESS;
    }
    if (json && cf_report_json(json, rs, nsel, &t)) {
        fprintf(stderr, "spw-conform: cannot write %s\n", json);
        code = EXIT_HARNESS;
    }
    if (write_expect) {
        FILE *f = fopen(write_expect, "w");
        if (!f) {
            fprintf(stderr, "spw-conform: cannot write %s\n", write_expect);
            code = EXIT_HARNESS;
        } else {
            for (int k = 0; k < nsel; k++)
                fprintf(f, "%s %s\n", rs[k].c->id, cf_verdict_name(rs[k].verdict));
            fclose(f);
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
        code = diffs ? EXIT_FAILED : EXIT_OK;
    }
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
    static const char *const opts[] = {"exec",        "connect",      "listen",       "proto",
                                       "recvmax",     "timeout",      "kill-timeout",
                                       "start-timeout", NULL};
    int k;
    for (k = 0; opts[k]; k++)
        if (strcmp(o, opts[k]) == 0)
            break;
    if (!opts[k])
        return 0;
    if (*i + 1 >= argc) {
        snprintf(err, errlen, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    char *end;
    long n;
    switch (k) {
    case 0:
        t->exec = v;
        break;
    case 1:
    case 2:
        if (t->url) {
            snprintf(err, errlen, "give one of --connect and --listen");
            return -1;
        }
        t->url = v;
        t->kind = k == 1 ? CF_T_CONNECT : CF_T_LISTEN;
        if (strncmp(v, "tcp://", 6) != 0) {
            snprintf(err, errlen, "%s: expected tcp://HOST:PORT", v);
            return -1;
        }
        {
            const char *hp = v + 6;
            const char *colon = strrchr(hp, ':');
            if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof t->host) {
                snprintf(err, errlen, "%s: expected tcp://HOST:PORT", v);
                return -1;
            }
            if (*hp == '[' && colon[-1] == ']')
                snprintf(t->host, sizeof t->host, "%.*s", (int)(colon - hp - 2), hp + 1);
            else
                snprintf(t->host, sizeof t->host, "%.*s", (int)(colon - hp), hp);
            n = strtol(colon + 1, &end, 10);
            if (*end || n < 0 || n > 65535) {
                snprintf(err, errlen, "%s: bad port", v);
                return -1;
            }
            t->port = (int)n;
        }
        break;
    case 3: {
        int id = spw_proto_by_name(v);
        if (id < 0) {
            snprintf(err, errlen, "unknown protocol '%s'", v);
            return -1;
        }
        t->proto = (uint16_t)id;
        break;
    }
    case 4: {
        errno = 0;
        unsigned long long u = strtoull(v, &end, 0);
        if (*end || errno || !*v) {
            snprintf(err, errlen, "--recvmax: bad number '%s'", v);
            return -1;
        }
        t->recvmax = u;
        break;
    }
    default:
        n = strtol(v, &end, 10);
        if (*end || n <= 0 || n > 600000) {
            snprintf(err, errlen, "%s: milliseconds 1..600000 expected", a);
            return -1;
        }
        if (k == 5)
            t->timeout_ms = (int)n;
        else if (k == 6)
            t->kill_timeout_ms = (int)n;
        else
            t->start_timeout_ms = (int)n;
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
