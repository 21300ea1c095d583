/* fuzz_frame — the incremental frame decoder against two references.
 *
 * Input layout: fuzz/frame_input.h (limit selector, split pattern, optional
 * allocation-failure pass, then the byte stream).
 *
 * Reference: an independent model of the wire rule (u64 BE length, limit
 * rule of spwire/frame.h) walks the stream; the stateless spw_frame_parse
 * walk must agree with it exactly. Then spw_decoder_feed runs over the same
 * stream several ways (all at once, the fuzzer's split pattern, one byte at
 * a time, and the split pattern through the zero-copy body window
 * spw_decoder_body_space / spw_decoder_body_commit) and must deliver the same messages, each exactly when the last
 * byte of its frame is fed, and end with the same verdict. Along the way:
 * consumed <= fed, NEED_MORE consumes everything, no message above the
 * limit, errors sticky (same code, nothing consumed), memory held stays
 * within 2 x bytes fed + SPW_DECODER_FIRST_CHUNK, nothing leaks, and the
 * allocator is always handed back the size it gave out. Committing more
 * than the window offered must fail the decoder with a sticky SPW_EINVAL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "frame_input.h"
#include "spwire/error.h"
#include "spwire/frame.h"

typedef struct ref_msg {
    size_t body_off; /* offset of the body in the stream */
    size_t len;
} ref_msg;

typedef struct frame_ref {
    ref_msg *msgs;
    size_t n;
    int verdict;     /* SPW_FRAME_NEED_MORE or SPW_EMSGSIZE */
    size_t err_at;   /* EMSGSIZE: stream offset one past the bad length's 8th byte */
    size_t tail;     /* NEED_MORE: bytes after the last complete frame */
} frame_ref;

/* Model walk, then the spw_frame_parse walk, which must agree step by step. */
static void build_reference(const spw_frame_input *in, frame_ref *ref)
{
    const uint8_t *s = in->stream;
    size_t len = in->stream_len;
    size_t pos = 0;
    ref->msgs = malloc((len / SPW_FRAME_HEADER_SIZE + 1) * sizeof(ref_msg));
    SPW_FUZZ_CHECK(ref->msgs != NULL);
    ref->n = 0;
    ref->err_at = 0;
    ref->tail = 0;
    for (;;) {
        size_t left = len - pos;
        size_t body_len = 0xA5A5, frame_len = 0x5A5A;
        int rc = spw_frame_parse(s + pos, left, in->limit, &body_len, &frame_len);
        if (left < SPW_FRAME_HEADER_SIZE) {
            SPW_FUZZ_CHECK(rc == SPW_FRAME_NEED_MORE);
            ref->verdict = SPW_FRAME_NEED_MORE;
            ref->tail = left;
            return;
        }
        uint64_t announced = spw_fuzz_be64(s + pos);
        int ok = spw_fuzz_length_ok(announced, in->limit);
        SPW_FUZZ_CHECK(spw_frame_check_length(announced, in->limit) ==
                       (ok ? SPW_OK : SPW_EMSGSIZE));
        if (!ok) {
            SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
            ref->verdict = SPW_EMSGSIZE;
            ref->err_at = pos + SPW_FRAME_HEADER_SIZE;
            return;
        }
        if (announced > left - SPW_FRAME_HEADER_SIZE) {
            SPW_FUZZ_CHECK(rc == SPW_FRAME_NEED_MORE);
            ref->verdict = SPW_FRAME_NEED_MORE;
            ref->tail = left;
            return;
        }
        SPW_FUZZ_CHECK(rc == SPW_FRAME_MESSAGE);
        SPW_FUZZ_CHECK(body_len == (size_t)announced);
        SPW_FUZZ_CHECK(frame_len == (size_t)announced + SPW_FRAME_HEADER_SIZE);
        ref->msgs[ref->n].body_off = pos + SPW_FRAME_HEADER_SIZE;
        ref->msgs[ref->n].len = body_len;
        ref->n++;
        pos += frame_len;
    }
}

enum feed_mode { FEED_ALL, FEED_SPLIT, FEED_BYTES, FEED_DIRECT };

/* Feed one stretch of the stream to the decoder, check every result.
 * Returns 0 to go on, 1 once the decoder reported an error. */
typedef struct pass {
    const spw_frame_input *in;
    const frame_ref *ref;
    spw_fuzz_alloc *alloc;
    spw_decoder dec;
    size_t fed;   /* stream bytes handed over so far (= absolute position) */
    size_t nmsg;  /* messages delivered */
    int error;    /* sticky error seen, or 0 */
    int injected; /* allocation failure pass */
    int direct;   /* use body_space/body_commit while inside a body */
} pass;

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
        int rc = 0;
        int via_commit = 0;
        uint8_t *room_ptr = (uint8_t *)(uintptr_t)0x1;
        size_t room = 12345;
        if (p->direct &&
            (rc = spw_decoder_body_space(&p->dec, &room_ptr, &room)) == SPW_OK && room > 0) {
            /* Zero-copy path: write into the decoder's body, then commit. */
            SPW_FUZZ_CHECK(room_ptr != NULL);
            consumed = room < avail ? room : avail;
            if (consumed) {
                memcpy(room_ptr, base + off, consumed);
            }
            rc = spw_decoder_body_commit(&p->dec, consumed, &msg);
            via_commit = 1;
        } else if (p->direct && rc != SPW_OK) {
            consumed = 0; /* body_space reported the (sticky) error */
        } else {
            if (p->direct) {
                SPW_FUZZ_CHECK(room_ptr == NULL); /* not inside a body */
            }
            rc = spw_decoder_feed(&p->dec, buf, avail, &consumed, &msg);
        }
        SPW_FUZZ_CHECK(consumed <= avail);
        size_t abs_end = p->fed + off + consumed; /* stream offset after this call */
        if (rc == SPW_FRAME_MESSAGE) {
            SPW_FUZZ_CHECK(p->nmsg < p->ref->n);
            const ref_msg *r = &p->ref->msgs[p->nmsg];
            SPW_FUZZ_CHECK(msg.len == r->len);
            SPW_FUZZ_CHECK((msg.data == NULL) == (msg.len == 0));
            SPW_FUZZ_CHECK(p->in->limit == 0 || msg.len <= p->in->limit);
            /* Delivered exactly when the last byte of its frame went in. */
            SPW_FUZZ_CHECK(abs_end == r->body_off + r->len);
            if (msg.len > 0) {
                SPW_FUZZ_CHECK(memcmp(msg.data, p->in->stream + r->body_off, msg.len) == 0);
            }
            spw_msg_free(&msg, &p->alloc->api);
            SPW_FUZZ_CHECK(msg.data == NULL && msg.len == 0);
            p->nmsg++;
            zero_progress = consumed == 0 ? zero_progress + 1 : 0;
            SPW_FUZZ_CHECK(zero_progress < 2);
        } else if (rc == SPW_FRAME_NEED_MORE) {
            SPW_FUZZ_CHECK(consumed == avail || via_commit);
        } else {
            if (rc == SPW_ENOMEM) {
                SPW_FUZZ_CHECK(p->injected && p->alloc->refused > 0);
            } else {
                SPW_FUZZ_CHECK(rc == SPW_EMSGSIZE);
                SPW_FUZZ_CHECK(p->ref->verdict == SPW_EMSGSIZE);
                SPW_FUZZ_CHECK(p->nmsg == p->ref->n);
                /* Reported in the call that brought the 8th length byte. */
                SPW_FUZZ_CHECK(p->fed + chunk >= p->ref->err_at);
                SPW_FUZZ_CHECK(p->fed + off < p->ref->err_at);
            }
            /* Sticky: same code, nothing consumed, with or without bytes. */
            for (int i = 0; i < 2; i++) {
                size_t rest = p->in->stream_len - p->fed - off;
                size_t c2 = 777;
                spw_msg m2 = {NULL, 0};
                int rc2 = spw_decoder_feed(&p->dec, i ? NULL : base + off, i ? 0 : rest, &c2,
                                           &m2);
                SPW_FUZZ_CHECK(rc2 == rc);
                SPW_FUZZ_CHECK(c2 == 0);
                SPW_FUZZ_CHECK(m2.data == NULL);
            }
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

static void run_pass(const spw_frame_input *in, const frame_ref *ref, enum feed_mode mode,
                     unsigned fail_at)
{
    spw_fuzz_alloc alloc;
    spw_fuzz_alloc_init(&alloc, fail_at);
    pass p;
    memset(&p, 0, sizeof(p));
    p.in = in;
    p.ref = ref;
    p.alloc = &alloc;
    p.injected = fail_at != 0;
    p.direct = mode == FEED_DIRECT;
    spw_decoder_init(&p.dec, in->limit, &alloc.api);
    SPW_FUZZ_CHECK(alloc.ops == 0); /* init allocates nothing */
    SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec));

    spw_fuzz_splitter split;
    spw_fuzz_splitter_init(&split, in->splits, in->nsplits);
    do {
        size_t left = in->stream_len - p.fed;
        size_t chunk = left;
        if (mode == FEED_SPLIT || mode == FEED_DIRECT) {
            chunk = spw_fuzz_splitter_next(&split, left);
        } else if (mode == FEED_BYTES) {
            chunk = left ? 1 : 0;
        }
        if (feed_chunk(&p, chunk)) {
            break;
        }
    } while (p.fed < in->stream_len);

    if (p.error == 0) {
        SPW_FUZZ_CHECK(p.nmsg == ref->n);
        SPW_FUZZ_CHECK(ref->verdict == SPW_FRAME_NEED_MORE);
        SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec) == (ref->tail == 0));
    } else if (p.error == SPW_ENOMEM) {
        SPW_FUZZ_CHECK(p.nmsg <= ref->n);
    }

    if (p.error == 0 && mode == FEED_DIRECT && !spw_decoder_idle(&p.dec)) {
        /* Committing more than the room offered fails the decoder (EINVAL),
         * stickily, and leaks nothing. */
        uint8_t *ptr = NULL;
        size_t room = 0;
        int rc = spw_decoder_body_space(&p.dec, &ptr, &room);
        SPW_FUZZ_CHECK(rc == SPW_OK || (rc == SPW_ENOMEM && p.injected));
        if (rc == SPW_OK && room > 0) {
            spw_msg msg = {NULL, 0};
            SPW_FUZZ_CHECK(spw_decoder_body_commit(&p.dec, room + 1, &msg) == SPW_EINVAL);
            SPW_FUZZ_CHECK(msg.data == NULL);
            size_t consumed = 5;
            SPW_FUZZ_CHECK(spw_decoder_feed(&p.dec, NULL, 0, &consumed, &msg) == SPW_EINVAL);
            SPW_FUZZ_CHECK(consumed == 0);
            SPW_FUZZ_CHECK(spw_decoder_body_space(&p.dec, &ptr, &room) == SPW_EINVAL);
            SPW_FUZZ_CHECK(ptr == NULL && room == 0);
            p.error = SPW_EINVAL;
        }
    }
    if (p.error != 0) {
        /* Reset clears the sticky error: an empty frame decodes again. */
        static const uint8_t empty_frame[SPW_FRAME_HEADER_SIZE] = {0};
        spw_decoder_reset(&p.dec);
        SPW_FUZZ_CHECK(spw_decoder_idle(&p.dec));
        alloc.fail_at = 0;
        size_t consumed = 0;
        spw_msg msg = {NULL, 0};
        int rc = spw_decoder_feed(&p.dec, empty_frame, sizeof(empty_frame), &consumed, &msg);
        SPW_FUZZ_CHECK(rc == SPW_FRAME_MESSAGE);
        SPW_FUZZ_CHECK(consumed == sizeof(empty_frame));
        SPW_FUZZ_CHECK(msg.len == 0 && msg.data == NULL);
    }
    spw_decoder_fini(&p.dec);
    spw_fuzz_alloc_check_empty(&alloc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spw_frame_input in;
    spw_frame_input_parse(data, size, &in);

    frame_ref ref;
    build_reference(&in, &ref);

    run_pass(&in, &ref, FEED_ALL, 0);
    run_pass(&in, &ref, FEED_SPLIT, 0);
    /* One byte per call is the harshest split; on long streams it adds
     * little over the fuzzer's own pattern and costs most of the time. */
    if (in.stream_len <= 4096) {
        run_pass(&in, &ref, FEED_BYTES, 0);
    }
    run_pass(&in, &ref, FEED_DIRECT, 0);
    if (in.fail_at != 0) {
        run_pass(&in, &ref, (in.fail_at & 1) ? FEED_DIRECT : FEED_SPLIT, in.fail_at);
    }

    free(ref.msgs);
    return 0;
}

