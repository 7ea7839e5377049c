/* Expressions on the host pool: the reference implementation of map_expr and
 * reduce_expr, running the bytecode over blocks. */
#include "../../core/error.h"
#include "../../core/simd.h"
#include "../../core/values.h"
#include "../../expr/vm.h"
#include "reduce_extreme.h"
#include "reduce_rules.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct host_env {
    void *arrays[WEFT_EXPR_MAX_BINDINGS];
    const void *scalars[WEFT_EXPR_MAX_BINDINGS];
    weft_vm_env env;
} host_env;

/* Bytecode indexes arrays globally: point each at its element 0. */
static void make_env(const weft_expr_call *call, const weft_view *views, size_t begin, host_env *h)
{
    const weft_expr *e = call->compiled->expr;
    for (size_t b = 0; b < e->nbindings; b++) {
        int v = call->view_of_bind[b];
        if (v >= 0) {
            h->arrays[b] = (unsigned char *)views[v].host - begin * call->elem_of_view[v];
            h->scalars[b] = NULL;
        } else {
            h->arrays[b] = NULL;
            h->scalars[b] = &call->binds[b].value;
        }
    }
    /* Reading and writing in place is safe unless one array is bound under two
     * names and written through one of them. */
    int alias_ok = 1;
    for (size_t b = 0; b < e->nbindings; b++)
        for (size_t o = 0; o < e->nbindings; o++)
            if (o != b && e->writes[b] && call->view_of_bind[b] >= 0 &&
                call->view_of_bind[b] == call->view_of_bind[o])
                alias_ok = 0;
    h->env = (weft_vm_env){h->arrays, h->scalars, alias_ok, 0}; /* stream: set by maps */
}

/* ---- map ---- */

typedef struct map_job {
    const weft_vm_program *vm;
    const weft_vm_env *env;
    size_t begin;
    atomic_int failed;
} map_job;

static void map_range(void *arg, size_t first, size_t end)
{
    map_job *job = arg;
    if (weft_vm_run(job->vm, job->env, job->begin + first, job->begin + end) != WEFT_OK)
        atomic_store(&job->failed, 1);
}

/* Elements per pool chunk: a few VM blocks, enough to amortise the hand-out. */
#define EXPR_GRAIN ((size_t)1 << 14)

/* A map whose arrays hold this many bytes or more over its range streams them
 * from memory: repeated calls find none of them in the cache (32 MiB of
 * last-level cache here; small blocks were 20% faster from 16 MiB on, and
 * 20% slower at 8 MiB, in cache; bench/RESULTS.md). */
#define EXPR_STREAM_BYTES ((size_t)16 << 20)

static int map_streams(const weft_expr_call *call, size_t n)
{
    const weft_expr *e = call->compiled->expr;
    uint64_t seen = 0;
    size_t bytes = 0;
    for (size_t b = 0; b < e->nbindings; b++) {
        int v = call->view_of_bind[b];
        if (v < 0 || (seen >> v & 1)) continue; /* a scalar, or an array bound twice */
        seen |= (uint64_t)1 << v;
        bytes += call->elem_of_view[v];
    }
    return bytes && n >= EXPR_STREAM_BYTES / bytes;
}

weft_status weft_ref_map_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                              const weft_view *views, size_t begin, size_t n)
{
    host_env h;
    make_env(call, views, begin, &h);
    h.env.stream = map_streams(call, n);
    map_job job = {call->compiled->expr->vm, &h.env, begin, 0};
    int width = n < threads->min_elements ? 1 : 0;
    threads->parallel_for(threads->pool, n, EXPR_GRAIN, width, map_range, &job);
    RETURN_IF(atomic_load(&job.failed), WEFT_ERR_NOMEM, "cannot allocate expression registers");
    return WEFT_OK;
}

/* ---- reduce ---- */

typedef struct block_acc {
    weft_reduce_op op;
    size_t block_begin;
    double lanes[16];
    int64_t s;
    uint64_t us, overflow;
    int r, have;
    double best_f;
    int64_t best_i;
    uint64_t at;
} block_acc;

/* Float sums, the common case, lane by lane with the lane a loop index (VM
 * blocks start on a multiple of 16 from the block start), so the 16 lanes
 * vectorise. */
WEFT_AVX2_CLONES
static void fold_lanes(double lanes[16], const void *values, weft_dtype t, size_t n, int prod)
{
    size_t k = 0;
    if (t == WEFT_F32) {
        const float *v = values;
        for (; k + 16 <= n; k += 16)
            for (int l = 0; l < 16; l++)
                lanes[l] = prod ? lanes[l] * (double)v[k + l] : lanes[l] + (double)v[k + l];
    } else if (t == WEFT_F64) {
        const double *v = values;
        for (; k + 16 <= n; k += 16)
            for (int l = 0; l < 16; l++)
                lanes[l] = prod ? lanes[l] * v[k + l] : lanes[l] + v[k + l];
    }
    for (; k < n; k++) {
        double v = t == WEFT_F32 ? ((const float *)values)[k] : ((const double *)values)[k];
        lanes[k & 15] = prod ? lanes[k & 15] * v : lanes[k & 15] + v;
    }
}

static void fold(void *state, const void *values, weft_dtype t, size_t first, size_t n)
{
    block_acc *a = state;
    int is_float = weft_dtype_is_float(t);
    if ((a->op == WEFT_SUM || a->op == WEFT_PROD) && is_float &&
        ((first - a->block_begin) & 15) == 0) {
        fold_lanes(a->lanes, values, t, n, a->op == WEFT_PROD);
        return;
    }
    switch (a->op) {
    case WEFT_SUM:
        if (is_float) {
            for (size_t k = 0; k < n; k++)
                a->lanes[(first + k - a->block_begin) & 15] += weft_load_double(values, t, k);
        } else if (weft_dtype_is_signed(t)) {
            for (size_t k = 0; k < n; k++) {
                int64_t w = (int64_t)weft_load_bits(values, t, k);
                int64_t s2 = (int64_t)((uint64_t)a->s + (uint64_t)w);
                a->overflow |= ((a->s ^ s2) & (w ^ s2)) < 0;
                a->s = s2;
            }
        } else {
            for (size_t k = 0; k < n; k++) {
                uint64_t w = t == WEFT_U64 ? ((const uint64_t *)values)[k]
                                           : (uint64_t)(int64_t)weft_load_bits(values, t, k);
                uint64_t s2 = a->us + w;
                a->overflow |= s2 < w;
                a->us = s2;
            }
        }
        return;
    case WEFT_PROD:
        for (size_t k = 0; k < n; k++)
            a->lanes[(first + k - a->block_begin) & 15] *= weft_load_double(values, t, k);
        return;
    case WEFT_ANY:
        for (size_t k = 0; k < n; k++)
            a->r |= weft_load_double(values, t, k) != 0 ||
                    (is_float && isnan(weft_load_double(values, t, k)));
        return;
    case WEFT_ALL:
        for (size_t k = 0; k < n; k++)
            a->r &= weft_load_double(values, t, k) != 0 ||
                    (is_float && isnan(weft_load_double(values, t, k)));
        return;
    default: {
        int want_less = a->op == WEFT_MIN || a->op == WEFT_ARGMIN;
        /* The block's own winner first (vectorised), then the fold below
         * weighs just that one against the winner of the blocks before. */
        size_t at = weft_ref_first_extreme(values, t, n, want_less);
        if (at < n) {
            values = (const unsigned char *)values + at * weft_dtype_size(t);
            first += at;
            n = 1;
        }
        for (size_t k = 0; k < n; k++) {
            int better;
            if (is_float) {
                double v = weft_load_double(values, t, k);
                better = !a->have ||
                         (want_less ? weft_less_f(v, a->best_f) : weft_greater_f(v, a->best_f));
                if (better) a->best_f = v;
            } else if (t == WEFT_U64) {
                uint64_t v = ((const uint64_t *)values)[k], best = (uint64_t)a->best_i;
                better = !a->have || (want_less ? v < best : v > best);
                if (better) a->best_i = (int64_t)v;
            } else {
                int64_t v = (int64_t)weft_load_bits(values, t, k);
                better = !a->have || (want_less ? v < a->best_i : v > a->best_i);
                if (better) a->best_i = v;
            }
            if (better) {
                a->at = first + k;
                a->have = 1;
            }
        }
        return;
    }
    }
}

static weft_partial finalize(const block_acc *a, weft_dtype t)
{
    weft_partial p = {0, 0};
    if (weft_reduce_uses_lanes(a->op, t)) {
        double lanes[16];
        memcpy(lanes, a->lanes, sizeof lanes);
        for (int w = 8; w >= 1; w /= 2)
            for (int l = 0; l < w; l++)
                lanes[l] = a->op == WEFT_PROD ? lanes[l] * lanes[l + w] : lanes[l] + lanes[l + w];
        memcpy(&p.bits, &lanes[0], 8);
    } else if (a->op == WEFT_SUM) {
        p.bits = weft_dtype_is_signed(t) ? (uint64_t)a->s : a->us;
        p.aux = a->overflow;
    } else if (a->op == WEFT_ANY || a->op == WEFT_ALL) {
        p.bits = (uint64_t)a->r;
    } else {
        if (t == WEFT_F32) {
            float f = (float)a->best_f;
            uint32_t u;
            memcpy(&u, &f, 4);
            p.bits = u;
        } else if (t == WEFT_F64) {
            memcpy(&p.bits, &a->best_f, 8);
        } else {
            p.bits = (uint64_t)a->best_i;
        }
        p.aux = a->at;
    }
    return p;
}

typedef struct reduce_job {
    const weft_vm_program *vm;
    const weft_vm_env *env;
    weft_reduce_op op;
    size_t begin, n;
    weft_partial *partials;
    atomic_int failed;
} reduce_job;

static void reduce_blocks(void *arg, size_t first_block, size_t end_block)
{
    reduce_job *job = arg;
    weft_dtype t = weft_vm_result_type(job->vm);
    for (size_t b = first_block; b < end_block; b++) {
        size_t lo = job->begin + b * WEFT_SUM_BLOCK;
        size_t hi =
            job->begin + job->n < lo + WEFT_SUM_BLOCK ? job->begin + job->n : lo + WEFT_SUM_BLOCK;
        block_acc a = {.op = job->op, .block_begin = lo, .r = job->op == WEFT_ALL};
        for (int l = 0; l < 16; l++)
            a.lanes[l] = job->op == WEFT_PROD ? 1.0 : 0.0;
        if (weft_vm_reduce(job->vm, job->env, lo, hi, fold, &a) != WEFT_OK)
            atomic_store(&job->failed, 1);
        job->partials[b] = finalize(&a, t);
    }
}

weft_status weft_ref_reduce_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                                 const weft_view *views, size_t begin, size_t n,
                                 weft_partial *partials)
{
    host_env h;
    make_env(call, views, begin, &h);
    reduce_job job = {call->compiled->expr->vm, &h.env, call->compiled->op, begin, n, partials, 0};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    int width = n < threads->min_elements ? 1 : 0;
    threads->parallel_for(threads->pool, blocks, 4, width, reduce_blocks, &job);
    RETURN_IF(atomic_load(&job.failed), WEFT_ERR_NOMEM, "cannot allocate expression registers");
    return WEFT_OK;
}
