/* Sorting on the pool: a stable radix sort over 8-bit digits.
 *
 * Big inputs take one most-significant-digit pass, which splits the keys into
 * 256 buckets of consecutive destinations, then sort each bucket by its lower
 * digits (least significant first) while it sits in one core's cache; the
 * threads take buckets as they free up. A bucket too big for a cache is
 * split again by all threads at once. Small inputs take the LSD passes alone.
 * Digits every key shares are skipped, so the MSD pass is on the highest
 * digit that varies.
 *
 * Keys become unsigned integers whose order is the wanted one (sign bit
 * flipped for signed integers; floats as numpy orders them: -0.0 equal to
 * 0.0, every NaN last and equal to every other); descending complements them,
 * NaNs still last. A stable sort has one result, so neither the number of
 * threads nor the chunks they take can change it. Equal keys that are not
 * bit-identical (-0.0 and 0.0, NaN payloads) are why the keys travel with
 * their indices and are gathered afterwards: the sorted keys alone could not
 * say which came first. Otherwise values of 4 or 8 bytes travel with their
 * keys themselves, which saves two random gathers. */
#include "sort_keys.h"
#include "../../core/big_alloc.h"
#include "../../core/error.h"

#include <stdlib.h>
#include <string.h>

enum {
    DIGITS = 256,
    MAX_DIGITS = 8,
    MAX_CHUNKS = 64,
    CHUNK_MIN = 1 << 15,
    MSD_MIN = 1 << 16,      /* fewer keys: LSD passes alone */
    BUCKET_CACHED = 1 << 17 /* keys a bucket may hold to sort in one core's cache */
};

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
    int payload_wide;         /* 64-bit payloads */
    int carry_values;         /* payloads are the values, not indices */
    const void *values;       /* to carry */
    void *k, *kt;             /* keys, scratch */
    void *p, *pt;             /* indices, scratch (NULL: keys alone) */
    unsigned shift;           /* digit of this pass */
    size_t (*counts)[DIGITS]; /* per chunk: how many keys have each digit */
    uint64_t first, varying;  /* the first ordered key; bits in which keys differ */
    int special;              /* a key was NaN or -0.0 */
    /* the conversion pass */
    const void *src;
    weft_dtype t;
    int desc;
    /* where each bucket of the MSD pass starts; bucket[DIGITS] = n */
    size_t bucket[DIGITS + 1];
} radix;

static size_t key_size(const radix *r)
{
    return r->wide ? 8 : 4;
}

static size_t index_size(const radix *r)
{
    return r->payload_wide ? 8 : 4;
}

static void *at(void *base, size_t i, size_t size)
{
    return base ? (char *)base + i * size : NULL;
}

static int digit_varies(const radix *r, unsigned d)
{
    return (r->varying >> (8 * d)) & (DIGITS - 1);
}

static size_t chunk_end(const radix *r, size_t c)
{
    size_t e = (c + 1) * r->chunk;
    return e < r->n ? e : r->n;
}

static void set_chunks(radix *r)
{
    r->chunks = weft_sort_chunks(r->threads, r->n, CHUNK_MIN, MAX_CHUNKS, &r->chunk);
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

/* Typed scatter loops: the hot part of the sort. `at` holds destinations
 * from kt and pt. */
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

static void scatter(const radix *r, const void *k, void *kt, const void *p, void *pt, size_t b,
                    size_t e, size_t *dest)
{
    if (r->wide && r->payload_wide)
        scatter_64_64(k, kt, p, pt, b, e, r->shift, dest);
    else if (r->wide)
        scatter_64_32(k, kt, p, pt, b, e, r->shift, dest);
    else if (r->payload_wide)
        scatter_32_64(k, kt, p, pt, b, e, r->shift, dest);
    else
        scatter_32_32(k, kt, p, pt, b, e, r->shift, dest);
}

static void scatter_chunks(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    for (size_t c = c0; c < c1; c++) /* counts: destinations, made by the caller */
        scatter(r, r->k, r->kt, r->p, r->pt, c * r->chunk, chunk_end(r, c), r->counts[c]);
}

/* Turns the chunks' counts into destinations: digit-major, chunk-minor, so
 * equal digits keep their order across chunks. */
static void to_destinations(radix *r)
{
    size_t start = 0;
    for (unsigned v = 0; v < DIGITS; v++) {
        r->bucket[v] = start;
        for (size_t c = 0; c < r->chunks; c++) {
            size_t cnt = r->counts[c][v];
            r->counts[c][v] = start;
            start += cnt;
        }
    }
    r->bucket[DIGITS] = start;
}

static void swap_buffers(radix *r)
{
    void *swap = r->k;
    r->k = r->kt;
    r->kt = swap;
    swap = r->p;
    r->p = r->pt;
    r->pt = swap;
}

/* All threads, one digit at a time over the whole range, for the digits
 * below `digits` that vary; the result ends in r->k. */
static void radix_passes(radix *r, unsigned digits)
{
    for (unsigned d = 0; d < digits; d++) {
        if (!digit_varies(r, d)) continue;
        r->shift = 8u * d;
        run(r, count_chunks, NULL);
        to_destinations(r);
        run(r, scatter_chunks, NULL);
        swap_buffers(r);
    }
}

/* ---- buckets ---- */

/* Sorts one bucket of the MSD pass (in kt, pt) by the digits below `top` on
 * the calling thread, into the same place in k, p. */
static void sort_bucket(const radix *r, size_t b, size_t m, unsigned top)
{
    size_t ks = key_size(r), ps = index_size(r);
    size_t cnt[MAX_DIGITS][DIGITS];
    memset(cnt, 0, top * sizeof cnt[0]);
    for (size_t i = 0; i < m; i++) {
        uint64_t key =
            r->wide ? ((const uint64_t *)r->kt)[b + i] : ((const uint32_t *)r->kt)[b + i];
        for (unsigned d = 0; d < top; d++)
            cnt[d][(key >> (8 * d)) & (DIGITS - 1)]++;
    }
    radix pass = *r;
    void *src = at(r->kt, b, ks), *dst = at(r->k, b, ks);
    void *psrc = at(r->pt, b, ps), *pdst = at(r->p, b, ps);
    for (unsigned d = 0; d < top; d++) {
        if (!digit_varies(r, d)) continue;
        size_t start = 0;
        int trivial = 0;
        for (unsigned v = 0; v < DIGITS; v++) {
            size_t c = cnt[d][v];
            trivial |= c == m;
            cnt[d][v] = start;
            start += c;
        }
        if (trivial) continue;
        pass.shift = 8u * d;
        scatter(&pass, src, dst, psrc, pdst, 0, m, cnt[d]);
        void *swap = src;
        src = dst;
        dst = swap;
        swap = psrc;
        psrc = pdst;
        pdst = swap;
    }
    if (src != at(r->k, b, ks)) { /* ended in the scratch half */
        memcpy(dst, src, m * ks);
        if (psrc) memcpy(pdst, psrc, m * ps);
    }
}

typedef struct bucket_job {
    const radix *r;
    unsigned top;
} bucket_job;

static void sort_cached_buckets(void *arg, size_t v0, size_t v1)
{
    const bucket_job *j = arg;
    for (size_t v = v0; v < v1; v++) {
        size_t b = j->r->bucket[v], m = j->r->bucket[v + 1] - b;
        if (m > 1 && m <= BUCKET_CACHED) sort_bucket(j->r, b, m, j->top);
    }
}

static void msd_then_buckets(radix *r, unsigned top);

/* A bucket too big for one cache (skewed keys: floats of one exponent, small
 * integers in wide keys): split again by the next digit that varies, all
 * threads, until the pieces fit; its last digit alone by one pass. */
static void sort_big_bucket(const radix *r, size_t b, size_t m, unsigned top)
{
    size_t ks = key_size(r), ps = index_size(r);
    radix sub = *r; /* the bucket, from kt (where the MSD pass put it) */
    sub.n = m;
    sub.k = at(r->kt, b, ks);
    sub.kt = at(r->k, b, ks);
    sub.p = at(r->pt, b, ps);
    sub.pt = at(r->p, b, ps);
    set_chunks(&sub);
    unsigned next = top;
    while (next > 0 && !digit_varies(r, next - 1))
        next--;
    if (next >= 2)
        msd_then_buckets(&sub, next - 1);
    else if (next == 1)
        radix_passes(&sub, 1);
    if (sub.k != at(r->k, b, ks)) {
        memcpy(sub.kt, sub.k, m * ks);
        if (sub.p) memcpy(sub.pt, sub.p, m * ps);
    }
}

/* The MSD pass on digit `top` (k to kt), then every bucket by the digits
 * below it (kt back to k). */
static void msd_then_buckets(radix *r, unsigned top)
{
    r->shift = 8u * top;
    run(r, count_chunks, NULL);
    to_destinations(r);
    run(r, scatter_chunks, NULL);
    bucket_job j = {r, top};
    r->threads->parallel_for(r->threads->pool, DIGITS, 1, 0, sort_cached_buckets, &j);
    for (unsigned v = 0; v < DIGITS; v++) {
        size_t b = r->bucket[v], m = r->bucket[v + 1] - b;
        if (m > BUCKET_CACHED)
            sort_big_bucket(r, b, m, top);
        else if (m == 1) { /* a bucket of one moved to kt and no further */
            memcpy(at(r->k, b, key_size(r)), at(r->kt, b, key_size(r)), key_size(r));
            if (r->p)
                memcpy(at(r->p, b, index_size(r)), at(r->pt, b, index_size(r)), index_size(r));
        }
    }
}

/* ---- conversion in and out of the ordered form ---- */

static void to_order(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    int special = 0;
    uint64_t varying = 0;
    for (size_t c = c0; c < c1; c++) {
        size_t b = c * r->chunk, e = chunk_end(r, c);
        if (r->wide) {
            const uint64_t *src = r->src;
            uint64_t *k = r->k;
            for (size_t i = b; i < e; i++) {
                k[i] = order64(src[i], r->t, r->desc, &special);
                varying |= k[i] ^ r->first;
            }
        } else {
            uint32_t *k = r->k;
            for (size_t i = b; i < e; i++) {
                uint32_t u =
                    r->t == WEFT_U8 ? ((const uint8_t *)r->src)[i] : ((const uint32_t *)r->src)[i];
                k[i] = order32(u, r->t, r->desc, &special);
                varying |= k[i] ^ (uint32_t)r->first;
            }
        }
    }
    if (special) __atomic_store_n(&r->special, 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&r->varying, varying, __ATOMIC_RELAXED);
}

/* The payloads: the values, or every key's index. */
static void number(void *arg, size_t c0, size_t c1)
{
    radix *r = arg;
    size_t ps = index_size(r);
    for (size_t c = c0; c < c1; c++)
        if (r->carry_values)
            memcpy(at(r->p, c * r->chunk, ps), at((void *)r->values, c * r->chunk, ps),
                   (chunk_end(r, c) - c * r->chunk) * ps);
        else
            for (size_t i = c * r->chunk, e = chunk_end(r, c); i < e; i++) {
                if (r->payload_wide)
                    ((uint64_t *)r->p)[i] = i;
                else
                    ((uint32_t *)r->p)[i] = (uint32_t)i;
            }
}

/* The carried values back to the caller's array. */
static void values_out(void *arg, size_t c0, size_t c1)
{
    const radix *r = arg;
    size_t ps = index_size(r);
    for (size_t c = c0; c < c1; c++)
        memcpy(at((void *)r->values, c * r->chunk, ps), at(r->p, c * r->chunk, ps),
               (chunk_end(r, c) - c * r->chunk) * ps);
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
    return r->payload_wide ? (size_t)((const uint64_t *)r->p)[j] : ((const uint32_t *)r->p)[j];
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
    void *copy = weft_big_alloc(r->n * size);
    RETURN_IF(!copy, WEFT_ERR_NOMEM, "sort: cannot allocate %zu bytes", r->n * size);
    memcpy(copy, dst, r->n * size);
    gather_job g = {r, copy, dst, size};
    run(r, gather, &g);
    weft_big_free(copy, r->n * size);
    return WEFT_OK;
}

static unsigned highest_digit(uint64_t varying)
{
    unsigned d = 0;
    while (d + 1 < MAX_DIGITS && varying >> (8 * (d + 1))) /* no shift by 64 */
        d++;
    return d;
}

weft_status weft_ref_sort(const weft_prim_threads *threads, const weft_sort_call *call)
{
    size_t n = call->n, ksize = weft_dtype_size(call->key_dtype);
    if (n == 0) return WEFT_OK;
    int done = 0;
    RETURN_ON_ERROR(weft_ref_sort_keys(threads, call, &done));
    if (done) return WEFT_OK;
    radix r = {.threads = threads,
               .n = n,
               .wide = ksize == 8,
               .payload_wide = n > UINT32_MAX,
               .values = call->values,
               .src = call->keys,
               .t = call->key_dtype,
               .desc = call->descending};
    set_chunks(&r);
    int is_float = call->key_dtype == WEFT_F32 || call->key_dtype == WEFT_F64;
    /* Keys alone need no indices unless equal keys can differ in bits (the
     * conversion finds out). */
    int with_index = call->indices || call->values || is_float;
    int value_sized = call->value_size == 4 || call->value_size == 8;
    size_t pbytes = !with_index ? 0
                    : call->values && value_sized && call->value_size > index_size(&r)
                        ? n * call->value_size
                        : n * index_size(&r);
    size_t kbytes = n * key_size(&r);
    size_t scratch = 2 * (kbytes + pbytes);
    weft_status st = WEFT_OK;
    void *mem = weft_big_alloc(scratch);
    r.counts = malloc(MAX_CHUNKS * sizeof *r.counts);
    if (!mem || !r.counts) {
        weft_big_free(mem, scratch);
        free(r.counts);
        return weft_error_set(WEFT_ERR_NOMEM, "sort: cannot allocate scratch for %zu keys", n);
    }
    r.k = mem;
    r.kt = (char *)mem + kbytes;
    if (with_index) {
        r.p = (char *)mem + 2 * kbytes;
        r.pt = (char *)r.p + pbytes;
    }
    int ignored = 0;
    r.first = r.wide ? order64(((const uint64_t *)call->keys)[0], r.t, r.desc, &ignored)
                     : order32(r.t == WEFT_U8 ? *(const uint8_t *)call->keys
                                              : *(const uint32_t *)call->keys,
                               r.t, r.desc, &ignored);
    run(&r, to_order, NULL);
    if (with_index && !call->indices && !call->values && !r.special) {
        with_index = 0;
        r.p = r.pt = NULL;
    }
    if (!call->indices && call->values && value_sized && !r.special) {
        r.carry_values = 1;
        r.payload_wide = call->value_size == 8;
    }
    if (with_index) run(&r, number, NULL);
    if (r.varying) { /* else every key is the same: nothing moves */
        unsigned top = highest_digit(r.varying);
        if (n >= MSD_MIN && top > 0)
            msd_then_buckets(&r, top);
        else
            radix_passes(&r, top + 1);
    }
    if (call->indices) {
        gather_job g = {&r, NULL, call->indices, weft_dtype_size(call->index_dtype)};
        run(&r, write_indices, &g);
    } else if (!with_index || r.carry_values) {
        unorder_job j = {&r, call->keys};
        run(&r, from_order, &j);
        if (r.carry_values) run(&r, values_out, NULL);
    } else {
        st = gather_into(&r, call->keys, ksize);
        if (st == WEFT_OK && call->values) st = gather_into(&r, call->values, call->value_size);
    }
    weft_big_free(mem, scratch);
    free(r.counts);
    return st;
}
