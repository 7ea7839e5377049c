/* weft_histogram and weft_bincount: counts per bin on the host device
 * (dev/ref/histogram_host.c), then stored in the output's dtype. */
#include "../mem/alias.h"
#include "../core/error.h"
#include "../expr/expr.h"
#include "host_whole.h"
#include "submit_local.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct histogram_op {
    weft_op base;
    const char *name;
    double lo, hi;
    int bincount; /* arrays: indices, out[, weights]; else x, counts */
} histogram_op;

/* counts[k] as out's dtype: exact below 2^53 for floats, and below the
 * dtype's limit for integers (checked before the operation ran). */
static void store_counts(const uint64_t *counts, weft_array *out, void *host)
{
    for (size_t k = 0; k < out->n; k++) {
        switch (out->dtype) {
        case WEFT_F32:
            ((float *)host)[k] = (float)counts[k];
            break;
        case WEFT_F64:
            ((double *)host)[k] = (double)counts[k];
            break;
        case WEFT_I32:
        case WEFT_U32:
            ((uint32_t *)host)[k] = (uint32_t)counts[k];
            break;
        default:
            ((uint64_t *)host)[k] = counts[k];
            break;
        }
    }
}

static weft_status weighted(weft_op *base, void **host)
{
    weft_array *idx = base->arrays[0], *out = base->arrays[1], *w = base->arrays[2];
    /* checked before out is cleared: a bad index leaves out as it was */
    void *zero = calloc(out->n ? out->n : 1, out->elem_size);
    RETURN_IF(!zero, WEFT_ERR_NOMEM, "cannot allocate %zu bins", out->n);
    weft_status st =
        weft_whole_scatter_add(base, idx, out, host[0], host[2], zero, "weft_bincount");
    if (st == WEFT_OK && out->n) memcpy(host[1], zero, out->n * out->elem_size);
    free(zero);
    (void)w;
    return st;
}

static weft_status histogram_run(weft_op *base)
{
    const histogram_op *h = (const histogram_op *)base;
    weft_array *in = base->arrays[0], *out = base->arrays[1];
    void *host[3];
    RETURN_ON_ERROR(weft_whole_acquire(base, h->bincount ? 5u : 1u, host));
    weft_status st;
    if (h->bincount && base->narrays == 3) {
        st = weighted(base, host);
    } else {
        uint64_t *counts = calloc(out->n ? out->n : 1, sizeof *counts);
        RETURN_IF(!counts, WEFT_ERR_NOMEM, "%s: cannot allocate %zu bins", h->name, out->n);
        weft_histogram_call call = {.dtype = in->dtype,
                                    .x = h->bincount ? NULL : host[0],
                                    .lo = h->lo,
                                    .hi = h->hi,
                                    .indices = h->bincount ? host[0] : NULL,
                                    .n = in->n,
                                    .counts = counts,
                                    .nbins = out->n,
                                    .what = h->name};
        weft_device *dev = weft_whole_device(base);
        st = dev->ops.histogram(dev, &call);
        if (st == WEFT_OK && out->n) store_counts(counts, out, host[1]);
        free(counts);
    }
    RETURN_ON_ERROR(st);
    return weft_whole_wrote(base, 2u);
}

static weft_status submit(weft_ctx *ctx, histogram_op *op, weft_future **future)
{
    weft_local_op local = {&op->base, sizeof *op, NULL, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}

static int is_index_dtype(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_U32 || t == WEFT_I64 || t == WEFT_U64 || t == WEFT_U8;
}

/* The context and the two arrays every call here takes. */
static weft_status check_arrays(weft_ctx *ctx, const char *name, weft_array *in,
                                const char *in_name, weft_array *out, const char *out_name)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "%s: context is NULL", name);
    RETURN_ON_ERROR(weft_whole_check(ctx, in, name, in_name));
    return weft_whole_check(ctx, out, name, out_name);
}

/* out is written while in is read: another array, over other memory. */
static weft_status check_apart(const char *name, weft_array *in, const char *in_name,
                               weft_array *out, const char *out_name)
{
    RETURN_IF(out == in, WEFT_ERR_INVALID_ARG, "%s: %s is %s itself", name, out_name, in_name);
    return weft_alias_check(name, in, in_name, out, out_name);
}

/* Counts up to n fit out's dtype exactly. */
static weft_status check_count_dtype(const char *name, const weft_array *out, size_t n)
{
    int ok = out->dtype == WEFT_U64 || out->dtype == WEFT_I64 || out->dtype == WEFT_F64 ||
             out->dtype == WEFT_U32 || out->dtype == WEFT_I32 || out->dtype == WEFT_F32;
    RETURN_IF(!ok, WEFT_ERR_DTYPE, "%s: counts cannot be %s", name, weft_dtype_name(out->dtype));
    uint64_t limit = out->dtype == WEFT_U32   ? UINT32_MAX
                     : out->dtype == WEFT_I32 ? INT32_MAX
                     : out->dtype == WEFT_F32 ? (1u << 24)
                     : out->dtype == WEFT_F64 ? (1ull << 53)
                                              : UINT64_MAX;
    RETURN_IF((uint64_t)n > limit, WEFT_ERR_DTYPE, "%s: %zu elements may count past what %s holds",
              name, n, weft_dtype_name(out->dtype));
    return WEFT_OK;
}

weft_status weft_histogram(weft_ctx *ctx, weft_array *x, double lo, double hi, weft_array *counts,
                           weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    const char *name = "weft_histogram";
    RETURN_ON_ERROR(check_arrays(ctx, name, x, "x", counts, "counts"));
    RETURN_IF(!isfinite(lo) || !isfinite(hi) || !(lo < hi), WEFT_ERR_INVALID_ARG,
              "%s: the range [%g, %g) must be finite and not empty", name, lo, hi);
    RETURN_IF(!isfinite(hi - lo), WEFT_ERR_INVALID_ARG, "%s: hi - lo overflows", name);
    RETURN_IF(counts->dtype != WEFT_U32 && counts->dtype != WEFT_U64, WEFT_ERR_DTYPE,
              "%s: counts must be u32 or u64, not %s", name, weft_dtype_name(counts->dtype));
    RETURN_IF(counts->n == 0, WEFT_ERR_SIZE, "%s: counts has no bins", name);
    /* Edges step by (hi - lo) / nbins: a step of 0 would put every bin on
     * lo, so no value could be binned. */
    double width = (hi - lo) / (double)counts->n;
    RETURN_IF(!(width > 0), WEFT_ERR_INVALID_ARG,
              "%s: %zu bins over [%g, %g) are narrower than doubles can bin (width %g)", name,
              counts->n, lo, hi, width);
    RETURN_ON_ERROR(check_count_dtype(name, counts, x->n));
    RETURN_ON_ERROR(check_apart(name, x, "x", counts, "counts"));
    histogram_op op = {
        .base = weft_op_in_out(histogram_run, ctx, x, counts), .name = name, .lo = lo, .hi = hi};
    return submit(ctx, &op, future);
}

weft_status weft_bincount(weft_ctx *ctx, weft_array *indices, weft_array *weights, weft_array *out,
                          weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    const char *name = "weft_bincount";
    RETURN_ON_ERROR(check_arrays(ctx, name, indices, "indices", out, "out"));
    RETURN_IF(!is_index_dtype(indices->dtype), WEFT_ERR_DTYPE,
              "%s: indices must be an integer dtype, not %s", name,
              weft_dtype_name(indices->dtype));
    RETURN_ON_ERROR(check_apart(name, indices, "indices", out, "out"));
    if (weights) {
        RETURN_ON_ERROR(weft_whole_check(ctx, weights, name, "weights"));
        RETURN_IF(weights->n != indices->n, WEFT_ERR_SIZE,
                  "%s: indices has %zu elements, weights has %zu", name, indices->n, weights->n);
        RETURN_IF(weights->dtype != out->dtype || out->dtype == WEFT_U8, WEFT_ERR_DTYPE,
                  "%s: weights (%s) and out (%s) must share a dtype other than u8", name,
                  weft_dtype_name(weights->dtype), weft_dtype_name(out->dtype));
        RETURN_ON_ERROR(check_apart(name, weights, "weights", out, "out"));
    } else {
        RETURN_ON_ERROR(check_count_dtype(name, out, indices->n));
    }
    histogram_op op = {.base = {.run = histogram_run,
                                .ctx = ctx,
                                .arrays = {indices, out, weights},
                                .narrays = weights ? 3 : 2,
                                .read_only = 5u},
                       .name = name,
                       .bincount = 1};
    return submit(ctx, &op, future);
}
