/* spw-conform engine — SP messages as the IUT's valid peer builds them
 * (sp_msg.h). */
#include "sp_msg.h"

#include <string.h>

#include "spwire/proto.h"
#include "spwire/sp_header.h"

/* A u32 BE exactly as given: the scripts also send deliberately invalid
 * headers (a pair1 hop count above 0xff, a reply id without its top bit). */
static void put32(cf_buf *b, uint32_t v)
{
    uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    cf_buf_add(b, w, 4);
}

void cf_build_message(cf_buf *out, uint16_t iut, uint32_t reqid, int hops, const uint8_t *hdr,
                      size_t hdr_len, int has_hdr, const uint8_t *body, size_t body_len)
{
    uint8_t w[4];
    if (has_hdr)
        cf_buf_add(out, hdr, hdr_len);
    else
        switch (spw_hdr_kind_for(iut)) {
        case SPW_HDR_PAIR1:
            put32(out, (uint32_t)(hops < 0 ? 1 : hops));
            break;
        case SPW_HDR_BACKTRACE:
            spw_reqid_encode(w, reqid); /* a request: the top bit marks its end */
            cf_buf_add(out, w, 4);
            break;
        case SPW_HDR_REQID:
            put32(out, reqid); /* an answer: the caller picks the id, right or wrong */
            break;
        default:
            break;
        }
    cf_buf_add(out, body, body_len);
}

int cf_echo_matches(uint16_t iut, const uint8_t *sent, size_t slen, const uint8_t *rx,
                    size_t rlen)
{
    if (spw_hdr_kind_for(iut) == SPW_HDR_PAIR1) {
        /* the hop count may change on the way back; the rest may not */
        if (slen < 4 || rlen < 4 || rx[0] || rx[1] || rx[2])
            return 0;
        return slen == rlen && memcmp(sent + 4, rx + 4, slen - 4) == 0;
    }
    return slen == rlen && (slen == 0 || memcmp(sent, rx, slen) == 0);
}
