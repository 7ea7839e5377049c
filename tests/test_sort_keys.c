/* weft_sort of keys alone from 2^16 keys up (src/dev/ref/sort_keys.c: an
 * unstable sort split by 16-bit prefixes) against a plain stable sort with
 * numpy's float order: every dtype of 4 and 8 bytes, both directions, sizes
 * around where that path starts, and the data that takes its other
 * branches: idle top bits (floats in [0, 1), small integers in wide keys),
 * one prefix holding most keys (split again), ties in the top 32 bits of
 * 64-bit keys (finished by insertion, or by radix passes when long), one
 * high outlier above small keys (the prefix must reach it), and NaN or -0.0
 * (the stable path, input order kept). One thread and the pool agree. */
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

/* ---- the reference: positions sorted by (key in numpy's order, position) ---- */

typedef struct ref_ctx {
    const void *k;
    weft_dtype t;
    int desc;
} ref_ctx;

static ref_ctx ref; /* qsort has no argument for it */

static int cmp_keys(size_t i, size_t j)
{
    switch (ref.t) {
#define CMP(T, ISNAN)                                                                              \
    {                                                                                              \
        T a = ((const T *)ref.k)[i], b = ((const T *)ref.k)[j];                                    \
        int na = ISNAN(a), nb = ISNAN(b);                                                          \
        if (na || nb) return na - nb; /* NaN last either way */                                    \
        int c = a < b ? -1 : b < a ? 1 : 0;                                                        \
        return ref.desc ? -c : c;                                                                  \
    }
#define NO_NAN(x) ((void)(x), 0)
    case WEFT_F32:
        CMP(float, isnan)
    case WEFT_F64:
        CMP(double, isnan)
    case WEFT_I32:
        CMP(int32_t, NO_NAN)
    case WEFT_U32:
        CMP(uint32_t, NO_NAN)
    case WEFT_I64:
        CMP(int64_t, NO_NAN)
    default:
        CMP(uint64_t, NO_NAN)
#undef CMP
#undef NO_NAN
    }
}

static int cmp_positions(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = cmp_keys(i, j);
    return c ? c : i < j ? -1 : i > j;
}

/* ---- data ---- */

enum pattern {
    RANDOM,
    UNIT_FLOATS, /* [0, 1): the sign bit never varies */
    SMALL,       /* below 2^20: the top bits never vary */
    ONE_PREFIX,  /* nine keys in ten share the top 24 bits */
    TIES_SHORT,  /* 64-bit keys: 2^14 values of the top 40 bits */
    TIES_LONG,   /* 64-bit keys: 16 values of the top 40 bits */
    OUTLIER,     /* small keys but one at the very top */
    NAN_LAST,    /* random, one NaN payload (floats) or the extreme (ints) last */
    ZEROS,       /* +0.0 and -0.0 mixed with random keys */
    PATTERNS
};

static void fill(void *k, weft_dtype t, size_t n, enum pattern p, uint64_t seed)
{
    size_t es = weft_dtype_size(t);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        double unit = (double)(r >> 11) / 9007199254740992.0;
        double f = unit * 2e6 - 1e6;
        uint64_t u = r;
        switch (p) {
        case UNIT_FLOATS:
            f = unit;
            u = r >> 1;
            break;
        case SMALL:
        case OUTLIER:
            u = r & 0xfffff;
            f = (double)(r & 0xfffff);
            if (p == OUTLIER && i == n / 3) {
                u = UINT64_MAX - 5;
                f = 3e30;
            }
            break;
        case ONE_PREFIX:
            if (i % 10) {
                u = (0x5a5a5aull << (es * 8 - 24)) | (r & 0xff);
                f = 1000.0 + (double)(r & 0xff) / 256.0;
            }
            break;
        case TIES_SHORT:
            u = ((r >> 50) << 24) * 0x10001ull ^ (r & 0xffffff);
            break;
        case TIES_LONG:
            u = ((r >> 60) << 40) | (r & 0xffffffffffull);
            break;
        case ZEROS:
            if (i % 3 == 0) f = (r & 8) ? -0.0 : 0.0;
            break;
        default:
            break;
        }
        if (t == WEFT_F32) {
            float x = (float)f;
            if (p == NAN_LAST && i == n - 1) {
                uint32_t bits = 0x7fc01234u;
                memcpy(&x, &bits, 4);
            }
            ((float *)k)[i] = x;
        } else if (t == WEFT_F64) {
            double x = f;
            if (p == NAN_LAST && i == n - 1) {
                uint64_t bits = 0xfff8000000004321ull;
                memcpy(&x, &bits, 8);
            }
            ((double *)k)[i] = x;
        } else {
            if (p == NAN_LAST && i == n - 1) u = UINT64_MAX;
            if (p == RANDOM && (t == WEFT_I32 || t == WEFT_I64) && (i & 1))
                u = (uint64_t) - (int64_t)u;    /* negatives too */
            memcpy((char *)k + i * es, &u, es); /* little-endian: the low bytes */
        }
    }
}

/* ---- checks ---- */

static void check(weft_ctx *c, weft_dtype t, size_t n, enum pattern p, int desc)
{
    size_t es = weft_dtype_size(t);
    void *keys = malloc(n * es + 8), *got = malloc(n * es + 8);
    size_t *order = malloc((n + 1) * sizeof *order);
    fill(keys, t, n, p, 7 + n * 13 + (uint64_t)p);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    ref = (ref_ctx){keys, t, desc};
    qsort(order, n, sizeof *order, cmp_positions);
    weft_array *a;
    ASSERT_OK(weft_array_from(c, t, n, keys, &a));
    ASSERT_OK(weft_sort(c, a, NULL, desc ? WEFT_SORT_DESCENDING : 0, NULL));
    ASSERT_OK(weft_array_read(a, 0, n, got));
    for (size_t i = 0; i < n; i++)
        if (memcmp((char *)got + i * es, (char *)keys + order[i] * es, es) != 0)
            fail_msg("sort %s n=%zu pattern %d desc %d: key %zu differs", weft_dtype_name(t), n,
                     (int)p, desc, i);
    weft_array_free(a);
    free(keys);
    free(got);
    free(order);
}

static const weft_dtype dtypes[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64};

/* Around 2^16, where the path starts, every pattern and direction. */
static void test_near_the_threshold(void **state)
{
    (void)state;
    const size_t sizes[] = {65535, 65536, 65537, 100003};
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int p = 0; p < PATTERNS; p++)
                for (int desc = 0; desc < 2; desc++)
                    check(ctx, dtypes[d], sizes[s], (enum pattern)p, desc);
}

/* Big enough for many buckets, big buckets split again, and long runs. */
static void test_many_buckets(void **state)
{
    (void)state;
    const size_t sizes[] = {600011};
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int p = 0; p < PATTERNS; p++)
                check(ctx, dtypes[d], sizes[s], (enum pattern)p, (int)(s + (size_t)p) & 1);
}

/* One thread takes every bucket itself: the same bits. */
static void test_one_thread(void **state)
{
    (void)state;
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++) {
        check(ctx1, dtypes[d], 300007, RANDOM, 0);
        check(ctx1, dtypes[d], 300007, ONE_PREFIX, 1);
        check(ctx1, dtypes[d], 300007, ZEROS, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_near_the_threshold),
        cmocka_unit_test(test_many_buckets),
        cmocka_unit_test(test_one_thread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
