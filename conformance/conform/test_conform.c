/* Unit tests of spw-conform's pure engine: case parsing, expressions,
 * classification, verdicts, globs, expectations, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "spwire/proto.h"

static int parse(cf_catalogue *cat, const char *text, char *err)
{
    memset(cat, 0, sizeof *cat);
    return cf_parse_text(cat, "t.cases", text, err, 512);
}

static const char *good =
    "# comment\n"
    "case a.one\n"
    "level MUST\n"
    "rule Something must hold.\n"
    "needs echo\n"
    "send handshake proto=0x31 reserved=0x0100\n"
    "split 1 gap=2\n"
    "send frame len=limit+1 body=0\n"
    "send message data=41 count=3\n"
    "pause 50\n"
    "shutdown-write\n"
    "expect handshake\n"
    "outcome closed closed-after-reply\n"
    "\n"
    "case a.two\n"
    "level INFO\n"
    "rule Open question.\n"
    "protos pair1 rep\n"
    "send bytes \"GET /\\r\\n\" 00 53\n"
    "outcome paired\n";

static void test_parse_good(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512] = "";
    assert_int_equal(parse(&cat, good, err), 0);
    assert_int_equal(cat.ncases, 2);
    cf_case *c = &cat.cases[0];
    assert_string_equal(c->id, "a.one");
    assert_int_equal(c->level, CF_MUST);
    assert_int_equal(c->needs_echo, 1);
    assert_int_equal(c->nsteps, 7);
    assert_int_equal(c->steps[0].kind, CF_S_SEND_HANDSHAKE);
    assert_int_equal(c->steps[0].hs_sel, CF_HS_VALUE);
    assert_int_equal(c->steps[0].hs_proto, 0x31);
    assert_int_equal(c->steps[0].hs_byte[6], 1);
    assert_int_equal(c->steps[0].hs_byte[7], 0);
    assert_int_equal(c->steps[1].n, 1);
    assert_int_equal(c->steps[1].gap_ms, 2);
    assert_int_equal(cf_expr_eval(&c->steps[2].len, 1000), 1001);
    assert_int_equal(c->steps[3].count, 3);
    assert_int_equal(c->noutcomes, 2);
    assert_int_equal(c->outcomes[1], CF_O_CLOSED_AFTER_REPLY);
    cf_case *d = &cat.cases[1];
    assert_int_equal(d->nprotos, 2);
    assert_int_equal(d->steps[0].data_len, 9);
    assert_memory_equal(d->steps[0].data, "GET /\r\n\x00\x53", 9);
    cf_catalogue_free(&cat);
}

static void expect_error(const char *text, const char *where)
{
    cf_catalogue cat;
    char err[512] = "";
    assert_int_equal(parse(&cat, text, err), -1);
    if (!strstr(err, where))
        fail_msg("error '%s' does not name '%s'", err, where);
    cf_catalogue_free(&cat);
}

static void test_parse_errors(void **st)
{
    (void)st;
    expect_error("level MUST\n", "t.cases:1:");
    expect_error("case x\nlevel MAYBE\n", "t.cases:2: unknown level");
    expect_error("case x\nlevel MUST\nrule r\nsend frobnicate\noutcome open\n", "t.cases:4:");
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\n", "t.cases:1: case x has no 'outcome'");
    expect_error("case x\nlevel MUST\nrule r\noutcome open\n", "no script steps");
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\noutcome crashed\n", "t.cases:5:");
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\noutcome open\n"
                 "case x\nlevel MUST\nrule r\nsend handshake\noutcome open\n",
                 "t.cases:6: duplicate case id");
    expect_error("case x\nlevel MUST\nrule r\nsend bytes 0g\noutcome open\n", "t.cases:4:");
    expect_error("case x\nlevel MUST\nrule r\nbatch\nsend handshake\noutcome open\n", "without 'flush'");
    expect_error("case x\nlevel MUST\nrule r\nexpect echo\noutcome open\n", "needs echo");
    expect_error("case X\n", "t.cases:1:");
    expect_error("case x\nlevel MUST\nlevel MUST\n", "t.cases:3:");
    expect_error("case x\nlevel MUST\nrule r\nsend frame len=limit*2\noutcome open\n", "t.cases:4:");
    expect_error("case x\nlevel MUST\nrule r\nsend bytes \"abc\noutcome open\n", "unterminated");
    expect_error("case x\nlevel MUST\nrule r\nprotos pair7\n", "unknown protocol");
}

static void test_expr(void **st)
{
    (void)st;
    cf_expr e;
    assert_int_equal(cf_expr_parse("limit-1", &e), 0);
    assert_true(cf_expr_eval(&e, 100) == 99);
    assert_int_equal(cf_expr_parse("0xffffffffffffffff", &e), 0);
    assert_true(cf_expr_eval(&e, 100) == UINT64_MAX);
    assert_int_equal(cf_expr_parse("limit", &e), 0);
    assert_true(cf_expr_eval(&e, 7) == 7);
    assert_int_equal(cf_expr_parse("limitx", &e), -1);
    assert_int_equal(cf_expr_parse("-1", &e), -1);
    assert_int_equal(cf_expr_parse("", &e), -1);
}

static void test_classify(void **st)
{
    (void)st;
    cf_obs o = {0};
    o.hs_have = 8;
    o.hs_valid = 1;
    assert_int_equal(cf_classify(&o), CF_O_OPEN);
    o.closed = 1;
    assert_int_equal(cf_classify(&o), CF_O_CLOSED);
    o.expected = 2;
    o.matched = 1;
    assert_int_equal(cf_classify(&o), CF_O_CLOSED_AFTER_REPLY);
    o.closed = 0;
    assert_int_equal(cf_classify(&o), CF_O_NOT_ECHOED);
    o.matched = 2;
    assert_int_equal(cf_classify(&o), CF_O_ECHOED);
    o.wrong = 1;
    assert_int_equal(cf_classify(&o), CF_O_WRONG_ECHO);
    o.hs_valid = 0;
    assert_int_equal(cf_classify(&o), CF_O_BAD_HANDSHAKE);
    o.leaked = 1;
    assert_int_equal(cf_classify(&o), CF_O_LEAKED);
    o.crashed = 1;
    assert_int_equal(cf_classify(&o), CF_O_CRASHED);
    cf_obs n = {0};
    n.hs_have = 3;
    n.hs_valid = 1;
    assert_int_equal(cf_classify(&n), CF_O_NO_HANDSHAKE);
    n.closed = 1;
    assert_int_equal(cf_classify(&n), CF_O_CLOSED);
}

static void test_verdicts(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512];
    assert_int_equal(parse(&cat,
                           "case m\nlevel MUST\nrule r\nsend handshake\noutcome closed\n"
                           "case s\nlevel SHOULD\nrule r\nsend handshake\noutcome closed\n"
                           "case i\nlevel INFO\nrule r\nsend handshake\noutcome closed\n"
                           "case p\nlevel MUST\nrule r\nsend handshake proto=pair0\noutcome paired\n"
                           "case e\nlevel MUST\nrule r\nneeds echo\nprotos rep\nsend handshake\noutcome echoed\n",
                           err),
                     0);
    const cf_case *m = &cat.cases[0], *s = &cat.cases[1], *i = &cat.cases[2], *p = &cat.cases[3],
                  *e = &cat.cases[4];
    assert_int_equal(cf_verdict(m, 0x11, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(m, 0x11, CF_O_OPEN, 0), CF_FAIL);
    assert_int_equal(cf_verdict(s, 0x11, CF_O_OPEN, 0), CF_NONSTRICT);
    assert_int_equal(cf_verdict(s, 0x11, CF_O_OPEN, 1), CF_FAIL);
    assert_int_equal(cf_verdict(s, 0x11, CF_O_CRASHED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(i, 0x11, CF_O_OPEN, 0), CF_INFORMATIONAL);
    assert_int_equal(cf_verdict(i, 0x11, CF_O_HUNG, 0), CF_FAIL);
    assert_int_equal(cf_verdict(i, 0x11, CF_O_LEAKED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(p, SPW_PROTO_PAIR0, CF_O_OPEN, 0), CF_PASS);
    assert_int_equal(cf_verdict(p, SPW_PROTO_PAIR0, CF_O_CLOSED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(p, SPW_PROTO_PAIR1, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(p, SPW_PROTO_PAIR1, CF_O_OPEN, 0), CF_FAIL);
    char buf[128];
    assert_null(cf_skip_reason(m, SPW_PROTO_REQ, 0, buf, sizeof buf));
    assert_non_null(cf_skip_reason(e, SPW_PROTO_PAIR1, 1, buf, sizeof buf));
    assert_non_null(strstr(buf, "applies to rep only"));
    cf_catalogue_free(&cat);
}

static void test_glob_hex(void **st)
{
    (void)st;
    assert_true(cf_glob("handshake.*", "handshake.valid"));
    assert_true(cf_glob("*.limit*", "frame.length.limit-plus-one"));
    assert_false(cf_glob("frame.*", "handshake.valid"));
    assert_true(cf_glob("a?c", "abc"));
    assert_false(cf_glob("a?c", "ac"));
    uint8_t *p;
    size_t n;
    assert_int_equal(cf_parse_hex("00 53 50\"x\\x01\"", &p, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "\x00\x53\x50x\x01", 5);
    free(p);
    assert_int_equal(cf_parse_hex("0", &p, &n), -1);
}

static void test_expectations(void **st)
{
    (void)st;
    cf_expectations x;
    char err[256];
    assert_int_equal(cf_expect_parse(&x, "e.txt", "# c\na.b PASS\nc.d NON-STRICT  # why\n\n", err,
                                     sizeof err), 0);
    assert_int_equal(x.n, 2);
    assert_int_equal(cf_expect_lookup(&x, "c.d"), CF_NONSTRICT);
    assert_int_equal(cf_expect_lookup(&x, "zz"), -1);
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b PASS\na.b FAIL\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "e.txt:2:"));
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b MAYBE\n", err, sizeof err), -1);
    cf_expect_free(&x);
}

static void test_messages(void **st)
{
    (void)st;
    cf_buf b = {0};
    cf_build_message(&b, SPW_PROTO_REP, 7, -1, NULL, 0, 0, (const uint8_t *)"hi", 2);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.p, "\x80\x00\x00\x07hi", 6);
    assert_true(cf_echo_matches(SPW_PROTO_REP, b.p, b.len, b.p, b.len));
    assert_false(cf_echo_matches(SPW_PROTO_REP, b.p, b.len, (const uint8_t *)"\x80\0\0\x08hi", 6));
    cf_buf_free(&b);
    cf_build_message(&b, SPW_PROTO_PAIR1, 7, -1, NULL, 0, 0, (const uint8_t *)"hi", 2);
    assert_memory_equal(b.p, "\0\0\0\x01hi", 6);
    assert_true(cf_echo_matches(SPW_PROTO_PAIR1, b.p, 6, (const uint8_t *)"\0\0\0\x05hi", 6));
    assert_false(cf_echo_matches(SPW_PROTO_PAIR1, b.p, 6, (const uint8_t *)"\0\0\x01\x01hi", 6));
    cf_buf_free(&b);
    cf_build_message(&b, SPW_PROTO_PAIR0, 7, -1, NULL, 0, 0, (const uint8_t *)"hi", 2);
    assert_int_equal(b.len, 2);
    cf_buf_free(&b);
}

static void test_catalogue_loads(void **st)
{
    (void)st;
    cf_catalogue cat = {0};
    char err[512] = "";
    int rc = cf_load(&cat, SPW_CONFORM_CASES_DIR, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_true(cat.ncases >= 100);
    cf_catalogue_free(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_expr),         cmocka_unit_test(test_classify),
        cmocka_unit_test(test_verdicts),     cmocka_unit_test(test_glob_hex),
        cmocka_unit_test(test_expectations), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_catalogue_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
