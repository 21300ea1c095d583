/* The protocol table (transport/src/proto.c) against the protocols as the
 * SP RFCs and NNG describe them, written out here a second time: a row that
 * drifts from what the protocol is fails here, not in a tool that reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spwire/proto.h"
#include "spwire/sp_header.h"

enum { SND = 1, RCV = 2, ECHO = 4, REQ = 8, BCAST = 16, FIRST = 32 };

static const struct expected {
    uint16_t id, peer;
    const char *name;
    const char *aliases; /* space-separated */
    int hdr;
    unsigned flags;
} expect[] = {
    {0x10, 0x10, "pair0", "", SPW_HDR_NONE, SND | RCV | ECHO | FIRST},
    {0x11, 0x11, "pair1", "pair", SPW_HDR_PAIR1, SND | RCV | ECHO | FIRST},
    {0x20, 0x21, "pub", "pub0", SPW_HDR_NONE, SND | BCAST | FIRST},
    {0x21, 0x20, "sub", "sub0", SPW_HDR_NONE, RCV},
    {0x30, 0x31, "req", "req0", SPW_HDR_REQID, SND | RCV | REQ | FIRST},
    {0x31, 0x30, "rep", "rep0", SPW_HDR_BACKTRACE, SND | RCV | ECHO},
    {0x50, 0x51, "push", "push0", SPW_HDR_NONE, SND | FIRST},
    {0x51, 0x50, "pull", "pull0", SPW_HDR_NONE, RCV},
    {0x62, 0x63, "surveyor", "survey surveyor0", SPW_HDR_REQID, SND | RCV | REQ | BCAST | FIRST},
    {0x63, 0x62, "respondent", "respondent0", SPW_HDR_BACKTRACE, SND | RCV | ECHO},
    {0x70, 0x70, "bus", "bus0", SPW_HDR_NONE, SND | RCV | ECHO | BCAST | FIRST},
};
#define NEXPECT (int)(sizeof expect / sizeof expect[0])

static void flag_values_are_the_documented_bits(void **state)
{
    (void)state;
    assert_int_equal(SPW_PF_SENDS, SND);
    assert_int_equal(SPW_PF_RECEIVES, RCV);
    assert_int_equal(SPW_PF_ECHOES, ECHO);
    assert_int_equal(SPW_PF_REQUESTS, REQ);
    assert_int_equal(SPW_PF_BROADCASTS, BCAST);
    assert_int_equal(SPW_PF_SENDS_FIRST, FIRST);
}

/* spw_proto_has: every bit asked for, of a known protocol */
static void has_asks_for_every_flag(void **state)
{
    (void)state;
    for (int i = 0; i < NEXPECT; i++) {
        const struct expected *e = &expect[i];
        for (unsigned f = 1; f < 64; f++)
            assert_int_equal(spw_proto_has(e->id, f), (e->flags & f) == f);
    }
    assert_int_equal(spw_proto_has(0x12, 0), 0);
    assert_int_equal(spw_proto_has(0x12, SPW_PF_SENDS), 0);
}

static void every_row_is_the_protocol(void **state)
{
    (void)state;
    assert_int_equal(SPW_PROTO_COUNT, NEXPECT);
    for (int i = 0; i < NEXPECT; i++) {
        const struct expected *e = &expect[i];
        const spw_proto_desc *d = spw_proto_desc_at(i);
        assert_non_null(d);
        assert_ptr_equal(spw_proto_desc_of(e->id), d);
        assert_int_equal(spw_proto_index(e->id), i);
        assert_int_equal(d->id, e->id);
        assert_int_equal(d->peer, e->peer);
        assert_string_equal(d->name, e->name);
        assert_int_equal(d->hdr_kind, e->hdr);
        if (d->flags != e->flags)
            fail_msg("%s: flags 0x%x, expected 0x%x", e->name, d->flags, e->flags);
        /* the short-hands read the same row */
        assert_int_equal(spw_proto_known(e->id), 1);
        assert_int_equal(spw_proto_at(i), e->id);
        assert_int_equal(spw_proto_peer(e->id), e->peer);
        assert_string_equal(spw_proto_name(e->id), e->name);
        assert_int_equal(spw_proto_by_name(e->name), e->id);
        assert_int_equal(spw_hdr_kind_for(e->id), e->hdr);
    }
}

static void peers_are_symmetric(void **state)
{
    (void)state;
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        const spw_proto_desc *d = spw_proto_desc_at(i);
        const spw_proto_desc *p = spw_proto_desc_of(d->peer);
        assert_non_null(p);
        assert_int_equal(p->peer, d->id);
        /* what one side sends, the other must be able to receive */
        if (d->flags & SPW_PF_SENDS)
            assert_true(p->flags & SPW_PF_RECEIVES);
        if (d->flags & SPW_PF_REQUESTS)
            assert_true(p->flags & SPW_PF_ECHOES);
    }
}

static void aliases_resolve_and_are_listed_exactly(void **state)
{
    (void)state;
    for (int i = 0; i < NEXPECT; i++) {
        const spw_proto_desc *d = spw_proto_desc_at(i);
        char want[64];
        snprintf(want, sizeof want, "%s", expect[i].aliases);
        int n = 0;
        for (char *tok = strtok(want, " "); tok; tok = strtok(NULL, " "), n++) {
            assert_true(n < 3);
            assert_non_null(d->aliases[n]);
            assert_string_equal(d->aliases[n], tok);
            assert_int_equal(spw_proto_by_name(tok), expect[i].id);
        }
        assert_null(d->aliases[n]);
    }
}

static void unknown_ids_and_names_are_refused(void **state)
{
    (void)state;
    assert_null(spw_proto_desc_at(-1));
    assert_null(spw_proto_desc_at(SPW_PROTO_COUNT));
    assert_int_equal(spw_proto_at(SPW_PROTO_COUNT), -1);
    uint16_t unknown[] = {0x00, 0x12, 0x22, 0x32, 0x40, 0x60, 0x61, 0x71, 0xffff};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_null(spw_proto_desc_of(unknown[i]));
        assert_int_equal(spw_proto_index(unknown[i]), -1);
        assert_int_equal(spw_proto_known(unknown[i]), 0);
        assert_int_equal(spw_proto_peer(unknown[i]), -1);
        assert_null(spw_proto_name(unknown[i]));
        assert_int_equal(spw_hdr_kind_for(unknown[i]), SPW_HDR_NONE);
    }
    /* every u16 but the eleven is unknown */
    int known = 0;
    for (uint32_t id = 0; id <= 0xffff; id++)
        known += spw_proto_known((uint16_t)id);
    assert_int_equal(known, NEXPECT);
    assert_int_equal(spw_proto_by_name("nope"), -1);
    assert_int_equal(spw_proto_by_name("Req"), -1);
    assert_int_equal(spw_proto_by_name("pair2"), -1);
    assert_int_equal(spw_proto_by_name(""), -1);
    assert_int_equal(spw_proto_by_name(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flag_values_are_the_documented_bits),
        cmocka_unit_test(every_row_is_the_protocol),
        cmocka_unit_test(has_asks_for_every_flag),
        cmocka_unit_test(peers_are_symmetric),
        cmocka_unit_test(aliases_resolve_and_are_listed_exactly),
        cmocka_unit_test(unknown_ids_and_names_are_refused),
    };
    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
