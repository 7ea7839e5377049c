/* weft_sum: per-block partial sums on every device, combined in index order. */
#include "../error.h"
#include "dispatch.h"

#include <stdlib.h>

typedef struct sum_op {
    weft_op base;
    double *result;
    double *partials; /* one per WEFT_SUM_BLOCK elements */
} sum_op;

static int sum_native(const weft_device *dev, void *op)
{
    (void)op;
    return dev->ops.sum_blocks != weft_backend_reference()->sum_blocks;
}

static weft_status sum_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                             size_t count)
{
    const sum_op *p = op;
    /* Chunks start on block boundaries (partition granule), so block k of
     * the chunk is block begin/BLOCK + k of the array. */
    return dev->ops.sum_blocks(dev, p->base.arrays[0]->dtype, views[0], count,
                               p->partials + begin / WEFT_SUM_BLOCK);
}

static weft_status sum_run(weft_op *base)
{
    sum_op *p = (sum_op *)base;
    weft_array *x = base->arrays[0];
    size_t blocks = (x->n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    p->partials = malloc((blocks ? blocks : 1) * sizeof *p->partials);
    RETURN_IF(!p->partials, WEFT_ERR_NOMEM, "weft_sum: cannot allocate %zu partial sums", blocks);
    weft_dispatch d = {.ctx = base->ctx,
                       .arrays = {x},
                       .narrays = 1,
                       .reads = 1,
                       .writes = 0,
                       .native = sum_native,
                       .run = sum_chunk,
                       .op = p};
    RETURN_ON_ERROR(weft_dispatch_run(&d));
    /* One fixed order whatever the split: that is what makes it reproducible. */
    double total = 0.0;
    for (size_t b = 0; b < blocks; b++)
        total += p->partials[b];
    *p->result = total;
    return WEFT_OK;
}

static void sum_destroy(weft_op *base)
{
    sum_op *p = (sum_op *)base;
    free(p->partials);
    free(p);
}

weft_status weft_sum(weft_ctx *ctx, weft_array *x, double *result, weft_future **future)
{
    RETURN_IF(!ctx || !result, WEFT_ERR_NULL, "weft_sum: context or result is NULL");
    RETURN_ON_ERROR(weft_array_check(x, "weft_sum"));
    RETURN_IF(x->ctx != ctx, WEFT_ERR_INVALID_ARG, "weft_sum: array belongs to another context");
    RETURN_IF(x->dtype != WEFT_F32 && x->dtype != WEFT_F64, WEFT_ERR_DTYPE,
              "weft_sum: needs an f32 or f64 array, got %s", weft_dtype_name(x->dtype));
    sum_op *op = calloc(1, sizeof *op);
    RETURN_IF(!op, WEFT_ERR_NOMEM, "weft_sum: cannot allocate the operation");
    op->base =
        (weft_op){.run = sum_run, .destroy = sum_destroy, .ctx = ctx, .arrays = {x}, .narrays = 1};
    op->result = result;
    return weft_stream_submit(&ctx->stream, &op->base, future);
}
