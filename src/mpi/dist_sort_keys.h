/* The order weft_sort uses, on the host, and the sample sort's splitting
 * without MPI (dist_sort_keys.c); a rank's own block sorted by weft_sort. */
#ifndef WEFT_MPI_DIST_SORT_KEYS_H
#define WEFT_MPI_DIST_SORT_KEYS_H

#include "dist.h"

#include <stdint.h>
#include <string.h>

/* weft_sort of n keys at kbuf (keys' dtype) with n values at vbuf (values'
 * dtype; values NULL: none) on this rank; `what` heads a failure's detail. */
weft_status weft_dist_sort_host(const weft_dist *keys, const weft_dist *values, size_t n,
                                void *kbuf, void *vbuf, unsigned flags, const char *what);

static inline size_t weft_sort_key_size(weft_dtype t)
{
    return t == WEFT_U8 ? 1 : t == WEFT_F64 || t == WEFT_I64 || t == WEFT_U64 ? 8 : 4;
}

/* The key at p (dtype t) as an unsigned integer whose order is weft_sort's
 * (descending when desc). It must be weft_sort's exactly, the mapping of
 * src/dev/ref/sort_host.c (sign bits flipped, -0.0 as 0.0, every NaN last and
 * equal, descending complemented with NaNs still last), or elements would
 * land on the wrong rank. Inline: the merge calls it once per element. */
static inline uint64_t weft_sort_ordered(const void *p, weft_dtype t, int desc)
{
    if (t == WEFT_U8) return desc ? 255u - *(const unsigned char *)p : *(const unsigned char *)p;
    if (weft_sort_key_size(t) == 4) {
        uint32_t u, m;
        memcpy(&u, p, sizeof u);
        if (t == WEFT_F32) {
            if ((u & 0x7fffffffu) > 0x7f800000u) return UINT32_MAX; /* NaN, either way */
            if (u == 0x80000000u) u = 0;
            m = (u & 0x80000000u) ? ~u : u | 0x80000000u;
        } else {
            m = t == WEFT_I32 ? u ^ 0x80000000u : u;
        }
        return desc ? (uint32_t)~m : m;
    }
    const uint64_t sign = 0x8000000000000000ull;
    uint64_t u, m;
    memcpy(&u, p, sizeof u);
    if (t == WEFT_F64) {
        if ((u & ~sign) > 0x7ff0000000000000ull) return UINT64_MAX;
        if (u == sign) u = 0;
        m = (u & sign) ? ~u : u | sign;
    } else {
        m = t == WEFT_I64 ? u ^ sign : u;
    }
    return desc ? ~m : m;
}

/* One sample: an element of a rank's locally sorted block. (ordered, rank,
 * pos) orders elements as one stable sort of the whole array does: equal
 * keys by rank, and inside a rank by sorted position, which a stable local
 * sort keeps in input order. */
typedef struct sort_sample {
    uint64_t ordered;
    uint64_t pos;
    int64_t rank;
} sort_sample;

/* The samples each rank takes of its sorted block, from the split alone (so
 * every rank knows every rank's count without asking). */
size_t weft_sort_sample_count(const weft_dist *d, int rank);
/* This rank's samples of its sorted keys into out (sample_count of them). */
void weft_sort_take_samples(const weft_dist *d, const void *sorted, int desc, sort_sample *out);
/* Sorts all count (> 0) samples and picks nranks - 1 splitters from them. */
void weft_sort_splitters(sort_sample *all, size_t count, int nranks, sort_sample *splitters);
/* How many of this rank's sorted keys go before each splitter: bounds[j]
 * for j < nranks - 1, non-decreasing. */
void weft_sort_bounds(const weft_dist *d, const void *sorted, int desc,
                      const sort_sample *splitters, size_t *bounds);

#endif
