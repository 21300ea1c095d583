/* Unit tests of the synthesized capture writer. Every file is read back by a
 * reader written here from the pcap, IPv4 and TCP specifications, not from
 * pcap.c, so a shared misunderstanding cannot make both sides agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcap.h"

#define TOOL_IP 0x0a000001u
#define IUT_IP 0x0a000002u
#define T0 1700000000123456LL

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10 };

/* ------------------------------------------------------------ reader */

typedef struct {
    uint32_t ts_sec, ts_usec;
    uint32_t src, dst;
    uint16_t id, frag, sport, dport, win;
    uint8_t ttl, flags;
    uint32_t seq, ack;
    const uint8_t *pay;
    size_t plen;
    int ip_ok, tcp_ok;
} pkt;

typedef struct {
    uint8_t *raw;
    size_t size;
    pkt *p;
    size_t n;
} capture;

static uint32_t rd_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t rd_le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint16_t rd_be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t rd_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* RFC 1071: a header carrying a correct checksum sums to 0xffff. */
static int sums_to_ffff(uint32_t acc, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n % 2)
        acc += (uint32_t)b[n - 1] << 8;
    while (acc > 0xffff)
        acc = (acc >> 16) + (acc & 0xffff);
    return acc == 0xffff;
}

static void decode(const uint8_t *d, size_t len, pkt *o)
{
    assert_true(len >= 40);
    assert_int_equal(d[0], 0x45);
    assert_int_equal(rd_be16(d + 2), len);
    assert_int_equal(d[9], 6);
    o->id = rd_be16(d + 4);
    o->frag = rd_be16(d + 6);
    o->ttl = d[8];
    o->src = rd_be32(d + 12);
    o->dst = rd_be32(d + 16);
    o->ip_ok = sums_to_ffff(0, d, 20);

    const uint8_t *t = d + 20;
    size_t tlen = len - 20;
    assert_int_equal(t[12] >> 4, 5);
    o->sport = rd_be16(t);
    o->dport = rd_be16(t + 2);
    o->seq = rd_be32(t + 4);
    o->ack = rd_be32(t + 8);
    o->flags = t[13];
    o->win = rd_be16(t + 14);
    o->pay = t + 20;
    o->plen = tlen - 20;
    uint32_t pseudo = (o->src >> 16) + (o->src & 0xffff) + (o->dst >> 16) + (o->dst & 0xffff) + 6u +
                      (uint32_t)tlen;
    o->tcp_ok = sums_to_ffff(pseudo, t, tlen);
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    assert_non_null(b);
    size_t got;
    while ((got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    *size = n;
    return b;
}

static void load(const char *path, capture *c)
{
    memset(c, 0, sizeof *c);
    c->raw = slurp(path, &c->size);
    assert_true(c->size >= 24);
    assert_int_equal(rd_le32(c->raw), 0xa1b2c3d4u);
    assert_int_equal(rd_le32(c->raw + 20), 101);
    size_t cap = 16;
    c->p = malloc(cap * sizeof *c->p);
    assert_non_null(c->p);
    for (size_t at = 24; at < c->size;) {
        assert_true(at + 16 <= c->size);
        uint32_t incl = rd_le32(c->raw + at + 8);
        assert_int_equal(incl, rd_le32(c->raw + at + 12));
        assert_true(at + 16 + incl <= c->size);
        if (c->n == cap) {
            cap *= 2;
            c->p = realloc(c->p, cap * sizeof *c->p);
            assert_non_null(c->p);
        }
        pkt *p = &c->p[c->n++];
        p->ts_sec = rd_le32(c->raw + at);
        p->ts_usec = rd_le32(c->raw + at + 4);
        decode(c->raw + at + 16, incl, p);
        at += 16 + incl;
    }
}

static void unload(capture *c)
{
    free(c->raw);
    free(c->p);
}

/* ------------------------------------------------------------ TCP replay */

typedef struct {
    uint32_t isn, next;
    uint8_t *data;
    size_t len, nseg, nfin, nrst;
} flow;

typedef struct {
    size_t seen;
    flow f[2]; /* 0: tool -> IUT, 1: IUT -> tool */
} tconn;

static void put_at(flow *f, uint32_t seq, const uint8_t *b, size_t n)
{
    size_t off = (size_t)(uint32_t)(seq - f->isn - 1u);
    if (off + n > f->len) {
        f->data = realloc(f->data, off + n);
        assert_non_null(f->data);
        memset(f->data + f->len, 0, off + n - f->len);
        f->len = off + n;
    }
    memcpy(f->data + off, b, n);
}

/* Checks what must hold of every packet and every connection, and rebuilds
 * each direction's byte stream from the sequence numbers. */
static void replay(const capture *c, tconn conns[16])
{
    memset(conns, 0, 16 * sizeof *conns);
    for (size_t i = 0; i < c->n; i++) {
        const pkt *p = &c->p[i];
        if (!p->ip_ok || !p->tcp_ok)
            fail_msg("packet %zu: ip checksum %s, tcp checksum %s", i, p->ip_ok ? "ok" : "BAD",
                     p->tcp_ok ? "ok" : "BAD");
        assert_int_equal(p->id, (uint16_t)(c->p[0].id + i));
        assert_int_equal(p->frag, 0x4000);
        assert_int_equal(p->ttl, 64);
        assert_int_equal(p->win, 65535);

        int side = p->src == IUT_IP;
        assert_int_equal(p->src, side ? IUT_IP : TOOL_IP);
        assert_int_equal(p->dst, side ? TOOL_IP : IUT_IP);
        unsigned tport = side ? p->dport : p->sport, iport = side ? p->sport : p->dport;
        assert_in_range(tport, 40000, 40015);
        unsigned k = tport - 40000;
        assert_int_equal(iport, 5555 + k);

        tconn *t = &conns[k];
        flow *me = &t->f[side], *peer = &t->f[!side];
        switch (t->seen++) {
        case 0:
            assert_int_equal(side, 0);
            assert_int_equal(p->flags, TH_SYN);
            me->isn = p->seq;
            me->next = p->seq + 1;
            break;
        case 1:
            assert_int_equal(side, 1);
            assert_int_equal(p->flags, TH_SYN | TH_ACK);
            assert_int_equal(p->ack, peer->next);
            me->isn = p->seq;
            me->next = p->seq + 1;
            break;
        case 2:
            assert_int_equal(side, 0);
            assert_int_equal(p->flags, TH_ACK);
            assert_int_equal(p->seq, me->next);
            assert_int_equal(p->ack, peer->next);
            break;
        default:
            assert_int_equal(p->seq, me->next);
            assert_int_equal(p->ack, peer->next);
            if (p->flags == (TH_PSH | TH_ACK)) {
                assert_in_range(p->plen, 1, 65000);
                put_at(me, p->seq, p->pay, p->plen);
                me->next += (uint32_t)p->plen;
                me->nseg++;
            } else if (p->flags == (TH_FIN | TH_ACK)) {
                assert_int_equal(p->plen, 0);
                me->next++;
                me->nfin++;
            } else if (p->flags == (TH_RST | TH_ACK)) {
                assert_int_equal(p->plen, 0);
                me->nrst++;
            } else {
                fail_msg("packet %zu: unexpected flags 0x%02x", i, p->flags);
            }
        }
    }
}

static void free_conns(tconn conns[16])
{
    for (int k = 0; k < 16; k++) {
        free(conns[k].f[0].data);
        free(conns[k].f[1].data);
    }
}

/* ------------------------------------------------------------ helpers */

static void tmp_path(char *buf, size_t n, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, n, "%s/test_pcap.%ld.%s.pcap", dir && *dir ? dir : "/tmp", (long)getpid(), tag);
}

static cf_pcap *open_ok(const char *path)
{
    char err[256] = "";
    cf_pcap *p = cf_pcap_open(path, err, sizeof err);
    if (!p)
        fail_msg("cf_pcap_open: %s", err);
    return p;
}

static void close_ok(cf_pcap *p)
{
    char err[256] = "";
    if (cf_pcap_close(p, err, sizeof err) != 0)
        fail_msg("cf_pcap_close: %s", err);
}

static uint8_t *pattern(size_t n, uint32_t seed)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
    return b;
}

enum { BIG = 200000 };

/* Two connections, both directions interleaved, payloads that need several
 * segments, one of odd length (the TCP checksum pads it), FINs and a RST. */
static void write_scenario(const char *path, uint8_t *tool0, uint8_t *iut0, uint8_t *tool1,
                           uint8_t *iut1)
{
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 0, 0, T0, tool0, 100);
    cf_pcap_data(p, 1, 1, T0 + 10, iut1, 3);
    cf_pcap_data(p, 0, 1, T0 + 20, iut0, BIG);
    cf_pcap_data(p, 0, 0, T0 + 30, tool0 + 100, BIG - 100);
    cf_pcap_data(p, 1, 0, T0 + 40, tool1, BIG + 1);
    cf_pcap_data(p, 1, 1, T0 + 50, iut1 + 3, 4);
    cf_pcap_fin(p, 0, 0, T0 + 60);
    cf_pcap_fin(p, 0, 1, T0 + 70);
    cf_pcap_rst(p, 1, 1, T0 + 80);
    close_ok(p);
}

/* ------------------------------------------------------------ tests */

static void test_global_header_fields_and_no_packets_when_idle(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "hdr");
    close_ok(open_ok(path));
    size_t n;
    uint8_t *b = slurp(path, &n);
    assert_int_equal(n, 24);
    assert_int_equal(rd_le32(b), 0xa1b2c3d4u);
    assert_int_equal(rd_le16(b + 4), 2);
    assert_int_equal(rd_le16(b + 6), 4);
    assert_int_equal(rd_le32(b + 8), 0);
    assert_int_equal(rd_le32(b + 12), 0);
    assert_int_equal(rd_le32(b + 16), 262144);
    assert_int_equal(rd_le32(b + 20), 101);
    free(b);
    remove(path);
}

static void test_first_call_on_a_connection_records_handshake_first(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "hs");
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 3, 1, T0, "hello", 5);
    cf_pcap_data(p, 3, 0, T0 + 1500000, "hi", 2);
    close_ok(p);

    capture c;
    load(path, &c);
    assert_int_equal(c.n, 5);
    static const struct {
        int from_iut;
        uint8_t flags;
        uint32_t seq, ack;
        size_t plen;
    } want[] = {
        {0, TH_SYN, 1000, 0, 0},
        {1, TH_SYN | TH_ACK, 2000, 1001, 0},
        {0, TH_ACK, 1001, 2001, 0},
        {1, TH_PSH | TH_ACK, 2001, 1001, 5},
        {0, TH_PSH | TH_ACK, 1001, 2006, 2},
    };
    for (size_t i = 0; i < 5; i++) {
        const pkt *q = &c.p[i];
        assert_int_equal(q->src, want[i].from_iut ? IUT_IP : TOOL_IP);
        assert_int_equal(q->sport, want[i].from_iut ? 5558 : 40003);
        assert_int_equal(q->dport, want[i].from_iut ? 40003 : 5558);
        assert_int_equal(q->flags, want[i].flags);
        assert_int_equal(q->seq, want[i].seq);
        if (want[i].flags & TH_ACK)
            assert_int_equal(q->ack, want[i].ack);
        assert_int_equal(q->plen, want[i].plen);
        assert_int_equal(q->ts_sec, i < 4 ? 1700000000u : 1700000001u);
        assert_int_equal(q->ts_usec, i < 4 ? 123456u : 623456u);
    }
    assert_memory_equal(c.p[3].pay, "hello", 5);
    assert_memory_equal(c.p[4].pay, "hi", 2);
    unload(&c);
    remove(path);
}

static void test_interleaved_large_payloads_reassemble_exactly(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "big");
    uint8_t *tool0 = pattern(BIG, 1), *iut0 = pattern(BIG, 2), *tool1 = pattern(BIG + 1, 3),
            *iut1 = pattern(7, 4);
    write_scenario(path, tool0, iut0, tool1, iut1);

    capture c;
    load(path, &c);
    tconn conns[16];
    replay(&c, conns);
    assert_int_equal(conns[0].f[0].len, BIG);
    assert_memory_equal(conns[0].f[0].data, tool0, BIG);
    assert_int_equal(conns[0].f[1].len, BIG);
    assert_memory_equal(conns[0].f[1].data, iut0, BIG);
    assert_int_equal(conns[1].f[0].len, BIG + 1);
    assert_memory_equal(conns[1].f[0].data, tool1, BIG + 1);
    assert_int_equal(conns[1].f[1].len, 7);
    assert_memory_equal(conns[1].f[1].data, iut1, 7);
    assert_true(conns[0].f[1].nseg >= 4);
    assert_true(conns[1].f[0].nseg >= 4);
    assert_int_equal(conns[0].f[0].nfin, 1);
    assert_int_equal(conns[0].f[1].nfin, 1);
    assert_int_equal(conns[1].f[1].nrst, 1);
    for (int k = 2; k < 16; k++)
        assert_int_equal(conns[k].seen, 0);
    free_conns(conns);
    unload(&c);
    free(tool0);
    free(iut0);
    free(tool1);
    free(iut1);
    remove(path);
}

static void test_checksums_verify_and_the_checker_catches_corruption(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "sum");
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 5, 0, T0, "odd", 3);
    cf_pcap_data(p, 5, 1, T0, "even", 4);
    close_ok(p);

    capture c;
    load(path, &c);
    assert_int_equal(c.n, 5);
    for (size_t i = 0; i < c.n; i++) {
        assert_true(c.p[i].ip_ok);
        assert_true(c.p[i].tcp_ok);
    }
    /* The odd-length segment is the last-but-one record; spoil it. */
    uint8_t *rec = c.raw + c.size - (16 + 44) - (16 + 43), *ip = rec + 16;
    pkt q;
    ip[40 + 1] ^= 0x01; /* a payload byte: only the TCP checksum covers it */
    decode(ip, 43, &q);
    assert_true(q.ip_ok);
    assert_false(q.tcp_ok);
    ip[40 + 1] ^= 0x01;
    ip[8] ^= 0x01; /* the TTL: only the IP checksum covers it */
    decode(ip, 43, &q);
    assert_false(q.ip_ok);
    assert_true(q.tcp_ok);
    unload(&c);
    remove(path);
}

static void test_fin_takes_one_sequence_number(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "fin");
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 0, 0, T0, "abcde", 5);
    cf_pcap_fin(p, 0, 0, T0 + 1);
    cf_pcap_data(p, 0, 1, T0 + 2, "xyz", 3);
    cf_pcap_fin(p, 0, 1, T0 + 3);
    cf_pcap_rst(p, 0, 0, T0 + 4);
    close_ok(p);

    capture c;
    load(path, &c);
    assert_int_equal(c.n, 8);
    assert_int_equal(c.p[4].flags, TH_FIN | TH_ACK);
    assert_int_equal(c.p[4].seq, 1006);
    assert_int_equal(c.p[4].ack, 2001);
    assert_int_equal(c.p[5].seq, 2001);
    assert_int_equal(c.p[5].ack, 1007);
    assert_int_equal(c.p[6].flags, TH_FIN | TH_ACK);
    assert_int_equal(c.p[6].seq, 2004);
    assert_int_equal(c.p[6].ack, 1007);
    assert_int_equal(c.p[7].seq, 1007);
    assert_int_equal(c.p[7].ack, 2005);
    tconn conns[16];
    replay(&c, conns);
    free_conns(conns);
    unload(&c);
    remove(path);
}

static void test_second_fin_from_a_side_is_a_noop(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "fin2");
    cf_pcap *p = open_ok(path);
    cf_pcap_fin(p, 2, 0, T0);
    cf_pcap_fin(p, 2, 0, T0 + 1);
    cf_pcap_fin(p, 2, 1, T0 + 2);
    cf_pcap_fin(p, 2, 1, T0 + 3);
    close_ok(p);

    capture c;
    load(path, &c);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.p[3].seq, 1001);
    assert_int_equal(c.p[4].seq, 2001);
    assert_int_equal(c.p[4].ack, 1002);
    tconn conns[16];
    replay(&c, conns);
    assert_int_equal(conns[2].f[0].nfin, 1);
    assert_int_equal(conns[2].f[1].nfin, 1);
    free_conns(conns);
    unload(&c);
    remove(path);
}

static void test_rst_carries_current_sequence_and_ack(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "rst");
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 15, 0, T0, "ping", 4);
    cf_pcap_rst(p, 15, 1, T0 + 1);
    close_ok(p);

    capture c;
    load(path, &c);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.p[4].src, IUT_IP);
    assert_int_equal(c.p[4].sport, 5570);
    assert_int_equal(c.p[4].dport, 40015);
    assert_int_equal(c.p[4].flags, TH_RST | TH_ACK);
    assert_int_equal(c.p[4].seq, 2001);
    assert_int_equal(c.p[4].ack, 1005);
    tconn conns[16];
    replay(&c, conns);
    free_conns(conns);
    unload(&c);
    remove(path);
}

static void test_empty_data_bad_connection_and_null_handle_are_noops(void **st)
{
    (void)st;
    char path[512];
    tmp_path(path, sizeof path, "noop");
    cf_pcap *p = open_ok(path);
    cf_pcap_data(p, 0, 0, T0, "x", 0);
    cf_pcap_data(p, -1, 0, T0, "x", 1);
    cf_pcap_data(p, 16, 0, T0, "x", 1);
    cf_pcap_fin(p, 16, 0, T0);
    cf_pcap_rst(p, -1, 1, T0);
    cf_pcap_data(NULL, 0, 0, T0, "x", 1);
    cf_pcap_fin(NULL, 0, 0, T0);
    cf_pcap_rst(NULL, 0, 0, T0);
    assert_int_equal(cf_pcap_close(NULL, NULL, 0), 0);
    close_ok(p);
    size_t n;
    free(slurp(path, &n));
    assert_int_equal(n, 24);
    remove(path);
}

static void test_identical_input_gives_byte_identical_file(void **st)
{
    (void)st;
    char a[512], b[512];
    tmp_path(a, sizeof a, "same-a");
    tmp_path(b, sizeof b, "same-b");
    uint8_t *tool0 = pattern(BIG, 1), *iut0 = pattern(BIG, 2), *tool1 = pattern(BIG + 1, 3),
            *iut1 = pattern(7, 4);
    write_scenario(a, tool0, iut0, tool1, iut1);
    write_scenario(b, tool0, iut0, tool1, iut1);
    size_t na, nb;
    uint8_t *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_true(na > 3 * BIG);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    free(tool0);
    free(iut0);
    free(tool1);
    free(iut1);
    remove(a);
    remove(b);
}

static void test_open_on_unwritable_path_names_path_and_reason(void **st)
{
    (void)st;
    char err[256] = "";
    const char *path = "/nonexistent-dir/x.pcap";
    assert_null(cf_pcap_open(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_null(cf_pcap_open(path, NULL, 0));
}

static void test_write_failure_is_reported_once_at_close(void **st)
{
    (void)st;
    if (access("/dev/full", W_OK) != 0) {
        print_message("no writable /dev/full, cannot provoke a write error\n");
        skip();
    }
    char err[256] = "";
    cf_pcap *p = cf_pcap_open("/dev/full", err, sizeof err);
    if (!p)
        fail_msg("cf_pcap_open: %s", err);
    uint8_t *big = pattern(BIG, 9);
    cf_pcap_data(p, 0, 0, T0, big, BIG);
    cf_pcap_data(p, 0, 1, T0, big, BIG);
    free(big);
    assert_int_equal(cf_pcap_close(p, err, sizeof err), -1);
    assert_non_null(strstr(err, "/dev/full"));
    assert_non_null(strstr(err, strerror(ENOSPC)));
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    return n;
}

static void test_tcpdump_reads_capture_without_checksum_errors(void **st)
{
    (void)st;
    if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
        print_message("tcpdump is not on PATH; install it to run this check\n");
        skip();
    }
    char path[512];
    tmp_path(path, sizeof path, "tcpdump");
    uint8_t *tool0 = pattern(BIG, 1), *iut0 = pattern(BIG, 2), *tool1 = pattern(BIG + 1, 3),
            *iut1 = pattern(7, 4);
    write_scenario(path, tool0, iut0, tool1, iut1);
    free(tool0);
    free(iut0);
    free(tool1);
    free(iut1);
    capture c;
    load(path, &c);
    size_t npkt = c.n;
    unload(&c);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "tcpdump -nn -vv -r '%s' 2>&1", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t got;
    while ((got = fread(out + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[n] = '\0';
    int status = pclose(f);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("tcpdump failed (status %d):\n%s", status, out);
    if (strstr(out, "incorrect") || strstr(out, "bad cksum"))
        fail_msg("tcpdump reports a bad checksum:\n%s", out);
    assert_int_equal(count(out, " IP (tos "), npkt);
    assert_int_equal(count(out, "(correct)"), npkt);
    free(out);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_header_fields_and_no_packets_when_idle),
        cmocka_unit_test(test_first_call_on_a_connection_records_handshake_first),
        cmocka_unit_test(test_interleaved_large_payloads_reassemble_exactly),
        cmocka_unit_test(test_checksums_verify_and_the_checker_catches_corruption),
        cmocka_unit_test(test_fin_takes_one_sequence_number),
        cmocka_unit_test(test_second_fin_from_a_side_is_a_noop),
        cmocka_unit_test(test_rst_carries_current_sequence_and_ack),
        cmocka_unit_test(test_empty_data_bad_connection_and_null_handle_are_noops),
        cmocka_unit_test(test_identical_input_gives_byte_identical_file),
        cmocka_unit_test(test_open_on_unwritable_path_names_path_and_reason),
        cmocka_unit_test(test_write_failure_is_reported_once_at_close),
        cmocka_unit_test(test_tcpdump_reads_capture_without_checksum_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
