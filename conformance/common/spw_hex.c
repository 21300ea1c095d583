#include "spw_hex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hexbuf {
    uint8_t *p;
    size_t len, cap;
};

static int hb_reserve(struct hexbuf *b, size_t more)
{
    if (more <= b->cap - b->len)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q)
        return -1;
    b->p = q;
    b->cap = cap;
    return 0;
}

static int hb_fill(struct hexbuf *b, uint8_t byte, size_t n)
{
    if (hb_reserve(b, n))
        return -1;
    memset(b->p + b->len, byte, n);
    b->len += n;
    return 0;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Fills err with "column N: why" and returns -1. */
static int fail(const char *s, const char *at, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(const char *s, const char *at, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "column %zu: ", (size_t)(at - s) + 1);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* c as it reads in a message: itself when printable, else \xHH. */
static const char *shown(int c, char buf[8])
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "\\x%02x", (unsigned)(unsigned char)c);
    return buf;
}

int spw_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The string item at *pp (on its opening quote); advances past the closing
 * one. */
static int parse_string(const char *s, const char **pp, struct hexbuf *b, char *err,
                        size_t errlen)
{
    const char *open = *pp, *p = open + 1;
    char sb[8];
    for (; *p != '"'; p++) {
        if (*p == '\0')
            return fail(s, open, err, errlen, "string not closed by '\"'");
        uint8_t c = (uint8_t)*p;
        if (c == '\\') {
            const char *esc = p++;
            switch (*p) {
            case 'r':
                c = '\r';
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case '\\':
            case '"':
                c = (uint8_t)*p;
                break;
            case 'x': {
                int hi = spw_hex_digit((unsigned char)p[1]);
                int lo = hi < 0 ? -1 : spw_hex_digit((unsigned char)p[2]);
                if (lo < 0)
                    return fail(s, esc, err, errlen, "\\x needs two hex digits");
                c = (uint8_t)(hi << 4 | lo);
                p += 2;
                break;
            }
            case '\0':
                return fail(s, open, err, errlen, "string not closed by '\"'");
            default:
                return fail(s, esc, err, errlen,
                            "unknown escape, \\ then %s (known: \\r \\n \\t \\\\ \\\" \\xHH)",
                            shown((unsigned char)*p, sb));
            }
        }
        if (hb_fill(b, c, 1))
            return fail(s, p, err, errlen, "out of memory");
    }
    *pp = p + 1;
    return 0;
}

/* The hex item at *pp, with its repeat count; advances past it. */
static int parse_hex(const char *s, const char **pp, struct hexbuf *b, char *err, size_t errlen)
{
    const char *p = *pp;
    char sb[8];
    int hi = spw_hex_digit((unsigned char)p[0]);
    if (p[0] == '-')
        return fail(s, p, err, errlen, "'-' (no bytes) stands alone: whitespace or the end follows");
    if (hi < 0)
        return fail(s, p, err, errlen, "%s is not a hex digit, '\"' or '-'",
                    shown((unsigned char)p[0], sb));
    int lo = spw_hex_digit((unsigned char)p[1]);
    if (lo < 0)
        return fail(s, p, err, errlen, "a hex byte needs two digits");
    uint8_t byte = (uint8_t)(hi << 4 | lo);
    p += 2;
    size_t count = 1;
    if (*p == '*') {
        const char *star = p++;
        if (*p < '0' || *p > '9')
            return fail(s, star, err, errlen, "'*' needs a decimal count");
        count = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            count = count * 10 + (size_t)(*p - '0');
            if (count > SPW_HEX_MAX_REPEAT)
                break;
        }
        if (count < 1 || count > SPW_HEX_MAX_REPEAT)
            return fail(s, star + 1, err, errlen, "repeat count must be 1 to %d",
                        SPW_HEX_MAX_REPEAT);
    }
    if (hb_fill(b, byte, count))
        return fail(s, *pp, err, errlen, "out of memory");
    *pp = p;
    return 0;
}

int spw_hex_parse(const char *s, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    struct hexbuf b = {0};
    const char *p = s;
    int rc = 0;
    while (rc == 0 && *p) {
        if (is_space((unsigned char)*p))
            p++;
        else if (*p == '"')
            rc = parse_string(s, &p, &b, err, errlen);
        else if (*p == '-' && (p[1] == '\0' || is_space((unsigned char)p[1])))
            p++;
        else
            rc = parse_hex(s, &p, &b, err, errlen);
    }
    if (rc == 0 && !b.p && hb_reserve(&b, 1))
        rc = fail(s, p, err, errlen, "out of memory");
    if (rc != 0) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
