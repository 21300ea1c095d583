/* spw-conform engine — the step table: parse, render and run of every
 * script keyword (steps.h). */
#include "steps.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "session.h"
#include "sp_msg.h"
#include "spw_hex.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "text.h"

/* ------------------------------------------------------------ expressions */

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
        unsigned long long v;
        if (!isdigit((unsigned char)*s) || cf_parse_num(s, 0, INT32_MAX, &v))
            return -1;
        e->off = neg ? -(int64_t)v : (int64_t)v;
        return 0;
    }
    unsigned long long v;
    if (!isdigit((unsigned char)*s) || cf_parse_num(s, 0, UINT64_MAX, &v))
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

/* ------------------------------------------------------------ steps */

void cf_step_init(cf_step *s, int kind, int line, int conn)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = line;
    s->conn = conn;
    s->hs_len = 8;
    s->hops = -1;
    s->count = 1;
    for (int i = 0; i < 8; i++)
        s->hs_byte[i] = -1;
}

void cf_step_free(cf_step *s)
{
    free(s->data);
    free(s->hdr);
    s->data = s->hdr = NULL;
}

uint16_t cf_step_handshake_proto(const cf_step *s, uint16_t iut)
{
    int peer = spw_proto_peer(iut);
    if (peer < 0)
        peer = 0;
    switch (s->hs_sel) {
    case CF_HS_PEER:
        return (uint16_t)peer;
    case CF_HS_SELF:
        return iut;
    case CF_HS_SWAPPED:
        return (uint16_t)(((peer & 0xff) << 8) | (peer >> 8));
    default:
        return s->hs_proto;
    }
}

/* ------------------------------------------------------------ parsing */

static int perr(const cf_step_parse *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(const cf_step_parse *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, ctx->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    unsigned long long v;
    if (cf_parse_num(s, (unsigned long long)min, (unsigned long long)max, &v))
        return -1;
    *out = (long)v;
    return 0;
}

/* A protocol by name (spwire/proto.h's names and aliases) or a number. */
static int parse_proto(const char *s, uint16_t *out)
{
    int id = spw_proto_by_name(s);
    unsigned long long v;
    if (id >= 0) {
        *out = (uint16_t)id;
        return 0;
    }
    if (isdigit((unsigned char)*s) && cf_parse_num(s, 0, 0xffff, &v) == 0) {
        *out = (uint16_t)v;
        return 0;
    }
    return -1;
}

static int parse_hex(const cf_step_parse *ctx, const char *what, const char *v, uint8_t **out,
                     size_t *len)
{
    char why[160];
    if (spw_hex_parse(v, out, len, why, sizeof why))
        return perr(ctx, "bad hex in %s: %s", what, why);
    return 0;
}

/* A key=value word split in place: *v points at the value. -1 (reason in ctx) when
 * there is no =. */
static int split_kv(const cf_step_parse *ctx, char *k, char **v)
{
    *v = strchr(k, '=');
    if (!*v)
        return perr(ctx, "expected key=value, got '%s'", k);
    *(*v)++ = 0;
    return 0;
}

static int parse_none(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    const cf_step_type *ty = cf_step_type_of(s->kind);
    if (n != 0)
        return perr(ctx, "'%s%s%s' takes no arguments, not '%s'", ty->keyword,
                    ty->object ? " " : "", ty->object ? ty->object : "", tok[0]);
    return 0;
}

static int parse_send_bytes(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    if (n < 1)
        return perr(ctx, "'send bytes' needs hex bytes or a \"string\"");
    cf_buf joined = {0};
    for (int i = 0; i < n; i++) {
        cf_buf_add(&joined, tok[i], strlen(tok[i]));
        cf_buf_add(&joined, " ", 1);
    }
    int rc = parse_hex(ctx, "'send bytes'", (char *)joined.p, &s->data, &s->data_len);
    cf_buf_free(&joined);
    return rc;
}

static int parse_send_handshake(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    for (int i = 0; i < n; i++) {
        char *k = tok[i], *v;
        long iv;
        if (split_kv(ctx, k, &v))
            return -1;
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
                return perr(ctx, "bad protocol '%s'", v);
        } else if (strcmp(k, "version") == 0) {
            if (parse_int(v, 0, 255, &iv))
                return perr(ctx, "version must be 0..255");
            s->hs_byte[3] = (int)iv;
        } else if (strcmp(k, "reserved") == 0) {
            if (parse_int(v, 0, 0xffff, &iv))
                return perr(ctx, "reserved must be 0..0xffff");
            s->hs_byte[6] = (int)(iv >> 8);
            s->hs_byte[7] = (int)(iv & 0xff);
        } else if (strcmp(k, "len") == 0) {
            if (parse_int(v, 0, 8, &iv))
                return perr(ctx, "handshake len must be 0..8");
            s->hs_len = (int)iv;
        } else if (k[0] == 'b' && k[1] >= '0' && k[1] <= '7' && k[2] == 0) {
            if (parse_int(v, 0, 255, &iv))
                return perr(ctx, "%s must be 0..255", k);
            s->hs_byte[k[1] - '0'] = (int)iv;
        } else
            return perr(ctx, "unknown handshake key '%s'", k);
    }
    return 0;
}

static int parse_send_frame(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    for (int i = 0; i < n; i++) {
        char *k = tok[i], *v;
        if (split_kv(ctx, k, &v))
            return -1;
        if (strcmp(k, "len") == 0) {
            if (cf_expr_parse(v, &s->len))
                return perr(ctx, "bad length expression '%s'", v);
            s->has_len = 1;
        } else if (strcmp(k, "body") == 0) {
            if (cf_expr_parse(v, &s->body))
                return perr(ctx, "bad body expression '%s'", v);
            s->has_body = 1;
        } else if (strcmp(k, "data") == 0) {
            if (parse_hex(ctx, "data=", v, &s->data, &s->data_len))
                return -1;
            s->has_data = 1;
        } else
            return perr(ctx, "unknown frame key '%s' (len, body, data)", k);
    }
    if (!s->has_len && !s->has_data)
        return perr(ctx, "'send frame' needs len= or data=");
    return 0;
}

static int parse_send_message(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    for (int i = 0; i < n; i++) {
        char *k = tok[i], *v;
        long iv;
        if (strcmp(k, "drop") == 0) {
            s->drop = 1;
            continue;
        }
        if (split_kv(ctx, k, &v))
            return -1;
        if (strcmp(k, "data") == 0) {
            if (parse_hex(ctx, "data=", v, &s->data, &s->data_len))
                return -1;
            s->has_data = 1;
        } else if (strcmp(k, "size") == 0) {
            if (cf_expr_parse(v, &s->len))
                return perr(ctx, "bad size expression '%s'", v);
            s->has_size = 1;
        } else if (strcmp(k, "header") == 0) {
            if (parse_hex(ctx, "header=", v, &s->hdr, &s->hdr_len))
                return -1;
            s->has_hdr = 1;
        } else if (strcmp(k, "hops") == 0) {
            if (parse_int(v, 0, 0x7fffffff, &iv))
                return perr(ctx, "bad hops");
            s->hops = (int)iv;
        } else if (strcmp(k, "count") == 0) {
            if (parse_int(v, 1, 100000, &iv))
                return perr(ctx, "count must be 1..100000");
            s->count = (int)iv;
        } else if (strcmp(k, "id") == 0) {
            if (strcmp(v, "same") == 0)
                s->reply_id = CF_ID_SAME;
            else if (strcmp(v, "other") == 0)
                s->reply_id = CF_ID_OTHER;
            else if (strcmp(v, "nohibit") == 0)
                s->reply_id = CF_ID_NOHIBIT;
            else
                return perr(ctx, "id= takes same, other or nohibit");
        } else
            return perr(ctx, "unknown message key '%s' (data, size, header, hops, count, id, "
                        "drop)", k);
    }
    if (s->has_size && s->has_data)
        return perr(ctx, "'send message' takes size= or data=, not both");
    return 0;
}

static int parse_split(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    long v;
    if (n < 1 || n > 2 || parse_int(tok[0], 0, 1 << 20, &v))
        return perr(ctx, "'split N [gap=MS]' (N=0 turns splitting off)");
    s->n = (int)v;
    if (n == 2) {
        if (strncmp(tok[1], "gap=", 4) || parse_int(tok[1] + 4, 0, 10000, &v))
            return perr(ctx, "bad gap (gap=MS)");
        s->gap_ms = (int)v;
    }
    return 0;
}

static int parse_pause(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    long v;
    if (n != 1 || parse_int(tok[0], 0, 600000, &v))
        return perr(ctx, "'pause MS'");
    s->n = (int)v;
    return 0;
}

static int parse_expect_bytes(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    long v;
    if (n != 1 || parse_int(tok[0], 1, 1 << 24, &v))
        return perr(ctx, "'expect bytes N' needs N in 1..16777216");
    s->n = (int)v;
    return 0;
}

static int parse_on(cf_step *s, const cf_step_parse *ctx, char **tok, int n)
{
    long v;
    if (n != 1 || strncmp(tok[0], "fd", 2) || parse_int(tok[0] + 2, 1, ctx->nconns, &v))
        return perr(ctx, "'on fdK' needs K in 1..%d (the case's 'fds')", ctx->nconns);
    s->n = (int)v - 1;
    s->conn = s->n;
    return 0;
}

/* ------------------------------------------------------------ rendering */

static void fill(cf_buf *out, uint64_t n)
{
    uint8_t tmp[4096];
    for (size_t i = 0; i < sizeof tmp; i++)
        tmp[i] = (uint8_t)('a' + i % 26);
    while (n > 0) {
        size_t k = n > sizeof tmp ? sizeof tmp : (size_t)n;
        cf_buf_add(out, tmp, k);
        n -= k;
    }
}

/* Bodies larger than this are announced, not sent: a case about a huge
 * length tests the announcement, and the IUT must judge it first. */
#define CF_BODY_CAP ((uint64_t)64 * 1024 * 1024)

static void put_frame_header(const cf_render *r, cf_buf *out, uint64_t len)
{
    uint8_t h[16];
    cf_framing_encode(r->framing, h, len);
    cf_buf_add(out, h, r->framing->hdr_len);
}

static void render_handshake(const cf_step *s, const cf_render *r, cf_buf *out)
{
    uint8_t h[8];
    spw_handshake_encode(h, cf_step_handshake_proto(s, r->iut));
    for (int i = 0; i < 8; i++)
        if (s->hs_byte[i] >= 0)
            h[i] = (uint8_t)s->hs_byte[i];
    cf_buf_add(out, h, (size_t)s->hs_len);
}

static void render_bytes(const cf_step *s, const cf_render *r, cf_buf *out)
{
    (void)r;
    cf_buf_add(out, s->data, s->data_len);
}

static void render_frame(const cf_step *s, const cf_render *r, cf_buf *out)
{
    uint64_t len = s->has_len ? cf_expr_eval(&s->len, r->limit) : s->data_len;
    put_frame_header(r, out, len);
    if (s->has_data) {
        cf_buf_add(out, s->data, s->data_len);
        return;
    }
    uint64_t body = s->has_body ? cf_expr_eval(&s->body, r->limit)
                                : (len <= CF_BODY_CAP ? len : 0);
    if (body > CF_BODY_CAP)
        body = CF_BODY_CAP;
    fill(out, body);
}

/* Message k of step s with SP header id reqid (header + body, no frame). */
static void render_one_message(const cf_step *s, const cf_render *r, uint32_t reqid, int k,
                               cf_buf *msg)
{
    cf_buf body = {0};
    if (s->has_data)
        cf_buf_add(&body, s->data, s->data_len);
    else if (!s->has_size)
        cf_buf_printf(&body, "spwire-%d", k);
    cf_build_message(msg, r->iut, reqid, s->hops, s->hdr, s->hdr_len, s->has_hdr, body.p,
                     body.len);
    if (s->has_size) {
        uint64_t want = cf_expr_eval(&s->len, r->limit);
        if (want > CF_BODY_CAP)
            want = CF_BODY_CAP;
        if (want < msg->len)
            msg->len = (size_t)want;
        else
            fill(msg, want - msg->len);
    }
    cf_buf_free(&body);
}

static void render_message(const cf_step *s, const cf_render *r, cf_buf *out)
{
    for (int k = 0; k < s->count; k++) {
        int64_t id = r->next_id(r->ctx, s);
        if (id < 0)
            return;
        cf_buf m = {0};
        render_one_message(s, r, (uint32_t)id, k, &m);
        put_frame_header(r, out, m.len);
        cf_buf_add(out, m.p, m.len);
        if (r->sent)
            r->sent(r->ctx, s, &m);
        cf_buf_free(&m);
    }
}

/* ------------------------------------------------------------ running */

static void run_split(const cf_step *s, cf_exec *x)
{
    x->split = (size_t)s->n;
    x->gap = s->gap_ms;
}

static void run_pause(const cf_step *s, cf_exec *x)
{
    cf_side *c = x->cur;
    if (c->hold) {
        cf_sleep_ms(s->n);
        return;
    }
    cf_io_read_until(c->fd, cf_now_ms() + s->n, &c->s.rx, &c->closed, &c->w, NULL, NULL);
}

static void run_batch(const cf_step *s, cf_exec *x)
{
    (void)s;
    x->batching = 1;
}

static void run_flush(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    x->batching = 0;
    if (!c->closed && x->batch.len) {
        cf_io_write(c->fd, x->batch.p, x->batch.len, x->split, x->gap, c->hold ? NULL : &c->s.rx,
                    &c->closed, &c->w);
        c->s.last_send_ms = cf_now_ms();
    }
    x->batch.len = 0;
}

static void run_shutdown_write(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_io_shutdown(x->cur->fd, &x->cur->w);
    x->cur->shut = 1;
    cf_log_note(&x->cur->w, "we shut down our write side (FIN)");
}

/* Under stop-reading, how much of the IUT's stream was taken before we
 * went away: the wire log's proof of where the send path was cut. */
static void note_unread(cf_side *c)
{
    if (!c->hold)
        return;
    char m[128];
    snprintf(m, sizeof m, "stop-reading: %zu bytes of the IUT's stream read, the rest unread",
             c->s.rx.len);
    cf_log_note(&c->w, m);
}

static void run_close(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    note_unread(c);
    cf_io_close(c->fd, &c->w);
    c->fd = -1;
    c->o.we_closed = 1;
    c->closed = 1;
    cf_log_note(&c->w, "we closed the connection");
}

static void run_reset(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    note_unread(c);
    cf_io_reset(c->fd, &c->w);
    c->fd = -1;
    c->o.we_closed = 1;
    c->closed = 1;
    cf_log_note(&c->w, "we reset the connection (SO_LINGER 0)");
}

/* Up to byte n after the IUT's header, never one more: a point inside the
 * IUT's own stream (its send path) for a following close or reset; under
 * stop-reading the rest stays unread, in the IUT's way. */
static void run_expect_bytes(const cf_step *s, cf_exec *x)
{
    cf_side *c = x->cur;
    cf_io_read_upto(c->fd, cf_now_ms() + x->timeout, &c->s.rx, 8 + (size_t)s->n, &c->closed, &c->w);
}

static void run_stop_reading(const cf_step *s, cf_exec *x)
{
    (void)s;
    x->cur->hold = 1;
    cf_io_hold(x->cur->fd);
}

static void run_expect_handshake(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    if (cf_io_read_until(c->fd, cf_now_ms() + x->timeout, &c->s.rx, &c->closed, &c->w,
                         cf_rx_done_handshake, &c->s) > 0)
        c->o.hs_timeout = 1;
}

static void run_expect_echo(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    cf_io_read_until(c->fd, cf_now_ms() + x->timeout, &c->s.rx, &c->closed, &c->w,
                     cf_rx_done_echo, &c->s);
}

static void run_expect_request(const cf_step *s, cf_exec *x)
{
    (void)s;
    cf_side *c = x->cur;
    c->o.req_waits++;
    if (cf_io_read_until(c->fd, cf_now_ms() + x->timeout, &c->s.rx, &c->closed, &c->w,
                         cf_rx_done_request, &c->s) == 0 &&
        !c->s.req_bad && !c->s.req_reused)
        c->o.req_got++;
}

static void run_on(const cf_step *s, cf_exec *x)
{
    x->cur = &x->sides[s->n];
}

/* ------------------------------------------------------------ the table */

static const cf_step_type types[CF_S_COUNT] = {
    [CF_S_SEND_HANDSHAKE] = {"send", "handshake", CF_S_SEND_HANDSHAKE, CF_STEP_SENDS,
                             parse_send_handshake, render_handshake, NULL},
    [CF_S_SEND_BYTES] = {"send", "bytes", CF_S_SEND_BYTES, CF_STEP_SENDS, parse_send_bytes,
                         render_bytes, NULL},
    [CF_S_SEND_FRAME] = {"send", "frame", CF_S_SEND_FRAME, CF_STEP_SENDS, parse_send_frame,
                         render_frame, NULL},
    [CF_S_SEND_MESSAGE] = {"send", "message", CF_S_SEND_MESSAGE, CF_STEP_SENDS,
                           parse_send_message, render_message, NULL},
    [CF_S_SPLIT] = {"split", NULL, CF_S_SPLIT, 0, parse_split, NULL, run_split},
    [CF_S_PAUSE] = {"pause", NULL, CF_S_PAUSE, 0, parse_pause, NULL, run_pause},
    [CF_S_BATCH] = {"batch", NULL, CF_S_BATCH, 0, parse_none, NULL, run_batch},
    [CF_S_FLUSH] = {"flush", NULL, CF_S_FLUSH, 0, parse_none, NULL, run_flush},
    [CF_S_SHUTDOWN_WRITE] = {"shutdown-write", NULL, CF_S_SHUTDOWN_WRITE, 0, parse_none, NULL,
                             run_shutdown_write},
    [CF_S_CLOSE] = {"close", NULL, CF_S_CLOSE, 0, parse_none, NULL, run_close},
    [CF_S_EXPECT_HANDSHAKE] = {"expect", "handshake", CF_S_EXPECT_HANDSHAKE, 0, parse_none,
                               NULL, run_expect_handshake},
    [CF_S_EXPECT_ECHO] = {"expect", "echo", CF_S_EXPECT_ECHO, 0, parse_none, NULL,
                          run_expect_echo},
    [CF_S_EXPECT_REQUEST] = {"expect", "request", CF_S_EXPECT_REQUEST, 0, parse_none, NULL,
                             run_expect_request},
    [CF_S_ON] = {"on", NULL, CF_S_ON, CF_STEP_ALWAYS, parse_on, NULL, run_on},
    [CF_S_RESET] = {"reset", NULL, CF_S_RESET, 0, parse_none, NULL, run_reset},
    [CF_S_EXPECT_BYTES] = {"expect", "bytes", CF_S_EXPECT_BYTES, 0, parse_expect_bytes, NULL,
                           run_expect_bytes},
    [CF_S_STOP_READING] = {"stop-reading", NULL, CF_S_STOP_READING, 0, parse_none, NULL,
                           run_stop_reading},
};

const cf_step_type *cf_step_type_of(int kind)
{
    return kind >= 0 && kind < CF_S_COUNT ? &types[kind] : NULL;
}

const cf_step_type *cf_step_type_find(char **tok, int n, int *words, char *objects,
                                      size_t objlen)
{
    size_t off = 0;
    *words = 0;
    if (objlen)
        objects[0] = 0;
    for (int k = 0; k < CF_S_COUNT; k++) {
        const cf_step_type *ty = &types[k];
        if (n < 1 || strcmp(ty->keyword, tok[0]) != 0)
            continue;
        if (!ty->object) {
            *words = 1;
            return ty;
        }
        if (n >= 2 && strcmp(ty->object, tok[1]) == 0) {
            *words = 2;
            return ty;
        }
        if (off < objlen)
            off += (size_t)snprintf(objects + off, objlen - off, "%s%s %s", off ? ", " : "",
                                    ty->keyword, ty->object);
    }
    return NULL;
}
