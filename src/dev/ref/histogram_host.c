/* Histograms and bincounts on the pool: each thread counts its share of the
 * input into counts of its own, added into the result at the end. Counts are
 * integers, so the order of the adds cannot show. */
#include "../device.h"
#include "../../core/error.h"
#include "../../core/simd.h"
#include "../../core/values.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* numpy's histogram binning: (x - lo) * (nbins / (hi - lo)), truncated, then
 * moved by one where rounding put x on the wrong side of an edge
 * (edge k = lo + k * ((hi - lo) / nbins)). Outside [lo, hi) or NaN: nbins. */
typedef struct binning {
    double lo, hi, norm, step;
    size_t nbins;
} binning;

static inline double edge(binning g, size_t k)
{
    return (double)k * g.step + g.lo;
}

static inline size_t bin_of(double v, binning g)
{
    if (!(v >= g.lo && v < g.hi)) return g.nbins;
    /* v >= lo, so f >= 0, and f exceeds nbins by rounding at most: a signed
     * conversion (one instruction) is exact, and the clamp does the rest. */
    /* A range so narrow that nbins / (hi - lo) overflows divides instead. */
    double f =
        isfinite(g.norm) ? (v - g.lo) * g.norm : (v - g.lo) / (g.hi - g.lo) * (double)g.nbins;
    size_t k = (size_t)(long long)f;
    if (k >= g.nbins) k = g.nbins - 1;
    if (k > 0 && v < edge(g, k))
        k--;
    else if (k + 1 < g.nbins && v >= edge(g, k + 1))
        k++;
    return k;
}

typedef struct hist_job {
    const weft_histogram_call *c;
    size_t parts, part;
    binning bins;
    int direct; /* one part: count straight into c->counts */
    int bad;    /* an index was out of range */
} hist_job;

enum { BLOCK = 256 }; /* values binned at once, then counted */

/* Bins of a block of values, nbins for those outside: bin_of without a
 * branch (bitwise tests, selects, int32 bins), so the compiler bins a vector
 * of values at once. The same arithmetic as bin_of, without contraction
 * (-ffp-contract=off), so the same bins. nbins < 2^31. This file builds with
 * -fno-trapping-math: without it GCC keeps the comparisons in branches, for
 * the floating-point exception flags, which weft never reads. */
static inline __attribute__((always_inline)) void bin_block(const void *x, weft_dtype t, size_t b,
                                                            size_t m, binning g, uint32_t *out)
{
    int last = (int)g.nbins - 1;
    for (size_t i = 0; i < m; i++) {
        double v = weft_load_double(x, t, b + i);
        int in = (v >= g.lo) & (v < g.hi);
        double f = (v - g.lo) * g.norm;
        int k = (int)(in ? f : 0.0);
        k = k < last ? k : last;
        double below = (double)k * g.step + g.lo, above = (double)(k + 1) * g.step + g.lo;
        k -= (k > 0) & (v < below);
        k += (k < last) & (v >= above); /* never both: v < below <= above */
        out[i] = in ? (uint32_t)k : (uint32_t)g.nbins;
    }
}

/* The loops with the dtype a constant, so each is a plain typed loop. */
static inline __attribute__((always_inline)) void
count_values(const hist_job *j, size_t b, size_t e, uint64_t *counts, weft_dtype t)
{
    /* Locals, not loads through j: a store to counts may alias them. */
    const void *x = j->c->x;
    binning g = j->bins;
    if (g.nbins < INT32_MAX && isfinite(g.norm)) {
        uint32_t bins[BLOCK];
        for (size_t i = b; i < e; i += BLOCK) {
            size_t m = e - i < BLOCK ? e - i : BLOCK;
            bin_block(x, t, i, m, g, bins);
            for (size_t q = 0; q < m; q++)
                if (bins[q] < g.nbins) counts[bins[q]]++;
        }
        return;
    }
    for (size_t i = b; i < e; i++) {
        size_t k = bin_of(weft_load_double(x, t, i), g);
        if (k < g.nbins) counts[k]++;
    }
}

/* Indices out of range are not counted; the caller checks them only when
 * *bad says there was one, so valid input is read once. */
static inline __attribute__((always_inline)) void
count_indices(const hist_job *j, size_t b, size_t e, uint64_t *counts, weft_dtype t, int *bad)
{
    const void *indices = j->c->indices;
    size_t nbins = j->c->nbins;
    int out = 0;
    for (size_t i = b; i < e; i++) {
        uint64_t k = weft_load_bits(indices, t, i);
        if (k < nbins)
            counts[k]++;
        else
            out = 1;
    }
    if (out) *bad = 1;
}

WEFT_AVX2_CLONES static void count_part(const hist_job *j, size_t p, uint64_t *counts, int *bad)
{
    const weft_histogram_call *c = j->c;
    size_t b = p * j->part, e = b + j->part < c->n ? b + j->part : c->n;
    if (c->x) {
        switch (c->dtype) {
        case WEFT_F32:
            count_values(j, b, e, counts, WEFT_F32);
            break;
        case WEFT_F64:
            count_values(j, b, e, counts, WEFT_F64);
            break;
        default:
            count_values(j, b, e, counts, c->dtype);
            break;
        }
    } else {
        switch (c->dtype) {
        case WEFT_U32:
            count_indices(j, b, e, counts, WEFT_U32, bad);
            break;
        case WEFT_I32:
            count_indices(j, b, e, counts, WEFT_I32, bad);
            break;
        default:
            count_indices(j, b, e, counts, c->dtype, bad);
            break;
        }
    }
}

static void hist_parts(void *arg, size_t p0, size_t p1)
{
    const hist_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        int bad = 0;
        if (j->direct) {
            count_part(j, p, j->c->counts, &bad);
            if (bad) __atomic_store_n(&((hist_job *)j)->bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        uint64_t *mine = calloc(j->c->nbins, sizeof *mine);
        if (!mine) { /* no memory: count straight into the result, atomically */
            const weft_histogram_call *c = j->c;
            size_t b = p * j->part, e = b + j->part < c->n ? b + j->part : c->n;
            for (size_t i = b; i < e; i++) {
                size_t k = c->x ? bin_of(weft_load_double(c->x, c->dtype, i), j->bins)
                                : (size_t)weft_load_bits(c->indices, c->dtype, i);
                if (k < c->nbins)
                    __atomic_fetch_add(&c->counts[k], 1, __ATOMIC_RELAXED);
                else if (!c->x)
                    bad = 1;
            }
            if (bad) __atomic_store_n(&((hist_job *)j)->bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        count_part(j, p, mine, &bad);
        if (bad) __atomic_store_n(&((hist_job *)j)->bad, 1, __ATOMIC_RELAXED);
        for (size_t k = 0; k < j->c->nbins; k++)
            if (mine[k]) __atomic_fetch_add(&j->c->counts[k], mine[k], __ATOMIC_RELAXED);
        free(mine);
    }
}

weft_status weft_ref_histogram(const weft_prim_threads *threads, const weft_histogram_call *c)
{
    if (c->n == 0) return WEFT_OK;
    if (c->nbins == 0)
        return c->x ? WEFT_OK
                    : weft_ref_check_indices(threads, c->what, c->dtype, c->indices, c->n, 0);
    size_t width = threads->width > 0 ? (size_t)threads->width : 1;
    /* A part's own counts must cost less than its share of the input. */
    size_t parts = c->n < threads->min_elements || c->nbins * 4 > c->n / width ? 1 : width;
    hist_job j = {.c = c, .parts = parts, .part = (c->n + parts - 1) / parts, .direct = parts == 1};
    j.bins = (binning){.lo = c->lo,
                       .hi = c->hi,
                       .norm = (double)c->nbins / (c->hi - c->lo),
                       .step = (c->hi - c->lo) / (double)c->nbins,
                       .nbins = c->nbins};
    threads->parallel_for(threads->pool, parts, 1, 0, hist_parts, &j);
    /* The counts are the caller's scratch: it stores them only on success. */
    if (j.bad)
        return weft_ref_check_indices(threads, c->what, c->dtype, c->indices, c->n, c->nbins);
    return WEFT_OK;
}
