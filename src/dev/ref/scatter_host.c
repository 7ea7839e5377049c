/* Scatter-add on the pool. Each thread owns a range of out and applies, in
 * index order, the values whose index falls in it: every element of out sees
 * its additions in the order of the plain loop, so float sums are bit for
 * bit those of `for i: out[idx[i]] += v[i]` whatever the thread count. Every
 * thread reads all the indices; with the few cores this runs on that costs
 * less than sorting them. */
#include "../device.h"
#include "../../core/error.h"
#include "../../core/values.h"

#include <stdlib.h>
#include <string.h>

typedef struct scatter_job {
    const weft_scatter_call *c;
    size_t parts, part;
} scatter_job;

/* Typed loops: indices of type I, values and out of type T. */
#define ADD_LOOP(I, T)                                                                             \
    {                                                                                              \
        const I *ix = c->indices;                                                                  \
        const T *val = c->values;                                                                  \
        T *o = c->out;                                                                             \
        for (size_t i = 0; i < c->n; i++) {                                                        \
            uint64_t k = (uint64_t)ix[i] - lo; /* wraps below lo: one compare */                   \
            if (k < span) o[lo + k] = val ? (T)(o[lo + k] + val[i]) : (T)(o[lo + k] + (T)1);       \
        }                                                                                          \
    }

/* LOOP(I, T) for the call's value dtype, then for its index dtype. Signed
 * indices read as unsigned of their width: negative ones are out of range. */
#define BY_VALUE(LOOP, I)                                                                          \
    switch (c->dtype) {                                                                            \
    case WEFT_F32:                                                                                 \
        LOOP(I, float)                                                                             \
        break;                                                                                     \
    case WEFT_F64:                                                                                 \
        LOOP(I, double)                                                                            \
        break;                                                                                     \
    case WEFT_I32:                                                                                 \
    case WEFT_U32:                                                                                 \
        LOOP(I, uint32_t)                                                                          \
        break;                                                                                     \
    case WEFT_U8:                                                                                  \
        LOOP(I, uint8_t)                                                                           \
        break;                                                                                     \
    default:                                                                                       \
        LOOP(I, uint64_t)                                                                          \
        break;                                                                                     \
    }
#define BY_TYPES(LOOP)                                                                             \
    switch (c->index_dtype) {                                                                      \
    case WEFT_I32:                                                                                 \
    case WEFT_U32:                                                                                 \
        BY_VALUE(LOOP, uint32_t)                                                                   \
        break;                                                                                     \
    case WEFT_U8:                                                                                  \
        BY_VALUE(LOOP, uint8_t)                                                                    \
        break;                                                                                     \
    default:                                                                                       \
        BY_VALUE(LOOP, uint64_t)                                                                   \
        break;                                                                                     \
    }

/* Signed indices were checked non-negative. */
static void add_range(const weft_scatter_call *c, uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo;
    BY_TYPES(ADD_LOOP)
}

/* The check done with the adds, on one thread: out is added into a copy,
 * which replaces out only when every index was in range. One pass over the
 * indices instead of a check pass and an add pass. */
#define CHECKED_LOOP(I, T)                                                                         \
    {                                                                                              \
        const I *ix = c->indices;                                                                  \
        const T *val = c->values;                                                                  \
        T *o = copy;                                                                               \
        size_t nout = c->nout;                                                                     \
        if (val) {                                                                                 \
            for (size_t i = 0; i < c->n; i++) {                                                    \
                uint64_t k = (uint64_t)ix[i];                                                      \
                if (k < nout)                                                                      \
                    o[k] = (T)(o[k] + val[i]);                                                     \
                else                                                                               \
                    bad = 1;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            for (size_t i = 0; i < c->n; i++) {                                                    \
                uint64_t k = (uint64_t)ix[i];                                                      \
                if (k < nout)                                                                      \
                    o[k] = (T)(o[k] + (T)1);                                                       \
                else                                                                               \
                    bad = 1;                                                                       \
            }                                                                                      \
        }                                                                                          \
    }

/* 1: an index was out of range (out untouched); 0: done; -1: no memory. */
static int add_checked(const weft_scatter_call *c)
{
    size_t size = weft_dtype_size(c->dtype);
    void *copy = malloc(c->nout * size);
    if (!copy) return -1;
    memcpy(copy, c->out, c->nout * size);
    int bad = 0;
    BY_TYPES(CHECKED_LOOP)
    if (!bad) memcpy(c->out, copy, c->nout * size);
    free(copy);
    return bad;
}

static void scatter_parts(void *arg, size_t p0, size_t p1)
{
    const scatter_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        size_t lo = p * j->part, hi = lo + j->part < j->c->nout ? lo + j->part : j->c->nout;
        add_range(j->c, lo, hi);
    }
}

weft_status weft_ref_scatter_add(const weft_prim_threads *threads, const weft_scatter_call *c)
{
    size_t width = threads->width > 0 ? (size_t)threads->width : 1;
    /* Owner ranges pay only when out is large: over a small out, two threads
     * measured 12x slower than one on the 2-core bench machine (bench/RESULTS.md). */
    size_t parts = c->n < threads->min_elements || c->nout < ((size_t)1 << 16) ? 1
                   : width < c->nout                                           ? width
                                                                               : c->nout;
    /* One thread over an out no longer than the input: copying out costs
     * less than a pass to check the indices. */
    if (parts == 1 && c->nout > 0 && c->nout <= c->n) {
        int bad = add_checked(c);
        if (bad == 0) return WEFT_OK;
        if (bad > 0)
            return weft_ref_check_indices(threads, c->what, c->index_dtype, c->indices, c->n,
                                          c->nout);
    }
    RETURN_ON_ERROR(
        weft_ref_check_indices(threads, c->what, c->index_dtype, c->indices, c->n, c->nout));
    if (c->n == 0 || c->nout == 0) return WEFT_OK;
    scatter_job j = {c, parts, (c->nout + parts - 1) / parts};
    threads->parallel_for(threads->pool, parts, 1, 0, scatter_parts, &j);
    return WEFT_OK;
}

weft_status weft_ref_check_indices(const weft_prim_threads *threads, const char *what,
                                   weft_dtype index_dtype, const void *indices, size_t n,
                                   size_t nout)
{
    size_t bad = weft_ref_first_out_of_range(threads, index_dtype, indices, n, nout);
    if (bad == n) return WEFT_OK;
    uint64_t v = weft_load_bits(indices, index_dtype, bad);
    if (index_dtype == WEFT_I32 || index_dtype == WEFT_I64)
        return weft_error_set(WEFT_ERR_RANGE, "%s: indices[%zu] = %lld is outside [0, %zu)", what,
                              bad, (long long)v, nout);
    return weft_error_set(WEFT_ERR_RANGE, "%s: indices[%zu] = %llu is outside [0, %zu)", what, bad,
                          (unsigned long long)v, nout);
}

typedef struct range_job {
    weft_dtype t;
    const void *indices;
    size_t n, nout, part;
    size_t *first; /* per part */
} range_job;

static void find_parts(void *arg, size_t p0, size_t p1)
{
    const range_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        size_t b = p * j->part, e = b + j->part < j->n ? b + j->part : j->n;
        j->first[p] = j->n;
        for (size_t i = b; i < e; i++)
            if (weft_load_bits(j->indices, j->t, i) >= j->nout) {
                j->first[p] = i;
                break;
            }
    }
}

size_t weft_ref_first_out_of_range(const weft_prim_threads *threads, weft_dtype index_dtype,
                                   const void *indices, size_t n, size_t nout)
{
    enum { PARTS = 64 };
    size_t first[PARTS];
    range_job j = {index_dtype, indices, n, nout, (n + PARTS - 1) / PARTS, first};
    if (n == 0) return 0;
    size_t parts = (n + j.part - 1) / j.part;
    threads->parallel_for(threads->pool, parts, 1, n < threads->min_elements ? 1 : 0, find_parts,
                          &j);
    for (size_t p = 0; p < parts; p++)
        if (first[p] < n) return first[p];
    return n;
}
