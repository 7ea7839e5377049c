/* Aliasing (docs/RELIABILITY.md, round 2): one array bound twice is in-place
 * work and allowed; two arrays over overlapping memory (wrapped pointers into
 * one buffer) are refused by every operation, with an error naming both, and
 * the memory is left as it was. */
#include "common.h"
#include "../src/api/testing.h"

enum { N = 50000 }; /* above the small-array threshold: devices take part */

typedef struct wrapped {
    weft_ctx *ctx;
    float *buffer; /* N + 8 floats */
    float *before;
    weft_array *x, *y;
} wrapped;

/* x wraps buffer, y wraps buffer + shift (both N elements). */
static wrapped wrap_pair(size_t shift)
{
    wrapped w;
    w.ctx = test_ctx();
    w.buffer = malloc((N + 8) * sizeof(float));
    w.before = malloc((N + 8) * sizeof(float));
    fill_f32(w.buffer, N + 8, 17 + shift);
    memcpy(w.before, w.buffer, (N + 8) * sizeof(float));
    ASSERT_OK(weft_array_wrap(w.ctx, WEFT_F32, N, w.buffer, &w.x));
    ASSERT_OK(weft_array_wrap(w.ctx, WEFT_F32, N, w.buffer + shift, &w.y));
    return w;
}

static void unwrap(wrapped *w)
{
    weft_array_free(w->x);
    weft_array_free(w->y);
    weft_ctx_free(w->ctx);
    free(w->buffer);
    free(w->before);
}

static void assert_refused(weft_status st, const char *first, const char *second)
{
    if (st != WEFT_ERR_INVALID_ARG)
        fail_msg("%s (%s), want WEFT_ERR_INVALID_ARG", weft_status_str(st), weft_last_error());
    const char *why = weft_last_error();
    char a[64], b[64];
    snprintf(a, sizeof a, "\"%s\"", first);
    snprintf(b, sizeof b, "\"%s\"", second);
    if (!strstr(why, a) || !strstr(why, b) || !strstr(why, "overlapping"))
        fail_msg("\"%s\" does not name %s and %s", why, a, b);
}

static void assert_untouched(wrapped *w)
{
    ASSERT_OK(weft_ctx_finish(w->ctx));
    assert_true(same_bits(w->buffer, w->before, (N + 8) * sizeof(float)));
}

static void test_overlapping_arrays_are_refused_everywhere(void **state)
{
    (void)state;
    static const size_t shifts[] = {1, 0, 7};
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        wrapped w = wrap_pair(shifts[s]);
        weft_bind xy[] = {weft_bind_array("x", w.x), weft_bind_array("y", w.y)};
        assert_refused(weft_map(w.ctx, "y = x", xy, 2, NULL), "x", "y");
        assert_refused(weft_scan(w.ctx, WEFT_SUM, 0, w.x, w.y, NULL), "x", "y");
        assert_refused(weft_axpy(w.ctx, 2.0, w.x, w.y, NULL), "x", "y");
        /* A scalar between them does not hide the overlap. */
        weft_bind yax[] = {weft_bind_array("out", w.y), weft_bind_f32("a", 2.0f),
                           weft_bind_array("in", w.x)};
        assert_refused(weft_map(w.ctx, "out = a * in", yax, 3, NULL), "out", "in");
        assert_untouched(&w);
        unwrap(&w);
    }
}

static void test_overlapping_launch_arguments_are_refused(void **state)
{
    (void)state;
    wrapped w = wrap_pair(3);
    weft_program *p;
    ASSERT_OK(weft_program_build(
        w.ctx,
        "__kernel void copy(__global const float *x, float k, __global float *y)\n"
        "{ size_t i = get_global_id(0); y[i] = x[i] * k; }\n",
        NULL, &p));
    weft_arg args[] = {weft_arg_slice(w.x), weft_arg_f32(1.0f), weft_arg_slice(w.y)};
    weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
    assert_refused(weft_launch(p, "copy", &r, args, 3, NULL, NULL, NULL), "argument 0",
                   "argument 2");
    weft_arg whole[] = {weft_arg_whole(w.x), weft_arg_f32(1.0f), weft_arg_slice(w.y)};
    assert_refused(weft_launch(p, "copy", &r, whole, 3, NULL, NULL, NULL), "argument 0",
                   "argument 2");
    assert_untouched(&w);
    weft_program_free(p);
    unwrap(&w);
}

/* Overlapping arrays that the operation only reads (numpy's b[1:] - b[:-1],
 * a stencil's shifted views) cannot race: they were refused as
 * overlapping all the same. Reads are accepted, with the one-array bits. */
static void test_overlapping_arrays_only_read_are_accepted(void **state)
{
    (void)state;
    static const size_t shifts[] = {1, 0, 7};
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        wrapped w = wrap_pair(shifts[s]);
        weft_array *z;
        ASSERT_OK(weft_array_create(w.ctx, WEFT_F32, N, &z));
        weft_bind xyz[] = {weft_bind_array("x", w.x), weft_bind_array("y", w.y),
                           weft_bind_array("z", z)};
        ASSERT_OK(weft_map(w.ctx, "z = y - x", xyz, 3, NULL));
        float *got = malloc(N * sizeof(float));
        ASSERT_OK(weft_array_read(z, 0, N, got));
        double want_sum = 0;
        for (size_t i = 0; i < N; i++) {
            float want = w.before[i + shifts[s]] - w.before[i];
            if (!same_bits(&got[i], &want, sizeof want))
                fail_msg("shift %zu: element %zu", shifts[s], i);
            want_sum += (double)w.before[i + shifts[s]] * (double)w.before[i];
        }
        weft_scalar out;
        ASSERT_OK(weft_reduce_expr(w.ctx, WEFT_SUM, "x * y", xyz, 2, &out, NULL));
        double got_sum = out.dtype == WEFT_F32 ? out.value.f32 : out.value.f64;
        assert_true(fabs(got_sum - want_sum) <= 1e-5 * fabs(want_sum) + 1e-5);
        free(got);
        assert_untouched(&w);
        weft_array_free(z);
        unwrap(&w);
    }
}

/* Arrays that only touch (y starts where x ends) are independent. */
static void test_adjacent_arrays_are_accepted(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    float *buffer = malloc(2 * N * sizeof(float)), *want = malloc(N * sizeof(float));
    fill_f32(buffer, 2 * N, 5);
    for (size_t i = 0; i < N; i++)
        want[i] = buffer[i] * 3.0f;
    weft_array *x, *y;
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, N, buffer, &x));
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, N, buffer + N, &y));
    weft_bind xy[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    ASSERT_OK(weft_map(ctx, "y = x * 3", xy, 2, NULL));
    ASSERT_OK(weft_array_sync(y));
    ASSERT_OK(weft_array_sync(x));
    assert_true(same_floats(buffer + N, want, N));
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
    free(buffer);
    free(want);
}

/* One array under two names, or as both scan arguments, is in-place work. */
static void test_one_array_bound_twice_is_accepted(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    float *x = malloc(N * sizeof(float)), *got = malloc(N * sizeof(float));
    fill_f32(x, N, 9);
    weft_array *a;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &a));
    weft_bind twice[] = {weft_bind_array("x", a), weft_bind_array("y", a)};
    ASSERT_OK(weft_map(ctx, "y = x + 1", twice, 2, NULL));
    ASSERT_OK(weft_array_read(a, 0, N, got));
    for (size_t i = 0; i < N; i++)
        assert_true(got[i] == x[i] + 1.0f);
    ASSERT_OK(weft_scan(ctx, WEFT_MAX, 0, a, a, NULL));
    ASSERT_OK(weft_array_read(a, 0, N, got));
    float running = -INFINITY;
    for (size_t i = 0; i < N; i++) {
        running = fmaxf(running, x[i] + 1.0f);
        assert_true(got[i] == running);
    }
    weft_array_free(a);
    weft_ctx_free(ctx);
    free(x);
    free(got);
}

/* Each live wrap is marked overlapping exactly when another live wrap of its
 * context overlaps its memory, as wraps come and go in random order: many
 * rows of one buffer (adjacent, never overlapping), windows across them,
 * empty wraps, and wraps of another context over the same memory. */
static void test_wraps_know_which_overlap(void **state)
{
    (void)state;
    enum { ROWS = 300, ROW = 16, LIVE = 400 };
    float *buffer = calloc(ROWS * ROW + ROW, sizeof *buffer);
    assert_non_null(buffer);
    weft_ctx *ctx[2] = {test_ctx(), test_ctx()};
    struct {
        weft_array *a;
        int ctx;
        size_t at, n;
    } live[LIVE];
    size_t nlive = 0;
    uint64_t z = 88172645463325252ull;
    for (int step = 0; step < 1500; step++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        if (nlive < LIVE && (nlive == 0 || z % 3)) {
            int kind = (int)(z >> 8) % 8, c = (int)(z >> 16) % 4 == 0;
            size_t row = (z >> 20) % ROWS;
            size_t at = row * ROW, n = ROW;                                  /* a row */
            if (kind == 0) at += (z >> 40) % ROW, n = (z >> 32) % (3 * ROW); /* a window */
            if (kind == 1) n = 0;
            ASSERT_OK(weft_array_wrap(ctx[c], WEFT_F32, n, buffer + at, &live[nlive].a));
            live[nlive].ctx = c, live[nlive].at = at, live[nlive].n = n;
            nlive++;
        } else {
            size_t k = (z >> 24) % nlive;
            weft_array_free(live[k].a);
            live[k] = live[--nlive];
        }
        for (size_t i = 0; i < nlive; i++) {
            int want = 0;
            for (size_t j = 0; j < nlive && !want; j++)
                want = j != i && live[j].ctx == live[i].ctx &&
                       live[i].at < live[j].at + live[j].n && live[j].at < live[i].at + live[i].n;
            if (weft_testing_wrap_overlaps(live[i].a) != want)
                fail_msg("step %d: wrap at %zu of %zu elements: marked %d, overlaps %d", step,
                         live[i].at, live[i].n, !want, want);
        }
    }
    while (nlive)
        weft_array_free(live[--nlive].a);
    weft_ctx_free(ctx[0]);
    weft_ctx_free(ctx[1]);
    free(buffer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapping_arrays_are_refused_everywhere),
        cmocka_unit_test(test_overlapping_launch_arguments_are_refused),
        cmocka_unit_test(test_wraps_know_which_overlap),
        cmocka_unit_test(test_overlapping_arrays_only_read_are_accepted),
        cmocka_unit_test(test_adjacent_arrays_are_accepted),
        cmocka_unit_test(test_one_array_bound_twice_is_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
