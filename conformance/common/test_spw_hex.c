/* The one hex syntax (spw_hex.h): every construct, every error with its
 * column, and the spellings of the three syntaxes it replaced (vectors, case
 * files, peers' --send) meaning the bytes they meant there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spw_hex.h"

/* s parses to exactly the n bytes want. */
static void parses_to(const char *s, const void *want, size_t n)
{
    uint8_t *p = NULL;
    size_t len = 99;
    char err[128] = "";
    if (spw_hex_parse(s, &p, &len, err, sizeof err) != 0)
        fail_msg("'%s': %s", s, err);
    assert_non_null(p);
    if (len != n)
        fail_msg("'%s': %zu bytes, expected %zu", s, len, n);
    if (n)
        assert_memory_equal(p, want, n);
    free(p);
}

/* s is refused with exactly the message want; out and len untouched. */
static void refused(const char *s, const char *want)
{
    uint8_t sentinel = 0, *p = &sentinel;
    size_t len = 77;
    char err[160] = "";
    if (spw_hex_parse(s, &p, &len, err, sizeof err) != -1)
        fail_msg("'%s' parsed, expected: %s", s, want);
    assert_ptr_equal(p, &sentinel);
    assert_int_equal(len, 77);
    assert_string_equal(err, want);
}

static void digits(void **state)
{
    (void)state;
    const char *hex = "0123456789abcdef", *HEX = "0123456789ABCDEF";
    for (int c = -1; c < 256; c++) {
        int want = -1;
        for (int v = 0; v < 16; v++)
            if (c == hex[v] || c == HEX[v])
                want = v;
        assert_int_equal(spw_hex_digit(c), want);
    }
    assert_int_equal(spw_hex_digit(0x100 + '1'), -1);
}

static void hex_pairs(void **state)
{
    (void)state;
    parses_to("00 53 50 00", "\x00\x53\x50\x00", 4);
    parses_to("00535000", "\x00\x53\x50\x00", 4); /* runs */
    parses_to("aB Cd eF", "\xab\xcd\xef", 3);     /* either case */
    parses_to(" \t0a\n\r0b\v\f", "\x0a\x0b", 2);   /* any whitespace */
    parses_to("ff", "\xff", 1);
}

static void repeats(void **state)
{
    (void)state;
    uint8_t want[300];
    memset(want, 0x5a, sizeof want);
    parses_to("5a*300", want, 300);
    parses_to("00 5a*3 01", "\x00\x5a\x5a\x5a\x01", 5);
    parses_to("5a*1", "\x5a", 1);
    parses_to("01*2 02*2", "\x01\x01\x02\x02", 4);
    parses_to("01*12\"a\"", "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" "a", 13);
    /* a count takes every digit: "01*202" is 202 times 01 */
    uint8_t many[202];
    memset(many, 1, sizeof many);
    parses_to("01*202", many, 202);
    uint8_t *p;
    size_t n;
    assert_int_equal(spw_hex_parse("ee*67108864", &p, &n, NULL, 0), 0);
    assert_int_equal(n, SPW_HEX_MAX_REPEAT);
    assert_int_equal(p[0], 0xee);
    assert_int_equal(p[n - 1], 0xee);
    free(p);
}

static void strings(void **state)
{
    (void)state;
    parses_to("\"hello\"", "hello", 5);
    parses_to("\"GET / HTTP/1.1\"", "GET / HTTP/1.1", 14); /* spaces inside */
    parses_to("\"\"", "", 0);
    parses_to("\"a\"\"b\"", "ab", 2);
    parses_to("\"\\r\\n\\t\\\\\\\"\"", "\r\n\t\\\"", 5);
    parses_to("\"\\x00\\xfF\\x7e\"", "\x00\xff\x7e", 3);
    parses_to("\"-*\"", "-*", 2); /* no other meaning inside a string */
    parses_to("\"\xc3\xa9\"", "\xc3\xa9", 2); /* bytes as they are */
}

static void empty_and_dash(void **state)
{
    (void)state;
    parses_to("", "", 0); /* non-NULL *out even then (parses_to checks) */
    parses_to("   ", "", 0);
    parses_to("-", "", 0);
    parses_to(" - ", "", 0);
    parses_to("00 - 01", "\x00\x01", 2);
    parses_to("00-", "\x00", 1);
}

static void mixed(void **state)
{
    (void)state;
    parses_to("80 00 00 01 \"hello\"", "\x80\x00\x00\x01hello", 9);
    parses_to("00\"x\"01", "\x00x\x01", 3);
    parses_to("00*2\"a\"", "\x00\x00" "a", 3);
}

static void errors(void **state)
{
    (void)state;
    refused("0", "column 1: a hex byte needs two digits");
    refused("00 0", "column 4: a hex byte needs two digits");
    refused("0 0", "column 1: a hex byte needs two digits");
    refused("00 0g", "column 4: a hex byte needs two digits");
    refused("g0", "column 1: 'g' is not a hex digit, '\"' or '-'");
    refused("00 0x01", "column 4: a hex byte needs two digits");
    refused("00\x01", "column 3: \\x01 is not a hex digit, '\"' or '-'");
    refused("-5", "column 1: '-' (no bytes) stands alone: whitespace or the end follows");
    refused("00 --", "column 4: '-' (no bytes) stands alone: whitespace or the end follows");
    refused("*3", "column 1: '*' is not a hex digit, '\"' or '-'");
    refused("00*", "column 3: '*' needs a decimal count");
    refused("00* 3", "column 3: '*' needs a decimal count");
    refused("00*+3", "column 3: '*' needs a decimal count");
    refused("00*0", "column 4: repeat count must be 1 to 67108864");
    refused("00*67108865", "column 4: repeat count must be 1 to 67108864");
    refused("00*99999999999999999999999", "column 4: repeat count must be 1 to 67108864");
    refused("\"a\"*2", "column 4: '*' is not a hex digit, '\"' or '-'");
    refused("00 \"abc", "column 4: string not closed by '\"'");
    refused("\"ab\\", "column 1: string not closed by '\"'");
    refused("\"\\q\"", "column 2: unknown escape, \\ then 'q' (known: \\r \\n \\t \\\\ \\\" \\xHH)");
    refused("\"\\ \"", "column 2: unknown escape, \\ then \\x20 (known: \\r \\n \\t \\\\ \\\" \\xHH)");
    refused("\"ab\\x1\"", "column 4: \\x needs two hex digits");
    refused("\"\\xg0\"", "column 2: \\x needs two hex digits");
}

static void errors_fit_any_buffer(void **state)
{
    (void)state;
    uint8_t *p;
    size_t n;
    char err[8];
    assert_int_equal(spw_hex_parse("0", &p, &n, err, sizeof err), -1);
    assert_string_equal(err, "column ");
    assert_int_equal(spw_hex_parse("0", &p, &n, err, 1), -1);
    assert_int_equal(spw_hex_parse("0", &p, &n, NULL, 0), -1);
}

/* What each replaced parser accepted, from the data files and documented
 * options, means the same bytes. */
static void old_spellings_keep_their_bytes(void **state)
{
    (void)state;
    /* vectors (conformance/vectors/, unit/vectors.c): pairs, runs,
     * strings without escapes, HH*N, and '-' for the empty message */
    parses_to("00 00 00 00 00 00 00 03 \"abc\"", "\0\0\0\0\0\0\0\x03" "abc", 11);
    parses_to("00 00 00 00 00 00 00 02 \"hi\" 00 00 00", "\0\0\0\0\0\0\0\x02hi\0\0\0", 13);
    parses_to("\"GET / HTTP/1.1\"", "GET / HTTP/1.1", 14);
    parses_to("0053", "\x00\x53", 2);
    parses_to("-", "", 0);
    /* case files (conformance/cases/, conform/cases.c): the same
     * input its unit test checks, and every escape */
    parses_to("00 53 50\"x\\x01\"", "\x00\x53\x50x\x01", 5);
    parses_to("\"GET / HTTP/1.0\\r\\n\\r\\n\"", "GET / HTTP/1.0\r\n\r\n", 18);
    /* peers' --send: even-length hex, possibly empty */
    parses_to("0102a0FF", "\x01\x02\xa0\xff", 4);
    parses_to("", "", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digits),
        cmocka_unit_test(hex_pairs),
        cmocka_unit_test(repeats),
        cmocka_unit_test(strings),
        cmocka_unit_test(empty_and_dash),
        cmocka_unit_test(mixed),
        cmocka_unit_test(errors),
        cmocka_unit_test(errors_fit_any_buffer),
        cmocka_unit_test(old_spellings_keep_their_bytes),
    };
    return cmocka_run_group_tests_name("spw_hex", tests, NULL, NULL);
}
