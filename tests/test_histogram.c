/* weft_histogram, weft_bincount and weft_scatter_add against plain C loops:
 * bins found by searching the edges, counts by the obvious loop, scatter-add
 * by `out[idx[i]] += v[i]` (whose float bits it must match exactly), on
 * random and adversarial data, every size class, one thread and all. */
#include "common.h"

#include <float.h>

static weft_ctx *ctx, *ctx1;

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

/* 7-9: around the 8 values binned at once; 255-257: a block of them;
 * 65535 and up: split over threads. */
static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 65535, 65537, 300007};
/* up to 4096 bins: four interleaved tallies per thread; from 4097: one */
static const size_t bin_counts[] = {1, 7, 1000, 4096, 4097, 100003};

/* The bin whose edges surround v (edge k = lo + k * step), or nbins. */
static size_t reference_bin(double v, double lo, double hi, size_t nbins)
{
    if (isnan(v) || v < lo || v >= hi) return nbins;
    double step = (hi - lo) / (double)nbins;
    size_t a = 0, b = nbins; /* edge[a] <= v < edge[b], edge[nbins] = hi */
    while (b - a > 1) {
        size_t m = (a + b) / 2;
        if (v >= (double)m * step + lo)
            a = m;
        else
            b = m;
    }
    return a;
}

static void fill_x(double *x, size_t n, double lo, double hi, size_t nbins, uint64_t seed)
{
    double step = (hi - lo) / (double)nbins;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        double u = (double)(r >> 11) / 9007199254740992.0;
        switch (r % 10) {
        case 0: /* an edge exactly, or just below one */
            x[i] = (double)(r % (nbins + 1)) * step + lo;
            if (r & 16) x[i] = nextafter(x[i], -INFINITY);
            break;
        case 1: {
            const double sp[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY, lo, hi, -NAN};
            x[i] = sp[(r >> 8) % 8];
            break;
        }
        default:
            x[i] = lo - (hi - lo) * 0.1 + u * (hi - lo) * 1.2;
        }
    }
}

static void check_histogram(weft_ctx *c, weft_dtype t, size_t n, size_t nbins, double lo, double hi)
{
    double *x = malloc((n + 1) * sizeof *x);
    fill_x(x, n, lo, hi, nbins, n * 7 + nbins);
    void *typed = malloc((n + 1) * 8);
    uint64_t *want = calloc(nbins, sizeof *want), *got = calloc(nbins, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (t == WEFT_F32) {
            ((float *)typed)[i] = (float)v;
            v = (float)v;
        } else if (t == WEFT_F64) {
            ((double *)typed)[i] = v;
        } else { /* i64: whole numbers */
            int64_t k = isfinite(v) ? (int64_t)floor(v) : (int64_t)i - 5;
            ((int64_t *)typed)[i] = k;
            v = (double)k;
        }
        size_t b = reference_bin(v, lo, hi, nbins);
        if (b < nbins) want[b]++;
    }
    weft_array *xa, *ca;
    ASSERT_OK(weft_array_from(c, t, n, typed, &xa));
    ASSERT_OK(weft_array_create(c, WEFT_U64, nbins, &ca));
    ASSERT_OK(weft_histogram(c, xa, lo, hi, ca, NULL));
    ASSERT_OK(weft_array_read(ca, 0, nbins, got));
    for (size_t k = 0; k < nbins; k++)
        if (got[k] != want[k])
            fail_msg("histogram %s n=%zu nbins=%zu: bin %zu has %llu, want %llu",
                     weft_dtype_name(t), n, nbins, k, (unsigned long long)got[k],
                     (unsigned long long)want[k]);
    /* u32 counts too, with a future */
    weft_array *c32;
    ASSERT_OK(weft_array_create(c, WEFT_U32, nbins, &c32));
    weft_future *f;
    ASSERT_OK(weft_histogram(c, xa, lo, hi, c32, &f));
    ASSERT_OK(weft_future_wait(f));
    weft_future_release(f);
    uint32_t *g32 = malloc(nbins * sizeof *g32);
    ASSERT_OK(weft_array_read(c32, 0, nbins, g32));
    for (size_t k = 0; k < nbins; k++)
        assert_int_equal(g32[k], want[k]);
    weft_array_free(xa);
    weft_array_free(ca);
    weft_array_free(c32);
    free(x);
    free(typed);
    free(want);
    free(got);
    free(g32);
}

static void test_histogram(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t b = 0; b < sizeof bin_counts / sizeof *bin_counts; b++) {
            check_histogram(ctx, WEFT_F64, sizes[s], bin_counts[b], -3.0, 7.0);
            check_histogram(ctx, WEFT_F32, sizes[s], bin_counts[b], 0.1, 0.7);
            check_histogram(ctx1, WEFT_I64, sizes[s], bin_counts[b], -1000.0, 1000.0);
        }
    /* all equal, on an edge */
    check_histogram(ctx, WEFT_F64, 4097, 10, 0.0, 1.0);
}

/* Indices with many repeats (small nout) or few (large), some of every dtype. */
static void fill_indices(void *idx, weft_dtype t, size_t n, size_t nout, uint64_t seed, int sorted)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t k = sorted ? i * nout / (n ? n : 1) : test_rng(&seed) % nout;
        switch (t) {
        case WEFT_I32:
            ((int32_t *)idx)[i] = (int32_t)k;
            break;
        case WEFT_U32:
            ((uint32_t *)idx)[i] = (uint32_t)k;
            break;
        case WEFT_U8:
            ((uint8_t *)idx)[i] = (uint8_t)(k % 256);
            break;
        default:
            ((uint64_t *)idx)[i] = k;
        }
    }
}

static size_t index_at(const void *idx, weft_dtype t, size_t i)
{
    switch (t) {
    case WEFT_I32:
        return (size_t)((const int32_t *)idx)[i];
    case WEFT_U32:
        return ((const uint32_t *)idx)[i];
    case WEFT_U8:
        return ((const uint8_t *)idx)[i];
    default:
        return (size_t)((const uint64_t *)idx)[i];
    }
}

static void check_scatter(weft_ctx *c, weft_dtype it, weft_dtype vt, size_t n, size_t nout,
                          int sorted)
{
    if (it == WEFT_U8 && nout > 256) nout = 256;
    size_t vs = weft_dtype_size(vt);
    void *idx = malloc(n * 8 + 8), *vals = malloc(n * vs + 8);
    void *want = malloc(nout * vs + 8), *got = malloc(nout * vs + 8);
    fill_indices(idx, it, n, nout, n + nout, sorted);
    uint64_t seed = 99;
    for (size_t i = 0; i < n; i++) {
        double u = (double)(test_rng(&seed) >> 11) / 9007199254740992.0;
        if (vt == WEFT_F32) ((float *)vals)[i] = (float)(u * 1e4 - 3e3) * (i % 3 ? 1.0f : 1e-4f);
        if (vt == WEFT_F64) ((double *)vals)[i] = (u * 1e8 - 3e7) * (i % 3 ? 1.0 : 1e-9);
        if (vt == WEFT_I64) ((int64_t *)vals)[i] = (int64_t)(u * 1e12) - 400000000000;
        if (vt == WEFT_U32) ((uint32_t *)vals)[i] = (uint32_t)(u * 4e9);
    }
    for (size_t k = 0; k < nout; k++) { /* out starts non-zero */
        if (vt == WEFT_F32) ((float *)want)[k] = (float)k * 0.37f;
        if (vt == WEFT_F64) ((double *)want)[k] = (double)k * 0.37;
        if (vt == WEFT_I64) ((int64_t *)want)[k] = (int64_t)k * -3;
        if (vt == WEFT_U32) ((uint32_t *)want)[k] = (uint32_t)k * 3;
    }
    weft_array *ia, *va, *oa;
    ASSERT_OK(weft_array_from(c, it, n, idx, &ia));
    ASSERT_OK(weft_array_from(c, vt, n, vals, &va));
    ASSERT_OK(weft_array_from(c, vt, nout, want, &oa));
    for (size_t i = 0; i < n; i++) {
        size_t k = index_at(idx, it, i);
        if (vt == WEFT_F32) ((float *)want)[k] += ((float *)vals)[i];
        if (vt == WEFT_F64) ((double *)want)[k] += ((double *)vals)[i];
        if (vt == WEFT_I64) ((int64_t *)want)[k] += ((int64_t *)vals)[i];
        if (vt == WEFT_U32) ((uint32_t *)want)[k] += ((uint32_t *)vals)[i];
    }
    ASSERT_OK(weft_scatter_add(c, ia, va, oa, NULL));
    ASSERT_OK(weft_array_read(oa, 0, nout, got));
    if (!same_bits(got, want, nout * vs))
        fail_msg("scatter_add %s<-%s n=%zu nout=%zu: not the plain loop's bits",
                 weft_dtype_name(vt), weft_dtype_name(it), n, nout);
    /* bincount: the same with out zeroed, and counts */
    memset(want, 0, nout * vs);
    uint64_t *counts = calloc(nout, 8), *got_counts = calloc(nout, 8);
    for (size_t i = 0; i < n; i++) {
        size_t k = index_at(idx, it, i);
        counts[k]++;
        if (vt == WEFT_F32) ((float *)want)[k] += ((float *)vals)[i];
        if (vt == WEFT_F64) ((double *)want)[k] += ((double *)vals)[i];
        if (vt == WEFT_I64) ((int64_t *)want)[k] += ((int64_t *)vals)[i];
        if (vt == WEFT_U32) ((uint32_t *)want)[k] += ((uint32_t *)vals)[i];
    }
    ASSERT_OK(weft_bincount(c, ia, va, oa, NULL));
    ASSERT_OK(weft_array_read(oa, 0, nout, got));
    if (!same_bits(got, want, nout * vs))
        fail_msg("bincount weighted %s n=%zu nout=%zu differs", weft_dtype_name(vt), n, nout);
    weft_array *ca;
    ASSERT_OK(weft_array_create(c, WEFT_U64, nout, &ca));
    ASSERT_OK(weft_bincount(c, ia, NULL, ca, NULL));
    ASSERT_OK(weft_array_read(ca, 0, nout, got_counts));
    assert_true(same_bits(got_counts, counts, nout * 8));
    weft_array_free(ia);
    weft_array_free(va);
    weft_array_free(oa);
    weft_array_free(ca);
    free(idx);
    free(vals);
    free(want);
    free(got);
    free(counts);
    free(got_counts);
}

static void test_scatter_add_and_bincount(void **state)
{
    (void)state;
    const weft_dtype its[] = {WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64, WEFT_U8};
    const weft_dtype vts[] = {WEFT_F32, WEFT_F64, WEFT_I64, WEFT_U32};
    const size_t nouts[] = {1, 3, 1000, 70001};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t o = 0; o < sizeof nouts / sizeof *nouts; o++)
            for (size_t v = 0; v < 4; v++) {
                check_scatter(ctx, its[(s + o + v) % 5], vts[v], sizes[s], nouts[o], 0);
                if (sizes[s] == 300007) {
                    check_scatter(ctx1, its[(s + o) % 5], vts[v], sizes[s], nouts[o], 0);
                    check_scatter(ctx, its[v], vts[v], sizes[s], nouts[o], 1);
                }
            }
}

/* A bad index anywhere: WEFT_ERR_RANGE naming the first, out unchanged. */
static void test_out_of_range(void **state)
{
    (void)state;
    size_t n = 100000;
    int32_t *idx = malloc(n * sizeof *idx);
    double *vals = malloc(n * sizeof *vals), out[10], got[10];
    for (size_t i = 0; i < n; i++) {
        idx[i] = (int32_t)(i % 10);
        vals[i] = 1.5;
    }
    for (int k = 0; k < 10; k++)
        out[k] = k;
    idx[77777] = -1;
    idx[88888] = 10;
    weft_array *ia, *va, *oa;
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, n, idx, &ia));
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, vals, &va));
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 10, out, &oa));
    assert_int_equal(weft_scatter_add(ctx, ia, va, oa, NULL), WEFT_ERR_RANGE);
    assert_non_null(strstr(weft_last_error(), "indices[77777] = -1"));
    assert_non_null(strstr(weft_last_error(), "weft_scatter_add"));
    ASSERT_OK(weft_array_read(oa, 0, 10, got));
    assert_true(same_bits(got, out, sizeof out));
    assert_int_equal(weft_bincount(ctx, ia, va, oa, NULL), WEFT_ERR_RANGE);
    ASSERT_OK(weft_array_read(oa, 0, 10, got));
    assert_true(same_bits(got, out, sizeof out));
    weft_future *f;
    assert_int_equal(weft_bincount(ctx, ia, NULL, oa, &f), WEFT_OK);
    assert_int_equal(weft_future_wait(f), WEFT_ERR_RANGE);
    if (!strstr(weft_last_error(), "weft_bincount: indices[77777] = -1 is outside"))
        fail_msg("%s", weft_last_error());
    weft_future_release(f);
    ASSERT_OK(weft_array_read(oa, 0, 10, got));
    assert_true(same_bits(got, out, sizeof out));
    idx[77777] = 0;
    ASSERT_OK(weft_array_write(ia, 0, n, idx));
    assert_int_equal(weft_scatter_add(ctx, ia, va, oa, NULL), WEFT_ERR_RANGE);
    assert_non_null(strstr(weft_last_error(), "indices[88888] = 10 is outside [0, 10)"));
    weft_array_free(ia);
    weft_array_free(va);
    weft_array_free(oa);
    free(idx);
    free(vals);
}

/* Out no longer than the input is added into a copy while the indices are
 * checked: a bad last index (u64, u8) still leaves out as it was. */
static void test_out_of_range_last(void **state)
{
    (void)state;
    const weft_dtype its[] = {WEFT_U64, WEFT_U8, WEFT_I64};
    for (size_t t = 0; t < 3; t++)
        for (size_t n = 3; n < 70; n += 33) {
            uint64_t idx[70];
            float vals[70], out[3] = {1.0f, -0.0f, 2.5f}, got[3];
            unsigned char idx8[70];
            for (size_t i = 0; i < n; i++) {
                idx[i] = i % 3;
                idx8[i] = (unsigned char)(i % 3);
                vals[i] = 0.25f * (float)i;
            }
            idx[n - 1] = its[t] == WEFT_I64 ? (uint64_t)-2 : 3;
            idx8[n - 1] = 200;
            weft_array *ia, *va, *oa;
            ASSERT_OK(weft_array_from(ctx, its[t], n, its[t] == WEFT_U8 ? (void *)idx8 : idx, &ia));
            ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, vals, &va));
            ASSERT_OK(weft_array_from(ctx, WEFT_F32, 3, out, &oa));
            assert_int_equal(weft_scatter_add(ctx, ia, va, oa, NULL), WEFT_ERR_RANGE);
            char want[64];
            snprintf(want, sizeof want, "indices[%zu] = ", n - 1);
            assert_non_null(strstr(weft_last_error(), want));
            ASSERT_OK(weft_array_read(oa, 0, 3, got));
            assert_true(same_bits(got, out, sizeof out));
            weft_array_free(ia);
            weft_array_free(va);
            weft_array_free(oa);
        }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    weft_array *f64, *u64, *u32, *f32, *i32;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 10, &f64));
    ASSERT_OK(weft_array_create(ctx, WEFT_U64, 4, &u64));
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, 10, &u32));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &f32));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 10, &i32));
    assert_int_equal(weft_histogram(NULL, f64, 0, 1, u64, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_histogram(ctx, NULL, 0, 1, u64, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_histogram(ctx, f64, 1, 1, u64, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_histogram(ctx, f64, 0, NAN, u64, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_histogram(ctx, f64, -DBL_MAX, DBL_MAX, u64, NULL), WEFT_ERR_INVALID_ARG);
    /* bins narrower than doubles can tell apart: 10 over 4 of the least double */
    assert_int_equal(weft_histogram(ctx, f64, 0, 4 * DBL_TRUE_MIN, u32, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "narrower than doubles can bin"));
    /* 4 bins there are one least double each (nbins / (hi - lo) overflows) */
    const double tiny[10] = {0,
                             DBL_TRUE_MIN,
                             2 * DBL_TRUE_MIN,
                             3 * DBL_TRUE_MIN,
                             3 * DBL_TRUE_MIN,
                             4 * DBL_TRUE_MIN,
                             -DBL_TRUE_MIN,
                             0,
                             0,
                             0};
    ASSERT_OK(weft_array_write(f64, 0, 10, tiny));
    ASSERT_OK(weft_histogram(ctx, f64, 0, 4 * DBL_TRUE_MIN, u64, NULL));
    uint64_t got[4];
    ASSERT_OK(weft_array_read(u64, 0, 4, got));
    assert_true(got[0] == 4 && got[1] == 1 && got[2] == 1 && got[3] == 2);
    assert_int_equal(weft_histogram(ctx, f64, 0, 1, f32, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_bincount(ctx, f64, NULL, u64, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_bincount(ctx, i32, f32, f64, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_bincount(ctx, i32, NULL, i32, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_scatter_add(ctx, i32, f64, f32, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_scatter_add(ctx, i32, u64, u64, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_scatter_add(ctx, f32, f32, f32, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_scatter_add(ctx, i32, NULL, f32, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_scatter_add(ctx1, i32, f32, f32, NULL), WEFT_ERR_INVALID_ARG);
    weft_array_free(f64);
    weft_array_free(u64);
    weft_array_free(u32);
    weft_array_free(f32);
    weft_array_free(i32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram),     cmocka_unit_test(test_scatter_add_and_bincount),
        cmocka_unit_test(test_out_of_range),  cmocka_unit_test(test_out_of_range_last),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
