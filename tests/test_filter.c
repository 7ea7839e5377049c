/* weft_filter against a plain loop: the kept elements in order and their
 * count, on random and adversarial data (none kept, all kept, every other,
 * only the first or the last, NaN, -0.0), sizes around powers of two,
 * outputs of each element size (1, 4, 8 bytes), one with no room to spare. */
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

static void check(weft_ctx *c, size_t n, int pattern, double t)
{
    double *x = malloc((n + 1) * sizeof *x);
    int32_t *id = malloc((n + 1) * sizeof *id);
    uint8_t *tag = malloc(n + 1);
    uint64_t seed = n + (uint64_t)pattern;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        x[i] = (double)(r >> 11) / 9007199254740992.0 * 2 - 1;
        if (pattern == 1) x[i] = -1;                /* none kept */
        if (pattern == 2) x[i] = 1;                 /* all kept */
        if (pattern == 3 && r % 5 == 0) x[i] = NAN; /* NaN compares false */
        if (pattern == 3 && r % 5 == 1) x[i] = -0.0;
        if (pattern == 4) x[i] = i % 2 ? 1 : -1;            /* every other */
        if (pattern == 5) x[i] = i + 1 == n ? 1 : -1;       /* the last alone */
        if (pattern == 6) x[i] = i == 0 || i == 1 ? 1 : -1; /* the first two */
        id[i] = (int32_t)i;
        tag[i] = (uint8_t)(r >> 40);
    }
    /* reference: x > t && tag != 7 */
    size_t want = 0;
    int32_t *want_id = malloc((n + 1) * sizeof *want_id);
    double *want_x = malloc((n + 1) * sizeof *want_x);
    uint8_t *want_tag = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (x[i] > t && tag[i] != 7) {
            want_id[want] = id[i];
            want_tag[want] = tag[i];
            want_x[want++] = x[i];
        }
    weft_array *xa, *ia, *ta, *oi, *ox, *ot;
    ASSERT_OK(weft_array_from(c, WEFT_F64, n, x, &xa));
    ASSERT_OK(weft_array_from(c, WEFT_I32, n, id, &ia));
    ASSERT_OK(weft_array_from(c, WEFT_U8, n, tag, &ta));
    ASSERT_OK(weft_array_create(c, WEFT_I32, want, &oi)); /* 4 bytes: the AVX2 stores */
    ASSERT_OK(weft_array_create(c, WEFT_F64, n + 3, &ox));
    ASSERT_OK(weft_array_create(c, WEFT_U8, want, &ot)); /* no room to spare either */
    weft_bind binds[] = {weft_bind_array("x", xa), weft_bind_array("tag", ta),
                         weft_bind_f64("t", t)};
    weft_array *inputs[] = {ia, xa, ta}, *outputs[] = {oi, ox, ot};
    size_t count = 777;
    weft_future *f;
    ASSERT_OK(weft_filter(c, "x > t && tag != 7", binds, 3, inputs, outputs, 3, &count, &f));
    ASSERT_OK(weft_future_wait(f));
    weft_future_release(f);
    assert_int_equal(count, want);
    int32_t *got_id = malloc((want + 1) * sizeof *got_id);
    double *got_x = malloc((want + 1) * sizeof *got_x);
    ASSERT_OK(weft_array_read(oi, 0, want, got_id));
    ASSERT_OK(weft_array_read(ox, 0, want, got_x));
    assert_true(same_bits(got_id, want_id, want * sizeof *got_id));
    assert_true(same_bits(got_x, want_x, want * sizeof *got_x));
    uint8_t *got_tag = malloc(want + 1);
    ASSERT_OK(weft_array_read(ot, 0, want, got_tag));
    assert_true(same_bits(got_tag, want_tag, want));
    free(got_tag);
    free(want_tag);
    /* a float condition: non-zero keeps, NaN included, -0.0 not */
    size_t want2 = 0;
    for (size_t i = 0; i < n; i++)
        want2 += x[i] != 0;
    ASSERT_OK(weft_filter(c, "x", binds, 1, NULL, NULL, 0, &count, NULL));
    assert_int_equal(count, want2);
    weft_array_free(xa);
    weft_array_free(ia);
    weft_array_free(ta);
    weft_array_free(oi);
    weft_array_free(ox);
    weft_array_free(ot);
    free(x);
    free(id);
    free(tag);
    free(want_id);
    free(want_x);
    free(got_id);
    free(got_x);
}

static void test_against_loop(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 16383, 16385, 300007};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int p = 0; p < 7; p++)
            check((s + (size_t)p) % 2 ? ctx1 : ctx, sizes[s], p, p == 0 ? 0.25 : 0.0);
}

static void test_errors(void **state)
{
    (void)state;
    weft_array *x, *y, *small, *i32;
    double v[4] = {1, 2, 3, 4};
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 4, v, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 4, &y));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 2, &small));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 4, &i32));
    weft_bind b[] = {weft_bind_array("x", x)};
    size_t count = 5;
    weft_array *in[] = {x}, *out_small[] = {small}, *out_x[] = {x}, *out_i32[] = {i32};
    assert_int_equal(weft_filter(ctx, "x > 1", b, 1, in, out_small, 1, &count, NULL),
                     WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "3 elements kept"));
    assert_int_equal(count, 5);
    assert_int_equal(weft_filter(ctx, "x >", b, 1, in, out_small, 1, &count, NULL), WEFT_ERR_EXPR);
    /* in the user's text, not the statement the condition is wrapped in */
    assert_non_null(strstr(weft_last_error(), "at column 4\n  x >\n"));
    assert_int_equal(weft_filter(ctx, "x = 1", b, 1, in, out_small, 1, &count, NULL),
                     WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "assigns (=) at column 3; compare with =="));
    assert_int_equal(weft_filter(ctx, "x > 1", b, 1, in, out_x, 1, &count, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_filter(ctx, "x > 1", b, 1, in, out_i32, 1, &count, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_filter(ctx, "x > 1", b, 1, in, NULL, 1, &count, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_filter(ctx, NULL, b, 1, in, out_small, 1, &count, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_filter(ctx, "x > 1", b, 1, in, out_small, 1, NULL, NULL), WEFT_ERR_NULL);
    weft_array *out_y[] = {y};
    ASSERT_OK(weft_filter(ctx, "x > 1", b, 1, in, out_y, 1, &count, NULL));
    assert_int_equal(count, 3);
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(small);
    weft_array_free(i32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_loop),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
