/* peer_events.c -- JSON-lines event writer. */
#include "peer_events.h"

#include "spw_sha256.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static FILE *ev_out;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;

void spw_ev_init(FILE *out)
{
    ev_out = out;
}

static void put(spw_ev_line *l, const char *s, size_t n)
{
    if (l->oom)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 128;
        char *nb;
        while (cap < l->len + n + 1)
            cap *= 2;
        nb = realloc(l->buf, cap);
        if (nb == NULL) {
            l->oom = 1;
            return;
        }
        l->buf = nb;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void puts_raw(spw_ev_line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_json_string(spw_ev_line *l, const char *s)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    put(l, "\"", 1);
    for (; *p; p++) {
        char esc[7];
        switch (*p) {
        case '"':
            put(l, "\\\"", 2);
            break;
        case '\\':
            put(l, "\\\\", 2);
            break;
        case '\n':
            put(l, "\\n", 2);
            break;
        case '\r':
            put(l, "\\r", 2);
            break;
        case '\t':
            put(l, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = digits[*p >> 4];
                esc[5] = digits[*p & 0xf];
                put(l, esc, 6);
            } else {
                /* Bytes >= 0x80 pass through; library strings are
                 * ASCII in practice. */
                put(l, (const char *)p, 1);
            }
        }
    }
    put(l, "\"", 1);
}

static void put_key(spw_ev_line *l, const char *key)
{
    put(l, ",", 1);
    put_json_string(l, key);
    put(l, ":", 1);
}

void spw_ev_begin(spw_ev_line *l, const char *event)
{
    l->buf = NULL;
    l->len = 0;
    l->cap = 0;
    l->oom = 0;
    puts_raw(l, "{\"event\":");
    put_json_string(l, event);
}

void spw_ev_str(spw_ev_line *l, const char *key, const char *val)
{
    put_key(l, key);
    put_json_string(l, val);
}

void spw_ev_int(spw_ev_line *l, const char *key, long long val)
{
    char num[32];
    put_key(l, key);
    snprintf(num, sizeof(num), "%lld", val);
    puts_raw(l, num);
}

void spw_ev_uint(spw_ev_line *l, const char *key, unsigned long long val)
{
    char num[32];
    put_key(l, key);
    snprintf(num, sizeof(num), "%llu", val);
    puts_raw(l, num);
}

void spw_ev_bool(spw_ev_line *l, const char *key, int val)
{
    put_key(l, key);
    puts_raw(l, val ? "true" : "false");
}

void spw_ev_end(spw_ev_line *l)
{
    FILE *out = ev_out ? ev_out : stdout;

    put(l, "}\n", 2);
    pthread_mutex_lock(&ev_lock);
    if (l->oom)
        fputs("{\"event\":\"error\",\"op\":\"event\",\"error\":\"ENOMEM\","
              "\"detail\":\"out of memory formatting event\"}\n",
              out);
    else
        fwrite(l->buf, 1, l->len, out);
    fflush(out);
    pthread_mutex_unlock(&ev_lock);
    free(l->buf);
    l->buf = NULL;
    l->len = l->cap = 0;
}

void spw_ev_start(const char *impl, const char *version, const char *proto)
{
    spw_ev_line l;
    spw_ev_begin(&l, "start");
    spw_ev_str(&l, "impl", impl);
    spw_ev_str(&l, "version", version);
    spw_ev_str(&l, "proto", proto);
    spw_ev_end(&l);
}

void spw_ev_rem(void)
{
    spw_ev_line l;
    spw_ev_begin(&l, "rem");
    spw_ev_end(&l);
}

void spw_ev_msg(const void *data, size_t len)
{
    spw_ev_line l;
    char sha[SPW_SHA256_HEX_LEN + 1];
    char hex[2 * SPW_EV_HEX_PREFIX + 1];
    size_t shown = len < SPW_EV_HEX_PREFIX ? len : SPW_EV_HEX_PREFIX;

    spw_sha256_hex(data, len, sha);
    spw_hex_encode(data, shown, hex);
    spw_ev_begin(&l, "msg");
    spw_ev_uint(&l, "len", (unsigned long long)len);
    spw_ev_str(&l, "sha256", sha);
    spw_ev_str(&l, "hex", hex);
    spw_ev_end(&l);
}

void spw_ev_sent(size_t len)
{
    spw_ev_line l;
    spw_ev_begin(&l, "sent");
    spw_ev_uint(&l, "len", (unsigned long long)len);
    spw_ev_end(&l);
}

void spw_ev_error(const char *op, const char *error, const char *detail)
{
    spw_ev_line l;
    spw_ev_begin(&l, "error");
    spw_ev_str(&l, "op", op);
    spw_ev_str(&l, "error", error);
    spw_ev_str(&l, "detail", detail);
    spw_ev_end(&l);
}

void spw_ev_done(long long sent, long long received, const char *digest_hex)
{
    spw_ev_line l;
    spw_ev_begin(&l, "done");
    spw_ev_int(&l, "sent", sent);
    spw_ev_int(&l, "received", received);
    spw_ev_str(&l, "digest", digest_hex);
    spw_ev_end(&l);
}
