/* Sorting on the pool: a stable LSD radix sort over 8-bit digits.
 *
 * Keys become unsigned integers whose order is the wanted one (sign bit
 * flipped for signed integers; floats as numpy orders them: -0.0 equal to
 * 0.0, every NaN last and equal to every other); descending complements them,
 * NaNs still last. A stable sort has one result, so neither the number of
 * threads nor the chunks they take can change it. Equal keys that are not
 * bit-identical (-0.0 and 0.0, NaN payloads) are why the keys travel with
 * their indices and are gathered afterwards: the sorted keys alone could not
 * say which came first. */
#include "../device.h"
#include "../../core/error.h"

#include <stdlib.h>
#include <string.h>

enum { DIGITS = 256, MAX_CHUNKS = 64, CHUNK_MIN = 1 << 15 };

#define F32_SIGN 0x80000000u
#define F64_SIGN 0x8000000000000000ull

/* ---- keys as ordered unsigned integers ---- */

static uint32_t order32(uint32_t u, weft_dtype t, int desc, int *special)
{
    uint32_t m;
    if (t == WEFT_F32) {
        if ((u & 0x7fffffffu) > 0x7f800000u) {
            *special = 1;
            return UINT32_MAX; /* NaN: last, ascending or descending */
        }
        if (u == F32_SIGN) {
            *special = 1;
            u = 0;
        }
        m = (u & F32_SIGN) ? ~u : u | F32_SIGN;
    } else if (t == WEFT_I32) {
        m = u ^ F32_SIGN;
    } else if (t == WEFT_U8) {
        return desc ? 255u - u : u;
    } else {
        m = u;
    }
    return desc ? ~m : m;
}

static uint32_t unorder32(uint32_t m, weft_dtype t, int desc)
{
    if (t == WEFT_U8) return desc ? 255u - m : m;
    if (desc) m = ~m;
    if (t == WEFT_F32) return (m & F32_SIGN) ? m ^ F32_SIGN : ~m;
    if (t == WEFT_I32) return m ^ F32_SIGN;
    return m;
}

static uint64_t order64(uint64_t u, weft_dtype t, int desc, int *special)
{
    uint64_t m;
    if (t == WEFT_F64) {
        if ((u & ~F64_SIGN) > 0x7ff0000000000000ull) {
            *special = 1;
            return UINT64_MAX;
        }
        if (u == F64_SIGN) {
            *special = 1;
            u = 0;
        }
        m = (u & F64_SIGN) ? ~u : u | F64_SIGN;
    } else if (t == WEFT_I64) {
        m = u ^ F64_SIGN;
    } else {
        m = u;
    }
    return desc ? ~m : m;
}

static uint64_t unorder64(uint64_t m, weft_dtype t, int desc)
{
    if (desc) m = ~m;
    if (t == WEFT_F64) return (m & F64_SIGN) ? m ^ F64_SIGN : ~m;
    if (t == WEFT_I64) return m ^ F64_SIGN;
    return m;
}

/* ---- the passes ---- */

/* One sort's state: keys k (ordered form) with payloads p (indices, or none),
 * and buffers of the same size to scatter into. */
typedef struct radix {
    const weft_prim_threads *threads;
    size_t n, chunks, chunk;
    int wide;                 /* 64-bit keys */
    int index_wide;           /* 64-bit indices */
    void *k, *kt;             /* keys, scratch */
    void *p, *pt;             /* indices, scratch (NULL: keys alone) */
    unsigned shift;           /* digit of this pass */
    size_t (*counts)[DIGITS]; /* per chunk: how many keys have each digit */
    int special;              /* a key was NaN or -0.0 */
    /* the conversion pass */
    const void *src;
    weft_dtype t;
    int desc;
} radix;

static size_t chunk_end(const radix *r, size_t c)
{
    size_t e = (c + 1) * r->chunk;
    return e < r->n ? e : r->n;
}

/* fn over the chunks, with arg (the radix itself when NULL). */
static void run(const radix *r, void (*fn)(void *, size_t, size_t), void *arg)
{
    r->threads->parallel_for(r->threads->pool, r->chunks, 1,
                             r->n < r->threads->min_elements ? 1 : 0, fn, arg ? arg : (void *)r);
}

static unsigned digit(const radix *r, size_t i)
{
    return r->wide ? (unsigned)(((const uint64_t *)r->k)[i] >> r->shift) & (DIGITS - 1)
                   : (unsigned)(((const uint32_t *)r->k)[i] >> r->shift) & (DIGITS - 1);
}

static void count_chunks(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    for (size_t c = c0; c < c1; c++) {
        size_t *cnt = r->counts[c];
        memset(cnt, 0, sizeof r->counts[c]);
        for (size_t i = c * r->chunk, e = chunk_end(r, c); i < e; i++)
            cnt[digit(r, i)]++;
    }
}

/* Typed scatter loops: the hot part of the sort. */
#define SCATTER(NAME, KT, PT)                                                                      \
    static void NAME(const KT *k, KT *kt, const PT *p, PT *pt, size_t b, size_t e, unsigned shift, \
                     size_t *at)                                                                   \
    {                                                                                              \
        for (size_t i = b; i < e; i++) {                                                           \
            size_t j = at[(k[i] >> shift) & (DIGITS - 1)]++;                                       \
            kt[j] = k[i];                                                                          \
            if (p) pt[j] = p[i];                                                                   \
        }                                                                                          \
    }
SCATTER(scatter_32_32, uint32_t, uint32_t)
SCATTER(scatter_32_64, uint32_t, uint64_t)
SCATTER(scatter_64_32, uint64_t, uint32_t)
SCATTER(scatter_64_64, uint64_t, uint64_t)
#undef SCATTER

static void scatter_chunks(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    for (size_t c = c0; c < c1; c++) {
        size_t b = c * r->chunk, e = chunk_end(r, c);
        size_t *at = r->counts[c]; /* turned into destinations by the caller */
        if (r->wide && r->index_wide)
            scatter_64_64(r->k, r->kt, r->p, r->pt, b, e, r->shift, at);
        else if (r->wide)
            scatter_64_32(r->k, r->kt, r->p, r->pt, b, e, r->shift, at);
        else if (r->index_wide)
            scatter_32_64(r->k, r->kt, r->p, r->pt, b, e, r->shift, at);
        else
            scatter_32_32(r->k, r->kt, r->p, r->pt, b, e, r->shift, at);
    }
}

/* Sorts r->k (and r->p) over `bytes` digits; the result ends in r->k. */
static void radix_passes(radix *r, int bytes)
{
    for (int d = 0; d < bytes; d++) {
        r->shift = 8u * (unsigned)d;
        run(r, count_chunks, NULL);
        /* Destinations: digit-major, chunk-minor, so equal digits keep their
         * order across chunks. A digit every key shares moves nothing. */
        size_t at = 0;
        int trivial = 0;
        for (unsigned v = 0; v < DIGITS; v++) {
            size_t total = 0;
            for (size_t c = 0; c < r->chunks; c++) {
                size_t cnt = r->counts[c][v];
                r->counts[c][v] = at;
                at += cnt;
                total += cnt;
            }
            if (total == r->n) trivial = 1;
        }
        if (trivial) continue;
        run(r, scatter_chunks, NULL);
        void *swap = r->k;
        r->k = r->kt;
        r->kt = swap;
        swap = r->p;
        r->p = r->pt;
        r->pt = swap;
    }
}

/* ---- conversion in and out of the ordered form ---- */

static void to_order(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    int special = 0;
    for (size_t c = c0; c < c1; c++) {
        size_t b = c * r->chunk, e = chunk_end(r, c);
        for (size_t i = b; i < e; i++) {
            if (r->wide) {
                ((uint64_t *)r->k)[i] =
                    order64(((const uint64_t *)r->src)[i], r->t, r->desc, &special);
            } else {
                uint32_t u =
                    r->t == WEFT_U8 ? ((const uint8_t *)r->src)[i] : ((const uint32_t *)r->src)[i];
                ((uint32_t *)r->k)[i] = order32(u, r->t, r->desc, &special);
            }
        }
    }
    if (special) __atomic_store_n(&r->special, 1, __ATOMIC_RELAXED);
}

static void number(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    for (size_t c = c0; c < c1; c++)
        for (size_t i = c * r->chunk, e = chunk_end(r, c); i < e; i++) {
            if (r->index_wide)
                ((uint64_t *)r->p)[i] = i;
            else
                ((uint32_t *)r->p)[i] = (uint32_t)i;
        }
}

/* Keys alone, no special floats: the ordered keys convert straight back. */
typedef struct unorder_job {
    radix *r;
    void *keys;
} unorder_job;

static void from_order(void *arg, size_t c0, size_t c1)
{
    const unorder_job *j = arg;
    const radix *r = j->r;
    for (size_t c = c0; c < c1; c++)
        for (size_t i = c * r->chunk, e = chunk_end(r, c); i < e; i++) {
            if (r->wide)
                ((uint64_t *)j->keys)[i] = unorder64(((const uint64_t *)r->k)[i], r->t, r->desc);
            else if (r->t == WEFT_U8)
                ((uint8_t *)j->keys)[i] =
                    (uint8_t)unorder32(((const uint32_t *)r->k)[i], r->t, r->desc);
            else
                ((uint32_t *)j->keys)[i] = unorder32(((const uint32_t *)r->k)[i], r->t, r->desc);
        }
}

/* dst[j] = src[index[j]] for elements of `size` bytes. */
typedef struct gather_job {
    const radix *r;
    const void *src;
    void *dst;
    size_t size;
} gather_job;

static size_t index_at(const radix *r, size_t j)
{
    return r->index_wide ? (size_t)((const uint64_t *)r->p)[j] : ((const uint32_t *)r->p)[j];
}

static void gather(void *arg, size_t c0, size_t c1)
{
    const gather_job *g = arg;
    const radix *r = g->r;
    for (size_t c = c0; c < c1; c++) {
        size_t b = c * r->chunk, e = chunk_end(r, c);
        switch (g->size) {
        case 1:
            for (size_t j = b; j < e; j++)
                ((uint8_t *)g->dst)[j] = ((const uint8_t *)g->src)[index_at(r, j)];
            break;
        case 4:
            for (size_t j = b; j < e; j++)
                ((uint32_t *)g->dst)[j] = ((const uint32_t *)g->src)[index_at(r, j)];
            break;
        default:
            for (size_t j = b; j < e; j++)
                ((uint64_t *)g->dst)[j] = ((const uint64_t *)g->src)[index_at(r, j)];
            break;
        }
    }
}

static void write_indices(void *arg, size_t c0, size_t c1)
{
    const gather_job *g = arg;
    const radix *r = g->r;
    for (size_t c = c0; c < c1; c++)
        for (size_t j = c * r->chunk, e = chunk_end(r, c); j < e; j++) {
            if (g->size == 8)
                ((uint64_t *)g->dst)[j] = index_at(r, j);
            else
                ((uint32_t *)g->dst)[j] = (uint32_t)index_at(r, j);
        }
}

static weft_status gather_into(radix *r, void *dst, size_t size)
{
    void *copy = malloc(r->n * size);
    RETURN_IF(!copy, WEFT_ERR_NOMEM, "sort: cannot allocate %zu bytes", r->n * size);
    memcpy(copy, dst, r->n * size);
    gather_job g = {r, copy, dst, size};
    run(r, gather, &g);
    free(copy);
    return WEFT_OK;
}

weft_status weft_ref_sort(const weft_prim_threads *threads, const weft_sort_call *call)
{
    size_t n = call->n, ksize = weft_dtype_size(call->key_dtype);
    if (n == 0) return WEFT_OK;
    radix r = {.threads = threads,
               .n = n,
               .wide = ksize == 8,
               .index_wide = n > UINT32_MAX,
               .src = call->keys,
               .t = call->key_dtype,
               .desc = call->descending};
    size_t width = threads->width > 0 ? (size_t)threads->width : 1;
    r.chunks = n / CHUNK_MIN < 4 * width ? n / CHUNK_MIN : 4 * width;
    if (r.chunks < 1) r.chunks = 1;
    if (r.chunks > MAX_CHUNKS) r.chunks = MAX_CHUNKS;
    r.chunk = (n + r.chunks - 1) / r.chunks;
    r.chunks = (n + r.chunk - 1) / r.chunk;
    int is_float = call->key_dtype == WEFT_F32 || call->key_dtype == WEFT_F64;
    /* Keys alone need no indices unless equal keys can differ in bits (the
     * conversion finds out). */
    int with_index = call->indices || call->values || is_float;
    size_t kbytes = n * (r.wide ? 8 : 4), pbytes = with_index ? n * (r.index_wide ? 8 : 4) : 0;
    weft_status st = WEFT_OK;
    void *mem = malloc(2 * (kbytes + pbytes));
    r.counts = malloc(r.chunks * sizeof *r.counts);
    if (!mem || !r.counts) {
        free(mem);
        free(r.counts);
        return weft_error_set(WEFT_ERR_NOMEM, "sort: cannot allocate scratch for %zu keys", n);
    }
    r.k = mem;
    r.kt = (char *)mem + kbytes;
    if (with_index) {
        r.p = (char *)mem + 2 * kbytes;
        r.pt = (char *)r.p + pbytes;
    }
    run(&r, to_order, NULL);
    if (with_index && !call->indices && !call->values && !r.special) {
        with_index = 0;
        r.p = r.pt = NULL;
    }
    if (with_index) run(&r, number, NULL);
    radix_passes(&r, call->key_dtype == WEFT_U8 ? 1 : (int)ksize);
    if (call->indices) {
        gather_job g = {&r, NULL, call->indices, weft_dtype_size(call->index_dtype)};
        run(&r, write_indices, &g);
    } else if (!with_index) {
        unorder_job j = {&r, call->keys};
        run(&r, from_order, &j);
    } else {
        st = gather_into(&r, call->keys, ksize);
        if (st == WEFT_OK && call->values) st = gather_into(&r, call->values, call->value_size);
    }
    free(mem);
    free(r.counts);
    return st;
}
