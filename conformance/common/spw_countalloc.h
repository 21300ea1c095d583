/* spw_countalloc -- the one counting spw_allocator of the tests and fuzz
 * harnesses.
 *
 * Tracks every live block with the size spwire asked for, so it checks the
 * allocator contract of spwire/alloc.h (the old_size passed back is the size
 * last requested, no double free, no foreign pointer), counts live, peak and
 * total bytes, and refuses the fail_at-th allocation request on demand (and,
 * when sticky, every later one). The block table is a fixed array: a test or
 * an input never holds more than a handful of blocks at once, and running
 * out is itself reported as a violation (a leak in progress).
 *
 * Header-only, everything static inline: the fuzz harnesses are built by
 * CMake, ClusterFuzzLite's build.sh and the AFL++/libFuzzer scripts, and
 * reach this file from fuzz_common.h by a relative path, so no build needs a
 * new library or include flag, and the callbacks are compiled (and
 * instrumented) with each harness as before. The unit tests get it through
 * spw_tools_common's include directory. No cmocka, no libc beyond stdio and
 * stdlib.
 *
 * A violation calls SPW_COUNTALLOC_CHECK's failure path: by default a line
 * on stderr and abort(); an includer may define SPW_COUNTALLOC_CHECK(cond)
 * first (the fuzz harnesses use their own invariant report, which triage
 * reads).
 */
#ifndef SPW_COUNTALLOC_H
#define SPW_COUNTALLOC_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "spwire/alloc.h"

#ifndef SPW_COUNTALLOC_CHECK
#define SPW_COUNTALLOC_CHECK(cond)                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "spwire allocator contract violated at %s:%d: %s\n", __FILE__,         \
                    __LINE__, #cond);                                                              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#endif

#define SPW_COUNTALLOC_MAX_BLOCKS 256

typedef struct spw_countalloc_block {
    void *ptr;
    size_t size;
} spw_countalloc_block;

/* Pass &a->api wherever spwire takes an allocator. The counters are for
 * reading; fail_at and sticky may be changed between calls. */
typedef struct spw_countalloc {
    spw_allocator api;
    size_t nblocks;        /* blocks currently allocated */
    size_t live;           /* bytes currently allocated */
    size_t peak;           /* largest value of live */
    size_t total;          /* sum of all sizes ever handed out (grows only) */
    unsigned long ops;     /* realloc calls, refused ones included */
    unsigned long fail_at; /* refuse the fail_at-th call (1-based); 0 = never */
    int sticky;            /* and, when set, every call after it */
    unsigned long refused; /* calls refused so far */
    spw_countalloc_block blocks[SPW_COUNTALLOC_MAX_BLOCKS];
} spw_countalloc;

static inline size_t spw_countalloc_find(const spw_countalloc *a, const void *ptr)
{
    for (size_t i = 0; i < a->nblocks; i++) {
        if (a->blocks[i].ptr == ptr) {
            return i;
        }
    }
    return (size_t)-1;
}

static inline void *spw_countalloc_realloc_cb(void *ctx, void *ptr, size_t old_size,
                                              size_t new_size)
{
    spw_countalloc *a = ctx;
    size_t idx = (size_t)-1;
    if (ptr != NULL) {
        idx = spw_countalloc_find(a, ptr);
        SPW_COUNTALLOC_CHECK(idx != (size_t)-1); /* realloc of a block we never gave out */
        SPW_COUNTALLOC_CHECK(a->blocks[idx].size == old_size); /* old_size contract */
    } else {
        SPW_COUNTALLOC_CHECK(old_size == 0);
    }
    a->ops++;
    if (a->fail_at != 0 && (a->ops == a->fail_at || (a->sticky && a->ops > a->fail_at))) {
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
        SPW_COUNTALLOC_CHECK(a->nblocks < SPW_COUNTALLOC_MAX_BLOCKS);
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

static inline void spw_countalloc_free_cb(void *ctx, void *ptr, size_t size)
{
    spw_countalloc *a = ctx;
    if (ptr == NULL) {
        return;
    }
    size_t idx = spw_countalloc_find(a, ptr);
    SPW_COUNTALLOC_CHECK(idx != (size_t)-1);           /* double or foreign free */
    SPW_COUNTALLOC_CHECK(a->blocks[idx].size == size); /* size contract */
    a->live -= size;
    a->blocks[idx] = a->blocks[--a->nblocks];
    free(ptr);
}

/* A fresh allocator: nothing counted, refusing per fail_at and sticky. */
static inline void spw_countalloc_init(spw_countalloc *a, unsigned long fail_at, int sticky)
{
    /* Only the header: the block table is filled as blocks are handed out,
     * so a fresh allocator costs nothing per fuzz input. */
    a->nblocks = 0;
    a->live = 0;
    a->peak = 0;
    a->total = 0;
    a->ops = 0;
    a->refused = 0;
    a->api.realloc = spw_countalloc_realloc_cb;
    a->api.free = spw_countalloc_free_cb;
    a->api.ctx = a;
    a->fail_at = fail_at;
    a->sticky = sticky;
}

/* Everything returned: no block left, no byte counted. */
static inline void spw_countalloc_check_empty(const spw_countalloc *a)
{
    SPW_COUNTALLOC_CHECK(a->nblocks == 0);
    SPW_COUNTALLOC_CHECK(a->live == 0);
}

#endif
