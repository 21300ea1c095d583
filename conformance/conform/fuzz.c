/* spw-conform — black-box fuzzing, replay of reproducers, differential
 * replay of two implementations. */
#include "conform.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"


#ifndef SPW_CONFORM_CASES_DIR
#define SPW_CONFORM_CASES_DIR "conformance/cases"
#endif

/* ------------------------------------------------------------ inputs */

typedef struct input {
    char *name;
    cf_buf bytes;
} input;

typedef struct inputs {
    input *v;
    int n;
} inputs;

static void add_input(inputs *in, const char *name, const uint8_t *p, size_t n)
{
    in->v = realloc(in->v, sizeof *in->v * (size_t)(in->n + 1));
    if (!in->v)
        abort();
    input *x = &in->v[in->n++];
    memset(x, 0, sizeof *x);
    x->name = strdup(name);
    cf_buf_add(&x->bytes, p, n);
}

static void free_inputs(inputs *in)
{
    for (int i = 0; i < in->n; i++) {
        free(in->v[i].name);
        cf_buf_free(&in->v[i].bytes);
    }
    free(in->v);
    memset(in, 0, sizeof *in);
}

static int load_file(const char *path, cf_buf *b, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && b->len < max)
        cf_buf_add(b, tmp, n);
    fclose(f);
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir (recursively), sorted, at most 64 KiB each. */
static int add_corpus(inputs *in, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        cf_buf b = {0};
        if (load_file(dir, &b, 65536)) {
            fprintf(stderr, "spw-conform: %s: %s\n", dir, strerror(errno));
            return -1;
        }
        add_input(in, dir, b.p, b.len);
        cf_buf_free(&b);
        return 0;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, sizeof *names * (size_t)(n + 1));
        if (!names)
            abort();
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, (size_t)n, sizeof *names, cmpstr);
    for (int i = 0; i < n; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            add_corpus(in, p);
        else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && strstr(names[i], ".txt") == NULL &&
                 strstr(names[i], ".md") == NULL && st.st_size <= 65536) {
            cf_buf b = {0};
            if (load_file(p, &b, 65536) == 0 && b.len)
                add_input(in, p, b.p, b.len);
            cf_buf_free(&b);
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static int add_cases(inputs *in, const char *path, const cf_target *t)
{
    cf_catalogue cat = {0};
    char err[512];
    if (cf_load(&cat, path, err, sizeof err)) {
        fprintf(stderr, "spw-conform: ERROR in the case catalogue: %s\n", err);
        return -1;
    }
    for (int i = 0; i < cat.ncases; i++) {
        cf_buf b = {0};
        cf_render_case(&cat.cases[i], t->proto, t->recvmax, &b);
        if (b.len && b.len <= 65536) {
            char name[256];
            snprintf(name, sizeof name, "case:%s", cat.cases[i].id);
            add_input(in, name, b.p, b.len);
        }
        cf_buf_free(&b);
    }
    cf_catalogue_free(&cat);
    return 0;
}

/* AFL/libFuzzer dictionary: name="value" with \xHH escapes. */
static int add_dict(inputs *d, const char *path)
{
    cf_buf b = {0};
    if (load_file(path, &b, 1 << 20)) {
        fprintf(stderr, "spw-conform: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *p = (char *)b.p;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        char *q = strchr(p, '"');
        if (*p != '#' && q) {
            cf_buf tok = {0};
            for (q++; *q && *q != '"'; q++) {
                uint8_t c = (uint8_t)*q;
                if (c == '\\' && q[1] == 'x' && cf_hexval(q[2]) >= 0 && cf_hexval(q[3]) >= 0) {
                    c = (uint8_t)(cf_hexval(q[2]) * 16 + cf_hexval(q[3]));
                    q += 3;
                } else if (c == '\\' && q[1]) {
                    c = (uint8_t)*++q;
                }
                cf_buf_add(&tok, &c, 1);
            }
            if (tok.len)
                add_input(d, "dict", tok.p, tok.len);
            cf_buf_free(&tok);
        }
        p = nl ? nl + 1 : NULL;
    }
    cf_buf_free(&b);
    return 0;
}

/* ------------------------------------------------------------ mutation */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t rndn(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static void insert_at(cf_buf *b, size_t pos, const uint8_t *p, size_t n)
{
    cf_buf_add(b, p, n); /* grow */
    memmove(b->p + pos + n, b->p + pos, b->len - n - pos);
    memcpy(b->p + pos, p, n);
}

static void mutate(cf_buf *b, const inputs *dict, const inputs *seeds, uint64_t limit)
{
    int rounds = 1 + (int)rndn(4);
    for (int r = 0; r < rounds; r++) {
        switch (rndn(9)) {
        case 0:
            if (b->len)
                b->p[rndn(b->len)] ^= (uint8_t)(1u << rndn(8));
            break;
        case 1:
            if (b->len)
                b->p[rndn(b->len)] = (uint8_t)rnd();
            break;
        case 2:
        case 3:
            if (dict->n) {
                const input *d = &dict->v[rndn((size_t)dict->n)];
                size_t pos = rndn(b->len + 1);
                if (rndn(2) || pos + d->bytes.len > b->len)
                    insert_at(b, pos, d->bytes.p, d->bytes.len);
                else
                    memcpy(b->p + pos, d->bytes.p, d->bytes.len);
            }
            break;
        case 4:
            if (b->len > 1) {
                size_t pos = rndn(b->len), n = 1 + rndn(b->len - pos);
                memmove(b->p + pos, b->p + pos + n, b->len - pos - n);
                b->len -= n;
            }
            break;
        case 5:
            if (b->len && b->len < 32768) {
                size_t pos = rndn(b->len), n = 1 + rndn(b->len - pos);
                cf_buf tmp = {0};
                cf_buf_add(&tmp, b->p + pos, n);
                insert_at(b, pos, tmp.p, tmp.len);
                cf_buf_free(&tmp);
            }
            break;
        case 6:
            if (b->len)
                b->len = rndn(b->len + 1);
            break;
        case 7: {
            static const uint64_t lens[] = {0, 1, 4, 8, 0xffffffffULL, 0x100000000ULL,
                                            0x8000000000000000ULL, 0xffffffffffffffffULL,
                                            0x1000000000000000ULL};
            uint64_t v = rndn(3) == 0 ? limit + rndn(3) - 1 : lens[rndn(sizeof lens / sizeof *lens)];
            uint8_t h[8];
            spw_frame_encode_header(h, v);
            size_t pos = rndn(b->len + 1);
            if (pos + 8 <= b->len)
                memcpy(b->p + pos, h, 8);
            else
                insert_at(b, pos, h, 8);
            break;
        }
        default:
            if (seeds->n) {
                const input *s = &seeds->v[rndn((size_t)seeds->n)];
                if (s->bytes.len) {
                    size_t from = rndn(s->bytes.len);
                    b->len = rndn(b->len + 1);
                    cf_buf_add(b, s->bytes.p + from, s->bytes.len - from);
                }
            }
        }
    }
    if (b->len > 65536)
        b->len = 65536;
}

static void shell_quote(cf_buf *b, const char *s)
{
    cf_buf_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            cf_buf_printf(b, "'\\''");
        else
            cf_buf_add(b, s, 1);
    }
    cf_buf_add(b, "'", 1);
}

static void target_args(cf_buf *b, const cf_target *t)
{
    if (t->exec) {
        cf_buf_printf(b, " --exec ");
        shell_quote(b, t->exec);
    }
    if (t->url)
        cf_buf_printf(b, " --%s %s", t->kind == CF_T_LISTEN ? "listen" : "connect", t->url);
    cf_buf_printf(b, " --proto %s --recvmax %llu --timeout %d --grace %d", spw_proto_name(t->proto),
                  (unsigned long long)t->recvmax, t->timeout_ms, t->grace_ms);
    for (int i = 0; i < t->nexit_ok; i++)
        cf_buf_printf(b, "%s%d", i ? "," : " --iut-exit-ok ", t->exit_ok[i]);
}


/* ------------------------------------------------------------ fuzz */

/* A whole number in [min, max] (cf_parse_num); -1 when v is not one. */
static int parse_count(const char *v, long long min, long long max, long long *out)
{
    unsigned long long u;
    if (cf_parse_num(v, (unsigned long long)min, (unsigned long long)max, &u))
        return -1;
    *out = (long long)u;
    return 0;
}

int cf_fuzz_main(int argc, char **argv)
{
    cf_target t;
    cf_target_defaults(&t);
    t.timeout_ms = 200;
    long long iterations = 200, max_findings = 10, seed = 1, seconds = 0;
    const char *out = "spw-conform-findings", *cases = SPW_CONFORM_CASES_DIR;
    inputs seeds = {0}, dict = {0};
    char err[512];
    const char *self = "spw-conform";
    int code = 2;
    for (int i = 0; i < argc; i++) {
        int rc = cf_target_option(&t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform fuzz: %s\n", err);
            goto done;
        }
        if (rc)
            continue;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: spw-conform fuzz TARGET [--iterations N] [--time SECONDS] [--seed S]\n"
                   "         [--corpus DIR]... [--dict FILE]... [--cases PATH] [--out DIR]\n"
                   "         [--max-findings N] [--self PATH]\n"
                   "Mutates byte streams (corpus files, dictionary tokens, the case scripts\n"
                   "rendered for --proto) and sends them to the IUT, one fresh IUT per input.\n"
                   "  --iterations N    inputs to try (default 200)\n"
                   "  --time SECONDS    stop after this long (default: none); with both, the\n"
                   "                    first limit reached ends the run\n"
                   "  --seed S          random seed (default 1): the same seed, the same inputs\n"
                   "  --corpus DIR      seed inputs (repeatable); --dict FILE: AFL/libFuzzer\n"
                   "                    dictionary tokens (repeatable)\n"
                   "  --cases PATH      case scripts rendered as seeds (default the catalogue)\n"
                   "  --out DIR         where findings go (default spw-conform-findings)\n"
                   "  --max-findings N  stop after N findings (default 10)\n"
                   "  --self PATH       spw-conform as the saved replay commands name it\n"
                   "TARGET: the options of a run (--exec/--connect/--listen, --proto,\n"
                   "--recvmax, --grace, --kill-timeout, --iut-exit-ok); --timeout is the\n"
                   "observation window per input, default 200 ms here.\n"
                   "A crash, exit, hang or leaked connection is saved in DIR as KIND-HASH.bin\n"
                   "with KIND-HASH.txt holding the command that replays it (add --pcap FILE\n"
                   "for a capture, -v for the IUT's output). Progress every 10 s.\n"
                   "Exit status: 0 no finding, 1 findings, 2 harness error.\n");
            code = 0;
            goto done;
        }
        if (!v) {
            fprintf(stderr, "spw-conform fuzz: unknown option or missing value: %s\n", a);
            goto done;
        }
        long long *num = strcmp(a, "--iterations") == 0     ? &iterations
                         : strcmp(a, "--max-findings") == 0 ? &max_findings
                         : strcmp(a, "--seed") == 0         ? &seed
                         : strcmp(a, "--time") == 0         ? &seconds
                                                            : NULL;
        if (num) {
            long long lo = num == &seed ? 0 : 1, hi = num == &seed ? LLONG_MAX : 1000000000LL;
            if (parse_count(v, lo, hi, num)) {
                fprintf(stderr, "spw-conform fuzz: %s: bad number '%s'\n", a, v);
                goto done;
            }
        } else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--cases") == 0)
            cases = v;
        else if (strcmp(a, "--self") == 0)
            self = v;
        else if (strcmp(a, "--corpus") == 0) {
            if (add_corpus(&seeds, v))
                goto done;
        } else if (strcmp(a, "--dict") == 0) {
            if (add_dict(&dict, v))
                goto done;
        } else {
            fprintf(stderr, "spw-conform fuzz: unknown option '%s' (see --help)\n", a);
            goto done;
        }
        i++;
    }
    if (cf_target_finish(&t, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    if (add_cases(&seeds, cases, &t))
        goto done;
    uint8_t hs[8];
    spw_handshake_encode(hs, (uint16_t)spw_proto_peer(t.proto));
    add_input(&seeds, "handshake", hs, 8);
    rng_state ^= (unsigned long long)seed * 0x2545f4914f6cdd1dULL;
    if (!rng_state)
        rng_state = 1;
    signal(SIGPIPE, SIG_IGN);
    char *logdir = cf_make_logdir();
    t.log_dir = logdir;
    if (cf_check_out_dir("--out", out, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        cf_remove_logdir(logdir);
        goto done;
    }
    int findings = 0, errors = 0;
    long t0 = cf_now_ms();
    printf("spw-conform fuzz: %lld iterations, %d seeds, %d dictionary tokens, seed %lld\n",
           iterations, seeds.n, dict.n, seed);
    fflush(stdout);
    long next_report = t0 + 10000;
    long long it;
    for (it = 0; it < iterations && findings < max_findings; it++) {
        if (seconds && cf_now_ms() - t0 >= seconds * 1000)
            break;
        if (cf_now_ms() >= next_report) {
            next_report += 10000;
            printf("spw-conform fuzz: %lld/%lld inputs, %d finding%s, %.0f inputs/s\n", it,
                   iterations, findings, findings == 1 ? "" : "s",
                   (double)it * 1000.0 / (double)(cf_now_ms() - t0));
            fflush(stdout);
        }
        cf_buf b = {0};
        const input *s = &seeds.v[rndn((size_t)seeds.n)];
        cf_buf_add(&b, s->bytes.p, s->bytes.len);
        mutate(&b, &dict, &seeds, t.recvmax);
        if (rndn(2) && (b.len < 8 || memcmp(b.p, hs, 3) != 0))
            insert_at(&b, 0, hs, 8);
        static const int splits[] = {0, 0, 0, 1, 3, 8};
        int split = splits[rndn(6)];
        if (split == 1 && b.len > 512)
            split = 0;
        cf_raw_run rr;
        cf_run_raw(&t, b.p, b.len, split, t.timeout_ms, &rr);
        if (rr.harness_error) {
            fprintf(stderr, "spw-conform fuzz: harness error: %s\n", rr.errmsg);
            if (++errors >= 3) {
                cf_buf_free(&b);
                cf_buf_free(&rr.rx);
                break;
            }
        } else if (cf_outcome_is_robustness(rr.outcome)) {
            uint64_t h = 0xcbf29ce484222325ULL;
            for (size_t k = 0; k < b.len; k++)
                h = (h ^ b.p[k]) * 0x100000001b3ULL;
            char base[1024];
            snprintf(base, sizeof base, "%s/%s-%016llx", out, cf_outcome_name(rr.outcome),
                     (unsigned long long)h);
            char path[1100];
            snprintf(path, sizeof path, "%s.bin", base);
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(b.p, 1, b.len, f);
                fclose(f);
            }
            cf_buf cmd = {0};
            cf_buf_printf(&cmd, "%s replay %s --split %d", self, path, split);
            target_args(&cmd, &t);
            snprintf(path, sizeof path, "%s.txt", base);
            f = fopen(path, "w");
            if (f) {
                fprintf(f, "finding: %s\nseed input: %s\ndetail: %s\nreplay: %s\n",
                        cf_outcome_name(rr.outcome), s->name, rr.errmsg, (char *)cmd.p);
                fclose(f);
            }
            printf("FINDING %s (iteration %lld, from %s): %s\n  replay: %s\n",
                   cf_outcome_name(rr.outcome), it, s->name, rr.errmsg, (char *)cmd.p);
            cf_buf_free(&cmd);
            findings++;
        }
        cf_buf_free(&rr.rx);
        cf_buf_free(&b);
    }
    printf("spw-conform fuzz: %d finding%s from %lld inputs in %.1f s\n", findings,
           findings == 1 ? "" : "s", it, (double)(cf_now_ms() - t0) / 1000.0);
    cf_remove_logdir(logdir);
    code = errors >= 3 ? 2 : findings ? 1 : 0;
done:
    free_inputs(&seeds);
    free_inputs(&dict);
    return code;
}

/* ------------------------------------------------------------ replay */

int cf_replay_main(int argc, char **argv)
{
    cf_target t;
    cf_target_defaults(&t);
    const char *file = NULL, *keep = NULL;
    int split = 0, verbose = 0;
    char err[512];
    static const char usage[] =
        "usage: spw-conform replay FILE [--split N] [--pcap OUT.pcap] [-v] [--keep-logs DIR]\n"
        "                           TARGET\n";
    for (int i = 0; i < argc; i++) {
        int rc = cf_target_option(&t, "", argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "spw-conform replay: %s\n", err);
            return 2;
        }
        if (rc)
            continue;
        const char *a = argv[i];
        long long n;
        if (strcmp(a, "--split") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], 0, 1 << 20, &n)) {
                fprintf(stderr, "spw-conform replay: --split: bad number '%s'\n", argv[i]);
                return 2;
            }
            split = (int)n;
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
                   "reports the outcome.\n"
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
    if (load_file(file, &b, 1 << 26)) {
        fprintf(stderr, "spw-conform replay: %s: %s\n", file, strerror(errno));
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char *logdir = keep ? NULL : cf_make_logdir();
    t.log_dir = keep ? keep : logdir;
    cf_raw_run rr;
    cf_run_raw(&t, b.p, b.len, split, t.timeout_ms, &rr);
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
        char *tail = cf_file_tail(path, 8000);
        printf("IUT output%s:\n%s%s", tail && *tail ? " (tail)" : "", tail ? tail : "(none)\n",
               tail && *tail && tail[strlen(tail) - 1] != '\n' ? "\n" : "");
        free(tail);
    }
    if (keep)
        printf("IUT output kept in %s/raw.log\n", keep);
    cf_buf_free(&rr.rx);
    cf_buf_free(&b);
    if (logdir)
        cf_remove_logdir(logdir);
    return code;
}

/* ------------------------------------------------------------ diff */

static void describe(char *buf, size_t len, const cf_raw_run *r)
{
    if (r->harness_error)
        snprintf(buf, len, "ERROR (%s)", r->errmsg);
    else
        snprintf(buf, len, "%s, %d frame%s back", cf_outcome_name(r->outcome), r->nframes,
                 r->nframes == 1 ? "" : "s");
}

int cf_diff_main(int argc, char **argv)
{
    cf_target ta, tb;
    cf_target_defaults(&ta);
    cf_target_defaults(&tb);
    ta.timeout_ms = tb.timeout_ms = 300;
    inputs in = {0};
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
            if (add_corpus(&in, argv[++i]))
                return 2;
        } else if (strcmp(a, "--cases") == 0 && i + 1 < argc)
            cases = argv[++i];
        else if (strcmp(a, "--no-cases") == 0)
            use_cases = 0;
        else if (strcmp(a, "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(a, "--split") == 0 && i + 1 < argc)
            split = atoi(argv[++i]);
        else if (strcmp(a, "--help") == 0) {
            printf("usage: spw-conform diff --a-exec CMD [--a-connect URL] --b-exec CMD ...\n"
                   "         --proto NAME [--corpus DIR]... [--cases PATH | --no-cases]\n"
                   "         [--out DIR] [--split N]\n"
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
    if (use_cases && add_cases(&in, cases ? cases : SPW_CONFORM_CASES_DIR, &ta))
        return 2;
    if (in.n == 0) {
        fprintf(stderr, "spw-conform diff: no inputs\n");
        return 3;
    }
    signal(SIGPIPE, SIG_IGN);
    char *logdir = cf_make_logdir();
    ta.log_dir = tb.log_dir = logdir;
    if (out)
        mkdir(out, 0755);
    int diffs = 0, errors = 0;
    printf("spw-conform diff: %d inputs, %s\n", in.n, spw_proto_name(ta.proto));
    for (int k = 0; k < in.n; k++) {
        cf_raw_run ra, rb;
        cf_run_raw(&ta, in.v[k].bytes.p, in.v[k].bytes.len, split, ta.timeout_ms, &ra);
        cf_run_raw(&tb, in.v[k].bytes.p, in.v[k].bytes.len, split, tb.timeout_ms, &rb);
        errors += ra.harness_error + rb.harness_error;
        int same = !ra.harness_error && !rb.harness_error && ra.outcome == rb.outcome &&
                   ra.nframes == rb.nframes && memcmp(ra.digest, rb.digest, 8) == 0;
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
                if (f) {
                    fwrite(in.v[k].bytes.p, 1, in.v[k].bytes.len, f);
                    fclose(f);
                }
            }
            diffs++;
        }
        cf_buf_free(&ra.rx);
        cf_buf_free(&rb.rx);
    }
    printf("spw-conform diff: %d of %d inputs disagree\n", diffs, in.n);
    free_inputs(&in);
    cf_remove_logdir(logdir);
    return errors ? 2 : diffs ? 1 : 0;
}
