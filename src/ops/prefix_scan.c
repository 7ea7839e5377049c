/* weft_scan: inclusive or exclusive prefix sums, minima and maxima, in two
 * passes over fixed blocks, with block carries folded on the host in index
 * order between them (so pieces on different devices carry into each other).
 * When the first pass gives the pool the whole array, the pool scans it in
 * one pass instead (ref/scan_chain.c: the same carries in the same order),
 * reading x once: the second pass is not run. */
#include "../mem/alias.h"
#include "../core/error.h"
#include "../core/pool.h"
#include "../dev/ref/scan_host.h"
#include "dispatch.h"
#include "expr_op.h"
#include "submit_local.h"

#include <stdlib.h>

typedef struct scan_op {
    weft_op base;
    weft_reduce_op op;
    int exclusive;
    int whole;                     /* the first pass scanned all of it on the pool */
    uint64_t *subtotals, *carries; /* 16 per block */
} scan_op;

static weft_status totals_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                                size_t count)
{
    scan_op *s = op;
    if (weft_device_is_host(dev) && begin == 0 && count == s->base.arrays[0]->n) {
        weft_pool *pool = dev->services->pool;
        weft_prim_threads t = {weft_pool_parallel_for, pool, dev->services->pool_min_elements,
                               weft_pool_threads(pool)};
        const weft_view *y = s->base.narrays > 1 ? &views[1] : &views[0];
        s->whole = 1;
        return weft_ref_scan(&t, s->op, s->base.arrays[0]->dtype, s->exclusive, views[0], *y, count,
                             s->subtotals, s->carries);
    }
    return dev->ops.scan_totals(dev, s->op, s->base.arrays[0]->dtype, views[0], count,
                                s->subtotals + begin / WEFT_SUM_BLOCK * 16);
}

static weft_status apply_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                               size_t count)
{
    const scan_op *s = op;
    const weft_view *y = s->base.narrays > 1 ? &views[1] : &views[0];
    return dev->ops.scan_apply(dev, s->op, s->base.arrays[0]->dtype, s->exclusive, views[0], *y,
                               count, s->carries + begin / WEFT_SUM_BLOCK * 16);
}

/* One of the scan's two passes over x (the cost models know it as kind). */
static weft_status run_pass(scan_op *s, weft_prim prim,
                            weft_status (*run)(void *, weft_device *, const weft_view *, size_t,
                                               size_t),
                            const char *kind)
{
    weft_dispatch pass = {.base = &s->base,
                          .reads = 1,
                          .prim = prim,
                          .run = run,
                          .op = s,
                          .name = "a scan",
                          .kind = kind};
    return weft_dispatch_run(&pass);
}

static weft_status scan_run(weft_op *base)
{
    scan_op *s = (scan_op *)base;
    weft_array *x = base->arrays[0];
    size_t blocks = (x->n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    /* subtotals and carries: one block, 16 of each per block of x */
    s->subtotals = calloc(2 * 16 * (blocks + 1), sizeof *s->subtotals);
    RETURN_IF(!s->subtotals, WEFT_ERR_NOMEM, "weft_scan: cannot allocate %zu carries", blocks);
    s->carries = s->subtotals + 16 * (blocks + 1);
    /* y is the first pass's output too, for the one-pass case; a device
     * piece leaves it alone, and the second pass then writes all of it. */
    s->whole = 0;
    RETURN_ON_ERROR(run_pass(s, WEFT_PRIM_SCAN_TOTALS, totals_chunk, "scan totals"));
    if (s->whole) return WEFT_OK;
    weft_scan_carries(s->op, x->dtype, s->subtotals, blocks, s->carries);
    return run_pass(s, WEFT_PRIM_SCAN_APPLY, apply_chunk, "scan apply");
}

static void scan_release(weft_op *base)
{
    scan_op *s = (scan_op *)base;
    free(s->subtotals); /* carries lie in the same block */
    s->subtotals = s->carries = NULL;
}

static void scan_destroy(weft_op *base)
{
    scan_release(base);
    free(base);
}

weft_status weft_scan(weft_ctx *ctx, weft_reduce_op op, int exclusive, weft_array *x, weft_array *y,
                      weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_scan: context is NULL");
    RETURN_ON_ERROR(weft_array_check(x, "weft_scan"));
    RETURN_ON_ERROR(weft_array_check(y, "weft_scan"));
    RETURN_IF(op != WEFT_SUM && op != WEFT_MIN && op != WEFT_MAX, WEFT_ERR_INVALID_ARG,
              "weft_scan: scans are WEFT_SUM, WEFT_MIN or WEFT_MAX, not operation %d", (int)op);
    RETURN_IF(x->ctx != ctx || y->ctx != ctx, WEFT_ERR_INVALID_ARG,
              "weft_scan: arrays belong to another context");
    RETURN_IF(x->dtype != y->dtype, WEFT_ERR_DTYPE, "weft_scan: x is %s but y is %s",
              weft_dtype_name(x->dtype), weft_dtype_name(y->dtype));
    RETURN_IF(x->n != y->n, WEFT_ERR_SIZE, "weft_scan: x has %zu elements, y has %zu", x->n, y->n);
    RETURN_ON_ERROR(weft_alias_check("weft_scan", x, "x", y, "y"));
    scan_op s = {.base = {.run = scan_run,
                          .destroy = scan_destroy,
                          .ctx = ctx,
                          .arrays = {x, y},
                          .narrays = x == y ? 1 : 2,
                          .read_only = x == y ? 0 : 1},
                 .op = op,
                 .exclusive = exclusive != 0};
    weft_local_op local = {&s.base, sizeof s, NULL, scan_release};
    return weft_submit_local(ctx->stream, &local, future);
}
