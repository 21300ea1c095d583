/* spwire — message framing, sans I/O.
 *
 * Wire: every message is a u64 big-endian length followed by that many bytes
 * (SP header + body; this layer does not look inside).
 *
 * Limits: a receiver has a limit (SPW_OPT_RECVMAXSZ, default
 * SPW_RECVMAX_DEFAULT). A frame of exactly the limit is accepted; one byte
 * more is SPW_EMSGSIZE. Limit 0 means "no limit", yet a length with any of
 * its top 4 bits set (>= 2^60), or one above SIZE_MAX, is always refused.
 * The check is made on the 8 length bytes, before anything is allocated.
 *
 * Memory follows bytes received, not bytes announced: the body buffer grows
 * (geometrically, capped by the announced length) as bytes arrive, so a peer
 * that announces 1 GiB and sends 10 bytes costs at most
 * SPW_DECODER_FIRST_CHUNK bytes.
 */
#ifndef SPWIRE_FRAME_H
#define SPWIRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "spwire/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPW_FRAME_HEADER_SIZE 8
#define SPW_RECVMAX_DEFAULT ((uint64_t)1024 * 1024)
#define SPW_LENGTH_RESERVED_MASK UINT64_C(0xF000000000000000)
/* Largest first allocation for a body, whatever its announced length. */
#define SPW_DECODER_FIRST_CHUNK ((size_t)64 * 1024)

/* A received message. data is NULL when len is 0. Ownership is the
 * caller's once a function hands it out: release it with spw_msg_free and
 * the allocator that made it. */
typedef struct spw_msg {
    uint8_t *data;
    size_t len;
} spw_msg;

void spw_msg_free(spw_msg *msg, const spw_allocator *alloc);

/* Encode the 8-byte length header for a body of len bytes. */
void spw_frame_encode_header(uint8_t out[SPW_FRAME_HEADER_SIZE], uint64_t len);

/* Encode header + body into out (capacity cap). Returns SPW_OK and stores
 * the frame size in *written, or SPW_EINVAL when cap is too small (nothing
 * written) or body is NULL with len > 0. */
int spw_frame_encode(uint8_t *out, size_t cap, const void *body, size_t len, size_t *written);

/* Judge an announced length against a limit (0 = none): SPW_OK or
 * SPW_EMSGSIZE. */
int spw_frame_check_length(uint64_t len, uint64_t limit);

/* Positive results of spw_frame_parse and spw_decoder_feed. */
enum spw_frame_result {
    SPW_FRAME_NEED_MORE = 1, /* input ends inside a frame (or is empty) */
    SPW_FRAME_MESSAGE = 2,   /* one complete message */
};

/* Stateless one-shot parse of the frame at the start of buf: returns
 * SPW_FRAME_MESSAGE with *body_len and *frame_len (8 + body) set,
 * SPW_FRAME_NEED_MORE, or SPW_EMSGSIZE. The body is buf + 8; nothing is
 * copied or allocated. Output pointers must not be NULL. */
int spw_frame_parse(const uint8_t *buf, size_t len, uint64_t limit, size_t *body_len,
                    size_t *frame_len);

/* Decoder states, in wire order. */
enum spw_decoder_state {
    SPW_DEC_LENGTH = 0, /* collecting the 8 length bytes */
    SPW_DEC_BODY,       /* collecting the body */
    SPW_DEC_FAILED,     /* sticky error; only reset or fini leave it */
};

/* Incremental decoder. Caller-owned; fields exposed for sizing only. */
typedef struct spw_decoder {
    const spw_allocator *alloc;
    uint64_t limit;
    uint8_t *body;
    size_t body_len;  /* announced */
    size_t body_have; /* received */
    size_t body_cap;  /* allocated */
    uint8_t len_buf[SPW_FRAME_HEADER_SIZE];
    uint8_t len_have;
    uint8_t state; /* enum spw_decoder_state */
    int error;
} spw_decoder;

/* Initialise with a limit (0 = none) and an allocator (NULL = default).
 * Allocates nothing. */
void spw_decoder_init(spw_decoder *d, uint64_t limit, const spw_allocator *alloc);

/* Change the limit; applies from the next length header. */
void spw_decoder_set_limit(spw_decoder *d, uint64_t limit);

/* Feed bytes. Stops after at most one complete message, so *consumed may be
 * less than len: call again with the rest. Returns
 *   SPW_FRAME_NEED_MORE: all len bytes consumed, no message completed;
 *   SPW_FRAME_MESSAGE:   *msg holds a message the caller now owns (free it
 *                        with spw_msg_free and the decoder's allocator);
 *   SPW_EMSGSIZE:        announced length above the limit or reserved;
 *   SPW_ENOMEM:          the allocator refused (nothing leaks).
 * Errors are sticky: further calls consume nothing and return the same code
 * until spw_decoder_reset. A partial frame is never an error.
 * d, consumed, msg must not be NULL; buf may be NULL when len is 0. */
int spw_decoder_feed(spw_decoder *d, const uint8_t *buf, size_t len, size_t *consumed,
                     spw_msg *msg);

/* Zero-copy path for large bodies: when the decoder is inside a body, make
 * room for more of it (same growth rule as feed, so memory still follows
 * bytes received) and return where the caller may write them directly, e.g.
 * with read(2). *len is 0 when the decoder is not inside a body, and then
 * the caller must use feed. Returns SPW_OK, SPW_ENOMEM (sticky), or the
 * sticky error. d, ptr, len must not be NULL. */
int spw_decoder_body_space(spw_decoder *d, uint8_t **ptr, size_t *len);

/* Account for n bytes written at the pointer body_space returned (n no more
 * than its *len). Returns SPW_FRAME_MESSAGE with *msg when the body is now
 * complete, SPW_FRAME_NEED_MORE otherwise, or SPW_EINVAL for an n that does
 * not fit (the decoder is then failed). */
int spw_decoder_body_commit(spw_decoder *d, size_t n, spw_msg *msg);

/* 1 when the decoder sits between frames (nothing partial held). */
int spw_decoder_idle(const spw_decoder *d);

/* Bytes of the current frame's body still to come; 0 outside a body. Lets
 * an I/O layer size its reads (a large remainder is worth reading straight
 * into the body even through a small window). */
size_t spw_decoder_body_remaining(const spw_decoder *d);

/* Drop any partial frame and clear a sticky error; keeps limit and
 * allocator. */
void spw_decoder_reset(spw_decoder *d);

/* Release what the decoder holds. The decoder may be initialised again. */
void spw_decoder_fini(spw_decoder *d);

#ifdef __cplusplus
}
#endif
#endif
