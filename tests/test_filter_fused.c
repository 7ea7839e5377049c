/* weft_filter's conditions that skip the expression VM (comparisons of an
 * array with a constant or another array, and && / || of them) against a
 * plain C loop: every array dtype it takes (f32, f64, f32 against an f64
 * scalar, i32, u32, u8 as i32 and as u32, i64, u64), every comparison, the
 * constant on either side, NaN, -0.0, infinities and integer extremes, sizes
 * around its 64-element words and the parts they are split into, outputs
 * of 1, 4 and 8 bytes. A condition of five comparisons (the VM again) and
 * one the VM alone takes are checked the same way. */
#include "common.h"
#include "../src/ops/filter_fused.h"

#include <float.h>
#include <limits.h>

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

enum { MAXN = 70000 };
static float xf[MAXN], yf[MAXN];
static double xd[MAXN];
static int32_t xi[MAXN], yi[MAXN];
static uint32_t xu[MAXN];
static uint8_t xb[MAXN];
static int64_t xl[MAXN];
static uint64_t xq[MAXN];
static const double T = 0.1;            /* f64 scalar t */
static const uint32_t S = 200;          /* u32 scalar s */
static const uint64_t K = 1ull << 63;   /* u64 scalar k */
static const int64_t J = -5000000000ll; /* i64 scalar j */

typedef struct cond {
    const char *text;
    int (*keep)(size_t i);
} cond;

#define COND(name, expr)                                                                           \
    static int name(size_t i)                                                                      \
    {                                                                                              \
        return (expr);                                                                             \
    }
COND(f_gt, xf[i] > 0.25f)
COND(f_lit, xf[i] <= 0.1f) /* a weak literal: compared as f32 */
COND(f_left, 0.5f < xf[i])
COND(f_ne, xf[i] != yf[i])
COND(f_eq, xf[i] == yf[i])
COND(f_t, (double)xf[i] > T) /* an f64 scalar: x compared as f64 */
COND(d_lt, xd[i] < T)
COND(d_ge, xd[i] >= -0.0)
COND(i_ge, xi[i] >= -3)
COND(i_lt_arr, xi[i] < yi[i])
COND(u_gt, xu[i] > 3000000000u)
COND(u_le, xu[i] <= 7u)
COND(b_eq, xb[i] == 7)
COND(b_lt_s, (uint32_t)xb[i] < S)
COND(l_lt, xl[i] < J)
COND(l_ne, xl[i] != 0)
COND(q_ge, xq[i] >= K)
COND(q_eq, xq[i] == 5)
COND(mix3, (xf[i] > 0 && xi[i] < 100) || xb[i] == 3)
COND(mix4, (xf[i] > 0 || xd[i] < 0) && (xb[i] != 1 && xu[i] > 5))
COND(or_nan, xf[i] < 0 || xf[i] != xf[i])
COND(five, xf[i] > 0 && xi[i] < 100 && xb[i] != 3 && xu[i] > 5 && xd[i] < 0.5)
COND(vm_only, xf[i] * 2 > 1)

static const cond conds[] = {
    {"xf > 0.25", f_gt},
    {"xf <= 0.1", f_lit},
    {"0.5 < xf", f_left},
    {"xf != yf", f_ne},
    {"xf == yf", f_eq},
    {"xf > t", f_t},
    {"xd < t", d_lt},
    {"xd >= -0.0", d_ge},
    {"xi >= -3", i_ge},
    {"xi < yi", i_lt_arr},
    {"xu > 3000000000", u_gt},
    {"7 >= xu", u_le},
    {"xb == 7", b_eq},
    {"xb < s", b_lt_s},
    {"xl < j", l_lt},
    {"xl != 0", l_ne},
    {"xq >= k", q_ge},
    {"xq == 5", q_eq},
    {"xf > 0 && xi < 100 || xb == 3", mix3},
    {"(xf > 0 || xd < 0) && (xb != 1 && xu > 5)", mix4},
    {"xf < 0 || xf != xf", or_nan},
    {"xf > 0 && xi < 100 && xb != 3 && xu > 5 && xd < 0.5", five},
    {"xf * 2 > 1", vm_only},
};

static void fill(size_t n, uint64_t seed)
{
    static const float special[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 0.25f, 0.5f, 0.1f};
    static const int32_t ints[] = {INT32_MIN, INT32_MAX, -3, -4, 0, 100, 99, 7};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed), r2 = test_rng(&seed);
        float u = (float)((double)(r >> 40) / 16777216.0 * 2 - 1);
        xf[i] = r % 7 == 0 ? special[(r >> 3) % 8] : u;
        yf[i] = r2 % 3 == 0 ? xf[i] : r2 % 11 == 0 ? NAN : (float)((double)(r2 >> 40) / 16777216.0);
        xd[i] = r % 9 == 0 ? (double)special[(r >> 5) % 8] : (double)u + 1e-12;
        if (r % 13 == 0) xd[i] = 0.1; /* t itself */
        xi[i] = r % 5 == 0 ? ints[(r >> 7) % 8] : (int32_t)(r >> 33) - (1 << 30);
        yi[i] = r2 % 4 == 0 ? xi[i] : (int32_t)(r2 >> 32);
        xu[i] = r % 6 == 0 ? (uint32_t)ints[(r >> 9) % 8] : (uint32_t)(r >> 32);
        if (r % 17 == 0) xu[i] = 3000000000u;
        xb[i] = (uint8_t)(r % 4 == 0 ? (r >> 11) % 8 : r >> 50);
        xl[i] = r % 8 == 0 ? J + (int64_t)((r >> 13) % 3) - 1 : (int64_t)r2;
        if (r % 19 == 0) xl[i] = 0;
        xq[i] = r % 10 == 0 ? K - 1 + (r >> 20) % 3 : r2;
        if (r % 23 == 0) xq[i] = 5;
    }
}

/* room: outputs hold n (the one-pass copy), else just what is kept. */
static void check(weft_ctx *c, size_t n, const cond *cd, int room)
{
    weft_array *a[9];
    ASSERT_OK(weft_array_from(c, WEFT_F32, n, xf, &a[0]));
    ASSERT_OK(weft_array_from(c, WEFT_F32, n, yf, &a[1]));
    ASSERT_OK(weft_array_from(c, WEFT_F64, n, xd, &a[2]));
    ASSERT_OK(weft_array_from(c, WEFT_I32, n, xi, &a[3]));
    ASSERT_OK(weft_array_from(c, WEFT_I32, n, yi, &a[4]));
    ASSERT_OK(weft_array_from(c, WEFT_U32, n, xu, &a[5]));
    ASSERT_OK(weft_array_from(c, WEFT_U8, n, xb, &a[6]));
    ASSERT_OK(weft_array_from(c, WEFT_I64, n, xl, &a[7]));
    ASSERT_OK(weft_array_from(c, WEFT_U64, n, xq, &a[8]));
    weft_bind binds[] = {
        weft_bind_array("xf", a[0]), weft_bind_array("yf", a[1]), weft_bind_array("xd", a[2]),
        weft_bind_array("xi", a[3]), weft_bind_array("yi", a[4]), weft_bind_array("xu", a[5]),
        weft_bind_array("xb", a[6]), weft_bind_array("xl", a[7]), weft_bind_array("xq", a[8]),
        weft_bind_f64("t", T),       weft_bind_u32("s", S),       weft_bind_u64("k", K),
        weft_bind_i64("j", J)};
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += (size_t)cd->keep(i);
    /* outputs of 4, 8 and 1 bytes */
    weft_array *out[3];
    size_t cap = room ? n : want;
    ASSERT_OK(weft_array_create(c, WEFT_F32, cap, &out[0]));
    ASSERT_OK(weft_array_create(c, WEFT_I64, cap, &out[1]));
    ASSERT_OK(weft_array_create(c, WEFT_U8, cap, &out[2]));
    weft_array *in[3] = {a[0], a[7], a[6]};
    size_t count = 12345;
    ASSERT_OK(
        weft_filter(c, cd->text, binds, sizeof binds / sizeof *binds, in, out, 3, &count, NULL));
    if (count != want)
        fail_msg("\"%s\" n=%zu room %d: kept %zu, want %zu", cd->text, n, room, count, want);
    float *gf = malloc((want + 1) * 4), *wf = malloc((want + 1) * 4);
    int64_t *gl = malloc((want + 1) * 8), *wl = malloc((want + 1) * 8);
    uint8_t *gb = malloc(want + 1), *wb = malloc(want + 1);
    for (size_t i = 0, k = 0; i < n; i++)
        if (cd->keep(i)) {
            wf[k] = xf[i];
            wl[k] = xl[i];
            wb[k++] = xb[i];
        }
    ASSERT_OK(weft_array_read(out[0], 0, want, gf));
    ASSERT_OK(weft_array_read(out[1], 0, want, gl));
    ASSERT_OK(weft_array_read(out[2], 0, want, gb));
    if (!same_bits(gf, wf, want * 4) || !same_bits(gl, wl, want * 8) || !same_bits(gb, wb, want))
        fail_msg("\"%s\" n=%zu room %d: not the loop's elements", cd->text, n, room);
    for (int k = 0; k < 9; k++)
        weft_array_free(a[k]);
    for (int k = 0; k < 3; k++)
        weft_array_free(out[k]);
    free(gf);
    free(wf);
    free(gl);
    free(wl);
    free(gb);
    free(wb);
}

static void test_fused_conditions(void **state)
{
    (void)state;
    /* words of 64; parts of 16384 and more (rounded up to whole words) */
    const size_t sizes[] = {0, 1, 63, 64, 65, 127, 129, 16383, 16384, 16385, 32769, 65537};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        fill(sizes[s], 1000 + sizes[s]);
        for (size_t k = 0; k < sizeof conds / sizeof *conds; k++) {
            check((s + k) % 3 ? ctx : ctx1, sizes[s], &conds[k], 0);
            check((s + k) % 3 ? ctx1 : ctx, sizes[s], &conds[k], 1);
        }
    }
}

/* One pass with every part late (copied after the pass), and
 * with every part waiting as long as it takes: the same elements. */
static void test_one_pass_late(void **state)
{
    (void)state;
    double was = weft_filter_late_s;
    const double lates[] = {-1.0, 60.0};
    const size_t sizes[] = {16385, 49153, 65537};
    for (size_t l = 0; l < 2; l++) {
        weft_filter_late_s = lates[l];
        for (size_t s = 0; s < 3; s++) {
            fill(sizes[s], 77 + sizes[s]);
            check(ctx, sizes[s], &conds[0], 1);
            check(ctx, sizes[s], &conds[18], 1);
        }
    }
    weft_filter_late_s = was;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_conditions),
        cmocka_unit_test(test_one_pass_late),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
