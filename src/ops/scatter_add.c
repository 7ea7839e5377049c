/* weft_scatter_add: out[indices[i]] += values[i] on the host device, with
 * the plain loop's bits (dev/ref/scatter_host.c). */
#include "../mem/alias.h"
#include "../core/error.h"
#include "host_whole.h"
#include "submit_local.h"

static weft_status scatter_run(weft_op *base)
{
    weft_array *idx = base->arrays[0], *out = base->arrays[2];
    void *host[3];
    RETURN_ON_ERROR(weft_whole_acquire(base, 7u, host));
    RETURN_ON_ERROR(
        weft_whole_scatter_add(base, idx, out, host[0], host[1], host[2], "weft_scatter_add"));
    return weft_whole_wrote(base, 4u);
}

weft_status weft_scatter_add(weft_ctx *ctx, weft_array *indices, weft_array *values,
                             weft_array *out, weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    const char *name = "weft_scatter_add";
    RETURN_IF(!ctx, WEFT_ERR_NULL, "%s: context is NULL", name);
    RETURN_ON_ERROR(weft_whole_check(ctx, indices, name, "indices"));
    RETURN_ON_ERROR(weft_whole_check(ctx, values, name, "values"));
    RETURN_ON_ERROR(weft_whole_check(ctx, out, name, "out"));
    weft_dtype it = indices->dtype;
    RETURN_IF(it != WEFT_I32 && it != WEFT_U32 && it != WEFT_I64 && it != WEFT_U64 && it != WEFT_U8,
              WEFT_ERR_DTYPE, "%s: indices must be an integer dtype, not %s", name,
              weft_dtype_name(it));
    RETURN_IF(values->dtype != out->dtype || out->dtype == WEFT_U8, WEFT_ERR_DTYPE,
              "%s: values (%s) and out (%s) must share a dtype other than u8", name,
              weft_dtype_name(values->dtype), weft_dtype_name(out->dtype));
    RETURN_IF(values->n != indices->n, WEFT_ERR_SIZE,
              "%s: indices has %zu elements, values has %zu", name, indices->n, values->n);
    RETURN_IF(out == indices || out == values, WEFT_ERR_INVALID_ARG, "%s: out is one of its inputs",
              name);
    RETURN_ON_ERROR(weft_alias_check(name, indices, "indices", out, "out"));
    RETURN_ON_ERROR(weft_alias_check(name, values, "values", out, "out"));
    RETURN_ON_ERROR(weft_alias_check(name, indices, "indices", values, "values"));
    weft_op op = {.run = scatter_run,
                  .ctx = ctx,
                  .arrays = {indices, values, out},
                  .narrays = 3,
                  .read_only = 3u};
    weft_local_op local = {&op, sizeof op, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}
