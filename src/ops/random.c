/* weft_random: pieces over the array's chunks, each element computed from
 * (seed, offset + its index) alone (include/weft_random.h), so any split and
 * any device give the same numbers. */
#include "../core/error.h"
#include "dispatch.h"
#include "submit_local.h"

typedef struct random_op {
    weft_op base;
    int dist;
    uint64_t seed, offset;
} random_op;

static weft_status random_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                                size_t count)
{
    const random_op *r = op;
    return dev->ops.random(dev, r->base.arrays[0]->dtype, r->dist, r->seed, r->offset + begin,
                           views[0], count);
}

static weft_status random_run(weft_op *base)
{
    return weft_dispatch_prim(base, WEFT_PRIM_RANDOM, 0, random_chunk, "weft_random", NULL);
}

weft_status weft_random(weft_ctx *ctx, weft_array *a, int dist, uint64_t seed, uint64_t offset,
                        weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_random: context is NULL");
    RETURN_ON_ERROR(weft_array_check(a, "weft_random"));
    RETURN_IF(a->ctx != ctx, WEFT_ERR_INVALID_ARG,
              "weft_random: the array belongs to another context");
    RETURN_IF(dist != WEFT_UNIFORM && dist != WEFT_NORMAL, WEFT_ERR_INVALID_ARG,
              "weft_random: dist %d is neither WEFT_UNIFORM nor WEFT_NORMAL", dist);
    RETURN_IF(dist == WEFT_NORMAL && a->dtype != WEFT_F32 && a->dtype != WEFT_F64, WEFT_ERR_DTYPE,
              "weft_random: WEFT_NORMAL needs f32 or f64, not %s", weft_dtype_name(a->dtype));
    RETURN_IF(a->n > 0 && offset > UINT64_MAX - (a->n - 1), WEFT_ERR_RANGE,
              "weft_random: offset %llu + %zu elements passes the end of the stream",
              (unsigned long long)offset, a->n);
    random_op op = {.base = {.run = random_run, .ctx = ctx, .arrays = {a}, .narrays = 1},
                    .dist = dist,
                    .seed = seed,
                    .offset = offset};
    weft_local_op local = {&op.base, sizeof op, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}
