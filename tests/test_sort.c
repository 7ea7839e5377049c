/* weft_sort and weft_argsort against a plain stable merge sort with numpy's
 * float order, on every dtype, on random and adversarial data (all equal,
 * sorted, reversed, few distinct keys, NaN, -0.0, infinities) and sizes
 * around powers of two; the same bits on one thread and on all of them. */
#include "common.h"

static weft_ctx *ctx, *ctx1; /* the setup's devices; one thread */

static int setup(void **state)
{
    (void)state;
    ctx = test_ctx();
    weft_options o = test_options();
    o.num_threads = 1;
    ctx1 = test_ctx_with(&o);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    weft_ctx_free(ctx1);
    return 0;
}

static const weft_dtype all_dtypes[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32,
                                        WEFT_I64, WEFT_U64, WEFT_U8};
static const size_t sizes[] = {0,   1,   2,    3,    7,     8,     9,      255,
                               256, 257, 4095, 4097, 65535, 65537, 200003, 400009};

/* ---- the reference: numpy's order, written independently ---- */

static int is_nan_at(const void *k, weft_dtype t, size_t i)
{
    return t == WEFT_F32   ? isnan(((const float *)k)[i])
           : t == WEFT_F64 ? isnan(((const double *)k)[i])
                           : 0;
}

/* -1, 0, 1: key i before, equal to, after key j in ascending order. */
static int compare(const void *k, weft_dtype t, size_t i, size_t j)
{
    int ni = is_nan_at(k, t, i), nj = is_nan_at(k, t, j);
    if (ni || nj) return ni - nj; /* NaN after everything, equal to NaN */
    switch (t) {
#define CMP(T)                                                                                     \
    {                                                                                              \
        T a = ((const T *)k)[i], b = ((const T *)k)[j];                                            \
        return a < b ? -1 : b < a ? 1 : 0;                                                         \
    }
    case WEFT_F32:
        CMP(float)
    case WEFT_F64:
        CMP(double)
    case WEFT_I32:
        CMP(int32_t)
    case WEFT_U32:
        CMP(uint32_t)
    case WEFT_I64:
        CMP(int64_t)
    case WEFT_U64:
        CMP(uint64_t)
    default:
        CMP(uint8_t)
#undef CMP
    }
}

static int before(const void *k, weft_dtype t, int desc, size_t i, size_t j)
{
    if (desc && !is_nan_at(k, t, i) && !is_nan_at(k, t, j)) return compare(k, t, j, i) < 0;
    return compare(k, t, i, j) < 0;
}

/* Stable merge sort of the positions 0..n-1 by key. */
static void reference_order(const void *k, weft_dtype t, int desc, size_t n, size_t *order)
{
    size_t *tmp = malloc((n + 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = before(k, t, desc, order[b], order[a]) ? order[b++] : order[a++];
            while (a < mid)
                tmp[o++] = order[a++];
            while (b < hi)
                tmp[o++] = order[b++];
        }
        memcpy(order, tmp, n * sizeof *order);
    }
    free(tmp);
}

/* ---- data ---- */

/* SKEWED: nine keys in ten share their top byte, so one bucket of the
 * sort's first pass holds most of a big input. */
enum pattern { RANDOM, EQUAL, SORTED, REVERSED, FEW, SPECIAL, SKEWED, PATTERNS };

static void fill_keys(void *k, weft_dtype t, size_t n, enum pattern p, uint64_t seed)
{
    size_t es = weft_dtype_size(t);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        if (p == EQUAL) r = 12345;
        if (p == SORTED) r = i * 7919;
        if (p == REVERSED) r = (n - i) * 7919;
        if (p == FEW) r %= 5;
        int skew = p == SKEWED && i % 10 != 0;
        switch (t) {
        case WEFT_F32: {
            float f = (float)((int64_t)(r % 2000001) - 1000000) / 8.0f;
            if (p == SORTED || p == REVERSED || p == EQUAL || p == FEW) f = (float)r - 2.0f;
            if (skew) f = 1.0f + (float)(r % 1000000) / 1e6f; /* one exponent */
            if (p == SPECIAL) {
                const float sp[] = {NAN, -NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 1.0f, -1.0f};
                f = sp[r % 8];
                if (r % 8 == 0) { /* NaNs with payloads, to see they come back */
                    uint32_t bits = 0x7fc00000u | (uint32_t)(i & 0xffff);
                    memcpy(&f, &bits, 4);
                }
            }
            ((float *)k)[i] = f;
            break;
        }
        case WEFT_F64: {
            double f = (double)((int64_t)(r % 2000000001) - 1000000000) / 16.0;
            if (p == SORTED || p == REVERSED || p == EQUAL || p == FEW) f = (double)r - 2.0;
            if (skew) f = 1.0 + (double)(r % 1000000000) / 1e9;
            if (p == SPECIAL) {
                const double sp[] = {NAN, -NAN, -0.0, 0.0, INFINITY, -INFINITY, 1e300, -1e-300};
                f = sp[r % 8];
                if (r % 8 == 1) {
                    uint64_t bits = 0xfff8000000000000ull | (uint64_t)i;
                    memcpy(&f, &bits, 8);
                }
            }
            ((double *)k)[i] = f;
            break;
        }
        default:
            if (p == SPECIAL) { /* the extremes of the type */
                const uint64_t ext[] = {0,
                                        1,
                                        UINT64_MAX,
                                        0x8000000000000000ull,
                                        0x7fffffffffffffffull,
                                        0x80000000u,
                                        0x7fffffffu,
                                        0xffu};
                r = ext[r % 8];
            }
            if (p == SKEWED) r &= ~0xff00ull; /* an even count of digits to sort below the top */
            if (skew) r &= (es == 8 ? 0x00ffffffffffffffull : 0x00ffffffull);
            if (p == RANDOM && (t == WEFT_I32 || t == WEFT_I64) && (i & 1))
                r = (uint64_t) - (int64_t)r;    /* negatives too */
            memcpy((char *)k + i * es, &r, es); /* little-endian: the low bytes */
            break;
        }
    }
}

/* ---- checks ---- */

static void check_sort(weft_ctx *c, weft_dtype t, size_t n, enum pattern p, int desc, weft_dtype vt)
{
    size_t es = weft_dtype_size(t), vs = weft_dtype_size(vt);
    void *keys = malloc(n * es + 8), *vals = malloc(n * vs + 8);
    void *got_k = malloc(n * es + 8), *got_v = malloc(n * vs + 8);
    uint64_t *got_i = malloc(n * 8 + 8);
    size_t *order = malloc((n + 1) * sizeof *order);
    fill_keys(keys, t, n, p, 1000 + n * 31 + (uint64_t)p);
    fill_keys(vals, vt, n, RANDOM, 77 + n);
    reference_order(keys, t, desc, n, order);

    weft_array *ka, *va, *ia;
    ASSERT_OK(weft_array_from(c, t, n, keys, &ka));
    ASSERT_OK(weft_array_from(c, vt, n, vals, &va));
    ASSERT_OK(weft_array_create(c, WEFT_U64, n, &ia));
    unsigned flags = desc ? WEFT_SORT_DESCENDING : 0;
    ASSERT_OK(weft_argsort(c, ka, ia, flags, NULL));
    ASSERT_OK(weft_array_read(ia, 0, n, got_i));
    for (size_t i = 0; i < n; i++)
        if (got_i[i] != order[i])
            fail_msg("argsort %s n=%zu pattern %d desc %d: [%zu] = %llu, want %zu",
                     weft_dtype_name(t), n, (int)p, desc, i, (unsigned long long)got_i[i],
                     order[i]);
    ASSERT_OK(weft_sort(c, ka, va, flags, NULL));
    ASSERT_OK(weft_array_read(ka, 0, n, got_k));
    ASSERT_OK(weft_array_read(va, 0, n, got_v));
    for (size_t i = 0; i < n; i++) {
        if (memcmp((char *)got_k + i * es, (char *)keys + order[i] * es, es) != 0)
            fail_msg("sort %s n=%zu pattern %d desc %d: key %zu differs", weft_dtype_name(t), n,
                     (int)p, desc, i);
        if (memcmp((char *)got_v + i * vs, (char *)vals + order[i] * vs, vs) != 0)
            fail_msg("sort %s n=%zu pattern %d desc %d: value %zu differs", weft_dtype_name(t), n,
                     (int)p, desc, i);
    }
    /* keys alone */
    ASSERT_OK(weft_array_write(ka, 0, n, keys));
    ASSERT_OK(weft_sort(c, ka, NULL, flags, NULL));
    ASSERT_OK(weft_array_read(ka, 0, n, got_k));
    for (size_t i = 0; i < n; i++)
        if (memcmp((char *)got_k + i * es, (char *)keys + order[i] * es, es) != 0)
            fail_msg("sort keys alone %s n=%zu pattern %d desc %d: key %zu differs",
                     weft_dtype_name(t), n, (int)p, desc, i);
    weft_array_free(ka);
    weft_array_free(va);
    weft_array_free(ia);
    free(keys);
    free(vals);
    free(got_k);
    free(got_v);
    free(got_i);
    free(order);
}

static void test_every_dtype_size_pattern(void **state)
{
    (void)state;
    for (size_t d = 0; d < sizeof all_dtypes / sizeof *all_dtypes; d++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int p = 0; p < PATTERNS; p++)
                for (int desc = 0; desc < 2; desc++) {
                    if (sizes[s] > 70000 && (p == EQUAL || p == SORTED || desc)) continue;
                    if (sizes[s] > 300000 && p != SKEWED && p != RANDOM) continue;
                    weft_dtype vt = (s + (size_t)p) % 3 == 0   ? WEFT_U8
                                    : (s + (size_t)p) % 3 == 1 ? WEFT_U32
                                                               : WEFT_F64;
                    check_sort(ctx, all_dtypes[d], sizes[s], (enum pattern)p, desc, vt);
                }
}

/* The same data on one thread and on all, with a future: the same bits. */
static void test_threads_and_future(void **state)
{
    (void)state;
    size_t n = 300001;
    float *keys = malloc(n * sizeof *keys), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    fill_keys(keys, WEFT_F32, n, SPECIAL, 5);
    for (size_t i = 0; i < n; i += 3)
        keys[i] = (float)(i % 1000) - 500.0f;
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, keys, &x));
    ASSERT_OK(weft_array_from(ctx1, WEFT_F32, n, keys, &y));
    weft_future *f = NULL;
    ASSERT_OK(weft_sort(ctx, x, NULL, 0, &f));
    ASSERT_OK(weft_future_wait(f));
    weft_future_release(f);
    ASSERT_OK(weft_sort(ctx1, y, NULL, 0, NULL));
    ASSERT_OK(weft_array_read(x, 0, n, a));
    ASSERT_OK(weft_array_read(y, 0, n, b));
    assert_true(same_bits(a, b, n * sizeof *a));
    for (size_t i = 1; i < n; i++)
        assert_false(isnan(a[i - 1]) && !isnan(a[i])); /* NaNs last */
    weft_array_free(x);
    weft_array_free(y);
    free(keys);
    free(a);
    free(b);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    weft_array *k, *v, *i32, *short_u32, *u32;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &k));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &v));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 10, &i32));
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, 9, &short_u32));
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, 10, &u32));
    assert_int_equal(weft_sort(NULL, k, NULL, 0, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_sort(ctx, NULL, NULL, 0, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_sort(ctx, k, NULL, 4, NULL), WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "flags"));
    assert_int_equal(weft_sort(ctx, k, k, 0, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_sort(ctx, k, short_u32, 0, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_sort(ctx1, k, NULL, 0, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_argsort(ctx, k, NULL, 0, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_argsort(ctx, k, i32, 0, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_argsort(ctx, k, short_u32, 0, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_argsort(ctx, u32, u32, 0, NULL), WEFT_ERR_INVALID_ARG);
    ASSERT_OK(weft_argsort(ctx, k, u32, 0, NULL));
    ASSERT_OK(weft_sort(ctx, k, v, WEFT_SORT_DESCENDING, NULL));
    weft_array_free(k);
    weft_array_free(v);
    weft_array_free(i32);
    weft_array_free(short_u32);
    weft_array_free(u32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype_size_pattern),
        cmocka_unit_test(test_threads_and_future),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
