/* spwire fuzz harnesses — helpers shared by every target.
 *
 * Everything here is static so that each harness object exports nothing but
 * LLVMFuzzerTestOneInput. No global mutable state: a harness keeps all of
 * its state on the stack of one call, so persistent mode (libFuzzer, AFL++
 * shared-memory loop, the replay driver) sees no carry-over between inputs.
 */
#ifndef SPW_FUZZ_COMMON_H
#define SPW_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spwire/alloc.h"

/* The entry points every engine calls. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort, so every engine records a crash. */
#define SPW_FUZZ_CHECK(cond)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            spw_fuzz_fail(__FILE__, __LINE__, #cond);                          \
        }                                                                      \
    } while (0)

static inline void spw_fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "spwire fuzz invariant violated at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

static inline uint64_t spw_fuzz_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static inline void spw_fuzz_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xFF);
        v >>= 8;
    }
}

/* Independent model of the length rule in spwire/frame.h: exactly the limit
 * is fine, one more is refused; 0 means no limit; the reserved top 4 bits
 * and anything above SIZE_MAX are always refused. Returns 1 if accepted. */
static inline int spw_fuzz_length_ok(uint64_t len, uint64_t limit)
{
    if ((len & UINT64_C(0xF000000000000000)) != 0) {
        return 0;
    }
    if (len > (uint64_t)SIZE_MAX) {
        return 0;
    }
    if (limit != 0 && len > limit) {
        return 0;
    }
    return 1;
}

/* ---- counting allocator --------------------------------------------------
 *
 * Tracks every live block with the size spwire asked for, so it can check
 * the allocator contract (old_size passed back must be the size last
 * requested, no double free, no foreign pointer), count live and peak bytes,
 * and refuse the N-th allocation on demand. The table is a fixed array: the
 * harnesses never hold more than a handful of blocks at once; running out is
 * itself reported as a violation (a leak in progress).
 */
#define SPW_FUZZ_MAX_BLOCKS 256

typedef struct spw_fuzz_block {
    void *ptr;
    size_t size;
} spw_fuzz_block;

typedef struct spw_fuzz_alloc {
    spw_allocator api;
    spw_fuzz_block blocks[SPW_FUZZ_MAX_BLOCKS];
    size_t nblocks;
    size_t live;        /* bytes currently allocated */
    size_t peak;        /* largest value of live */
    size_t total;       /* sum of all sizes ever requested (grows only) */
    unsigned long ops;  /* realloc calls that asked for memory */
    unsigned long fail_at; /* refuse the fail_at-th request (1-based); 0 = never */
    unsigned long refused;
} spw_fuzz_alloc;

static inline size_t spw_fuzz_alloc_find(const spw_fuzz_alloc *a, const void *ptr)
{
    for (size_t i = 0; i < a->nblocks; i++) {
        if (a->blocks[i].ptr == ptr) {
            return i;
        }
    }
    return (size_t)-1;
}

static inline void *spw_fuzz_realloc_cb(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    spw_fuzz_alloc *a = ctx;
    size_t idx = (size_t)-1;
    if (ptr != NULL) {
        idx = spw_fuzz_alloc_find(a, ptr);
        SPW_FUZZ_CHECK(idx != (size_t)-1); /* realloc of a block we never gave out */
        SPW_FUZZ_CHECK(a->blocks[idx].size == old_size); /* old_size contract */
    } else {
        SPW_FUZZ_CHECK(old_size == 0);
    }
    a->ops++;
    if (a->fail_at != 0 && a->ops == a->fail_at) {
        a->refused++;
        return NULL; /* old block stays valid, as C's realloc */
    }
    /* Never ask the C library for 0 bytes: its answer is implementation
     * defined. One byte is enough to hand back a unique pointer. */
    void *np = realloc(ptr, new_size == 0 ? 1 : new_size);
    if (np == NULL) {
        return NULL;
    }
    if (idx == (size_t)-1) {
        SPW_FUZZ_CHECK(a->nblocks < SPW_FUZZ_MAX_BLOCKS);
        idx = a->nblocks++;
    }
    a->blocks[idx].ptr = np;
    a->blocks[idx].size = new_size;
    a->live = a->live - old_size + new_size;
    if (a->live > a->peak) {
        a->peak = a->live;
    }
    a->total += new_size;
    return np;
}

static inline void spw_fuzz_free_cb(void *ctx, void *ptr, size_t size)
{
    spw_fuzz_alloc *a = ctx;
    if (ptr == NULL) {
        return;
    }
    size_t idx = spw_fuzz_alloc_find(a, ptr);
    SPW_FUZZ_CHECK(idx != (size_t)-1); /* double or foreign free */
    SPW_FUZZ_CHECK(a->blocks[idx].size == size); /* size contract */
    a->live -= size;
    a->blocks[idx] = a->blocks[--a->nblocks];
    free(ptr);
}

static inline void spw_fuzz_alloc_init(spw_fuzz_alloc *a, unsigned long fail_at)
{
    /* Only the header: the block table is filled as blocks are handed out,
     * so a fresh allocator costs nothing per input. */
    a->nblocks = 0;
    a->live = 0;
    a->peak = 0;
    a->total = 0;
    a->ops = 0;
    a->refused = 0;
    a->api.realloc = spw_fuzz_realloc_cb;
    a->api.free = spw_fuzz_free_cb;
    a->api.ctx = a;
    a->fail_at = fail_at;
}

/* Everything returned: no block left, no byte counted. */
static inline void spw_fuzz_alloc_check_empty(const spw_fuzz_alloc *a)
{
    SPW_FUZZ_CHECK(a->nblocks == 0);
    SPW_FUZZ_CHECK(a->live == 0);
}

/* ---- split patterns --------------------------------------------------------
 *
 * A split pattern is a short list of chunk sizes, used cyclically to cut a
 * byte stream into feed calls. Size 0 is a legal zero-length feed; 255 means
 * "everything left". A pattern made only of zeros is treated as "all at
 * once" so a feed loop always makes progress.
 */
#define SPW_FUZZ_MAX_SPLITS 15

typedef struct spw_fuzz_splitter {
    const uint8_t *sizes;
    size_t nsizes;
    size_t next;
    int all_zero;
} spw_fuzz_splitter;

static inline void spw_fuzz_splitter_init(spw_fuzz_splitter *s, const uint8_t *sizes,
                                          size_t nsizes)
{
    s->sizes = sizes;
    s->nsizes = nsizes;
    s->next = 0;
    s->all_zero = 1;
    for (size_t i = 0; i < nsizes; i++) {
        if (sizes[i] != 0) {
            s->all_zero = 0;
        }
    }
}

/* Next chunk length given remaining bytes left. */
static inline size_t spw_fuzz_splitter_next(spw_fuzz_splitter *s, size_t left)
{
    if (s->nsizes == 0 || s->all_zero) {
        return left;
    }
    uint8_t c = s->sizes[s->next];
    s->next = (s->next + 1) % s->nsizes;
    if (c == 255 || c > left) {
        return left;
    }
    return c;
}

#endif
