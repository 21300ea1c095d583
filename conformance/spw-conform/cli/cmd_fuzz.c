/* spw-conform fuzz — black-box fuzzing: mutated byte streams to a fresh IUT
 * each, findings (crash, exit, hang, leak) saved with their replay command. */
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
#include "runner.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "text.h"

/* A whole number in [min, max] (cf_parse_num); -1 when v is not one. */
static int parse_count(const char *v, long long min, long long max, long long *out)
{
    unsigned long long u;
    if (cf_parse_num(v, (unsigned long long)min, (unsigned long long)max, &u))
        return -1;
    *out = (long long)u;
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

static void mutate(cf_buf *b, const cf_inputs *dict, const cf_inputs *seeds, uint64_t limit)
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
                const cf_input *d = &dict->v[rndn((size_t)dict->n)];
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
                const cf_input *s = &seeds->v[rndn((size_t)seeds->n)];
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

/* Keep a finding: OUT/KIND-HASH.bin (the input) and .txt (what happened,
 * the command that replays it), and say so. -1 when a file cannot be
 * written: the run must not go on losing findings. */
static int save_finding(const cf_target *t, const char *out, const char *self, const cf_buf *b,
                        int split, long long it, const char *from, const cf_raw_run *rr)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t k = 0; k < b->len; k++)
        h = (h ^ b->p[k]) * 0x100000001b3ULL;
    char base[1024], bin[1100], txt[1100];
    snprintf(base, sizeof base, "%s/%s-%016llx", out, cf_outcome_name(rr->outcome),
             (unsigned long long)h);
    snprintf(bin, sizeof bin, "%s.bin", base);
    snprintf(txt, sizeof txt, "%s.txt", base);
    cf_buf cmd = {0};
    cf_buf_printf(&cmd, "%s replay %s --split %d", self, bin, split);
    cf_target_args(&cmd, t);
    int bad = 0;
    FILE *f = fopen(bin, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len)
        bad = 1;
    if (f && fclose(f))
        bad = 1;
    f = bad ? NULL : fopen(txt, "w");
    if (!bad && (!f || fprintf(f, "finding: %s\nseed input: %s\ndetail: %s\nreplay: %s\n",
                               cf_outcome_name(rr->outcome), from, rr->errmsg,
                               (char *)cmd.p) < 0))
        bad = 1;
    if (f && fclose(f))
        bad = 1;
    printf("FINDING %s (iteration %lld, from %s): %s\n  replay: %s\n",
           cf_outcome_name(rr->outcome), it, from, rr->errmsg, (char *)cmd.p);
    if (bad)
        fprintf(stderr, "spw-conform fuzz: cannot write %s: %s\n", base, strerror(errno));
    cf_buf_free(&cmd);
    return bad ? -1 : 0;
}

/* The fuzz run's options. */
typedef struct fuzz_opts {
    cf_target t;
    long long iterations, max_findings, seed, seconds;
    const char *out, *cases, *self;
    cf_inputs seeds, dict;
} fuzz_opts;

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
            return 1;
        }
        if (!v) {
            fprintf(stderr, "spw-conform fuzz: unknown option or missing value: %s\n", a);
            return -1;
        }
        long long *num = strcmp(a, "--iterations") == 0     ? &o->iterations
                         : strcmp(a, "--max-findings") == 0 ? &o->max_findings
                         : strcmp(a, "--seed") == 0         ? &o->seed
                         : strcmp(a, "--time") == 0         ? &o->seconds
                                                            : NULL;
        if (num) {
            long long lo = num == &o->seed ? 0 : 1, hi = num == &o->seed ? LLONG_MAX : 1000000000LL;
            if (parse_count(v, lo, hi, num)) {
                fprintf(stderr, "spw-conform fuzz: %s: bad number '%s'\n", a, v);
                return -1;
            }
        } else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--cases") == 0)
            o->cases = v;
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

/* Mutate, send, judge until a limit; findings are saved. Returns the
 * exit code. */
static int fuzz_loop(fuzz_opts *o, const uint8_t hs[8])
{
    int findings = 0, errors = 0;
    long t0 = cf_now_ms();
    printf("spw-conform fuzz: %lld iterations, %d seeds, %d dictionary tokens, seed %lld\n",
           o->iterations, o->seeds.n, o->dict.n, o->seed);
    fflush(stdout);
    long next_report = t0 + 10000;
    long long it;
    for (it = 0; it < o->iterations && findings < o->max_findings; it++) {
        if (o->seconds && cf_now_ms() - t0 >= o->seconds * 1000)
            break;
        if (cf_now_ms() >= next_report) {
            next_report += 10000;
            printf("spw-conform fuzz: %lld/%lld inputs, %d finding%s, %.0f inputs/s\n", it,
                   o->iterations, findings, findings == 1 ? "" : "s",
                   (double)it * 1000.0 / (double)(cf_now_ms() - t0));
            fflush(stdout);
        }
        cf_buf b = {0};
        const cf_input *s = &o->seeds.v[rndn((size_t)o->seeds.n)];
        cf_buf_add(&b, s->bytes.p, s->bytes.len);
        mutate(&b, &o->dict, &o->seeds, o->t.recvmax);
        if (rndn(2) && (b.len < 8 || memcmp(b.p, hs, 3) != 0))
            insert_at(&b, 0, hs, 8);
        static const int splits[] = {0, 0, 0, 1, 3, 8};
        int split = splits[rndn(6)];
        if (split == 1 && b.len > 512)
            split = 0;
        cf_raw_run rr;
        cf_run_raw(&o->t, b.p, b.len, split, o->t.timeout_ms, &rr);
        if (rr.harness_error) {
            fprintf(stderr, "spw-conform fuzz: harness error: %s\n", rr.errmsg);
            if (++errors >= 3) {
                cf_buf_free(&b);
                cf_buf_free(&rr.rx);
                break;
            }
        } else if (cf_outcome_is_robustness(rr.outcome)) {
            findings++;
            if (save_finding(&o->t, o->out, o->self, &b, split, it, s->name, &rr)) {
                errors = 3; /* a finding that cannot be kept ends the run */
                cf_buf_free(&rr.rx);
                cf_buf_free(&b);
                break;
            }
        }
        cf_buf_free(&rr.rx);
        cf_buf_free(&b);
    }
    printf("spw-conform fuzz: %d finding%s from %lld inputs in %.1f s\n", findings,
           findings == 1 ? "" : "s", it, (double)(cf_now_ms() - t0) / 1000.0);
    return errors >= 3 ? 2 : findings ? 1 : 0;
}

int cf_cmd_fuzz(int argc, char **argv)
{
    fuzz_opts o = {.iterations = 200, .max_findings = 10, .seed = 1,
                   .out = "spw-conform-findings", .cases = SPW_CONFORM_CASES_DIR,
                   .self = "spw-conform"};
    cf_target_defaults(&o.t);
    o.t.timeout_ms = 200; /* a window per input, not per case */
    char err[512];
    int code = 2;
    int pa = parse_fuzz_args(&o, argc, argv);
    if (pa) {
        code = pa > 0 ? 0 : 2;
        goto done;
    }
    if (cf_target_finish(&o.t, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    if (cf_inputs_add_cases(&o.seeds, o.cases, &o.t))
        goto done;
    uint8_t hs[8];
    spw_handshake_encode(hs, (uint16_t)spw_proto_peer(o.t.proto));
    cf_inputs_add(&o.seeds, "handshake", hs, 8);
    rng_state ^= (unsigned long long)o.seed * 0x2545f4914f6cdd1dULL;
    if (!rng_state)
        rng_state = 1;
    signal(SIGPIPE, SIG_IGN);
    if (cf_check_out_dir("--out", o.out, err, sizeof err)) {
        fprintf(stderr, "spw-conform fuzz: %s\n", err);
        goto done;
    }
    char *logdir = cf_make_logdir();
    if (!logdir) {
        fprintf(stderr, "spw-conform fuzz: cannot create a log directory in $TMPDIR: %s\n",
                strerror(errno));
        goto done;
    }
    o.t.log_dir = logdir;
    code = fuzz_loop(&o, hs);
    cf_remove_logdir(logdir);
done:
    cf_inputs_free(&o.seeds);
    cf_inputs_free(&o.dict);
    return code;
}
