/* spwire fuzz — layout of a fuzz_frame input, shared by the harness, the
 * structure-aware mutator and the seed generator so all three agree.
 *
 *   byte 0      L: receive limit selector (see spw_frame_input_limit)
 *   byte 1      N: low nibble = number of split bytes that follow (0..15),
 *                  high nibble = refuse the k-th allocation in an extra
 *                  decoding pass (0 = no injection pass)
 *   N & 15      split pattern: chunk sizes used cyclically
 *               (0 = zero-length feed, 255 = all the rest)
 *   rest        the byte stream: u64 BE length + body, repeated
 *
 * An input shorter than the prefix is treated as if missing bytes were 0.
 */
#ifndef SPW_FUZZ_FRAME_INPUT_H
#define SPW_FUZZ_FRAME_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "spwire/frame.h"

typedef struct spw_frame_input {
    uint64_t limit;
    unsigned fail_at;       /* 0..15 */
    const uint8_t *splits;
    size_t nsplits;
    const uint8_t *stream;
    size_t stream_len;
    size_t prefix_len;      /* bytes before the stream */
} spw_frame_input;

/* L -> limit. Small limits (0..64) are a quarter of the space so the limit
 * paths are hit often; the rest reaches the default, powers of two up to
 * 2^63, and all-ones values down from 2^64-1.
 *   0..64     limit = L (0 = none)
 *   65..127   SPW_RECVMAX_DEFAULT
 *   128..191  2^(L-128)
 *   192..255  (2^64-1) >> (L-192)
 */
static inline uint64_t spw_frame_input_limit(uint8_t sel)
{
    if (sel <= 64) {
        return sel;
    }
    if (sel < 128) {
        return SPW_RECVMAX_DEFAULT;
    }
    if (sel < 192) {
        return (uint64_t)1 << (sel - 128);
    }
    return UINT64_MAX >> (sel - 192);
}

static inline void spw_frame_input_parse(const uint8_t *data, size_t size, spw_frame_input *in)
{
    uint8_t sel = size > 0 ? data[0] : 0;
    uint8_t n = size > 1 ? data[1] : 0;
    size_t pos = size < 2 ? size : 2;
    size_t ns = (size_t)(n & 15);
    if (ns > size - pos) {
        ns = size - pos;
    }
    in->limit = spw_frame_input_limit(sel);
    in->fail_at = (unsigned)(n >> 4);
    in->splits = data + pos;
    in->nsplits = ns;
    pos += ns;
    in->prefix_len = pos;
    in->stream = data + pos;
    in->stream_len = size - pos;
}

#endif
