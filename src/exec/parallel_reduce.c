/* weft_parallel_reduce: OpenMP's reduction(+:s), oneTBB's parallel_reduce.
 * The range is cut into chunks that depend on n and grain alone, never on the
 * thread count; each chunk folds into its own partial, and partials combine in
 * index order on the caller, so the result is the same bits however many
 * threads ran the chunks. */
#include "../core/error.h"
#include "../core/handles.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK 4096 /* as WEFT_SUM_BLOCK: a fixed block, whatever the pool */

typedef struct reduce_call {
    weft_reduce_range_fn fn;
    void *user;
    size_t n, chunk, size;
    unsigned char *partials;
} reduce_call;

static void chunks(void *arg, size_t begin, size_t end)
{
    const reduce_call *r = arg;
    for (size_t c = begin; c < end; c++) {
        size_t first = c * r->chunk, last = first + r->chunk < r->n ? first + r->chunk : r->n;
        r->fn(r->user, first, last, r->partials + c * r->size);
    }
}

weft_status weft_parallel_reduce(weft_ctx *ctx, size_t n, size_t grain, size_t value_size,
                                 const void *identity, weft_reduce_range_fn fn,
                                 weft_combine_fn combine, void *user, void *result)
{
    RETURN_IF(!ctx || !fn || !combine || !identity || !result, WEFT_ERR_NULL,
              "weft_parallel_reduce: context, identity, fn, combine or result is NULL");
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_parallel_reduce: not a live context");
    RETURN_IF(value_size == 0, WEFT_ERR_INVALID_ARG, "weft_parallel_reduce: value_size is 0");
    size_t chunk = grain ? grain : DEFAULT_CHUNK;
    size_t count = n / chunk + (n % chunk != 0);
    RETURN_IF(count && value_size > SIZE_MAX / count, WEFT_ERR_SIZE,
              "weft_parallel_reduce: %zu partials of %zu bytes overflow", count, value_size);
    unsigned char *partials = malloc(count ? count * value_size : 1);
    RETURN_IF(!partials, WEFT_ERR_NOMEM, "weft_parallel_reduce: cannot allocate %zu partials",
              count);
    for (size_t c = 0; c < count; c++)
        memcpy(partials + c * value_size, identity, value_size);
    reduce_call call = {fn, user, n, chunk, value_size, partials};
    /* A grain given says how the work is cut: its chunks go to the pool at
     * once, as weft_parallel_for's do (two heavy items ran one after the
     * other). Grain 0: a few cheap chunks stay on this thread. */
    weft_status st = weft_parallel_for(ctx, count, grain ? 1 : 0, chunks, &call, NULL);
    if (st == WEFT_OK) {
        memmove(result, identity, value_size);
        for (size_t c = 0; c < count; c++)
            combine(user, result, partials + c * value_size);
    }
    free(partials);
    return st;
}
