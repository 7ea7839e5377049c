/* Scans on the host pool: kernels/scan.cl in C. Accumulators travel between
 * blocks as bits in a weft_partial: a double for float sums, 64 wrapping bits
 * for integer sums, the element itself (widened) for min and max. */
#include "../ctx.h"
#include "reduce_rules.h"

#include <float.h>
#include <stdint.h>

typedef union acc {
    double f;
    uint64_t u;
    int64_t i;
} acc;

static double load_f(const void *x, weft_dtype t, size_t k)
{
    return t == WEFT_F32 ? ((const float *)x)[k] : ((const double *)x)[k];
}

static uint64_t load_u(const void *x, weft_dtype t, size_t k)
{
    switch (t) {
    case WEFT_I32: return (uint64_t)(int64_t)((const int32_t *)x)[k];
    case WEFT_U32: return ((const uint32_t *)x)[k];
    case WEFT_U8: return ((const uint8_t *)x)[k];
    default: return ((const uint64_t *)x)[k];
    }
}

static void store(void *y, weft_dtype t, size_t k, acc a)
{
    switch (t) {
    case WEFT_F32: ((float *)y)[k] = (float)a.f; break;
    case WEFT_F64: ((double *)y)[k] = a.f; break;
    case WEFT_I32: ((int32_t *)y)[k] = (int32_t)(uint32_t)a.u; break;
    case WEFT_U32: ((uint32_t *)y)[k] = (uint32_t)a.u; break;
    case WEFT_U8: ((uint8_t *)y)[k] = (uint8_t)a.u; break;
    default: ((uint64_t *)y)[k] = a.u; break;
    }
}

static acc identity(weft_reduce_op op, weft_dtype t)
{
    acc a = {.u = 0};
    if (op == WEFT_SUM) return a;
    int min = op == WEFT_MIN;
    switch (t) {
    case WEFT_F32:
    case WEFT_F64: a.f = min ? INFINITY : -INFINITY; break;
    case WEFT_I32: a.i = min ? INT32_MAX : INT32_MIN; break;
    case WEFT_U32: a.u = min ? UINT32_MAX : 0; break;
    case WEFT_I64: a.i = min ? INT64_MAX : INT64_MIN; break;
    case WEFT_U8: a.u = min ? UINT8_MAX : 0; break;
    default: a.u = min ? UINT64_MAX : 0; break;
    }
    return a;
}

static acc combine(weft_reduce_op op, weft_dtype t, acc a, const void *x, size_t k)
{
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (op == WEFT_SUM) {
        if (is_float)
            a.f = a.f + load_f(x, t, k);
        else
            a.u = a.u + load_u(x, t, k);
        return a;
    }
    int min = op == WEFT_MIN;
    if (is_float) {
        double v = load_f(x, t, k);
        if (min ? weft_less_f(v, a.f) : weft_greater_f(v, a.f)) a.f = v;
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t v = (int64_t)load_u(x, t, k);
        if (min ? v < a.i : v > a.i) a.i = v;
    } else {
        uint64_t v = load_u(x, t, k);
        if (min ? v < a.u : v > a.u) a.u = v;
    }
    return a;
}

static acc combine_acc(weft_reduce_op op, weft_dtype t, acc a, acc b)
{
    /* b as a one-element array of the accumulator's own representation */
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (op == WEFT_SUM) {
        if (is_float)
            a.f = a.f + b.f;
        else
            a.u = a.u + b.u;
        return a;
    }
    int min = op == WEFT_MIN;
    if (is_float) {
        if (min ? weft_less_f(b.f, a.f) : weft_greater_f(b.f, a.f)) a = b;
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        if (min ? b.i < a.i : b.i > a.i) a = b;
    } else if (min ? b.u < a.u : b.u > a.u) {
        a = b;
    }
    return a;
}

void weft_scan_carries(weft_reduce_op op, weft_dtype t, const weft_partial *totals, size_t blocks,
                       weft_partial *carries)
{
    acc running = identity(op, t);
    for (size_t b = 0; b < blocks; b++) {
        carries[b].bits = running.u;
        carries[b].aux = 0;
        acc total = {.u = totals[b].bits};
        running = combine_acc(op, t, running, total);
    }
}

typedef struct scan_job {
    weft_reduce_op op;
    weft_dtype t;
    int exclusive;
    const void *x;
    void *y;
    size_t n;
    weft_partial *totals;
    const weft_partial *carries;
} scan_job;

static void totals_range(void *arg, size_t first, size_t end)
{
    const scan_job *j = arg;
    for (size_t b = first; b < end; b++) {
        size_t lo = b * WEFT_SUM_BLOCK, hi = j->n - lo < WEFT_SUM_BLOCK ? j->n : lo + WEFT_SUM_BLOCK;
        acc a = identity(j->op, j->t);
        for (size_t k = lo; k < hi; k++)
            a = combine(j->op, j->t, a, j->x, k);
        j->totals[b] = (weft_partial){a.u, 0};
    }
}

static void apply_range(void *arg, size_t first, size_t end)
{
    const scan_job *j = arg;
    for (size_t b = first; b < end; b++) {
        size_t lo = b * WEFT_SUM_BLOCK, hi = j->n - lo < WEFT_SUM_BLOCK ? j->n : lo + WEFT_SUM_BLOCK;
        acc a = {.u = j->carries[b].bits};
        for (size_t k = lo; k < hi; k++) {
            acc next = combine(j->op, j->t, a, j->x, k);
            store(j->y, j->t, k, j->exclusive ? a : next);
            a = next;
        }
    }
}

weft_status weft_host_scan_totals(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                                  size_t n, weft_partial *totals)
{
    scan_job j = {op, dtype, 0, x.host, NULL, n, totals, NULL};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_pool_parallel_for(dev->ctx->pool, blocks, 4, n < dev->ctx->pool_min_elements ? 1 : 0,
                           totals_range, &j);
    return WEFT_OK;
}

weft_status weft_host_scan_apply(weft_device *dev, weft_reduce_op op, weft_dtype dtype, int exclusive,
                                 weft_view x, weft_view y, size_t n, const weft_partial *carries)
{
    scan_job j = {op, dtype, exclusive, x.host, y.host, n, NULL, carries};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_pool_parallel_for(dev->ctx->pool, blocks, 4, n < dev->ctx->pool_min_elements ? 1 : 0,
                           apply_range, &j);
    return WEFT_OK;
}
