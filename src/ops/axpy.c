/* weft_axpy: y = a*x + y over partitioned f32/f64 arrays. */
#include "../mem/alias.h"
#include "../core/error.h"
#include "dispatch.h"
#include "submit_local.h"

typedef struct axpy_op {
    weft_op base;
    double a;
} axpy_op;

static weft_status axpy_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                              size_t count)
{
    (void)begin;
    const axpy_op *p = op;
    return dev->ops.axpy(dev, p->base.arrays[0]->dtype, p->a, views[0], views[1], count);
}

static weft_status axpy_run(weft_op *base)
{
    return weft_dispatch_prim(base, WEFT_PRIM_AXPY, 3, axpy_chunk, "weft_axpy", "axpy");
}

weft_status weft_axpy(weft_ctx *ctx, double a, weft_array *x, weft_array *y, weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_axpy: context is NULL");
    RETURN_ON_ERROR(weft_array_check(x, "weft_axpy"));
    RETURN_ON_ERROR(weft_array_check(y, "weft_axpy"));
    RETURN_IF(x->ctx != ctx || y->ctx != ctx, WEFT_ERR_INVALID_ARG,
              "weft_axpy: arrays belong to another context");
    RETURN_IF(x->dtype != y->dtype || (x->dtype != WEFT_F32 && x->dtype != WEFT_F64),
              WEFT_ERR_DTYPE, "weft_axpy: needs two f32 or two f64 arrays, got %s and %s",
              weft_dtype_name(x->dtype), weft_dtype_name(y->dtype));
    RETURN_IF(x->n != y->n, WEFT_ERR_SIZE, "weft_axpy: x has %zu elements, y has %zu", x->n, y->n);
    RETURN_ON_ERROR(weft_alias_check("weft_axpy", x, "x", y, "y"));
    axpy_op op = {.base = weft_op_in_out(axpy_run, ctx, x, y), .a = a};
    weft_local_op local = {&op.base, sizeof op, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}
