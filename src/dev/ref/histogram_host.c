/* Histograms and bincounts on the pool: each thread counts its share of the
 * input into counts of its own, added into the result at the end. Counts are
 * integers, so the order of the adds cannot show. */
#include "../device.h"
#include "../../core/error.h"
#include "../../core/values.h"

#include <stdlib.h>
#include <string.h>

/* numpy's histogram binning: (x - lo) * (nbins / (hi - lo)), truncated, then
 * moved by one where rounding put x on the wrong side of an edge
 * (edge k = lo + k * ((hi - lo) / nbins)). Outside [lo, hi) or NaN: nbins. */
static size_t bin_of(double v, const weft_histogram_call *c, double norm, double step)
{
    if (!(v >= c->lo && v < c->hi)) return c->nbins;
    double f = (v - c->lo) * norm;
    size_t k = f >= (double)c->nbins ? c->nbins - 1 : (size_t)f;
    if (k > 0 && v < (double)k * step + c->lo)
        k--;
    else if (k + 1 < c->nbins && v >= (double)(k + 1) * step + c->lo)
        k++;
    return k;
}

typedef struct hist_job {
    const weft_histogram_call *c;
    size_t parts, part;
    double norm, step;
    int direct; /* one part: count straight into c->counts */
} hist_job;

static void count_part(const hist_job *j, size_t p, uint64_t *counts)
{
    const weft_histogram_call *c = j->c;
    size_t b = p * j->part, e = b + j->part < c->n ? b + j->part : c->n;
    if (c->x) {
        for (size_t i = b; i < e; i++) {
            size_t k = bin_of(weft_load_double(c->x, c->dtype, i), c, j->norm, j->step);
            if (k < c->nbins) counts[k]++;
        }
    } else {
        for (size_t i = b; i < e; i++)
            counts[weft_load_bits(c->indices, c->dtype, i)]++;
    }
}

static void hist_parts(void *arg, size_t p0, size_t p1)
{
    const hist_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        if (j->direct) {
            count_part(j, p, j->c->counts);
            continue;
        }
        uint64_t *mine = calloc(j->c->nbins, sizeof *mine);
        if (!mine) { /* no memory: count straight into the result, atomically */
            const weft_histogram_call *c = j->c;
            size_t b = p * j->part, e = b + j->part < c->n ? b + j->part : c->n;
            for (size_t i = b; i < e; i++) {
                size_t k = c->x ? bin_of(weft_load_double(c->x, c->dtype, i), c, j->norm, j->step)
                                : (size_t)weft_load_bits(c->indices, c->dtype, i);
                if (k < c->nbins) __atomic_fetch_add(&c->counts[k], 1, __ATOMIC_RELAXED);
            }
            continue;
        }
        count_part(j, p, mine);
        for (size_t k = 0; k < j->c->nbins; k++)
            if (mine[k]) __atomic_fetch_add(&j->c->counts[k], mine[k], __ATOMIC_RELAXED);
        free(mine);
    }
}

weft_status weft_ref_histogram(const weft_prim_threads *threads, const weft_histogram_call *c)
{
    if (!c->x)
        RETURN_ON_ERROR(
            weft_ref_check_indices(threads, c->what, c->dtype, c->indices, c->n, c->nbins));
    if (c->n == 0 || c->nbins == 0) return WEFT_OK;
    size_t width = threads->width > 0 ? (size_t)threads->width : 1;
    /* A part's own counts must cost less than its share of the input. */
    size_t parts = c->n < threads->min_elements || c->nbins * 4 > c->n / width ? 1 : width;
    hist_job j = {.c = c, .parts = parts, .part = (c->n + parts - 1) / parts, .direct = parts == 1};
    j.norm = (double)c->nbins / (c->hi - c->lo);
    j.step = (c->hi - c->lo) / (double)c->nbins;
    threads->parallel_for(threads->pool, parts, 1, 0, hist_parts, &j);
    return WEFT_OK;
}
