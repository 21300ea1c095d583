/* spw-conform — synthesized TCP captures (see pcap.h). */
#include "pcap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NCONN = 16,
    SEG_MAX = 65000, /* keeps IP total length below 65535 */
    REC_HDR = 16,
    IP_HDR = 20,
    TCP_HDR = 20,
};

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

/* Index 0 is the tool, 1 the IUT. The tool is the side that connects. */
static const uint32_t addr[2] = {0x0a000001u, 0x0a000002u};
static const uint32_t isn[2] = {1000u, 2000u};

struct conn_state {
    uint32_t next[2]; /* each side's next sequence number */
    unsigned char open;
    unsigned char fin[2];
};

struct cf_pcap {
    FILE *f;
    char *path;
    int failed;
    int err;
    uint16_t ip_id;
    struct conn_state conn[NCONN];
    uint8_t pkt[REC_HDR + IP_HDR + TCP_HDR + SEG_MAX];
};

/* The file is little-endian whatever the host, so the output is
 * byte-identical everywhere; readers accept either byte order. */
static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

static uint64_t sum16(uint64_t acc, const uint8_t *p, size_t n)
{
    for (; n >= 2; p += 2, n -= 2)
        acc += (uint64_t)p[0] << 8 | p[1];
    if (n)
        acc += (uint64_t)p[0] << 8;
    return acc;
}

static uint16_t checksum(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

static void put(cf_pcap *p, const void *b, size_t n)
{
    if (p->failed)
        return;
    errno = 0;
    if (fwrite(b, 1, n, p->f) != n) {
        p->failed = 1;
        p->err = errno ? errno : EIO;
    }
}

static void segment(cf_pcap *p, int k, int side, long long us, unsigned flags, const uint8_t *b,
                    size_t n)
{
    struct conn_state *c = &p->conn[k];
    uint8_t *rec = p->pkt, *ip = rec + REC_HDR, *tcp = ip + IP_HDR;
    size_t len = IP_HDR + TCP_HDR + n;
    uint16_t port[2] = {(uint16_t)(40000 + k), (uint16_t)(5555 + k)};
    uint32_t seq = c->next[side];
    uint32_t ack = (flags & F_ACK) ? c->next[!side] : 0;

    if (us < 0)
        us = 0;
    put_le32(rec, (uint32_t)(us / 1000000));
    put_le32(rec + 4, (uint32_t)(us % 1000000));
    put_le32(rec + 8, (uint32_t)len);
    put_le32(rec + 12, (uint32_t)len);

    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (uint16_t)len);
    put_be16(ip + 4, p->ip_id++);
    put_be16(ip + 6, 0x4000); /* DF: nothing here was ever fragmented */
    ip[8] = 64;
    ip[9] = 6;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, addr[side]);
    put_be32(ip + 16, addr[!side]);
    put_be16(ip + 10, checksum(sum16(0, ip, IP_HDR)));

    put_be16(tcp, port[side]);
    put_be16(tcp + 2, port[!side]);
    put_be32(tcp + 4, seq);
    put_be32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = (uint8_t)flags;
    put_be16(tcp + 14, 65535);
    put_be16(tcp + 16, 0);
    put_be16(tcp + 18, 0);
    if (n)
        memcpy(tcp + TCP_HDR, b, n);

    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put_be16(pseudo + 10, (uint16_t)(TCP_HDR + n));
    put_be16(tcp + 16, checksum(sum16(sum16(0, pseudo, sizeof pseudo), tcp, TCP_HDR + n)));

    put(p, rec, REC_HDR + len);
    c->next[side] = seq + (uint32_t)n + (uint32_t)((flags & (F_SYN | F_FIN)) != 0);
}

/* Wireshark only follows a stream and shows relative sequence numbers when it
 * has seen the handshake. */
static struct conn_state *conn_for(cf_pcap *p, int k, long long us)
{
    if (!p || k < 0 || k >= NCONN)
        return NULL;
    struct conn_state *c = &p->conn[k];
    if (!c->open) {
        c->open = 1;
        c->next[0] = isn[0];
        c->next[1] = isn[1];
        segment(p, k, 0, us, F_SYN, NULL, 0);
        segment(p, k, 1, us, F_SYN | F_ACK, NULL, 0);
        segment(p, k, 0, us, F_ACK, NULL, 0);
    }
    return c;
}

cf_pcap *cf_pcap_open(const char *path, char *err, size_t errlen)
{
    cf_pcap *p = calloc(1, sizeof *p);
    size_t plen = strlen(path) + 1;
    char *copy = malloc(plen);
    if (!p || !copy) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
        free(p);
        free(copy);
        return NULL;
    }
    memcpy(copy, path, plen);
    p->path = copy;
    p->f = fopen(path, "wb");
    if (!p->f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(copy);
        free(p);
        return NULL;
    }

    uint8_t h[24];
    put_le32(h, 0xa1b2c3d4u);
    put_le16(h + 4, 2);
    put_le16(h + 6, 4);
    put_le32(h + 8, 0);
    put_le32(h + 12, 0);
    put_le32(h + 16, 262144);
    put_le32(h + 20, 101);
    put(p, h, sizeof h);
    return p;
}

void cf_pcap_data(cf_pcap *p, int conn, int from_iut, long long us, const void *b, size_t n)
{
    if (n == 0 || !conn_for(p, conn, us))
        return;
    const uint8_t *s = b;
    while (n) {
        size_t k = n < SEG_MAX ? n : SEG_MAX;
        segment(p, conn, from_iut != 0, us, F_PSH | F_ACK, s, k);
        s += k;
        n -= k;
    }
}

void cf_pcap_fin(cf_pcap *p, int conn, int from_iut, long long us)
{
    int side = from_iut != 0;
    struct conn_state *c = conn_for(p, conn, us);
    if (!c || c->fin[side])
        return;
    c->fin[side] = 1;
    segment(p, conn, side, us, F_FIN | F_ACK, NULL, 0);
}

void cf_pcap_rst(cf_pcap *p, int conn, int from_iut, long long us)
{
    if (conn_for(p, conn, us))
        segment(p, conn, from_iut != 0, us, F_RST | F_ACK, NULL, 0);
}

int cf_pcap_close(cf_pcap *p, char *err, size_t errlen)
{
    if (!p)
        return 0;
    errno = 0;
    if (fclose(p->f) != 0 && !p->failed) {
        p->failed = 1;
        p->err = errno ? errno : EIO;
    }
    int rc = 0;
    if (p->failed) {
        rc = -1;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", p->path, strerror(p->err));
    }
    free(p->path);
    free(p);
    return rc;
}
