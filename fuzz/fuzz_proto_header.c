/* fuzz_proto_header — the SP header codecs of spwire/sp_header.h against an
 * independent model.
 *
 * Input layout:
 *   byte 0   ttl (0..255; 1..255 are judged against the model, 0 only has
 *            to be survived)
 *   rest     a message body as a protocol would receive it
 *
 * Model (spwire/sp_header.h, NNG order of checks):
 *   backtrace: words n = 1, 2, ...: n > ttl -> DROP; fewer than 4 bytes
 *              left -> MALFORMED; a word with its high bit set ends it ->
 *              ACCEPT, hdr_len = 4n, hops = n.
 *   reqid:     MALFORMED below 4 bytes or with the high bit clear, else
 *              ACCEPT with the u32 BE.
 *   pair1:     MALFORMED below 4 bytes or above 0xff; DROP above ttl; else
 *              ACCEPT with the count.
 * The whole body is judged with the input's ttl and with 1, 8 (the
 * default) and 255, and cut one byte short at the input's ttl (one cheap
 * pass per input: the fuzzer picks the lengths); encoders round-trip; a
 * backtrace assembled from the input's words is accepted with the right
 * hop count; an id outside the protocol table has no header kind.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int model_backtrace(const uint8_t *m, size_t len, int ttl, size_t *hdr_len, int *hops)
{
    for (int n = 1;; n++) {
        if (n > ttl) {
            return SPW_HDR_DROP;
        }
        size_t off = (size_t)(n - 1) * 4;
        if (len < off + 4) {
            return SPW_HDR_MALFORMED;
        }
        if (be32(m + off) & SPW_REQID_FLAG) {
            *hdr_len = off + 4;
            *hops = n;
            return SPW_HDR_ACCEPT;
        }
    }
}

static void judge(const uint8_t *m, size_t len, int ttl)
{
    int judged = ttl >= 1 && ttl <= SPW_TTL_MAX;

    size_t hl = 0xAAAA, mhl = 0;
    int hops = -7, mhops = 0;
    int v = spw_backtrace_parse(m, len, ttl, &hl, &hops);
    SPW_FUZZ_CHECK(v == SPW_HDR_ACCEPT || v == SPW_HDR_DROP || v == SPW_HDR_MALFORMED);
    if (judged) {
        int mv = model_backtrace(m, len, ttl, &mhl, &mhops);
        SPW_FUZZ_CHECK(v == mv);
        if (v == SPW_HDR_ACCEPT) {
            SPW_FUZZ_CHECK(hl == mhl && hops == mhops);
            SPW_FUZZ_CHECK(hl % 4 == 0 && hl <= len && hops >= 1 && hops <= ttl);
        }
    }

    uint32_t id = 0x12345678;
    v = spw_reqid_parse(m, len, &id);
    if (len < 4 || !(be32(m) & SPW_REQID_FLAG)) {
        SPW_FUZZ_CHECK(v == SPW_HDR_MALFORMED);
    } else {
        SPW_FUZZ_CHECK(v == SPW_HDR_ACCEPT && id == be32(m));
    }

    unsigned ph = 0xABCD;
    v = spw_pair1_parse(m, len, ttl, &ph);
    if (judged) {
        if (len < 4 || be32(m) > 0xff) {
            SPW_FUZZ_CHECK(v == SPW_HDR_MALFORMED);
        } else if (be32(m) > (uint32_t)ttl) {
            SPW_FUZZ_CHECK(v == SPW_HDR_DROP);
        } else {
            SPW_FUZZ_CHECK(v == SPW_HDR_ACCEPT && ph == be32(m));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int ttl = data[0];
    const uint8_t *m = data + 1;
    size_t len = size - 1;

    /* The body as given, and cut one byte short (a header that runs out),
     * at the input's ttl; the body also at the fixed ttls. The fuzzer
     * chooses the length, so every prefix is one input away. */
    static const int ttls[3] = {1, SPW_TTL_DEFAULT, SPW_TTL_MAX};
    judge(m, len, ttl);
    if (len > 0) {
        judge(m, len - 1, ttl);
    }
    for (int k = 0; k < 3; k++) {
        judge(m, len, ttls[k]);
    }

    /* Encoders round-trip. */
    if (len >= 4) {
        uint8_t out[4];
        uint32_t raw = be32(m);
        spw_reqid_encode(out, raw);
        SPW_FUZZ_CHECK(be32(out) == (raw | SPW_REQID_FLAG));
        uint32_t id = 0;
        SPW_FUZZ_CHECK(spw_reqid_parse(out, 4, &id) == SPW_HDR_ACCEPT);
        SPW_FUZZ_CHECK(id == (raw | SPW_REQID_FLAG));
        unsigned h = m[3];
        spw_pair1_encode(out, h);
        SPW_FUZZ_CHECK(be32(out) == h);
        unsigned back = 999;
        SPW_FUZZ_CHECK(spw_pair1_parse(out, 4, SPW_TTL_MAX, &back) == SPW_HDR_ACCEPT);
        SPW_FUZZ_CHECK(back == h);
    }

    /* A backtrace built from the input's words: hops, then the request id. */
    {
        uint8_t bt[4 * 64];
        size_t words = len / 4 < 63 ? len / 4 : 63;
        for (size_t i = 0; i < words; i++) {
            uint32_t w = be32(m + 4 * i) & ~SPW_REQID_FLAG;
            bt[4 * i] = (uint8_t)(w >> 24);
            bt[4 * i + 1] = (uint8_t)(w >> 16);
            bt[4 * i + 2] = (uint8_t)(w >> 8);
            bt[4 * i + 3] = (uint8_t)w;
        }
        spw_reqid_encode(bt + 4 * words, (uint32_t)size);
        size_t hl = 0;
        int hops = 0;
        int want_hops = (int)words + 1;
        int v = spw_backtrace_parse(bt, 4 * words + 4, SPW_TTL_MAX, &hl, &hops);
        SPW_FUZZ_CHECK(v == SPW_HDR_ACCEPT && hops == want_hops && hl == 4 * words + 4);
        v = spw_backtrace_parse(bt, 4 * words + 4, want_hops - 1, &hl, &hops);
        SPW_FUZZ_CHECK(want_hops - 1 == 0 || v == SPW_HDR_DROP);
    }

    /* The known protocols' kinds are rows of the protocol table, checked
     * once in conformance/unit/test_proto.c; any other id has none. */
    if (len >= 2) {
        uint16_t p = (uint16_t)((m[0] << 8) | m[1]);
        if (!spw_proto_known(p)) {
            SPW_FUZZ_CHECK(spw_hdr_kind_for(p) == SPW_HDR_NONE);
        }
    }
    SPW_FUZZ_CHECK(spw_hdr_verdict_str(ttl - 1) != NULL);
    return 0;
}
