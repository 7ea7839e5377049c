/* weft_reduce_by_key and weft_group_by on the host device: runs of equal
 * keys reduced in index order (dev/ref/segment_host.c); group-by sorts copies
 * of its inputs stably first, so each group keeps its input order, or, when
 * the keys' range is narrow, reduces them into a table per key in one pass
 * in index order (the same results). */
#include "../mem/alias.h"
#include "../core/error.h"
#include "../dev/ref/segment_host.h"
#include "host_whole.h"
#include "submit_local.h"

#include <stdlib.h>
#include <string.h>

typedef struct group_op {
    weft_op base; /* arrays: keys, out_keys, out_values[, values] */
    const char *name;
    weft_reduce_op op;
    int sort_first;
    size_t *count;
} group_op;

/* Copies of keys and values, sorted together by key (stable). */
static weft_status sorted_copies(group_op *g, void **host, void **keys, void **values)
{
    weft_array *k = g->base.arrays[0], *v = g->base.narrays > 3 ? g->base.arrays[3] : NULL;
    *keys = malloc(k->n * k->elem_size + 1);
    *values = v ? malloc(v->n * v->elem_size + 1) : NULL;
    RETURN_IF(!*keys || (v && !*values), WEFT_ERR_NOMEM, "%s: cannot copy %zu keys", g->name, k->n);
    if (k->n) memcpy(*keys, host[0], k->n * k->elem_size);
    if (v && v->n) memcpy(*values, host[3], v->n * v->elem_size);
    weft_sort_call call = {.key_dtype = k->dtype,
                           .keys = *keys,
                           .n = k->n,
                           .values = *values,
                           .value_size = v ? v->elem_size : 0};
    weft_device *dev = weft_whole_device(&g->base);
    return dev->ops.sort(dev, &call);
}

static weft_status group_run(weft_op *base)
{
    group_op *g = (group_op *)base;
    weft_array *keys = base->arrays[0], *out_keys = base->arrays[1], *out_values = base->arrays[2];
    weft_array *values = base->narrays > 3 ? base->arrays[3] : NULL;
    void *host[4];
    /* out_keys and out_values are read too: what the groups do not reach stays */
    RETURN_ON_ERROR(weft_whole_acquire(base, (1u << base->narrays) - 1, host));
    void *own_k = NULL, *own_v = NULL;
    size_t count = 0;
    weft_segment_call call = {.op = (int)g->op,
                              .key_dtype = keys->dtype,
                              .value_dtype = values ? values->dtype : out_values->dtype,
                              .out_dtype = out_values->dtype,
                              .keys = host[0],
                              .values = values ? host[3] : NULL,
                              .n = keys->n,
                              .out_keys = host[1],
                              .out_values = host[2],
                              .capacity = out_keys->n < out_values->n ? out_keys->n : out_values->n,
                              .count = &count,
                              .what = g->name};
    int done = 0;
    weft_status st = g->sort_first ? weft_ref_group_dense(&call, &done) : WEFT_OK;
    if (st == WEFT_OK && !done && g->sort_first) {
        st = sorted_copies(g, host, &own_k, &own_v);
        call.keys = own_k;
        call.values = own_v;
    }
    weft_device *dev = weft_whole_device(base);
    if (st == WEFT_OK && !done) st = dev->ops.reduce_by_key(dev, &call);
    free(own_k);
    free(own_v);
    RETURN_ON_ERROR(st);
    *g->count = count;
    return weft_whole_wrote(base, 6u);
}

static int is_key_dtype(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_U32 || t == WEFT_I64 || t == WEFT_U64 || t == WEFT_U8;
}

static weft_status submit_group(const char *name, int sort_first, weft_ctx *ctx, weft_reduce_op op,
                                weft_array *keys, weft_array *values, weft_array *out_keys,
                                weft_array *out_values, size_t *count, weft_future **future)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "%s: context is NULL", name);
    RETURN_IF(!count, WEFT_ERR_NULL, "%s: count is NULL", name);
    RETURN_IF(op != WEFT_SUM && op != WEFT_MIN && op != WEFT_MAX && op != WEFT_COUNT,
              WEFT_ERR_INVALID_ARG, "%s: op %d is not WEFT_SUM, WEFT_MIN, WEFT_MAX or WEFT_COUNT",
              name, (int)op);
    RETURN_ON_ERROR(weft_whole_check(ctx, keys, name, "keys"));
    RETURN_ON_ERROR(weft_whole_check(ctx, out_keys, name, "out_keys"));
    RETURN_ON_ERROR(weft_whole_check(ctx, out_values, name, "out_values"));
    RETURN_IF(!is_key_dtype(keys->dtype), WEFT_ERR_DTYPE,
              "%s: keys must be an integer dtype, not %s", name, weft_dtype_name(keys->dtype));
    RETURN_IF(out_keys->dtype != keys->dtype, WEFT_ERR_DTYPE, "%s: out_keys is %s, keys %s", name,
              weft_dtype_name(out_keys->dtype), weft_dtype_name(keys->dtype));
    if (op == WEFT_COUNT) {
        weft_dtype t = out_values->dtype;
        RETURN_IF(t != WEFT_U32 && t != WEFT_U64 && t != WEFT_I32 && t != WEFT_I64 && t != WEFT_F64,
                  WEFT_ERR_DTYPE, "%s: counts cannot be %s", name, weft_dtype_name(t));
        values = NULL; /* not read */
    } else {
        RETURN_ON_ERROR(weft_whole_check(ctx, values, name, "values"));
        RETURN_IF(values->dtype != out_values->dtype, WEFT_ERR_DTYPE,
                  "%s: out_values is %s, values %s", name, weft_dtype_name(out_values->dtype),
                  weft_dtype_name(values->dtype));
        RETURN_IF(values->n != keys->n, WEFT_ERR_SIZE, "%s: keys has %zu elements, values %zu",
                  name, keys->n, values->n);
    }
    weft_array *all[4] = {keys, out_keys, out_values, values};
    const char *names[4] = {"keys", "out_keys", "out_values", "values"};
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++) {
            if (!all[a] || !all[b]) continue;
            RETURN_IF(all[a] == all[b] && (a == 1 || a == 2 || b == 1 || b == 2),
                      WEFT_ERR_INVALID_ARG, "%s: %s and %s are one array", name, names[a],
                      names[b]);
            RETURN_ON_ERROR(weft_alias_check(name, all[a], names[a], all[b], names[b]));
        }
    group_op g = {.base = {.run = group_run,
                           .ctx = ctx,
                           .arrays = {keys, out_keys, out_values, values},
                           .narrays = values ? 4 : 3,
                           .read_only = 9u},
                  .name = name,
                  .op = op,
                  .sort_first = sort_first,
                  .count = count};
    weft_local_op local = {&g.base, sizeof g, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}

weft_status weft_reduce_by_key(weft_ctx *ctx, weft_reduce_op op, weft_array *keys,
                               weft_array *values, weft_array *out_keys, weft_array *out_values,
                               size_t *count, weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    return submit_group("weft_reduce_by_key", 0, ctx, op, keys, values, out_keys, out_values, count,
                        future);
}

weft_status weft_group_by(weft_ctx *ctx, weft_reduce_op op, weft_array *keys, weft_array *values,
                          weft_array *out_keys, weft_array *out_values, size_t *count,
                          weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    return submit_group("weft_group_by", 1, ctx, op, keys, values, out_keys, out_values, count,
                        future);
}
