/* Defects an adversarial review found in the expression language, each
 * pinned down: forged cache keys, reductions that write, signalling NaNs,
 * literals rounded twice, and the documented limits. Every check runs on the
 * host pool (a "host" context) and on the setup's devices (small_elements 0,
 * so OpenCL devices really launch). */
#include "common.h"

#include <float.h>

static weft_ctx *ctx, *host;

static int setup(void **state)
{
    (void)state;
    ctx = test_ctx();
    weft_options o = test_options();
    o.devices = "host";
    host = test_ctx_with(&o);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    weft_ctx_free(host);
    return 0;
}

#define EACH_CTX(c) for (weft_ctx *const *c = (weft_ctx *const[]){ctx, host, NULL}; *c; c++)

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A name that is not an identifier is refused before it can make a cache
 * key: "y:1a x" once produced the key of "y" bound to an f64 array, so the
 * program compiled for f64 ran on an f32 array (heap overflow). */
static void test_forged_binding_name_is_refused(void **state)
{
    (void)state;
    enum { N = 100 };
    EACH_CTX(c)
    {
        weft_array *x32, *y32, *x64, *y64;
        ASSERT_OK(weft_array_create(*c, WEFT_F32, N, &x32));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, N, &y32));
        ASSERT_OK(weft_array_create(*c, WEFT_F64, N, &x64));
        ASSERT_OK(weft_array_create(*c, WEFT_F64, N, &y64));
        double ones[N];
        for (int i = 0; i < N; i++)
            ones[i] = 1.5;
        ASSERT_OK(weft_array_write(x64, 0, N, ones));
        /* The honest compile: y (f64) = x (f32) * 2. Its key once read
         * "...|y:1a x:0a ", which the single f32 binding "y:1a x" spelled too. */
        weft_bind honest[] = {weft_bind_array("y", y64), weft_bind_array("x", x32)};
        ASSERT_OK(weft_map(*c, "y = x * 2", honest, 2, NULL));
        weft_bind forgery[] = {weft_bind_array("y:1a x", y32)};
        weft_status st = weft_map(*c, "y = x * 2", forgery, 1, NULL);
        if (st != WEFT_ERR_INVALID_ARG || !strstr(weft_last_error(), "not a valid name"))
            fail_msg("forged key: %s: %s", weft_status_str(st), weft_last_error());
        /* Other names that are not identifiers. */
        static const char *const forged[] = {"y:1a", "x ", "y|", "1y", "", "y\n", "y:1a x:0a"};
        for (size_t f = 0; f < sizeof forged / sizeof forged[0]; f++) {
            weft_bind b[] = {weft_bind_array(forged[f], y32), weft_bind_array("x", x32)};
            st = weft_map(*c, "y = x * 2", b, 2, NULL);
            if (st != WEFT_ERR_INVALID_ARG || !strstr(weft_last_error(), "not a valid name"))
                fail_msg("name \"%s\": %s: %s", forged[f], weft_status_str(st), weft_last_error());
        }
        /* The same text with other dtypes is a compile of its own. */
        weft_bind mixed[] = {weft_bind_array("y", y32), weft_bind_array("x", x64)};
        ASSERT_OK(weft_map(*c, "y = x * 2", mixed, 2, NULL));
        float got[N];
        ASSERT_OK(weft_array_read(y32, 0, N, got));
        for (int i = 0; i < N; i++)
            assert_true(got[i] == 3.0f);
        weft_bind nul[] = {{0}};
        nul[0] = weft_bind_array("x", x32);
        nul[0].name = NULL;
        assert_int_equal(weft_map(*c, "x = 1", nul, 1, NULL), WEFT_ERR_NULL);
        weft_array_free(x32);
        weft_array_free(y32);
        weft_array_free(x64);
        weft_array_free(y64);
    }
}

/* A reduction only reads: an assignment to a bound array is refused at its
 * column, whatever the size (it once wrote the input on the pool only). */
static void test_reduction_cannot_assign_to_an_array(void **state)
{
    (void)state;
    static const size_t sizes[] = {100, 100000};
    EACH_CTX(c)
    for (size_t s = 0; s < 2; s++) {
        size_t n = sizes[s];
        float *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = (float)i;
        weft_array *x;
        ASSERT_OK(weft_array_from(*c, WEFT_F32, n, v, &x));
        weft_bind b[] = {weft_bind_array("x", x)};
        weft_scalar out;
        weft_status st = weft_reduce_expr(*c, WEFT_SUM, "x = x * 2; x", b, 1, &out, NULL);
        if (st != WEFT_ERR_EXPR || !strstr(weft_last_error(), "cannot assign to the bound array") ||
            !strstr(weft_last_error(), "at column 1"))
            fail_msg("n=%zu: %s: %s", n, weft_status_str(st), weft_last_error());
        st = weft_reduce_expr(*c, WEFT_MAX, "t = 1; x = t", b, 1, &out, NULL);
        if (st != WEFT_ERR_EXPR || !strstr(weft_last_error(), "at column 8"))
            fail_msg("n=%zu: %s: %s", n, weft_status_str(st), weft_last_error());
        /* Temporaries are fine, and the input is untouched. */
        ASSERT_OK(weft_reduce_expr(*c, WEFT_MAX, "t = x * 2; t", b, 1, &out, NULL));
        assert_true(out.value.f32 == (float)(n - 1) * 2);
        float *back = malloc(n * sizeof *back);
        ASSERT_OK(weft_array_read(x, 0, n, back));
        assert_memory_equal(back, v, n * sizeof *v);
        free(back);
        free(v);
        weft_array_free(x);
    }
}

/* Signalling and quiet NaNs of both signs, every payload class. */
static const uint32_t nan_bits[] = {0x7f800001u, 0x7fa00000u, 0x7fbfffffu, 0xff800001u,
                                    0xffbfffffu, 0x7fc00000u, 0xffc00000u, 0x7fffffffu};
enum { NNAN = sizeof nan_bits / sizeof nan_bits[0] };

/* Float to u8 of any NaN is 0; min and max with one NaN give the number, as
 * documented, on the pool and on the devices alike. */
static void test_signalling_nans_follow_the_documented_rules(void **state)
{
    (void)state;
    EACH_CTX(c)
    {
        float x[NNAN];
        for (int k = 0; k < NNAN; k++)
            x[k] = f32_of(nan_bits[k]);
        weft_array *xa, *u, *mn, *mx, *cl, *i32;
        ASSERT_OK(weft_array_from(*c, WEFT_F32, NNAN, x, &xa));
        ASSERT_OK(weft_array_create(*c, WEFT_U8, NNAN, &u));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, NNAN, &mn));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, NNAN, &mx));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, NNAN, &cl));
        ASSERT_OK(weft_array_create(*c, WEFT_I32, NNAN, &i32));
        weft_bind b[] = {weft_bind_array("x", xa),  weft_bind_array("u", u),
                         weft_bind_array("mn", mn), weft_bind_array("mx", mx),
                         weft_bind_array("cl", cl), weft_bind_array("k", i32)};
        ASSERT_OK(weft_map(*c,
                           "u = x; mn = min(x, 1.5f) + fmin(-2, x); mx = max(7, x) + fmax(x, 1);"
                           "cl = clamp(x, -1, 3); k = (uchar)x + (int)x",
                           b, 6, NULL));
        uint8_t gu[NNAN];
        float gmn[NNAN], gmx[NNAN], gcl[NNAN];
        int32_t gk[NNAN];
        ASSERT_OK(weft_array_read(u, 0, NNAN, gu));
        ASSERT_OK(weft_array_read(mn, 0, NNAN, gmn));
        ASSERT_OK(weft_array_read(mx, 0, NNAN, gmx));
        ASSERT_OK(weft_array_read(cl, 0, NNAN, gcl));
        ASSERT_OK(weft_array_read(i32, 0, NNAN, gk));
        for (int k = 0; k < NNAN; k++) {
            if (gu[k] != 0 || gmn[k] != -0.5f || gmx[k] != 8.0f || gcl[k] != -1.0f || gk[k] != 0)
                fail_msg("%s, NaN 0x%08x: u8 %d min %a max %a clamp %a int %d",
                         *c == host ? "pool" : "devices", nan_bits[k], gu[k], (double)gmn[k],
                         (double)gmx[k], (double)gcl[k], gk[k]);
        }
        weft_array *arrays[] = {xa, u, mn, mx, cl, i32};
        for (size_t a = 0; a < 6; a++)
            weft_array_free(arrays[a]);
    }
}

/* Runs "o = ..." over every pair of special values f, g on c into out. */
static void run_pairs(weft_ctx *c, const char *expr, const double *f, const double *g, size_t n,
                      double *out)
{
    weft_array *fa, *ga, *oa;
    ASSERT_OK(weft_array_from(c, WEFT_F64, n, f, &fa));
    ASSERT_OK(weft_array_from(c, WEFT_F64, n, g, &ga));
    ASSERT_OK(weft_array_create(c, WEFT_F64, n, &oa));
    weft_bind b[] = {weft_bind_array("f", fa), weft_bind_array("g", ga), weft_bind_array("o", oa)};
    ASSERT_OK(weft_map(c, expr, b, 3, NULL));
    ASSERT_OK(weft_array_read(oa, 0, n, out));
    weft_array_free(fa);
    weft_array_free(ga);
    weft_array_free(oa);
}

/* docs/expressions.md, "NaN signs": over NaNs of both signs, infinities,
 * signed zeros and extremes, the pool and the devices agree on which results
 * are NaN and on every other result's bits (the C reference's too); a NaN's
 * sign may differ, and `t != t ? fabs(t) : t` makes it agree. */
static void test_nan_results_agree_but_for_their_sign(void **state)
{
    (void)state;
    volatile double zero = 0.0, inf = INFINITY;
    const double special[] = {zero * inf, NAN,  -NAN, INFINITY, -INFINITY, 0.0,   -0.0,
                              1.0,        -1.0, 2.5,  DBL_MAX,  -DBL_MIN,  5e-324};
    enum { S = sizeof special / sizeof special[0], N = S * S };
    double f[N], g[N], want[N], pool[N], dev[N];
    for (size_t i = 0; i < N; i++) {
        f[i] = special[i / S];
        g[i] = special[i % S];
    }
    static const char *const exprs[] = {"f * -1", "-f * 2", "-(f * g)", "-f + g",  "f + g",
                                        "g * f",  "f - g",  "f / g",    "sqrt(f)", "fmod(f, g)"};
    for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
        for (size_t i = 0; i < N; i++) {
            volatile double x = f[i], y = g[i];
            const double r[] = {x * -1, -x * 2, -(x * y), -x + y,  x + y,
                                y * x,  x - y,  x / y,    sqrt(x), fmod(x, y)};
            want[i] = r[e];
        }
        char plain[64], canonical[96];
        snprintf(plain, sizeof plain, "o = %s", exprs[e]);
        snprintf(canonical, sizeof canonical, "t = %s; o = t != t ? fabs(t) : t", exprs[e]);
        run_pairs(host, plain, f, g, N, pool);
        run_pairs(ctx, plain, f, g, N, dev);
        for (size_t i = 0; i < N; i++) {
            int same = same_bits(&pool[i], &want[i], 8) && same_bits(&dev[i], &want[i], 8);
            if (!same && !(isnan(want[i]) && isnan(pool[i]) && isnan(dev[i])))
                fail_msg("%s, f = %a, g = %a: pool %a, devices %a, C %a", plain, f[i], g[i],
                         pool[i], dev[i], want[i]);
        }
        run_pairs(host, canonical, f, g, N, pool);
        run_pairs(ctx, canonical, f, g, N, dev);
        if (!same_bits(pool, dev, sizeof pool))
            for (size_t i = 0; i < N; i++)
                if (!same_bits(&pool[i], &dev[i], 8))
                    fail_msg("%s, f = %a, g = %a: pool %a, devices %a", canonical, f[i], g[i],
                             pool[i], dev[i]);
    }
}

/* min and max order -0.0 below +0.0, on floats as in the reductions. */
static void test_min_max_of_signed_zeros(void **state)
{
    (void)state;
    EACH_CTX(c)
    {
        float x[] = {-0.0f, 0.0f, -0.0f, 0.0f};
        float z[] = {0.0f, -0.0f, -0.0f, 0.0f};
        weft_array *xa, *za, *mn, *mx;
        ASSERT_OK(weft_array_from(*c, WEFT_F32, 4, x, &xa));
        ASSERT_OK(weft_array_from(*c, WEFT_F32, 4, z, &za));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, 4, &mn));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, 4, &mx));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("z", za),
                         weft_bind_array("mn", mn), weft_bind_array("mx", mx)};
        ASSERT_OK(weft_map(*c, "mn = min(x, z); mx = max(x, z)", b, 4, NULL));
        float gmn[4], gmx[4];
        ASSERT_OK(weft_array_read(mn, 0, 4, gmn));
        ASSERT_OK(weft_array_read(mx, 0, 4, gmx));
        for (int k = 0; k < 4; k++) {
            int both_neg = signbit(x[k]) && signbit(z[k]), any_neg = signbit(x[k]) || signbit(z[k]);
            if (gmn[k] != 0 || !signbit(gmn[k]) != !any_neg || !signbit(gmx[k]) != !both_neg)
                fail_msg("%s: min/max(%a, %a) = %a, %a", *c == host ? "pool" : "devices",
                         (double)x[k], (double)z[k], (double)gmn[k], (double)gmx[k]);
        }
        weft_array *arrays[] = {xa, za, mn, mx};
        for (size_t a = 0; a < 4; a++)
            weft_array_free(arrays[a]);
    }
}

/* An integer literal becomes f32 with one rounding, as C converts it. */
static void test_integer_literals_round_once_to_f32(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        float want;
    } cases[] = {
        {"y = (float)1152921573326323713", (float)1152921573326323713LL},
        {"y = 1152921573326323713 + x", (float)1152921573326323713LL},
        {"y = (float)-1152921573326323713", (float)-1152921573326323713LL},
        {"y = (float)18446743798831644673", (float)18446743798831644673ULL},
        {"y = 16777217 + x", 16777216.0f},
    };
    EACH_CTX(c)
    {
        weft_array *x, *y;
        ASSERT_OK(weft_array_create(*c, WEFT_F32, 3, &x));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, 3, &y));
        float zero[3] = {0, 0, 0};
        ASSERT_OK(weft_array_write(x, 0, 3, zero));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            ASSERT_OK(weft_map(*c, cases[k].text, b, 2, NULL));
            float got[3];
            ASSERT_OK(weft_array_read(y, 0, 3, got));
            if (f32_bits(got[0]) != f32_bits(cases[k].want))
                fail_msg("%s: \"%s\" gives %a, C gives %a", *c == host ? "pool" : "devices",
                         cases[k].text, (double)got[0], (double)cases[k].want);
        }
        assert_true(f32_bits(cases[0].want) == f32_bits(0x1.000002p+60f));
        weft_array_free(x);
        weft_array_free(y);
    }
}

static char *repeat(const char *head, const char *part, int count, const char *tail)
{
    size_t len = strlen(head) + strlen(part) * (size_t)count + strlen(tail) + 1;
    char *s = malloc(len);
    strcpy(s, head);
    char *p = s + strlen(s);
    for (int i = 0; i < count; i++) {
        strcpy(p, part);
        p += strlen(part);
    }
    strcpy(p, tail);
    return s;
}

/* The documented limits hold exactly: 256 statements and 200 nested
 * parentheses work, one more is refused with a true message at its column;
 * long chains work (registers are reused). */
static void test_documented_limits(void **state)
{
    (void)state;
    enum { N = 1000 };
    EACH_CTX(c)
    {
        weft_array *x, *y;
        ASSERT_OK(weft_array_create(*c, WEFT_F64, N, &x));
        ASSERT_OK(weft_array_create(*c, WEFT_F64, N, &y));
        double ones[N];
        for (int i = 0; i < N; i++)
            ones[i] = 1;
        ASSERT_OK(weft_array_write(x, 0, N, ones));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        double got[N];

        /* 256 statements, each with its own constant. */
        char *text = malloc(256 * 32);
        char *p = text;
        p += sprintf(p, "t = x");
        for (int s = 1; s < 255; s++)
            p += sprintf(p, "; t = t + %d", s);
        strcpy(p, "; y = t");
        ASSERT_OK(weft_map(*c, text, b, 2, NULL));
        ASSERT_OK(weft_array_read(y, 0, N, got));
        assert_true(got[N - 1] == 1 + 254.0 * 255 / 2);
        strcpy(p, "; t = t; y = t");
        weft_status st = weft_map(*c, text, b, 2, NULL);
        if (st != WEFT_ERR_EXPR ||
            !strstr(weft_last_error(), "too many statements (more than 256)"))
            fail_msg("257 statements: %s", weft_last_error());
        free(text);

        /* 200 nested parentheses work, 201 do not. */
        char *open = repeat("y = ", "(x + ", 200, "x");
        char *deep = repeat(open, ")", 200, "");
        ASSERT_OK(weft_map(*c, deep, b, 2, NULL));
        ASSERT_OK(weft_array_read(y, 0, N, got));
        assert_true(got[0] == 201);
        free(open);
        free(deep);
        open = repeat("y = ", "(", 201, "x");
        deep = repeat(open, ")", 201, "");
        st = weft_map(*c, deep, b, 2, NULL);
        if (st != WEFT_ERR_EXPR || !strstr(weft_last_error(), "more than 200 nested") ||
            !strstr(weft_last_error(), "at column 205"))
            fail_msg("201 parentheses: %s", weft_last_error());
        free(open);
        free(deep);

        /* Chains far longer than the register file. */
        static const char *const parts[] = {" + x", " * x", " - (x + 1)", " + (double)(float)x"};
        for (size_t k = 0; k < 4; k++) {
            char *chain = repeat("y = x", parts[k], 1000, "");
            ASSERT_OK(weft_map(*c, chain, b, 2, NULL));
            free(chain);
        }
        char *chain = repeat("y = x", " + x", 4000, "");
        ASSERT_OK(weft_map(*c, chain, b, 2, NULL));
        ASSERT_OK(weft_array_read(y, 0, N, got));
        assert_true(got[7] == 4001);
        free(chain);
        /* ... on the devices themselves, not through a fallback. */
        weft_piece_report pieces[8];
        size_t npieces = 0;
        ASSERT_OK(weft_ctx_last_pieces(*c, pieces, 8, &npieces));
        for (size_t k = 0; k < npieces; k++)
            assert_int_equal(pieces[k].fell_back, 0);

        /* Values all live at once beyond the register file: refused with the
         * limit and the column where it ran out. */
        text = malloc(256 * 32);
        p = text;
        for (int s = 0; s < 254; s++)
            p += sprintf(p, "t%d = x * %d; ", s, s);
        p += sprintf(p, "y = t0");
        for (int s = 1; s < 254; s++)
            p += sprintf(p, " + t%d", s);
        st = weft_map(*c, text, b, 2, NULL);
        if (st != WEFT_ERR_EXPR ||
            !strstr(weft_last_error(), "more than 250 values live at once") ||
            !strstr(weft_last_error(), "at column"))
            fail_msg("254 live values: %s", weft_last_error());
        free(text);
        weft_array_free(x);
        weft_array_free(y);
    }
}

/* Register reuse keeps every value that is still read: renamed values
 * ("z = y") live as long as their new name, and only the last assignment to an
 * array is stored. */
static void test_register_reuse_keeps_live_values(void **state)
{
    (void)state;
    enum { N = 1500 }; /* three VM blocks */
    EACH_CTX(c)
    {
        float xv[N];
        for (int i = 0; i < N; i++)
            xv[i] = (float)i;
        weft_array *x, *y, *z;
        ASSERT_OK(weft_array_from(*c, WEFT_F32, N, xv, &x));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, N, &y));
        ASSERT_OK(weft_array_create(*c, WEFT_F32, N, &z));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_array("z", z)};
        /* w - w is 0: w stays live to the end without changing z (an unread
         * temporary is an error). */
        ASSERT_OK(weft_map(*c,
                           "y = x + 1; z = y; t = x * 2; u = t; y = u + x; v = 7; w = v - u; "
                           "z = z + (w - w)",
                           b, 3, NULL));
        float gy[N], gz[N];
        ASSERT_OK(weft_array_read(y, 0, N, gy));
        ASSERT_OK(weft_array_read(z, 0, N, gz));
        for (int i = 0; i < N; i++)
            if (gy[i] != xv[i] * 3 || gz[i] != xv[i] + 1)
                fail_msg("%s, element %d: y %g z %g", *c == host ? "pool" : "devices", i,
                         (double)gy[i], (double)gz[i]);
        weft_array_free(x);
        weft_array_free(y);
        weft_array_free(z);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forged_binding_name_is_refused),
        cmocka_unit_test(test_reduction_cannot_assign_to_an_array),
        cmocka_unit_test(test_signalling_nans_follow_the_documented_rules),
        cmocka_unit_test(test_min_max_of_signed_zeros),
        cmocka_unit_test(test_nan_results_agree_but_for_their_sign),
        cmocka_unit_test(test_integer_literals_round_once_to_f32),
        cmocka_unit_test(test_documented_limits),
        cmocka_unit_test(test_register_reuse_keeps_live_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
