/* Unit tests of spw-conform fuzz's input model (cli/fuzz_model.h): determinism,
 * boundary values, splices at frame boundaries, behaviour feedback, stderr
 * normalisation, rarity scheduling, input size bounds, saving the corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuzz_model.h"
#include "outcome.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

static const cf_framing tcp = {.hdr_len = 8, .type_byte = -1};
static const cf_framing ipc = {.hdr_len = 9, .type_byte = 1};

typedef struct body {
    const char *p;
    size_t n;
} body;
#define BODY(s) {s, sizeof s - 1}

/* The seeds' messages: a request id, then a body. */
static const body seed_a[] = {BODY("\x80\x00\x00\x01hello"), BODY("\x80\x00\x00\x02world"),
                              BODY("x")};
static const body seed_b[] = {BODY("\x80\x00\x00\x07one message")};

/* A stream as the valid peer of proto sends it: handshake, then one frame
 * per body. */
static void stream(cf_buf *b, const cf_framing *f, uint16_t proto, const body *bodies, int n)
{
    uint8_t hs[SPW_HANDSHAKE_SIZE], h[9];
    spw_handshake_encode(hs, (uint16_t)spw_proto_peer(proto));
    cf_buf_add(b, hs, sizeof hs);
    for (int i = 0; i < n; i++) {
        cf_framing_encode(f, h, bodies[i].n);
        cf_buf_add(b, h, f->hdr_len);
        cf_buf_add(b, bodies[i].p, bodies[i].n);
    }
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Walk an input as the IUT's reader would: the handshake when it opens like
 * one, then frame headers; each announced length is reported, and a frame
 * takes what bytes there are. */
static void each_length(const cf_buf *b, const cf_framing *f, void (*fn)(uint64_t, void *),
                        void *arg)
{
    size_t pos = b->len >= 3 && b->p[0] == 0 && b->p[1] == 'S' && b->p[2] == 'P' ? 8 : 0;
    while (pos + f->hdr_len <= b->len) {
        if (f->type_byte >= 0 && b->p[pos] != f->type_byte)
            return;
        uint64_t len = be64(b->p + pos + f->hdr_len - 8);
        fn(len, arg);
        size_t avail = b->len - pos - f->hdr_len;
        pos += f->hdr_len + (len < avail ? (size_t)len : avail);
    }
}

static cf_fuzz_model *model_with_seeds(uint64_t seed, uint64_t limit, uint16_t proto,
                                       const cf_framing *f)
{
    cf_fuzz_model *m = cf_model_new(seed, limit, proto, f);
    cf_buf s = {0};
    stream(&s, f, proto, seed_a, 3);
    cf_model_add_seed(m, "a", s.p, s.len);
    s.len = 0;
    stream(&s, f, proto, seed_b, 1);
    cf_model_add_seed(m, "b", s.p, s.len);
    cf_buf_free(&s);
    cf_model_add_token(m, (const uint8_t *)"TOKEN!!!", 8);
    return m;
}

static cf_behaviour quiet(void)
{
    cf_behaviour b = {.hs = 1, .close_ms = -1, .outcome = CF_O_OPEN};
    return b;
}

/* ------------------------------------------------------------ determinism */

static void test_same_seed_same_inputs(void **state)
{
    (void)state;
    cf_fuzz_model *m1 = model_with_seeds(42, 1024, SPW_PROTO_REP, &tcp);
    cf_fuzz_model *m2 = model_with_seeds(42, 1024, SPW_PROTO_REP, &tcp);
    cf_fuzz_model *m3 = model_with_seeds(43, 1024, SPW_PROTO_REP, &tcp);
    cf_buf b1 = {0}, b2 = {0}, b3 = {0};
    int differ = 0;
    for (int i = 0; i < 3000; i++) {
        const char *f1, *f2, *f3;
        cf_model_next(m1, &b1, &f1);
        cf_model_next(m2, &b2, &f2);
        cf_model_next(m3, &b3, &f3);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.p, b2.p, b1.len);
        assert_string_equal(f1, f2);
        differ += b1.len != b3.len || memcmp(b1.p, b3.p, b1.len) != 0;
        /* the same feedback keeps them in step */
        cf_behaviour b = quiet();
        b.outcome = (int)(b1.len % 5);
        uint64_t s1, s2;
        assert_int_equal(cf_model_feedback(m1, b1.p, b1.len, &b, &s1),
                         cf_model_feedback(m2, b2.p, b2.len, &b, &s2));
        assert_true(s1 == s2);
    }
    assert_true(cf_model_corpus_size(m1) > 2);
    assert_true(differ > 2000); /* another seed, other inputs */
    cf_buf_free(&b1);
    cf_buf_free(&b2);
    cf_buf_free(&b3);
    cf_model_free(m1);
    cf_model_free(m2);
    cf_model_free(m3);
}

/* ------------------------------------------------------------ boundaries */

typedef struct seen {
    const uint64_t *v;
    size_t n;
    unsigned char *hit;
} seen;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void mark(uint64_t len, void *arg)
{
    seen *s = arg;
    const uint64_t *p = bsearch(&len, s->v, s->n, sizeof len, cmp_u64);
    if (p)
        s->hit[p - s->v] = 1;
}

static int listed(const uint64_t *v, size_t n, uint64_t x)
{
    return bsearch(&x, v, n, sizeof x, cmp_u64) != NULL;
}

/* The list holds what the issue asks for, computed here on its own. */
static void test_length_list(void **state)
{
    (void)state;
    const uint64_t limit = 1024 * 1024;
    cf_fuzz_model *m = cf_model_new(1, limit, SPW_PROTO_PAIR1, &tcp);
    size_t n;
    const uint64_t *v = cf_model_lengths(m, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(v[i - 1] < v[i]);
    for (uint64_t x = 0; x <= 16; x++)
        assert_true(listed(v, n, x));
    static const unsigned exps[] = {8, 16, 24, 31, 32, 48, 56, 60, 63};
    for (size_t i = 0; i < sizeof exps / sizeof *exps; i++)
        for (int d = -16; d <= 16; d++)
            assert_true(listed(v, n, ((uint64_t)1 << exps[i]) + (uint64_t)(int64_t)d));
    for (uint64_t d = 0; d < 128; d++)
        assert_true(listed(v, n, UINT64_MAX - d));
    assert_true(listed(v, n, (uint64_t)SIZE_MAX - 4096));
    for (int d = -16; d <= 16; d++)
        assert_true(listed(v, n, limit + (uint64_t)(int64_t)d));
    assert_true(listed(v, n, ((uint64_t)1 << 32) - 8));  /* a header's worth below */
    assert_true(listed(v, n, ((uint64_t)1 << 20) - 12)); /* and an SP header word */
    assert_true(listed(v, n, (uint64_t)1 << 62));
    assert_true(listed(v, n, ((uint64_t)1 << 40) - 32));
    assert_false(listed(v, n, 17));
    cf_model_free(m);

    /* ipc: a header is 9 bytes; no limit, no limit +- 16 */
    m = cf_model_new(1, 0, SPW_PROTO_PAIR1, &ipc);
    v = cf_model_lengths(m, &n);
    assert_true(listed(v, n, ((uint64_t)1 << 32) - 9));
    assert_false(listed(v, n, limit + 5));
    cf_model_free(m);
}

static size_t count_hits(const seen *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += s->hit[i];
    return k;
}

static void draw_lengths(cf_fuzz_model *m, const cf_framing *f, int draws, seen *s,
                         size_t same_len)
{
    s->v = cf_model_lengths(m, &s->n);
    s->hit = calloc(s->n, 1);
    assert_non_null(s->hit);
    cf_buf b = {0};
    for (int i = 0; i < draws; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        if (same_len) /* the announcement changes, the bytes after it do not */
            assert_int_equal(b.len, strcmp(from, "a") == 0 ? same_len : b.len);
        each_length(&b, f, mark, s);
    }
    cf_buf_free(&b);
}

static void test_length_boundaries_appear(void **state)
{
    (void)state;
    const cf_framing *fr[] = {&tcp, &ipc};
    for (int k = 0; k < 2; k++) {
        cf_fuzz_model *m = model_with_seeds(7, 1000, SPW_PROTO_REP, fr[k]);
        cf_model_set_ops(m, CF_MOP_LENGTH);
        cf_buf a = {0};
        stream(&a, fr[k], SPW_PROTO_REP, seed_a, 3);
        seen s;
        draw_lengths(m, fr[k], 20000, &s, a.len);
        for (size_t i = 0; i < s.n; i++)
            if (!s.hit[i])
                fail_msg("length %llu (framing %d) never drawn", (unsigned long long)s.v[i], k);
        free(s.hit);
        cf_buf_free(&a);
        cf_model_free(m);
    }
    /* with every operator the boundaries still come, if less densely */
    cf_fuzz_model *m = model_with_seeds(7, 1000, SPW_PROTO_REP, &tcp);
    seen s;
    draw_lengths(m, &tcp, 20000, &s, 0);
    assert_true(count_hits(&s) * 10 >= s.n * 9);
    free(s.hit);
    cf_model_free(m);
}

/* Request ids reach the IUT with and without their top bit, each 32-bit
 * boundary both ways. */
static void test_header_words_appear(void **state)
{
    (void)state;
    cf_fuzz_model *m = model_with_seeds(3, 0, SPW_PROTO_REQ, &tcp);
    cf_model_set_ops(m, CF_MOP_HEADER);
    size_t n;
    const uint32_t *w = cf_model_words(m, &n);
    unsigned char *hit = calloc(n, 2);
    assert_non_null(hit);
    cf_buf b = {0};
    for (int i = 0; i < 20000; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        for (size_t pos = 8; pos + 12 <= b.len;) {
            uint64_t len = be64(b.p + pos);
            const uint8_t *p = b.p + pos + 8;
            uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            for (size_t k = 0; k < n; k++)
                if ((v & 0x7fffffff) == w[k])
                    hit[2 * k + (v >> 31)] = 1;
            pos += 8 + (size_t)len;
        }
    }
    for (size_t k = 0; k < 2 * n; k++)
        if (!hit[k])
            fail_msg("request id %u with top bit %d never drawn", w[k / 2], (int)(k & 1));
    free(hit);
    cf_model_free(m);

    /* a replier gets backtraces: hops pushed in front of the request id,
     * up to past its TTL (8) */
    m = model_with_seeds(3, 0, SPW_PROTO_REP, &tcp);
    cf_model_set_ops(m, CF_MOP_HEADER);
    int most = 0;
    for (int i = 0; i < 2000; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        for (size_t pos = 8; pos + 8 <= b.len;) {
            size_t len = (size_t)be64(b.p + pos), hops = 0;
            while (4 * hops + 4 <= len && !(b.p[pos + 8 + 4 * hops] & 0x80))
                hops++;
            most = hops > (size_t)most ? (int)hops : most;
            pos += 8 + len;
        }
    }
    assert_true(most >= 9);
    cf_buf_free(&b);
    cf_model_free(m);
}

/* ------------------------------------------------------------ splices */

static const uint8_t token[] = "TOKEN!!!";

/* 1 when b is a handshake, then whole frames and bare tokens only. */
static int at_boundaries(const cf_buf *b)
{
    if (b->len < 8 || memcmp(b->p, "\0SP\0", 4) != 0)
        return 0;
    size_t pos = 8;
    while (pos < b->len) {
        if (b->len - pos >= 8 && memcmp(b->p + pos, token, 8) == 0) {
            pos += 8;
            continue;
        }
        if (b->len - pos < 8 || be64(b->p + pos) > b->len - pos - 8)
            return 0;
        pos += 8 + (size_t)be64(b->p + pos);
    }
    return 1;
}

static void test_splices_at_frame_boundaries(void **state)
{
    (void)state;
    cf_fuzz_model *m = model_with_seeds(11, 0, SPW_PROTO_REP, &tcp);
    cf_model_set_ops(m, CF_MOP_SPLICE | CF_MOP_TOKEN | CF_MOP_FRAMES);
    cf_buf b = {0};
    int spliced = 0, tokens = 0;
    for (int i = 0; i < 5000; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        assert_true(at_boundaries(&b));
        if (strcmp(from, "a") == 0 && memmem(b.p, b.len, "one message", 11))
            spliced++;
        if (memmem(b.p, b.len, token, 8))
            tokens++;
    }
    assert_true(spliced > 100);
    assert_true(tokens > 100);
    cf_buf_free(&b);
    cf_model_free(m);
}

/* ------------------------------------------------------------ feedback */

static void test_feedback_grows_corpus(void **state)
{
    (void)state;
    cf_fuzz_model *m = model_with_seeds(1, 0, SPW_PROTO_PAIR1, &tcp);
    assert_int_equal(cf_model_corpus_size(m), 2);
    assert_int_equal(cf_model_behaviours(m), 0);
    const uint8_t in[] = "input";
    cf_behaviour b = quiet();
    uint64_t s1, s2;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, &s1), 1);
    assert_int_equal(cf_model_corpus_size(m), 3);
    assert_int_equal(cf_model_feedback(m, in, 5, &b, &s2), 0);
    assert_true(s1 == s2);
    /* the same buckets: 20 ms and 50 ms closes are alike, 500 ms is not */
    b.closed_by = 1;
    b.close_ms = 20;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    b.close_ms = 50;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 0);
    b.close_ms = 500;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    /* what came back: one frame, two frames, a frame cut short */
    static const uint8_t one[] = {0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1};
    static const uint8_t two[] = {0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1,
                                  0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1};
    b.rx = one;
    b.rx_len = sizeof one;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    b.rx = two;
    b.rx_len = sizeof two;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    b.rx_len = sizeof two - 1;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    /* the first frame's SP header: hop count vs a word with its top bit */
    static const uint8_t top[] = {0, 0, 0, 0, 0, 0, 0, 4, 0x80, 0, 0, 1};
    b.rx = top;
    b.rx_len = sizeof top;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    b.outcome = CF_O_CRASHED;
    assert_int_equal(cf_model_feedback(m, in, 5, &b, NULL), 1);
    assert_int_equal(cf_model_behaviours(m), 8);
    assert_int_equal(cf_model_corpus_size(m), 10);
    cf_model_free(m);
}

static void test_stderr_normalised(void **state)
{
    (void)state;
    const char *r1 =
        "==12345==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc "
        "0x55d0c3a1b2c4 bp 0x7ffd5e3c1a90 sp 0x7ffd5e3c1a88\n"
        "READ of size 4 at 0x602000000010 thread T0\n"
        "    #0 0x55d0c3a1b2c3 in pipe_recv /src/nng/pipe.c:123\n";
    const char *r2 =
        "==987==ERROR: AddressSanitizer: heap-use-after-free on address 0x6190000a1b80 at pc "
        "0x5612aa00ffee bp 0x7fff00112233 sp 0x7fff00112228\n"
        "READ of size 4 at 0x6190000a1b80 thread T3\n"
        "\n"
        "    #0 0x5612aa00ffed in pipe_recv /src/nng/pipe.c:123\n";
    const char *other =
        "==12345==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000010 at pc "
        "0x55d0c3a1b2c4 bp 0x7ffd5e3c1a90 sp 0x7ffd5e3c1a88\n";
    assert_true(cf_stderr_hash(r1) != 0);
    assert_true(cf_stderr_hash(r1) == cf_stderr_hash(r2));
    assert_true(cf_stderr_hash(r1) != cf_stderr_hash(other));
    assert_true(cf_stderr_hash("x\ny\n") != cf_stderr_hash("y\nx\n"));
    assert_true(cf_stderr_hash(NULL) == 0);
    assert_true(cf_stderr_hash("12 0xff\n\n") == 0);

    cf_fuzz_model *m = model_with_seeds(1, 0, SPW_PROTO_PAIR1, &tcp);
    cf_behaviour b = quiet();
    b.outcome = CF_O_CRASHED;
    b.stderr_new = r1;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"x", 1, &b, NULL), 1);
    b.stderr_new = r2;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"y", 1, &b, NULL), 0);
    b.stderr_new = other;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"z", 1, &b, NULL), 1);
    b.stderr_new = NULL;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"z", 1, &b, NULL), 1);
    cf_model_free(m);
}

/* ------------------------------------------------------------ scheduling */

static void test_rare_signature_favoured(void **state)
{
    (void)state;
    cf_fuzz_model *m = cf_model_new(5, 0, SPW_PROTO_PAIR1, &tcp);
    uint8_t hs[8];
    spw_handshake_encode(hs, SPW_PROTO_PAIR1);
    cf_model_add_seed(m, "seed", hs, 8);
    cf_behaviour common = quiet(), rare = quiet();
    rare.outcome = CF_O_CLOSED;
    uint64_t sc, sr;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"common", 6, &common, &sc), 1);
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"rare", 4, &rare, &sr), 1);
    for (int i = 0; i < 9; i++) /* the common one is seen ten times in all */
        assert_int_equal(cf_model_feedback(m, (const uint8_t *)"again", 5, &common, NULL), 0);
    char nc[32], nr[32];
    snprintf(nc, sizeof nc, "sig-%016llx", (unsigned long long)sc);
    snprintf(nr, sizeof nr, "sig-%016llx", (unsigned long long)sr);
    int from_common = 0, from_rare = 0, from_seed = 0;
    cf_buf b = {0};
    const int draws = 20000;
    for (int i = 0; i < draws; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        from_common += strcmp(from, nc) == 0;
        from_rare += strcmp(from, nr) == 0;
        from_seed += strcmp(from, "seed") == 0;
    }
    /* weights 1 and 1/10: expect about 10x; the seeds keep their share */
    assert_true(from_common > 0);
    assert_true(from_rare > 5 * from_common);
    assert_true(from_seed > draws / 6);
    cf_buf_free(&b);
    cf_model_free(m);
}

/* ------------------------------------------------------------ sizes */

static void test_inputs_bounded_never_empty(void **state)
{
    (void)state;
    cf_fuzz_model *m = model_with_seeds(9, 0, SPW_PROTO_PAIR1, &tcp);
    cf_model_add_seed(m, "one", (const uint8_t *)"\x00", 1);
    /* a frame of 600 KiB: duplicated, it runs over the cap */
    cf_buf big = {0};
    uint8_t h[8];
    cf_buf_add(&big, "\0SP\0\0\x11\0\0", 8);
    cf_framing_encode(&tcp, h, 600 * 1024);
    cf_buf_add(&big, h, 8);
    uint8_t *zeros = calloc(600 * 1024, 1);
    assert_non_null(zeros);
    cf_buf_add(&big, zeros, 600 * 1024);
    free(zeros);
    cf_model_add_seed(m, "big", big.p, big.len);
    cf_buf_free(&big);
    cf_buf b = {0};
    int at_cap = 0;
    for (int i = 0; i < 3000; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        assert_true(b.len > 0);
        assert_true(b.len <= CF_MODEL_MAX_INPUT);
        at_cap += b.len == CF_MODEL_MAX_INPUT;
        if (i % 3 == 0) { /* shorter inputs join too */
            cf_behaviour f = quiet();
            f.outcome = (int)(b.len % 7);
            f.close_ms = (long)(b.len % 2000);
            cf_model_feedback(m, b.p, b.len, &f, NULL);
        }
    }
    assert_true(at_cap > 0);
    cf_buf_free(&b);
    cf_model_free(m);

    /* no seed at all: inputs grow from the valid handshake */
    m = cf_model_new(9, 0, SPW_PROTO_REQ, &tcp);
    for (int i = 0; i < 200; i++) {
        const char *from;
        cf_model_next(m, &b, &from);
        assert_true(b.len > 0 && b.len <= CF_MODEL_MAX_INPUT);
        assert_string_equal(from, "handshake");
    }
    cf_buf_free(&b);
    cf_model_free(m);
}

/* ------------------------------------------------------------ save */

static void test_save(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/test_fuzz_model-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char dir[128], path[256];
    snprintf(dir, sizeof dir, "%s/out/corpus", tmpl);
    cf_fuzz_model *m = model_with_seeds(1, 0, SPW_PROTO_PAIR1, &tcp);
    cf_behaviour b = quiet();
    uint64_t sig;
    assert_int_equal(cf_model_feedback(m, (const uint8_t *)"abc", 3, &b, &sig), 1);
    assert_int_equal(cf_model_save(m, dir), 0);
    snprintf(path, sizeof path, "%s/sig-%016llx.bin", dir, (unsigned long long)sig);
    cf_buf got = {0};
    assert_int_equal(cf_read_binary(path, &got, 100), 0);
    assert_int_equal(got.len, 3);
    assert_memory_equal(got.p, "abc", 3);
    cf_buf_free(&got);
    unlink(path);
    /* seeds are not written: the directory is empty again */
    assert_int_equal(rmdir(dir), 0);
    /* a file where the directory should be */
    snprintf(path, sizeof path, "%s/out/file", tmpl);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cf_model_save(m, path), -1);
    unlink(path);
    snprintf(path, sizeof path, "%s/out", tmpl);
    rmdir(path);
    rmdir(tmpl);
    cf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_inputs),
        cmocka_unit_test(test_length_list),
        cmocka_unit_test(test_length_boundaries_appear),
        cmocka_unit_test(test_header_words_appear),
        cmocka_unit_test(test_splices_at_frame_boundaries),
        cmocka_unit_test(test_feedback_grows_corpus),
        cmocka_unit_test(test_stderr_normalised),
        cmocka_unit_test(test_rare_signature_favoured),
        cmocka_unit_test(test_inputs_bounded_never_empty),
        cmocka_unit_test(test_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
