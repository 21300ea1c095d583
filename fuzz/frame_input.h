/* spwire fuzz — layout of a fuzz_frame input, shared by the harness, the
 * structure-aware mutator and the seed generator so all three agree.
 *
 *   byte 0      L: receive limit selector (see spw_frame_input_limit)
 *   byte 1      N: low nibble  = number of split bytes that follow (0..15)
 *                  bit 4       = zero-copy mode: inside a body, feed through
 *                                spw_decoder_body_space / _body_commit
 *                  bits 5-7    = refuse the k-th allocation (1..7; 0 = none)
 *   N & 15      split pattern: chunk sizes used cyclically
 *               (0 = zero-length feed, 255 = all the rest); no split bytes
 *               (or only zeros) = the whole stream in one call
 *   rest        the byte stream: u64 BE length + body, repeated
 *
 * An input shorter than the prefix is treated as if missing bytes were 0.
 * Every input is decoded exactly once, in the way these bytes choose.
 */
#ifndef SPW_FUZZ_FRAME_INPUT_H
#define SPW_FUZZ_FRAME_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "spwire/frame.h"

#define SPW_FRAME_INPUT_DIRECT 0x10u
#define SPW_FRAME_INPUT_FAIL_SHIFT 5

typedef struct spw_frame_input {
    uint64_t limit;
    unsigned fail_at;       /* 0..7: refuse that allocation (0 = never) */
    int direct;             /* zero-copy body window */
    const uint8_t *splits;
    size_t nsplits;
    const uint8_t *stream;
    size_t stream_len;
    size_t prefix_len;      /* bytes before the stream */
} spw_frame_input;

/* The N byte for a mode, a failing allocation and a split count. */
static inline uint8_t spw_frame_input_mode(int direct, unsigned fail_at, size_t nsplits)
{
    return (uint8_t)((direct ? SPW_FRAME_INPUT_DIRECT : 0u) |
                     ((fail_at & 7u) << SPW_FRAME_INPUT_FAIL_SHIFT) | (nsplits & 15u));
}

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
    in->direct = (n & SPW_FRAME_INPUT_DIRECT) != 0;
    in->fail_at = (unsigned)(n >> SPW_FRAME_INPUT_FAIL_SHIFT);
    in->splits = data + pos;
    in->nsplits = ns;
    pos += ns;
    in->prefix_len = pos;
    in->stream = data + pos;
    in->stream_len = size - pos;
}

#endif
