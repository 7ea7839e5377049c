/* Reductions and scans against plain C references implementing the
 * documented block order, on random data, edge sizes and special values, and
 * bit-identical across device splits. */
#include "common.h"
#include "../src/ops/reduction_blocks.h"

static weft_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = test_ctx();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    return 0;
}

static const size_t sizes[] = {1, 2, 17, 4095, 4096, 4097, 100003};

/* Element k of a typed buffer, widened. */
static double get_f(const void *x, weft_dtype t, size_t k)
{
    switch (t) {
    case WEFT_F32:
        return ((const float *)x)[k];
    case WEFT_F64:
        return ((const double *)x)[k];
    case WEFT_I32:
        return ((const int32_t *)x)[k];
    case WEFT_U32:
        return ((const uint32_t *)x)[k];
    case WEFT_I64:
        return (double)((const int64_t *)x)[k];
    case WEFT_U64:
        return (double)((const uint64_t *)x)[k];
    default:
        return ((const uint8_t *)x)[k];
    }
}

static void fill(void *x, weft_dtype t, size_t n, uint64_t seed)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t r = test_rng(&seed);
        double f = (double)(r >> 11) / 9007199254740992.0 * 2 - 1;
        switch (t) {
        case WEFT_F32:
            ((float *)x)[k] = (float)(f * 1000);
            break;
        case WEFT_F64:
            ((double *)x)[k] = f * 1000;
            break;
        case WEFT_I32:
            ((int32_t *)x)[k] = (int32_t)(r % 2000001) - 1000000;
            break;
        case WEFT_U32:
            ((uint32_t *)x)[k] = (uint32_t)(r % 4000000000u);
            break;
        case WEFT_I64:
            ((int64_t *)x)[k] = (int64_t)(r % 2000000000001ull) - 1000000000000ll;
            break;
        case WEFT_U64:
            ((uint64_t *)x)[k] = r % 10000000000000ull;
            break;
        default:
            ((uint8_t *)x)[k] = (uint8_t)r;
            break;
        }
    }
}

static int is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

/* The documented order: 16 lanes per block of 4096, folded pairwise, blocks in order. */
static double lane_fold(const void *x, weft_dtype t, size_t n, int prod)
{
    double total = prod ? 1 : 0;
    for (size_t b = 0; b < n; b += WEFT_SUM_BLOCK) {
        size_t len = n - b < WEFT_SUM_BLOCK ? n - b : WEFT_SUM_BLOCK;
        double lane[16];
        for (int l = 0; l < 16; l++)
            lane[l] = prod ? 1 : 0;
        for (size_t i = 0; i < len; i++)
            lane[i % 16] =
                prod ? lane[i % 16] * get_f(x, t, b + i) : lane[i % 16] + get_f(x, t, b + i);
        for (int w = 8; w >= 1; w /= 2)
            for (int l = 0; l < w; l++)
                lane[l] = prod ? lane[l] * lane[l + w] : lane[l] + lane[l + w];
        total = prod ? total * lane[0] : total + lane[0];
    }
    return total;
}

static void check_dtype(weft_dtype t)
{
    size_t elem = weft_dtype_size(t);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        void *x = malloc(n * elem);
        fill(x, t, n, n * 7 + (size_t)t);
        if (t == WEFT_F64 || t == WEFT_F32) { /* keep products finite and meaningful */
            for (size_t k = 0; k < n; k++) {
                double v = 1 + get_f(x, t, k) / 1e6;
                if (t == WEFT_F32)
                    ((float *)x)[k] = (float)v;
                else
                    ((double *)x)[k] = v;
            }
        }
        weft_array *a;
        ASSERT_OK(weft_array_from(ctx, t, n, x, &a));
        weft_scalar r;
        /* sum */
        ASSERT_OK(weft_reduce(ctx, WEFT_SUM, a, &r, NULL));
        if (is_float(t)) {
            assert_int_equal(r.dtype, WEFT_F64);
            double want = lane_fold(x, t, n, 0);
            if (!same_bits(&r.value.f64, &want, 8))
                fail_msg("%s sum n=%zu: %.17g vs %.17g", weft_dtype_name(t), n, r.value.f64, want);
        } else {
            int64_t want = 0;
            uint64_t uwant = 0;
            for (size_t k = 0; k < n; k++) {
                if (t == WEFT_U64)
                    uwant += ((uint64_t *)x)[k];
                else
                    want += (int64_t)get_f(x, t, k);
            }
            if (t == WEFT_I32 || t == WEFT_I64 || t == WEFT_U8) { /* u8 promotes to int */
                assert_int_equal(r.dtype, WEFT_I64);
                assert_true(r.value.i64 == want);
            } else {
                assert_int_equal(r.dtype, WEFT_U64);
                assert_true(r.value.u64 == (t == WEFT_U64 ? uwant : (uint64_t)want));
            }
        }
        /* prod (f64), on values near 1 for floats; small ints otherwise overflow to inf: fine */
        ASSERT_OK(weft_reduce(ctx, WEFT_PROD, a, &r, NULL));
        double pwant = lane_fold(x, t, n, 1);
        assert_int_equal(r.dtype, WEFT_F64);
        if (!same_doubles(&r.value.f64, &pwant, 1))
            fail_msg("%s prod n=%zu: %.17g vs %.17g", weft_dtype_name(t), n, r.value.f64, pwant);
        /* min, max and where */
        size_t at_min = 0, at_max = 0;
        for (size_t k = 1; k < n; k++) {
            if (t == WEFT_U64 ? ((uint64_t *)x)[k] < ((uint64_t *)x)[at_min]
                              : get_f(x, t, k) < get_f(x, t, at_min))
                at_min = k;
            if (t == WEFT_U64 ? ((uint64_t *)x)[k] > ((uint64_t *)x)[at_max]
                              : get_f(x, t, k) > get_f(x, t, at_max))
                at_max = k;
        }
        ASSERT_OK(weft_reduce(ctx, WEFT_ARGMIN, a, &r, NULL));
        assert_int_equal(r.index, at_min);
        assert_true(weft_scalar_as_double(&r) == get_f(x, t, at_min));
        ASSERT_OK(weft_reduce(ctx, WEFT_ARGMAX, a, &r, NULL));
        assert_int_equal(r.index, at_max);
        ASSERT_OK(weft_reduce(ctx, WEFT_MAX, a, &r, NULL));
        assert_true(weft_scalar_as_double(&r) == get_f(x, t, at_max));
        assert_int_equal(r.dtype, t == WEFT_U8 ? WEFT_I32 : t); /* u8 promotes */
        ASSERT_OK(weft_reduce(ctx, WEFT_MIN, a, &r, NULL));
        assert_true(weft_scalar_as_double(&r) == get_f(x, t, at_min));
        /* any / all */
        int any = 0, all = 1;
        for (size_t k = 0; k < n; k++) {
            any |= get_f(x, t, k) != 0;
            all &= get_f(x, t, k) != 0;
        }
        ASSERT_OK(weft_reduce(ctx, WEFT_ANY, a, &r, NULL));
        assert_int_equal(r.value.i32, any);
        ASSERT_OK(weft_reduce(ctx, WEFT_ALL, a, &r, NULL));
        assert_int_equal(r.value.i32, all);
        weft_array_free(a);
        free(x);
    }
}

static void test_reduce_every_dtype(void **state)
{
    (void)state;
    for (int t = 0; t < WEFT_DTYPE_COUNT; t++)
        check_dtype((weft_dtype)t);
}

static void test_fused_dot_count_norm(void **state)
{
    (void)state;
    enum { N = 100003 };
    float *x = malloc(N * 4), *y = malloc(N * 4), *p = malloc(N * 4);
    fill_f32(x, N, 1);
    fill_f32(y, N, 2);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    weft_scalar r;
    ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, &r, NULL));
    for (int k = 0; k < N; k++)
        p[k] = x[k] * y[k]; /* the product is f32, then summed in double lanes */
    double want = reference_sum(p, 0, N);
    assert_true(same_bits(&r.value.f64, &want, 8));
    ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "x > 0", b, 2, &r, NULL));
    int64_t count = 0;
    for (int k = 0; k < N; k++)
        count += x[k] > 0;
    assert_int_equal(r.dtype, WEFT_I64);
    assert_true(r.value.i64 == count);
    ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "t = x - 0.25; t * t", b, 2, &r, NULL));
    for (int k = 0; k < N; k++) {
        float t = x[k] - 0.25f;
        p[k] = t * t;
    }
    want = reference_sum(p, 0, N);
    assert_true(same_bits(&r.value.f64, &want, 8));
    assert_int_equal(weft_reduce_expr(ctx, WEFT_SUM, "y = x", b, 2, &r, NULL), WEFT_ERR_EXPR);
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(p);
}

static void test_special_values_and_empty(void **state)
{
    (void)state;
    float x[10] = {3, -0.0f, 0.0f, 5, NAN, -2, NAN, 7, -2, 1};
    weft_array *a, *e;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 10, x, &a));
    weft_scalar r;
    ASSERT_OK(weft_reduce(ctx, WEFT_MIN, a, &r, NULL));
    assert_true(isnan(r.value.f32)); /* NaN wins */
    ASSERT_OK(weft_reduce(ctx, WEFT_ARGMAX, a, &r, NULL));
    assert_int_equal(r.index, 4); /* the first NaN */
    ASSERT_OK(weft_array_write(a, 4, 1, &x[0]));
    ASSERT_OK(weft_array_write(a, 6, 1, &x[0]));
    ASSERT_OK(weft_reduce(ctx, WEFT_ARGMIN, a, &r, NULL));
    assert_int_equal(r.index, 5); /* ties: the first */
    float zeros[3] = {0.0f, -0.0f, 0.0f};
    weft_array *z;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 3, zeros, &z));
    ASSERT_OK(weft_reduce(ctx, WEFT_MIN, z, &r, NULL));
    assert_true(r.value.f32 == 0 && signbit(r.value.f32)); /* -0.0 < +0.0 */
    ASSERT_OK(weft_reduce(ctx, WEFT_ARGMAX, z, &r, NULL));
    assert_int_equal(r.index, 0);
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 0, &e));
    ASSERT_OK(weft_reduce(ctx, WEFT_SUM, e, &r, NULL));
    assert_true(r.value.f64 == 0);
    ASSERT_OK(weft_reduce(ctx, WEFT_PROD, e, &r, NULL));
    assert_true(r.value.f64 == 1);
    ASSERT_OK(weft_reduce(ctx, WEFT_ANY, e, &r, NULL));
    assert_int_equal(r.value.i32, 0);
    ASSERT_OK(weft_reduce(ctx, WEFT_ALL, e, &r, NULL));
    assert_int_equal(r.value.i32, 1);
    assert_int_equal(weft_reduce(ctx, WEFT_MIN, e, &r, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_reduce(ctx, WEFT_ARGMAX, e, &r, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_reduce(ctx, (weft_reduce_op)42, a, &r, NULL), WEFT_ERR_INVALID_ARG);
    /* integer overflow is an error, not a wrapped answer */
    int64_t big[3] = {INT64_MAX, 1, 5};
    weft_array *ba;
    ASSERT_OK(weft_array_from(ctx, WEFT_I64, 3, big, &ba));
    assert_int_equal(weft_reduce(ctx, WEFT_SUM, ba, &r, NULL), WEFT_ERR_RANGE);
    assert_non_null(strstr(weft_last_error(), "overflow"));
    weft_array_free(ba);
    weft_array_free(a);
    weft_array_free(e);
    weft_array_free(z);
}

/* The scan's documented order, written from the description: blocks of 4096
 * in 16 sub-blocks of 256; sub-block totals folded from the identity; each
 * sub-block starts from carry (+) (fold of the block's earlier sub-totals);
 * the carry grows by the fold of all 16. Floats accumulate in double,
 * integers (i32 here) in 64 wrapping bits. */
typedef struct racc {
    double f;
    uint64_t u;
} racc;

static racc ridentity(weft_reduce_op op, weft_dtype t)
{
    racc a = {0, 0};
    if (op == WEFT_SUM && is_float(t)) a.f = -0.0; /* cumsum([-0.0]) is [-0.0], as numpy's */
    if (op == WEFT_MIN) a.f = is_float(t) ? INFINITY : (double)INT32_MAX;
    if (op == WEFT_MAX) a.f = is_float(t) ? -INFINITY : (double)INT32_MIN;
    return a;
}

static racc rcombine(weft_reduce_op op, weft_dtype t, racc a, racc v)
{
    if (op == WEFT_SUM) {
        if (is_float(t))
            a.f = a.f + v.f;
        else
            a.u += v.u;
        return a;
    }
    int better = op == WEFT_MIN ? (isnan(v.f) || (!isnan(a.f) && v.f < a.f))
                                : (isnan(v.f) || (!isnan(a.f) && v.f > a.f));
    if (isnan(a.f)) better = 0;
    return better ? v : a;
}

static racc rvalue(const void *x, weft_dtype t, size_t k)
{
    racc v = {get_f(x, t, k), 0};
    v.u = (uint64_t)(int64_t)v.f;
    return v;
}

static void reference_scan(const void *x, void *y, weft_dtype t, size_t n, weft_reduce_op op,
                           int exclusive)
{
    racc carry = ridentity(op, t);
    for (size_t b = 0; b < n; b += WEFT_SUM_BLOCK) {
        racc st[16];
        for (size_t s = 0; s < 16; s++) {
            st[s] = ridentity(op, t);
            for (size_t k = b + s * 256; k < b + (s + 1) * 256 && k < n; k++)
                st[s] = rcombine(op, t, st[s], rvalue(x, t, k));
        }
        racc prefix = ridentity(op, t);
        for (size_t s = 0; s < 16; s++) {
            racc run = rcombine(op, t, carry, prefix);
            for (size_t k = b + s * 256; k < b + (s + 1) * 256 && k < n; k++) {
                racc before = run;
                run = rcombine(op, t, run, rvalue(x, t, k));
                racc out = exclusive ? before : run;
                /* An exclusive sum starts from +0.0 (y[0] is 0, as CUB's and
                 * thrust's): the same bits as the -0.0 start plus 0.0. */
                if (exclusive && op == WEFT_SUM && is_float(t)) out.f += 0.0;
                if (t == WEFT_F32)
                    ((float *)y)[k] = (float)out.f;
                else if (t == WEFT_F64)
                    ((double *)y)[k] = out.f;
                else if (op == WEFT_SUM)
                    ((int32_t *)y)[k] = (int32_t)(uint32_t)out.u;
                else
                    ((int32_t *)y)[k] = (int32_t)out.f;
            }
            prefix = rcombine(op, t, prefix, st[s]);
        }
        carry = rcombine(op, t, carry, prefix);
    }
}

/* Sums of signed zeros: an inclusive float scan keeps -0.0 while only
 * -0.0 has been added (numpy's cumsum([-0.0]) is [-0.0]; the scans started
 * from +0.0 and gave [0.0]), across sub-blocks, blocks and devices; an
 * exclusive one starts at +0.0. */
static void test_scans_of_signed_zeros(void **state)
{
    (void)state;
    static const size_t zero_sizes[] = {1, 2, 257, 4097, 100003};
    for (size_t s = 0; s < sizeof zero_sizes / sizeof *zero_sizes; s++)
        for (int f64 = 0; f64 <= 1; f64++)
            for (int exclusive = 0; exclusive <= 1; exclusive++) {
                size_t n = zero_sizes[s], zeros = n > 2 ? n - n / 3 : n; /* then ones */
                weft_dtype t = f64 ? WEFT_F64 : WEFT_F32;
                double *x = malloc(n * 8), *got = malloc(n * 8);
                for (size_t k = 0; k < n; k++) {
                    double v = k < zeros ? -0.0 : 1.0;
                    if (f64)
                        x[k] = v;
                    else
                        ((float *)x)[k] = (float)v;
                }
                weft_array *xa, *ya;
                ASSERT_OK(weft_array_from(ctx, t, n, x, &xa));
                ASSERT_OK(weft_array_create(ctx, t, n, &ya));
                ASSERT_OK(weft_scan(ctx, WEFT_SUM, exclusive, xa, ya, NULL));
                ASSERT_OK(weft_array_read(ya, 0, n, got));
                for (size_t k = 0; k < n; k++) {
                    double v = f64 ? got[k] : (double)((float *)got)[k];
                    size_t before = exclusive ? k : k + 1; /* elements summed */
                    double want =
                        before <= zeros ? (exclusive ? 0.0 : -0.0) : (double)(before - zeros);
                    if (v != want || signbit(v) != signbit(want))
                        fail_msg("%s %s n=%zu: y[%zu] = %g, want %g", weft_dtype_name(t),
                                 exclusive ? "exclusive" : "inclusive", n, k, v, want);
                }
                weft_array_free(xa);
                weft_array_free(ya);
                free(x);
                free(got);
            }
}

static void test_scans(void **state)
{
    (void)state;
    static const size_t scan_sizes[] = {0, 1, 4095, 4096, 4097, 100003};
    static const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32};
    static const weft_reduce_op ops[] = {WEFT_SUM, WEFT_MIN, WEFT_MAX};
    for (size_t s = 0; s < 6; s++)
        for (size_t ti = 0; ti < 3; ti++)
            for (size_t oi = 0; oi < 3; oi++)
                for (int exclusive = 0; exclusive <= 1; exclusive++) {
                    size_t n = scan_sizes[s];
                    weft_dtype t = types[ti];
                    size_t elem = weft_dtype_size(t);
                    void *x = malloc(n * elem + 8), *want = malloc(n * elem + 8),
                         *got = malloc(n * elem + 8);
                    fill(x, t, n, n + ti * 3 + oi);
                    if (t == WEFT_F32 && n > 100) ((float *)x)[n / 2] = NAN;
                    reference_scan(x, want, t, n, ops[oi], exclusive);
                    weft_array *xa, *ya;
                    ASSERT_OK(weft_array_from(ctx, t, n, x, &xa));
                    ASSERT_OK(weft_array_create(ctx, t, n, &ya));
                    ASSERT_OK(weft_scan(ctx, ops[oi], exclusive, xa, ya, NULL));
                    ASSERT_OK(weft_array_read(ya, 0, n, got));
                    int ok = t == WEFT_F32   ? same_floats(got, want, n)
                             : t == WEFT_F64 ? same_doubles(got, want, n)
                                             : same_bits(got, want, n * elem);
                    if (!ok && t == WEFT_I32)
                        for (size_t k = 0; k < n && k < 3; k++)
                            print_message("k=%zu got %d want %d x %d\n", k, ((int32_t *)got)[k],
                                          ((int32_t *)want)[k], ((int32_t *)x)[k]);
                    if (!ok)
                        fail_msg("scan %s op %d excl %d n=%zu", weft_dtype_name(t), ops[oi],
                                 exclusive, n);
                    /* in place gives the same */
                    ASSERT_OK(weft_scan(ctx, ops[oi], exclusive, xa, xa, NULL));
                    ASSERT_OK(weft_array_read(xa, 0, n, got));
                    ok = t == WEFT_F32   ? same_floats(got, want, n)
                         : t == WEFT_F64 ? same_doubles(got, want, n)
                                         : same_bits(got, want, n * elem);
                    if (!ok)
                        fail_msg("in-place scan %s op %d excl %d n=%zu", weft_dtype_name(t),
                                 ops[oi], exclusive, n);
                    weft_array_free(xa);
                    weft_array_free(ya);
                    free(x);
                    free(want);
                    free(got);
                }
    weft_array *f, *g, *h;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &f));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 10, &g));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 11, &h));
    assert_int_equal(weft_scan(ctx, WEFT_PROD, 0, f, f, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_scan(ctx, WEFT_SUM, 0, f, g, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_scan(ctx, WEFT_SUM, 0, f, h, NULL), WEFT_ERR_SIZE);
    weft_array_free(f);
    weft_array_free(g);
    weft_array_free(h);
}

/* Same bits whatever the split and thread count. */
static void test_reproducible_across_splits(void **state)
{
    (void)state;
    enum { N = 300007 };
    float *x = malloc(N * 4), *scan0 = malloc(N * 4), *scan = malloc(N * 4);
    fill_f32(x, N, 3);
    for (int k = 0; k < N; k += 5)
        x[k] *= 1e7f;
    size_t ndev;
    weft_device_count(ctx, &ndev);
    double given[3][8] = {
        {1, 1, 1, 1, 1, 1, 1, 1}, {0, 1, 3, 1, 1, 1, 1, 1}, {1, 0, 0, 0, 0, 0, 0, 0}};
    double first_dot = 0;
    for (int w = 0; w < 3; w++) {
        weft_options o = test_options();
        o.weights = WEFT_WEIGHTS_GIVEN;
        o.given = given[w];
        o.given_count = ndev;
        o.num_threads = w + 1;
        weft_ctx *c = test_ctx_with(&o);
        weft_array *a, *s;
        ASSERT_OK(weft_array_from(c, WEFT_F32, N, x, &a));
        ASSERT_OK(weft_array_create(c, WEFT_F32, N, &s));
        weft_bind b[] = {weft_bind_array("x", a)};
        weft_scalar r;
        ASSERT_OK(weft_reduce_expr(c, WEFT_SUM, "x * x - 3 * x", b, 1, &r, NULL));
        if (w == 0) first_dot = r.value.f64;
        assert_true(same_bits(&r.value.f64, &first_dot, 8));
        ASSERT_OK(weft_scan(c, WEFT_SUM, 0, a, s, NULL));
        ASSERT_OK(weft_array_read(s, 0, N, w == 0 ? scan0 : scan));
        if (w > 0) assert_true(same_bits(scan, scan0, N * 4));
        weft_array_free(a);
        weft_array_free(s);
        weft_ctx_free(c);
    }
    free(x);
    free(scan0);
    free(scan);
}

/* weft_mean is weft_reduce(WEFT_SUM) divided by n once, at the end: the same
 * bits as that division in the caller, on every setup; integers sum exactly. */
static void test_mean(void **state)
{
    (void)state;
    enum { N = 100003 };
    float *xf = malloc(N * sizeof *xf);
    int32_t *xi = malloc(N * sizeof *xi);
    fill_f32(xf, N, 7);
    for (int i = 0; i < N; i++)
        xi[i] = i % 2 ? -i : 3 * i;
    weft_array *af, *ai, *empty;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, xf, &af));
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, N, xi, &ai));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 0, &empty));
    weft_scalar sum;
    double mean = 0, sum_i = 0;
    ASSERT_OK(weft_reduce(ctx, WEFT_SUM, af, &sum, NULL));
    ASSERT_OK(weft_mean(ctx, af, &mean, NULL));
    double want = sum.value.f64 / N;
    assert_true(same_bits(&mean, &want, sizeof mean));
    for (int i = 0; i < N; i++)
        sum_i += xi[i];
    weft_future *f;
    ASSERT_OK(weft_mean(ctx, ai, &mean, &f)); /* asynchronous: written on completion */
    ASSERT_OK(weft_future_wait(f));
    weft_future_release(f);
    want = sum_i / N;
    assert_true(same_bits(&mean, &want, sizeof mean));
    assert_int_equal(weft_mean(ctx, empty, &mean, NULL), WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "empty"));
    assert_int_equal(weft_mean(ctx, af, NULL, NULL), WEFT_ERR_NULL);
    weft_array_free(af);
    weft_array_free(ai);
    weft_array_free(empty);
    free(xf);
    free(xi);
}

/* The mean of 64-bit integers whose sum leaves 64 bits (nanosecond
 * timestamps, ids): the exact sum, rounded to double once, divided by n, as
 * the plain loop in 128 bits gives; also when a device wrote the values and
 * overflowed blocks sit among blocks that did not. */
static void test_mean_of_integers_past_64_bits(void **state)
{
    (void)state;
    static const size_t ns[] = {3, 6, 4097, 3 * WEFT_SUM_BLOCK + 5};
    for (size_t s = 0; s < sizeof ns / sizeof ns[0]; s++) {
        size_t n = ns[s];
        int64_t *xi = malloc(n * sizeof *xi);
        uint64_t *xu = malloc(n * sizeof *xu);
        assert_non_null(xi);
        assert_non_null(xu);
        uint64_t z = 0x9e3779b97f4a7c15ull * (s + 1);
        for (size_t k = 0; k < n; k++) {
            z ^= z << 13, z ^= z >> 7, z ^= z << 17;
            int big = (k / WEFT_SUM_BLOCK) % 2 == 0; /* odd blocks stay small */
            xi[k] = big ? (int64_t)(1700000000000000000ll + (int64_t)(z % 1000000007u))
                        : (int64_t)(z % 2001) - 1000;
            if (k % 5 == 4 && big) xi[k] = INT64_MIN + (int64_t)(z % 97); /* both signs */
            xu[k] = big ? UINT64_MAX - (z % 1000003u) : z % 3001;
        }
        __int128 si = 0;
        unsigned __int128 su = 0;
        for (size_t k = 0; k < n; k++)
            si += xi[k], su += xu[k];
        double want_i = (double)si / (double)n, want_u = (double)su / (double)n;
        weft_array *ai, *au;
        ASSERT_OK(weft_array_from(ctx, WEFT_I64, n, xi, &ai));
        ASSERT_OK(weft_array_from(ctx, WEFT_U64, n, xu, &au));
        /* x - 0 written by the devices: the host copy is stale where they copy */
        weft_bind bi = weft_bind_array("x", ai), bu = weft_bind_array("x", au);
        ASSERT_OK(weft_map(ctx, "x = x - 0", &bi, 1, NULL));
        ASSERT_OK(weft_map(ctx, "x = x - 0", &bu, 1, NULL));
        double mi = 0, mu = 0;
        ASSERT_OK(weft_mean(ctx, ai, &mi, NULL));
        ASSERT_OK(weft_mean(ctx, au, &mu, NULL));
        assert_true(same_bits(&mi, &want_i, sizeof mi));
        assert_true(same_bits(&mu, &want_u, sizeof mu));
        /* the exact integer sum itself cannot be a 64-bit scalar: still refused */
        weft_scalar sum;
        assert_int_equal(weft_reduce(ctx, WEFT_SUM, au, &sum, NULL), WEFT_ERR_RANGE);
        weft_array_free(ai);
        weft_array_free(au);
        free(xi);
        free(xu);
    }
}

/* Each block's own result (weft_reduce_expr_blocks, for weft::mpi) against
 * weft_reduce_expr over a wrapped view of that block alone, bit for bit,
 * for every op, on float and integer data that overflows in one block. */
static void test_block_results_match_blocks_alone(void **state)
{
    (void)state;
    enum { BLOCKS = 5, N = BLOCKS * WEFT_SUM_BLOCK - 77 };
    float *xf = malloc(N * sizeof *xf);
    int64_t *xi = malloc(N * sizeof *xi);
    assert_non_null(xf);
    assert_non_null(xi);
    for (size_t i = 0; i < N; i++) {
        xf[i] = (float)((int)(i * 2654435761u % 2001) - 1000) / 7.0f;
        xi[i] = (int64_t)(i * 40503u % 1000);
    }
    xf[WEFT_SUM_BLOCK + 5] = -0.0f;
    xi[2 * WEFT_SUM_BLOCK + 1] = xi[2 * WEFT_SUM_BLOCK + 2] = INT64_MAX; /* block 2 overflows */
    weft_array *af, *ai;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, xf, &af));
    ASSERT_OK(weft_array_from(ctx, WEFT_I64, N, xi, &ai));
    static const weft_reduce_op ops[] = {WEFT_SUM,    WEFT_PROD,   WEFT_MIN, WEFT_MAX,
                                         WEFT_ARGMIN, WEFT_ARGMAX, WEFT_ANY, WEFT_ALL};
    weft_scalar blocks[BLOCKS];
    uint8_t overflowed[BLOCKS];
    for (int integer = 0; integer < 2; integer++) {
        weft_array *a = integer ? ai : af;
        char *host = integer ? (char *)xi : (char *)xf;
        size_t size = integer ? sizeof *xi : sizeof *xf;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            weft_bind bind = weft_bind_array("x", a);
            ASSERT_OK(
                weft_reduce_expr_blocks(ctx, ops[k], "x", &bind, 1, blocks, overflowed, BLOCKS));
            for (size_t b = 0; b < BLOCKS; b++) {
                size_t first = b * WEFT_SUM_BLOCK,
                       count = N - first < WEFT_SUM_BLOCK ? N - first : WEFT_SUM_BLOCK;
                weft_array *view;
                ASSERT_OK(weft_array_from(ctx, integer ? WEFT_I64 : WEFT_F32, count,
                                          host + first * size, &view));
                weft_bind one = weft_bind_array("x", view);
                weft_scalar alone;
                weft_status st = weft_reduce_expr(ctx, ops[k], "x", &one, 1, &alone, NULL);
                if (st == WEFT_ERR_RANGE) {
                    assert_int_equal(overflowed[b], 1);
                } else {
                    ASSERT_OK(st);
                    assert_int_equal(overflowed[b], 0);
                    assert_int_equal(blocks[b].dtype, alone.dtype);
                    if (memcmp(&blocks[b].value, &alone.value, sizeof alone.value) != 0)
                        fail_msg("op %d, %s, block %zu: not the block's own result", (int)ops[k],
                                 integer ? "i64" : "f32", b);
                    assert_int_equal(blocks[b].index, alone.index);
                }
                weft_array_free(view);
            }
        }
    }
    weft_bind bind = weft_bind_array("x", af);
    assert_int_equal(
        weft_reduce_expr_blocks(ctx, WEFT_SUM, "x", &bind, 1, blocks, overflowed, BLOCKS - 1),
        WEFT_ERR_SIZE);
    weft_array_free(af);
    weft_array_free(ai);
    free(xf);
    free(xi);
}

/* A prepared reduction (kept by weft::mpi per array) gives the blocks of
 * the plain call, and fits only the names, kinds and dtypes it was made
 * for: another dtype, name or kind is refused, never run by the wrong code. */
static void test_prepared_blocks_match_and_fit_only_their_bindings(void **state)
{
    (void)state;
    enum { BLOCKS = 3, N = BLOCKS * WEFT_SUM_BLOCK - 5 };
    float *xf = malloc(N * sizeof *xf);
    double *xd = malloc(N * sizeof *xd);
    assert_non_null(xf);
    assert_non_null(xd);
    for (size_t i = 0; i < N; i++)
        xd[i] = xf[i] = (float)((int)(i * 2654435761u % 2001) - 1000) / 7.0f;
    weft_array *af, *ad;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, xf, &af));
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, N, xd, &ad));
    weft_bind binds[2] = {weft_bind_array("x", af), weft_bind_f64("a", 0.5)};
    const weft_reduce_prepared *p = NULL;
    ASSERT_OK(weft_reduce_blocks_prepare(ctx, WEFT_ARGMAX, "x * a", binds, 2, &p));
    weft_scalar plain[BLOCKS], prepared[BLOCKS];
    uint8_t plain_over[BLOCKS], prepared_over[BLOCKS];
    ASSERT_OK(
        weft_reduce_expr_blocks(ctx, WEFT_ARGMAX, "x * a", binds, 2, plain, plain_over, BLOCKS));
    ASSERT_OK(weft_reduce_expr_blocks_prepared(ctx, p, binds, 2, prepared, prepared_over, BLOCKS));
    for (size_t b = 0; b < BLOCKS; b++) {
        assert_int_equal(prepared[b].dtype, plain[b].dtype);
        assert_memory_equal(&prepared[b].value, &plain[b].value, sizeof plain[b].value);
        assert_int_equal(prepared[b].index, plain[b].index);
        assert_int_equal(prepared_over[b], plain_over[b]);
    }
    assert_true(weft_reduce_prepared_fits(p, binds, 2));
    weft_bind other[2] = {weft_bind_array("x", ad), weft_bind_f64("a", 0.5)}; /* f64 array */
    assert_false(weft_reduce_prepared_fits(p, other, 2));
    assert_int_equal(
        weft_reduce_expr_blocks_prepared(ctx, p, other, 2, prepared, prepared_over, BLOCKS),
        WEFT_ERR_INVALID_ARG);
    other[0] = binds[0];
    other[1] = weft_bind_i32("a", 2); /* an i32 scalar */
    assert_false(weft_reduce_prepared_fits(p, other, 2));
    other[1] = weft_bind_f64("b", 0.5); /* another name */
    assert_false(weft_reduce_prepared_fits(p, other, 2));
    assert_false(weft_reduce_prepared_fits(p, binds, 1));
    weft_array_free(af);
    weft_array_free(ad);
    free(xf);
    free(xd);
}

/* A context placed by the cost model (the default options: the tests'
 * small_elements = 0 pins the static split), where a reduction of one block
 * whose data the host holds runs on its caller. */
static weft_ctx *model_ctx(void)
{
    weft_options o;
    weft_options_init(&o);
    return test_ctx_with(&o);
}

/* Value and index alike; a NaN is a NaN (its sign and payload are the
 * device's, here the pool's or PoCL's). */
static int same_result(const weft_scalar *a, const weft_scalar *b)
{
    double fa = weft_scalar_as_double(a), fb = weft_scalar_as_double(b);
    int floats = a->dtype == WEFT_F32 || a->dtype == WEFT_F64;
    if (floats && isnan(fa)) return isnan(fb) && a->index == b->index;
    return memcmp(&a->value, &b->value, sizeof a->value) == 0 && a->index == b->index;
}

/* The caller's inline path gives the bits of the general one (the tests'
 * context: pieces over every device), value and index, for every op and
 * dtype, on random data and NaN, -0.0, ties, at sizes up to one block. */
static void test_small_reduction_bits_match_general_path(void **state)
{
    (void)state;
    weft_ctx *fast = model_ctx();
    static const size_t small[] = {1, 2, 17, 1000, 4095, 4096};
    static const weft_reduce_op ops[] = {WEFT_SUM,    WEFT_PROD,   WEFT_MIN, WEFT_MAX,
                                         WEFT_ARGMIN, WEFT_ARGMAX, WEFT_ANY, WEFT_ALL};
    void *x = malloc(4096 * 8);
    assert_non_null(x);
    for (int t = 0; t < WEFT_DTYPE_COUNT; t++)
        for (size_t s = 0; s < sizeof small / sizeof small[0]; s++) {
            size_t n = small[s];
            fill(x, (weft_dtype)t, n, 77 + n);
            if (t == WEFT_F32 && n > 3) ((float *)x)[n / 2] = NAN, ((float *)x)[1] = -0.0f;
            if (t == WEFT_F64 && n > 3) ((double *)x)[n - 1] = -0.0, ((double *)x)[2] = 0.0;
            weft_array *a, *b;
            ASSERT_OK(weft_array_from(fast, (weft_dtype)t, n, x, &a));
            ASSERT_OK(weft_array_from(ctx, (weft_dtype)t, n, x, &b));
            for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
                weft_scalar got, want;
                weft_status sg = weft_reduce(fast, ops[k], a, &got, NULL);
                weft_status sw = weft_reduce(ctx, ops[k], b, &want, NULL);
                assert_int_equal(sg, sw);
                if (sw != WEFT_OK) continue; /* an integer product or sum out of range */
                assert_int_equal(got.dtype, want.dtype);
                if (!same_result(&got, &want))
                    fail_msg("%s, n %zu, op %d: not the general path's bits",
                             weft_dtype_name((weft_dtype)t), n, (int)ops[k]);
            }
            weft_array_free(a);
            weft_array_free(b);
        }
    free(x);
    ASSERT_OK(weft_ctx_free(fast));
}

/* Only where the host holds the data current and nothing keeps the
 * reduction off the pool: after a copying device wrote the array the host's
 * stale copy must not be summed, and a hint naming a device is kept. Where
 * no device copies, nothing is stale. */
static void test_small_reduction_follows_residency_and_hints(void **state)
{
    (void)state;
    weft_ctx *c = model_ctx();
    size_t dev = 0, ndev = 0;
    weft_device_count(c, &ndev);
    for (size_t d = 1; d < ndev && dev == 0; d++) {
        weft_device_info info;
        weft_device_get_info(c, d, &info);
        if (info.selected && !info.zero_copy) dev = d;
    }
    if (dev == 0) {
        ASSERT_OK(weft_ctx_free(c));
        skip();
    }
    enum { N = 1000 };
    float x[N];
    double want = 0.0;
    for (size_t i = 0; i < N; i++)
        x[i] = (float)((int)(i * 2654435761u % 2001) - 1000) / 8.0f;
    weft_array *ax, *ay;
    ASSERT_OK(weft_array_from(c, WEFT_F32, N, x, &ax));
    ASSERT_OK(weft_array_create(c, WEFT_F32, N, &ay));
    ASSERT_OK(weft_ctx_place(c, "y = x * 4", WEFT_PLACE_DEVICE(dev)));
    weft_bind b[] = {weft_bind_array("x", ax), weft_bind_array("y", ay)};
    ASSERT_OK(weft_map(c, "y = x * 4", b, 2, NULL)); /* current on dev alone */
    weft_scalar got;
    ASSERT_OK(weft_reduce(c, WEFT_SUM, ay, &got, NULL));
    for (size_t i = 0; i < N; i++)
        want += x[i] * 4.0f; /* multiples of 1/2 well inside 2^53: exact in any order */
    assert_true(got.value.f64 == want);
    /* A tiny map on the pool, then a reduction hinted to dev alone. */
    ASSERT_OK(weft_map(c, "y = x * 2", b, 2, NULL));
    ASSERT_OK(weft_ctx_place(c, "x - 1", WEFT_PLACE_DEVICE(dev)));
    ASSERT_OK(weft_reduce_expr(c, WEFT_SUM, "x - 1", b, 1, &got, NULL));
    weft_piece_report p[4];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(c, p, 4, &count));
    assert_true(count > 0 && p[0].device == dev);
    weft_array_free(ax);
    weft_array_free(ay);
    ASSERT_OK(weft_ctx_free(c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_every_dtype),
        cmocka_unit_test(test_fused_dot_count_norm),
        cmocka_unit_test(test_special_values_and_empty),
        cmocka_unit_test(test_scans),
        cmocka_unit_test(test_scans_of_signed_zeros),
        cmocka_unit_test(test_reproducible_across_splits),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_mean_of_integers_past_64_bits),
        cmocka_unit_test(test_block_results_match_blocks_alone),
        cmocka_unit_test(test_prepared_blocks_match_and_fit_only_their_bindings),
        cmocka_unit_test(test_small_reduction_bits_match_general_path),
        cmocka_unit_test(test_small_reduction_follows_residency_and_hints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
