/* spw-conform diff — differential replay: the same inputs to two
 * implementations, the inputs where they disagree listed and kept. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue.h"
#include "clock.h"
#include "cli.h"
#include "datadir.h"
#include "inputs.h"
#include "outcome.h"
#include "rawrun.h"
#include "runner.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "text.h"

static void describe(char *buf, size_t len, const cf_raw_run *r)
{
    if (r->harness_error)
        snprintf(buf, len, "ERROR (%s)", r->errmsg);
    else
        snprintf(buf, len, "%s, %d frame%s back", cf_outcome_name(r->outcome), r->nframes,
                 r->nframes == 1 ? "" : "s");
}

int cf_cmd_diff(int argc, char **argv)
{
    cf_target ta, tb;
    cf_target_defaults(&ta);
    cf_target_defaults(&tb);
    ta.timeout_ms = tb.timeout_ms = 300;
    cf_inputs in = {0};
    const char *cases = NULL, *out = NULL;
    int use_cases = 1, split = 0;
    char err[512];
    for (int i = 0; i < argc; i++) {
        int j = i;
        int rc = cf_target_option(&ta, "a-", argc, argv, &i, err, sizeof err);
        if (!rc)
            rc = cf_target_option(&tb, "b-", argc, argv, &i, err, sizeof err);
        if (!rc) {
            rc = cf_target_option(&ta, "", argc, argv, &i, err, sizeof err);
            if (rc > 0) {
                i = j;
                rc = cf_target_option(&tb, "", argc, argv, &i, err, sizeof err);
            }
        }
        if (rc < 0) {
            fprintf(stderr, "spw-conform diff: %s\n", err);
            return 2;
        }
        if (rc)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--corpus") == 0 && i + 1 < argc) {
            if (cf_inputs_add_corpus(&in, argv[++i]))
                return 2;
        } else if (strcmp(a, "--cases") == 0 && i + 1 < argc)
            cases = argv[++i];
        else if (strcmp(a, "--data-dir") == 0 && i + 1 < argc)
            cf_data_dir_set(argv[++i]);
        else if (strcmp(a, "--no-cases") == 0)
            use_cases = 0;
        else if (strcmp(a, "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(a, "--split") == 0 && i + 1 < argc) {
            unsigned long long n;
            if (cf_parse_num(argv[++i], 0, 1 << 20, &n)) {
                fprintf(stderr, "spw-conform diff: --split: bad number '%s'\n", argv[i]);
                return 2;
            }
            split = (int)n;
        }
        else if (strcmp(a, "--help") == 0) {
            printf("usage: spw-conform diff --a-exec CMD [--a-connect URL] --b-exec CMD ...\n"
                   "         --proto NAME [--corpus DIR]... [--cases PATH | --no-cases]\n"
                   "         [--data-dir DIR] [--out DIR] [--split N]\n"
                   "--cases defaults to DATA/cases: " CF_DATA_DIR_HELP ".\n"
                   "Target options prefixed a- or b- apply to one implementation, unprefixed\n"
                   "ones to both. Every input (each case script rendered for --proto, every\n"
                   "corpus file) is sent to both; inputs where they disagree (closed or open,\n"
                   "the frames sent back) are listed and, with --out, saved.\n"
                   "Exit status: 0 no disagreement, 1 disagreements, 2 harness error.\n");
            return 0;
        } else {
            fprintf(stderr, "spw-conform diff: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (cf_target_finish(&ta, err, sizeof err) || cf_target_finish(&tb, err, sizeof err)) {
        fprintf(stderr, "spw-conform diff: %s\n", err);
        return 2;
    }
    if (ta.proto != tb.proto) {
        fprintf(stderr, "spw-conform diff: both implementations must speak one --proto\n");
        return 2;
    }
    char dcases[4096];
    if (use_cases && (cf_data_cases(&cases, dcases, sizeof dcases, "spw-conform diff") ||
                      cf_inputs_add_cases(&in, cases, &ta)))
        return 2;
    if (in.n == 0) {
        fprintf(stderr, "spw-conform diff: no inputs\n");
        return 3;
    }
    if (out && cf_check_out_dir("--out", out, err, sizeof err)) {
        fprintf(stderr, "spw-conform diff: %s\n", err);
        cf_inputs_free(&in);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char *logdir = cf_make_logdir();
    if (!logdir) {
        fprintf(stderr, "spw-conform diff: cannot create a log directory in $TMPDIR: %s\n",
                strerror(errno));
        cf_inputs_free(&in);
        return 2;
    }
    ta.log_dir = tb.log_dir = logdir;
    int diffs = 0, errors = 0;
    printf("spw-conform diff: %d inputs, %s\n", in.n, spw_proto_name(ta.proto));
    for (int k = 0; k < in.n; k++) {
        cf_raw_run ra, rb;
        cf_send_plan plan = {split, -1};
        cf_run_raw(&ta, in.v[k].bytes.p, in.v[k].bytes.len, &plan, ta.timeout_ms, &ra);
        cf_run_raw(&tb, in.v[k].bytes.p, in.v[k].bytes.len, &plan, tb.timeout_ms, &rb);
        errors += ra.harness_error + rb.harness_error;
        int same = !ra.harness_error && !rb.harness_error && ra.outcome == rb.outcome &&
                   ra.nframes == rb.nframes && ra.digest == rb.digest;
        if (!same) {
            char da[300], db[300];
            describe(da, sizeof da, &ra);
            describe(db, sizeof db, &rb);
            printf("DIFF %s\n  A: %s\n  B: %s\n", in.v[k].name, da, db);
            if (ra.outcome == rb.outcome && ra.nframes == rb.nframes)
                printf("  (same outcome, different frame contents)\n");
            if (out) {
                char p[1024];
                snprintf(p, sizeof p, "%s/diff-%04d.bin", out, k);
                FILE *f = fopen(p, "wb");
                int bad = !f || fwrite(in.v[k].bytes.p, 1, in.v[k].bytes.len, f) !=
                                    in.v[k].bytes.len;
                if ((f && fclose(f)) || bad) {
                    fprintf(stderr, "spw-conform diff: cannot write %s: %s\n", p,
                            strerror(errno));
                    errors++;
                }
            }
            diffs++;
        }
        cf_raw_run_free(&ra);
        cf_raw_run_free(&rb);
    }
    printf("spw-conform diff: %d of %d inputs disagree\n", diffs, in.n);
    cf_inputs_free(&in);
    cf_remove_logdir(logdir);
    return errors ? 2 : diffs ? 1 : 0;
}
