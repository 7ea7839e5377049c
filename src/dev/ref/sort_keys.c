/* Sorting keys alone, 4 or 8 bytes, on the pool.
 *
 * Without values or indices, and without NaN or -0.0 (those go back to the
 * stable radix sort of sort_host.c), keys that compare equal are the same
 * bits, so the order among them cannot be seen and the sort need not be
 * stable. That allows three things the stable sort cannot do:
 * - the conversion to ordered integers happens inside the passes that read
 *   the caller's keys, and back inside the one that writes them, not in two
 *   passes of their own;
 * - the first pass splits by a prefix of the top varying bits (12 bits, or
 *   16 where 12 leave too many keys on one prefix, as floats' exponents do)
 *   into buckets of neighbouring prefixes, each filled up to a cache's
 *   worth, so floats, whose top byte takes few values, need no second pass
 *   over memory, and the pieces stay in cache whatever the distribution;
 * - 64-bit keys in a bucket are sorted by their top varying bits only (as
 *   many as make ties rare), then runs of ties are finished by insertion, or
 *   by radix passes on their lower digits when long.
 * The pass over the keys that counts prefixes also finds which bits vary and
 * whether a NaN or -0.0 is there. Each bucket is sorted in one thread's
 * cache with a scratch buffer of that thread's own, then written back. A
 * bucket of one prefix too big for a cache is split again the same way by
 * the bits below (its keys share the prefix), with the other half of the
 * scratch to scatter into. */
#include "sort_keys.h"
#include "../../core/big_alloc.h"
#include "../../core/error.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define WEFT_STREAM_STORES 1
#define STREAM_32(p, v) _mm_stream_si32((int *)(p), (int)(v))
#define STREAM_64(p, v) _mm_stream_si64((long long *)(p), (long long)(v))
#define STREAM_FENCE() _mm_sfence()
#else
#define WEFT_STREAM_STORES 0
#define STREAM_FENCE() ((void)0)
#endif

enum {
    PREFIX_BITS = 16, /* enough to split floats' mantissas into buckets of a cache */
    COARSE_BITS = 12, /* enough for keys spread evenly, with counts in the first cache */
    PREFIXES = 1 << PREFIX_BITS,
    MAX_BUCKETS = 4096,
    MAX_CHUNKS = 16,
    CHUNK_MIN = 1 << 15,
    CACHED_BYTES = 256 << 10, /* a bucket's keys; its scratch takes as much again */
    RUN_INSERT = 32,          /* longer runs of tied top bits take radix passes */
    MAX_LEVELS = 6,
    MAX_DIGIT_BITS = 12,
    COUNTS = 8 << MAX_DIGIT_BITS /* a worker's counts: up to 8 digits */
};

typedef struct ksort {
    const weft_prim_threads *threads;
    int wide, is_float;
    uint64_t fmask, xmask; /* the ordered form (sort_keys_typed.h) */
    void *out;             /* the caller's keys */
    size_t cached;         /* keys a bucket may hold to be sorted in cache */
    char *tmp;             /* per worker: room for cached keys, then COUNTS counts */
    size_t workers, tmp_stride;
} ksort;

/* One split of keys [lo, lo + m) from src into buckets in dst. Positions are
 * the same in the caller's array and both scratch halves. */
typedef struct level {
    const ksort *s;
    const void *src;
    int ordered; /* src holds ordered keys (a scratch half), not the caller's */
    void *dst, *other;
    size_t lo, m;
    unsigned shift, bits; /* prefix: (key >> shift) & ((1 << bits) - 1) */
    size_t chunks, chunk;
    uint32_t (*hist)[PREFIXES]; /* per chunk */
    uint32_t *total;            /* all chunks' */
    uint64_t first, varying, chunk_varying[MAX_CHUNKS];
    int chunk_special[MAX_CHUNKS];
    size_t (*off)[MAX_BUCKETS];
    size_t nb, next; /* buckets; the next a worker takes */
    uint16_t map[PREFIXES];
    uint32_t plo[MAX_BUCKETS], phi[MAX_BUCKETS]; /* each bucket's prefixes */
    size_t start[MAX_BUCKETS + 1];
} level;

static unsigned high_bit(uint64_t x) /* x != 0 */
{
    unsigned b = 0;
    while (x >>= 1)
        b++;
    return b;
}

/* Bits that may differ within bucket j: those below the prefix, and those of
 * the prefix below where its first and last prefixes differ. */
static uint64_t bucket_mask(const level *L, size_t j)
{
    uint64_t below = L->shift ? L->varying & (((uint64_t)1 << L->shift) - 1) : 0;
    uint64_t d = L->plo[j] ^ L->phi[j];
    uint64_t in_prefix = d ? (((uint64_t)2 << high_bit(d)) - 1) << L->shift : 0;
    return below | (in_prefix & L->varying);
}

/* Bits that may differ in key - (bucket j's first prefix << shift). */
static uint64_t bucket_span(const level *L, size_t j)
{
    uint64_t below = L->shift ? L->varying & (((uint64_t)1 << L->shift) - 1) : 0;
    uint64_t d = L->phi[j] - L->plo[j];
    return below | (d ? (((uint64_t)2 << high_bit(d)) - 1) << L->shift : 0);
}

/* Digits of up to 12 bits for buckets of many keys: fewer passes while the
 * counts stay in the first-level cache. */
static unsigned digit_bits(size_t m)
{
    unsigned b = high_bit(m) > 10 ? high_bit(m) - 1 : 8;
    return b > MAX_DIGIT_BITS ? MAX_DIGIT_BITS : b;
}

/* Radix passes over m keys for the bits of vm from blo up. */
static unsigned passes(uint64_t vm, unsigned blo, size_t m)
{
    vm = vm >> blo << blo;
    if (!vm) return 0;
    unsigned span = high_bit(vm) + 1 - (unsigned)__builtin_ctzll(vm), most = digit_bits(m);
    return (span + most - 1) / most;
}

/* The lowest bit the radix passes over m keys sort: 0, unless a higher one
 * saves a pass and leaves enough varying bits at and above it that ties
 * among m random keys are rare (log2 m + 8); the ties are finished apart. */
static unsigned lowest_sorted_bit(uint64_t vm, size_t m)
{
    unsigned need = high_bit(m) + 9, have = 0;
    for (unsigned b = 64; b-- > 0;) {
        have += (vm >> b) & 1;
        if (have >= need) return passes(vm, b, m) < passes(vm, 0, m) ? b : 0;
    }
    return 0;
}

#define KT uint32_t
#define KS int32_t
#define KW 32
#define FN(name) name##_32
#define STREAM STREAM_32
#include "sort_keys_typed.h"
#undef STREAM
#undef KT
#undef KS
#undef KW
#undef FN
#define KT uint64_t
#define KS int64_t
#define KW 64
#define FN(name) name##_64
#define STREAM STREAM_64
#include "sort_keys_typed.h"
#undef STREAM
#undef KT
#undef KS
#undef KW
#undef FN

static size_t chunk_end(const level *L, size_t c)
{
    size_t e = L->lo + (c + 1) * L->chunk, end = L->lo + L->m;
    return e < end ? e : end;
}

static void run(const level *L, size_t n, void (*fn)(void *, size_t, size_t))
{
    const weft_prim_threads *t = L->s->threads;
    t->parallel_for(t->pool, n, 1, L->m < t->min_elements ? 1 : 0, fn, (void *)L);
}

static void histogram_chunks(void *arg, size_t c0, size_t c1)
{
    level *L = arg;
    for (size_t c = c0; c < c1; c++) {
        uint32_t *h = L->hist[c];
        size_t b = L->lo + c * L->chunk, e = chunk_end(L, c);
        memset(h, 0, ((size_t)1 << L->bits) * sizeof *h);
        L->chunk_special[c] = 0;
        if (L->s->wide)
            histogram_64(L, b, e, h, &L->chunk_varying[c], &L->chunk_special[c]);
        else
            histogram_32(L, b, e, h, &L->chunk_varying[c], &L->chunk_special[c]);
    }
}

static void scatter_chunks(void *arg, size_t c0, size_t c1)
{
    level *L = arg;
    for (size_t c = c0; c < c1; c++) {
        size_t b = L->lo + c * L->chunk, e = chunk_end(L, c);
        if (L->s->wide)
            scatter_64(L, b, e, L->off[c]);
        else
            scatter_32(L, b, e, L->off[c]);
    }
}

static void write_out_chunks(void *arg, size_t c0, size_t c1)
{
    level *L = arg;
    for (size_t c = c0; c < c1; c++) {
        size_t b = L->lo + c * L->chunk, e = chunk_end(L, c);
        if (L->s->wide)
            write_out_64(L->s, (const uint64_t *)L->src + b, b, e - b);
        else
            write_out_32(L->s, (const uint32_t *)L->src + b, b, e - b);
    }
    STREAM_FENCE();
}

/* Workers take the cached buckets one at a time, each with its own scratch. */
static void bucket_workers(void *arg, size_t w0, size_t w1)
{
    level *L = arg;
    for (size_t w = w0; w < w1; w++) {
        char *tmp = L->s->tmp + w * L->s->tmp_stride;
        uint32_t *cnt = (uint32_t *)(tmp + L->s->cached * (L->s->wide ? 8 : 4));
        for (;;) {
            size_t j = __atomic_fetch_add(&L->next, 1, __ATOMIC_RELAXED);
            if (j >= L->nb) break;
            if (L->start[j + 1] - L->start[j] > L->s->cached) continue; /* split again later */
            if (L->s->wide)
                bucket_64(L, j, (uint64_t *)tmp, cnt);
            else
                bucket_32(L, j, (uint32_t *)tmp, cnt);
        }
    }
    STREAM_FENCE(); /* the streamed keys visible before the pool says done */
}

/* Neighbouring prefixes into buckets of up to `target` keys (one prefix may
 * hold more: a bucket of its own); then where each chunk's keys of each
 * bucket go. */
static void make_buckets(level *L, const uint32_t *total, size_t target)
{
    size_t acc = 0, b = 0, sizes_start = L->lo;
    L->start[0] = L->lo;
    for (uint32_t p = 0; p < 1u << L->bits; p++) {
        size_t c = total[p];
        if (c && acc && acc + c > target && b + 1 < MAX_BUCKETS) {
            sizes_start += acc;
            L->start[++b] = sizes_start;
            acc = 0;
        }
        if (c && !acc) L->plo[b] = p;
        if (c) L->phi[b] = p;
        L->map[p] = (uint16_t)b;
        acc += c;
    }
    L->nb = b + 1;
    L->start[L->nb] = L->lo + L->m;
    for (size_t c = 0; c < L->chunks; c++) {
        memset(L->off[c], 0, L->nb * sizeof L->off[c][0]);
        for (uint32_t p = 0; p < 1u << L->bits; p++)
            L->off[c][L->map[p]] += L->hist[c][p];
    }
    for (size_t j = 0; j < L->nb; j++) {
        size_t at = L->start[j];
        for (size_t c = 0; c < L->chunks; c++) {
            size_t here = L->off[c][j];
            L->off[c][j] = at;
            at += here;
        }
    }
}

/* Sums the chunks' counts into total; returns the largest. */
static size_t merge_counts(const level *L, uint32_t *total)
{
    size_t most = 0;
    for (uint32_t p = 0; p < 1u << L->bits; p++) {
        size_t t = 0;
        for (size_t c = 0; c < L->chunks; c++)
            t += L->hist[c][p];
        total[p] = (uint32_t)t;
        if (t > most) most = t;
    }
    return most;
}

static void count(level *L)
{
    run(L, L->chunks, histogram_chunks);
    L->varying = 0;
    for (size_t c = 0; c < L->chunks; c++)
        L->varying |= L->chunk_varying[c];
}

/* A level and its counts, in one block of level_bytes(). */
static size_t level_bytes(void)
{
    return (sizeof(level) + 63) / 64 * 64 + MAX_CHUNKS * sizeof(uint32_t[PREFIXES]) +
           MAX_CHUNKS * sizeof(size_t[MAX_BUCKETS]) + PREFIXES * sizeof(uint32_t);
}

static level *level_in(void *mem)
{
    level *L = mem;
    char *p = (char *)mem + (sizeof(level) + 63) / 64 * 64;
    L->hist = (void *)p;
    p += MAX_CHUNKS * sizeof(uint32_t[PREFIXES]);
    L->off = (void *)p;
    p += MAX_CHUNKS * sizeof(size_t[MAX_BUCKETS]);
    L->total = (void *)p;
    return L;
}

static weft_status split(level *L, int depth, int *special);

/* Bucket j of L (too big for a cache) split again, from dst into other. */
static weft_status split_again(const level *L, size_t j, int depth)
{
    void *mem = aligned_alloc(64, level_bytes()); /* not kept: big_alloc keeps the scratch */
    RETURN_IF(!mem, WEFT_ERR_NOMEM, "sort: cannot allocate %zu bytes", level_bytes());
    level *sub = level_in(mem);
    uint64_t vm = bucket_mask(L, j);
    sub->s = L->s;
    sub->src = L->dst;
    sub->ordered = 1;
    sub->dst = L->other;
    sub->other = L->dst;
    sub->lo = L->start[j];
    sub->m = L->start[j + 1] - sub->lo;
    sub->bits = COARSE_BITS;
    sub->shift = vm && high_bit(vm) >= COARSE_BITS ? high_bit(vm) + 1 - COARSE_BITS : 0;
    int ignored;
    weft_status st = split(sub, depth + 1, &ignored);
    free(mem);
    return st;
}

/* Keys too many levels deep (only many near-equal keys get there): radix
 * passes through memory, src (a scratch half) and dst. */
static weft_status sort_in_place(level *L)
{
    size_t ks = L->s->wide ? 8 : 4;
    void *x = (char *)L->src + L->lo * ks, *tmp = (char *)L->dst + L->lo * ks;
    uint32_t *cnt = malloc(COUNTS * sizeof *cnt);
    RETURN_IF(!cnt, WEFT_ERR_NOMEM, "sort: cannot allocate %zu bytes", COUNTS * sizeof *cnt);
    if (L->s->wide)
        write_out_64(L->s, radix_64(x, tmp, L->m, L->varying, 0, cnt, 0), L->lo, L->m);
    else
        write_out_32(L->s, radix_32(x, tmp, L->m, L->varying, 0, cnt, 0), L->lo, L->m);
    STREAM_FENCE();
    free(cnt);
    return WEFT_OK;
}

/* Counts, buckets, scatters, sorts the cached buckets, splits the others. */
static weft_status split(level *L, int depth, int *special)
{
    const ksort *s = L->s;
    L->chunks = weft_sort_chunks(s->threads, L->m, CHUNK_MIN, MAX_CHUNKS, &L->chunk);
    uint64_t f = s->wide ? ((const uint64_t *)L->src)[L->lo] : ((const uint32_t *)L->src)[L->lo];
    L->first = L->ordered ? f
               : s->wide  ? order_64(f, s->fmask, s->xmask)
                          : order_32((uint32_t)f, (uint32_t)s->fmask, (uint32_t)s->xmask);
    count(L);
    *special = 0;
    for (size_t c = 0; c < L->chunks; c++)
        *special |= L->chunk_special[c];
    if (*special) return WEFT_OK; /* nothing written yet */
    if (!L->varying) {            /* all the same: where they are is where they go */
        if (L->ordered) run(L, L->chunks, write_out_chunks);
        return WEFT_OK;
    }
    size_t target = s->cached, most = merge_counts(L, L->total);
    if (2 * L->m / (MAX_BUCKETS - 2) + 1 > target) target = 2 * L->m / (MAX_BUCKETS - 2) + 1;
    unsigned top = high_bit(L->varying), want = top + 1 >= PREFIX_BITS ? top + 1 - PREFIX_BITS : 0;
    if (most > target && (L->bits != PREFIX_BITS || L->shift != want)) {
        /* a prefix too coarse, or with idle top bits: the finest, from the top varying bit */
        L->bits = PREFIX_BITS;
        L->shift = want;
        count(L);
        merge_counts(L, L->total);
    }
    if (depth >= MAX_LEVELS) return sort_in_place(L);
    make_buckets(L, L->total, target);
    run(L, L->chunks, scatter_chunks);
    L->next = 0;
    const weft_prim_threads *t = s->threads;
    t->parallel_for(t->pool, s->workers, 1, L->m < t->min_elements ? 1 : 0, bucket_workers, L);
    weft_status st = WEFT_OK;
    for (size_t j = 0; j < L->nb && st == WEFT_OK; j++)
        if (L->start[j + 1] - L->start[j] > s->cached) st = split_again(L, j, depth);
    return st;
}

weft_status weft_ref_sort_keys(const weft_prim_threads *threads, const weft_sort_call *call,
                               int *done)
{
    weft_dtype t = call->key_dtype;
    size_t ks = weft_dtype_size(t), n = call->n;
    *done = 0;
    if (call->values || call->indices || (ks != 4 && ks != 8) || n < WEFT_SORT_KEYS_MIN ||
        n > UINT32_MAX)
        return WEFT_OK;
    uint64_t all = ks == 8 ? UINT64_MAX : UINT32_MAX, top = ks == 8 ? 1ull << 63 : 1ull << 31;
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    ksort s = {.threads = threads,
               .wide = ks == 8,
               .is_float = is_float,
               .fmask = is_float ? all & ~top : 0,
               .xmask = (is_float || t == WEFT_I32 || t == WEFT_I64 ? top : 0) ^
                        (call->descending ? all : 0),
               .out = call->keys,
               .cached = CACHED_BYTES / ks,
               .workers = threads->width > 0 ? (size_t)threads->width : 1,
               .tmp_stride = CACHED_BYTES + COUNTS * sizeof(uint32_t)};
    /* One block, kept between calls of the same size: both scratch halves,
     * the workers' room, the first level. */
    size_t halves = 2 * n * ks, bytes = halves + s.workers * s.tmp_stride + level_bytes();
    char *mem = weft_big_alloc(bytes);
    RETURN_IF(!mem, WEFT_ERR_NOMEM, "sort: cannot allocate scratch for %zu keys", n);
    s.tmp = mem + halves;
    level *L = level_in(s.tmp + s.workers * s.tmp_stride);
    L->s = &s;
    L->src = call->keys;
    L->ordered = 0;
    L->dst = mem;
    L->other = mem + n * ks;
    L->lo = 0;
    L->m = n;
    L->bits = is_float ? PREFIX_BITS : COARSE_BITS; /* floats' exponents crowd the top bits */
    L->shift = 8 * (unsigned)ks - L->bits;
    int special = 0;
    weft_status st = split(L, 0, &special);
    *done = st == WEFT_OK && !special;
    weft_big_free(mem, bytes);
    return st;
}
