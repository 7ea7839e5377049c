/* libmvec's AVX2 variants (the x86_64 vector function ABI: _ZGVdN4v_exp takes
 * and returns a __m256d of 4 doubles, _ZGVdN8v_expf a __m256 of 8 floats).
 * Only the loops carry the avx2 target: the rest of the file runs anywhere,
 * and nothing here runs before the CPU check. */
#include "vm_vecmath.h"

#ifdef WEFT_HAVE_LIBMVEC

#include "expr.h"

#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* The declarations carry the target too: the vector arguments are passed in
 * ymm registers, which only an AVX caller may do. */
#define DECLARE_1(name)                                                                            \
    AVX2 __m256d _ZGVdN4v_##name(__m256d);                                                         \
    AVX2 __m256 _ZGVdN8v_##name##f(__m256);
#define DECLARE_2(name)                                                                            \
    AVX2 __m256d _ZGVdN4vv_##name(__m256d, __m256d);                                               \
    AVX2 __m256 _ZGVdN8vv_##name##f(__m256, __m256);
DECLARE_1(cbrt)
DECLARE_1(exp)
DECLARE_1(exp2)
DECLARE_1(expm1)
DECLARE_1(log)
DECLARE_1(log2)
DECLARE_1(log10)
DECLARE_1(log1p)
DECLARE_1(sin)
DECLARE_1(cos)
DECLARE_1(tan)
DECLARE_1(asin)
DECLARE_1(acos)
DECLARE_1(atan)
DECLARE_1(sinh)
DECLARE_1(cosh)
DECLARE_1(tanh)
DECLARE_1(erf)
DECLARE_1(erfc)
DECLARE_2(pow)
DECLARE_2(atan2)
DECLARE_2(hypot)

/* Each weft function's variant of one precision; NULL where there is none
 * (sqrt, fabs, floor... are one instruction or exact already). V(prefix,
 * name) names the variant of a precision. */
#define TABLES(SUF, V)                                                                             \
    static const V1_##SUF unary_##SUF[FN_COUNT] = {                                                \
        [FN_CBRT] = V(v, cbrt),   [FN_EXP] = V(v, exp),     [FN_EXP2] = V(v, exp2),                \
        [FN_EXPM1] = V(v, expm1), [FN_LOG] = V(v, log),     [FN_LOG2] = V(v, log2),                \
        [FN_LOG10] = V(v, log10), [FN_LOG1P] = V(v, log1p), [FN_SIN] = V(v, sin),                  \
        [FN_COS] = V(v, cos),     [FN_TAN] = V(v, tan),     [FN_ASIN] = V(v, asin),                \
        [FN_ACOS] = V(v, acos),   [FN_ATAN] = V(v, atan),   [FN_SINH] = V(v, sinh),                \
        [FN_COSH] = V(v, cosh),   [FN_TANH] = V(v, tanh),   [FN_ERF] = V(v, erf),                  \
        [FN_ERFC] = V(v, erfc)};                                                                   \
    static const V2_##SUF binary_##SUF[FN_COUNT] = {                                               \
        [FN_POW] = V(vv, pow), [FN_ATAN2] = V(vv, atan2), [FN_HYPOT] = V(vv, hypot)};

/* The loops of one precision: whole vectors straight from the operands, then
 * the tail through a padded vector. The padding repeats the tail's first
 * element, a value of the operation's own domain (a zero would send log down
 * its slow special-case path). */
#define LOOPS(SUF, T, VT, W, LOAD, STORE)                                                          \
    typedef VT (*V1_##SUF)(VT);                                                                    \
    typedef VT (*V2_##SUF)(VT, VT);                                                                \
    static AVX2 void pad_##SUF(T *to, const T *from, size_t m, size_t w)                           \
    {                                                                                              \
        for (size_t j = 0; j < w; j++)                                                             \
            to[j] = from[j < m ? j : 0];                                                           \
    }                                                                                              \
    static AVX2 void run1_##SUF(V1_##SUF f, T *d, const T *a, size_t n)                            \
    {                                                                                              \
        size_t k = 0;                                                                              \
        for (; k + W <= n; k += W)                                                                 \
            STORE(d + k, f(LOAD(a + k)));                                                          \
        if (k == n) return;                                                                        \
        T pa[W], pd[W];                                                                            \
        pad_##SUF(pa, a + k, n - k, W);                                                            \
        STORE(pd, f(LOAD(pa)));                                                                    \
        memcpy(d + k, pd, (n - k) * sizeof(T));                                                    \
    }                                                                                              \
    static AVX2 void run2_##SUF(V2_##SUF f, T *d, const T *a, const T *b, size_t n)                \
    {                                                                                              \
        size_t k = 0;                                                                              \
        for (; k + W <= n; k += W)                                                                 \
            STORE(d + k, f(LOAD(a + k), LOAD(b + k)));                                             \
        if (k == n) return;                                                                        \
        T pa[W], pb[W], pd[W];                                                                     \
        pad_##SUF(pa, a + k, n - k, W);                                                            \
        pad_##SUF(pb, b + k, n - k, W);                                                            \
        STORE(pd, f(LOAD(pa), LOAD(pb)));                                                          \
        memcpy(d + k, pd, (n - k) * sizeof(T));                                                    \
    }

#define NAME_F64(prefix, name) _ZGVdN4##prefix##_##name
#define NAME_F32(prefix, name) _ZGVdN8##prefix##_##name##f
LOOPS(f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd)
LOOPS(f32, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps)
TABLES(f64, NAME_F64)
TABLES(f32, NAME_F32)

/* Float functions whose 8-lane variant strays past the OpenCL single
 * precision bound that docs/expressions.md promises (cbrtf 2.8 ulp against 2,
 * logf 3.9 against 3 near 1, log1pf 1.9 against 2, measured over every 512th
 * float and 400,000 random ones): these take the double variant on 4 floats
 * widened, under 1 ulp once rounded back. */
static const V1_f64 widened_f32[FN_COUNT] = {
    [FN_CBRT] = _ZGVdN4v_cbrt, [FN_LOG] = _ZGVdN4v_log, [FN_LOG1P] = _ZGVdN4v_log1p};

static AVX2 __m128 widened(V1_f64 f, __m128 a)
{
    return _mm256_cvtpd_ps(f(_mm256_cvtps_pd(a)));
}

static AVX2 void run_widened(V1_f64 f, float *d, const float *a, size_t n)
{
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        _mm_storeu_ps(d + k, widened(f, _mm_loadu_ps(a + k)));
    if (k == n) return;
    float pa[4], pd[4];
    pad_f32(pa, a + k, n - k, 4);
    _mm_storeu_ps(pd, widened(f, _mm_loadu_ps(pa)));
    memcpy(d + k, pd, (n - k) * sizeof(float));
}

/* The same test as the AVX2 clones' resolver (target_clones), which also
 * checks that the OS saves the ymm registers: a bit of the CPU model that
 * libgcc reads once at load, so testing it per block costs a load. Under the
 * sanitizers (no clones) the pool still takes this path, so its results
 * match a release build's. */
static int have_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}

int weft_vecmath_f64(int fn, double *d, const double *a, const double *b, size_t n)
{
    if (fn < 0 || fn >= FN_COUNT || !(unary_f64[fn] || binary_f64[fn]) || !have_avx2()) return 0;
    if (unary_f64[fn])
        run1_f64(unary_f64[fn], d, a, n);
    else
        run2_f64(binary_f64[fn], d, a, b, n);
    return 1;
}

int weft_vecmath_f32(int fn, float *d, const float *a, const float *b, size_t n)
{
    if (fn < 0 || fn >= FN_COUNT || !(unary_f32[fn] || binary_f32[fn]) || !have_avx2()) return 0;
    if (widened_f32[fn])
        run_widened(widened_f32[fn], d, a, n);
    else if (unary_f32[fn])
        run1_f32(unary_f32[fn], d, a, n);
    else
        run2_f32(binary_f32[fn], d, a, b, n);
    return 1;
}

#endif
