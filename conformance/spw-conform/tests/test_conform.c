/* Unit tests of spw-conform's pure engine: case parsing, expressions,
 * classification, verdicts, globs, expectations, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "catalogue.h"
#include "expect.h"
#include "iut.h"
#include "judge.h"
#include "outcome.h"
#include "runner.h"
#include "sp_msg.h"
#include "text.h"
#include "conn.h"
#include "steps.h"

/* cf_skip_reason for a target with fd_slots fds (0: an address transport) */
static const char *skip_for(const cf_case *c, uint16_t proto, int fd_slots, char *buf,
                            size_t len)
{
    cf_offer of = {.proto = proto, .transport = fd_slots ? CF_TR_SOCKET : CF_TR_TCP,
                   .fd_slots = fd_slots};
    return cf_skip_reason(c, &of, buf, len);
}
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
    o.exited = 1;
    assert_int_equal(cf_classify(&o), CF_O_EXITED);
    o.crashed = 1;
    assert_int_equal(cf_classify(&o), CF_O_CRASHED);
    cf_obs n = {0};
    n.hs_have = 3;
    n.hs_valid = 1;
    assert_int_equal(cf_classify(&n), CF_O_NO_HANDSHAKE);
    n.closed = 1;
    assert_int_equal(cf_classify(&n), CF_O_CLOSED);
}

/* An IUT that exits on its own fails any case at any level, like a crash. */
static void test_exited_fails_every_level(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512];
    assert_int_equal(parse(&cat, "case a.info\nlevel INFO\nrule r\nsend handshake\n"
                                 "outcome closed open\n", err), 0);
    assert_true(cf_outcome_is_robustness(CF_O_EXITED));
    assert_true(cf_outcome_is_robustness(CF_O_CRASHED));
    assert_false(cf_outcome_is_robustness(CF_O_CLOSED));
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_PAIR1, CF_O_EXITED, 0), CF_FAIL);
    assert_int_equal(cf_outcome_by_name("exited"), CF_O_EXITED);
    assert_string_equal(cf_outcome_name(CF_O_EXITED), "exited");
    cf_catalogue_free(&cat);
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\noutcome exited\n",
                 "t.cases:5: outcome 'exited' can never be acceptable");
}

/* --recvmax 0: 'unlimited' swaps the acceptable set in; a limit-relative
 * case without it is skipped with the reason; the others stay as they are. */
static void test_no_limit(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512];
    const char *text = "case a.huge\nlevel MUST\nrule r\nsend handshake\n"
                       "send frame len=0x100000000 body=0\noutcome closed\nunlimited open closed\n"
                       "case a.rel\nlevel MUST\nrule r\nsend handshake\n"
                       "send message size=limit+1\noutcome closed\n"
                       "case a.body\nlevel MUST\nrule r\nsend handshake\n"
                       "send frame len=5 body=limit\noutcome closed\n"
                       "case a.plain\nlevel MUST\nrule r\nsend handshake\noutcome open\n";
    assert_int_equal(parse(&cat, text, err), 0);
    assert_int_equal(cat.cases[0].uses_limit, 0);
    assert_int_equal(cat.cases[1].uses_limit, 1);
    assert_int_equal(cat.cases[2].uses_limit, 1);
    assert_int_equal(cat.cases[3].uses_limit, 0);
    char why[256];
    assert_null(skip_for(&cat.cases[1], SPW_PROTO_PAIR1, 1, why, sizeof why));
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_PAIR1, CF_O_OPEN, 0), CF_FAIL);
    cf_catalogue_no_limit(&cat);
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_PAIR1, CF_O_OPEN, 0), CF_PASS);
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_PAIR1, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_PAIR1, CF_O_CRASHED, 0), CF_FAIL);
    const char *r = skip_for(&cat.cases[1], SPW_PROTO_PAIR1, 1, why, sizeof why);
    assert_non_null(r);
    assert_non_null(strstr(r, "--recvmax 0"));
    assert_non_null(skip_for(&cat.cases[2], SPW_PROTO_PAIR1, 1, why, sizeof why));
    assert_null(skip_for(&cat.cases[3], SPW_PROTO_PAIR1, 1, why, sizeof why));
    cf_catalogue_free(&cat);
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\noutcome open\nunlimited open\n"
                 "unlimited closed\n", "t.cases:7: second 'unlimited'");
    expect_error("case x\nlevel MUST\nrule r\nsend handshake\noutcome open\nunlimited hung\n",
                 "t.cases:6: outcome 'hung' can never be acceptable");
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
    assert_int_equal(cf_verdict(m, 0, 0x11, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(m, 0, 0x11, CF_O_OPEN, 0), CF_FAIL);
    assert_int_equal(cf_verdict(s, 0, 0x11, CF_O_OPEN, 0), CF_NONSTRICT);
    assert_int_equal(cf_verdict(s, 0, 0x11, CF_O_OPEN, 1), CF_FAIL);
    assert_int_equal(cf_verdict(s, 0, 0x11, CF_O_CRASHED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(i, 0, 0x11, CF_O_OPEN, 0), CF_INFORMATIONAL);
    assert_int_equal(cf_verdict(i, 0, 0x11, CF_O_HUNG, 0), CF_FAIL);
    assert_int_equal(cf_verdict(i, 0, 0x11, CF_O_LEAKED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(p, 0, SPW_PROTO_PAIR0, CF_O_OPEN, 0), CF_PASS);
    assert_int_equal(cf_verdict(p, 0, SPW_PROTO_PAIR0, CF_O_CLOSED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(p, 0, SPW_PROTO_PAIR1, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(p, 0, SPW_PROTO_PAIR1, CF_O_OPEN, 0), CF_FAIL);
    char buf[128];
    assert_null(skip_for(m, SPW_PROTO_REQ, 0, buf, sizeof buf));
    assert_non_null(skip_for(e, SPW_PROTO_PAIR1, 1, buf, sizeof buf));
    assert_non_null(strstr(buf, "applies to rep only"));
    cf_catalogue_free(&cat);
}

static void test_parse_num(void **st)
{
    (void)st;
    unsigned long long v = 7;
    assert_int_equal(cf_parse_num("0x10", 0, 100, &v), 0);
    assert_true(v == 16);
    assert_int_equal(cf_parse_num("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cf_parse_num("18446744073709551616", 0, UINT64_MAX, &v), -1);
    assert_int_equal(cf_parse_num("-1", 0, UINT64_MAX, &v), -1);
    assert_int_equal(cf_parse_num("+1", 0, 10, &v), -1);
    assert_int_equal(cf_parse_num(" 1", 0, 10, &v), -1);
    assert_int_equal(cf_parse_num("", 0, 10, &v), -1);
    assert_int_equal(cf_parse_num("5x", 0, 10, &v), -1);
    assert_int_equal(cf_parse_num("11", 0, 10, &v), -1);
    assert_int_equal(cf_parse_num("0", 1, 10, &v), -1);
}

static void test_glob(void **st)
{
    (void)st;
    assert_true(cf_glob("handshake.*", "handshake.valid"));
    assert_true(cf_glob("*.limit*", "frame.length.limit-plus-one"));
    assert_false(cf_glob("frame.*", "handshake.valid"));
    assert_true(cf_glob("a?c", "abc"));
    assert_false(cf_glob("a?c", "ac"));
}

static void test_expectations(void **st)
{
    (void)st;
    cf_expectations x;
    char err[256];
    assert_int_equal(cf_expect_parse(&x, "e.txt", "# c\na.b PASS\nc.d NON-STRICT  # why\n\n", err,
                                     sizeof err), 0);
    assert_int_equal(x.n, 2);
    assert_int_equal(cf_expect_lookup(&x, "c.d"), 1u << CF_NONSTRICT);
    assert_int_equal(cf_expect_lookup(&x, "zz"), 0);
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b PASS\na.b FAIL\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "e.txt:2:"));
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b MAYBE\n", err, sizeof err), -1);
    cf_expect_free(&x);
}

/* A racing IUT's case lists every verdict it was seen to give; a typo in
 * one alternative is still an error. */
static void test_expectations_accept_alternatives(void **st)
{
    (void)st;
    cf_expectations x;
    char err[256];
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b PASS|FAIL # races\n", err, sizeof err), 0);
    assert_int_equal(cf_expect_lookup(&x, "a.b"), (1u << CF_PASS) | (1u << CF_FAIL));
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b PASS|FIAL\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "e.txt:1:"));
    cf_expect_free(&x);
    assert_int_equal(cf_expect_parse(&x, "e.txt", "a.b PASS|\n", err, sizeof err), 0);
    assert_int_equal(cf_expect_lookup(&x, "a.b"), 1u << CF_PASS);
    cf_expect_free(&x);
}

static const char *multi =
    "case s.multi\n"
    "level MUST\n"
    "rule r\n"
    "fds 3\n"
    "needs echo\n"
    "on fd2\n"
    "send handshake version=1\n"
    "on fd1\n"
    "send handshake\n"
    "send message\n"
    "on fd3\n"
    "send handshake proto=pair0\n"
    "outcome echoed\n"
    "outcome fd2 closed\n"
    "outcome fd3 paired\n";

/* 'fds N', 'on fdK' and 'outcome fdK': each connection is judged on its own
 * set; steps belong to the connection selected before them. */
static void test_parse_several_fds(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512] = "";
    if (parse(&cat, multi, err))
        fail_msg("%s", err);
    const cf_case *c = &cat.cases[0];
    assert_int_equal(c->nconns, 3);
    assert_int_equal(c->needs_fd, 1);
    assert_int_equal(c->steps[1].conn, 1);
    assert_int_equal(c->steps[3].conn, 0);
    assert_int_equal(c->steps[4].conn, 0);
    assert_int_equal(c->steps[6].conn, 2);
    assert_int_equal(cf_verdict(c, 0, SPW_PROTO_PAIR1, CF_O_ECHOED, 0), CF_PASS);
    assert_int_equal(cf_verdict(c, 1, SPW_PROTO_PAIR1, CF_O_ECHOED, 0), CF_FAIL);
    assert_int_equal(cf_verdict(c, 1, SPW_PROTO_PAIR1, CF_O_CLOSED, 0), CF_PASS);
    /* 'paired' on fd3 looks at fd3's handshake (pair0: wrong for a pair1
     * IUT), not at fd1's (its valid peer) */
    assert_int_equal(cf_verdict(c, 2, SPW_PROTO_PAIR1, CF_O_OPEN, 0), CF_FAIL);
    assert_int_equal(cf_verdict(c, 2, SPW_PROTO_PAIR1, CF_O_CLOSED, 0), CF_PASS);
    assert_int_equal(cf_verdict(c, 2, SPW_PROTO_PAIR0, CF_O_OPEN, 0), CF_PASS);
    char buf[128];
    assert_null(skip_for(c, SPW_PROTO_PAIR1, CF_MAX_CONNS, buf, sizeof buf));
    assert_non_null(skip_for(c, SPW_PROTO_PAIR1, 1, buf, sizeof buf));
    assert_non_null(strstr(buf, "{fds}"));
    assert_non_null(skip_for(c, SPW_PROTO_PAIR1, 0, buf, sizeof buf));
    assert_non_null(strstr(buf, "socket transport"));
    cf_catalogue_free(&cat);
}

static void test_parse_several_fds_errors(void **st)
{
    (void)st;
    const char *head = "case x\nlevel MUST\nrule r\n";
    char t[512];
#define BAD(body, where)                                                     \
    do {                                                                     \
        snprintf(t, sizeof t, "%s%s", head, body);                           \
        expect_error(t, where);                                              \
    } while (0)
    BAD("on fd2\nsend handshake\noutcome open\n", "t.cases:4: 'on fdK'");
    BAD("fds 2\non fd3\nsend handshake\noutcome open\n", "t.cases:5:");
    BAD("fds 1\nsend handshake\noutcome open\n", "t.cases:4: 'fds N'");
    BAD("fds 9\nsend handshake\noutcome open\n", "t.cases:4:");
    BAD("send handshake\nfds 2\noutcome open\n", "before the script");
    BAD("fds 2\nsend handshake\noutcome fd1 open\n", "fd2 has no outcome");
    BAD("fds 2\nsend handshake\noutcome fd1 open\noutcome fd1 closed\n", "second 'outcome fd1'");
    BAD("fds 2\nbatch\non fd2\nsend handshake\nflush\noutcome open\n", "inside a batch");
    BAD("send handshake\noutcome fd2 open\n", "t.cases:5:");
#undef BAD
}

/* 'needs requester', 'expect request' and 'send message id=' drive a
 * req/surveyor IUT; the parser keeps them out of cases that do not. */
static void test_parse_requester(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512] = "";
    if (parse(&cat,
              "case r\nlevel MUST\nrule r\nneeds requester\nsend handshake\nexpect request\n"
              "send message id=other\nsend message\nexpect request\noutcome requested\n",
              err))
        fail_msg("%s", err);
    const cf_case *c = &cat.cases[0];
    assert_int_equal(c->needs_requester, 1);
    assert_int_equal(c->steps[1].kind, CF_S_EXPECT_REQUEST);
    assert_int_equal(c->steps[2].reply_id, CF_ID_OTHER);
    assert_int_equal(c->steps[3].reply_id, CF_ID_SAME);
    char buf[128];
    assert_null(skip_for(c, SPW_PROTO_REQ, 0, buf, sizeof buf));
    assert_null(skip_for(c, SPW_PROTO_SURVEYOR, 0, buf, sizeof buf));
    assert_non_null(skip_for(c, SPW_PROTO_REP, 0, buf, sizeof buf));
    assert_non_null(strstr(buf, "sends requests"));
    assert_int_equal(cf_verdict(c, 0, SPW_PROTO_REQ, CF_O_REQUESTED, 0), CF_PASS);
    assert_int_equal(cf_verdict(c, 0, SPW_PROTO_REQ, CF_O_NO_REQUEST, 0), CF_FAIL);
    cf_catalogue_free(&cat);
    const char *head = "case x\nlevel MUST\nrule r\n";
    char t[512];
    snprintf(t, sizeof t, "%ssend handshake\nexpect request\noutcome open\n", head);
    expect_error(t, "t.cases:5: 'expect request' in a case without 'needs requester'");
    snprintf(t, sizeof t, "%ssend message id=other\noutcome open\n", head);
    expect_error(t, "t.cases:4: 'id='");
    snprintf(t, sizeof t, "%sneeds requester\nsend message id=wrong\noutcome open\n", head);
    expect_error(t, "t.cases:5: id= takes");
    snprintf(t, sizeof t, "%sneeds requester echo\nsend handshake\noutcome open\n", head);
    expect_error(t, "echo or requester");
    snprintf(t, sizeof t, "%sneeds requester\nsend handshake\noutcome bad-request\n", head);
    expect_error(t, "can never be acceptable");
}

/* A malformed request fails every case; a request that reuses an answered
 * id, or no request, is an ordinary outcome the case judges. */
static void test_classify_requests(void **st)
{
    (void)st;
    cf_obs o = {0};
    o.hs_have = 8;
    o.hs_valid = 1;
    o.req_waits = 2;
    o.req_got = 2;
    assert_int_equal(cf_classify(&o), CF_O_REQUESTED);
    o.req_got = 1;
    assert_int_equal(cf_classify(&o), CF_O_NO_REQUEST);
    o.closed = 1;
    assert_int_equal(cf_classify(&o), CF_O_CLOSED);
    o.req_reused = 1;
    assert_int_equal(cf_classify(&o), CF_O_REUSED_ID);
    o.req_bad = 1;
    assert_int_equal(cf_classify(&o), CF_O_BAD_REQUEST);
    cf_catalogue cat;
    char err[512];
    assert_int_equal(parse(&cat, "case i\nlevel INFO\nrule r\nsend handshake\noutcome open\n",
                           err), 0);
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_REQ, CF_O_BAD_REQUEST, 0), CF_FAIL);
    assert_int_equal(cf_verdict(&cat.cases[0], 0, SPW_PROTO_REQ, CF_O_REUSED_ID, 0),
                     CF_INFORMATIONAL);
    cf_catalogue_free(&cat);
}

static void test_verdict_worse(void **st)
{
    (void)st;
    assert_int_equal(cf_verdict_worse(CF_PASS, CF_FAIL), CF_FAIL);
    assert_int_equal(cf_verdict_worse(CF_FAIL, CF_PASS), CF_FAIL);
    assert_int_equal(cf_verdict_worse(CF_NONSTRICT, CF_INFORMATIONAL), CF_NONSTRICT);
    assert_int_equal(cf_verdict_worse(CF_PASS, CF_INFORMATIONAL), CF_INFORMATIONAL);
    assert_int_equal(cf_verdict_worse(CF_FAIL, CF_ERROR), CF_ERROR);
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
    /* an answer to a req IUT keeps the id as given, even a wrong one */
    cf_build_message(&b, SPW_PROTO_REQ, 0x00000102u, -1, NULL, 0, 0, (const uint8_t *)"hi", 2);
    assert_memory_equal(b.p, "\x00\x00\x01\x02hi", 6);
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

/* 'transports' restricts a case; the others skip it, saying why */
static void test_transports(void **st)
{
    (void)st;
    cf_catalogue cat;
    char err[512] = "", buf[256];
    assert_int_equal(parse(&cat, "case t\nlevel MUST\nrule r\ntransports socket tcp\n"
                                 "send handshake\noutcome open\n", err), 0);
    const cf_case *c = &cat.cases[0];
    assert_int_equal(c->transports, (1u << CF_TR_SOCKET) | (1u << CF_TR_TCP));
    cf_offer ipc = {.proto = SPW_PROTO_PAIR1, .transport = CF_TR_IPC, .fd_slots = 0};
    const char *why = cf_skip_reason(c, &ipc, buf, sizeof buf);
    assert_non_null(why);
    assert_non_null(strstr(why, "applies to socket tcp only, not ipc"));
    assert_null(skip_for(c, SPW_PROTO_PAIR1, 0, buf, sizeof buf));
    cf_catalogue_free(&cat);
    expect_error("case t\nlevel MUST\nrule r\ntransports udp\n", "unknown transport 'udp'");
    expect_error("case t\nlevel MUST\nrule r\ntransports tcp\ntransports ipc\n",
                 "second 'transports'");
}

/* every step kind has one row: a keyword, a parser, and either a renderer
 * (sending steps, allowed in a batch) or a run function */
static void test_step_table(void **st)
{
    (void)st;
    for (int k = 0; k < CF_S_COUNT; k++) {
        const cf_step_type *ty = cf_step_type_of(k);
        assert_non_null(ty);
        assert_int_equal(ty->kind, k);
        assert_non_null(ty->keyword);
        assert_non_null(ty->parse);
        assert_true((ty->render != NULL) != (ty->run != NULL));
        assert_int_equal(!!(ty->flags & CF_STEP_SENDS), ty->render != NULL);
        char *tok[2] = {(char *)ty->keyword, (char *)(ty->object ? ty->object : "")};
        int words;
        char objects[256];
        assert_ptr_equal(cf_step_type_find(tok, ty->object ? 2 : 1, &words, objects,
                                           sizeof objects), ty);
        assert_int_equal(words, ty->object ? 2 : 1);
    }
    assert_null(cf_step_type_of(CF_S_COUNT));
    char *bad[2] = {"send", "frobnicate"};
    int words;
    char objects[256];
    assert_null(cf_step_type_find(bad, 2, &words, objects, sizeof objects));
    assert_non_null(strstr(objects, "send message"));
}

/* ipc framing: a type byte before the length; socket/tcp: none */
static void test_framing(void **st)
{
    (void)st;
    const cf_framing *tcp = &cf_driver_of(CF_TR_TCP)->framing;
    const cf_framing *ipc = &cf_driver_of(CF_TR_IPC)->framing;
    uint8_t h[16];
    cf_framing_encode(ipc, h, 3);
    assert_memory_equal(h, "\x01\0\0\0\0\0\0\0\x03", 9);
    cf_framing_encode(tcp, h, 3);
    assert_memory_equal(h, "\0\0\0\0\0\0\0\x03", 8);
    const uint8_t f[] = {1, 0, 0, 0, 0, 0, 0, 0, 2, 'h', 'i', 1};
    size_t body, flen;
    /* whole, and every truncation */
    assert_int_equal(cf_framing_parse(ipc, f, 11, &body, &flen), 1);
    assert_int_equal(body, 2);
    assert_int_equal(flen, 11);
    for (size_t n = 0; n < 11; n++)
        assert_int_equal(cf_framing_parse(ipc, f, n, &body, &flen), 0);
    assert_int_equal(cf_framing_parse(ipc, (const uint8_t *)"\x02", 1, &body, &flen), -1);
    assert_int_equal(cf_framing_parse(tcp, f + 1, 10, &body, &flen), 1);
    assert_int_equal(flen, 10);
    assert_ptr_equal(cf_driver_for_url("ipc:///tmp/x"), cf_driver_of(CF_TR_IPC));
    assert_ptr_equal(cf_driver_for_url("tcp://h:1"), cf_driver_of(CF_TR_TCP));
    assert_null(cf_driver_for_url("socket://"));
    assert_null(cf_driver_for_url("udp://h:1"));
    cf_addr a;
    char err[256];
    assert_int_equal(cf_driver_of(CF_TR_IPC)->parse("ipc://relative", &a, err, sizeof err), -1);
    assert_int_equal(cf_driver_of(CF_TR_TCP)->parse("tcp://[::1]:80", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 80);
}

/* --update-expect's merge: racing lines that accept the verdict stay,
 * others are replaced, ids not run and comments stay, new ids appended */
static void test_expect_merge(void **st)
{
    (void)st;
    const char *old = "# head\na PASS|FAIL\nb FAIL\nc SKIP   # why\n\n";
    const char *ids[] = {"a", "b", "d"};
    int v[] = {CF_FAIL, CF_PASS, CF_NONSTRICT};
    cf_buf out = {0};
    assert_int_equal(cf_expect_merge(old, ids, v, 3, &out), 2);
    assert_string_equal((char *)out.p, "# head\na PASS|FAIL\nb PASS\nc SKIP   # why\n\n"
                                       "d NON-STRICT\n");
    cf_buf_free(&out);
    assert_int_equal(cf_expect_merge(NULL, ids, v, 3, &out), 3);
    assert_string_equal((char *)out.p, "a FAIL\nb PASS\nd NON-STRICT\n");
    cf_buf_free(&out);
}

/* The line a sanitizer report starts on, whichever sanitizer; an
 * allocator's warning (allocator_may_return_null, NNG's huge lengths) or a
 * panic is no report. */
static void test_sanitizer_report(void **st)
{
    (void)st;
    assert_null(cf_iut_sanitizer_report(NULL));
    assert_null(cf_iut_sanitizer_report(""));
    assert_null(cf_iut_sanitizer_report(
        "{\"event\":\"add\"}\n==27002==WARNING: AddressSanitizer failed to allocate 0xffff bytes\n"
        "panic: chunk_append failed\n"));
    const char *asan = "{\"event\":\"msg\"}\nsend failed\n==12==ERROR: AddressSanitizer: "
                       "heap-use-after-free on address 0x60\n    #0 0x5 in f\n";
    assert_ptr_equal(cf_iut_sanitizer_report(asan), strstr(asan, "==12=="));
    const char *ub = "x\nsrc/a.c:3:5: runtime error: signed integer overflow\n"
                     "==9==ERROR: LeakSanitizer: detected memory leaks\n";
    assert_ptr_equal(cf_iut_sanitizer_report(ub), strstr(ub, "src/a.c"));
    const char *first = "==1==ERROR: LeakSanitizer: detected memory leaks\n";
    assert_ptr_equal(cf_iut_sanitizer_report(first), first);
    assert_null(cf_iut_log_evidence(NULL));
    assert_null(cf_iut_log_evidence(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_expr),         cmocka_unit_test(test_classify),
        cmocka_unit_test(test_verdicts),     cmocka_unit_test(test_glob),
        cmocka_unit_test(test_expectations), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_catalogue_loads),
        cmocka_unit_test(test_transports),   cmocka_unit_test(test_step_table),
        cmocka_unit_test(test_framing),      cmocka_unit_test(test_expect_merge),
        cmocka_unit_test(test_expectations_accept_alternatives),
        cmocka_unit_test(test_parse_several_fds),
        cmocka_unit_test(test_parse_several_fds_errors),
        cmocka_unit_test(test_parse_requester),
        cmocka_unit_test(test_classify_requests),
        cmocka_unit_test(test_verdict_worse),
        cmocka_unit_test(test_exited_fails_every_level),
        cmocka_unit_test(test_no_limit),
        cmocka_unit_test(test_parse_num),
        cmocka_unit_test(test_sanitizer_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
