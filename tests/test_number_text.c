/* Numbers as text (src/text): shortest round-trip formatting in Python's repr layout and
 * exact parsing, checked against strtod/strtof, snprintf and (where installed) Python. */
#include "common.h"
#include "../src/text/number_format.h"
#include "../src/text/number_parse.h"

#include <float.h>
#include <locale.h>
#include <stdint.h>
#include <unistd.h>

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint32_t bits_of_f32(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static float float_of(uint32_t b)
{
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* The random sweeps' sizes, a fiftieth under valgrind (its preload library gives it away),
 * where the full sweeps would take most of an hour; the plain and asan runs do them all. */
static int sweep(int n)
{
    static int divisor;
    if (!divisor) divisor = under_valgrind() ? 50 : 1;
    return n / divisor;
}

/* The text, NUL-terminated, checked to fit WEFT_FORMAT_MAX. */
static size_t format_f64(double v, char *buf)
{
    size_t n = weft_format_f64(v, buf);
    assert_true(n > 0 && n <= WEFT_FORMAT_MAX);
    buf[n] = '\0';
    return n;
}

static size_t format_f32(float v, char *buf)
{
    size_t n = weft_format_f32(v, buf);
    assert_true(n > 0 && n <= WEFT_FORMAT_MAX);
    buf[n] = '\0';
    return n;
}

/* Significant digits of a repr-style text and its decimal exponent (value = D 10^e). */
static int significant_digits(const char *text, uint64_t *digits, int *exp10)
{
    uint64_t d = 0;
    int n = 0, e = 0, after_point = 0;
    const char *p = text;
    if (*p == '-') p++;
    for (; *p && *p != 'e'; p++) {
        if (*p == '.') {
            after_point = 1;
            continue;
        }
        if (n == 0 && *p == '0') {
            e -= after_point;
            continue;
        }
        d = d * 10 + (uint64_t)(*p - '0');
        n++;
        e -= after_point;
    }
    if (*p == 'e') e += atoi(p + 1);
    while (n > 0 && d % 10 == 0) {
        d /= 10;
        e++;
        n--;
    }
    *digits = d;
    *exp10 = e;
    return n;
}

/* No decimal with one digit fewer reads back as v: the neighbours of v rounded to that
 * many digits (the nearest one and the two around it) all fail. */
static void assert_shortest(double v, const char *text, int is_f32)
{
    uint64_t digits;
    int e;
    int n = significant_digits(text, &digits, &e);
    if (n <= 1) return;
    char shorter[64];
    snprintf(shorter, sizeof shorter, "%.*e", n - 2, fabs(v));
    uint64_t near;
    int near_e;
    significant_digits(shorter, &near, &near_e);
    /* back to n - 1 digits exactly (the stripping above may have shortened it) */
    int near_n = 0;
    for (uint64_t x = near; x; x /= 10)
        near_n++;
    while (near_n < n - 1) {
        near *= 10;
        near_e--;
        near_n++;
    }
    for (int delta = -1; delta <= 1; delta++) {
        if (near == 0 && delta < 0) continue;
        char candidate[64];
        snprintf(candidate, sizeof candidate, "%llue%d",
                 (unsigned long long)(near + (uint64_t)delta), near_e);
        if (is_f32) {
            float back = strtof(candidate, NULL);
            if (back == (float)fabs(v))
                fail_msg("%s is not shortest: %s reads back", text, candidate);
        } else {
            double back = strtod(candidate, NULL);
            if (back == fabs(v)) fail_msg("%s is not shortest: %s reads back", text, candidate);
        }
    }
}

/* Formats, reads back with strtod and with weft_parse_f64: the same bits. */
static void check_f64(double v, int shortest)
{
    char buf[WEFT_FORMAT_MAX + 1];
    size_t n = format_f64(v, buf);
    double back = strtod(buf, NULL);
    if (bits_of(back) != bits_of(v)) fail_msg("%a -> %s -> %a", v, buf, back);
    double parsed;
    assert_int_equal(weft_parse_f64(buf, buf + n, &parsed), 1);
    if (bits_of(parsed) != bits_of(v)) fail_msg("parse(%s) = %a, not %a", buf, parsed, v);
    if (shortest) assert_shortest(v, buf, 0);
}

static void check_f32(float v, int shortest)
{
    char buf[WEFT_FORMAT_MAX + 1];
    size_t n = format_f32(v, buf);
    float back = strtof(buf, NULL);
    if (bits_of_f32(back) != bits_of_f32(v))
        fail_msg("%a -> %s -> %a", (double)v, buf, (double)back);
    float parsed;
    assert_int_equal(weft_parse_f32(buf, buf + n, &parsed), 1);
    if (bits_of_f32(parsed) != bits_of_f32(v))
        fail_msg("parse(%s) = %a, not %a", buf, (double)parsed, (double)v);
    if (shortest) assert_shortest(v, buf, 1);
}

static void test_repr_table(void **state)
{
    (void)state;
    /* Expected strings from CPython 3's repr. */
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {2.0, "2.0"},
        {1e+16, "1e+16"},
        {1.5e-05, "1.5e-05"},
        {5e-324, "5e-324"},
        {1.7976931348623157e+308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {2.225073858507201e-308, "2.225073858507201e-308"},
        {1000000000000000.0, "1000000000000000.0"},
        {9999999999999998.0, "9999999999999998.0"},
        {0.0001, "0.0001"},
        {9.9999e-05, "9.9999e-05"},
        {1e-05, "1e-05"},
        {0.30000000000000004, "0.30000000000000004"},
        {0.3333333333333333, "0.3333333333333333"},
        {0.6666666666666666, "0.6666666666666666"},
        {9007199254740992.0, "9007199254740992.0"},
        {1e+22, "1e+22"},
        {1e+23, "1e+23"},
        {123.456, "123.456"},
        {100.0, "100.0"},
        {1234.5, "1234.5"},
        {-1.5, "-1.5"},
        {1.5e-323, "1.5e-323"},
        {1e+21, "1e+21"},
        {1e-07, "1e-07"},
        {1.2345678901234568e+17, "1.2345678901234568e+17"},
        {0.3, "0.3"},
        {9.223372036854776e+18, "9.223372036854776e+18"},
        {1.8446744073709552e+19, "1.8446744073709552e+19"},
        {0.14285714285714285, "0.14285714285714285"},
        {1e-323, "1e-323"},
        {1.23e-18, "1.23e-18"},
        {4.35, "4.35"},
        {0.000123, "0.000123"},
        {12345678.9, "12345678.9"},
        {1234567890123456.8, "1234567890123456.8"},
        {5e-310, "5e-310"},
        {9007199254740994.0, "9007199254740994.0"},
        {0.5, "0.5"},
        {1e+100, "1e+100"},
        {1e-300, "1e-300"},
        {7e-10, "7e-10"},
        {5.992310449541053e+307, "5.992310449541053e+307"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
        {-NAN, "nan"},
    };
    char buf[WEFT_FORMAT_MAX + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_f64(cases[i].v, buf);
        assert_string_equal(buf, cases[i].text);
    }
    /* float32: the shortest text for the float, same layout (as numpy's shortest digits). */
    static const struct {
        float v;
        const char *text;
    } cases32[] = {
        {0.1f, "0.1"},
        {0.3f, "0.3"},
        {3.4028235e38f, "3.4028235e+38"},
        {1e-45f, "1e-45"},
        {3e-45f, "3e-45"},
        {1.1754944e-38f, "1.1754944e-38"},
        {16777216.0f, "16777216.0"},
        {1e10f, "10000000000.0"},
        {1e16f, "1e+16"},
        {-2.5f, "-2.5"},
        {1.0f / 3.0f, "0.33333334"},
        {-0.0f, "-0.0"},
        {INFINITY, "inf"},
        {NAN, "nan"},
        {1e-5f, "1e-05"},
    };
    for (size_t i = 0; i < sizeof cases32 / sizeof cases32[0]; i++) {
        format_f32(cases32[i].v, buf);
        assert_string_equal(buf, cases32[i].text);
    }
}

/* The writers store whole words: never past WEFT_FORMAT_MAX (the sanitizers watch the
 * exact-size heap buffer, the guard bytes watch the plain build). */
static void test_writes_stay_in_bounds(void **state)
{
    (void)state;
    unsigned char *out = malloc(WEFT_FORMAT_MAX);
    unsigned char guarded[WEFT_FORMAT_MAX + 16];
    uint64_t seed = 17;
    for (int i = 0; i < sweep(200000); i++) {
        uint64_t r = test_rng(&seed);
        double v = i % 3 ? double_of(r) : -(double)(r >> (i % 64)) * pow(10.0, (i % 40) - 20);
        memset(guarded, 0x55, sizeof guarded);
        size_t n = weft_format_f64(v, (char *)guarded);
        size_t n32 = weft_format_f32(float_of((uint32_t)r), (char *)out);
        size_t ni =
            weft_format_i64(i % 2 ? INT64_MIN + (int64_t)(r >> 1) : (int64_t)r, (char *)out);
        size_t nu = weft_format_u64(r >> (i % 64), (char *)out);
        (void)weft_format_f64(v, (char *)out);
        assert_true(n <= WEFT_FORMAT_MAX && n32 <= WEFT_FORMAT_MAX && ni <= 20 && nu <= 20);
        for (size_t k = WEFT_FORMAT_MAX; k < sizeof guarded; k++)
            assert_int_equal(guarded[k], 0x55);
    }
    free(out);
}

static void test_round_trip_random_bits(void **state)
{
    (void)state;
    uint64_t seed = 11;
    for (int i = 0; i < sweep(1000000); i++) {
        double v = double_of(test_rng(&seed));
        if (isfinite(v)) check_f64(v, i % 8 == 0);
    }
    /* float32: a stride through every bit pattern, and random ones */
    for (uint64_t b = 0; b < (1ull << 32); b += 4099 * (uint64_t)(1000000 / sweep(1000000))) {
        float v = float_of((uint32_t)b);
        if (isfinite(v)) check_f32(v, b % 5 == 0);
    }
    for (int i = 0; i < sweep(300000); i++) {
        float v = float_of((uint32_t)test_rng(&seed));
        if (isfinite(v)) check_f32(v, 1);
    }
}

static void test_edges(void **state)
{
    (void)state;
    /* every power of ten and of two that a double holds */
    char buf[WEFT_FORMAT_MAX + 1], expect[64];
    for (int e = -323; e <= 308; e++) {
        char text[16];
        snprintf(text, sizeof text, "1e%d", e);
        double v = strtod(text, NULL);
        check_f64(v, 1);
        format_f64(v, buf);
        if (e >= 0 && e < 16)
            snprintf(expect, sizeof expect, "1%.*s.0", e, "000000000000000");
        else if (e < 0 && e >= -4)
            snprintf(expect, sizeof expect, "0.%.*s1", -e - 1, "0000");
        else
            snprintf(expect, sizeof expect, "1e%c%02d", e < 0 ? '-' : '+', abs(e));
        assert_string_equal(buf, expect);
    }
    for (int e = -1074; e <= 1023; e++) {
        check_f64(ldexp(1.0, e), 1);
        check_f64(-ldexp(1.0, e), 1);
        check_f64(nextafter(ldexp(1.0, e), 0), 1);
        check_f64(nextafter(ldexp(1.0, e), INFINITY), 1);
    }
    for (int e = -149; e <= 127; e++) {
        check_f32(ldexpf(1.0f, e), 1);
        check_f32(nextafterf(ldexpf(1.0f, e), 0), 1);
        check_f32(nextafterf(ldexpf(1.0f, e), INFINITY), 1);
    }
    /* the smallest subnormals, where the digits run out first */
    for (uint64_t c = 1; c < 5000; c++)
        check_f64(double_of(c), 1);
    for (uint32_t c = 1; c < 5000; c++)
        check_f32(float_of(c), 1);
    check_f64(DBL_MAX, 1);
    check_f64(DBL_MIN, 1);
    check_f64(DBL_TRUE_MIN, 1);
    check_f32(FLT_MAX, 1);
    check_f32(FLT_MIN, 1);
    /* integers: exactly their digits and ".0" below 2^53 */
    uint64_t seed = 5;
    for (int i = 0; i < sweep(300000); i++) {
        uint64_t k = test_rng(&seed) >> (11 + i % 53);
        if (i < 1000) k = (uint64_t)i;
        if (i >= 1000 && i < 1100) k = (1ull << 53) - (uint64_t)(i - 1000);
        format_f64((double)k, buf);
        snprintf(expect, sizeof expect, "%llu.0", (unsigned long long)k);
        assert_string_equal(buf, expect);
    }
}

/* A file next to the test's working directory for the Python differential. */
static int python_available(const char *module)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "python3 -c 'import %s' >/dev/null 2>&1", module);
    return system(cmd) == 0;
}

static void test_python_repr(void **state)
{
    (void)state;
    if (!python_available("sys")) skip();
    char in_path[] = "/tmp/weft_number_text_XXXXXX";
    int fd = mkstemp(in_path);
    assert_true(fd >= 0);
    FILE *in = fdopen(fd, "w");
    assert_non_null(in);
    enum { MAX_N = 200000 };
    static double values[MAX_N];
    const int N = sweep(MAX_N);
    uint64_t seed = 99;
    for (int i = 0; i < N; i++) {
        uint64_t b = test_rng(&seed);
        /* half random bits, half "nice" decimals of every size */
        double v =
            i % 2 ? double_of(b) : (double)(int64_t)(b >> 40) * pow(10.0, (int)(b % 40) - 20);
        if (!isfinite(v)) v = (double)i;
        values[i] = v;
        fprintf(in, "%a\n", v);
    }
    fclose(in);
    char cmd[256];
    snprintf(
        cmd, sizeof cmd,
        "python3 -c 'import sys\nfor l in open(sys.argv[1]): print(repr(float.fromhex(l)))' %s",
        in_path);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    char line[128], buf[WEFT_FORMAT_MAX + 1];
    int i = 0;
    for (; i < N && fgets(line, sizeof line, out); i++) {
        line[strcspn(line, "\n")] = '\0';
        format_f64(values[i], buf);
        if (strcmp(line, buf) != 0) fail_msg("%a: python %s, weft %s", values[i], line, buf);
    }
    pclose(out);
    unlink(in_path);
    assert_int_equal(i, N);
}

static void expect_f64(const char *text, double expected)
{
    double v = 0;
    if (!weft_parse_f64(text, text + strlen(text), &v)) fail_msg("rejected %s", text);
    if (bits_of(v) != bits_of(expected) && !(isnan(v) && isnan(expected)))
        fail_msg("%s -> %a, expected %a", text, v, expected);
    float f = 0;
    if (!weft_parse_f32(text, text + strlen(text), &f)) fail_msg("f32 rejected %s", text);
    if (bits_of_f32(f) != bits_of_f32((float)expected) && !(isnan(f) && isnan(expected)))
        fail_msg("f32 %s -> %a", text, (double)f);
}

static void test_parse_accepts(void **state)
{
    (void)state;
    expect_f64("1", 1.0);
    expect_f64("-1.5", -1.5);
    expect_f64("+1.5", 1.5);
    expect_f64("1e5", 1e5);
    expect_f64("1E-5", 1e-5);
    expect_f64(".5", 0.5);
    expect_f64("5.", 5.0);
    expect_f64("-0", -0.0);
    expect_f64("0e999999999999999999", 0.0);
    expect_f64("1e400", INFINITY);
    expect_f64("-1e400", -INFINITY);
    expect_f64("1e-400", 0.0);
    expect_f64("1e99999999999999999999", INFINITY);
    expect_f64("0.000000000000000000000000000000000000000000000000001", 1e-51);
    expect_f64("00000000000000000000000000000000000000001.5", 1.5);
    expect_f64("inf", INFINITY);
    expect_f64("-inf", -INFINITY);
    expect_f64("Infinity", INFINITY);
    expect_f64("-INFINITY", -INFINITY);
    expect_f64("nan", NAN);
    expect_f64("NaN", NAN);
    expect_f64("-nan", NAN);
    expect_f64("2.2250738585072011e-308", 2.2250738585072011e-308);
    expect_f64("4.9406564584124654e-324", 5e-324);
    expect_f64("2.4703282292062328e-324", 5e-324); /* just above half the smallest: rounds up */
    expect_f64("2.4703282292062327e-324", 0.0);
    expect_f64("1.7976931348623158e308", DBL_MAX);
    expect_f64("1.7976931348623159e308", INFINITY);
    expect_f64("9007199254740993", 9007199254740992.0); /* halfway: to even */
    expect_f64("9007199254740993.0000000000000000000000001", 9007199254740994.0);
    /* never past end: the same bytes, shorter ranges */
    const char *text = "12345e10";
    double v;
    assert_int_equal(weft_parse_f64(text, text + 3, &v), 1);
    assert_true(v == 123.0);
    assert_int_equal(weft_parse_f64(text, text + 6, &v), 0); /* "12345e" */
    /* exact-size heap copies let the sanitizers see any read past the end */
    const char *exact[] = {
        "1", "-", "1e", "1.", ".5", "inf", "nan", "1e+", "123456789012345678901"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        size_t n = strlen(exact[i]);
        char *copy = malloc(n);
        memcpy(copy, exact[i], n);
        double d;
        float f;
        int64_t s;
        uint64_t u;
        (void)weft_parse_f64(copy, copy + n, &d);
        (void)weft_parse_f32(copy, copy + n, &f);
        (void)weft_parse_i64(copy, copy + n, &s);
        (void)weft_parse_u64(copy, copy + n, &u);
        free(copy);
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"",     "-",     "+",   "1e",  "1e+",  "1.2.3", "0x10", " 1",  "1 ",
                         ".",    "-.",    "e5",  ".e5", "1e5.", "--1",   "+-1",  "in",  "infinit",
                         "nan1", "1_000", "1,5", "1d5", "inff", "i nf",  "\t1",  "1\n", "0x1p3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d = 42;
        float f = 42;
        if (weft_parse_f64(bad[i], bad[i] + strlen(bad[i]), &d))
            fail_msg("accepted \"%s\"", bad[i]);
        if (weft_parse_f32(bad[i], bad[i] + strlen(bad[i]), &f))
            fail_msg("f32 accepted \"%s\"", bad[i]);
        assert_true(d == 42 && f == 42); /* untouched */
    }
}

/* Random decimals of every shape against strtod/strtof, bit for bit. */
static void random_decimal(uint64_t *seed, char *buf)
{
    char *o = buf;
    uint64_t r = test_rng(seed);
    if (r & 1) *o++ = '-';
    int digits = 1 + (int)((r >> 1) % 40);
    int point = (int)((r >> 8) % (uint64_t)(digits + 2)) - 1; /* -1: no point */
    for (int i = 0; i < digits; i++) {
        if (i == point) *o++ = '.';
        uint64_t d = test_rng(seed);
        /* runs of 9s and 0s make carries and halfway-looking tails */
        *o++ = (char)('0' + (d % 4 == 0 ? 9 : d % 4 == 1 ? 0 : (d >> 8) % 10));
    }
    if (point == digits) *o++ = '.';
    if ((r >> 16) % 4) {
        int e = (int)((r >> 20) % 700) - 360;
        o += sprintf(o, "%c%d", (r >> 40) & 1 ? 'e' : 'E', e);
    }
    *o = '\0';
}

static void test_parse_random(void **state)
{
    (void)state;
    uint64_t seed = 2024;
    char buf[128];
    for (int i = 0; i < sweep(500000); i++) {
        random_decimal(&seed, buf);
        size_t n = strlen(buf);
        double d;
        float f;
        assert_int_equal(weft_parse_f64(buf, buf + n, &d), 1);
        double ref = strtod(buf, NULL);
        if (bits_of(d) != bits_of(ref)) fail_msg("%s: %a, strtod %a", buf, d, ref);
        if (i % 2 == 0) {
            assert_int_equal(weft_parse_f32(buf, buf + n, &f), 1);
            float ref32 = strtof(buf, NULL);
            if (bits_of_f32(f) != bits_of_f32(ref32))
                fail_msg("%s: %a, strtof %a", buf, (double)f, (double)ref32);
        }
    }
}

/* Exact midpoints between neighbouring doubles (and floats), and a hair either side:
 * round-half-even decides, and one far digit flips it. */
static void check_decimal_text(const char *text)
{
    size_t n = strlen(text);
    double d;
    float f;
    assert_int_equal(weft_parse_f64(text, text + n, &d), 1);
    double ref = strtod(text, NULL);
    if (bits_of(d) != bits_of(ref)) fail_msg("%.60s...: %a, strtod %a", text, d, ref);
    assert_int_equal(weft_parse_f32(text, text + n, &f), 1);
    float ref32 = strtof(text, NULL);
    if (bits_of_f32(f) != bits_of_f32(ref32))
        fail_msg("%.60s...: %a, strtof %a", text, (double)f, (double)ref32);
}

/* text is "D.DDDDe+XX"; also checks a hair above and a hair below it. */
static void check_around(const char *text)
{
    static char near[2048];
    check_decimal_text(text);
    const char *e = strchr(text, 'e');
    int mantissa = (int)(e - text);
    snprintf(near, sizeof near, "%.*s000000000000000000001%s", mantissa, text, e);
    check_decimal_text(near);
    int last = mantissa - 1; /* the last nonzero digit, minus one, then nines */
    while (last > 0 && (text[last] == '0' || text[last] == '.'))
        last--;
    if (text[last] < '1' || text[last] > '9') return;
    snprintf(near, sizeof near, "%.*s%c999999999999999999999999999999%s", last, text,
             text[last] - 1, e);
    check_decimal_text(near);
}

static void test_parse_halfway(void **state)
{
    (void)state;
#if LDBL_MANT_DIG < 64
    skip();
#else
    static char text[2048];
    uint64_t seed = 77;
    for (int i = 0; i < sweep(20000); i++) {
        uint64_t b = test_rng(&seed) >> 1;
        if (i % 4 == 0) b >>= 12; /* subnormals: 2^-1075 times odd */
        double lo = double_of(b);
        if (!isfinite(lo) || !isfinite(nextafter(lo, INFINITY))) continue;
        long double mid = ((long double)lo + (long double)nextafter(lo, INFINITY)) / 2;
        snprintf(text, 1200, "%.780Le", mid); /* exact: 767 digits suffice */
        check_around(text);
    }
    for (int i = 0; i < sweep(20000); i++) {
        uint32_t b = (uint32_t)test_rng(&seed) >> 1;
        float lo = float_of(b);
        if (!isfinite(lo) || !isfinite(nextafterf(lo, INFINITY))) continue;
        double mid = ((double)lo + (double)nextafterf(lo, INFINITY)) / 2;
        snprintf(text, 1200, "%.200e", mid);
        check_around(text);
    }
#endif
}

static void test_parse_long_inputs(void **state)
{
    (void)state;
    /* thousands of digits: the canonical copy keeps 780 and a sticky digit */
    static char text[5000];
    uint64_t seed = 3;
    for (int i = 0; i < 200; i++) {
        size_t n = 800 + (size_t)(test_rng(&seed) % 3000);
        size_t k = 0;
        if (i % 2) text[k++] = '-';
        text[k++] = '0';
        text[k++] = '.';
        for (; k < n; k++)
            text[k] = i % 3 ? (char)('0' + test_rng(&seed) % 10) : '0';
        text[n - 1] = '1';
        sprintf(text + n, "e%d", (int)(test_rng(&seed) % 700) - 350 + (int)n / 2);
        check_decimal_text(text);
    }
}

/* A locale whose decimal point is a comma changes strtod, not weft's parser (its slow path
 * hands strtod no point) nor its writers. Skipped where no such locale is installed. */
static void test_locale_independent(void **state)
{
    (void)state;
    static char long_text[1200];
    memset(long_text, '0', sizeof long_text - 1);
    memcpy(long_text, "1.5", 3);
    long_text[900] = '1'; /* 900 digits: the strtod tier */
    long_text[901] = '\0';
    double expect = strtod(long_text, NULL), got;
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                           "fr_FR.utf8",  "de_DE",      "fr_FR"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    if (!set) skip();
    assert_true(strtod("1.5", NULL) != 1.5); /* the locale really reads "1,5" */
    assert_int_equal(weft_parse_f64(long_text, long_text + 901, &got), 1);
    assert_true(got == expect);
    assert_int_equal(weft_parse_f64("2.5", "2.5" + 3, &got), 1);
    assert_true(got == 2.5);
    char buf[WEFT_FORMAT_MAX + 1];
    format_f64(2.5, buf);
    setlocale(LC_NUMERIC, "C");
    assert_string_equal(buf, "2.5");
}

static void test_integers(void **state)
{
    (void)state;
    char buf[WEFT_FORMAT_MAX + 1], expect[32];
    int64_t s;
    uint64_t u;
    const int64_t signed_edges[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof signed_edges / sizeof signed_edges[0]; i++) {
        size_t n = weft_format_i64(signed_edges[i], buf);
        buf[n] = '\0';
        snprintf(expect, sizeof expect, "%lld", (long long)signed_edges[i]);
        assert_string_equal(buf, expect);
        assert_int_equal(weft_parse_i64(buf, buf + n, &s), 1);
        assert_true(s == signed_edges[i]);
    }
    uint64_t seed = 8;
    for (int i = 0; i < sweep(1000000); i++) {
        uint64_t r = test_rng(&seed) >> (i % 64);
        size_t n = weft_format_u64(r, buf);
        buf[n] = '\0';
        snprintf(expect, sizeof expect, "%llu", (unsigned long long)r);
        assert_string_equal(buf, expect);
        assert_int_equal(weft_parse_u64(buf, buf + n, &u), 1);
        assert_true(u == r);
        int64_t v = (int64_t)r * (i % 2 ? -1 : 1);
        n = weft_format_i64(v, buf);
        buf[n] = '\0';
        snprintf(expect, sizeof expect, "%lld", (long long)v);
        assert_string_equal(buf, expect);
        assert_int_equal(weft_parse_i64(buf, buf + n, &s), 1);
        assert_true(s == v);
    }
    static const struct {
        const char *text;
        int ok_i64, ok_u64;
    } cases[] = {
        {"9223372036854775807", 1, 1},
        {"9223372036854775808", 0, 1},
        {"-9223372036854775808", 1, 0},
        {"-9223372036854775809", 0, 0},
        {"18446744073709551615", 0, 1},
        {"18446744073709551616", 0, 0},
        {"99999999999999999999", 0, 0},
        {"100000000000000000000", 0, 0},
        {"0000000000000000000000000001", 1, 1},
        {"+5", 1, 1},
        {"-0", 1, 0},
        {"", 0, 0},
        {"-", 0, 0},
        {"+", 0, 0},
        {"1.0", 0, 0},
        {"1e3", 0, 0},
        {" 1", 0, 0},
        {"1 ", 0, 0},
        {"0x10", 0, 0},
        {"--1", 0, 0},
        {"1_000", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        size_t n = strlen(t);
        if (weft_parse_i64(t, t + n, &s) != cases[i].ok_i64) fail_msg("i64 \"%s\"", t);
        if (cases[i].ok_i64) assert_true(s == strtoll(t, NULL, 10));
        if (weft_parse_u64(t, t + n, &u) != cases[i].ok_u64) fail_msg("u64 \"%s\"", t);
        if (cases[i].ok_u64) assert_true(u == strtoull(t, NULL, 10));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr_table),
        cmocka_unit_test(test_writes_stay_in_bounds),
        cmocka_unit_test(test_round_trip_random_bits),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_python_repr),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_random),
        cmocka_unit_test(test_parse_halfway),
        cmocka_unit_test(test_parse_long_inputs),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
