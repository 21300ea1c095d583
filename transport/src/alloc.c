#include "spwire/alloc.h"

#include <stdlib.h>

static void *default_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    (void)old_size;
    /* realloc(p, 0) is implementation-defined; spwire never asks for 0, but
     * a caller's custom use must not get a surprise free. */
    return realloc(ptr, new_size ? new_size : 1);
}

static void default_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    free(ptr);
}

const spw_allocator spw_allocator_default = {default_realloc, default_free, 0};

const spw_allocator *spw_allocator_or_default(const spw_allocator *a)
{
    return a ? a : &spw_allocator_default;
}
