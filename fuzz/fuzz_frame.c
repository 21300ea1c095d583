/* fuzz_frame — the incremental frame decoder against a one-shot decode.
 *
 * Input layout: fuzz/frame_input.h. The leading bytes choose the receive
 * limit, the split pattern (chunk sizes), whether bodies go through the
 * zero-copy window (spw_decoder_body_space / _body_commit) and which
 * allocation, if any, is refused; the rest is the byte stream. Each input
 * is decoded exactly once, the way it chooses, so one execution costs about
 * one pass over the stream (no per-input allocation besides the decoder's).
 *
 * Reference: the one-shot decode of the same bytes, i.e. the stateless
 * spw_frame_parse walk from the start of the stream, which must itself
 * agree at every step with an independent model of the wire rule (u64 BE
 * length, the limit rule of spwire/frame.h, spw_frame_check_length). It is
 * walked once to learn the verdict, and again, lazily, alongside the
 * decoder to compare the messages.
 *
 * Invariants checked on the incremental decoder:
 *   - the messages and the verdict are those of the one-shot decode; each
 *     message arrives in the call that brings the last byte of its frame,
 *     EMSGSIZE in the call that brings the 8th byte of the bad length;
 *   - no message exceeds the limit; data is NULL exactly when len is 0;
 *   - consumed never exceeds what was fed; NEED_MORE from feed consumes all;
 *   - an error is sticky: same code, nothing consumed, from feed,
 *     body_space and body_commit alike, until spw_decoder_reset (after which
 *     an empty frame decodes again);
 *   - ENOMEM only when the harness refused an allocation, and nothing leaks;
 *   - memory held stays within 2 x bytes fed + SPW_DECODER_FIRST_CHUNK and
 *     the allocator is always handed back the size it gave out;
 *   - zero-copy mode: committing more than the window offered fails the
 *     decoder with a sticky SPW_EINVAL;
 *   - at the end the decoder is idle exactly when no partial frame is left.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "frame_input.h"
#include "spwire/error.h"
#include "spwire/frame.h"

typedef struct frame_ref {
    size_t n;      /* complete messages before the verdict */
    int verdict;   /* SPW_FRAME_NEED_MORE or SPW_EMSGSIZE */
    size_t err_at; /* EMSGSIZE: stream offset one past the bad length's 8th byte */
    size_t tail;   /* NEED_MORE: bytes after the last complete frame */
} frame_ref;

/* One step of the one-shot decode at stream offset pos, checked against the
 * model. Returns spw_frame_parse's result; *frame_len is set on a message. */
static int ref_step(const spw_frame_input *in, size_t pos, size_t *frame_len)
{
    const uint8_t *s = in->stream + pos;
    size_t left = in->stream_len - pos;
    size_t body_len = 0xA5A5, flen = 0x5A5A;
    int rc = spw_frame_parse(s, left, in->limit, &body_len, &flen);
    if (left < SPW_FRAME_HEADER_SIZE) {
        SPW_FUZZ_CHECK(rc == SPW_FRAME_NEED_MORE);
        return rc;
    }
    uint64_t announced = spw_fuzz_be64(s);
    int ok = spw_fuzz_length_ok(announced, in->limit);
    SPW_FUZZ_CHECK(spw_frame_check_length(announced, in->limit) == (ok ? SPW_OK : SPW_EMSGSIZE));
    if (!ok) {
        SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
        return rc;
    }
    if (announced > left - SPW_FRAME_HEADER_SIZE) {
        SPW_FUZZ_CHECK(rc == SPW_FRAME_NEED_MORE);
        return rc;
    }
    SPW_FUZZ_CHECK(rc == SPW_FRAME_MESSAGE);
    SPW_FUZZ_CHECK(body_len == (size_t)announced);
    SPW_FUZZ_CHECK(flen == (size_t)announced + SPW_FRAME_HEADER_SIZE);
    *frame_len = flen;
    return rc;
}

static void build_reference(const spw_frame_input *in, frame_ref *ref)
{
    size_t pos = 0;
    ref->n = 0;
    ref->err_at = 0;
    ref->tail = 0;
    for (;;) {
        size_t flen = 0;
        int rc = ref_step(in, pos, &flen);
        if (rc == SPW_FRAME_MESSAGE) {
            ref->n++;
            pos += flen;
            continue;
        }
        ref->verdict = rc;
        if (rc == SPW_EMSGSIZE) {
            ref->err_at = pos + SPW_FRAME_HEADER_SIZE;
        } else {
            ref->tail = in->stream_len - pos;
        }
        return;
    }
}

typedef struct pass {
    const spw_frame_input *in;
    const frame_ref *ref;
    spw_countalloc *alloc;
    spw_decoder dec;
    size_t fed;      /* stream bytes handed over so far (= absolute position) */
    size_t nmsg;     /* messages delivered */
    size_t next_pos; /* stream offset of the next frame the reference expects */
    int error;       /* sticky error seen, or 0 */
} pass;

/* A delivered message must be the reference's next one, completed by the
 * byte at abs_end - 1. */
static void check_message(pass *p, const spw_msg *msg, size_t abs_end)
{
    size_t flen = 0;
    SPW_FUZZ_CHECK(p->nmsg < p->ref->n);
    SPW_FUZZ_CHECK(ref_step(p->in, p->next_pos, &flen) == SPW_FRAME_MESSAGE);
    size_t body_off = p->next_pos + SPW_FRAME_HEADER_SIZE;
    SPW_FUZZ_CHECK(msg->len == flen - SPW_FRAME_HEADER_SIZE);
    SPW_FUZZ_CHECK((msg->data == NULL) == (msg->len == 0));
    SPW_FUZZ_CHECK(p->in->limit == 0 || msg->len <= p->in->limit);
    SPW_FUZZ_CHECK(abs_end == p->next_pos + flen);
    if (msg->len > 0) {
        SPW_FUZZ_CHECK(memcmp(msg->data, p->in->stream + body_off, msg->len) == 0);
    }
    p->next_pos += flen;
    p->nmsg++;
}

/* After an error: the same code, nothing consumed, whatever is called. */
static void check_sticky(pass *p, int rc, const uint8_t *at, size_t rest)
{
    for (int i = 0; i < 2; i++) {
        size_t c2 = 777;
        spw_msg m2 = {NULL, 0};
        SPW_FUZZ_CHECK(spw_decoder_feed(&p->dec, i ? NULL : at, i ? 0 : rest, &c2, &m2) == rc);
        SPW_FUZZ_CHECK(c2 == 0);
        SPW_FUZZ_CHECK(m2.data == NULL && m2.len == 0);
    }
    if (p->in->direct) {
        uint8_t *ptr = (uint8_t *)(uintptr_t)0x1;
        size_t room = 12345;
        SPW_FUZZ_CHECK(spw_decoder_body_space(&p->dec, &ptr, &room) == rc);
        SPW_FUZZ_CHECK(ptr == NULL && room == 0);
        spw_msg m3 = {(uint8_t *)(uintptr_t)0x1, 1};
        SPW_FUZZ_CHECK(spw_decoder_body_commit(&p->dec, 0, &m3) == rc);
        SPW_FUZZ_CHECK(m3.data == NULL && m3.len == 0);
    }
}

/* Feed one chunk of the stream. Returns 1 once the decoder reported an
 * error, 0 to go on. */
static int feed_chunk(pass *p, size_t chunk)
{
    const uint8_t *base = p->in->stream + p->fed;
    size_t off = 0;
    int zero_progress = 0;
    do {
        size_t avail = chunk - off;
        size_t consumed = (size_t)-1;
        spw_msg msg = {(uint8_t *)(uintptr_t)0x1, 12345};
        /* Zero-length feeds alternate between NULL and a real pointer. */
        const uint8_t *buf = (avail == 0 && (p->fed & 1)) ? NULL : base + off;
        int rc = SPW_OK;
        int via_commit = 0;
        uint8_t *room_ptr = (uint8_t *)(uintptr_t)0x1;
        size_t room = 12345;
        if (p->in->direct &&
            (rc = spw_decoder_body_space(&p->dec, &room_ptr, &room)) == SPW_OK && room > 0) {
            /* Zero-copy path: write into the decoder's body, then commit. */
            SPW_FUZZ_CHECK(room_ptr != NULL);
            consumed = room < avail ? room : avail;
            if (consumed) {
                memcpy(room_ptr, base + off, consumed);
            }
            rc = spw_decoder_body_commit(&p->dec, consumed, &msg);
            via_commit = 1;
        } else if (p->in->direct && rc != SPW_OK) {
            consumed = 0; /* body_space reported the (sticky) error */
            SPW_FUZZ_CHECK(room_ptr == NULL && room == 0);
            msg.data = NULL; /* no message call was made */
            msg.len = 0;
        } else {
            if (p->in->direct) {
                SPW_FUZZ_CHECK(room_ptr == NULL && room == 0); /* not inside a body */
            }
            rc = spw_decoder_feed(&p->dec, buf, avail, &consumed, &msg);
        }
        SPW_FUZZ_CHECK(consumed <= avail);
        size_t abs_end = p->fed + off + consumed;
        if (rc == SPW_FRAME_MESSAGE) {
            check_message(p, &msg, abs_end);
            spw_msg_free(&msg, &p->alloc->api);
            SPW_FUZZ_CHECK(msg.data == NULL && msg.len == 0);
            zero_progress = consumed == 0 ? zero_progress + 1 : 0;
            SPW_FUZZ_CHECK(zero_progress < 2);
        } else if (rc == SPW_FRAME_NEED_MORE) {
            SPW_FUZZ_CHECK(consumed == avail || via_commit);
            SPW_FUZZ_CHECK(msg.data == NULL && msg.len == 0);
        } else {
            SPW_FUZZ_CHECK(msg.data == NULL && msg.len == 0);
            if (rc == SPW_ENOMEM) {
                SPW_FUZZ_CHECK(p->alloc->fail_at != 0 && p->alloc->refused > 0);
            } else {
                SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
                SPW_FUZZ_CHECK(p->ref->verdict == SPW_EMSGSIZE);
                SPW_FUZZ_CHECK(p->nmsg == p->ref->n);
                /* Reported in the call that brought the 8th length byte,
                 * having consumed nothing past it. */
                SPW_FUZZ_CHECK(p->fed + chunk >= p->ref->err_at);
                SPW_FUZZ_CHECK(p->fed + off < p->ref->err_at);
                SPW_FUZZ_CHECK(abs_end <= p->ref->err_at);
            }
            check_sticky(p, rc, base + off, p->in->stream_len - p->fed - off);
            p->error = rc;
            return 1;
        }
        off += consumed;
        /* Memory follows bytes received. */
        SPW_FUZZ_CHECK(p->alloc->live <= 2 * (p->fed + off) + SPW_DECODER_FIRST_CHUNK);
    } while (off < chunk);
    p->fed += chunk;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spw_frame_input in;
    spw_frame_input_parse(data, size, &in);
    frame_ref ref;
    build_reference(&in, &ref);

    spw_countalloc alloc;
    spw_countalloc_init(&alloc, in.fail_at, 0);
    pass p;
    memset(&p, 0, sizeof(p));
    p.in = &in;
    p.ref = &ref;
    p.alloc = &alloc;
    spw_decoder_init(&p.dec, in.limit, &alloc.api);
    SPW_FUZZ_CHECK(alloc.ops == 0); /* init allocates nothing */
    SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec));

    spw_fuzz_splitter split;
    spw_fuzz_splitter_init(&split, in.splits, in.nsplits);
    do {
        size_t chunk = spw_fuzz_splitter_next(&split, in.stream_len - p.fed);
        if (feed_chunk(&p, chunk)) {
            break;
        }
    } while (p.fed < in.stream_len);

    if (p.error == 0) {
        SPW_FUZZ_CHECK(p.nmsg == ref.n);
        SPW_FUZZ_CHECK(ref.verdict == SPW_FRAME_NEED_MORE);
        SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec) == (ref.tail == 0));
    }

    if (p.error == 0 && in.direct && !spw_decoder_idle(&p.dec)) {
        /* Committing more than the room offered fails the decoder (EINVAL),
         * stickily, and leaks nothing. */
        uint8_t *ptr = NULL;
        size_t room = 0;
        int rc = spw_decoder_body_space(&p.dec, &ptr, &room);
        SPW_FUZZ_CHECK(rc == SPW_OK || (rc == SPW_ENOMEM && in.fail_at != 0));
        if (rc == SPW_OK && room > 0) {
            spw_msg msg = {NULL, 0};
            SPW_FUZZ_CHECK(spw_decoder_body_commit(&p.dec, room + 1, &msg) == SPW_EINVAL);
            SPW_FUZZ_CHECK(msg.data == NULL);
            check_sticky(&p, SPW_EINVAL, NULL, 0);
            p.error = SPW_EINVAL;
        } else if (rc == SPW_ENOMEM) {
            check_sticky(&p, SPW_ENOMEM, NULL, 0);
            p.error = SPW_ENOMEM;
        }
    }
    if (p.error != 0) {
        /* Reset clears the sticky error: an empty frame decodes again. */
        static const uint8_t empty_frame[SPW_FRAME_HEADER_SIZE] = {0};
        spw_decoder_reset(&p.dec);
        SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec));
        SPW_FUZZ_CHECK(alloc.live == 0);
        size_t consumed = 0;
        spw_msg msg = {NULL, 0};
        int rc = spw_decoder_feed(&p.dec, empty_frame, sizeof(empty_frame), &consumed, &msg);
        SPW_FUZZ_CHECK(rc == SPW_FRAME_MESSAGE);
        SPW_FUZZ_CHECK(consumed == sizeof(empty_frame));
        SPW_FUZZ_CHECK(msg.len == 0 && msg.data == NULL);
    }
    spw_decoder_fini(&p.dec);
    spw_countalloc_check_empty(&alloc);
    return 0;
}
