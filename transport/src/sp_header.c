#include "spwire/sp_header.h"

#include "spwire/proto.h"

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int spw_hdr_kind_for(uint16_t proto)
{
    const spw_proto_desc *d = spw_proto_desc_of(proto);
    return d ? d->hdr_kind : SPW_HDR_NONE;
}

int spw_backtrace_parse(const uint8_t *msg, size_t len, int ttl, size_t *hdr_len, int *hops)
{
    /* Hops are counted before the length is checked, as the reference does:
     * a body too long in hops is dropped even if it would also run short. */
    for (int n = 1;; n++) {
        if (n > ttl)
            return SPW_HDR_DROP;
        size_t off = (size_t)(n - 1) * 4;
        if (off + 4 > len)
            return SPW_HDR_MALFORMED;
        if (msg[off] & 0x80) {
            *hdr_len = off + 4;
            *hops = n;
            return SPW_HDR_ACCEPT;
        }
    }
}

int spw_reqid_parse(const uint8_t *msg, size_t len, uint32_t *id)
{
    if (len < 4 || !(msg[0] & 0x80))
        return SPW_HDR_MALFORMED;
    *id = load_be32(msg);
    return SPW_HDR_ACCEPT;
}

int spw_pair1_parse(const uint8_t *msg, size_t len, int ttl, unsigned *hops)
{
    if (len < 4)
        return SPW_HDR_MALFORMED;
    uint32_t h = load_be32(msg);
    if (h > 0xff)
        return SPW_HDR_MALFORMED;
    if ((int)h > ttl)
        return SPW_HDR_DROP;
    *hops = h;
    return SPW_HDR_ACCEPT;
}

void spw_reqid_encode(uint8_t out[4], uint32_t id)
{
    store_be32(out, id | SPW_REQID_FLAG);
}

void spw_pair1_encode(uint8_t out[4], unsigned hops)
{
    store_be32(out, hops & 0xff);
}

const char *spw_hdr_verdict_str(int verdict)
{
    switch (verdict) {
    case SPW_HDR_ACCEPT:
        return "accept";
    case SPW_HDR_DROP:
        return "drop";
    case SPW_HDR_MALFORMED:
        return "malformed";
    default:
        return "unknown verdict";
    }
}
