/* weft_sort and weft_argsort: checks, then the host device's sort over the
 * whole arrays (dev/ref/sort_host.c). */
#include "../mem/alias.h"
#include "../core/error.h"
#include "host_whole.h"
#include "submit_local.h"

typedef struct sort_op {
    weft_op base;
    unsigned flags;
    int argsort; /* arrays: keys, indices; else keys[, values] */
} sort_op;

static weft_status sort_run(weft_op *base)
{
    const sort_op *s = (const sort_op *)base;
    weft_array *keys = base->arrays[0], *second = base->narrays > 1 ? base->arrays[1] : NULL;
    unsigned reads = s->argsort ? 1u : (1u << base->narrays) - 1;
    unsigned writes = s->argsort ? 2u : (1u << base->narrays) - 1;
    void *host[2];
    RETURN_ON_ERROR(weft_whole_acquire(base, reads, host));
    weft_sort_call call = {.key_dtype = keys->dtype,
                           .descending = (s->flags & WEFT_SORT_DESCENDING) != 0,
                           .keys = host[0],
                           .n = keys->n};
    if (s->argsort) {
        call.indices = host[1];
        call.index_dtype = second->dtype;
    } else if (second) {
        call.values = host[1];
        call.value_size = second->elem_size;
    }
    weft_device *dev = weft_whole_device(base);
    RETURN_ON_ERROR(dev->ops.sort(dev, &call));
    return weft_whole_wrote(base, writes);
}

static weft_status check_flags(const char *call, unsigned flags)
{
    RETURN_IF(flags & ~WEFT_SORT_DESCENDING, WEFT_ERR_INVALID_ARG,
              "%s: flags 0x%x: only WEFT_SORT_DESCENDING is defined", call, flags);
    return WEFT_OK;
}

static weft_status submit(weft_ctx *ctx, sort_op *op, weft_future **future)
{
    weft_local_op local = {&op->base, sizeof *op, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}

weft_status weft_sort(weft_ctx *ctx, weft_array *keys, weft_array *values, unsigned flags,
                      weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_sort: context is NULL");
    RETURN_ON_ERROR(weft_whole_check(ctx, keys, "weft_sort", "keys"));
    RETURN_ON_ERROR(check_flags("weft_sort", flags));
    if (values) {
        RETURN_ON_ERROR(weft_whole_check(ctx, values, "weft_sort", "values"));
        RETURN_IF(values == keys, WEFT_ERR_INVALID_ARG,
                  "weft_sort: values is the keys array itself");
        RETURN_IF(values->n != keys->n, WEFT_ERR_SIZE,
                  "weft_sort: keys has %zu elements, values has %zu", keys->n, values->n);
        RETURN_ON_ERROR(weft_alias_check("weft_sort", keys, "keys", values, "values"));
    }
    sort_op op = {
        .base = {.run = sort_run, .ctx = ctx, .arrays = {keys, values}, .narrays = values ? 2 : 1},
        .flags = flags};
    return submit(ctx, &op, future);
}

weft_status weft_argsort(weft_ctx *ctx, weft_array *keys, weft_array *indices, unsigned flags,
                         weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_argsort: context is NULL");
    RETURN_ON_ERROR(weft_whole_check(ctx, keys, "weft_argsort", "keys"));
    RETURN_ON_ERROR(weft_whole_check(ctx, indices, "weft_argsort", "indices"));
    RETURN_ON_ERROR(check_flags("weft_argsort", flags));
    RETURN_IF(indices == keys, WEFT_ERR_INVALID_ARG,
              "weft_argsort: indices is the keys array itself");
    RETURN_IF(indices->dtype != WEFT_U32 && indices->dtype != WEFT_U64, WEFT_ERR_DTYPE,
              "weft_argsort: indices must be u32 or u64, not %s", weft_dtype_name(indices->dtype));
    RETURN_IF(indices->n != keys->n, WEFT_ERR_SIZE,
              "weft_argsort: keys has %zu elements, indices has %zu", keys->n, indices->n);
    RETURN_IF(indices->dtype == WEFT_U32 && keys->n > UINT32_MAX, WEFT_ERR_DTYPE,
              "weft_argsort: %zu keys need u64 indices", keys->n);
    RETURN_ON_ERROR(weft_alias_check("weft_argsort", keys, "keys", indices, "indices"));
    sort_op op = {
        .base = weft_op_in_out(sort_run, ctx, keys, indices), .flags = flags, .argsort = 1};
    return submit(ctx, &op, future);
}
