/* The sample sort's splitting, without MPI: regular samples of the locally
 * sorted blocks, splitters, and where each splitter cuts a rank's block, in
 * weft_sort's order (weft_sort_ordered) with ties broken by (rank, sorted
 * position), which is the global input order among equal keys. */
#include "dist_sort_keys.h"
#include "mpi_error.h"

#include <stdlib.h>

/* Samples per rank of an even split: enough that a bucket exceeds n / nranks
 * by little (about n / SAMPLES; nranks samples a rank bound it by 2n /
 * nranks, as in PSRS), few enough to be nothing to exchange and sort. */
enum { SAMPLES = 128 };

/* Every rank samples every q-th element of its block, so a sample stands for
 * q elements whatever the split (a rank holding fewer takes none). */
static size_t quantum(const weft_dist *d)
{
    size_t per = SAMPLES > d->nranks ? SAMPLES : (size_t)d->nranks;
    size_t q = d->n / (per * (size_t)d->nranks);
    return q > 0 ? q : 1;
}

size_t weft_sort_sample_count(const weft_dist *d, int rank)
{
    return d->counts[rank] / quantum(d);
}

void weft_sort_take_samples(const weft_dist *d, const void *sorted, int desc, sort_sample *out)
{
    size_t q = quantum(d), count = weft_sort_sample_count(d, d->rank);
    for (size_t j = 0; j < count; j++) {
        size_t at = (j + 1) * q - 1;
        out[j].ordered =
            weft_sort_ordered((const char *)sorted + at * d->elem_size, d->dtype, desc);
        out[j].pos = at;
        out[j].rank = d->rank;
    }
}

static int sample_cmp(const void *pa, const void *pb)
{
    const sort_sample *a = pa, *b = pb;
    if (a->ordered != b->ordered) return a->ordered < b->ordered ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

void weft_sort_splitters(sort_sample *all, size_t count, int nranks, sort_sample *splitters)
{
    qsort(all, count, sizeof *all, sample_cmp); /* a total order: the same on every rank */
    for (int j = 0; j + 1 < nranks; j++)
        splitters[j] = all[(size_t)(j + 1) * count / (size_t)nranks];
}

/* The first of the m sorted keys whose ordered form is above (strict) or at
 * least key. */
static size_t search(const void *sorted, size_t m, weft_dtype t, int desc, uint64_t key, int strict)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t o = weft_sort_ordered((const char *)sorted + mid * weft_sort_key_size(t), t, desc);
        if (strict ? o <= key : o < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void weft_sort_bounds(const weft_dist *d, const void *sorted, int desc,
                      const sort_sample *splitters, size_t *bounds)
{
    size_t m = d->counts[d->rank];
    for (int j = 0; j + 1 < d->nranks; j++) {
        const sort_sample *s = &splitters[j];
        /* Keys equal to the splitter's go before it from lower ranks, after
         * it from higher ones, and on its own rank up to its position. */
        if (s->rank == d->rank)
            bounds[j] = (size_t)s->pos;
        else
            bounds[j] = search(sorted, m, d->dtype, desc, s->ordered, s->rank > d->rank);
    }
}

weft_status weft_dist_sort_host(const weft_dist *keys, const weft_dist *values, size_t n,
                                void *kbuf, void *vbuf, unsigned flags, const char *what)
{
    if (n == 0) return WEFT_OK;
    weft_array *k = NULL, *v = NULL;
    weft_status st = weft_array_wrap(keys->ctx, keys->dtype, n, kbuf, &k);
    if (st == WEFT_OK && values) st = weft_array_wrap(keys->ctx, values->dtype, n, vbuf, &v);
    if (st == WEFT_OK) st = weft_sort(keys->ctx, k, v, flags, NULL);
    if (st == WEFT_OK) st = weft_array_sync(k);
    if (st == WEFT_OK && v) st = weft_array_sync(v);
    weft_array_free(k);
    weft_array_free(v);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, what);
}
