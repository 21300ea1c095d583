/* spwire — the one replaceable allocator.
 *
 * Every byte spwire allocates goes through an spw_allocator, so a caller can
 * account for memory, cap it, or make the N-th allocation fail in a test.
 * Passing NULL wherever an allocator is accepted selects spw_allocator_default
 * (malloc/realloc/free).
 *
 * Contract for implementations: realloc(ctx, NULL, 0, n) allocates; realloc
 * returning NULL leaves the old block untouched and valid (as C's realloc);
 * free(ctx, NULL, 0) is a no-op. old_size is the size spwire last asked for,
 * so a counting allocator need not keep headers.
 */
#ifndef SPWIRE_ALLOC_H
#define SPWIRE_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spw_allocator {
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} spw_allocator;

extern const spw_allocator spw_allocator_default;

/* Returns a, or &spw_allocator_default when a is NULL. */
const spw_allocator *spw_allocator_or_default(const spw_allocator *a);

#ifdef __cplusplus
}
#endif
#endif
