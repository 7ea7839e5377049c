/* The screen for scalars that may steer a kernel's reads and writes
 * (src/ops/launch_scalars.c): a scalar whose value only flows into stored
 * elements is left out of a launch's checked values; any other use, and
 * any source the screen cannot read, steers. */
#include "common.h"

#include "../src/ops/kernel_if.h"
#include "../src/ops/kernel_source.h"
#include "../src/ops/launch_check.h"
#include "../src/ops/launch_scalars.h"

static int steers(const char *source, const char *name, size_t nparams, size_t k)
{
    return (int)(weft_launch_steering_scalars(source, NULL, name, nparams) >> k & 1);
}

static void test_stored_values_do_not_steer(void **state)
{
    (void)state;
    const char *heat = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
                       "__kernel void heat(__global const double *u, __global double *v,\n"
                       "                   const int n, const double r, int step) /* step */\n"
                       "{\n"
                       "    int i = get_global_id(0);\n"
                       "    if (i == 0 || i == n - 1) { v[i] = u[i] + 1e-12 * step; return; }\n"
                       "    v[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);\n"
                       "}\n";
    assert_true(steers(heat, "heat", 5, 2));  /* n: in a condition */
    assert_false(steers(heat, "heat", 5, 3)); /* r: a factor of the stored value */
    assert_false(steers(heat, "heat", 5, 4)); /* step */
    /* Through a stored array into another stored value. */
    const char *chain = "kernel void c(global float *a, global float *b, float s)\n"
                        "{ int i = get_global_id(0); a[i] = s; b[i] += a[i] * 2.0f; }\n";
    assert_false(steers(chain, "c", 3, 2));
    const char *values = "__kernel void v(__global float *r, float a, float k) {\n"
                         "  r[get_global_id(0)] = a * k + (a) * k - (k == a) + r[0] * 2.0f; }\n";
    assert_false(steers(values, "v", 3, 1)); /* products and comparisons are values */
    assert_false(steers(values, "v", 3, 2));
}

static void test_other_uses_steer(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "r[k * n + k] = 1.0f;",                     /* an index */
        "if (get_global_id(0) == k) r[0] = 1.0f;",  /* a condition */
        "if (1) r[0] = k;",                         /* a store the screen does not parse */
        "r[0] = k > 2 ? r[1] : r[2];",              /* picks which element is read */
        "r[0] = f(r, k);",                          /* a call */
        "r[0] = k; r[(int)r[0]] = 2.0f;",           /* stored, then an index */
        "r[0] = k; int j = r[0]; r[j] = 1.0f;",     /* stored, then a variable */
        "int j = k; r[0] = j;",                     /* a variable */
        "for (int i = 0; i < k; i++) r[i] = 0.0f;", /* a loop bound */
        "k++; r[0] = k;",                           /* changed */
        "int j; r[0] = j = k; r[j] = 1.0f;",        /* a chained assignment */
        "int j; r[0] = k, j = k; r[j] = 1.0f;",     /* the comma operator */
        "r[get_global_id(0)] = *(r + k);",          /* a dereference */
        "r[get_global_id(0)] = (r + k)[0];",        /* an index of an expression */
    };
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        char source[512];
        snprintf(source, sizeof source,
                 "float f(global float *r, int k) { return r[k]; }\n"
                 "__kernel void t(__global float *r, int k, int n) { %s }\n",
                 bodies[b]);
        if (!steers(source, "t", 3, 1)) fail_msg("k does not steer in: %s", bodies[b]);
    }
    const char *macro =
        "#define K (k + 1)\n__kernel void t(__global float *r, int k) { r[0] = K; }\n";
    assert_true(steers(macro, "t", 2, 1));
    /* A macro the options define, or one from an included header. */
    const char *idx = "__kernel void t(__global float *r, int k) { r[IDX] = 1.0f; r[1] = k; }\n";
    assert_false(steers(idx, "t", 2, 1));
    assert_true(weft_launch_steering_scalars(idx, "-DIDX=k", "t", 2) >> 1 & 1);
    const char *header = "#include \"idx.h\"\n"
                         "__kernel void t(__global float *r, int k) { r[IDX] = 1.0f; r[1] = k; }\n";
    assert_true(steers(header, "t", 2, 1));
    /* Unreadable: no definition, another parameter count, no kernel. */
    const char *decl = "__kernel void t(__global float *r, int k);\n";
    assert_true(steers(decl, "t", 2, 1));
    const char *plain = "__kernel void t(__global float *r, int k) { r[0] = k; }\n";
    assert_false(steers(plain, "t", 2, 1));
    assert_true(steers(plain, "t", 3, 1));
    assert_true(steers(plain, "u", 2, 1));
}

static int steers_with(const char *source, const char *options, const char *name, size_t nparams,
                       size_t k)
{
    return (int)(weft_launch_steering_scalars(source, options, name, nparams) >> k & 1);
}

/* Quotes and braces in literals are not code: a '"' hid the rest of its
 * line (the store whose row k picks), a '}' ended the body before it, and
 * k was taken for a value: the writes into other devices' rows were lost on
 * copying devices. A brace in a directive, and a kernel defined twice where
 * weft cannot tell which definition is built, make every scalar steer. */
static void test_literals_directives_and_branches(void **state)
{
    (void)state;
    const char *quote = "kernel void q(global const uchar *t, global float *r, int k, int n)\n"
                        "{ int i = get_global_id(0); r[i * n] = t[i];\n"
                        "  if (i == 0 && t[0] != '\"') r[k * n] = 1.0f; }\n";
    assert_true(steers(quote, "q", 4, 2));
    const char *brace = "kernel void b(global const uchar *t, global float *r, int k, int n)\n"
                        "{ int i = get_global_id(0); r[i * n + 1] = t[i] == '}';\n"
                        "  if (i == 0) r[k * n] = 1.0f; }\n";
    assert_true(steers(brace, "b", 4, 2));
    const char *escaped = "kernel void e(global float *r, float a, int k)\n"
                          "{ int i = get_global_id(0); printf(\"\\\" %d\", i); r[i] = a;\n"
                          "  if (i == 0) r[k] = 1.0f; }\n";
    assert_true(steers(escaped, "e", 3, 2));
    const char *macro =
        "#define CLOSE }\n"
        "kernel void m(global float *r, float a) { r[get_global_id(0)] = a; CLOSE\n";
    assert_true(steers(macro, "m", 2, 1));
    const char *twice =
        "#ifdef FAST\n"
        "kernel void t(global float *r, int k) { r[get_global_id(0)] = k; }\n"
        "#else\n"
        "kernel void t(global float *r, int k) { if (get_global_id(0) == 0) r[k] = 1; }\n"
        "#endif\n";
    assert_true(steers_with(twice, NULL, "t", 2, 1));      /* the #else one is built */
    assert_false(steers_with(twice, "-DFAST", "t", 2, 1)); /* the first is */
    const char *unknown =
        "#if WIDTH * 2 > 8\n"
        "kernel void u(global float *r, int k) { r[get_global_id(0)] = k; }\n"
        "#else\n"
        "kernel void u(global float *r, int k) { if (get_global_id(0) == 0) r[k] = 1; }\n"
        "#endif\n";
    assert_true(steers_with(unknown, "-DWIDTH=8", "u", 2, 1)); /* both stay: cannot tell */
}

/* Types chosen by #if: `#if 0` and `#if PREC == 1` (built with -DPREC=2)
 * took the first, inactive typedef, and an f32 array was accepted for a
 * struct of doubles the kernel then overran. */
static void test_types_chosen_by_if(void **state)
{
    (void)state;
    const char *source = "#if PREC == 1\n"
                         "typedef struct { float x; float y; } P;\n"
                         "#elif 0\n"
                         "typedef struct { int x; } P;\n"
                         "#else\n"
                         "typedef struct { double x; double y; } P;\n"
                         "#endif\n"
                         "#if 0\n"
                         "typedef float T;\n"
                         "#else\n"
                         "typedef double T;\n"
                         "#endif\n";
    char type[64];
    weft_kernel_type_resolve(source, "-DPREC=2", "P*", type, sizeof type);
    assert_string_equal(type, "double*");
    assert_int_equal(weft_kernel_pointee_size(source, "-DPREC=2", "P*"), 16);
    weft_kernel_type_resolve(source, "-DPREC=1", "P*", type, sizeof type);
    assert_string_equal(type, "float*");
    assert_int_equal(weft_kernel_pointee_size(source, "-D PREC=1", "P*"), 8);
    weft_kernel_type_resolve(source, NULL, "T*", type, sizeof type); /* PREC undefined: 0 */
    assert_string_equal(type, "double*");
    static const struct {
        const char *condition;
        int value;
    } conditions[] = {{"0", 0},
                      {"1", 1},
                      {" defined(A) && !defined B", 1},
                      {"A == 3 || B", 1},
                      {"A != 3", 0},
                      {"(A >= 4) || C", 0},
                      {"-1 < A", 1},
                      {"A * 2", -1},
                      {"F(1)", -1},
                      {"", -1}};
    const char *text = "#define C 0x0\n";
    for (size_t k = 0; k < sizeof conditions / sizeof conditions[0]; k++)
        assert_int_equal(weft_kernel_if_value(text, strlen(text), conditions[k].condition,
                                              strlen(conditions[k].condition), "-DA=3"),
                         conditions[k].value);
    /* Deep nesting is refused, not recursed into. */
    static char deep[200001];
    memset(deep, '(', 100000);
    memset(deep + 100000, '!', 100000);
    assert_int_equal(weft_kernel_if_value(text, strlen(text), deep, strlen(deep), NULL), -1);
    /* The last -D of a name wins, as in the compiler. */
    assert_int_equal(weft_kernel_if_value("", 0, "PREC == 64", 10, "-DPREC=32 -DPREC=64"), 1);
    weft_kernel_type_resolve("", "-DT=float -DT=double", "T*", type, sizeof type);
    assert_string_equal(type, "double*");
    /* The last #define or #undef before the line decides, over a -D too. */
    const char *undone = "#define A 3\n#define D\n#undef D\n#undef A\n#define E 1\n";
    assert_int_equal(weft_kernel_if_value(undone, strlen(undone), "defined(D)", 10, NULL), 0);
    assert_int_equal(weft_kernel_if_value(undone, strlen(undone), "A", 1, "-DA=3"), 0);
    assert_int_equal(weft_kernel_if_value(undone, 12, "A == 3", 6, NULL), 1);
    assert_int_equal(weft_kernel_if_value(undone, strlen(undone), "E", 1, NULL), 1);
    /* A name reserved for the implementation that weft was not told of
     * may be the compiler's: unknown; one it was told of has its value. */
    assert_int_equal(weft_kernel_if_value("", 0, "__OPENCL_VERSION__ >= 110", 25, NULL), -1);
    assert_int_equal(weft_kernel_if_value("", 0, "defined(__FAST_RELAXED_MATH__)", 30, NULL), -1);
    assert_int_equal(
        weft_kernel_if_value("", 0, "__OPENCL_VERSION__ >= 110", 25, "-D__OPENCL_VERSION__=300"),
        1);
    /* A header may define what the source does not: unknown. */
    const char *with_header = "#include \"x.h\"\n";
    assert_int_equal(weft_kernel_if_value(with_header, strlen(with_header), "X", 1, NULL), -1);
}

/* Records sized as the compiler lays them out (finding: a mat4 of float
 * m[4][4] taken for 16 bytes, an aligned(16) vec3 for 12; the kernel wrote
 * past arrays sized by them). */
static void test_record_layouts(void **state)
{
    (void)state;
    const char *source = "#define LEN 5\n"
                         "typedef struct { float m[4][4]; } mat4;\n"
                         "typedef struct __attribute__((aligned(16))) { float x, y, z; } vec3a;\n"
                         "typedef struct { float x, y, z; } __attribute__((aligned(32))) vec3b;\n"
                         "typedef struct { char c; int v[LEN]; } sized;\n"
                         "typedef struct { char c[WIDTH]; } by_option;\n"
                         "typedef struct { float x; int y; } aligned_pair;\n"
                         "typedef struct __attribute__((packed)) { char c; int v; } tight;\n"
                         "typedef struct { int v[n]; } unknown_length;\n";
    static const struct {
        const char *type;
        size_t size;
    } cases[] = {{"mat4*", 64},     {"vec3a*", 16},       {"vec3b*", 32}, {"sized*", 24},
                 {"by_option*", 3}, {"aligned_pair*", 8}, {"tight*", 0},  {"unknown_length*", 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (weft_kernel_pointee_size(source, "-DWIDTH=3", cases[k].type) != cases[k].size)
            fail_msg("%s: %zu bytes, %zu expected", cases[k].type,
                     weft_kernel_pointee_size(source, "-DWIDTH=3", cases[k].type), cases[k].size);
}

/* The loose-math screen sees what the compiler sees: a built-in named in a
 * -D value (AMD Mandelbrot's -D MUL_ADD=mad) or in a header's macro, an
 * FP_CONTRACT pragma turned on, the geometric built-ins (PoCL's dot is an
 * fma chain), and every relaxing option. Each of these left host_fn a
 * placement choice, and identical launches gave other bits. */
static void test_loose_math_seen_where_the_compiler_sees_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/weft-loose-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char header[64], include[80];
    snprintf(header, sizeof header, "%s/act.h", dir);
    FILE *f = fopen(header, "w");
    assert_non_null(f);
    fputs("#define SOFTPLUS(x) log(1.0f + exp(x))\n", f);
    fclose(f);
    snprintf(include, sizeof include, "-I %s", dir);
    const char *plain = "__kernel void k(__global float *o, __global const float *a)\n"
                        "{ size_t i = get_global_id(0); o[i] = a[i] * a[i] + 0.1f; }\n";
    const char *by_option = "__kernel void k(__global float *o, __global const float *a)\n"
                            "{ size_t i = get_global_id(0); o[i] = MUL_ADD(a[i], a[i], 0.1f); }\n";
    const char *by_header = "#include \"act.h\"\n"
                            "__kernel void k(__global float *o, __global const float *a)\n"
                            "{ size_t i = get_global_id(0); o[i] = SOFTPLUS(a[i]); }\n";
    const char *pragma = "#pragma OPENCL FP_CONTRACT ON\n"
                         "__kernel void k(__global float *o, __global const float *a)\n"
                         "{ size_t i = get_global_id(0); o[i] = a[i] * a[i] + 0.1f; }\n";
    const char *pragma_off = "#pragma OPENCL FP_CONTRACT OFF\n"
                             "__kernel void k(__global float *o, __global const float *a)\n"
                             "{ size_t i = get_global_id(0); o[i] = a[i] * a[i] + 0.1f; }\n";
    const char *geometric = "__kernel void k(__global float *o, __global const float4 *a)\n"
                            "{ size_t i = get_global_id(0); o[i] = dot(a[i], a[i]); }\n";
    assert_false(weft_kernel_source_inexact_math(plain, NULL));
    assert_false(weft_kernel_source_inexact_math(pragma_off, NULL));
    assert_false(weft_kernel_source_inexact_math(by_option, "-D MUL_ADD=fma"));
    assert_true(weft_kernel_source_inexact_math(by_option, "-D MUL_ADD=mad"));
    assert_true(weft_kernel_source_inexact_math(by_header, include));
    assert_true(weft_kernel_source_inexact_math(pragma, NULL));
    assert_true(weft_kernel_source_inexact_math(geometric, NULL));
    assert_true(weft_kernel_source_inexact_math(plain, "-cl-no-signed-zeros"));
    /* Words that are no call: an include path, -w, a variable named length. */
    assert_false(weft_kernel_source_inexact_math(plain, "-w -I /tmp/exp -I lib/length"));
    const char *named = "__kernel void k(__global float *o, int length)\n"
                        "{ size_t i = get_global_id(0); o[i] = (float)length * 2.0f; }\n";
    assert_false(weft_kernel_source_inexact_math(named, NULL));
    const char *defined = "#define MUL mad\n"
                          "__kernel void k(__global float *o)\n"
                          "{ size_t i = get_global_id(0); o[i] = MUL(o[i], 2.0f, 1.0f); }\n";
    assert_true(weft_kernel_source_inexact_math(defined, NULL));
    assert_true(weft_kernel_source_inexact_math(plain, "-cl-finite-math-only"));
    unlink(header);
    rmdir(dir);
}

/* A whole argument whose parameter is not const is taken as read-only when
 * every use is a subscript read (suite inputs rarely say const); any other
 * use may write it. */
static void test_pointer_parameters_only_read(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int only_read;
    } cases[] = {{"y[i] = data[i * 3 + 1] + data[i];", 1},
                 {"y[i] = data[i] == 3 || data[i] <= 2 || data[i] != 1;", 1},
                 {"y[i] = data[data[i] % 4];", 1},
                 {"data[i] = 1;", 0},
                 {"data[i] += 1;", 0},
                 {"data[i]++;", 0},
                 {"++data[i];", 0},
                 {"data[i] <<= 1;", 0},
                 {"atomic_inc(&data[i]);", 0},
                 {"*data = 1;", 0},
                 {"__global int *q = data; q[i] = 0;", 0},
                 {"vstore4((int4)(0), i, data);", 0},
                 {"y[i] = helper(data, i);", 0},
                 /* Parenthesised, as an lvalue or an address. */
                 {"(data[i]) += 1;", 0},
                 {"((data[i])) = 2;", 0},
                 {"(data[i])++;", 0},
                 {"++(data[i]);", 0},
                 {"atomic_inc(&(data[i]));", 0},
                 {"y[i] = (data[i]) * 2 + (data[i + 1]);", 1},
                 {"y[i] = y[i] & (data[i]);", 1},
                 {"y[i] = y[i] && data[i];", 1},
                 /* An argument of a function (by value) is read. */
                 {"y[i] = max(data[i], 0) + clamp(data[i], 1, 2);", 1},
                 /* A cast of its address writes through it; a parenthesised
                  * condition is no lvalue of the next statement. */
                 {"atomic_xchg((volatile global int *)&data[i], 42);", 0},
                 {"atomic_add((global int*) & data[0], 1);", 0},
                 {"y[i] = (y[i] + 1) & data[i];", 1},
                 {"if (data[i]) ++y[i];", 1},
                 {"if ((data[i])) y[i]--;", 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char source[512];
        snprintf(
            source, sizeof source,
            "kernel void f(global int *y, global int *data) { int i = get_global_id(0); %s }\n",
            cases[k].body);
        if (weft_launch_param_only_read(source, NULL, "f", "data") != cases[k].only_read)
            fail_msg("\"%s\": only read should be %d", cases[k].body, cases[k].only_read);
    }
    /* Named in a -D macro's body it may be written; a word of another
     * option (-w, an -I path) is no macro. */
    const char *reads = "kernel void f(global int *y, global int *w) { int i = get_global_id(0); "
                        "y[i] = w[i]; }\n";
    assert_int_equal(weft_launch_param_only_read(reads, "-w -I /tmp/w", "f", "w"), 1);
    assert_int_equal(weft_launch_param_only_read(reads, "-DFLAG=w[0]", "f", "w"), 0);
    assert_int_equal(weft_launch_param_only_read(reads, "-D FLAG=w[0]", "f", "w"), 0);
    const char *member =
        "typedef struct { float x; } P;\n"
        "kernel void g(global float *y, global P *p) { y[0] = p[0].x; p[1].x = 2; }\n";
    assert_false(weft_launch_param_only_read(member, NULL, "g", "p"));
    assert_true(weft_launch_param_only_read(member, NULL, "g", "y") == 0); /* written */
    /* A macro may write what it names (finding: a convergence flag raised
     * through `#define NOT_DONE (done[0])`). */
    const char *through_macro = "#define NOT_DONE (done[0])\n"
                                "kernel void h(global const int *in, global int *done) {\n"
                                "    int i = get_global_id(0); if (in[i]) NOT_DONE = 1; }\n";
    assert_false(weft_launch_param_only_read(through_macro, NULL, "h", "done"));
    assert_true(weft_launch_param_only_read(through_macro, NULL, "h", "in"));
    /* An element passed to a function-like macro may be assigned by it
     * (CLBlast's `#define MultiplyAdd(c,a,b) c += a * b`, a histogram's
     * `#define INC(x) atomic_inc(&(x))`), whatever it is named; a macro
     * of the options too. Its other arguments and a function's are read. */
    const char *madd = "#define MultiplyAdd(c, a, b) c += a * b\n"
                       "#define Square(v) ((v) * (v))\n"
                       "kernel void m(global float *y, global const float *x, float a) {\n"
                       "    int i = get_global_id(0);\n"
                       "    MultiplyAdd(y[i * 2 + 1], a, Square(x[i])); }\n";
    assert_false(weft_launch_param_only_read(madd, NULL, "m", "y"));
    assert_false(weft_launch_param_only_read(madd, NULL, "m", "x")); /* in a macro: may be */
    const char *inc = "#define INC(x) atomic_inc(&(x))\n"
                      "kernel void hist(global const uint *d, global uint *bins) {\n"
                      "    INC(bins[d[get_global_id(0)] & 255]); }\n";
    assert_false(weft_launch_param_only_read(inc, NULL, "hist", "bins"));
    const char *opt = "kernel void o(global float *y, global const float *x) {\n"
                      "    int i = get_global_id(0); ADD(y[i], x[i]); }\n";
    assert_false(weft_launch_param_only_read(opt, "-DADD(c,v)=c+=v", "o", "y"));
    assert_false(weft_launch_param_only_read(opt, "-D ADD(c,v)=c+=v", "o", "y"));
    assert_false(weft_launch_param_only_stored(opt, "-DADD(c,v)=c+=v", "o", "y"));
    assert_false(weft_launch_param_only_read(opt, "-D\"ADD(c,v)=c+=v\"", "o", "y"));
    assert_true(weft_launch_param_only_read(opt, "-DADD(c,v)=(c)+(v)", "o", "y")); /* computes */
    /* A macro that only computes reads; one calling a macro that assigns,
     * or an object-like name standing for one, may write. */
    const char *computes = "#define MAX2(a, b) ((a) > (b) ? (a) : (b))\n"
                           "#define SQ(v) ((v) * (v))\n"
                           "kernel void c(global float *y, global float *x) {\n"
                           "    int i = get_global_id(0); y[i] = MAX2(x[i], 0.0f) + SQ(x[i]); }\n";
    assert_true(weft_launch_param_only_read(computes, NULL, "c", "x"));
    const char *nested = "#define SET(v) v = 1\n"
                         "#define MARK(v) SET(v)\n"
                         "#define BUMP MARK\n"
                         "kernel void n(global int *a, global int *b) {\n"
                         "    int i = get_global_id(0); MARK(a[i]); BUMP(b[i]); }\n";
    assert_false(weft_launch_param_only_read(nested, NULL, "n", "a"));
    assert_false(weft_launch_param_only_read(nested, NULL, "n", "b"));
}

/* The launch's keys as snprintf wrote them before they were made by hand:
 * the same keys, so the same split verdicts. The split key and the sizes in
 * full; each argument's number after them (its array's size, its local
 * bytes, a scalar's bits or 0) as "%llx" prints it. */
static void check_keys(const weft_launch_job *job)
{
    static const char kinds[] = "shwvl";
    char split[1024], values[1024];
    int len = snprintf(split, sizeof split, "%s/%u/%u/%d/", job->name, job->range.dims,
                       weft_range_split_dim(&job->range), job->range.local[0] != 0);
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        len += snprintf(split + len, sizeof split - (size_t)len, "%c%zu",
                        kinds[a->kind <= WEFT_ARG_LOCAL ? a->kind : 0],
                        a->kind == WEFT_ARG_HALO ? a->halo : 0);
    }
    assert_string_equal(job->split_key, split);
    const weft_range *r = &job->range;
    int at = snprintf(values, sizeof values, "%s=%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu", split,
                      r->size[0], r->size[1], r->size[2], r->local[0], r->local[1], r->local[2],
                      job->first, job->last);
    assert_int_equal(strncmp(job->values_key, values, (size_t)at), 0);
    const char *p = job->values_key + at;
    for (size_t k = 0; k < job->nargs; k++) {
        assert_int_equal(*p, ',');
        char *end;
        unsigned long long v = strtoull(p + 1, &end, 16);
        const weft_arg *a = &job->args[k];
        uint64_t bits = 0; /* a scalar's value, or 0 where it cannot steer */
        if (a->kind == WEFT_ARG_SCALAR) memcpy(&bits, &a->value, weft_dtype_size(a->dtype));
        uint64_t want = a->kind <= WEFT_ARG_WHOLE    ? a->array->n
                        : a->kind == WEFT_ARG_LOCAL  ? a->local_bytes
                        : a->kind == WEFT_ARG_SCALAR ? bits
                                                     : 0;
        assert_true(v == want || (a->kind == WEFT_ARG_SCALAR && v == 0));
        char printed[24];
        int n = snprintf(printed, sizeof printed, "%llx", v);
        assert_int_equal(end - (p + 1), n);
        assert_int_equal(strncmp(p + 1, printed, (size_t)n), 0);
        p = end;
    }
    assert_int_equal(*p, '\0');
}

static void test_launch_keys_read_as_printed(void **state)
{
    (void)state;
    weft_ctx *ctx = NULL;
    assert_int_equal(weft_ctx_create(NULL, &ctx), WEFT_OK);
    const char *source = "kernel void k(global float *a, global float *b, float s, int n,\n"
                         "              local float *t, global float *c)\n"
                         "{ int i = get_global_id(0); if (i < n) b[i] = a[i] * s + c[0]; }\n";
    weft_program *program = NULL;
    assert_int_equal(weft_program_build(ctx, source, NULL, &program), WEFT_OK);
    weft_array *arrays[3];
    size_t sizes[3] = {1, 4096, 70001};
    for (int k = 0; k < 3; k++)
        assert_int_equal(weft_array_create(ctx, WEFT_F32, sizes[k], &arrays[k]), WEFT_OK);
    char name[] = "k";
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 500; round++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t big = (size_t)(rng >> (rng & 63)); /* every magnitude, 0 and 2^64 - 1 */
        weft_arg args[6] = {weft_arg_halo(arrays[rng % 3], round % 3 ? big : 0),
                            weft_arg_slice(arrays[(rng >> 3) % 3]),
                            weft_arg_f32((float)(int64_t)big * 1e-3f),
                            weft_arg_i32((int32_t)rng),
                            weft_arg_local(round % 2 ? big : 0),
                            round % 4 ? weft_arg_whole(arrays[(rng >> 5) % 3]) : weft_arg_u64(big)};
        weft_launch_job job = {0};
        job.program = program;
        job.name = name;
        job.range = (weft_range){(unsigned)(round % 3) + 1,
                                 {big, round % 5 ? 1 : big >> 7, round % 7},
                                 {round % 2 ? 0 : big % 1024, 0, 1}};
        job.first = round % 11 ? 0 : big >> 3;
        job.last = big;
        job.args = args;
        job.nargs = (size_t)(round % 7);
        assert_int_equal(weft_launch_split_key(&job), WEFT_OK);
        check_keys(&job);
        free(job.split_key);
        free(job.values_key);
    }
    for (int k = 0; k < 3; k++)
        weft_array_free(arrays[k]);
    weft_program_free(program);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_values_do_not_steer),
        cmocka_unit_test(test_other_uses_steer),
        cmocka_unit_test(test_literals_directives_and_branches),
        cmocka_unit_test(test_types_chosen_by_if),
        cmocka_unit_test(test_record_layouts),
        cmocka_unit_test(test_loose_math_seen_where_the_compiler_sees_it),
        cmocka_unit_test(test_pointer_parameters_only_read),
        cmocka_unit_test(test_launch_keys_read_as_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
