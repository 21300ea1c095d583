/* fuzz_roundtrip — encode messages, decode them back, compare.
 *
 * Input layout:
 *   byte 0   bits 0-1: limit mode (0 none, 1 = largest message, 2 = largest
 *            message - 1 so that message must be refused, 3 = default);
 *            bits 2-7: decoder chunk size c (0 = all at once); on a wire
 *            image above RT_SMALL_WIRE bytes the chunk is c * 1021, so a
 *            large message never costs hundreds of thousands of calls
 *   then     messages: a size byte s (s < 0xFF: length s; s = 0xFF: the
 *            length is the next three bytes BE masked to 20 bits, up to
 *            1 MiB; messages stop where the total would pass RT_MAX_TOTAL),
 *            then the body, taken from the input; a body running past the
 *            end of the input is completed with a fixed pattern, so large
 *            bodies (beyond SPW_DECODER_FIRST_CHUNK) cost few input bytes.
 *            Large messages take a rare byte (0xFF), so most executions
 *            stay small and cheap; the fuzzer keeps the large ones it needs.
 *
 * Checks: spw_frame_encode / spw_frame_encode_header produce exactly
 * u64 BE length + body; encode refuses a buffer one byte short without
 * writing, and a NULL body with a length; the spw_frame_parse walk and the
 * incremental decoder give back the same messages in order, the decoder at
 * the chosen chunking; with limit mode 2 the largest message is refused
 * with SPW_EMSGSIZE right after the messages before it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "spwire/error.h"
#include "spwire/frame.h"

#define RT_MAX_MSGS 512
/* Enough to make the decoder's buffer double past its first chunk twice
 * (64 KiB -> 128 KiB -> the announced length). */
#define RT_MAX_TOTAL ((size_t)132 * 1024)
#define RT_SMALL_WIRE ((size_t)16 * 1024)

typedef struct rt_msg {
    size_t off; /* body offset in the body store */
    size_t len;
} rt_msg;

/* Pad body bytes [from, len) of a message of length len: byte i is
 * (i * 31 + len) & 0xFF, which repeats every 256 bytes, so one period is
 * computed and then copied. */
static void pad_fill(uint8_t *body, size_t from, size_t len)
{
    size_t first = len - from < 256 ? len - from : 256;
    for (size_t k = 0; k < first; k++) {
        body[from + k] = (uint8_t)(((from + k) * 31u + len) & 0xFF);
    }
    for (size_t k = from + first; k < len; k += 256) {
        size_t n = len - k < 256 ? len - k : 256;
        memcpy(body + k, body + from, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned limit_mode = data[0] & 3u;
    size_t chunk = (size_t)(data[0] >> 2);
    size_t pos = 1;

    /* Split the input into messages; bodies go to one store. */
    rt_msg msgs[RT_MAX_MSGS];
    size_t nmsgs = 0;
    size_t total = 0;
    size_t maxlen = 0;
    while (pos < size && nmsgs < RT_MAX_MSGS) {
        uint8_t s = data[pos++];
        size_t len = s;
        if (s == 0xFF) {
            size_t b0 = pos < size ? data[pos] : 0;
            size_t b1 = pos + 1 < size ? data[pos + 1] : 0;
            size_t b2 = pos + 2 < size ? data[pos + 2] : 0;
            pos += 3;
            if (pos > size) {
                pos = size;
            }
            len = ((b0 & 0x0F) << 16) | (b1 << 8) | b2;
        }
        if (total + len > RT_MAX_TOTAL) {
            break;
        }
        msgs[nmsgs].off = total;
        msgs[nmsgs].len = len;
        total += len;
        if (len > maxlen) {
            maxlen = len;
        }
        size_t from_input = size - pos < len ? size - pos : len;
        pos += from_input;
        nmsgs++;
    }
    uint8_t *bodies = malloc(total ? total : 1);
    SPW_FUZZ_CHECK(bodies != NULL);
    {
        /* Re-walk to copy the bodies (input bytes, then the pattern). */
        size_t p = 1;
        for (size_t i = 0; i < nmsgs; i++) {
            uint8_t s = data[p++];
            if (s == 0xFF) {
                p = p + 3 > size ? size : p + 3;
            }
            size_t len = msgs[i].len;
            size_t from_input = size - p < len ? size - p : len;
            if (from_input) {
                memcpy(bodies + msgs[i].off, data + p, from_input);
            }
            if (from_input < len) {
                pad_fill(bodies + msgs[i].off, from_input, len);
            }
            p += from_input;
        }
    }

    uint64_t limit = 0;
    switch (limit_mode) {
    case 1:
        limit = maxlen;
        break;
    case 2:
        limit = maxlen > 0 ? maxlen - 1 : 0;
        break;
    case 3:
        limit = SPW_RECVMAX_DEFAULT;
        break;
    default:
        break;
    }
    /* Index of the first message the limit refuses, or nmsgs. */
    size_t refused = nmsgs;
    for (size_t i = 0; i < nmsgs; i++) {
        if (!spw_fuzz_length_ok(msgs[i].len, limit)) {
            refused = i;
            break;
        }
    }

    /* Encode. */
    size_t wire_len = total + nmsgs * SPW_FRAME_HEADER_SIZE;
    uint8_t *wire = malloc(wire_len + 1);
    SPW_FUZZ_CHECK(wire != NULL);
    size_t w = 0;
    for (size_t i = 0; i < nmsgs; i++) {
        const uint8_t *body = bodies + msgs[i].off;
        size_t len = msgs[i].len;
        size_t frame = len + SPW_FRAME_HEADER_SIZE;
        size_t written = 0xDEAD;
        if (i & 1) {
            spw_frame_encode_header(wire + w, len);
            if (len) {
                memcpy(wire + w + SPW_FRAME_HEADER_SIZE, body, len);
            }
            written = frame;
        } else {
            /* One byte short: refused, nothing written. */
            wire[w] = 0x5C;
            size_t ws = 0xDEAD;
            int rc = spw_frame_encode(wire + w, frame - 1, body, len, &ws);
            SPW_FUZZ_CHECK(rc == SPW_EINVAL);
            SPW_FUZZ_CHECK(wire[w] == 0x5C);
            SPW_FUZZ_CHECK(ws == 0xDEAD);
            if (len > 0) {
                rc = spw_frame_encode(wire + w, frame, NULL, len, &ws);
                SPW_FUZZ_CHECK(rc == SPW_EINVAL);
                SPW_FUZZ_CHECK(wire[w] == 0x5C);
            }
            rc = spw_frame_encode(wire + w, frame, len ? body : NULL, len, &written);
            SPW_FUZZ_CHECK(rc == SPW_OK);
        }
        SPW_FUZZ_CHECK(written == frame);
        SPW_FUZZ_CHECK(spw_fuzz_be64(wire + w) == (uint64_t)len);
        SPW_FUZZ_CHECK(len == 0 || memcmp(wire + w + SPW_FRAME_HEADER_SIZE, body, len) == 0);
        w += frame;
    }
    SPW_FUZZ_CHECK(w == wire_len);

    /* Stateless walk. */
    {
        size_t p = 0;
        size_t i = 0;
        for (;;) {
            size_t body_len = 0, frame_len = 0;
            int rc = spw_frame_parse(wire + p, wire_len - p, limit, &body_len, &frame_len);
            if (i == nmsgs) {
                SPW_FUZZ_CHECK(rc == SPW_FRAME_NEED_MORE && p == wire_len);
                break;
            }
            if (i == refused) {
                SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
                break;
            }
            SPW_FUZZ_CHECK(rc == SPW_FRAME_MESSAGE);
            SPW_FUZZ_CHECK(body_len == msgs[i].len);
            SPW_FUZZ_CHECK(frame_len == body_len + SPW_FRAME_HEADER_SIZE);
            SPW_FUZZ_CHECK(body_len == 0 ||
                           memcmp(wire + p + SPW_FRAME_HEADER_SIZE, bodies + msgs[i].off,
                                  body_len) == 0);
            p += frame_len;
            i++;
        }
    }

    /* Incremental decode at the chosen chunking. */
    if (wire_len > RT_SMALL_WIRE) {
        chunk *= 1021;
    }
    {
        spw_countalloc alloc;
        spw_countalloc_init(&alloc, 0, 0);
        spw_decoder d;
        spw_decoder_init(&d, limit, &alloc.api);
        size_t p = 0;
        size_t i = 0;
        int err = 0;
        while (p < wire_len && err == 0) {
            size_t n = chunk == 0 || chunk > wire_len - p ? wire_len - p : chunk;
            size_t off = 0;
            while (off < n) {
                size_t consumed = 0;
                spw_msg m = {NULL, 0};
                int rc = spw_decoder_feed(&d, wire + p + off, n - off, &consumed, &m);
                SPW_FUZZ_CHECK(consumed <= n - off);
                off += consumed;
                if (rc == SPW_FRAME_MESSAGE) {
                    SPW_FUZZ_CHECK(i < nmsgs && i < refused);
                    SPW_FUZZ_CHECK(m.len == msgs[i].len);
                    SPW_FUZZ_CHECK(m.len == 0 ||
                                   memcmp(m.data, bodies + msgs[i].off, m.len) == 0);
                    spw_msg_free(&m, &alloc.api);
                    i++;
                } else if (rc == SPW_FRAME_NEED_MORE) {
                    SPW_FUZZ_CHECK(off == n);
                } else {
                    SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
                    SPW_FUZZ_CHECK(i == refused);
                    err = rc;
                    break;
                }
                SPW_FUZZ_CHECK(alloc.live <= 2 * (p + off) + SPW_DECODER_FIRST_CHUNK);
            }
            p += n;
        }
        if (err == 0) {
            SPW_FUZZ_CHECK(i == nmsgs && refused == nmsgs);
            SPW_FUZZ_CHECK(spw_decoder_idle(&d));
        }
        spw_decoder_fini(&d);
        spw_countalloc_check_empty(&alloc);
    }

    free(wire);
    free(bodies);
    return 0;
}
