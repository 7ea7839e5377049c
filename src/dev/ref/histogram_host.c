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
    size_t copies, stride; /* of the 32-bit tallies; copies 0: none */
    int direct;            /* one part: count straight into c->counts */
    int bad;               /* an index was out of range */
} hist_job;

enum {
    BLOCK = 256,             /* values binned at once, then counted */
    COPIES = 4,              /* interleaved tallies over few bins */
    FEW_BINS = 4096,         /* at most this many bins take COPIES tallies */
    TALLY_MAX_BINS = 1 << 24 /* more bins count straight into 64-bit counts */
};
/* Values counted into 32-bit tallies before they are added to the counts:
 * no tally can pass 2^32 - 1. */
#define TALLY_CHUNK ((size_t)1 << 31)

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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_BINS 1

/* bin_block for f32 or f64 values, 8 at a time, with bin_block's operations
 * in the same order (the bins are the same): the k of the edge corrections
 * stays a double, and the comparisons are masks, so nothing moves between
 * lanes until the bins are converted. */
__attribute__((target("avx512f,avx512vl"))) static size_t
bin_block_avx512(const void *x, weft_dtype t, size_t b, size_t m, binning g, uint32_t *out)
{
    const __m512d lo = _mm512_set1_pd(g.lo), hi = _mm512_set1_pd(g.hi);
    const __m512d norm = _mm512_set1_pd(g.norm), step = _mm512_set1_pd(g.step);
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    const __m512d last = _mm512_set1_pd((double)(g.nbins - 1));
    const __m256i outside = _mm256_set1_epi32((int)g.nbins);
    size_t i = 0;
    for (; i + 8 <= m; i += 8) {
        __m512d v = t == WEFT_F32 ? _mm512_cvtps_pd(_mm256_loadu_ps((const float *)x + b + i))
                                  : _mm512_loadu_pd((const double *)x + b + i);
        __mmask8 in = _mm512_cmp_pd_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v, hi, _CMP_LT_OQ);
        __m512d f = _mm512_maskz_mov_pd(in, _mm512_mul_pd(_mm512_sub_pd(v, lo), norm));
        __m512d k =
            _mm512_min_pd(_mm512_roundscale_pd(f, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), last);
        __m512d below = _mm512_add_pd(_mm512_mul_pd(k, step), lo);
        __m512d above = _mm512_add_pd(_mm512_mul_pd(_mm512_add_pd(k, one), step), lo);
        __mmask8 down =
            _mm512_cmp_pd_mask(k, zero, _CMP_GT_OQ) & _mm512_cmp_pd_mask(v, below, _CMP_LT_OQ);
        __mmask8 up =
            _mm512_cmp_pd_mask(k, last, _CMP_LT_OQ) & _mm512_cmp_pd_mask(v, above, _CMP_GE_OQ);
        k = _mm512_mask_add_pd(_mm512_mask_sub_pd(k, down, k, one), up, k, one);
        __m256i bins = _mm256_mask_mov_epi32(outside, in, _mm512_cvttpd_epi32(k));
        _mm256_storeu_si256((__m256i *)(void *)(out + i), bins);
    }
    return i;
}
#endif

/* Bins (nbins: not counted) into the part's tallies. One tally per bin
 * makes `t[b]++` wait on the store of the previous one whenever a bin comes
 * again soon; COPIES tallies taken in turn keep those chains apart. Slot
 * nbins of each tally takes what is not counted, so there is no branch. */
static inline __attribute__((always_inline)) void
tally_bins(const uint32_t *bins, size_t m, uint32_t *t, size_t copies, size_t stride)
{
    size_t q = 0;
    if (copies == COPIES)
        for (; q + COPIES <= m; q += COPIES) {
            t[bins[q]]++;
            t[stride + bins[q + 1]]++;
            t[2 * stride + bins[q + 2]]++;
            t[3 * stride + bins[q + 3]]++;
        }
    for (; q < m; q++)
        t[bins[q]]++;
}

/* The loops with the dtype a constant, so each is a plain typed loop. */
static inline __attribute__((always_inline)) void tally_values(const hist_job *j, size_t b,
                                                               size_t e, uint32_t *t, weft_dtype dt)
{
    /* Locals, not loads through j: a store to a tally may alias them. */
    const void *x = j->c->x;
    binning g = j->bins;
    size_t copies = j->copies, stride = j->stride;
    uint32_t bins[BLOCK];
    int wide = 0;
#ifdef HAVE_AVX512_BINS
    wide = (dt == WEFT_F32 || dt == WEFT_F64) && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl");
#endif
    for (size_t i = b; i < e; i += BLOCK) {
        size_t m = e - i < BLOCK ? e - i : BLOCK, done = 0;
#ifdef HAVE_AVX512_BINS
        if (wide) done = bin_block_avx512(x, dt, i, m, g, bins);
#endif
        bin_block(x, dt, i + done, m - done, g, bins + done);
        tally_bins(bins, m, t, copies, stride);
    }
    (void)wide;
}

/* Indices out of range go to slot nbins; *bad says there was one, and the
 * caller then finds the first, so valid input is read once. Counted as they
 * are read, behind a branch that is never taken on valid input: a store of
 * the bins in between, or a select, measured slower. */
static inline __attribute__((always_inline)) void
tally_indices(const hist_job *j, size_t b, size_t e, uint32_t *t, weft_dtype dt, int *bad)
{
    const void *indices = j->c->indices;
    size_t nbins = j->c->nbins;
    size_t s = j->copies == COPIES ? j->stride : 0; /* from one tally to the next */
    uint32_t out = 0;
#define TALLY_INDEX(i, tally)                                                                      \
    do {                                                                                           \
        uint64_t k_ = weft_load_bits(indices, dt, i);                                              \
        if (k_ < nbins)                                                                            \
            (tally)[k_]++;                                                                         \
        else                                                                                       \
            out = 1;                                                                               \
    } while (0)
    size_t i = b;
    for (; i + COPIES <= e; i += COPIES) {
        TALLY_INDEX(i, t);
        TALLY_INDEX(i + 1, t + s);
        TALLY_INDEX(i + 2, t + 2 * s);
        TALLY_INDEX(i + 3, t + 3 * s);
    }
    for (; i < e; i++)
        TALLY_INDEX(i, t);
#undef TALLY_INDEX
    if (out) *bad = 1;
}

WEFT_AVX2_CLONES static void tally_part(const hist_job *j, size_t b, size_t e, uint32_t *t,
                                        int *bad)
{
    const weft_histogram_call *c = j->c;
    if (c->x) {
        switch (c->dtype) {
        case WEFT_F32:
            tally_values(j, b, e, t, WEFT_F32);
            break;
        case WEFT_F64:
            tally_values(j, b, e, t, WEFT_F64);
            break;
        default:
            tally_values(j, b, e, t, c->dtype);
            break;
        }
    } else {
        switch (c->dtype) {
        case WEFT_U32:
            tally_indices(j, b, e, t, WEFT_U32, bad);
            break;
        case WEFT_I32:
            tally_indices(j, b, e, t, WEFT_I32, bad);
            break;
        default:
            tally_indices(j, b, e, t, c->dtype, bad);
            break;
        }
    }
}

/* The tallies' sums into the counts (atomically when parts share them), and
 * the tallies cleared for the next chunk. */
static void flush_tallies(const hist_job *j, uint32_t *t)
{
    uint64_t *counts = j->c->counts;
    for (size_t k = 0; k < j->c->nbins; k++) {
        uint64_t sum = 0;
        for (size_t q = 0; q < j->copies; q++)
            sum += t[q * j->stride + k];
        if (j->direct)
            counts[k] += sum;
        else if (sum)
            __atomic_fetch_add(&counts[k], sum, __ATOMIC_RELAXED);
    }
    memset(t, 0, j->copies * j->stride * sizeof *t);
}

/* The slow and rare way (no finite bin scale, very many bins, or no memory
 * for tallies): bin_of per value into 64-bit counts, atomically when parts
 * share them. */
static int count_slowly(const hist_job *j, size_t b, size_t e)
{
    const weft_histogram_call *c = j->c;
    int bad = 0;
    for (size_t i = b; i < e; i++) {
        size_t k = c->x ? bin_of(weft_load_double(c->x, c->dtype, i), j->bins)
                        : (size_t)weft_load_bits(c->indices, c->dtype, i);
        if (k >= c->nbins)
            bad |= !c->x;
        else if (j->direct)
            c->counts[k]++;
        else
            __atomic_fetch_add(&c->counts[k], 1, __ATOMIC_RELAXED);
    }
    return bad;
}

static void hist_parts(void *arg, size_t p0, size_t p1)
{
    const hist_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        size_t b = p * j->part, e = b + j->part < j->c->n ? b + j->part : j->c->n;
        int bad = 0;
        uint32_t *t = j->copies ? calloc(j->copies * j->stride, sizeof *t) : NULL;
        if (!t) {
            bad = count_slowly(j, b, e);
        } else {
            for (size_t at = b; at < e; at += TALLY_CHUNK) {
                tally_part(j, at, e - at < TALLY_CHUNK ? e : at + TALLY_CHUNK, t, &bad);
                flush_tallies(j, t);
            }
            free(t);
        }
        if (bad) __atomic_store_n(&((hist_job *)j)->bad, 1, __ATOMIC_RELAXED);
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
    if (c->nbins <= TALLY_MAX_BINS && (!c->x || isfinite(j.bins.norm))) {
        j.copies = c->nbins <= FEW_BINS ? COPIES : 1;
        j.stride = (c->nbins + 16) & ~(size_t)15; /* slot nbins too, in 64-byte lines */
    }
    threads->parallel_for(threads->pool, parts, 1, 0, hist_parts, &j);
    /* The counts are the caller's scratch: it stores them only on success. */
    if (j.bad)
        return weft_ref_check_indices(threads, c->what, c->dtype, c->indices, c->n, c->nbins);
    return WEFT_OK;
}
