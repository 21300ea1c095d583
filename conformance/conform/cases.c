/* spw-conform — the case catalogue parser (pure apart from cf_load).
 * Format: conformance/cases/README.md. Strict: every problem is an error
 * naming file:line; nothing is skipped silently. */
#include "conform.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spwire/proto.h"

static const char *const level_names[] = {"MUST", "SHOULD", "INFO"};
static const char *const outcome_names[CF_O_COUNT] = {
    "closed", "closed-after-reply", "echoed",  "open",    "not-echoed", "wrong-echo",
    "no-handshake", "bad-handshake", "garbage", "crashed", "hung",       "leaked",
    "requested", "no-request", "bad-request", "reused-id", "exited"};
static const char *const verdict_names[] = {"PASS", "NON-STRICT", "INFORMATIONAL",
                                            "FAIL", "ERROR",      "SKIP"};

const char *cf_level_name(int level)
{
    return level >= 0 && level <= CF_INFO ? level_names[level] : "?";
}

const char *cf_outcome_name(int o)
{
    if (o == CF_O_PAIRED)
        return "paired";
    return o >= 0 && o < CF_O_COUNT ? outcome_names[o] : "?";
}

int cf_outcome_by_name(const char *name)
{
    for (int i = 0; i < CF_O_COUNT; i++)
        if (strcmp(outcome_names[i], name) == 0)
            return i;
    if (strcmp(name, "paired") == 0)
        return CF_O_PAIRED;
    return -1;
}

const char *cf_verdict_name(int v)
{
    return v >= 0 && v <= CF_SKIP ? verdict_names[v] : "?";
}

int cf_verdict_by_name(const char *name)
{
    for (int i = 0; i <= CF_SKIP; i++)
        if (strcmp(verdict_names[i], name) == 0)
            return i;
    return -1;
}

int cf_proto_can_echo(uint16_t p)
{
    return p == SPW_PROTO_PAIR0 || p == SPW_PROTO_PAIR1 || p == SPW_PROTO_BUS ||
           p == SPW_PROTO_REP || p == SPW_PROTO_RESPONDENT;
}

int cf_proto_requests(uint16_t p)
{
    return p == SPW_PROTO_REQ || p == SPW_PROTO_SURVEYOR;
}

/* ------------------------------------------------------------ helpers */

int cf_expr_parse(const char *s, cf_expr *e)
{
    memset(e, 0, sizeof *e);
    if (strncmp(s, "limit", 5) == 0) {
        e->rel_limit = 1;
        s += 5;
        if (*s == 0)
            return 0;
        if (*s != '+' && *s != '-')
            return -1;
        int neg = *s == '-';
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (*end || errno || v > INT32_MAX)
            return -1;
        e->off = neg ? -(int64_t)v : (int64_t)v;
        return 0;
    }
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno)
        return -1;
    e->off = (int64_t)v;
    return 0;
}

uint64_t cf_expr_eval(const cf_expr *e, uint64_t limit)
{
    if (e->rel_limit)
        return limit + (uint64_t)e->off;
    return (uint64_t)e->off;
}

int cf_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cf_parse_hex(const char *s, uint8_t **out, size_t *len)
{
    cf_buf b = {0};
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                uint8_t c = (uint8_t)*s++;
                if (c == '\\') {
                    char e = *s++;
                    if (e == 'r')
                        c = '\r';
                    else if (e == 'n')
                        c = '\n';
                    else if (e == 't')
                        c = '\t';
                    else if (e == '\\' || e == '"')
                        c = (uint8_t)e;
                    else if (e == 'x' && cf_hexval(s[0]) >= 0 && cf_hexval(s[1]) >= 0) {
                        c = (uint8_t)(cf_hexval(s[0]) * 16 + cf_hexval(s[1]));
                        s += 2;
                    } else
                        goto bad;
                }
                cf_buf_add(&b, &c, 1);
            }
            if (*s != '"')
                goto bad;
            s++;
            continue;
        }
        int hi = cf_hexval((unsigned char)s[0]);
        int lo = hi >= 0 ? cf_hexval((unsigned char)s[1]) : -1;
        if (hi < 0 || lo < 0)
            goto bad;
        uint8_t c = (uint8_t)(hi * 16 + lo);
        cf_buf_add(&b, &c, 1);
        s += 2;
    }
    if (b.p == NULL)
        cf_buf_add(&b, "", 0);
    *out = b.p;
    *len = b.len;
    return 0;
bad:
    cf_buf_free(&b);
    return -1;
}

void cf_buf_add(cf_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cf_buf_free(cf_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void cf_buf_printf(cf_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        cf_buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cf_buf_add(b, big, (size_t)n);
    free(big);
}

/* ------------------------------------------------------------ parser */

typedef struct pstate {
    cf_catalogue *cat;
    const char *file;
    int line;
    char *err;
    size_t errlen;
    cf_case *cur;
    int conn; /* the connection later steps act on ('on K') */
    int seen_level, seen_rule, seen_outcome, seen_needs, seen_protos, seen_timeout, seen_fds;
    int seen_unlimited;
} pstate;

static int perr(pstate *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(pstate *ps, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->file, ps->line, msg);
    return -1;
}

static int valid_id(const char *s)
{
    if (!*s || !islower((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static int parse_proto(const char *s, uint16_t *out)
{
    int id = spw_proto_by_name(s);
    if (id >= 0) {
        *out = (uint16_t)id;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (*s && !*end && !errno && v <= 0xffff && isdigit((unsigned char)*s)) {
        *out = (uint16_t)v;
        return 0;
    }
    return -1;
}

int cf_parse_num(const char *s, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    unsigned long long v;
    if (cf_parse_num(s, (unsigned long long)min, (unsigned long long)max, &v))
        return -1;
    *out = (long)v;
    return 0;
}

/* Split into whitespace tokens, but keep "..." (with escapes) inside one. */
static int tokenize(char *s, char **tok, int max)
{
    int n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (n == max)
            return -1;
        tok[n++] = s;
        int inq = 0;
        while (*s && (inq || !isspace((unsigned char)*s))) {
            if (*s == '\\' && inq && s[1]) {
                s += 2;
                continue;
            }
            if (*s == '"')
                inq = !inq;
            s++;
        }
        if (inq)
            return -2;
        if (*s)
            *s++ = 0;
    }
    return n;
}

static cf_step *new_step(pstate *ps, int kind)
{
    cf_case *c = ps->cur;
    cf_step *st = realloc(c->steps, sizeof *st * (size_t)(c->nsteps + 1));
    if (!st)
        abort();
    c->steps = st;
    cf_step *s = &st[c->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = ps->line;
    s->conn = ps->conn;
    s->hs_len = 8;
    s->hops = -1;
    s->count = 1;
    for (int i = 0; i < 8; i++)
        s->hs_byte[i] = -1;
    return s;
}

static int parse_send(pstate *ps, char **tok, int n)
{
    if (n < 2)
        return perr(ps, "'send' needs what: handshake, bytes, frame or message");
    const char *what = tok[1];
    if (strcmp(what, "bytes") == 0) {
        if (n < 3)
            return perr(ps, "'send bytes' needs hex bytes or a \"string\"");
        cf_buf joined = {0};
        for (int i = 2; i < n; i++) {
            cf_buf_add(&joined, tok[i], strlen(tok[i]));
            cf_buf_add(&joined, " ", 1);
        }
        cf_step *s = new_step(ps, CF_S_SEND_BYTES);
        int rc = cf_parse_hex((char *)joined.p, &s->data, &s->data_len);
        cf_buf_free(&joined);
        if (rc < 0)
            return perr(ps, "bad hex or string in 'send bytes'");
        return 0;
    }
    int kind;
    if (strcmp(what, "handshake") == 0)
        kind = CF_S_SEND_HANDSHAKE;
    else if (strcmp(what, "frame") == 0)
        kind = CF_S_SEND_FRAME;
    else if (strcmp(what, "message") == 0)
        kind = CF_S_SEND_MESSAGE;
    else
        return perr(ps, "unknown 'send %s' (handshake, bytes, frame, message)", what);
    cf_step *s = new_step(ps, kind);
    for (int i = 2; i < n; i++) {
        char *k = tok[i];
        char *v = strchr(k, '=');
        if (v)
            *v++ = 0;
        long iv;
        if (kind == CF_S_SEND_MESSAGE && !v && strcmp(k, "drop") == 0) {
            s->drop = 1;
            continue;
        }
        if (!v)
            return perr(ps, "expected key=value, got '%s'", k);
        if (kind == CF_S_SEND_HANDSHAKE) {
            if (strcmp(k, "proto") == 0) {
                if (strcmp(v, "peer") == 0)
                    s->hs_sel = CF_HS_PEER;
                else if (strcmp(v, "self") == 0)
                    s->hs_sel = CF_HS_SELF;
                else if (strcmp(v, "peer-swapped") == 0)
                    s->hs_sel = CF_HS_SWAPPED;
                else if (parse_proto(v, &s->hs_proto) == 0)
                    s->hs_sel = CF_HS_VALUE;
                else
                    return perr(ps, "bad protocol '%s'", v);
            } else if (strcmp(k, "version") == 0) {
                if (parse_int(v, 0, 255, &iv))
                    return perr(ps, "version must be 0..255");
                s->hs_byte[3] = (int)iv;
            } else if (strcmp(k, "reserved") == 0) {
                if (parse_int(v, 0, 0xffff, &iv))
                    return perr(ps, "reserved must be 0..0xffff");
                s->hs_byte[6] = (int)(iv >> 8);
                s->hs_byte[7] = (int)(iv & 0xff);
            } else if (strcmp(k, "len") == 0) {
                if (parse_int(v, 0, 8, &iv))
                    return perr(ps, "handshake len must be 0..8");
                s->hs_len = (int)iv;
            } else if (k[0] == 'b' && k[1] >= '0' && k[1] <= '7' && k[2] == 0) {
                if (parse_int(v, 0, 255, &iv))
                    return perr(ps, "%s must be 0..255", k);
                s->hs_byte[k[1] - '0'] = (int)iv;
            } else
                return perr(ps, "unknown handshake key '%s'", k);
        } else if (kind == CF_S_SEND_FRAME) {
            if (strcmp(k, "len") == 0) {
                if (cf_expr_parse(v, &s->len))
                    return perr(ps, "bad length expression '%s'", v);
                s->has_len = 1;
            } else if (strcmp(k, "body") == 0) {
                if (cf_expr_parse(v, &s->body))
                    return perr(ps, "bad body expression '%s'", v);
                s->has_body = 1;
            } else if (strcmp(k, "data") == 0) {
                if (cf_parse_hex(v, &s->data, &s->data_len))
                    return perr(ps, "bad hex in data=");
                s->has_data = 1;
            } else
                return perr(ps, "unknown frame key '%s' (len, body, data)", k);
        } else {
            if (strcmp(k, "data") == 0) {
                if (cf_parse_hex(v, &s->data, &s->data_len))
                    return perr(ps, "bad hex in data=");
                s->has_data = 1;
            } else if (strcmp(k, "size") == 0) {
                if (cf_expr_parse(v, &s->len))
                    return perr(ps, "bad size expression '%s'", v);
                s->has_size = 1;
            } else if (strcmp(k, "header") == 0) {
                if (cf_parse_hex(v, &s->hdr, &s->hdr_len))
                    return perr(ps, "bad hex in header=");
                s->has_hdr = 1;
            } else if (strcmp(k, "hops") == 0) {
                if (parse_int(v, 0, 0x7fffffff, &iv))
                    return perr(ps, "bad hops");
                s->hops = (int)iv;
            } else if (strcmp(k, "count") == 0) {
                if (parse_int(v, 1, 100000, &iv))
                    return perr(ps, "count must be 1..100000");
                s->count = (int)iv;
            } else if (strcmp(k, "id") == 0) {
                if (strcmp(v, "same") == 0)
                    s->reply_id = CF_ID_SAME;
                else if (strcmp(v, "other") == 0)
                    s->reply_id = CF_ID_OTHER;
                else if (strcmp(v, "nohibit") == 0)
                    s->reply_id = CF_ID_NOHIBIT;
                else
                    return perr(ps, "id= takes same, other or nohibit");
            } else
                return perr(ps, "unknown message key '%s' (data, size, header, hops, count, id, "
                            "drop)", k);
        }
    }
    if (kind == CF_S_SEND_FRAME && !s->has_len && !s->has_data)
        return perr(ps, "'send frame' needs len= or data=");
    if (kind == CF_S_SEND_MESSAGE && s->has_size && s->has_data)
        return perr(ps, "'send message' takes size= or data=, not both");
    return 0;
}

static int finish_case(pstate *ps)
{
    cf_case *c = ps->cur;
    if (!c)
        return 0;
    int save = ps->line;
    ps->line = c->line;
    int rc = 0;
    if (!ps->seen_level)
        rc = perr(ps, "case %s has no 'level'", c->id);
    else if (!ps->seen_rule)
        rc = perr(ps, "case %s has no 'rule'", c->id);
    else if (!ps->seen_outcome && c->nconns == 1 && c->conn_noutcomes[0] == 0)
        rc = perr(ps, "case %s has no 'outcome'", c->id);
    else if (c->nsteps == 0)
        rc = perr(ps, "case %s has no script steps", c->id);
    for (int i = 0; i < c->nsteps; i++) {
        const cf_step *st = &c->steps[i];
        if (((st->has_len || st->has_size) && st->len.rel_limit) ||
            (st->has_body && st->body.rel_limit))
            c->uses_limit = 1;
    }
    ps->line = save;
    ps->cur = NULL;
    return rc;
}

/* An acceptable-outcome list ('outcome', 'unlimited'): known names, none
 * that can never be acceptable. */
static int parse_outcomes(pstate *ps, const char *kw, char **tok, int n, int *set, int *count)
{
    if (n < 1 || n > CF_MAX_OUTCOMES)
        return perr(ps, "'%s' needs 1..%d outcomes", kw, CF_MAX_OUTCOMES);
    for (int i = 0; i < n; i++) {
        int o = cf_outcome_by_name(tok[i]);
        if (o < 0)
            return perr(ps, "unknown outcome '%s'", tok[i]);
        if (cf_outcome_is_robustness(o) || o == CF_O_BAD_REQUEST)
            return perr(ps, "outcome '%s' can never be acceptable", tok[i]);
        set[(*count)++] = o;
    }
    return 0;
}

static int parse_line(pstate *ps, char *line)
{
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    size_t l = strlen(s);
    while (l && isspace((unsigned char)s[l - 1]))
        s[--l] = 0;
    if (!*s || *s == '#')
        return 0;

    /* rule keeps the rest of the line verbatim */
    if (strncmp(s, "rule", 4) == 0 && (s[4] == ' ' || s[4] == '\t' || s[4] == 0)) {
        if (!ps->cur)
            return perr(ps, "'rule' outside a case");
        if (ps->seen_rule)
            return perr(ps, "second 'rule' in case %s", ps->cur->id);
        char *r = s + 4;
        while (isspace((unsigned char)*r))
            r++;
        if (!*r)
            return perr(ps, "empty 'rule'");
        ps->cur->rule = strdup(r);
        ps->seen_rule = 1;
        return 0;
    }

    char *tok[64];
    int n = tokenize(s, tok, 64);
    if (n == -2)
        return perr(ps, "unterminated string");
    if (n < 0)
        return perr(ps, "too many words");
    const char *kw = tok[0];

    if (strcmp(kw, "case") == 0) {
        if (finish_case(ps))
            return -1;
        if (n != 2 || !valid_id(tok[1]))
            return perr(ps, "'case' needs one id of [a-z0-9._-], starting with a letter");
        for (int i = 0; i < ps->cat->ncases; i++)
            if (strcmp(ps->cat->cases[i].id, tok[1]) == 0)
                return perr(ps, "duplicate case id '%s' (first at %s:%d)", tok[1],
                            ps->cat->cases[i].file, ps->cat->cases[i].line);
        cf_case *cs = realloc(ps->cat->cases, sizeof *cs * (size_t)(ps->cat->ncases + 1));
        if (!cs)
            abort();
        ps->cat->cases = cs;
        cf_case *c = &cs[ps->cat->ncases++];
        memset(c, 0, sizeof *c);
        c->id = strdup(tok[1]);
        c->file = strdup(ps->file);
        c->line = ps->line;
        c->nconns = 1;
        ps->cur = c;
        ps->conn = 0;
        ps->seen_level = ps->seen_rule = ps->seen_outcome = 0;
        ps->seen_needs = ps->seen_protos = ps->seen_timeout = ps->seen_fds = 0;
        ps->seen_unlimited = 0;
        return 0;
    }
    if (!ps->cur)
        return perr(ps, "'%s' before the first 'case'", kw);
    cf_case *c = ps->cur;

    if (strcmp(kw, "level") == 0) {
        if (ps->seen_level++)
            return perr(ps, "second 'level'");
        if (n != 2)
            return perr(ps, "'level' needs MUST, SHOULD or INFO");
        for (int i = 0; i <= CF_INFO; i++)
            if (strcmp(tok[1], level_names[i]) == 0) {
                c->level = i;
                return 0;
            }
        return perr(ps, "unknown level '%s' (MUST, SHOULD, INFO)", tok[1]);
    }
    if (strcmp(kw, "needs") == 0) {
        if (ps->seen_needs++)
            return perr(ps, "second 'needs'");
        if (n < 2)
            return perr(ps, "'needs' needs echo and/or fd");
        for (int i = 1; i < n; i++) {
            if (strcmp(tok[i], "echo") == 0)
                c->needs_echo = 1;
            else if (strcmp(tok[i], "fd") == 0)
                c->needs_fd = 1;
            else if (strcmp(tok[i], "requester") == 0)
                c->needs_requester = 1;
            else
                return perr(ps, "unknown need '%s' (echo, fd, requester)", tok[i]);
        }
        return 0;
    }
    if (strcmp(kw, "protos") == 0) {
        if (ps->seen_protos++)
            return perr(ps, "second 'protos'");
        if (n < 2 || n - 1 > CF_MAX_PROTOS)
            return perr(ps, "'protos' needs 1..%d protocol names", CF_MAX_PROTOS);
        for (int i = 1; i < n; i++) {
            int id = spw_proto_by_name(tok[i]);
            if (id < 0)
                return perr(ps, "unknown protocol '%s'", tok[i]);
            c->protos[c->nprotos++] = (uint16_t)id;
        }
        return 0;
    }
    if (strcmp(kw, "timeout") == 0) {
        long v;
        if (ps->seen_timeout++)
            return perr(ps, "second 'timeout'");
        if (n != 2 || parse_int(tok[1], 1, 600000, &v))
            return perr(ps, "'timeout' needs milliseconds 1..600000");
        c->timeout_ms = (int)v;
        return 0;
    }
    if (strcmp(kw, "fds") == 0) {
        long v;
        if (ps->seen_fds++)
            return perr(ps, "second 'fds'");
        if (c->nsteps > 0)
            return perr(ps, "'fds' must come before the script");
        if (n != 2 || parse_int(tok[1], 2, CF_MAX_CONNS, &v))
            return perr(ps, "'fds N' needs 2..%d", CF_MAX_CONNS);
        c->nconns = (int)v;
        c->needs_fd = 1;
        return 0;
    }
    if (strcmp(kw, "on") == 0) {
        long v;
        if (n != 2 || strncmp(tok[1], "fd", 2) || parse_int(tok[1] + 2, 1, c->nconns, &v))
            return perr(ps, "'on fdK' needs K in 1..%d (the case's 'fds')", c->nconns);
        ps->conn = (int)v - 1;
        new_step(ps, CF_S_ON)->n = ps->conn;
        return 0;
    }
    if (strcmp(kw, "outcome") == 0) {
        /* "outcome fdK O..." gives connection K its own set */
        int conn = -1, first = 1;
        long v;
        if (n >= 2 && strncmp(tok[1], "fd", 2) == 0 && isdigit((unsigned char)tok[1][2])) {
            if (parse_int(tok[1] + 2, 1, c->nconns, &v))
                return perr(ps, "'outcome fdK' needs K in 1..%d (the case's 'fds')", c->nconns);
            conn = (int)v - 1;
            first = 2;
            if (c->conn_noutcomes[conn])
                return perr(ps, "second 'outcome fd%d'", conn + 1);
        } else if (ps->seen_outcome++)
            return perr(ps, "second 'outcome' (list every acceptable outcome on one line)");
        if (conn >= 0)
            return parse_outcomes(ps, kw, tok + first, n - first, c->conn_outcomes[conn],
                                  &c->conn_noutcomes[conn]);
        return parse_outcomes(ps, kw, tok + first, n - first, c->outcomes, &c->noutcomes);
    }
    if (strcmp(kw, "unlimited") == 0) {
        if (ps->seen_unlimited++)
            return perr(ps, "second 'unlimited'");
        return parse_outcomes(ps, kw, tok + 1, n - 1, c->unlimited, &c->nunlimited);
    }
    if (strcmp(kw, "send") == 0)
        return parse_send(ps, tok, n);
    if (strcmp(kw, "split") == 0) {
        long v;
        if (n < 2 || n > 3 || parse_int(tok[1], 0, 1 << 20, &v))
            return perr(ps, "'split N [gap=MS]' (N=0 turns splitting off)");
        cf_step *st = new_step(ps, CF_S_SPLIT);
        st->n = (int)v;
        if (n == 3) {
            if (strncmp(tok[2], "gap=", 4) || parse_int(tok[2] + 4, 0, 10000, &v))
                return perr(ps, "bad gap (gap=MS)");
            st->gap_ms = (int)v;
        }
        return 0;
    }
    if (strcmp(kw, "pause") == 0) {
        long v;
        if (n != 2 || parse_int(tok[1], 0, 600000, &v))
            return perr(ps, "'pause MS'");
        new_step(ps, CF_S_PAUSE)->n = (int)v;
        return 0;
    }
    if (n == 1 && strcmp(kw, "batch") == 0) {
        new_step(ps, CF_S_BATCH);
        return 0;
    }
    if (n == 1 && strcmp(kw, "flush") == 0) {
        new_step(ps, CF_S_FLUSH);
        return 0;
    }
    if (n == 1 && strcmp(kw, "shutdown-write") == 0) {
        new_step(ps, CF_S_SHUTDOWN_WRITE);
        return 0;
    }
    if (n == 1 && strcmp(kw, "close") == 0) {
        new_step(ps, CF_S_CLOSE);
        return 0;
    }
    if (strcmp(kw, "expect") == 0) {
        if (n == 2 && strcmp(tok[1], "handshake") == 0) {
            new_step(ps, CF_S_EXPECT_HANDSHAKE);
            return 0;
        }
        if (n == 2 && strcmp(tok[1], "echo") == 0) {
            new_step(ps, CF_S_EXPECT_ECHO);
            return 0;
        }
        if (n == 2 && strcmp(tok[1], "request") == 0) {
            new_step(ps, CF_S_EXPECT_REQUEST);
            return 0;
        }
        return perr(ps, "'expect handshake', 'expect echo' or 'expect request'");
    }
    return perr(ps, "unknown keyword '%s'", kw);
}

static int check_case_semantics(pstate *ps, cf_case *c)
{
    int batch = 0;
    for (int i = 0; i < c->nsteps; i++) {
        cf_step *s = &c->steps[i];
        ps->line = s->line;
        if (s->kind == CF_S_BATCH) {
            if (batch)
                return perr(ps, "'batch' inside a batch");
            batch = 1;
        } else if (s->kind == CF_S_FLUSH) {
            if (!batch)
                return perr(ps, "'flush' without 'batch'");
            batch = 0;
        } else if (batch && s->kind != CF_S_SEND_BYTES && s->kind != CF_S_SEND_FRAME &&
                   s->kind != CF_S_SEND_HANDSHAKE && s->kind != CF_S_SEND_MESSAGE)
            return perr(ps, "only 'send' steps inside a batch");
        if (s->kind == CF_S_EXPECT_ECHO && !c->needs_echo)
            return perr(ps, "'expect echo' in a case without 'needs echo'");
        if (s->kind == CF_S_EXPECT_REQUEST && !c->needs_requester)
            return perr(ps, "'expect request' in a case without 'needs requester'");
        if (s->kind == CF_S_SEND_MESSAGE && s->reply_id != CF_ID_SAME && !c->needs_requester)
            return perr(ps, "'id=' answers a request: only in a case with 'needs requester'");
        if (s->kind == CF_S_ON && batch)
            return perr(ps, "'on' inside a batch");
    }
    if (c->needs_echo && c->needs_requester) {
        ps->line = c->line;
        return perr(ps, "a case needs echo or requester, not both");
    }
    for (int k = 0; k < c->nconns; k++)
        if (c->conn_noutcomes[k] == 0 && c->noutcomes == 0) {
            ps->line = c->line;
            return perr(ps, "connection fd%d has no outcome ('outcome' or 'outcome fd%d')", k + 1,
                        k + 1);
        }
    if (batch) {
        ps->line = c->steps[c->nsteps - 1].line;
        return perr(ps, "'batch' without 'flush'");
    }
    return 0;
}

int cf_parse_text(cf_catalogue *cat, const char *file, const char *text, char *err,
                  size_t errlen)
{
    pstate ps = {.cat = cat, .file = file, .err = err, .errlen = errlen};
    int first = cat->ncases;
    const char *p = text;
    while (*p) {
        ps.line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = malloc(len + 1);
        if (!line)
            abort();
        memcpy(line, p, len);
        line[len] = 0;
        int rc = 0;
        for (size_t i = 0; i < len; i++)
            if (line[i] == 0 || ((unsigned char)line[i] < 0x20 && line[i] != '\t' &&
                                 line[i] != '\r')) {
                rc = perr(&ps, "control character in line");
                break;
            }
        if (!rc)
            rc = parse_line(&ps, line);
        free(line);
        if (rc)
            return -1;
        p = nl ? nl + 1 : p + len;
    }
    ps.line++;
    if (finish_case(&ps))
        return -1;
    for (int i = first; i < cat->ncases; i++)
        if (check_case_semantics(&ps, &cat->cases[i]))
            return -1;
    return 0;
}

char *cf_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    cf_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        cf_buf_add(&b, tmp, n);
    fclose(f);
    if (!b.p)
        cf_buf_add(&b, "", 0);
    if (memchr(b.p, 0, b.len)) {
        snprintf(err, errlen, "%s: NUL byte in file", path);
        cf_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cf_load(cf_catalogue *cat, const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (!d) {
        char *t = cf_read_file(path, err, errlen);
        if (!t)
            return -1;
        int rc = cf_parse_text(cat, path, t, err, errlen);
        free(t);
        return rc;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 6 && strcmp(de->d_name + l - 6, ".cases") == 0) {
            names = realloc(names, sizeof *names * (size_t)(n + 1));
            if (!names)
                abort();
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmpstr);
    int rc = 0;
    if (n == 0) {
        snprintf(err, errlen, "%s: no *.cases files", path);
        rc = -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        char *t = cf_read_file(full, err, errlen);
        if (!t) {
            rc = -1;
            break;
        }
        rc = cf_parse_text(cat, full, t, err, errlen);
        free(t);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

void cf_catalogue_free(cf_catalogue *cat)
{
    for (int i = 0; i < cat->ncases; i++) {
        cf_case *c = &cat->cases[i];
        for (int j = 0; j < c->nsteps; j++) {
            free(c->steps[j].data);
            free(c->steps[j].hdr);
        }
        free(c->steps);
        free(c->id);
        free(c->rule);
        free(c->file);
    }
    free(cat->cases);
    memset(cat, 0, sizeof *cat);
}

void cf_catalogue_no_limit(cf_catalogue *cat)
{
    for (int i = 0; i < cat->ncases; i++) {
        cf_case *c = &cat->cases[i];
        if (c->nunlimited > 0) {
            memcpy(c->outcomes, c->unlimited, sizeof c->outcomes);
            c->noutcomes = c->nunlimited;
        } else if (c->uses_limit)
            c->limit_skip = 1;
    }
}

