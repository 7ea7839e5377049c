/* weft_reduce_by_key and weft_group_by against plain C: runs found by a
 * loop, groups by binary search over the sorted distinct keys, each group's
 * values folded in input order (float sums in double, rounded once). */
#include "common.h"

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

static const size_t sizes[] = {0, 1, 2, 3, 255, 257, 16383, 16385, 100003};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Folds v into the accumulator of group g (first: g's first value). */
static void fold(int op, weft_dtype vt, double *acc_f, int64_t *acc_i, int first, double vf,
                 int64_t vi)
{
    if (op == WEFT_COUNT) {
        *acc_i += 1;
        return;
    }
    if (op == WEFT_SUM) {
        if (vt == WEFT_F32 || vt == WEFT_F64)
            *acc_f = (first ? 0.0 : *acc_f) + vf;
        else
            *acc_i = (int64_t)((uint64_t)(first ? 0 : *acc_i) + (uint64_t)vi);
        return;
    }
    int min = op == WEFT_MIN;
    if (vt == WEFT_F32 || vt == WEFT_F64) {
        /* NaN wins; -0.0 below +0.0 */
        double a = *acc_f;
        int take = first ||
                   (!isnan(a) &&
                    (isnan(vf) || (min ? vf < a : vf > a) ||
                     (vf == a && (min ? signbit(vf) && !signbit(a) : !signbit(vf) && signbit(a)))));
        if (take) *acc_f = vf;
    } else if (first || (min ? vi < *acc_i : vi > *acc_i)) {
        *acc_i = vi;
    }
}

static void check(weft_ctx *c, int op, weft_dtype kt, weft_dtype vt, size_t n, int pattern,
                  int grouped)
{
    int64_t *k64 = malloc((n + 1) * 8);
    double *vf = malloc((n + 1) * 8);
    int64_t *vi = malloc((n + 1) * 8);
    uint64_t seed = n * 13 + (uint64_t)pattern;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        /* 0-3: a narrow range (group-by's table); 4: a wide one (its sort) */
        int64_t k = pattern == 0   ? (int64_t)(r % 50) - 20
                    : pattern == 1 ? 7
                    : pattern == 2 ? (int64_t)(i / 3)
                    : pattern == 3 ? (int64_t)((n - i) / 5)
                                   : (int64_t)(r % 1000) * 1000003 - 500000000;
        if (kt == WEFT_U32 || kt == WEFT_U64 || kt == WEFT_U8) k = k < 0 ? -k : k;
        if (kt == WEFT_U8) k %= 256;
        k64[i] = k;
        double u = (double)(r >> 11) / 9007199254740992.0;
        vf[i] = (u - 0.3) * 1e6 * (i % 7 ? 1 : 1e-7);
        if (r % 97 == 0) vf[i] = NAN;
        if (r % 89 == 0) vf[i] = -0.0;
        if (vt == WEFT_F32) vf[i] = (float)vf[i];
        vi[i] = (int64_t)(r % 2000000) - 1000000;
        if (vt == WEFT_U32) vi[i] = (int64_t)(r % 4000000000u);
    }
    if (grouped && pattern == 0) { /* reference needs the groups only; keys stay unsorted */
    }
    size_t ks = weft_dtype_size(kt), vs = weft_dtype_size(vt);
    void *keys = malloc(n * ks + 8), *vals = malloc(n * vs + 8);
    for (size_t i = 0; i < n; i++) {
        memcpy((char *)keys + i * ks, &k64[i], ks); /* little-endian low bytes */
        if (vt == WEFT_F32) ((float *)vals)[i] = (float)vf[i];
        if (vt == WEFT_F64) ((double *)vals)[i] = vf[i];
        if (vt == WEFT_I64) ((int64_t *)vals)[i] = vi[i];
        if (vt == WEFT_U32) ((uint32_t *)vals)[i] = (uint32_t)vi[i];
        if (vt == WEFT_I32) ((int32_t *)vals)[i] = (int32_t)vi[i];
    }
    /* reference groups: runs, or distinct keys (sorted) */
    int64_t *gk = malloc((n + 1) * 8);
    size_t groups = 0;
    size_t *group_of = malloc((n + 1) * sizeof *group_of);
    if (grouped) {
        int64_t *sorted = malloc((n + 1) * 8);
        for (size_t i = 0; i < n; i++) {
            int64_t k = 0;
            memcpy(&k, (char *)keys + i * ks, ks);
            if ((kt == WEFT_I32) && (k & 0x80000000)) k |= (int64_t)0xffffffff00000000ull;
            sorted[i] = k;
        }
        qsort(sorted, n, 8, cmp_i64);
        for (size_t i = 0; i < n; i++)
            if (i == 0 || sorted[i] != sorted[i - 1]) gk[groups++] = sorted[i];
        for (size_t i = 0; i < n; i++) {
            int64_t *at = bsearch(&sorted[0], gk, groups, 8, cmp_i64);
            int64_t k = 0;
            memcpy(&k, (char *)keys + i * ks, ks);
            if ((kt == WEFT_I32) && (k & 0x80000000)) k |= (int64_t)0xffffffff00000000ull;
            at = bsearch(&k, gk, groups, 8, cmp_i64);
            group_of[i] = (size_t)(at - gk);
        }
        free(sorted);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || memcmp((char *)keys + i * ks, (char *)keys + (i - 1) * ks, ks) != 0) {
                int64_t k = 0;
                memcpy(&k, (char *)keys + i * ks, ks);
                gk[groups++] = k;
            }
            group_of[i] = groups - 1;
        }
    }
    double *af = calloc(groups + 1, 8);
    int64_t *ai = calloc(groups + 1, 8);
    char *seen = calloc(groups + 1, 1);
    for (size_t i = 0; i < n; i++) {
        size_t g = group_of[i];
        double v = vt == WEFT_F32 || vt == WEFT_F64 ? vf[i] : 0;
        int64_t w = vt == WEFT_U32 ? (int64_t)(uint32_t)vi[i] : vi[i];
        fold(op, vt, &af[g], &ai[g], !seen[g], v, w);
        seen[g] = 1;
    }
    weft_dtype ot = op == WEFT_COUNT ? WEFT_U64 : vt;
    size_t os = weft_dtype_size(ot);
    void *want = calloc(groups + 1, os);
    for (size_t g = 0; g < groups; g++) {
        if (op == WEFT_COUNT)
            ((uint64_t *)want)[g] = (uint64_t)ai[g];
        else if (vt == WEFT_F32)
            ((float *)want)[g] = (float)af[g];
        else if (vt == WEFT_F64)
            ((double *)want)[g] = af[g];
        else
            memcpy((char *)want + g * os, &ai[g], os);
    }
    weft_array *ka, *va, *oka, *ova;
    ASSERT_OK(weft_array_from(c, kt, n, keys, &ka));
    ASSERT_OK(weft_array_from(c, vt, n, vals, &va));
    ASSERT_OK(weft_array_create(c, kt, n, &oka));
    ASSERT_OK(weft_array_create(c, ot, n, &ova));
    size_t count = 12345;
    weft_future *f;
    if (grouped)
        ASSERT_OK(weft_group_by(c, (weft_reduce_op)op, ka, va, oka, ova, &count, &f));
    else
        ASSERT_OK(weft_reduce_by_key(c, (weft_reduce_op)op, ka, va, oka, ova, &count, &f));
    ASSERT_OK(weft_future_wait(f));
    weft_future_release(f);
    assert_int_equal(count, groups);
    void *got_v = malloc(groups * os + 8), *got_k = malloc(groups * ks + 8);
    ASSERT_OK(weft_array_read(ova, 0, groups, got_v));
    ASSERT_OK(weft_array_read(oka, 0, groups, got_k));
    for (size_t g = 0; g < groups; g++) {
        if (memcmp((char *)got_k + g * ks, &gk[g], ks) != 0)
            fail_msg("op %d %s n=%zu pattern %d grouped %d: key of group %zu", op,
                     weft_dtype_name(kt), n, pattern, grouped, g);
        int both_nan = (vt == WEFT_F64 && op != WEFT_COUNT && isnan(((double *)got_v)[g]) &&
                        isnan(((double *)want)[g])) ||
                       (vt == WEFT_F32 && op != WEFT_COUNT && isnan(((float *)got_v)[g]) &&
                        isnan(((float *)want)[g]));
        if (!both_nan && memcmp((char *)got_v + g * os, (char *)want + g * os, os) != 0)
            fail_msg("op %d %s->%s n=%zu pattern %d grouped %d: group %zu differs", op,
                     weft_dtype_name(kt), weft_dtype_name(vt), n, pattern, grouped, g);
    }
    weft_array_free(ka);
    weft_array_free(va);
    weft_array_free(oka);
    weft_array_free(ova);
    free(k64);
    free(vf);
    free(vi);
    free(keys);
    free(vals);
    free(gk);
    free(group_of);
    free(af);
    free(ai);
    free(seen);
    free(want);
    free(got_v);
    free(got_k);
}

static void test_against_reference(void **state)
{
    (void)state;
    const int ops[] = {WEFT_SUM, WEFT_MIN, WEFT_MAX, WEFT_COUNT};
    const weft_dtype kts[] = {WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64, WEFT_U8};
    const weft_dtype vts[] = {WEFT_F32, WEFT_F64, WEFT_I64, WEFT_U32, WEFT_I32};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int o = 0; o < 4; o++)
            for (int p = 0; p < 5; p++)
                for (int grouped = 0; grouped < 2; grouped++) {
                    size_t pick = s + (size_t)o + (size_t)p;
                    check(pick % 2 ? ctx1 : ctx, ops[o], kts[pick % 5], vts[(pick / 2) % 5],
                          sizes[s], p, grouped);
                }
}

static void test_errors(void **state)
{
    (void)state;
    weft_array *k, *v, *f, *small, *ok;
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, 4, (int32_t[]){1, 2, 3, 4}, &k));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 4, &v));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 4, &f));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 3, &small));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 4, &ok));
    size_t count = 99;
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_SUM, k, v, ok, small, &count, NULL),
                     WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "4 groups"));
    assert_int_equal(count, 99);
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_PROD, k, v, ok, f, &count, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_SUM, v, v, ok, f, &count, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_SUM, k, v, ok, f, NULL, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_SUM, k, NULL, ok, f, &count, NULL),
                     WEFT_ERR_NULL);
    assert_int_equal(weft_reduce_by_key(ctx, WEFT_SUM, k, v, ok, v, &count, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_group_by(ctx, WEFT_COUNT, k, NULL, ok, f, &count, NULL), WEFT_OK);
    assert_int_equal(count, 4);
    assert_int_equal(weft_group_by(NULL, WEFT_COUNT, k, NULL, ok, f, &count, NULL), WEFT_ERR_NULL);
    weft_array_free(k);
    weft_array_free(v);
    weft_array_free(f);
    weft_array_free(small);
    weft_array_free(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
