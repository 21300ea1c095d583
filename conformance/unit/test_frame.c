/* The frame codec against conformance/vectors/frame.md, at every split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spwire/error.h"
#include "spwire/frame.h"
#include "testutil.h"
#include "vectors.h"

static struct vector_set frames;

/* What a decode produced: the messages and the final verdict. */
struct outcome {
    struct vec_bytes msgs[VEC_MAX_MSGS + 1];
    int nmsgs;
    char verdict[32];
};

static void outcome_free(struct outcome *o, const spw_allocator *a)
{
    for (int i = 0; i < o->nmsgs; i++) {
        spw_msg m = {o->msgs[i].data, o->msgs[i].len};
        spw_msg_free(&m, a);
    }
    o->nmsgs = 0;
}

/* Feed `len` bytes in chunks of `chunk` (0 = all at once). */
static void decode(const struct vector *v, size_t len, size_t chunk, const spw_allocator *a,
                   struct outcome *o)
{
    spw_decoder d;
    spw_decoder_init(&d, v->limit, a);
    memset(o, 0, sizeof *o);
    size_t off = 0;
    int err = 0;
    while (off < len && !err) {
        size_t n = chunk && chunk < len - off ? chunk : len - off;
        const uint8_t *p = v->in.data + off;
        while (n > 0) {
            size_t used = 99;
            spw_msg m;
            int rc = spw_decoder_feed(&d, p, n, &used, &m);
            if (used > n)
                fail_msg("%s: consumed %zu of %zu fed", v->id, used, n);
            p += used;
            n -= used;
            off += used;
            if (rc < 0) {
                err = rc;
                /* Sticky: the same error again, nothing consumed. */
                size_t again = 99;
                assert_int_equal(spw_decoder_feed(&d, p, n, &again, &m), rc);
                assert_int_equal(again, 0);
                break;
            }
            if (rc == SPW_FRAME_MESSAGE) {
                if (o->nmsgs > VEC_MAX_MSGS)
                    fail_msg("%s: too many messages", v->id);
                if (v->limit && m.len > v->limit)
                    fail_msg("%s: message of %zu above limit", v->id, m.len);
                o->msgs[o->nmsgs].data = m.data;
                o->msgs[o->nmsgs++].len = m.len;
            } else {
                assert_int_equal(rc, SPW_FRAME_NEED_MORE);
                if (n != 0)
                    fail_msg("%s: NEED_MORE with %zu bytes left", v->id, n);
            }
        }
    }
    if (err)
        snprintf(o->verdict, sizeof o->verdict, "%s", spw_errname(err));
    else
        snprintf(o->verdict, sizeof o->verdict, "%s", spw_decoder_idle(&d) ? "idle" : "partial");
    spw_decoder_fini(&d);
}

static void expect_outcome(const struct vector *v, const struct outcome *o, const char *how)
{
    if (strcmp(o->verdict, v->end) != 0)
        fail_msg("%s (%s): verdict %s, expected %s", v->id, how, o->verdict, v->end);
    if (o->nmsgs != v->nmsgs)
        fail_msg("%s (%s): %d messages, expected %d", v->id, how, o->nmsgs, v->nmsgs);
    for (int i = 0; i < o->nmsgs; i++) {
        if (o->msgs[i].len != v->msgs[i].len ||
            (o->msgs[i].len && memcmp(o->msgs[i].data, v->msgs[i].data, o->msgs[i].len)))
            fail_msg("%s (%s): message %d differs", v->id, how, i);
        if (o->msgs[i].len == 0 && o->msgs[i].data != NULL)
            fail_msg("%s (%s): empty message carries a buffer", v->id, how);
    }
}

static void run_chunked(size_t chunk, const char *how)
{
    for (int i = 0; i < frames.n; i++) {
        const struct vector *v = &frames.v[i];
        struct outcome o;
        decode(v, v->in.len, chunk, NULL, &o);
        expect_outcome(v, &o, how);
        outcome_free(&o, NULL);
    }
}

static void decoder_vectors_whole(void **state)
{
    (void)state;
    run_chunked(0, "whole");
}

static void decoder_vectors_byte_by_byte(void **state)
{
    (void)state;
    run_chunked(1, "byte by byte");
}

static void decoder_vectors_every_chunk_size(void **state)
{
    (void)state;
    for (int i = 0; i < frames.n; i++) {
        const struct vector *v = &frames.v[i];
        for (size_t cs = 1; cs <= v->in.len; cs++) {
            struct outcome o;
            char how[32];
            snprintf(how, sizeof how, "chunk %zu", cs);
            decode(v, v->in.len, cs, NULL, &o);
            expect_outcome(v, &o, how);
            outcome_free(&o, NULL);
        }
    }
}

/* A prefix of a vector delivers a prefix of its messages and ends between
 * or inside frames, or in the vector's own error. */
static void decoder_vectors_every_truncation(void **state)
{
    (void)state;
    for (int i = 0; i < frames.n; i++) {
        const struct vector *v = &frames.v[i];
        for (size_t k = 0; k < v->in.len; k++) {
            struct outcome o;
            decode(v, k, 0, NULL, &o);
            int ok_verdict = strcmp(o.verdict, "idle") == 0 || strcmp(o.verdict, "partial") == 0 ||
                             strcmp(o.verdict, v->end) == 0;
            if (!ok_verdict)
                fail_msg("%s truncated at %zu: verdict %s", v->id, k, o.verdict);
            if (o.nmsgs > v->nmsgs)
                fail_msg("%s truncated at %zu: %d messages", v->id, k, o.nmsgs);
            for (int m = 0; m < o.nmsgs; m++)
                assert_memory_equal(o.msgs[m].data ? o.msgs[m].data : (uint8_t *)"",
                                    v->msgs[m].data ? v->msgs[m].data : (uint8_t *)"",
                                    o.msgs[m].len);
            outcome_free(&o, NULL);
        }
    }
}

/* Fail the k-th allocation, for every k a clean run makes: the decoder must
 * report ENOMEM, stay failed, and leave nothing allocated. */
static void decoder_vectors_every_allocation_failure(void **state)
{
    (void)state;
    size_t chunks[] = {0, 1, 3};
    for (int i = 0; i < frames.n; i++) {
        const struct vector *v = &frames.v[i];
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            spw_countalloc clean;
            struct outcome o;
            spw_countalloc_init(&clean, 0, 0);
            decode(v, v->in.len, chunks[c], &clean.api, &o);
            outcome_free(&o, &clean.api);
            assert_int_equal(clean.nblocks, 0);
            for (size_t k = 1; k <= clean.ops; k++) {
                spw_countalloc t;
                spw_countalloc_init(&t, k, 0);
                decode(v, v->in.len, chunks[c], &t.api, &o);
                if (strcmp(o.verdict, "ENOMEM") != 0)
                    fail_msg("%s: allocation %zu failed but verdict is %s", v->id, k, o.verdict);
                outcome_free(&o, &t.api);
                if (t.nblocks != 0 || t.live != 0)
                    fail_msg("%s: allocation %zu failed and %zu blocks leaked", v->id, k,
                             t.nblocks);
            }
        }
    }
}

/* The stateless parser, walked over each vector, agrees with the decoder. */
static void stateless_parse_agrees_with_vectors(void **state)
{
    (void)state;
    for (int i = 0; i < frames.n; i++) {
        const struct vector *v = &frames.v[i];
        size_t off = 0;
        int nmsgs = 0;
        const char *verdict = 0;
        while (!verdict) {
            size_t body, frame;
            int rc = spw_frame_parse(v->in.data + off, v->in.len - off, v->limit, &body, &frame);
            if (rc == SPW_FRAME_MESSAGE) {
                assert_true(nmsgs < v->nmsgs);
                assert_int_equal(body, v->msgs[nmsgs].len);
                if (body)
                    assert_memory_equal(v->in.data + off + 8, v->msgs[nmsgs].data, body);
                nmsgs++;
                off += frame;
            } else if (rc == SPW_FRAME_NEED_MORE) {
                verdict = off == v->in.len ? "idle" : "partial";
            } else {
                verdict = spw_errname(rc);
            }
        }
        if (strcmp(verdict, v->end) != 0 || nmsgs != v->nmsgs)
            fail_msg("%s: stateless parse says %s after %d messages", v->id, verdict, nmsgs);
    }
}

/* A peer announcing 1 GiB and sending 10 bytes costs one first chunk; as
 * the body arrives, memory stays within twice what was received. */
static void decoder_memory_follows_bytes_received(void **state)
{
    (void)state;
    spw_countalloc t;
    spw_countalloc_init(&t, 0, 0);
    spw_decoder d;
    spw_decoder_init(&d, 0, &t.api);
    uint8_t hdr[8];
    spw_frame_encode_header(hdr, (uint64_t)1 << 30);
    size_t used;
    spw_msg m;
    assert_int_equal(spw_decoder_feed(&d, hdr, 8, &used, &m), SPW_FRAME_NEED_MORE);
    assert_int_equal(t.peak, 0);
    uint8_t chunk[1024] = {0};
    assert_int_equal(spw_decoder_feed(&d, chunk, 10, &used, &m), SPW_FRAME_NEED_MORE);
    assert_true(t.peak <= SPW_DECODER_FIRST_CHUNK);
    size_t received = 10;
    for (int i = 0; i < 4096; i++) {
        assert_int_equal(spw_decoder_feed(&d, chunk, sizeof chunk, &used, &m), SPW_FRAME_NEED_MORE);
        received += used;
        assert_true(t.live <= 2 * received + SPW_DECODER_FIRST_CHUNK);
    }
    spw_decoder_fini(&d);
    assert_int_equal(t.live, 0);
}

/* Limit -1 / exact / +1 for limits that are not in the vectors: the check
 * is on the length bytes alone, for any limit. */
static void decoder_limit_boundaries_for_many_limits(void **state)
{
    (void)state;
    uint64_t limits[] = {1, 2, 255, 256, 65535, 65536, SPW_RECVMAX_DEFAULT, UINT64_C(1) << 32,
                         (UINT64_C(1) << 60) - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        for (int delta = -1; delta <= 1; delta++) {
            spw_decoder d;
            spw_decoder_init(&d, limits[i], NULL);
            uint8_t hdr[8];
            uint64_t len = limits[i] + (uint64_t)(int64_t)delta;
            spw_frame_encode_header(hdr, len);
            size_t used;
            spw_msg m;
            int rc = spw_decoder_feed(&d, hdr, 8, &used, &m);
            int expect = delta > 0 ? SPW_EMSGSIZE : (len == 0 ? SPW_FRAME_MESSAGE : SPW_FRAME_NEED_MORE);
            if (rc != expect)
                fail_msg("limit %llu, length %llu: got %d", (unsigned long long)limits[i],
                         (unsigned long long)len, rc);
            assert_int_equal(spw_frame_check_length(len, limits[i]), delta > 0 ? SPW_EMSGSIZE : SPW_OK);
            spw_decoder_fini(&d);
        }
    }
}

static void decoder_reset_clears_sticky_error(void **state)
{
    (void)state;
    spw_decoder d;
    spw_decoder_init(&d, 4, NULL);
    uint8_t bad[8], good[9];
    spw_frame_encode_header(bad, 5);
    size_t used, w;
    spw_msg m;
    assert_int_equal(spw_decoder_feed(&d, bad, 8, &used, &m), SPW_EMSGSIZE);
    assert_int_equal(spw_frame_encode(good, sizeof good, "x", 1, &w), SPW_OK);
    assert_int_equal(spw_decoder_feed(&d, good, w, &used, &m), SPW_EMSGSIZE);
    assert_int_equal(used, 0);
    spw_decoder_reset(&d);
    assert_int_equal(spw_decoder_feed(&d, good, w, &used, &m), SPW_FRAME_MESSAGE);
    assert_int_equal(m.len, 1);
    spw_msg_free(&m, NULL);
    spw_decoder_fini(&d);
}

static void encoder_round_trips_and_refuses_small_buffers(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t w = 0;
    assert_int_equal(spw_frame_encode(buf, 8, "", 0, &w), SPW_OK);
    assert_int_equal(w, 8);
    assert_int_equal(spw_frame_encode(buf, 10, "abc", 3, &w), SPW_EINVAL);
    assert_int_equal(spw_frame_encode(buf, sizeof buf, NULL, 3, &w), SPW_EINVAL);
    assert_int_equal(spw_frame_encode(buf, sizeof buf, "abc", 3, &w), SPW_OK);
    static const uint8_t want[] = {0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'};
    assert_int_equal(w, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    spw_frame_encode_header(buf, UINT64_C(0x0102030405060708));
    static const uint8_t be[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(buf, be, 8);
}

/* The zero-copy path delivers the same message as feed, keeps the memory
 * rule, and refuses to be used outside a body. */
static void decoder_body_space_matches_feed(void **state)
{
    (void)state;
    spw_countalloc t;
    spw_countalloc_init(&t, 0, 0);
    spw_decoder d;
    spw_decoder_init(&d, 0, &t.api);
    uint8_t *ptr;
    size_t room, used;
    spw_msg m;
    assert_int_equal(spw_decoder_body_space(&d, &ptr, &room), SPW_OK);
    assert_int_equal(room, 0);
    assert_int_equal(spw_decoder_body_remaining(&d), 0);
    assert_int_equal(spw_decoder_body_commit(&d, 0, &m), SPW_EINVAL);
    spw_decoder_reset(&d);

    size_t len = 3u << 20;
    uint8_t hdr[8];
    spw_frame_encode_header(hdr, len);
    assert_int_equal(spw_decoder_feed(&d, hdr, 8, &used, &m), SPW_FRAME_NEED_MORE);
    assert_int_equal(spw_decoder_feed(&d, (const uint8_t *)"\x07", 1, &used, &m), SPW_FRAME_NEED_MORE);
    size_t have = 1;
    int rc = SPW_FRAME_NEED_MORE;
    while (rc == SPW_FRAME_NEED_MORE) {
        assert_int_equal(spw_decoder_body_remaining(&d), len - have);
        assert_int_equal(spw_decoder_body_space(&d, &ptr, &room), SPW_OK);
        assert_true(room > 0);
        assert_true(t.live <= 2 * have + SPW_DECODER_FIRST_CHUNK);
        size_t n = room < 100000 ? room : 100000;
        if (n > len - have)
            n = len - have;
        for (size_t i = 0; i < n; i++)
            ptr[i] = (uint8_t)((have + i) * 7);
        have += n;
        rc = spw_decoder_body_commit(&d, n, &m);
    }
    assert_int_equal(rc, SPW_FRAME_MESSAGE);
    assert_int_equal(m.len, len);
    assert_int_equal(m.data[0], 0x07);
    for (size_t i = 1; i < len; i += 4093)
        assert_int_equal(m.data[i], (uint8_t)(i * 7));
    spw_msg_free(&m, &t.api);
    assert_true(spw_decoder_idle(&d));
    assert_int_equal(spw_decoder_body_remaining(&d), 0);
    spw_frame_encode_header(hdr, 10);
    assert_int_equal(spw_decoder_feed(&d, hdr, 8, &used, &m), SPW_FRAME_NEED_MORE);
    assert_int_equal(spw_decoder_body_space(&d, &ptr, &room), SPW_OK);
    assert_int_equal(room, 10);
    assert_int_equal(spw_decoder_body_commit(&d, 11, &m), SPW_EINVAL);
    assert_int_equal(spw_decoder_feed(&d, hdr, 1, &used, &m), SPW_EINVAL);
    spw_decoder_fini(&d);
    assert_int_equal(t.live, 0);
}

int main(void)
{
    vectors_load(&frames, "frame.md");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decoder_vectors_whole),
        cmocka_unit_test(decoder_vectors_byte_by_byte),
        cmocka_unit_test(decoder_vectors_every_chunk_size),
        cmocka_unit_test(decoder_vectors_every_truncation),
        cmocka_unit_test(decoder_vectors_every_allocation_failure),
        cmocka_unit_test(stateless_parse_agrees_with_vectors),
        cmocka_unit_test(decoder_memory_follows_bytes_received),
        cmocka_unit_test(decoder_limit_boundaries_for_many_limits),
        cmocka_unit_test(decoder_reset_clears_sticky_error),
        cmocka_unit_test(encoder_round_trips_and_refuses_small_buffers),
        cmocka_unit_test(decoder_body_space_matches_feed),
    };
    int rc = cmocka_run_group_tests_name("frame", tests, NULL, NULL);
    vectors_free(&frames);
    return rc;
}
