/* The expression language: errors that point, no crash on any input, and
 * results equal to plain C on every device setup (bit for bit for arithmetic,
 * within OpenCL's ULP bounds for math builtins). */
#include "common.h"

#include <float.h>

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

typedef struct bad_case {
    const char *text;
    int column;
    const char *message;
} bad_case;

static void test_errors_point_at_the_column(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"y = a * * x", 9, "expected a value"},
        {"y = z + 1", 5, "unknown name \"z\""},
        {"y = sqrt(x, x)", 5, "sqrt takes 1 argument"},
        {"y = x % 2", 7, "% needs integer operands"},
        {"a = x", 1, "cannot assign to scalar"},
        {"t = x", 6, "no output"},
        {"y = (x + 1", 11, "expected ')'"},
        {"y = x > 0 ? 1", 14, "expected ':'"},
        {"y = x $ 2", 7, "unexpected character '$'"},
        {"y = frobnicate(x)", 5, "unknown function"},
        {"", 1, "no output"},
        {"y = 99999999999999999999", 5, "does not fit"},
        {"y = 1.2.3", 5, "malformed number"},
        {"y = x y", 7, "expected ';'"},
        {"i = x", 1, "element index"},
        {"y = x << 1.5", 7, "integer operands"},
        {"y = ~x", 5, "~ needs an integer"},
        {"y = x ^ 2", 7, "a power is pow(x, y)"},
        /* numexpr's and Python's spellings get weft's. */
        {"y = x ** 2", 8, "a power is pow(x, y)"},
        {"y = where(x > 0, x, a)", 5, "a choice is c ? a : b"},
        {"y = (x > 0) and (x < 1)", 13, "logical and is &&"},
        {"y = x > 0 or x < 1", 11, "logical or is ||"},
        {"y = not x", 5, "logical not is !"},
        {"y = True", 5, "true is 1"},
        /* The '(' is named by its column in its line (it was counted from
         * the program's start: 11 here). */
        {"z = x\ny = (x + a", 11, "the '(' at column 5"},
        {"def f(a, a) = a\ny = f(x, x)", 10, "parameter \"a\" is named twice"},
    };
    enum { N = 8 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind binds[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 2)};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        weft_status st = weft_map(ctx, cases[c].text, binds, 3, NULL);
        const char *msg = weft_last_error();
        char column[32];
        snprintf(column, sizeof column, "at column %d", cases[c].column);
        if (st != WEFT_ERR_EXPR || !strstr(msg, cases[c].message) || !strstr(msg, column) ||
            !strchr(msg, '^'))
            fail_msg("\"%s\": got %s\n%s", cases[c].text, weft_status_str(st), msg);
    }
    /* An error far into a long line is shown with the text around it, the
     * caret under it (the first 200 characters were shown, the caret at
     * their end). */
    static char long_line[40000] = "y = x";
    for (int i = 0; i < 3000; i++)
        strcat(long_line, " + x");
    strcat(long_line, " + z");
    assert_int_equal(weft_map(ctx, long_line, binds, 3, NULL), WEFT_ERR_EXPR);
    const char *shown = strchr(weft_last_error(), '\n');
    assert_non_null(shown);
    const char *caret_line = strchr(shown + 1, '\n');
    assert_non_null(caret_line);
    size_t caret = strcspn(caret_line + 1, "^");
    assert_true(caret < (size_t)(caret_line - shown - 1));
    assert_int_equal(shown[1 + caret], 'z'); /* the caret is under the unknown name */
    /* Nesting too deep is an error, not a stack overflow. */
    char deep[5000] = "y = ";
    for (int i = 0; i < 2000; i++)
        strcat(deep, "(");
    strcat(deep, "x");
    assert_int_equal(weft_map(ctx, deep, binds, 3, NULL), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "nested too deeply"));
    /* Bad bindings */
    weft_bind dup[] = {weft_bind_array("x", x), weft_bind_array("x", y)};
    assert_int_equal(weft_map(ctx, "x = 1", dup, 2, NULL), WEFT_ERR_INVALID_ARG);
    weft_bind badname[] = {weft_bind_array("2x", x)};
    assert_int_equal(weft_map(ctx, "x = 1", badname, 1, NULL), WEFT_ERR_INVALID_ARG);
    weft_bind scalars_only[] = {weft_bind_f32("a", 1)};
    assert_int_equal(weft_map(ctx, "a = 1", scalars_only, 1, NULL), WEFT_ERR_INVALID_ARG);
    weft_array *other;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N + 1, &other));
    weft_bind mismatch[] = {weft_bind_array("x", x), weft_bind_array("y", other)};
    assert_int_equal(weft_map(ctx, "y = x", mismatch, 2, NULL), WEFT_ERR_SIZE);
    assert_int_equal(weft_map(ctx, NULL, binds, 3, NULL), WEFT_ERR_NULL);
    weft_array_free(other);
    weft_array_free(x);
    weft_array_free(y);
}

/* A name assigned that is neither bound nor read later is a misspelt output:
 * an error naming it (with the bound name it differs from in case only),
 * never a silent success that leaves the output untouched. */
static void test_unread_assignment_is_an_error(void **state)
{
    (void)state;
    enum { N = 8 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind binds[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    assert_int_equal(weft_map(ctx, "x = x + 1; Y = 2 * x", binds, 2, NULL), WEFT_ERR_EXPR);
    const char *msg = weft_last_error();
    if (!strstr(msg, "\"Y\" is assigned but neither bound nor read") ||
        !strstr(msg, "did you mean the bound array \"y\"") || !strstr(msg, "at column 12"))
        fail_msg("%s", msg);
    assert_int_equal(weft_map(ctx, "t = x * 2; y = x", binds, 2, NULL), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "\"t\" is assigned but neither bound nor read"));
    /* Temporaries read later, also by a later temporary, are fine. */
    ASSERT_OK(weft_map(ctx, "t = x * 2; u = t + 1; y = u", binds, 2, NULL));
    ASSERT_OK(weft_map(ctx, "t = x; t = t + 1; y = t", binds, 2, NULL));
    weft_array_free(x);
    weft_array_free(y);
}

/* Helpers defined once and used in any statement, and the constants pi and
 * e: the cumulative normal without pasting it twice. */
static void test_helpers_and_constants(void **state)
{
    (void)state;
    enum { N = 300 };
    float xv[N];
    for (int i = 0; i < N; i++)
        xv[i] = (float)(i - N / 2) / 50.0f;
    weft_array *x, *y, *z;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, xv, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &z));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_array("z", z)};
    ASSERT_OK(weft_map(ctx,
                       "def cnd(d) = 0.5 * erfc(-d / sqrt(2.0))\n"
                       "def twice(a, b) = cnd(a) + cnd(b)\n"
                       "y = twice(x, -x); z = pi * x + e",
                       b, 3, NULL));
    float gy[N], gz[N];
    ASSERT_OK(weft_array_read(y, 0, N, gy));
    ASSERT_OK(weft_array_read(z, 0, N, gz));
    for (int i = 0; i < N; i++) {
        if (fabsf(gy[i] - 1.0f) > 1e-6f) fail_msg("element %d: cnd(x) + cnd(-x) = %g", i, gy[i]);
        float want = (float)3.14159265358979323846 * xv[i] + (float)2.71828182845904523536;
        if (fabsf(gz[i] - want) > 1e-6f * (fabsf(want) + 1)) fail_msg("element %d: %g", i, gz[i]);
    }
    /* inf and nan are constants too. */
    ASSERT_OK(weft_map(ctx, "y = x > 0 ? inf : -inf; z = x > 0 ? nan : x", b, 3, NULL));
    ASSERT_OK(weft_array_read(y, 0, N, gy));
    ASSERT_OK(weft_array_read(z, 0, N, gz));
    for (int i = 0; i < N; i++) {
        assert_true(gy[i] == (xv[i] > 0 ? INFINITY : -INFINITY));
        assert_true(xv[i] > 0 ? isnan(gz[i]) : gz[i] == xv[i]);
    }
    /* A bound name shadows a constant. */
    weft_bind named_e[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("e", 0)};
    ASSERT_OK(weft_map(ctx, "y = x + e", named_e, 3, NULL));
    ASSERT_OK(weft_array_read(y, 0, 1, gy));
    assert_true(gy[0] == xv[0]);
    static const struct {
        const char *text, *message;
    } bad[] = {
        {"def f(a) = f(a); y = f(x)", "unknown function \"f\""},
        {"def f(a, b) = a + b; y = f(x)", "f takes 2 arguments"},
        {"def sqrt(a) = a; y = sqrt(x)", "sqrt is a built-in function"},
        {"def f(a) = a; def f(b) = b; y = f(x)", "defined twice"},
        {"def f(a) = a + q; y = f(x)", "unknown name \"q\""},
        {"def f(a) =; y = x", "no body"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        weft_status st = weft_map(ctx, bad[c].text, b, 3, NULL);
        if (st != WEFT_ERR_EXPR || !strstr(weft_last_error(), bad[c].message))
            fail_msg("\"%s\": %s %s", bad[c].text, weft_status_str(st), weft_last_error());
    }
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(z);
}

/* Token soup: every string must come back as OK or WEFT_ERR_EXPR. */
static void test_random_text_never_crashes(void **state)
{
    (void)state;
    static const char *const tokens[] = {"x",       "y",
                                         "a",       "i",
                                         "1",       "2.5",
                                         "1e3",     "0x1f",
                                         "+",       "-",
                                         "*",       "/",
                                         "%",       "(",
                                         ")",       ",",
                                         "?",       ":",
                                         "=",       ";",
                                         "<",       ">=",
                                         "==",      "&&",
                                         "||",      "!",
                                         "~",       "<<",
                                         ">>",      "&",
                                         "|",       "^",
                                         "sqrt",    "pow",
                                         "fma",     "(int)",
                                         "(float)", "\n",
                                         " ",       "#c\n",
                                         "\x01",    "max",
                                         "clamp",   "@",
                                         "1e",      "9999999999999999999999"};
    /* The parser is under test, not the OpenCL compiler: run on the pool. */
    weft_options o = test_options();
    o.devices = "host";
    weft_ctx *host = test_ctx_with(&o);
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(host, WEFT_F32, 5, &x));
    ASSERT_OK(weft_array_create(host, WEFT_I32, 5, &y));
    weft_bind binds[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f64("a", 2)};
    uint64_t seed = 12345;
    int ok = 0;
    for (int round = 0; round < 3000; round++) {
        char text[512] = "";
        if (round % 2) strcat(text, "y = ");
        int len = (int)(test_rng(&seed) % 12) + 1;
        for (int t = 0; t < len; t++)
            strcat(text, tokens[test_rng(&seed) % (sizeof tokens / sizeof tokens[0])]);
        weft_status st = weft_map(host, text, binds, 3, NULL);
        if (st != WEFT_OK && st != WEFT_ERR_EXPR)
            fail_msg("\"%s\" gave %s: %s", text, weft_status_str(st), weft_last_error());
        ok += st == WEFT_OK;
        weft_scalar s;
        st = weft_reduce_expr(host, WEFT_SUM, text + (round % 2 ? 4 : 0), binds, 3, &s, NULL);
        if (st != WEFT_OK && st != WEFT_ERR_EXPR && st != WEFT_ERR_RANGE)
            fail_msg("reduce \"%s\" gave %s: %s", text, weft_status_str(st), weft_last_error());
    }
    assert_true(ok > 10); /* the soup is not all rejected */
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(host);
}

static const size_t sizes[] = {1, 17, 4097, 100003};

static void test_arithmetic_matches_c_bit_for_bit(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        float *x = malloc(n * 4), *y = malloc(n * 4), *u = malloc(n * 4), *got = malloc(n * 4);
        double *d = malloc(n * 8), *dgot = malloc(n * 8);
        fill_f32(x, n, n);
        fill_f32(y, n, n + 1);
        fill_f64(d, n, n + 2);
        if (n > 3) {
            x[0] = -0.0f;
            x[1] = INFINITY;
            x[2] = NAN;
        }
        weft_array *xa, *ya, *ua, *da;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, x, &xa));
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, y, &ya));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, n, &ua));
        ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, d, &da));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya),
                         weft_bind_array("u", ua), weft_bind_array("d", da),
                         weft_bind_f32("a", 0.75f)};
        /* two outputs, temporaries, select, literal typing, an f64 input */
        ASSERT_OK(weft_map(ctx,
                           "t = x * x; u = a * x + y; y = t > 0.25 ? t - y * 2.5 : -x / 3;\n"
                           "d = d * x + 1",
                           b, 5, NULL));
        for (size_t k = 0; k < n; k++) {
            float t = x[k] * x[k];
            u[k] = 0.75f * x[k] + y[k];
            y[k] = t > 0.25f ? t - y[k] * 2.5f : -x[k] / 3.0f;
            d[k] = d[k] * (double)x[k] + 1.0;
        }
        ASSERT_OK(weft_array_read(ua, 0, n, got));
        assert_true(same_floats(got, u, n));
        ASSERT_OK(weft_array_read(ya, 0, n, got));
        for (size_t k = 0; k < n; k++)
            if (!same_floats(&got[k], &y[k], 1))
                fail_msg("n=%zu y[%zu] %g vs %g", n, k, got[k], y[k]);
        ASSERT_OK(weft_array_read(da, 0, n, dgot));
        assert_true(same_doubles(dgot, d, n));
        /* swap through a temporary: outputs may alias inputs */
        ASSERT_OK(weft_map(ctx, "t = x; x = y; y = t", b, 5, NULL));
        ASSERT_OK(weft_array_read(xa, 0, n, got));
        assert_true(same_floats(got, y, n));
        /* the element index */
        ASSERT_OK(weft_map(ctx, "u = i * 0.5 - 3", b, 5, NULL));
        ASSERT_OK(weft_array_read(ua, 0, n, got));
        for (size_t k = 0; k < n; k++)
            assert_true(got[k] == (float)((double)k * 0.5 - 3));
        weft_array_free(xa);
        weft_array_free(ya);
        weft_array_free(ua);
        weft_array_free(da);
        free(x);
        free(y);
        free(u);
        free(got);
        free(d);
        free(dgot);
    }
}

static int32_t c_div(int32_t a, int32_t b)
{
    return b == 0 ? 0 : b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b;
}

static int32_t c_mod(int32_t a, int32_t b)
{
    return (b == 0 || b == -1) ? 0 : a % b;
}

static int32_t c_sat(double v)
{
    return v != v ? 0 : v <= -2147483648.0 ? INT32_MIN : v >= 2147483647.0 ? INT32_MAX : (int32_t)v;
}

static void test_integers_and_conversions(void **state)
{
    (void)state;
    enum { N = 9001 };
    int32_t *m = malloc(N * 4), *k = malloc(N * 4), *got = malloc(N * 4), *q = malloc(N * 4);
    float *x = malloc(N * 4);
    uint8_t *b8 = malloc(N), *b8got = malloc(N);
    uint64_t seed = 99;
    for (int j = 0; j < N; j++) {
        m[j] = (int32_t)test_rng(&seed);
        k[j] = (int32_t)(test_rng(&seed) % 7) - 3; /* zeros and -1 included */
        x[j] = (float)((double)(int64_t)test_rng(&seed) / 1e9);
    }
    m[0] = INT32_MIN;
    k[0] = -1;
    x[1] = NAN;
    x[2] = 1e30f;
    x[3] = -1e30f;
    weft_array *ma, *ka, *qa, *xa, *ba;
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, N, m, &ma));
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, N, k, &ka));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, N, &qa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, N, &ba));
    weft_bind bd[] = {weft_bind_array("m", ma), weft_bind_array("k", ka), weft_bind_array("q", qa),
                      weft_bind_array("x", xa), weft_bind_array("b", ba)};
    ASSERT_OK(weft_map(ctx, "q = m / k + m % k * 3 - (m >> 3) ^ (m << k) | ~m & 255", bd, 5, NULL));
    for (int j = 0; j < N; j++) {
        uint32_t sh = (uint32_t)k[j] & 31;
        int32_t left = (int32_t)((uint32_t)c_div(m[j], k[j]) + (uint32_t)c_mod(m[j], k[j]) * 3u -
                                 (uint32_t)(m[j] >> 3));
        q[j] = (left ^ (int32_t)((uint32_t)m[j] << sh)) | (~m[j] & 255);
    }
    ASSERT_OK(weft_array_read(qa, 0, N, got));
    for (int j = 0; j < N; j++)
        if (got[j] != q[j])
            fail_msg("q[%d] = %d, want %d (m %d k %d)", j, got[j], q[j], m[j], k[j]);
    /* float -> int saturates, NaN -> 0; into u8: integers wrap, floats saturate */
    ASSERT_OK(weft_map(ctx, "q = (int)(x * 1e9); b = x * 100", bd, 5, NULL));
    ASSERT_OK(weft_array_read(qa, 0, N, got));
    ASSERT_OK(weft_array_read(ba, 0, N, b8got));
    for (int j = 0; j < N; j++) {
        assert_int_equal(got[j], c_sat((double)(x[j] * 1e9f)));
        float v = x[j] * 100.0f;
        b8[j] = v != v ? 0 : v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
        if (b8got[j] != b8[j]) fail_msg("b[%d] = %d, want %d (x %g)", j, b8got[j], b8[j], x[j]);
    }
    ASSERT_OK(weft_map(ctx, "b = m; q = (uchar)m + abs(k) + min(m, k) - max(k, 0)", bd, 5, NULL));
    ASSERT_OK(weft_array_read(ba, 0, N, b8got));
    ASSERT_OK(weft_array_read(qa, 0, N, got));
    for (int j = 0; j < N; j++) {
        assert_int_equal(b8got[j], (uint8_t)m[j]);
        int32_t want =
            (int32_t)((uint32_t)(m[j] & 255) + (uint32_t)abs(k[j]) +
                      (uint32_t)(m[j] < k[j] ? m[j] : k[j]) - (uint32_t)(k[j] > 0 ? k[j] : 0));
        assert_int_equal(got[j], want);
    }
    weft_array_free(ma);
    weft_array_free(ka);
    weft_array_free(qa);
    weft_array_free(xa);
    weft_array_free(ba);
    free(m);
    free(k);
    free(got);
    free(q);
    free(x);
    free(b8);
    free(b8got);
}

/* A uniform draw in [lo, hi). */
static double uniform(uint64_t *seed, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(test_rng(seed) >> 11) / 9007199254740992.0);
}

/* ULP distance between a float result and a double reference. */
static double ulps(float got, double want)
{
    if (isnan(want)) return isnan(got) ? 0 : 1e9;
    if (isinf(want)) return got == (float)want ? 0 : 1e9;
    float w = (float)want;
    double ulp = nextafterf(fabsf(w), INFINITY) - fabsf(w);
    if (ulp == 0 || !isfinite(ulp)) ulp = FLT_MIN;
    return fabs((double)got - want) / ulp;
}

typedef struct math_case {
    const char *text;
    double (*ref)(double);
    double lo, hi;
    double max_ulp; /* OpenCL 1.2 single precision bound, table 7.1 */
} math_case;

static double ref_rsqrt(double v)
{
    return 1 / sqrt(v);
}

/* f32 sin, cos and tan of small arguments beside large ones (phases in
 * radians, timestamps): PoCL's vector code took the large-argument path
 * for every lane, sin(5.9e-6) was 0.012 and sin(1e-40) 0.0079 (4e9 ulp)
 * where the pool was right. Every setup, the devices' code included. */
static void test_trig_of_mixed_magnitudes_within_ulp(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.compile = WEFT_COMPILE_SYNC;
    weft_ctx *c = test_ctx_with(&o);
    enum { M = 40000 };
    float *x = malloc(M * 4), *got = malloc(M * 4);
    uint64_t seed = 11;
    for (int j = 0; j < M; j++) {
        double u = uniform(&seed, 0, 1);
        x[j] = j % 8 == 3   ? (float)(1e7 + 1e9 * u)     /* large */
               : j % 8 == 5 ? (float)ldexp(u, -130)      /* subnormal */
                            : (float)((u - 0.5) * 4e-3); /* small */
    }
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(c, WEFT_F32, M, x, &xa));
    ASSERT_OK(weft_array_create(c, WEFT_F32, M, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    static const struct {
        const char *text;
        double (*ref)(double);
        double max_ulp;
    } cases[] = {{"y = sin(x)", sin, 4}, {"y = cos(x)", cos, 4}, {"y = tan(x)", tan, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (selected_opencl(c) > 0) ASSERT_OK(weft_ctx_place(c, cases[k].text, WEFT_PLACE_DEVICES));
        ASSERT_OK(weft_map(c, cases[k].text, b, 2, NULL));
        ASSERT_OK(weft_array_read(ya, 0, M, got));
        double worst = 0;
        int at = 0;
        for (int j = 0; j < M; j++) {
            double e = ulps(got[j], cases[k].ref((double)x[j]));
            if (e > worst) worst = e, at = j;
        }
        if (worst > cases[k].max_ulp + 0.5)
            fail_msg("%s: %.3g ulp at x = %.9g (got %.9g)", cases[k].text, worst, (double)x[at],
                     (double)got[at]);
    }
    weft_array_free(xa);
    weft_array_free(ya);
    weft_ctx_free(c);
    free(x);
    free(got);
}

static void test_math_builtins_within_ulp(void **state)
{
    (void)state;
    static const math_case cases[] = {
        {"y = sqrt(x)", sqrt, 0, 1e6, 0},      {"y = rsqrt(x)", ref_rsqrt, 1e-3, 1e6, 2},
        {"y = exp(x)", exp, -80, 80, 3},       {"y = exp2(x)", exp2, -100, 100, 3},
        {"y = log(x)", log, 1e-6, 1e6, 3},     {"y = log2(x)", log2, 1e-6, 1e6, 3},
        {"y = log10(x)", log10, 1e-6, 1e6, 3}, {"y = sin(x)", sin, -100, 100, 4},
        {"y = cos(x)", cos, -100, 100, 4},     {"y = tan(x)", tan, -1.5, 1.5, 5},
        {"y = tanh(x)", tanh, -10, 10, 5},     {"y = atan(x)", atan, -100, 100, 5},
        {"y = cbrt(x)", cbrt, -1e6, 1e6, 2},   {"y = erf(x)", erf, -4, 4, 16},
        {"y = floor(x)", floor, -1e6, 1e6, 0}, {"y = fabs(x)", fabs, -1e6, 1e6, 0},
        {"y = round(x)", round, -1e3, 1e3, 0}, {"y = expm1(x)", expm1, -10, 10, 3},
    };
    enum { N = 20000 };
    float *x = malloc(N * 4), *got = malloc(N * 4);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &xa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    uint64_t seed = 5;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int j = 0; j < N; j++)
            x[j] = (float)uniform(&seed, cases[c].lo, cases[c].hi);
        ASSERT_OK(weft_array_write(xa, 0, N, x));
        ASSERT_OK(weft_map(ctx, cases[c].text, b, 2, NULL));
        ASSERT_OK(weft_array_read(ya, 0, N, got));
        double worst = 0;
        for (int j = 0; j < N; j++) {
            double e = ulps(got[j], cases[c].ref((double)x[j]));
            if (e > worst) worst = e;
        }
        if (worst > cases[c].max_ulp + 0.5) /* +0.5: the reference itself is rounded */
            fail_msg("%s: %.2f ulp, bound %.0f", cases[c].text, worst, cases[c].max_ulp);
    }
    /* pow and fma with two and three operands */
    for (int j = 0; j < N; j++)
        x[j] = (float)(0.01 + 10 * ((double)(test_rng(&seed) >> 11) / 9007199254740992.0));
    ASSERT_OK(weft_array_write(xa, 0, N, x));
    ASSERT_OK(weft_map(ctx, "y = pow(x, 1.7) + fma(x, x, 1)", b, 2, NULL));
    ASSERT_OK(weft_array_read(ya, 0, N, got));
    for (int j = 0; j < N; j++) {
        double want = (double)powf(x[j], 1.7f) + (double)fmaf(x[j], x[j], 1);
        assert_true(fabs(got[j] - want) <= 1e-5 * fabs(want));
    }
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(got);
}

static void test_async_map_with_future(void **state)
{
    (void)state;
    enum { N = 50000 };
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    weft_bind b[] = {weft_bind_array("x", x)};
    weft_future *f[10];
    for (int r = 0; r < 10; r++)
        ASSERT_OK(weft_map(ctx, "x = x + 1.5", b, 1, &f[r]));
    for (int r = 0; r < 10; r++) {
        ASSERT_OK(weft_future_wait(f[r]));
        weft_future_release(f[r]);
    }
    double v[2];
    ASSERT_OK(weft_array_read(x, N - 2, 2, v));
    assert_true(v[0] == 15.0 && v[1] == 15.0);
    weft_array_free(x);
}

/* An operation holds at most 16 arrays though 32 bindings are accepted: more
 * distinct arrays once overran the operation (a crash), now they are refused
 * before anything runs, naming the limit. Scalars do not count. */
static void map_and_reduce_with_arrays(size_t narrays, size_t nscalars)
{
    enum { N = 1000 };
    static const double zeros[N];
    weft_array *arrays[32];
    weft_bind b[32];
    char names[32][8];
    char text[512] = "a0 = 0";
    char sum[512] = "0";
    for (size_t k = 0; k < narrays + nscalars; k++) {
        snprintf(names[k], sizeof names[k], "%c%zu", k < narrays ? 'a' : 's', k);
        if (k < narrays) {
            ASSERT_OK(weft_array_from(ctx, WEFT_F64, N, zeros, &arrays[k]));
            b[k] = weft_bind_array(names[k], arrays[k]);
        } else {
            b[k] = weft_bind_f64(names[k], 1.0);
        }
        if (k == 0) continue;
        strcat(text, " + ");
        strcat(text, names[k]);
        strcat(sum, " + ");
        strcat(sum, names[k]);
    }
    size_t nb = narrays + nscalars;
    weft_scalar out;
    if (narrays <= 16) {
        ASSERT_OK(weft_map(ctx, text, b, nb, NULL));
        ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, sum, b, nb, &out, NULL));
        assert_true(out.value.f64 == (double)nscalars * N);
    } else {
        assert_int_equal(weft_map(ctx, text, b, nb, NULL), WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "at most 16 arrays"));
        assert_int_equal(weft_reduce_expr(ctx, WEFT_SUM, sum, b, nb, &out, NULL),
                         WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "at most 16 arrays"));
    }
    for (size_t k = 0; k < narrays; k++)
        weft_array_free(arrays[k]);
}

static void test_more_arrays_than_an_operation_holds(void **state)
{
    (void)state;
    map_and_reduce_with_arrays(16, 16);
    for (size_t n = 17; n <= 32; n++)
        map_and_reduce_with_arrays(n, 0);
    ASSERT_OK(weft_ctx_finish(ctx));
}

/* n random floats of dtype dt (f32 or f64) in [-1, 1), in a new buffer. */
static unsigned char *random_floats(weft_dtype dt, size_t n, uint64_t seed)
{
    unsigned char *x = malloc(n * weft_dtype_size(dt));
    if (dt == WEFT_F32)
        fill_f32((float *)x, n, seed);
    else
        fill_f64((double *)x, n, seed);
    return x;
}

/* A map of x into y run on one device alone (a placement hint): 1 when every
 * piece ran there, 0 when one fell back to the pool. */
static int map_on(size_t device, const char *text, weft_dtype dt, const void *in, size_t n,
                  void *out)
{
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, dt, n, in, &xa));
    ASSERT_OK(weft_array_create(ctx, dt, n, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    ASSERT_OK(weft_ctx_place(ctx, text, WEFT_PLACE_DEVICE(device)));
    ASSERT_OK(weft_map(ctx, text, b, 2, NULL));
    weft_piece_report pieces[16];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 16, &count));
    int on_device = count > 0;
    for (size_t i = 0; i < count; i++)
        on_device &= !pieces[i].fell_back && pieces[i].device == device;
    ASSERT_OK(weft_array_read(ya, 0, n, out));
    weft_array_free(xa);
    weft_array_free(ya);
    return on_device;
}

/* CPU devices compute maps in vectors of 8 or 4 (MAP_VECTOR) and the last
 * short group padded: an element's transcendental result must not depend on
 * where its group starts, on how long the array is, or on which CPU device
 * of the setup ran it. */
static void test_vector_maps_same_bits_at_any_offset_and_cpu_device(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "y = erfc(x) + exp(x) * pow(x, 1.3f) - log(x) * sin(x) + (x > 1 ? cos(x) : tanh(x))",
        "y = erfc(x) + exp(x) * pow(x, 1.3) - log(x) * sin(x) + (x > 1 ? cos(x) : tanh(x))"};
    static const weft_dtype dtypes[] = {WEFT_F32, WEFT_F64};
    enum { N = 4096 + 37, SHIFT = 3 };
    size_t ndev = 0;
    weft_device_count(ctx, &ndev);
    for (int v = 0; v < 2; v++) {
        size_t es = weft_dtype_size(dtypes[v]);
        unsigned char *x = random_floats(dtypes[v], N, 11), *first = malloc(N * es),
                      *got = malloc(N * es);
        int have_first = 0;
        for (size_t d = 1; d < ndev; d++) {
            weft_device_info info;
            const char *impl = "";
            weft_device_get_info(ctx, d, &info);
            weft_device_impl(ctx, d, "sum", &impl);
            if (!info.selected || strcmp(impl, "opencl-cpu") != 0) continue;
            if (!map_on(d, texts[v], dtypes[v], x, N, got)) continue;
            if (have_first) /* another CPU device: the same bits */
                assert_memory_equal(got, first, N * es);
            memcpy(first, got, N * es);
            have_first = 1;
            /* The same elements, shifted by SHIFT and one element short. */
            if (map_on(d, texts[v], dtypes[v], x + SHIFT * es, N - SHIFT - 1, got))
                assert_memory_equal(got, first + SHIFT * es, (N - SHIFT - 1) * es);
        }
        ASSERT_OK(weft_ctx_place(ctx, texts[v], WEFT_PLACE_AUTO));
        free(x);
        free(first);
        free(got);
    }
}

/* The pool (WEFT_DEVICES=host) computes transcendentals a vector at a time
 * where the CPU allows (glibc's libmvec) and pads a short tail to a whole
 * vector: an element's bits must not depend on the thread count, on where its
 * vector starts, or on the length of the array. */
static void map_on_pool(int threads, const char *text, weft_dtype dt, const void *in, size_t n,
                        void *out)
{
    weft_options o = test_options();
    o.devices = "host";
    o.num_threads = threads;
    weft_ctx *pool = test_ctx_with(&o);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(pool, dt, n, in, &xa));
    ASSERT_OK(weft_array_create(pool, dt, n, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    ASSERT_OK(weft_map(pool, text, b, 2, NULL));
    ASSERT_OK(weft_array_read(ya, 0, n, out));
    weft_array_free(xa);
    weft_array_free(ya);
    weft_ctx_free(pool);
}

static void test_pool_transcendentals_same_bits_at_any_thread_count_offset_and_size(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "u = fabs(x) + 0.125f; y = erfc(u) + exp(u) * pow(u, 1.3f) - log(u) * sin(u) + "
        "cbrt(x) * log1p(u) + atan2(x, 0.7f) / hypot(x, 2.0f) + tanh(x) + log2(u) * cos(x) + "
        "asin(x) + expm1(x) + log10(u) * sinh(x)",
        "u = fabs(x) + 0.125; y = erfc(u) + exp(u) * pow(u, 1.3) - log(u) * sin(u) + "
        "cbrt(x) * log1p(u) + atan2(x, 0.7) / hypot(x, 2.0) + tanh(x) + log2(u) * cos(x) + "
        "asin(x) + expm1(x) + log10(u) * sinh(x)"};
    static const weft_dtype dtypes[] = {WEFT_F32, WEFT_F64};
    static const size_t lengths[] = {1, 3, 5, 4097};
    enum { N = 3 * 16384 + 37 }; /* several pool chunks, a short last block */
    for (int v = 0; v < 2; v++) {
        size_t es = weft_dtype_size(dtypes[v]);
        unsigned char *x = random_floats(dtypes[v], N, 23), *first = malloc(N * es),
                      *got = malloc(N * es);
        map_on_pool(1, texts[v], dtypes[v], x, N, first);
        for (int threads = 2; threads <= 3; threads++) {
            map_on_pool(threads, texts[v], dtypes[v], x, N, got);
            assert_memory_equal(got, first, N * es);
        }
        for (size_t offset = 1; offset <= 7; offset += 2)
            for (size_t s = 0; s < sizeof lengths / sizeof lengths[0]; s++) {
                map_on_pool(2, texts[v], dtypes[v], x + offset * es, lengths[s], got);
                assert_memory_equal(got, first + offset * es, lengths[s] * es);
            }
        free(x);
        free(first);
        free(got);
    }
}

/* Maps whose arrays far exceed the cache stream them (small VM blocks, outputs
 * by streaming stores): the same values as plain C, for outputs at any
 * alignment (wrapped 8 bytes past an aligned start), written in place,
 * converted on the store, and read again by a later statement. */
static void test_pool_maps_past_the_cache_match_c(void **state)
{
    (void)state;
    enum { N = (1 << 20) + 4097 }; /* 5 arrays of 8 bytes: past 32 MiB, a short last block */
    weft_options o = test_options();
    o.devices = "host";
    o.num_threads = 2;
    weft_ctx *pool = test_ctx_with(&o);
    double *a = (double *)random_floats(WEFT_F64, N, 31),
           *b = (double *)random_floats(WEFT_F64, N, 32);
    double *c = (double *)random_floats(WEFT_F64, N, 33),
           *y0 = (double *)random_floats(WEFT_F64, N, 34);
    double *ymem = malloc((N + 1) * sizeof *ymem), *y = ymem + 1,
           *out = malloc((N + 1) * sizeof *out);
    float *zmem = malloc((N + 1) * sizeof *zmem), *z = zmem + 1;
    memcpy(y, y0, N * sizeof *y);
    weft_array *aa, *ba, *ca, *ya, *za, *oa;
    ASSERT_OK(weft_array_from(pool, WEFT_F64, N, a, &aa));
    ASSERT_OK(weft_array_from(pool, WEFT_F64, N, b, &ba));
    ASSERT_OK(weft_array_from(pool, WEFT_F64, N, c, &ca));
    ASSERT_OK(weft_array_wrap(pool, WEFT_F64, N, y, &ya));
    ASSERT_OK(weft_array_wrap(pool, WEFT_F32, N, z, &za));
    ASSERT_OK(weft_array_wrap(pool, WEFT_F64, N, out + 1, &oa));
    weft_bind bs[] = {weft_bind_array("a", aa), weft_bind_array("b", ba), weft_bind_array("c", ca),
                      weft_bind_array("y", ya), weft_bind_array("z", za), weft_bind_array("o", oa)};
    ASSERT_OK(
        weft_map(pool, "o = 2*a + 3*b*c; y = y * 0.5 + o; z = o - b; o = o * y", bs, 6, NULL));
    ASSERT_OK(weft_array_sync(ya));
    ASSERT_OK(weft_array_sync(za));
    ASSERT_OK(weft_array_sync(oa));
    for (size_t i = 0; i < N; i++) {
        double t = 2 * a[i] + 3 * b[i] * c[i], yi = y0[i] * 0.5 + t;
        if (y[i] != yi || z[i] != (float)(t - b[i]) || out[i + 1] != t * yi)
            fail_msg("element %zu: y %.17g z %.9g o %.17g, want %.17g %.9g %.17g", i, y[i],
                     (double)z[i], out[i + 1], yi, (double)(float)(t - b[i]), t * yi);
    }
    weft_array_free(aa);
    weft_array_free(ba);
    weft_array_free(ca);
    weft_array_free(ya);
    weft_array_free(za);
    weft_array_free(oa);
    weft_ctx_free(pool);
    free(a);
    free(b);
    free(c);
    free(y0);
    free(ymem);
    free(zmem);
    free(out);
}

static long double ref_atan2(long double x, long double y)
{
    return atan2l(y, x);
}

/* ULP distance between a double result and a long double reference. */
static double ulps_f64(double got, long double want)
{
    if (isnan(want)) return isnan(got) ? 0 : 1e9;
    if (isinf(want)) return got == (double)want ? 0 : 1e9;
    double w = (double)want;
    double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    if (ulp == 0 || !isfinite(ulp)) ulp = DBL_MIN;
    return (double)(fabsl((long double)got - want) / ulp);
}

/* f64 transcendentals on the pool: glibc's vector math (libmvec) is within 4
 * ulp (docs/expressions.md), scalar libm within 1. */
static void test_f64_math_within_4_ulp_on_the_pool(void **state)
{
    (void)state;
    /* The references need long double's 64-bit mantissa; valgrind computes
     * x87 arithmetic in double (powl there is 69 ulp off). */
    volatile long double one = 1;
    if (one + LDBL_EPSILON == one) skip();
    static const struct {
        const char *text;
        long double (*ref)(long double);
        double lo, hi;
    } cases[] = {
        {"y = exp(x)", expl, -700, 700},   {"y = log(x)", logl, 1e-6, 1e6},
        {"y = sin(x)", sinl, -100, 100},   {"y = cos(x)", cosl, -100, 100},
        {"y = tan(x)", tanl, -1.5, 1.5},   {"y = erfc(x)", erfcl, -4, 10},
        {"y = cbrt(x)", cbrtl, -1e6, 1e6}, {"y = log1p(x)", log1pl, -0.9, 10},
        {"y = expm1(x)", expm1l, -10, 10}, {"y = asin(x)", asinl, -1, 1},
        {"y = tanh(x)", tanhl, -10, 10},   {"y = atan(x)", atanl, -100, 100},
    };
    enum { N = 20000 };
    double *x = malloc(N * 8), *y = malloc(N * 8), *got = malloc(N * 8);
    weft_options o = test_options();
    o.devices = "host";
    weft_ctx *pool = test_ctx_with(&o);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_create(pool, WEFT_F64, N, &xa));
    ASSERT_OK(weft_array_create(pool, WEFT_F64, N, &ya));
    weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    uint64_t seed = 7;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int j = 0; j < N; j++)
            x[j] = uniform(&seed, cases[c].lo, cases[c].hi);
        ASSERT_OK(weft_array_write(xa, 0, N, x));
        ASSERT_OK(weft_map(pool, cases[c].text, b, 2, NULL));
        ASSERT_OK(weft_array_read(ya, 0, N, got));
        double worst = 0;
        for (int j = 0; j < N; j++) {
            double e = ulps_f64(got[j], cases[c].ref((long double)x[j]));
            if (e > worst) worst = e;
        }
        if (worst > 4) fail_msg("%s: %.2f ulp, bound 4", cases[c].text, worst);
    }
    /* two operands */
    for (int j = 0; j < N; j++) {
        x[j] = uniform(&seed, 0.01, 10.01);
        y[j] = uniform(&seed, -30, 30);
    }
    ASSERT_OK(weft_array_write(xa, 0, N, x));
    ASSERT_OK(weft_array_write(ya, 0, N, y));
    static const struct {
        const char *text;
        long double (*ref)(long double, long double);
    } twos[] = {
        {"y = pow(x, y)", powl}, {"y = atan2(y, x)", ref_atan2}, {"y = hypot(x, y)", hypotl}};
    for (size_t c = 0; c < 3; c++) {
        ASSERT_OK(weft_array_write(ya, 0, N, y));
        ASSERT_OK(weft_map(pool, twos[c].text, b, 2, NULL));
        ASSERT_OK(weft_array_read(ya, 0, N, got));
        double worst = 0;
        for (int j = 0; j < N; j++) {
            double e = ulps_f64(got[j], twos[c].ref(x[j], y[j]));
            if (e > worst) worst = e;
        }
        if (worst > 4) fail_msg("%s: %.2f ulp, bound 4", twos[c].text, worst);
    }
    weft_array_free(xa);
    weft_array_free(ya);
    weft_ctx_free(pool);
    free(x);
    free(y);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_point_at_the_column),
        cmocka_unit_test(test_unread_assignment_is_an_error),
        cmocka_unit_test(test_helpers_and_constants),
        cmocka_unit_test(test_random_text_never_crashes),
        cmocka_unit_test(test_arithmetic_matches_c_bit_for_bit),
        cmocka_unit_test(test_integers_and_conversions),
        cmocka_unit_test(test_math_builtins_within_ulp),
        cmocka_unit_test(test_trig_of_mixed_magnitudes_within_ulp),
        cmocka_unit_test(test_async_map_with_future),
        cmocka_unit_test(test_more_arrays_than_an_operation_holds),
        cmocka_unit_test(test_vector_maps_same_bits_at_any_offset_and_cpu_device),
        cmocka_unit_test(test_pool_transcendentals_same_bits_at_any_thread_count_offset_and_size),
        cmocka_unit_test(test_f64_math_within_4_ulp_on_the_pool),
        cmocka_unit_test(test_pool_maps_past_the_cache_match_c),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
