/* SP header codecs against conformance/vectors/sp_header.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spwire/sp_header.h"
#include "vectors.h"

static struct vector_set hv;

/* Runs one vector over the first len bytes; returns the verdict and the
 * header length on accept. */
static int judge(const struct vector *v, const uint8_t *buf, size_t len, size_t *hdr)
{
    if (strcmp(v->kind, "backtrace") == 0) {
        int hops;
        return spw_backtrace_parse(buf, len, v->ttl, hdr, &hops);
    }
    if (strcmp(v->kind, "reqid") == 0) {
        uint32_t id;
        *hdr = 4;
        return spw_reqid_parse(buf, len, &id);
    }
    if (strcmp(v->kind, "pair1") == 0) {
        unsigned hops;
        *hdr = 4;
        return spw_pair1_parse(buf, len, v->ttl, &hops);
    }
    fail_msg("%s: unknown kind '%s'", v->id, v->kind);
    return -1;
}

static void header_vectors_give_their_verdicts(void **state)
{
    (void)state;
    for (int i = 0; i < hv.n; i++) {
        const struct vector *v = &hv.v[i];
        /* An exact-size heap copy, so a read past the end is an ASan error. */
        uint8_t *copy = malloc(v->in.len ? v->in.len : 1);
        if (v->in.len)
            memcpy(copy, v->in.data, v->in.len);
        size_t hdr = 0;
        int verdict = judge(v, copy, v->in.len, &hdr);
        if (strcmp(spw_hdr_verdict_str(verdict), v->end) != 0)
            fail_msg("%s: %s, expected %s", v->id, spw_hdr_verdict_str(verdict), v->end);
        if (verdict == SPW_HDR_ACCEPT && (size_t)atoi(v->end_arg) != hdr)
            fail_msg("%s: header %zu bytes, expected %s", v->id, hdr, v->end_arg);
        free(copy);
    }
}

/* Cutting an accepted message inside its header never reads past the end
 * and never accepts. */
static void header_truncations_never_accept(void **state)
{
    (void)state;
    for (int i = 0; i < hv.n; i++) {
        const struct vector *v = &hv.v[i];
        if (strcmp(v->end, "accept") != 0)
            continue;
        size_t full = (size_t)atoi(v->end_arg);
        for (size_t k = 0; k < full; k++) {
            uint8_t *copy = malloc(k ? k : 1);
            memcpy(copy, v->in.data, k);
            size_t hdr;
            int verdict = judge(v, copy, k, &hdr);
            if (verdict == SPW_HDR_ACCEPT)
                fail_msg("%s truncated at %zu: accepted", v->id, k);
            free(copy);
        }
    }
}

static void encoders_round_trip(void **state)
{
    (void)state;
    uint8_t b[4];
    uint32_t id;
    spw_reqid_encode(b, 0x1234);
    assert_int_equal(b[0], 0x80);
    assert_int_equal(spw_reqid_parse(b, 4, &id), SPW_HDR_ACCEPT);
    assert_int_equal(id, 0x80001234u);
    size_t hdr;
    int hops;
    assert_int_equal(spw_backtrace_parse(b, 4, SPW_TTL_DEFAULT, &hdr, &hops), SPW_HDR_ACCEPT);
    assert_int_equal(hops, 1);
    unsigned h;
    for (unsigned i = 0; i <= 0xff; i++) {
        spw_pair1_encode(b, i);
        assert_int_equal(spw_pair1_parse(b, 4, SPW_TTL_MAX, &h), SPW_HDR_ACCEPT);
        assert_int_equal(h, i);
    }
}

/* Which protocol carries which header is a row of the protocol table,
 * checked in test_proto.c. */
static void verdict_names(void **state)
{
    (void)state;
    assert_string_equal(spw_hdr_verdict_str(SPW_HDR_ACCEPT), "accept");
    assert_string_equal(spw_hdr_verdict_str(SPW_HDR_DROP), "drop");
    assert_string_equal(spw_hdr_verdict_str(SPW_HDR_MALFORMED), "malformed");
    assert_string_equal(spw_hdr_verdict_str(7), "unknown verdict");
}

int main(void)
{
    vectors_load(&hv, "sp_header.md");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_vectors_give_their_verdicts),
        cmocka_unit_test(header_truncations_never_accept),
        cmocka_unit_test(encoders_round_trip),
        cmocka_unit_test(verdict_names),
    };
    int rc = cmocka_run_group_tests_name("sp_header", tests, NULL, NULL);
    vectors_free(&hv);
    return rc;
}
