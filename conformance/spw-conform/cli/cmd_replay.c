/* spw-conform replay — send one saved input (a fuzz finding, a diff input)
 * to the IUT as the fuzzer did, and report the outcome. */
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
#include "inputs.h"
#include "outcome.h"
#include "spw_proc.h"
#include "rawrun.h"
#include "runner.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "text.h"

int cf_cmd_replay(int argc, char **argv)
{
    cf_target t;
    cf_target_defaults(&t);
    const char *file = NULL, *keep = NULL;
    int split = 0, verbose = 0;
    long reset_at = -1;
    char err[512];
    static const char usage[] =
        "usage: spw-conform replay FILE [--split N] [--reset-at N] [--pcap OUT.pcap] [-v]\n"
        "                           [--keep-logs DIR] TARGET\n";
    for (int i = 0; i < argc; i++) {
        int rc = cf_target_option(&t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform replay: %s\n", err);
            return 2;
        }
        if (rc)
            continue;
        const char *a = argv[i];
        unsigned long long n;
        if (strcmp(a, "--split") == 0 && i + 1 < argc) {
            if (cf_parse_num(argv[++i], 0, 1 << 20, &n)) {
                fprintf(stderr, "spw-conform replay: --split: bad number '%s'\n", argv[i]);
                return 2;
            }
            split = (int)n;
        } else if (strcmp(a, "--reset-at") == 0 && i + 1 < argc) {
            if (cf_parse_num(argv[++i], 0, 1 << 30, &n)) {
                fprintf(stderr, "spw-conform replay: --reset-at: bad number '%s'\n", argv[i]);
                return 2;
            }
            reset_at = (long)n;
        } else if (strcmp(a, "--pcap") == 0 && i + 1 < argc)
            t.pcap_file = argv[++i];
        else if (strcmp(a, "--keep-logs") == 0 && i + 1 < argc)
            keep = argv[++i];
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            verbose = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("%s"
                   "Sends FILE's bytes (a fuzz reproducer, a diff input) to the IUT as the\n"
                   "fuzzer did, N bytes per write with --split (default 0: at once), and\n"
                   "reports the outcome. --reset-at N ends the connection with a reset as\n"
                   "soon as the IUT has sent N bytes after its header (the fuzzer's send-path\n"
                   "inputs); without it the connection is half-closed.\n"
                   "  --pcap OUT.pcap   the exchange as a TCP capture (Wireshark, tcpdump)\n"
                   "  -v, --verbose     print the IUT's output (a sanitizer report, a panic)\n"
                   "  --keep-logs DIR   keep the IUT's output in DIR/raw.log\n"
                   "TARGET: --exec/--connect/--listen, --proto and the timeouts, as for run.\n"
                   "Exit status: 0 no crash, exit, hang or leak; 1 one of them; 2 harness\n"
                   "error.\n", usage);
            return 0;
        } else if (a[0] != '-' && !file)
            file = a;
        else {
            fprintf(stderr, "%s(see --help)\n", usage);
            return 2;
        }
    }
    if (!file || cf_target_finish(&t, err, sizeof err)) {
        fprintf(stderr, "spw-conform replay: %s\n", file ? err : "which FILE?");
        return 2;
    }
    if ((t.pcap_file && cf_check_out_file("--pcap", t.pcap_file, err, sizeof err)) ||
        (keep && cf_check_out_dir("--keep-logs", keep, err, sizeof err))) {
        fprintf(stderr, "spw-conform replay: %s\n", err);
        return 2;
    }
    cf_buf b = {0};
    if (cf_read_binary(file, &b, 1 << 26)) {
        fprintf(stderr, "spw-conform replay: %s: %s\n", file, strerror(errno));
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char *logdir = keep ? NULL : cf_make_logdir();
    if (!keep && !logdir) {
        fprintf(stderr, "spw-conform replay: cannot create a log directory in $TMPDIR: %s\n",
                strerror(errno));
        cf_buf_free(&b);
        return 2;
    }
    t.log_dir = keep ? keep : logdir;
    cf_raw_run rr;
    cf_send_plan plan = {split, reset_at};
    cf_run_raw(&t, b.p, b.len, &plan, t.timeout_ms, &rr);
    int code;
    if (rr.harness_error) {
        printf("ERROR %s\n", rr.errmsg);
        code = 2;
    } else {
        int bad = cf_outcome_is_robustness(rr.outcome);
        printf("%s %s: %d frame%s back%s%s\n", bad ? "FAIL" : "ok", cf_outcome_name(rr.outcome),
               rr.nframes, rr.nframes == 1 ? "" : "s", rr.errmsg[0] ? "; " : "", rr.errmsg);
        code = bad ? 1 : 0;
    }
    if (verbose && t.log_dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/raw.log", t.log_dir);
        char *tail = spw_file_tail(path, 8000);
        printf("IUT output%s:\n%s%s", tail && *tail ? " (tail)" : "", tail ? tail : "(none)\n",
               tail && *tail && tail[strlen(tail) - 1] != '\n' ? "\n" : "");
        free(tail);
    }
    if (keep)
        printf("IUT output kept in %s/raw.log\n", keep);
    cf_raw_run_free(&rr);
    cf_buf_free(&b);
    if (logdir)
        cf_remove_logdir(logdir);
    return code;
}
