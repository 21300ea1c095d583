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
 * spw_countalloc (conformance/common/spw_countalloc.h, shared with the unit
 * tests); a broken allocator contract is reported as a fuzz invariant, the
 * line triage reads.
 */
#define SPW_COUNTALLOC_CHECK(cond) SPW_FUZZ_CHECK(cond)
#include "../conformance/common/spw_countalloc.h"

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
