/* mutator_frame — structure-aware mutator for fuzz_frame inputs.
 *
 * Understands the input layout of fuzz/frame_input.h: a limit selector, a
 * split pattern, then a stream of u64 BE length + body frames. It parses the
 * stream into frames, mutates at that level, and writes it back. Most of the
 * time lengths stay consistent with bodies (so the decoder gets deep, into
 * many complete messages); on purpose it also lies, with the lengths where
 * bugs live: 0, limit-1, limit, limit+1, SPW_DECODER_FIRST_CHUNK +-1,
 * 2^32 +-1, 2^60 +-1, 2^63 +-1, 2^64-1 and neighbours, and the true length
 * +-1. Frame operations: mutate a body, resize a body to a boundary (and
 * keep the length true), split, merge, duplicate, delete, swap, insert,
 * splice from another input, truncate mid-frame, append a partial header.
 *
 * Two input layouts, chosen at compile time:
 *   default            fuzz_frame's (frame_input.h): limit selector, split
 *                      pattern, frames
 *   -DSPW_MUTATOR_REF  the reference targets' (ref_peer.h: fuzz_nng and the
 *                      other in-process implementations): 3 prefix bytes
 *                      (protocol, mode, write cut), the 8-byte SP handshake,
 *                      frames. The handshake is kept most of the time (a
 *                      broken one ends the connection before any frame),
 *                      now and then a byte is changed or its protocol id is
 *                      turned into the peer's (SP numbers a protocol and its
 *                      peer with ids one bit apart).
 *
 * Built two ways from this file:
 *   -DSPW_MUTATOR_LIBFUZZER  LLVMFuzzerCustomMutator, linked into the
 *                            libFuzzer build of fuzz_frame (a quarter of
 *                            the time it defers to LLVMFuzzerMutate on the
 *                            whole input, which also mutates bodies)
 *   -DSPW_MUTATOR_AFL        afl_custom_init / afl_custom_fuzz /
 *                            afl_custom_deinit, built as
 *                            libspw_mutator_frame.so for
 *                            AFL_CUSTOM_MUTATOR_LIBRARY
 * It depends on no spwire code, only on its headers for constants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_input.h"
#include "spwire/frame.h"
#ifdef SPW_MUTATOR_REF
#include "ref_peer.h"
#endif

/* Largest body this mutator will materialise when resizing to a boundary. */
#define MUT_MAX_BODY ((size_t)256 * 1024)
#define MUT_MAX_FRAMES 256

typedef struct mut_rng {
    uint64_t s;
} mut_rng;

static uint64_t rng_next(mut_rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static size_t rng_below(mut_rng *r, size_t n)
{
    return n == 0 ? 0 : (size_t)(rng_next(r) % n);
}

typedef struct mut_frame {
    uint8_t *body;
    size_t body_len;
    uint64_t len_field; /* written when !consistent */
    int consistent;
} mut_frame;

typedef struct mut_state {
#ifdef SPW_MUTATOR_REF
    uint8_t pre[SPW_REF_PREFIX]; /* protocol, mode, cut (ref_peer.h) */
    uint8_t hs[8];               /* the handshake as written */
    size_t hs_len;               /* < 8 only when the input ends inside it */
#else
    uint8_t sel;        /* limit selector */
    uint8_t n;          /* split count | mode bits (frame_input.h) */
    uint8_t splits[16];
#endif
    mut_frame frames[MUT_MAX_FRAMES];
    size_t nframes;
    uint8_t tail[8];    /* trailing partial header */
    size_t tail_len;
    size_t truncate_to; /* cut the serialised stream here; SIZE_MAX = no */
} mut_state;

static void frames_free(mut_state *st)
{
    for (size_t i = 0; i < st->nframes; i++) {
        free(st->frames[i].body);
    }
    st->nframes = 0;
}

static int frame_set(mut_frame *f, const uint8_t *body, size_t len)
{
    uint8_t *b = NULL;
    if (len > 0) {
        b = malloc(len);
        if (!b) {
            return -1;
        }
        if (body) {
            memcpy(b, body, len);
        } else {
            for (size_t i = 0; i < len; i++) {
                b[i] = (uint8_t)(i * 7 + 1);
            }
        }
    }
    f->body = b;
    f->body_len = len;
    f->len_field = len;
    f->consistent = 1;
    return 0;
}

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xFF);
        v >>= 8;
    }
}

/* Parse a stream into frames (appending to st). A frame whose body runs past
 * the end keeps its announced length as a lie. */
static void parse_stream(mut_state *st, const uint8_t *s, size_t len)
{
    size_t pos = 0;
    while (len - pos >= SPW_FRAME_HEADER_SIZE && st->nframes < MUT_MAX_FRAMES) {
        uint64_t announced = load_be64(s + pos);
        size_t avail = len - pos - SPW_FRAME_HEADER_SIZE;
        size_t take = announced < (uint64_t)avail ? (size_t)announced : avail;
        mut_frame *f = &st->frames[st->nframes];
        if (frame_set(f, s + pos + SPW_FRAME_HEADER_SIZE, take) != 0) {
            return;
        }
        if ((uint64_t)take != announced) {
            f->consistent = 0;
            f->len_field = announced;
        }
        st->nframes++;
        pos += SPW_FRAME_HEADER_SIZE + take;
    }
    size_t rest = len - pos;
    if (rest > 0 && rest < SPW_FRAME_HEADER_SIZE) {
        memcpy(st->tail, s + pos, rest);
        st->tail_len = rest;
    }
}

#ifdef SPW_MUTATOR_REF
static void parse_input(mut_state *st, const uint8_t *data, size_t size)
{
    memset(st, 0, sizeof(*st));
    st->truncate_to = SIZE_MAX;
    size_t np = size < SPW_REF_PREFIX ? size : SPW_REF_PREFIX;
    memcpy(st->pre, data, np);
    const uint8_t *s = data + np;
    size_t len = size - np;
    st->hs_len = len < 8 ? len : 8;
    memcpy(st->hs, s, st->hs_len);
    parse_stream(st, s + st->hs_len, len - st->hs_len);
}

/* The receive limit the input chose, for lengths relative to it. */
static uint64_t input_limit(const mut_state *st)
{
    const int k = (st->pre[1] & 3) == 3 ? 0 : (st->pre[1] & 3);
    return spw_ref_limit_bytes(k);
}
#else
static void parse_input(mut_state *st, const uint8_t *data, size_t size)
{
    spw_frame_input in;
    spw_frame_input_parse(data, size, &in);
    memset(st, 0, sizeof(*st));
    st->sel = size > 0 ? data[0] : 0;
    st->n = (uint8_t)((size > 1 ? data[1] & 0xF0 : 0) | (in.nsplits & 15));
    memcpy(st->splits, in.splits, in.nsplits);
    st->truncate_to = SIZE_MAX;
    parse_stream(st, in.stream, in.stream_len);
}

static uint64_t input_limit(const mut_state *st)
{
    return spw_frame_input_limit(st->sel);
}
#endif

/* 2^k +- d for the exponents where implementations keep sizes in narrower
 * types or add headroom before allocating (NNG adds 32: FINDINGS F8), d in
 * -16..16; a header's worth (8) and NNG's headroom (32) below the power
 * are drawn often. */
static uint64_t near_power(mut_rng *r)
{
    static const unsigned exps[] = {8, 16, 24, 31, 32, 48, 56, 60, 63, 64};
    unsigned k = exps[rng_below(r, sizeof exps / sizeof exps[0])];
    uint64_t p = k == 64 ? 0 : (uint64_t)1 << k; /* 2^64 wraps to 0 */
    switch (rng_below(r, 4)) {
    case 0:
        return p - SPW_FRAME_HEADER_SIZE;
    case 1:
        return p - 32;
    default:
        return p + (uint64_t)(int64_t)((int)rng_below(r, 33) - 16);
    }
}

/* Lengths where bugs live, relative to the current limit and a frame. */
static uint64_t boundary_length(mut_rng *r, uint64_t limit, size_t true_len)
{
    switch (rng_below(r, 26)) {
    case 22:
    case 23:
        return near_power(r);
    case 24: /* 2^64-1 down to 2^64-128: SIZE_MAX minus a small headroom */
        return UINT64_MAX - rng_below(r, 128);
    case 25: /* limit +- 16 */
        return limit + (uint64_t)(int64_t)((int)rng_below(r, 33) - 16);
    case 0:
        return 0;
    case 1:
        return limit - 1; /* limit 0 gives 2^64-1 */
    case 2:
        return limit;
    case 3:
        return limit + 1;
    case 4:
        return UINT64_C(0xFFFFFFFF);
    case 5:
        return UINT64_C(0x100000000);
    case 6:
        return UINT64_C(0x100000001);
    case 7:
        return UINT64_C(0x0FFFFFFFFFFFFFFF);
    case 8:
        return UINT64_C(0x1000000000000000);
    case 9:
        return UINT64_C(0x1000000000000001);
    case 10:
        return UINT64_C(0x7FFFFFFFFFFFFFFF);
    case 11:
        return UINT64_C(0x8000000000000000);
    case 12:
        return UINT64_C(0x8000000000000001);
    case 13:
        return UINT64_MAX;
    case 14:
        return UINT64_MAX - 1;
    case 15:
        return (uint64_t)SPW_DECODER_FIRST_CHUNK - 1;
    case 16:
        return (uint64_t)SPW_DECODER_FIRST_CHUNK;
    case 17:
        return (uint64_t)SPW_DECODER_FIRST_CHUNK + 1;
    case 18:
        return (uint64_t)true_len + 1;
    case 19:
        return true_len > 0 ? (uint64_t)true_len - 1 : 0;
    case 20:
        return SPW_RECVMAX_DEFAULT + (rng_below(r, 3) - 1);
    default:
        return (uint64_t)1 << rng_below(r, 64);
    }
}

/* Body sizes that can really be materialised, near the limit and the
 * decoder's first chunk. */
static size_t boundary_body(mut_rng *r, uint64_t limit)
{
    uint64_t v;
    /* Bodies past the first chunk make every later run of that input slow:
     * offer them in 2 of 12 picks. */
    switch (rng_below(r, 12)) {
    case 0:
        v = limit > 0 ? limit - 1 : 0;
        break;
    case 1:
        v = limit;
        break;
    case 2:
        v = limit + 1;
        break;
    case 3:
        v = (uint64_t)SPW_DECODER_FIRST_CHUNK - 1 + rng_below(r, 3);
        break;
    case 4:
        v = (uint64_t)SPW_DECODER_FIRST_CHUNK * 2 + rng_below(r, 3) - 1;
        break;
    default:
        v = rng_below(r, 17);
        break;
    }
    return v > MUT_MAX_BODY ? (size_t)rng_below(r, 64) : (size_t)v;
}

static void mutate_bytes(mut_rng *r, uint8_t *b, size_t len)
{
    if (len == 0) {
        return;
    }
    size_t n = 1 + rng_below(r, 4);
    for (size_t i = 0; i < n; i++) {
        size_t at = rng_below(r, len);
        switch (rng_below(r, 4)) {
        case 0:
            b[at] ^= (uint8_t)(1u << rng_below(r, 8));
            break;
        case 1:
            b[at] = (uint8_t)rng_next(r);
            break;
        case 2:
            b[at] = (uint8_t)(rng_below(r, 2) ? 0x00 : 0xFF);
            break;
        default:
            b[at] = (uint8_t)(b[at] + 1 - 2 * (int)rng_below(r, 2));
            break;
        }
    }
}

#ifdef SPW_MUTATOR_LIBFUZZER
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
#endif

/* Mutate one body in place or resized; keeps the length true. */
static void mutate_body(mut_rng *r, mut_frame *f)
{
#ifdef SPW_MUTATOR_LIBFUZZER
    size_t cap = f->body_len + 64;
    uint8_t *nb = malloc(cap);
    if (!nb) {
        return;
    }
    if (f->body_len) {
        memcpy(nb, f->body, f->body_len);
    }
    size_t nl = LLVMFuzzerMutate(nb, f->body_len, cap);
    if (rng_below(r, 8) == 0) {
        mutate_bytes(r, nb, nl);
    }
    free(f->body);
    f->body = nb;
    f->body_len = nl;
#else
    mutate_bytes(r, f->body, f->body_len);
    if (rng_below(r, 4) == 0) {
        /* grow or shrink a little */
        size_t nl = f->body_len + rng_below(r, 9);
        nl = nl > 4 ? nl - 4 : 0;
        uint8_t *nb = realloc(f->body, nl ? nl : 1);
        if (!nb) {
            return;
        }
        for (size_t i = f->body_len; i < nl; i++) {
            nb[i] = (uint8_t)rng_next(r);
        }
        f->body = nb;
        f->body_len = nl;
    }
#endif
    f->len_field = f->body_len;
    f->consistent = 1;
}

static void remove_frame(mut_state *st, size_t i)
{
    free(st->frames[i].body);
    memmove(&st->frames[i], &st->frames[i + 1], (st->nframes - i - 1) * sizeof(mut_frame));
    st->nframes--;
}

static int insert_frame(mut_state *st, size_t at, const uint8_t *body, size_t len)
{
    if (st->nframes >= MUT_MAX_FRAMES) {
        return -1;
    }
    mut_frame f;
    if (frame_set(&f, body, len) != 0) {
        return -1;
    }
    memmove(&st->frames[at + 1], &st->frames[at], (st->nframes - at) * sizeof(mut_frame));
    st->frames[at] = f;
    st->nframes++;
    return 0;
}

static void mutate_once(mut_state *st, mut_rng *r, const uint8_t *other, size_t other_len)
{
    uint64_t limit = input_limit(st);
    size_t nf = st->nframes;
    size_t i = rng_below(r, nf);
    switch (rng_below(r, 16)) {
#ifdef SPW_MUTATOR_REF
    case 0: /* protocol, or the handshake */
        if (rng_below(r, 2)) {
            st->pre[0] = (uint8_t)rng_next(r);
        } else if (st->hs_len == 8 && rng_below(r, 2)) {
            st->hs[5] ^= 1; /* the peer's id, or a bus (0x70) turned 0x71 */
        } else if (st->hs_len > 0) {
            mutate_bytes(r, st->hs, st->hs_len);
        }
        break;
    case 1: { /* write cut: one write, single bytes, header-sized, any */
        static const uint8_t cuts[] = {0, 1, 2, 3, 7, 8, 9, 16, 255};
        st->pre[2] = rng_below(r, 3) == 0 ? (uint8_t)rng_next(r) : cuts[rng_below(r, sizeof(cuts))];
        break;
    }
    case 2: /* mode: limit, the implementation sends, how we finish */
        st->pre[1] = (uint8_t)rng_below(r, 32);
        break;
#else
    case 0: { /* new limit, small ones often */
        static const uint8_t picks[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65,
                                        128 + 16, 128 + 32, 128 + 60, 128 + 63, 192, 193, 255};
        st->sel = rng_below(r, 3) == 0 ? (uint8_t)rng_next(r)
                                       : picks[rng_below(r, sizeof(picks))];
        break;
    }
    case 1: { /* new split pattern */
        static const uint8_t sizes[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 255};
        size_t n = rng_below(r, 16);
        for (size_t k = 0; k < n; k++) {
            st->splits[k] =
                rng_below(r, 4) == 0 ? (uint8_t)rng_next(r) : sizes[rng_below(r, sizeof(sizes))];
        }
        st->n = (uint8_t)((st->n & 0xF0) | n);
        break;
    }
    case 2: /* mode: zero-copy bit, refused allocation (frame_input.h) */
        st->n = (uint8_t)((st->n & 0x0F) | (rng_below(r, 16) << 4));
        break;
#endif
    case 3:
    case 4: /* body */
        if (nf) {
            mutate_body(r, &st->frames[i]);
        } else {
            (void)insert_frame(st, 0, NULL, rng_below(r, 9));
        }
        break;
    case 5:
    case 6: /* lie about a length */
        if (nf) {
            st->frames[i].len_field = boundary_length(r, limit, st->frames[i].body_len);
            st->frames[i].consistent = 0;
        }
        break;
    case 7: /* true length at a boundary */
        if (nf) {
            size_t nl = boundary_body(r, limit);
            uint8_t *nb = realloc(st->frames[i].body, nl ? nl : 1);
            if (nb) {
                for (size_t k = st->frames[i].body_len; k < nl; k++) {
                    nb[k] = (uint8_t)(k * 13);
                }
                st->frames[i].body = nb;
                st->frames[i].body_len = nl;
                st->frames[i].len_field = nl;
                st->frames[i].consistent = 1;
            }
        }
        break;
    case 8: /* split a frame in two */
        if (nf && st->nframes < MUT_MAX_FRAMES) {
            mut_frame *f = &st->frames[i];
            size_t cut = rng_below(r, f->body_len + 1);
            if (insert_frame(st, i + 1, f->body_len - cut ? st->frames[i].body + cut : NULL,
                             st->frames[i].body_len - cut) == 0) {
                st->frames[i].body_len = cut;
                st->frames[i].len_field = cut;
                st->frames[i].consistent = 1;
            }
        }
        break;
    case 9: /* merge with the next */
        if (i + 1 < nf) {
            mut_frame *a = &st->frames[i], *b = &st->frames[i + 1];
            size_t nl = a->body_len + b->body_len;
            uint8_t *nb = realloc(a->body, nl ? nl : 1);
            if (nb) {
                if (b->body_len) {
                    memcpy(nb + a->body_len, b->body, b->body_len);
                }
                a->body = nb;
                a->body_len = nl;
                a->len_field = nl;
                a->consistent = 1;
                remove_frame(st, i + 1);
            }
        }
        break;
    case 10: /* duplicate */
        if (nf) {
            (void)insert_frame(st, i, st->frames[i].body, st->frames[i].body_len);
        }
        break;
    case 11: /* delete */
        if (nf) {
            remove_frame(st, i);
        }
        break;
    case 12: /* swap */
        if (nf > 1) {
            size_t j = rng_below(r, nf);
            mut_frame t = st->frames[i];
            st->frames[i] = st->frames[j];
            st->frames[j] = t;
        }
        break;
    case 13: /* splice frames from another input */
        if (other && other_len > 0) {
            mut_state *o = malloc(sizeof(*o));
            if (o) {
                parse_input(o, other, other_len);
                for (size_t k = 0; k < o->nframes && rng_below(r, 2); k++) {
                    if (insert_frame(st, rng_below(r, st->nframes + 1), o->frames[k].body,
                                     o->frames[k].body_len) != 0) {
                        break;
                    }
                }
                frames_free(o);
                free(o);
            }
        } else {
            (void)insert_frame(st, rng_below(r, nf + 1), NULL, rng_below(r, 17));
        }
        break;
    case 14: /* end mid-frame, or with a partial header */
        if (rng_below(r, 2)) {
            st->truncate_to = (size_t)rng_next(r);
        } else {
            uint8_t hdr[8];
            store_be64(hdr, boundary_length(r, limit, 0));
            st->tail_len = 1 + rng_below(r, 7);
            memcpy(st->tail, hdr, st->tail_len);
        }
        break;
    default: /* repair: every length true again */
        for (size_t k = 0; k < nf; k++) {
            st->frames[k].len_field = st->frames[k].body_len;
            st->frames[k].consistent = 1;
        }
        st->tail_len = 0;
        st->truncate_to = SIZE_MAX;
        break;
    }
}

/* Write st to out (at most max bytes). Returns the size. */
static size_t serialise(const mut_state *st, uint8_t *out, size_t max)
{
    size_t pos = 0;
#define PUT(src, n)                                                                            \
    do {                                                                                       \
        size_t n_ = (n);                                                                       \
        if (n_ > max - pos) {                                                                  \
            n_ = max - pos;                                                                    \
        }                                                                                      \
        if (n_) {                                                                              \
            memcpy(out + pos, (src), n_);                                                      \
        }                                                                                      \
        pos += n_;                                                                             \
    } while (0)
#ifdef SPW_MUTATOR_REF
    PUT(st->pre, SPW_REF_PREFIX);
    PUT(st->hs, st->hs_len);
#else
    uint8_t pre[2] = {st->sel, st->n};
    PUT(pre, 2);
    PUT(st->splits, (size_t)(st->n & 15));
#endif
    size_t stream_start = pos;
    for (size_t i = 0; i < st->nframes && pos < max; i++) {
        uint8_t hdr[8];
        const mut_frame *f = &st->frames[i];
        store_be64(hdr, f->consistent ? (uint64_t)f->body_len : f->len_field);
        PUT(hdr, 8);
        PUT(f->body, f->body_len);
    }
    PUT(st->tail, st->tail_len);
#undef PUT
    if (st->truncate_to != SIZE_MAX && pos > stream_start) {
        pos = stream_start + st->truncate_to % (pos - stream_start + 1);
    }
    return pos;
}

/* The whole mutation: parse, 1-4 structured steps, serialise. */
static size_t mutate(const uint8_t *data, size_t size, uint8_t *out, size_t max_size,
                     uint64_t seed, const uint8_t *other, size_t other_len)
{
    mut_state *st = malloc(sizeof(*st));
    if (!st) {
        return 0;
    }
    mut_rng r = {seed};
    parse_input(st, data, size);
    size_t steps = 1 + rng_below(&r, 4);
    for (size_t k = 0; k < steps; k++) {
        mutate_once(st, &r, other, other_len);
    }
    size_t n = serialise(st, out, max_size);
    frames_free(st);
    free(st);
    return n;
}

#ifdef SPW_MUTATOR_LIBFUZZER
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    mut_rng r = {(uint64_t)seed * 2654435761u + 1};
    if (rng_below(&r, 4) == 0 || max_size < 2) {
        return LLVMFuzzerMutate(data, size, max_size);
    }
    /* The parsed state holds copies of everything, so the result can be
     * written straight over the input (libFuzzer gives max_size room). */
    return mutate(data, size, data, max_size, rng_next(&r), NULL, 0);
}
#endif

#ifdef SPW_MUTATOR_AFL
typedef struct afl_mut {
    mut_rng rng;
    uint8_t *buf;
    size_t cap;
} afl_mut;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    afl_mut *m = calloc(1, sizeof(*m));
    if (m) {
        m->rng.s = (uint64_t)seed ^ UINT64_C(0x5350575245);
    }
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    afl_mut *m = data;
    if (max_size > m->cap) {
        uint8_t *nb = realloc(m->buf, max_size);
        if (!nb) {
            *out_buf = buf;
            return buf_size;
        }
        m->buf = nb;
        m->cap = max_size;
    }
    size_t n = mutate(buf, buf_size, m->buf, max_size, rng_next(&m->rng), add_buf, add_buf_size);
    *out_buf = m->buf;
    return n;
}

void afl_custom_deinit(void *data)
{
    afl_mut *m = data;
    if (m) {
        free(m->buf);
        free(m);
    }
}
#endif
