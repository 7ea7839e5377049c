/* Filter conditions compared straight from the arrays (filter_fused.h). A
 * leaf compares as the expression VM does after its conversions: floats by
 * C's rules (NaN false except !=), integers signed or unsigned by the
 * comparison's dtype; only exact conversions are taken (f32 to f64, u8 to a
 * 32-bit integer), so the bits are the VM's. Whole blocks of 64 go through
 * AVX-512 compares into mask registers; the rest element by element. */
#include "filter_fused.h"
#include "../core/values.h"
#include "../mem/layout.h"

#include <string.h>

enum { FUSED_AND = -1, FUSED_OR = -2 };

/* (array dtype, comparison dtype) pairs taken, and their vector lanes */
enum { SH_F32, SH_F64, SH_F32_F64, SH_I32, SH_U32, SH_U8_I32, SH_U8_U32, SH_I64, SH_U64, SH_NONE };

static int shape_of(weft_dtype src, weft_dtype type)
{
    static const struct {
        weft_dtype src, type;
    } pairs[SH_NONE] = {{WEFT_F32, WEFT_F32}, {WEFT_F64, WEFT_F64}, {WEFT_F32, WEFT_F64},
                        {WEFT_I32, WEFT_I32}, {WEFT_U32, WEFT_U32}, {WEFT_U8, WEFT_I32},
                        {WEFT_U8, WEFT_U32},  {WEFT_I64, WEFT_I64}, {WEFT_U64, WEFT_U64}};
    for (int s = 0; s < SH_NONE; s++)
        if (pairs[s].src == src && pairs[s].type == type) return s;
    return SH_NONE;
}

/* An array operand: a load, or a load converted. -1 when n is neither. */
static int array_slot(const weft_node *n, const weft_bind *binds, weft_dtype *src)
{
    if (n->kind == NODE_CONVERT) n = n->kid[0];
    if (n->kind != NODE_ARRAY || !binds[n->slot].array) return -1;
    *src = binds[n->slot].array->dtype;
    return n->slot;
}

/* A constant operand of the comparison's dtype: a literal, or a scalar
 * bound with that dtype. 0 when n is neither. */
static int constant_of(const weft_node *n, const weft_bind *binds, weft_filter_leaf *l)
{
    if (n->kind == NODE_LITERAL) {
        if (weft_dtype_is_float(n->type))
            l->kf = n->type == WEFT_F32 ? (double)(float)n->lit.f : n->lit.f;
        else
            l->ki = n->lit.i;
        return 1;
    }
    if (n->kind != NODE_SCALAR || binds[n->slot].array || binds[n->slot].dtype != n->type) return 0;
    /* The value as a buffer of one element (every member starts at its
     * first byte); its dtype is the comparison's, never u8 (shape_of). */
    const weft_value *v = &binds[n->slot].value;
    if (weft_dtype_is_float(n->type))
        l->kf = weft_load_double(v, n->type, 0);
    else
        l->ki = (int64_t)weft_load_bits(v, n->type, 0);
    return 1;
}

/* The same comparison with its operands swapped: c < x is x > c. */
static int swapped(int op)
{
    switch (op) {
    case OP_LT:
        return OP_GT;
    case OP_LE:
        return OP_GE;
    case OP_GT:
        return OP_LT;
    case OP_GE:
        return OP_LE;
    default:
        return op;
    }
}

static int leaf_of(const weft_node *n, const weft_bind *binds, const int *view_of_bind,
                   weft_filter_leaf *l)
{
    memset(l, 0, sizeof *l);
    const weft_node *a = n->kid[0], *b = n->kid[1];
    l->op = n->op;
    l->type = a->type;
    weft_dtype sa = WEFT_U8, sb = WEFT_U8;
    int slot_a = array_slot(a, binds, &sa), slot_b = array_slot(b, binds, &sb);
    if (slot_a < 0 && slot_b >= 0) { /* the array on the left */
        const weft_node *t = a;
        a = b;
        b = t;
        slot_a = slot_b;
        slot_b = -1;
        sa = sb;
        l->op = swapped(l->op);
    }
    if (slot_a < 0 || a->type != b->type) return 0;
    l->src = sa;
    l->shape = shape_of(sa, l->type);
    if (l->shape == SH_NONE) return 0;
    l->view_a = view_of_bind[slot_a];
    if (slot_b >= 0) {
        if (sb != sa) return 0;
        l->view_b = view_of_bind[slot_b];
        return l->view_a >= 0 && l->view_b >= 0;
    }
    l->view_b = -1;
    return l->view_a >= 0 && constant_of(b, binds, l);
}

static int plan_node(const weft_node *n, const weft_bind *binds, const int *view_of_bind,
                     weft_filter_plan *p)
{
    if (n->kind != NODE_BINARY) return 0;
    if (n->op == OP_AND || n->op == OP_OR) {
        if (!plan_node(n->kid[0], binds, view_of_bind, p) ||
            !plan_node(n->kid[1], binds, view_of_bind, p) || p->nsteps == WEFT_FILTER_MAX_STEPS)
            return 0;
        p->step[p->nsteps++] = n->op == OP_AND ? FUSED_AND : FUSED_OR;
        return 1;
    }
    if (n->op < OP_LT || n->op > OP_NE || p->nleaves == WEFT_FILTER_MAX_LEAVES ||
        p->nsteps == WEFT_FILTER_MAX_STEPS ||
        !leaf_of(n, binds, view_of_bind, &p->leaf[p->nleaves]))
        return 0;
    p->step[p->nsteps++] = (signed char)p->nleaves++;
    return 1;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_FILTER 1
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,popcnt")))

static int have_avx512(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}
#else
static int have_avx512(void)
{
    return 0;
}
#endif

void weft_filter_plan_of(const weft_expr *e, const weft_bind *binds, const int *view_of_bind,
                         weft_filter_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (!have_avx512() || e->nstatements || !e->result ||
        !plan_node(e->result, binds, view_of_bind, plan))
        plan->nsteps = 0;
}

/* ---- element by element ---- */

#define COMPARE(a, b, op)                                                                          \
    ((op) == OP_LT   ? (a) < (b)                                                                   \
     : (op) == OP_LE ? (a) <= (b)                                                                  \
     : (op) == OP_GT ? (a) > (b)                                                                   \
     : (op) == OP_GE ? (a) >= (b)                                                                  \
     : (op) == OP_EQ ? (a) == (b)                                                                  \
                     : (a) != (b))

/* f32 against f32 compares alike in double (the conversion is exact). */
static int leaf_holds(const weft_filter_leaf *l, void *const *host, size_t i)
{
    const void *a = host[l->view_a], *b = l->view_b >= 0 ? host[l->view_b] : NULL;
    if (weft_dtype_is_float(l->type)) {
        double x = weft_load_double(a, l->src, i), y = b ? weft_load_double(b, l->src, i) : l->kf;
        return COMPARE(x, y, l->op);
    }
    int64_t x = (int64_t)weft_load_bits(a, l->src, i);
    int64_t y = b ? (int64_t)weft_load_bits(b, l->src, i) : l->ki;
    if (l->type == WEFT_U32 || l->type == WEFT_U64) {
        uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
        return COMPARE(ux, uy, l->op);
    }
    return COMPARE(x, y, l->op);
}

static uint64_t leaf_bits_slowly(const weft_filter_leaf *l, void *const *host, size_t i, size_t m)
{
    uint64_t r = 0;
    for (size_t q = 0; q < m; q++)
        r |= (uint64_t)leaf_holds(l, host, i + q) << q;
    return r;
}

/* ---- 64 at a time ---- */

#ifdef HAVE_AVX512_FILTER
/* name(a, b, op): fn with op's predicate among the six given (immediates,
 * hence one function per vector type). */
#define CMP_FN(name, V, M, fn, lt, le, gt, ge, eq, ne)                                             \
    AVX512 static inline M name(V a, V b, int op)                                                  \
    {                                                                                              \
        switch (op) {                                                                              \
        case OP_LT:                                                                                \
            return fn(a, b, lt);                                                                   \
        case OP_LE:                                                                                \
            return fn(a, b, le);                                                                   \
        case OP_GT:                                                                                \
            return fn(a, b, gt);                                                                   \
        case OP_GE:                                                                                \
            return fn(a, b, ge);                                                                   \
        case OP_EQ:                                                                                \
            return fn(a, b, eq);                                                                   \
        default:                                                                                   \
            return fn(a, b, ne);                                                                   \
        }                                                                                          \
    }
#define FLOAT_CMP(name, V, M, fn)                                                                  \
    CMP_FN(name, V, M, fn, _CMP_LT_OQ, _CMP_LE_OQ, _CMP_GT_OQ, _CMP_GE_OQ, _CMP_EQ_OQ, _CMP_NEQ_UQ)
#define INT_CMP(name, M, fn)                                                                       \
    CMP_FN(name, __m512i, M, fn, _MM_CMPINT_LT, _MM_CMPINT_LE, _MM_CMPINT_NLE, _MM_CMPINT_NLT,     \
           _MM_CMPINT_EQ, _MM_CMPINT_NE)
FLOAT_CMP(cmp_ps, __m512, __mmask16, _mm512_cmp_ps_mask)
FLOAT_CMP(cmp_pd, __m512d, __mmask8, _mm512_cmp_pd_mask)
INT_CMP(cmp_epi32, __mmask16, _mm512_cmp_epi32_mask)
INT_CMP(cmp_epu32, __mmask16, _mm512_cmp_epu32_mask)
INT_CMP(cmp_epi64, __mmask8, _mm512_cmp_epi64_mask)
INT_CMP(cmp_epu64, __mmask8, _mm512_cmp_epu64_mask)

/* lanes per vector, a load of them from element q * lanes, the comparison */
#define BLOCK_BITS(T, LANES, V, LOAD, K, CMP)                                                      \
    do {                                                                                           \
        const T *a_ = (const T *)host[l->view_a] + i;                                              \
        const T *b_ = l->view_b >= 0 ? (const T *)host[l->view_b] + i : NULL;                      \
        V k_ = K;                                                                                  \
        for (int q = 0; q < 64 / LANES; q++) {                                                     \
            V x_ = LOAD(a_ + LANES * q), y_ = b_ ? LOAD(b_ + LANES * q) : k_;                      \
            r |= (uint64_t)CMP(x_, y_, l->op) << (LANES * q);                                      \
        }                                                                                          \
    } while (0)

#define LOAD_PS(p) _mm512_loadu_ps(p)
#define LOAD_PD(p) _mm512_loadu_pd(p)
#define LOAD_PS_PD(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define LOAD_SI(p) _mm512_loadu_si512((const void *)(p))
#define LOAD_U8_32(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p)))

AVX512 static uint64_t leaf_block(const weft_filter_leaf *l, void *const *host, size_t i)
{
    uint64_t r = 0;
    switch (l->shape) {
    case SH_F32:
        BLOCK_BITS(float, 16, __m512, LOAD_PS, _mm512_set1_ps((float)l->kf), cmp_ps);
        break;
    case SH_F64:
        BLOCK_BITS(double, 8, __m512d, LOAD_PD, _mm512_set1_pd(l->kf), cmp_pd);
        break;
    case SH_F32_F64:
        BLOCK_BITS(float, 8, __m512d, LOAD_PS_PD, _mm512_set1_pd(l->kf), cmp_pd);
        break;
    case SH_I32:
        BLOCK_BITS(int32_t, 16, __m512i, LOAD_SI, _mm512_set1_epi32((int32_t)l->ki), cmp_epi32);
        break;
    case SH_U32:
        BLOCK_BITS(uint32_t, 16, __m512i, LOAD_SI, _mm512_set1_epi32((int32_t)l->ki), cmp_epu32);
        break;
    case SH_U8_I32:
        BLOCK_BITS(uint8_t, 16, __m512i, LOAD_U8_32, _mm512_set1_epi32((int32_t)l->ki), cmp_epi32);
        break;
    case SH_U8_U32:
        BLOCK_BITS(uint8_t, 16, __m512i, LOAD_U8_32, _mm512_set1_epi32((int32_t)l->ki), cmp_epu32);
        break;
    case SH_I64:
        BLOCK_BITS(int64_t, 8, __m512i, LOAD_SI, _mm512_set1_epi64(l->ki), cmp_epi64);
        break;
    default:
        BLOCK_BITS(uint64_t, 8, __m512i, LOAD_SI, _mm512_set1_epi64(l->ki), cmp_epu64);
        break;
    }
    return r;
}
#endif

static uint64_t bits_of(const weft_filter_plan *plan, void *const *host, size_t i, size_t m)
{
    uint64_t stack[WEFT_FILTER_MAX_LEAVES] = {0};
    int top = 0;
    for (int s = 0; s < plan->nsteps; s++) {
        int step = plan->step[s];
        if (step >= 0) {
            const weft_filter_leaf *l = &plan->leaf[step];
#ifdef HAVE_AVX512_FILTER
            stack[top++] = m == 64 ? leaf_block(l, host, i) : leaf_bits_slowly(l, host, i, m);
#else
            stack[top++] = leaf_bits_slowly(l, host, i, m);
#endif
        } else {
            top--;
            stack[top - 1] =
                step == FUSED_AND ? stack[top - 1] & stack[top] : stack[top - 1] | stack[top];
        }
    }
    return stack[0];
}

#ifdef HAVE_AVX512_FILTER
AVX512 static size_t popcount64(uint64_t w)
{
    return (size_t)__builtin_popcountll(w);
}
#else
static size_t popcount64(uint64_t w)
{
    return (size_t)__builtin_popcountll(w);
}
#endif

size_t weft_filter_bits(const weft_filter_plan *plan, void *const *host, size_t b, size_t e,
                        uint64_t *bits)
{
    size_t kept = 0;
    for (size_t i = b; i < e; i += 64) {
        uint64_t w = bits_of(plan, host, i, e - i < 64 ? e - i : 64);
        bits[(i - b) / 64] = w;
        kept += popcount64(w);
    }
    return kept;
}

/* ---- compaction by bits ---- */

static size_t compact_slowly(const uint64_t *bits, const void *src, void *dst, size_t es, size_t b,
                             size_t e)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    size_t o = 0;
    for (size_t i = b; i < e; i += 64)
        for (uint64_t w = bits[(i - b) / 64]; w; w &= w - 1) {
            size_t at = i + (size_t)__builtin_ctzll(w);
            memcpy(d + o * es, s + at * es, es);
            o++;
        }
    return o;
}

#ifdef HAVE_AVX512_FILTER
/* Whole vectors are loaded inside [b, e) and stored while a whole one fits
 * in the part's `kept` places; masked loads and stores at the ends, so
 * nothing is read past e nor written past the survivors (the next part's
 * output may be another thread's). */
#define COMPACT_AVX512(T, LANES, M, LOADU, MASKZ_LOADU, STOREU, MASK_STOREU, COMPRESS)             \
    size_t o = 0;                                                                                  \
    for (size_t i = b; i < e; i += 64) {                                                           \
        uint64_t w = bits[(i - b) / 64];                                                           \
        for (size_t at = i; w; at += LANES, w >>= LANES) {                                         \
            M m = (M)w;                                                                            \
            if (!m) continue;                                                                      \
            __m512i v = at + LANES <= e ? LOADU(src + at) : MASKZ_LOADU(m, src + at);              \
            __m512i c = COMPRESS(m, v);                                                            \
            size_t n = (size_t)__builtin_popcount(m);                                              \
            if (o + LANES <= kept)                                                                 \
                STOREU(dst + o, c);                                                                \
            else                                                                                   \
                MASK_STOREU(dst + o, (M)((1u << n) - 1), c);                                       \
            o += n;                                                                                \
        }                                                                                          \
    }                                                                                              \
    return o

#define LOADU(p) _mm512_loadu_si512((const void *)(p))
#define STOREU(p, v) _mm512_storeu_si512((void *)(p), v)

AVX512 static size_t compact4(const uint64_t *bits, const uint32_t *src, uint32_t *dst, size_t b,
                              size_t e, size_t kept)
{
    COMPACT_AVX512(uint32_t, 16, __mmask16, LOADU, _mm512_maskz_loadu_epi32, STOREU,
                   _mm512_mask_storeu_epi32, _mm512_maskz_compress_epi32);
}

AVX512 static size_t compact8(const uint64_t *bits, const uint64_t *src, uint64_t *dst, size_t b,
                              size_t e, size_t kept)
{
    COMPACT_AVX512(uint64_t, 8, __mmask8, LOADU, _mm512_maskz_loadu_epi64, STOREU,
                   _mm512_mask_storeu_epi64, _mm512_maskz_compress_epi64);
}
#endif

size_t weft_filter_compact_bits(const uint64_t *bits, const void *src, void *dst, size_t es,
                                size_t b, size_t e, size_t kept)
{
#ifdef HAVE_AVX512_FILTER
    if (es == 4 && have_avx512()) return compact4(bits, src, dst, b, e, kept);
    if (es == 8 && have_avx512()) return compact8(bits, src, dst, b, e, kept);
#else
    (void)kept;
#endif
    return compact_slowly(bits, src, dst, es, b, e);
}
