/* The handshake engine against conformance/vectors/handshake.md, at every
 * split, plus the whole protocol-pairing matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spwire/error.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "vectors.h"

static struct vector_set hsv;

static const char *fault_token(int fault)
{
    switch (fault) {
    case SPW_HS_FAULT_MAGIC:
        return "magic";
    case SPW_HS_FAULT_VERSION:
        return "version";
    case SPW_HS_FAULT_PEER_PROTO:
        return "peer-proto";
    case SPW_HS_FAULT_RESERVED:
        return "reserved";
    default:
        return "?";
    }
}

struct hs_outcome {
    char verdict[32];
    char arg[32];
    size_t consumed;
};

static void run(const struct vector *v, size_t len, size_t chunk, struct hs_outcome *o)
{
    spw_handshake hs;
    spw_handshake_init(&hs, (uint16_t)v->self);
    size_t off = 0;
    int rc = SPW_HANDSHAKE_NEED_MORE;
    while (off < len && rc == SPW_HANDSHAKE_NEED_MORE) {
        size_t n = chunk && chunk < len - off ? chunk : len - off;
        size_t used = 99;
        rc = spw_handshake_feed(&hs, v->in.data + off, n, &used);
        if (used > n)
            fail_msg("%s: consumed %zu of %zu", v->id, used, n);
        if (rc == SPW_HANDSHAKE_NEED_MORE && used != n)
            fail_msg("%s: NEED_MORE left bytes", v->id);
        off += used;
    }
    memset(o, 0, sizeof *o);
    o->consumed = off;
    if (rc == SPW_HANDSHAKE_DONE) {
        snprintf(o->verdict, sizeof o->verdict, "done");
        snprintf(o->arg, sizeof o->arg, "%s", spw_proto_name(spw_handshake_peer(&hs)));
    } else if (rc == SPW_HANDSHAKE_NEED_MORE) {
        snprintf(o->verdict, sizeof o->verdict, "partial");
    } else {
        snprintf(o->verdict, sizeof o->verdict, "%s", spw_errname(rc));
        snprintf(o->arg, sizeof o->arg, "%s", fault_token(hs.fault));
        /* Sticky. */
        size_t used = 99;
        assert_int_equal(spw_handshake_feed(&hs, v->in.data, len, &used), rc);
        assert_int_equal(used, 0);
    }
}

static void expect(const struct vector *v, const struct hs_outcome *o, const char *how)
{
    if (strcmp(o->verdict, v->end) != 0 || strcmp(o->arg, v->end_arg) != 0)
        fail_msg("%s (%s): %s %s, expected %s %s", v->id, how, o->verdict, o->arg, v->end,
                 v->end_arg);
    if (strcmp(o->verdict, "done") == 0 && o->consumed != SPW_HANDSHAKE_SIZE)
        fail_msg("%s (%s): consumed %zu bytes, the header is 8", v->id, how, o->consumed);
}

static void handshake_vectors_whole(void **state)
{
    (void)state;
    for (int i = 0; i < hsv.n; i++) {
        struct hs_outcome o;
        run(&hsv.v[i], hsv.v[i].in.len, 0, &o);
        expect(&hsv.v[i], &o, "whole");
    }
}

static void handshake_vectors_byte_by_byte(void **state)
{
    (void)state;
    for (int i = 0; i < hsv.n; i++) {
        struct hs_outcome o;
        run(&hsv.v[i], hsv.v[i].in.len, 1, &o);
        expect(&hsv.v[i], &o, "byte by byte");
    }
}

static void handshake_vectors_every_chunk_size(void **state)
{
    (void)state;
    for (int i = 0; i < hsv.n; i++)
        for (size_t cs = 1; cs <= hsv.v[i].in.len; cs++) {
            struct hs_outcome o;
            char how[32];
            snprintf(how, sizeof how, "chunk %zu", cs);
            run(&hsv.v[i], hsv.v[i].in.len, cs, &o);
            expect(&hsv.v[i], &o, how);
        }
}

/* Every truncation is "need more" unless the faulty byte is already in. */
static void handshake_vectors_every_truncation(void **state)
{
    (void)state;
    for (int i = 0; i < hsv.n; i++) {
        const struct vector *v = &hsv.v[i];
        for (size_t k = 0; k < v->in.len; k++) {
            struct hs_outcome o;
            run(v, k, 0, &o);
            if (k < SPW_HANDSHAKE_SIZE && strcmp(v->end, "done") == 0 &&
                strcmp(o.verdict, "partial") != 0)
                fail_msg("%s truncated at %zu: %s", v->id, k, o.verdict);
            if (strcmp(o.verdict, "partial") != 0 && strcmp(o.verdict, v->end) != 0)
                fail_msg("%s truncated at %zu: %s, expected partial or %s", v->id, k, o.verdict,
                         v->end);
        }
    }
}

/* The one-shot check agrees with the engine on every vector. */
static void handshake_check_agrees_with_feed(void **state)
{
    (void)state;
    for (int i = 0; i < hsv.n; i++) {
        const struct vector *v = &hsv.v[i];
        if (v->in.len < SPW_HANDSHAKE_SIZE)
            continue;
        uint16_t peer = 0;
        int fault = -1;
        int rc = spw_handshake_check(v->in.data, (uint16_t)v->self, &peer, &fault);
        struct hs_outcome o;
        run(v, v->in.len, 0, &o);
        if ((rc == SPW_OK) != (strcmp(o.verdict, "done") == 0))
            fail_msg("%s: check %d, feed %s", v->id, rc, o.verdict);
        if (rc != SPW_OK && strcmp(fault_token(fault), o.arg) != 0)
            fail_msg("%s: check fault %s, feed fault %s", v->id, fault_token(fault), o.arg);
    }
}

/* Every known protocol against every possible u16 id: accepted exactly when
 * the id is its one valid peer. */
static void handshake_pairing_matrix_accepts_only_the_valid_peer(void **state)
{
    (void)state;
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        uint16_t self = (uint16_t)spw_proto_at(i);
        int accepted = 0;
        for (uint32_t id = 0; id <= 0xffff; id++) {
            uint8_t hdr[8];
            spw_handshake_encode(hdr, (uint16_t)id);
            uint16_t peer;
            int rc = spw_handshake_check(hdr, self, &peer, NULL);
            if (rc == SPW_OK) {
                accepted++;
                assert_int_equal(peer, id);
                assert_int_equal((int)id, spw_proto_peer(self));
            } else {
                assert_int_equal(rc, SPW_EPROTO);
            }
        }
        assert_int_equal(accepted, 1);
    }
}

static void handshake_output_is_our_header_and_acks_clamp(void **state)
{
    (void)state;
    spw_handshake hs;
    spw_handshake_init(&hs, SPW_PROTO_SURVEYOR);
    size_t n;
    const uint8_t *out = spw_handshake_output(&hs, &n);
    static const uint8_t want[8] = {0, 'S', 'P', 0, 0, 0x62, 0, 0};
    assert_int_equal(n, 8);
    assert_memory_equal(out, want, 8);
    spw_handshake_sent(&hs, 3);
    out = spw_handshake_output(&hs, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(out, want + 3, 5);
    spw_handshake_sent(&hs, 100);
    spw_handshake_output(&hs, &n);
    assert_int_equal(n, 0);
    assert_false(spw_handshake_finished(&hs));
    uint8_t peer[8];
    spw_handshake_encode(peer, SPW_PROTO_RESPONDENT);
    size_t used;
    assert_int_equal(spw_handshake_feed(&hs, peer, 8, &used), SPW_HANDSHAKE_DONE);
    assert_true(spw_handshake_finished(&hs));
    assert_int_equal(spw_handshake_feed(&hs, peer, 8, &used), SPW_HANDSHAKE_DONE);
    assert_int_equal(used, 0);
}

static void handshake_unknown_local_protocol_fails_on_first_byte(void **state)
{
    (void)state;
    spw_handshake hs;
    spw_handshake_init(&hs, 0x99);
    uint8_t peer[8];
    spw_handshake_encode(peer, 0x99);
    size_t used;
    assert_int_equal(spw_handshake_feed(&hs, peer, 8, &used), SPW_EPROTO);
    assert_int_equal(hs.fault, SPW_HS_FAULT_LOCAL_PROTO);
    int fault;
    assert_int_equal(spw_handshake_check(peer, 0x99, NULL, &fault), SPW_EPROTO);
    assert_int_equal(fault, SPW_HS_FAULT_LOCAL_PROTO);
}

static void every_error_code_and_fault_has_a_description(void **state)
{
    (void)state;
    for (int c = 0; c > -SPW_ERROR_COUNT; c--) {
        assert_non_null(spw_strerror(c));
        assert_string_not_equal(spw_strerror(c), "unknown spwire error");
        assert_string_not_equal(spw_errname(c), "EUNKNOWN");
    }
    assert_string_equal(spw_strerror(-SPW_ERROR_COUNT), "unknown spwire error");
    assert_string_equal(spw_strerror(1), "unknown spwire error");
    assert_string_equal(spw_errname(SPW_EPROTO), "EPROTO");
    for (int f = SPW_HS_FAULT_NONE; f <= SPW_HS_FAULT_LOCAL_PROTO; f++)
        assert_string_not_equal(spw_handshake_fault_str(f), "unknown fault");
}

int main(void)
{
    vectors_load(&hsv, "handshake.md");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_vectors_whole),
        cmocka_unit_test(handshake_vectors_byte_by_byte),
        cmocka_unit_test(handshake_vectors_every_chunk_size),
        cmocka_unit_test(handshake_vectors_every_truncation),
        cmocka_unit_test(handshake_check_agrees_with_feed),
        cmocka_unit_test(handshake_pairing_matrix_accepts_only_the_valid_peer),
        cmocka_unit_test(handshake_output_is_our_header_and_acks_clamp),
        cmocka_unit_test(handshake_unknown_local_protocol_fails_on_first_byte),
        cmocka_unit_test(every_error_code_and_fault_has_a_description),
    };
    int rc = cmocka_run_group_tests_name("handshake", tests, NULL, NULL);
    vectors_free(&hsv);
    return rc;
}
