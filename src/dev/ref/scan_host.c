/* Scans on the host pool: kernels/scan.cl in C. Accumulators travel between
 * passes as 64 bits: a double for float sums, 64 wrapping bits
 * for integer sums, the element itself (widened) for min and max. */
#include "../../core/simd.h"
#include "../../core/stream_store.h"
#include "../../core/values.h"
#include "reduce_rules.h"
#include "scan_host.h"

#include <float.h>
#include <stdint.h>
#include <string.h>

typedef weft_acc64 acc;

static acc identity(weft_reduce_op op, weft_dtype t)
{
    acc a = {.u = weft_fold_identity(op, t)};
    return a;
}

static acc combine(weft_reduce_op op, weft_dtype t, acc a, const void *x, size_t k)
{
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (op == WEFT_SUM) {
        if (is_float)
            a.f = a.f + weft_load_double(x, t, k);
        else
            a.u = a.u + weft_load_bits(x, t, k);
        return a;
    }
    int min = op == WEFT_MIN;
    if (is_float) {
        double v = weft_load_double(x, t, k);
        if (min ? weft_less_f(v, a.f) : weft_greater_f(v, a.f)) a.f = v;
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t v = (int64_t)weft_load_bits(x, t, k);
        if (min ? v < a.i : v > a.i) a.i = v;
    } else {
        uint64_t v = weft_load_bits(x, t, k);
        if (min ? v < a.u : v > a.u) a.u = v;
    }
    return a;
}

static acc combine_acc(weft_reduce_op op, weft_dtype t, acc a, acc b)
{
    /* b as a one-element array of the accumulator's own representation */
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (op == WEFT_SUM) {
        if (is_float)
            a.f = a.f + b.f;
        else
            a.u = a.u + b.u;
        return a;
    }
    int min = op == WEFT_MIN;
    if (is_float) {
        if (min ? weft_less_f(b.f, a.f) : weft_greater_f(b.f, a.f)) a = b;
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        if (min ? b.i < a.i : b.i > a.i) a = b;
    } else if (min ? b.u < a.u : b.u > a.u) {
        a = b;
    }
    return a;
}

/* P = fold of the block's sub-totals before s, from the identity; each
 * sub-block starts from carry (+) P; the next block's carry is carry (+) the
 * fold of all 16. The order is the data's, whatever the split. */
uint64_t weft_scan_carries_from(weft_reduce_op op, weft_dtype t, const uint64_t *subtotals,
                                size_t blocks, uint64_t *carries, uint64_t carry_in)
{
    acc carry = {.u = carry_in};
    for (size_t b = 0; b < blocks; b++) {
        acc prefix = identity(op, t);
        for (int s = 0; s < SUBS; s++) {
            carries[b * SUBS + (size_t)s] = combine_acc(op, t, carry, prefix).u;
            acc st = {.u = subtotals[b * SUBS + (size_t)s]};
            prefix = combine_acc(op, t, prefix, st);
        }
        carry = combine_acc(op, t, carry, prefix);
    }
    return carry.u;
}

void weft_scan_carries(weft_reduce_op op, weft_dtype t, const uint64_t *subtotals, size_t blocks,
                       uint64_t *carries)
{
    weft_scan_carries_from(op, t, subtotals, blocks, carries, identity(op, t).u);
}

uint64_t weft_scan_identity(weft_reduce_op op, weft_dtype t)
{
    return weft_fold_identity(op, t);
}

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector) && __has_builtin(__builtin_convertvector)
#define SCAN_VECTORS 1
#endif
#endif

/* A whole block's sum for one dtype: x and y (NULL: none) hold its elements. */
typedef void sum_block_fn(const void *x, void *y, const uint64_t *start, uint64_t *out,
                          int exclusive);

#if SCAN_VECTORS
/* Sums over whole blocks, the common case, in vectors of 4 sub-blocks' chains.
 * Each lane still adds its sub-block's elements one by one in index order,
 * so the bits are the scalar loop's; but 4 consecutive elements of 4
 * sub-blocks are loaded as 4 contiguous vectors and transposed (k-th vector:
 * element k of each sub-block), instead of 16 strided scalar loads. */
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* a0..a3 (rows) into c0..c3 (columns): c_j[s] = a_s[j]. */
#define TRANSPOSE4(a0, a1, a2, a3, c0, c1, c2, c3)                                                 \
    do {                                                                                           \
        __typeof__(a0) t0_ = __builtin_shufflevector(a0, a1, 0, 4, 1, 5);                          \
        __typeof__(a0) t1_ = __builtin_shufflevector(a0, a1, 2, 6, 3, 7);                          \
        __typeof__(a0) t2_ = __builtin_shufflevector(a2, a3, 0, 4, 1, 5);                          \
        __typeof__(a0) t3_ = __builtin_shufflevector(a2, a3, 2, 6, 3, 7);                          \
        c0 = __builtin_shufflevector(t0_, t2_, 0, 1, 4, 5);                                        \
        c1 = __builtin_shufflevector(t0_, t2_, 2, 3, 6, 7);                                        \
        c2 = __builtin_shufflevector(t1_, t3_, 0, 1, 4, 5);                                        \
        c3 = __builtin_shufflevector(t1_, t3_, 2, 3, 6, 7);                                        \
    } while (0)

/* NAME(x, y, start, out, exclusive) for elements E loaded as LOADV, widened
 * through WIDEV to the accumulator vector ACCV, stored back as STOREV. The
 * group loop is innermost so that 4 independent vector chains are in flight. */
#define SUM_BLOCK_VECTORS(NAME, E, LOADV, WIDEV, ACCV, STOREV)                                     \
    WEFT_AVX2_CLONES                                                                               \
    static void NAME(const void *x, void *y, const uint64_t *start, uint64_t *out, int exclusive)  \
    {                                                                                              \
        ACCV run[4];                                                                               \
        memcpy(run, start, sizeof run);                                                            \
        for (int k = 0; k < SUB; k += 4)                                                           \
            for (int g = 0; g < 4; g++) {                                                          \
                ACCV a[4], c[4];                                                                   \
                for (int s = 0; s < 4; s++) {                                                      \
                    LOADV r;                                                                       \
                    memcpy(&r, (const E *)x + (4 * g + s) * SUB + k, sizeof r);                    \
                    a[s] = (ACCV) __builtin_convertvector(r, WIDEV);                               \
                }                                                                                  \
                TRANSPOSE4(a[0], a[1], a[2], a[3], c[0], c[1], c[2], c[3]);                        \
                if (!y) {                                                                          \
                    run[g] = (((run[g] + c[0]) + c[1]) + c[2]) + c[3];                             \
                    continue;                                                                      \
                }                                                                                  \
                for (int j = 0; j < 4; j++) {                                                      \
                    ACCV next = run[g] + c[j];                                                     \
                    c[j] = exclusive ? run[g] + (ACCV){0} : next; /* +0.0 start */                 \
                    run[g] = next;                                                                 \
                }                                                                                  \
                TRANSPOSE4(c[0], c[1], c[2], c[3], a[0], a[1], a[2], a[3]);                        \
                for (int s = 0; s < 4; s++) {                                                      \
                    STOREV o = __builtin_convertvector(a[s], STOREV);                              \
                    memcpy((E *)y + (4 * g + s) * SUB + k, &o, sizeof o);                          \
                }                                                                                  \
            }                                                                                      \
        if (out) memcpy(out, run, sizeof run);                                                     \
    }

SUM_BLOCK_VECTORS(sum_block_f32, float, v4f, v4d, v4d, v4f)
SUM_BLOCK_VECTORS(sum_block_f64, double, v4d, v4d, v4d, v4d)

/* Integer sums wrap, so they are exact in any order: a block needs no fixed
 * chains. Sub-block totals are plain sums (widened to 64 bits as the kernels
 * widen them); y is a running sum LANES elements at a time, each vector's
 * prefix taken in registers (log2(LANES) shifted adds) and the carry added. */
typedef uint32_t v8u32 __attribute__((vector_size(32)));

/* p's inclusive prefix in place (z: a zero vector of p's type). */
#define PREFIX8(p, z)                                                                              \
    (p += __builtin_shufflevector(z, p, 0, 8, 9, 10, 11, 12, 13, 14),                              \
     p += __builtin_shufflevector(z, p, 0, 1, 8, 9, 10, 11, 12, 13),                               \
     p += __builtin_shufflevector(z, p, 0, 1, 2, 3, 8, 9, 10, 11))
#define PREFIX4(p, z)                                                                              \
    (p += __builtin_shufflevector(z, p, 0, 4, 5, 6), p += __builtin_shufflevector(z, p, 0, 1, 4, 5))

#define INT_SUM_BLOCK(NAME, E, U, VEC, PREFIX, LAST)                                               \
    WEFT_AVX2_CLONES                                                                               \
    static void NAME(const void *x, void *y, const uint64_t *start, uint64_t *out, int exclusive)  \
    {                                                                                              \
        for (int s = 0; s < SUBS; s++) {                                                           \
            const E *xs = (const E *)x + s * SUB;                                                  \
            if (out) {                                                                             \
                uint64_t total = start[s];                                                         \
                for (int k = 0; k < SUB; k++)                                                      \
                    total += (uint64_t)xs[k];                                                      \
                out[s] = total;                                                                    \
            }                                                                                      \
            if (!y) continue;                                                                      \
            VEC carry = (VEC){0} + (U)start[s];                                                    \
            for (int k = 0; k < SUB; k += (int)(sizeof(VEC) / sizeof(E))) {                        \
                VEC v;                                                                             \
                memcpy(&v, xs + k, sizeof v);                                                      \
                VEC p = v, z = {0};                                                                \
                PREFIX(p, z);                                                                      \
                p += carry;                                                                        \
                VEC o = exclusive ? p - v : p;                                                     \
                memcpy((E *)y + s * SUB + k, &o, sizeof o);                                        \
                carry = LAST(p);                                                                   \
            }                                                                                      \
        }                                                                                          \
    }

#define LAST8(p) __builtin_shufflevector(p, p, 7, 7, 7, 7, 7, 7, 7, 7)
#define LAST4(p) __builtin_shufflevector(p, p, 3, 3, 3, 3)
INT_SUM_BLOCK(sum_block_i32, int32_t, uint32_t, v8u32, PREFIX8, LAST8)
INT_SUM_BLOCK(sum_block_u32, uint32_t, uint32_t, v8u32, PREFIX8, LAST8)
INT_SUM_BLOCK(sum_block_64, uint64_t, uint64_t, v4u64, PREFIX4, LAST4)

static sum_block_fn *const sum_blocks[] = {
    [WEFT_F32] = sum_block_f32, [WEFT_F64] = sum_block_f64, [WEFT_I32] = sum_block_i32,
    [WEFT_U32] = sum_block_u32, [WEFT_I64] = sum_block_64,  [WEFT_U64] = sum_block_64};
#else
/* Float sums over whole blocks without vector extensions: 16 chains in flight.
 * NAME(x, y, start, out, exclusive) for elements E; the chains run in double. */
#define SUM_BLOCK_CHAINS(NAME, E)                                                                  \
    WEFT_AVX2_CLONES                                                                               \
    static void NAME(const void *x, void *y, const uint64_t *start, uint64_t *out, int exclusive)  \
    {                                                                                              \
        double run[SUBS];                                                                          \
        for (int s = 0; s < SUBS; s++)                                                             \
            memcpy(&run[s], &start[s], 8);                                                         \
        for (int k = 0; k < SUB; k++)                                                              \
            for (int s = 0; s < SUBS; s++) {                                                       \
                double next = run[s] + (double)((const E *)x)[s * SUB + k];                        \
                if (y) ((E *)y)[s * SUB + k] = (E)(exclusive ? run[s] + 0.0 : next);               \
                run[s] = next;                                                                     \
            }                                                                                      \
        if (out)                                                                                   \
            for (int s = 0; s < SUBS; s++)                                                         \
                memcpy(&out[s], &run[s], 8);                                                       \
    }

SUM_BLOCK_CHAINS(sum_block_f32, float)
SUM_BLOCK_CHAINS(sum_block_f64, double)

static sum_block_fn *const sum_blocks[] = {[WEFT_F32] = sum_block_f32, [WEFT_F64] = sum_block_f64};
#endif

/* The sum of one whole block, when its dtype has block code; 0 otherwise. */
static int sum_block_fast(weft_dtype t, const void *x, void *y, const uint64_t *start,
                          uint64_t *out, int exclusive)
{
    sum_block_fn *fn = (size_t)t < sizeof sum_blocks / sizeof sum_blocks[0] ? sum_blocks[t] : NULL;
    if (!fn) return 0;
    fn(x, y, start, out, exclusive);
    return 1;
}

/* What an exclusive scan writes for the accumulator a: a float sum starts
 * from +0.0 (y[0] is 0, as CUB's), the -0.0 start's bits plus 0.0. */
static acc excluded(const scan_job *j, acc a)
{
    if (j->op == WEFT_SUM && (j->t == WEFT_F32 || j->t == WEFT_F64)) a.f += 0.0;
    return a;
}

/* One block: from `start` (per sub-block accumulator bits), writing y (the
 * block's first element) when given, and the final accumulators to `out`
 * when given. */
void weft_scan_block(const scan_job *j, size_t b, const uint64_t *start, uint64_t *out, void *y)
{
    size_t lo = b * WEFT_SUM_BLOCK;
    int whole = lo + WEFT_SUM_BLOCK <= j->n;
    if (whole && j->op == WEFT_SUM &&
        sum_block_fast(j->t, (const char *)j->x + lo * weft_dtype_size(j->t), y, start, out,
                       j->exclusive))
        return;
    for (int s = 0; s < SUBS; s++) {
        acc a = {.u = start[s]};
        size_t from = lo + (size_t)s * SUB;
        size_t to = from + SUB < j->n ? from + SUB : j->n;
        for (size_t k = from; k < to; k++) {
            acc next = combine(j->op, j->t, a, j->x, k);
            if (y) weft_store_acc(y, j->t, k - lo, j->exclusive ? excluded(j, a) : next);
            a = next;
        }
        if (out) out[s] = a.u;
    }
}

/* Past this many bytes of y, storing through the cache costs a read of each
 * line first and evicts x: y goes around it (glibc's memcpy draws the same
 * line at a fraction of the last-level cache). */
#define STREAM_MIN_BYTES ((size_t)8 << 20)

int weft_scan_streams(weft_dtype dtype, size_t n)
{
#if defined(__SSE2__)
    return n * weft_dtype_size(dtype) >= STREAM_MIN_BYTES;
#else
    (void)dtype;
    (void)n;
    return 0;
#endif
}

void weft_scan_stream_fence(void)
{
    weft_stream_fence();
}

void weft_scan_apply_block(const scan_job *j, size_t b, const uint64_t *carries)
{
    size_t size = weft_dtype_size(j->t), lo = b * WEFT_SUM_BLOCK;
    unsigned char *y = (unsigned char *)j->y + lo * size;
#if defined(__SSE2__)
    if (j->stream) {
        _Alignas(64) unsigned char stage[WEFT_SUM_BLOCK * 8];
        size_t count = j->n - lo < WEFT_SUM_BLOCK ? j->n - lo : WEFT_SUM_BLOCK;
        weft_scan_block(j, b, carries, NULL, stage);
        weft_stream_copy(y, stage, count * size);
        return;
    }
#endif
    weft_scan_block(j, b, carries, NULL, y);
}

static void totals_range(void *arg, size_t first, size_t end)
{
    const scan_job *j = arg;
    uint64_t start[SUBS];
    for (int s = 0; s < SUBS; s++)
        start[s] = identity(j->op, j->t).u;
    for (size_t b = first; b < end; b++)
        weft_scan_block(j, b, start, j->subtotals + b * SUBS, NULL);
}

static void apply_range(void *arg, size_t first, size_t end)
{
    const scan_job *j = arg;
    for (size_t b = first; b < end; b++)
        weft_scan_apply_block(j, b, j->carries + b * SUBS);
    if (j->stream) weft_scan_stream_fence();
}

weft_status weft_ref_scan_totals(const weft_prim_threads *threads, weft_reduce_op op,
                                 weft_dtype dtype, weft_view x, size_t n, uint64_t *subtotals)
{
    scan_job j = {op, dtype, 0, x.host, NULL, n, subtotals, NULL, 0};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    threads->parallel_for(threads->pool, blocks, 4, n < threads->min_elements ? 1 : 0, totals_range,
                          &j);
    return WEFT_OK;
}

weft_status weft_ref_scan_apply(const weft_prim_threads *threads, weft_reduce_op op,
                                weft_dtype dtype, int exclusive, weft_view x, weft_view y, size_t n,
                                const uint64_t *carries)
{
    scan_job j = {
        op, dtype, exclusive, x.host, y.host, n, NULL, carries, weft_scan_streams(dtype, n)};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    threads->parallel_for(threads->pool, blocks, 4, n < threads->min_elements ? 1 : 0, apply_range,
                          &j);
    return WEFT_OK;
}
