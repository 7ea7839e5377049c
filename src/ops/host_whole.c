#include "host_whole.h"
#include "../core/error.h"
#include "../mem/residency.h"

weft_status weft_whole_acquire(weft_op *op, unsigned reads, void **host)
{
    for (size_t i = 0; i < op->narrays; i++) {
        weft_array *a = op->arrays[i];
        host[i] = NULL;
        if (a->n == 0) continue;
        if (reads & (1u << i)) RETURN_ON_ERROR(weft_mem_make_current(a, 0, 0, a->n));
        weft_view v;
        RETURN_ON_ERROR(weft_mem_view(a, 0, 0, a->n, &v));
        host[i] = v.host;
    }
    return WEFT_OK;
}

weft_status weft_whole_wrote(weft_op *op, unsigned writes)
{
    for (size_t i = 0; i < op->narrays; i++) {
        weft_array *a = op->arrays[i];
        if ((writes & (1u << i)) && a->n > 0) RETURN_ON_ERROR(weft_mem_wrote(a, 0, 0, a->n));
    }
    return WEFT_OK;
}

weft_device *weft_whole_device(weft_op *op)
{
    return &op->ctx->devices[0];
}

weft_status weft_whole_scatter_add(weft_op *op, const weft_array *idx, const weft_array *out,
                                   const void *indices, const void *values, void *host_out,
                                   const char *what)
{
    weft_scatter_call call = {.index_dtype = idx->dtype,
                              .dtype = out->dtype,
                              .indices = indices,
                              .values = values,
                              .n = idx->n,
                              .out = host_out,
                              .nout = out->n,
                              .what = what};
    weft_device *dev = weft_whole_device(op);
    return dev->ops.scatter_add(dev, &call);
}

weft_status weft_whole_check(weft_ctx *ctx, const weft_array *a, const char *call, const char *what)
{
    RETURN_IF(!a, WEFT_ERR_NULL, "%s: %s is NULL", call, what);
    RETURN_ON_ERROR(weft_array_check(a, call));
    RETURN_IF(a->ctx != ctx, WEFT_ERR_INVALID_ARG, "%s: %s belongs to another context", call, what);
    return WEFT_OK;
}
