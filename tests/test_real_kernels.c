/* Kernels as public benchmark suites write them, one pattern each (written
 * here from descriptions of those suites' kernels): each must give the bits
 * of a plain C reference, which is what one device gives, on one, two or
 * three devices, zero-copy or copying, and on the pool through its host_fn.
 * The suites declare `typedef float DATA_TYPE`, no const, write outside
 * their rows and read get_global_size and get_group_id. */
#include "common.h"
#include "set_diag_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 96 }; /* rows and columns: not a power of two, splits unevenly */

static weft_program *build(weft_ctx *ctx, const char *source)
{
    weft_program *p = NULL;
    weft_status st = weft_program_build(ctx, source, NULL, &p);
    if (st != WEFT_OK) fail_msg("build: %s\n%s", weft_last_error(), weft_program_build_log(p));
    return p;
}

/* A context with an OpenCL device, or the test is skipped: the signature
 * (types, sizes) is the device's to tell. */
static weft_ctx *ctx_telling_signatures(void)
{
    weft_ctx *ctx = test_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    return ctx;
}

/* Runs f over the work-items [begin, end) of the split dimension, as the
 * pool does with a launch's host_fn. */
#define HOST_ITEMS(call, i) for (size_t i = (call)->begin; i < (call)->end; i++)

/* ---- mirrored writes (a covariance): row j1 writes sym[j2][j1] too ---- */

static const char mirror_source[] =
    "typedef float DATA_TYPE;\n"
    "__kernel void mirror(__global DATA_TYPE *sym, __global DATA_TYPE *data, int m, int n)\n"
    "{\n"
    "    int j1 = get_global_id(0);\n"
    "    if (j1 >= m) return;\n"
    "    for (int j2 = j1; j2 < m; j2++) {\n"
    "        DATA_TYPE s = 0;\n"
    "        for (int i = 0; i < n; i++) s += data[i * m + j1] * data[i * m + j2];\n"
    "        sym[j1 * m + j2] = s;\n"
    "        sym[j2 * m + j1] = s;\n"
    "    }\n"
    "}\n";

static void mirror_rows(float *sym, const float *data, int m, int n, size_t begin, size_t end)
{
    for (size_t j1 = begin; j1 < end; j1++)
        for (int j2 = (int)j1; j2 < m; j2++) {
            float s = 0;
            for (int i = 0; i < n; i++)
                s += data[i * m + (int)j1] * data[i * m + j2];
            sym[j1 * (size_t)m + (size_t)j2] = s;
            sym[(size_t)j2 * (size_t)m + j1] = s;
        }
}

static void mirror_host(const weft_host_call *call)
{
    mirror_rows(call->args[0], call->args[1], *(const int *)call->args[2],
                *(const int *)call->args[3], call->begin, call->end);
}

/* warm_up: the kernel runs first on zero data (a warm-up, a simulation's
 * zero start): its mirrored writes store 0 over 0, so a check comparing
 * values saw the split agree, and later launches with real data split
 * unchecked and lost the writes on copying devices. The check must see
 * where a piece writes, whatever it stores. */
static void check_mirror(int warm_up)
{
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, mirror_source);
    float *data = malloc(sizeof(float) * N * N), *want = calloc(N * N, sizeof(float));
    float *got = malloc(sizeof(float) * N * N), *zeros = calloc(N * N, sizeof(float));
    fill_f32(data, N * N, warm_up ? 5 : 3);
    mirror_rows(want, data, N, N, 0, N);
    weft_array *sym, *d;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N * N, &sym));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, warm_up ? zeros : data, &d));
    weft_range r = weft_range_1d(N);
    weft_arg args[] = {weft_arg_slice(sym), weft_arg_whole(d), weft_arg_i32(N), weft_arg_i32(N)};
    if (warm_up) {
        ASSERT_OK(weft_launch(p, "mirror", &r, args, 4, mirror_host, NULL, NULL)); /* 0 over 0 */
        ASSERT_OK(weft_array_write(d, 0, N * N, data));
    }
    fill_f32(got, N * N, 4);
    for (int round = 0; round < 3; round++) { /* the first is checked, the next run learned */
        ASSERT_OK(weft_array_write(sym, 0, N * N, got)); /* garbage in: all of it is written */
        ASSERT_OK(weft_launch(p, "mirror", &r, args, 4, mirror_host, NULL, NULL));
        ASSERT_OK(weft_array_read(sym, 0, N * N, got));
        assert_true(same_floats(got, want, N * N));
    }
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    if (selected_opencl(ctx) > 1) assert_int_equal(st.splits_checked, 1);
    if (copying_opencl(ctx) > 1) { /* where the mirrored writes would be lost */
        assert_int_equal(st.kernels_kept_whole, 1);
        assert_non_null(strstr(weft_ctx_notes(ctx), "kernel mirror runs on one device"));
    }
    weft_array_free(sym);
    weft_array_free(d);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(data);
    free(want);
    free(got);
    free(zeros);
}

static void test_mirrored_writes(void **state)
{
    (void)state;
    check_mirror(0);
}

static void test_mirrored_writes_first_on_zeros(void **state)
{
    (void)state;
    check_mirror(1);
}

/* Flags of 1 written outside the rows (a mask dilated by one, as frontier
 * marks spread to a neighbour), first with every flag set: the element
 * past a piece's last row is written by both devices, with the 1 its owner
 * writes too, so the answers agree; a poison that was 1 where the copy held
 * 0 hid the other device's write, and the check passed a kernel whose later
 * calls lost it. */
static const char flags_source[] =
    "__kernel void dilate(__global int *f, __global const int *m, int n)\n"
    "{ int i = get_global_id(0); if (m[i]) { f[i] = 1; if (i + 1 < n) f[i + 1] = 1; } }\n";

static void dilate_host(const weft_host_call *call)
{
    int *f = call->args[0], n = *(const int *)call->args[2];
    const int *m = call->args[1];
    HOST_ITEMS(call, i)
    if (m[i]) {
        f[i] = 1;
        if ((int)i + 1 < n) f[i + 1] = 1;
    }
}

static void test_flags_written_outside_the_rows(void **state)
{
    (void)state;
    enum { M = 1 << 16 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, flags_source);
    int *m = malloc(M * sizeof *m), *got = malloc(M * sizeof *got),
        *zeros = calloc(M, sizeof *zeros);
    weft_array *f, *ma;
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &f));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &ma));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(f), weft_arg_slice(ma), weft_arg_i32(M)};
    for (int call = 0; call < 4; call++) {
        for (int i = 0; i < M; i++)               /* all set at first, then the last row of each */
            m[i] = call == 0 || i % 4096 == 4095; /* granule, where pieces end */
        ASSERT_OK(weft_array_write(ma, 0, M, m));
        ASSERT_OK(weft_array_write(f, 0, M, zeros));
        ASSERT_OK(weft_launch(p, "dilate", &r, args, 3, dilate_host, NULL, NULL));
        ASSERT_OK(weft_array_read(f, 0, M, got));
        for (int i = 0; i < M; i++)
            if (got[i] != (m[i] || (i > 0 && m[i - 1])))
                fail_msg("call %d: element %d is %d", call, i, got[i]);
    }
    weft_array_free(f);
    weft_array_free(ma);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(m);
    free(got);
    free(zeros);
}

/* A NaN read across the split (a signalling NaN with payload 1, as a mask
 * or a sentinel may be): its poison was +inf, and a loop that ends on the
 * NaN never ended on the infinity. */
static const char nan_source[] =
    "__kernel void settle(__global float *y, __global const float *x, int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    float v = i + 1 < n ? x[i + 1] : 0.0f;\n"
    "    int steps = 0;\n"
    "    while (isinf(v) && steps >= 0) steps++; /* ends at once on a NaN */\n"
    "    y[i] = v == v ? v : 2.0f;\n"
    "}\n";

static void settle_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    int n = *(const int *)call->args[2];
    HOST_ITEMS(call, i)
    {
        float v = (int)i + 1 < n ? x[i + 1] : 0.0f;
        y[i] = v == v ? v : 2.0f;
    }
}

static void test_a_nan_across_the_split_stays_a_nan(void **state)
{
    (void)state;
    enum { M = 1 << 16 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, nan_source);
    float *x = calloc(M, sizeof *x);
    uint32_t signalling = 0x7f800001u;
    for (int i = 0; i < M; i += 4096)
        memcpy(&x[i], &signalling, 4); /* each granule's first row: where pieces start */
    weft_array *y, *xa;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x, &xa));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(xa), weft_arg_i32(M)};
    alarm(60); /* the first launch never returned before */
    ASSERT_OK(weft_launch(p, "settle", &r, args, 3, settle_host, NULL, NULL));
    alarm(0);
    float *got = malloc(M * sizeof *got);
    ASSERT_OK(weft_array_read(y, 0, M, got));
    for (int i = 0; i + 1 < M; i++)
        assert_true(got[i] == ((i + 1) % 4096 == 0 ? 2.0f : 0.0f));
    weft_array_free(y);
    weft_array_free(xa);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x);
    free(got);
}

/* A 3-point blur whose input is passed as a slice (wrongly: it reads one
 * element across the split), first on zero input: the stale rows a copying
 * device read held zeros too, and the check agreed. */
static const char blur_source[] =
    "__kernel void blur(__global float *y, __global const float *x, int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    float l = i > 0 ? x[i - 1] : 0.0f, r = i + 1 < n ? x[i + 1] : 0.0f;\n"
    "    y[i] = (l + x[i] + r) / 3.0f;\n"
    "}\n";

static void blur_items(float *y, const float *x, int n, size_t begin, size_t end)
{
    for (size_t k = begin; k < end; k++) {
        int i = (int)k;
        float l = i > 0 ? x[i - 1] : 0.0f, r = i + 1 < n ? x[i + 1] : 0.0f;
        y[i] = (l + x[i] + r) / 3.0f;
    }
}

static void blur_host(const weft_host_call *call)
{
    blur_items(call->args[0], call->args[1], *(const int *)call->args[2], call->begin, call->end);
}

static void test_reads_across_the_split_first_on_zeros(void **state)
{
    (void)state;
    enum { M = 65536 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, blur_source);
    float *x = malloc(sizeof(float) * M), *want = malloc(sizeof(float) * M);
    float *got = malloc(sizeof(float) * M), *zeros = calloc(M, sizeof(float));
    for (int i = 0; i < M; i++)
        x[i] = (float)(i % 97);
    blur_items(want, x, M, 0, M);
    weft_array *y, *xa;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, zeros, &xa));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(xa), weft_arg_i32(M)};
    ASSERT_OK(weft_launch(p, "blur", &r, args, 3, blur_host, NULL, NULL));
    ASSERT_OK(weft_array_write(xa, 0, M, x));
    ASSERT_OK(weft_launch(p, "blur", &r, args, 3, blur_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, got));
    assert_true(same_floats(got, want, M));
    weft_array_free(y);
    weft_array_free(xa);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x);
    free(want);
    free(got);
    free(zeros);
}

/* Segment heads (run-length encoding, a segmented scan's flags) with the
 * keys passed as a slice: each work-item reads its left neighbour's key
 * and only tests it for equality. On sorted distinct keys every poison
 * differs from a key as the real neighbour does, so the check agreed; the
 * next launch, on keys with runs, split unchecked and read stale keys
 * across the split on copying devices. */
static const char heads_source[] =
    "__kernel void heads(__global uint *flag, __global const int *key)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    flag[i] = (i == 0 || key[i] != key[i - 1]) ? 1u : 0u;\n"
    "}\n";

static void heads_items(unsigned *flag, const int *key, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++)
        flag[i] = i == 0 || key[i] != key[i - 1];
}

static void heads_host(const weft_host_call *call)
{
    heads_items(call->args[0], call->args[1], call->begin, call->end);
}

static void test_equality_read_across_the_split(void **state)
{
    (void)state;
    enum { M = 65536 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, heads_source);
    int *distinct = malloc(sizeof(int) * M), *runs = malloc(sizeof(int) * M);
    unsigned *want = malloc(sizeof(unsigned) * M), *got = malloc(sizeof(unsigned) * M);
    for (int i = 0; i < M; i++) {
        distinct[i] = 3 * i - 70000;
        runs[i] = 11; /* one run: every boundary is inside it */
    }
    weft_array *flag, *key;
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, M, &flag));
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, M, distinct, &key));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(flag), weft_arg_slice(key)};
    for (int launch = 0; launch < 3; launch++) {
        const int *keys = launch == 0 ? distinct : runs;
        if (launch == 1) ASSERT_OK(weft_array_write(key, 0, M, runs));
        if (launch == 2) { /* runs of 5 */
            for (int i = 0; i < M; i++)
                runs[i] = i / 5;
            ASSERT_OK(weft_array_write(key, 0, M, runs));
        }
        heads_items(want, keys, 0, M);
        ASSERT_OK(weft_launch(p, "heads", &r, args, 2, heads_host, NULL, NULL));
        ASSERT_OK(weft_array_read(flag, 0, M, got));
        for (int i = 0; i < M; i++)
            if (got[i] != want[i])
                fail_msg("launch %d: flag %d is %u, not %u", launch, i, got[i], want[i]);
    }
    weft_array_free(flag);
    weft_array_free(key);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(distinct);
    free(runs);
    free(want);
    free(got);
}

/* The same in two dimensions, as a connected-components pass compares a
 * pixel's label with the one above it: split by rows of the image, the row
 * above a piece's first is another device's. */
static const char above_source[] =
    "__kernel void same_above(__global uchar *same, __global const int *label, int w)\n"
    "{\n"
    "    int x = get_global_id(0), y = get_global_id(1);\n"
    "    same[y * w + x] = y > 0 && label[y * w + x] == label[(y - 1) * w + x];\n"
    "}\n";

static void above_items(unsigned char *same, const int *label, int w, size_t begin, size_t end)
{
    for (size_t y = begin; y < end; y++)
        for (int x = 0; x < w; x++)
            same[y * (size_t)w + (size_t)x] =
                y > 0 && label[y * (size_t)w + (size_t)x] == label[(y - 1) * (size_t)w + (size_t)x];
}

static void above_host(const weft_host_call *call)
{
    above_items(call->args[0], call->args[1], *(const int *)call->args[2], call->begin, call->end);
}

static void test_equality_with_the_row_above_across_the_split(void **state)
{
    (void)state;
    enum { W = 64, H = 512 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, above_source);
    int *label = malloc(sizeof(int) * W * H);
    unsigned char want[W * H], got[W * H];
    for (int i = 0; i < W * H; i++)
        label[i] = i; /* every pixel its own component */
    weft_array *same, *lab;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, W * H, &same));
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, W * H, label, &lab));
    weft_range r = weft_range_2d(W, H);
    weft_arg args[] = {weft_arg_slice(same), weft_arg_slice(lab), weft_arg_i32(W)};
    for (int launch = 0; launch < 2; launch++) {
        if (launch == 1) { /* vertical stripes: each column one component */
            for (int i = 0; i < W * H; i++)
                label[i] = i % W;
            ASSERT_OK(weft_array_write(lab, 0, W * H, label));
        }
        above_items(want, label, W, 0, H);
        ASSERT_OK(weft_launch(p, "same_above", &r, args, 3, above_host, NULL, NULL));
        ASSERT_OK(weft_array_read(same, 0, W * H, got));
        for (int i = 0; i < W * H; i++)
            if (got[i] != want[i])
                fail_msg("launch %d: pixel (%d, %d) is %u, not %u", launch, i % W, i / W, got[i],
                         want[i]);
    }
    weft_array_free(same);
    weft_array_free(lab);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(label);
}

/* Equality reads across the split in other columns than the work-item's
 * own, and past a halo: two keys per work-item (a row of two elements, the
 * left neighbour of the first in the other column of the row before), an
 * 8-connected neighbour (the row above, the next column), and keys two
 * back passed with a halo of one. Each compares a piece's first own
 * element with a value outside what its device holds. */
static const char across_columns_source[] =
    "__kernel void heads2(__global uint *flag, __global const int *key)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    for (int j = 2 * i; j < 2 * i + 2; j++)\n"
    "        flag[j] = (j == 0 || key[j] != key[j - 1]) ? 1u : 0u;\n"
    "}\n"
    "__kernel void diagonal(__global uint *flag, __global const int *key, int w)\n"
    "{\n"
    "    int x = get_global_id(0), y = get_global_id(1), i = y * w + x;\n"
    "    flag[i] = y > 0 && x + 1 < w && key[i] == key[i - w + 1];\n"
    "}\n"
    "__kernel void two_back(__global uint *flag, __global const int *key)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    flag[i] = (i < 2 || key[i] != key[i - 2]) ? 1u : 0u;\n"
    "}\n"
    "__kernel void past_halo(__global uint *flag, __global const int *key)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    flag[i] = (i < 2 || key[i - 1] != key[i - 2]) ? 1u : 0u;\n"
    "}\n";

enum { ACROSS_W = 64, ACROSS_N = 65536 };

static void across_items(int kernel, unsigned *flag, const int *key, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t x = i % ACROSS_W, y = i / ACROSS_W;
        if (kernel == 0) flag[i] = i == 0 || key[i] != key[i - 1];
        if (kernel == 1) flag[i] = y > 0 && x + 1 < ACROSS_W && key[i] == key[i - ACROSS_W + 1];
        if (kernel == 2) flag[i] = i < 2 || key[i] != key[i - 2];
        if (kernel == 3) flag[i] = i < 2 || key[i - 1] != key[i - 2];
    }
}

static void heads2_host(const weft_host_call *call)
{
    unsigned *flag = call->args[0];
    const int *key = call->args[1];
    for (size_t j = 2 * call->begin; j < 2 * call->end; j++)
        flag[j] = j == 0 || key[j] != key[j - 1];
}

static void diagonal_host(const weft_host_call *call)
{
    unsigned *flag = call->args[0];
    const int *key = call->args[1];
    for (size_t y = call->begin; y < call->end; y++)
        for (size_t x = 0; x < ACROSS_W; x++) {
            size_t i = y * ACROSS_W + x;
            flag[i] = y > 0 && x + 1 < ACROSS_W && key[i] == key[i - ACROSS_W + 1];
        }
}

static void two_back_host(const weft_host_call *call)
{
    unsigned *flag = call->args[0];
    const int *key = call->args[1];
    for (size_t i = call->begin; i < call->end; i++)
        flag[i] = i < 2 || key[i] != key[i - 2];
}

static void past_halo_host(const weft_host_call *call)
{
    unsigned *flag = call->args[0];
    const int *key = call->args[1];
    for (size_t i = call->begin; i < call->end; i++)
        flag[i] = i < 2 || key[i - 1] != key[i - 2];
}

static void test_equality_across_the_split_in_other_columns(void **state)
{
    (void)state;
    /* past_halo compares a value past its halo of one with the halo's. */
    static const char *const names[] = {"heads2", "diagonal", "two_back", "past_halo"};
    static weft_host_fn const hosts[] = {heads2_host, diagonal_host, two_back_host, past_halo_host};
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, across_columns_source);
    int *key = malloc(sizeof(int) * ACROSS_N);
    unsigned *want = malloc(sizeof(unsigned) * ACROSS_N),
             *got = malloc(sizeof(unsigned) * ACROSS_N);
    for (int kernel = 0; kernel < 4; kernel++) {
        weft_array *flag, *keys;
        ASSERT_OK(weft_array_create(ctx, WEFT_U32, ACROSS_N, &flag));
        ASSERT_OK(weft_array_create(ctx, WEFT_I32, ACROSS_N, &keys));
        weft_range r = kernel == 0   ? weft_range_1d(ACROSS_N / 2)
                       : kernel == 1 ? weft_range_2d(ACROSS_W, ACROSS_N / ACROSS_W)
                                     : weft_range_1d(ACROSS_N);
        weft_arg args[] = {weft_arg_slice(flag),
                           kernel >= 2 ? weft_arg_halo(keys, 1) : weft_arg_slice(keys),
                           weft_arg_i32(ACROSS_W)};
        for (int launch = 0; launch < 2; launch++) { /* distinct keys, then one run */
            for (int i = 0; i < ACROSS_N; i++)
                key[i] = launch == 0 ? 7 * i + 3 : 11;
            ASSERT_OK(weft_array_write(keys, 0, ACROSS_N, key));
            across_items(kernel, want, key, ACROSS_N);
            ASSERT_OK(weft_launch(p, names[kernel], &r, args, kernel == 1 ? 3 : 2, hosts[kernel],
                                  NULL, NULL));
            ASSERT_OK(weft_array_read(flag, 0, ACROSS_N, got));
            for (int i = 0; i < ACROSS_N; i++)
                if (got[i] != want[i])
                    fail_msg("%s launch %d: flag %d is %u, not %u", names[kernel], launch, i,
                             got[i], want[i]);
        }
        weft_array_free(flag);
        weft_array_free(keys);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(key);
    free(want);
    free(got);
}

/* One array bound twice, as a slice and as a halo of one (a[i] != b[i - 1]
 * with a and b the same keys): right to split, since the halo covers the
 * read. The check took the halo's rows, which the device holds current,
 * for a write outside the slice's rows, and kept the kernel whole. */
static const char twice_source[] =
    "__kernel void twice(__global uint *flag, __global const int *a, __global const int *b)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    flag[i] = (i == 0 || a[i] != b[i - 1]) ? 1u : 0u;\n"
    "}\n";

static void test_array_as_a_slice_and_a_halo_splits(void **state)
{
    (void)state;
    enum { M = 65536 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, twice_source);
    int *key = malloc(sizeof(int) * M);
    unsigned *want = malloc(sizeof(unsigned) * M), *got = malloc(sizeof(unsigned) * M);
    weft_array *flag, *keys;
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, M, &flag));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &keys));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(flag), weft_arg_slice(keys), weft_arg_halo(keys, 1)};
    for (int launch = 0; launch < 3; launch++) {
        for (int i = 0; i < M; i++)
            key[i] = launch == 1 ? 5 : (i + launch) / 3;
        ASSERT_OK(weft_array_write(keys, 0, M, key));
        heads_items(want, key, 0, M);
        ASSERT_OK(weft_launch(p, "twice", &r, args, 3, heads_host, NULL, NULL));
        ASSERT_OK(weft_array_read(flag, 0, M, got));
        assert_memory_equal(got, want, sizeof(unsigned) * M);
    }
    weft_stats stats;
    ASSERT_OK(weft_ctx_stats(ctx, &stats));
    if (stats.kernels_kept_whole != 0) fail_msg("kept whole: %s", weft_ctx_notes(ctx));
    weft_array_free(flag);
    weft_array_free(keys);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(key);
    free(want);
    free(got);
}

/* A strided axpy as a BLAS library writes it (CLBlast's general Xaxpy):
 * y, with an offset and an increment, can only go whole, and is written
 * through a function-like macro (or, the same, a parenthesised element).
 * Taken for read only, its writes stayed in a copying device's copy: y
 * came back unchanged, with WEFT_OK. */
static const char strided_source[] =
    "#define MultiplyAdd(c, a, b) c += a * b\n"
    "__kernel void axpy_macro(const int n, const float alpha, __global const float *x,\n"
    "                         __global float *y, const int y_off, const int y_inc)\n"
    "{\n"
    "    int id = get_global_id(0);\n"
    "    if (id < n) MultiplyAdd(y[id * y_inc + y_off], alpha, x[id]);\n"
    "}\n"
    "__kernel void axpy_paren(const int n, const float alpha, __global const float *x,\n"
    "                         __global float *y, const int y_off, const int y_inc)\n"
    "{\n"
    "    int id = get_global_id(0);\n"
    "    if (id < n) (y[id * y_inc + y_off]) += alpha * x[id];\n"
    "}\n";

enum { STRIDED_N = 5000, STRIDED_OFF = 5, STRIDED_INC = 3 };

static void strided_items(float *y, const float *x, float alpha, size_t begin, size_t end)
{
    for (size_t id = begin; id < end; id++)
        y[id * STRIDED_INC + STRIDED_OFF] += alpha * x[id];
}

static void strided_host(const weft_host_call *call)
{
    strided_items(call->args[3], call->args[2], *(const float *)call->args[1], call->begin,
                  call->end);
}

static void test_whole_argument_written_through_a_macro(void **state)
{
    (void)state;
    enum { M = STRIDED_N * STRIDED_INC + STRIDED_OFF };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, strided_source);
    float *x = malloc(sizeof(float) * STRIDED_N), *want = calloc(M, sizeof(float));
    float *got = malloc(sizeof(float) * M);
    for (int kernel = 0; kernel < 2; kernel++) {
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, STRIDED_N, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &ya)); /* zeros */
        memset(want, 0, sizeof(float) * M);
        for (int launch = 0; launch < 3; launch++) {
            float alpha = 0.5f + (float)launch;
            for (int i = 0; i < STRIDED_N; i++)
                x[i] = (float)((i * 7 + launch) % 13) - 6.0f;
            ASSERT_OK(weft_array_write(xa, 0, STRIDED_N, x));
            strided_items(want, x, alpha, 0, STRIDED_N);
            weft_range r = weft_range_1d(STRIDED_N);
            weft_arg args[] = {weft_arg_i32(STRIDED_N),   weft_arg_f32(alpha),
                               weft_arg_slice(xa),        weft_arg_whole(ya),
                               weft_arg_i32(STRIDED_OFF), weft_arg_i32(STRIDED_INC)};
            ASSERT_OK(weft_launch(p, kernel ? "axpy_paren" : "axpy_macro", &r, args, 6,
                                  strided_host, NULL, NULL));
            ASSERT_OK(weft_array_read(ya, 0, M, got));
            for (int i = 0; i < M; i++)
                if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
                    fail_msg("%s launch %d: y[%d] is %g, not %g", kernel ? "paren" : "macro",
                             launch, i, got[i], want[i]);
        }
        weft_array_free(xa);
        weft_array_free(ya);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x);
    free(want);
    free(got);
}

/* ---- a row picked by a scalar, written by every work-item; then rows
 * k+1.. of the column each work-item owns (LU, Gaussian elimination) ---- */

static const char lu_source[] =
    "#define DATA_TYPE float\n"
    "__kernel void lu_row(__global DATA_TYPE *a, int k, int n)\n"
    "{\n"
    "    int j = get_global_id(0);\n"
    "    if (j > k && j < n) a[k * n + j] = a[k * n + j] / a[k * n + k];\n"
    "}\n"
    "__kernel void lu_below(__global DATA_TYPE *a, int k, int n)\n"
    "{\n"
    "    int j = get_global_id(0);\n"
    "    if (j <= k || j >= n) return;\n"
    "    for (int i = k + 1; i < n; i++) a[i * n + j] = a[i * n + j] - a[i * n + k] * a[k * n + "
    "j];\n"
    "}\n";

static void lu_row_items(float *a, int k, int n, size_t begin, size_t end)
{
    for (size_t j = begin; j < end; j++)
        if ((int)j > k && (int)j < n) a[k * n + (int)j] = a[k * n + (int)j] / a[k * n + k];
}

static void lu_below_items(float *a, int k, int n, size_t begin, size_t end)
{
    for (size_t j = begin; j < end; j++) {
        if ((int)j <= k || (int)j >= n) continue;
        for (int i = k + 1; i < n; i++)
            a[i * n + (int)j] = a[i * n + (int)j] - a[i * n + k] * a[k * n + (int)j];
    }
}

static void lu_row_host(const weft_host_call *call)
{
    lu_row_items(call->args[0], *(const int *)call->args[1], *(const int *)call->args[2],
                 call->begin, call->end);
}

static void lu_below_host(const weft_host_call *call)
{
    lu_below_items(call->args[0], *(const int *)call->args[1], *(const int *)call->args[2],
                   call->begin, call->end);
}

static void test_rows_picked_by_a_scalar(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, lu_source);
    float *want = malloc(sizeof(float) * N * N), *got = malloc(sizeof(float) * N * N);
    fill_f32(want, N * N, 7);
    for (int i = 0; i < N; i++)
        want[i * N + i] += 4.0f * N; /* diagonally dominant: no pivoting */
    weft_array *a;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, want, &a));
    weft_range r = weft_range_1d(N);
    for (int k = 0; k < N - 1; k++) {
        lu_row_items(want, k, N, 0, N);
        lu_below_items(want, k, N, 0, N);
        weft_arg args[] = {weft_arg_slice(a), weft_arg_i32(k), weft_arg_i32(N)};
        ASSERT_OK(weft_launch(p, "lu_row", &r, args, 3, lu_row_host, NULL, NULL));
        ASSERT_OK(weft_launch(p, "lu_below", &r, args, 3, lu_below_host, NULL, NULL));
    }
    ASSERT_OK(weft_array_read(a, 0, N * N, got));
    assert_true(same_floats(got, want, N * N));
    weft_array_free(a);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(want);
    free(got);
}

/* ---- a column of every row (Gram-Schmidt), and one element from
 * work-item 0 ---- */

static const char gram_source[] =
    "typedef float DATA_TYPE;\n"
    "__kernel void gs_norm(__global DATA_TYPE *a, __global DATA_TYPE *r, int k, int m, int n)\n"
    "{\n"
    "    if (get_global_id(0) != 0) return;\n"
    "    DATA_TYPE nrm = 0;\n"
    "    for (int i = 0; i < m; i++) nrm += a[i * n + k] * a[i * n + k];\n"
    "    r[k * n + k] = sqrt(nrm);\n"
    "}\n"
    "__kernel void gs_update(__global DATA_TYPE *a, __global DATA_TYPE *r, int k, int m, int n)\n"
    "{\n"
    "    int j = get_global_id(0);\n"
    "    if (j <= k || j >= n) return;\n"
    "    DATA_TYPE s = 0;\n"
    "    for (int i = 0; i < m; i++) s += a[i * n + k] * a[i * n + j];\n"
    "    r[k * n + j] = s;\n"
    "    for (int i = 0; i < m; i++) a[i * n + j] -= a[i * n + k] * s / r[k * n + k];\n"
    "}\n";

static void gs_norm_items(float *a, float *r, int k, int m, int n, size_t begin, size_t end)
{
    if (begin > 0 || end == 0) return;
    float nrm = 0;
    for (int i = 0; i < m; i++)
        nrm += a[i * n + k] * a[i * n + k];
    r[k * n + k] = sqrtf(nrm);
}

static void gs_update_items(float *a, float *r, int k, int m, int n, size_t begin, size_t end)
{
    for (size_t jj = begin; jj < end; jj++) {
        int j = (int)jj;
        if (j <= k || j >= n) continue;
        float s = 0;
        for (int i = 0; i < m; i++)
            s += a[i * n + k] * a[i * n + j];
        r[k * n + j] = s;
        for (int i = 0; i < m; i++)
            a[i * n + j] -= a[i * n + k] * s / r[k * n + k];
    }
}

static void gs_norm_host(const weft_host_call *call)
{
    gs_norm_items(call->args[0], call->args[1], *(const int *)call->args[2],
                  *(const int *)call->args[3], *(const int *)call->args[4], call->begin, call->end);
}

static void gs_update_host(const weft_host_call *call)
{
    gs_update_items(call->args[0], call->args[1], *(const int *)call->args[2],
                    *(const int *)call->args[3], *(const int *)call->args[4], call->begin,
                    call->end);
}

static void test_columns_of_every_row_and_one_element(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, gram_source);
    float *a0 = malloc(sizeof(float) * N * N), *r0 = calloc(N * N, sizeof(float));
    float *got = malloc(sizeof(float) * N * N);
    fill_f32(a0, N * N, 11);
    weft_array *a, *r;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, a0, &a));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, r0, &r));
    weft_range range = weft_range_1d(N);
    for (int k = 0; k < 8; k++) {
        gs_norm_items(a0, r0, k, N, N, 0, N);
        gs_update_items(a0, r0, k, N, N, 0, N);
        weft_arg args[] = {weft_arg_slice(a), weft_arg_slice(r), weft_arg_i32(k), weft_arg_i32(N),
                           weft_arg_i32(N)};
        ASSERT_OK(weft_launch(p, "gs_norm", &range, args, 5, gs_norm_host, NULL, NULL));
        ASSERT_OK(weft_launch(p, "gs_update", &range, args, 5, gs_update_host, NULL, NULL));
    }
    ASSERT_OK(weft_array_read(a, 0, N * N, got));
    assert_true(same_floats(got, a0, N * N));
    ASSERT_OK(weft_array_read(r, 0, N * N, got));
    assert_true(same_floats(got, r0, N * N));
    weft_array_free(a);
    weft_array_free(r);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(a0);
    free(r0);
    free(got);
}

/* ---- one element of a row picked by a scalar, from work-item 0
 * (Gram-Schmidt's r[k][k]), for every k: the first launches write inside
 * work-item 0's rows, later ones in another device's ---- */

static void test_element_of_a_scalar_row_from_work_item_0(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, set_diag_source);
    float *want = calloc(N * N, sizeof(float)), *got = malloc(sizeof(float) * N * N);
    weft_array *r;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, want, &r));
    weft_range range = weft_range_1d(N);
    for (int k = 0; k < N; k++) {
        want[k * N + k] = (float)(k + 1);
        weft_arg args[] = {weft_arg_slice(r), weft_arg_i32(k), weft_arg_i32(N)};
        ASSERT_OK(weft_launch(p, "set_diag", &range, args, 3, set_diag_host, NULL, NULL));
    }
    ASSERT_OK(weft_array_read(r, 0, N * N, got));
    assert_true(same_floats(got, want, N * N));
    /* k steers: each new k is checked, up to 8, then runs on one device. */
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    if (selected_opencl(ctx) > 1 && !getenv("WEFT_VERIFY")) {
        assert_int_equal(st.splits_checked, 8);
        assert_non_null(strstr(weft_ctx_notes(ctx), "kernel set_diag split right at 8 sets"));
    }
    weft_array_free(r);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(want);
    free(got);
}

/* ---- a step number that only goes into the stored values: new values
 * every launch, checked once ---- */

static const char step_source[] =
    "__kernel void stepped(__global float *y, __global float *x, float c, int step)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    y[i] = x[i] * c + step;\n"
    "}\n";

static void stepped_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    float c = *(const float *)call->args[2];
    int step = *(const int *)call->args[3];
    HOST_ITEMS(call, i) y[i] = x[i] * c + (float)step;
}

static void test_step_number_checked_once(void **state)
{
    (void)state;
    enum { M = 4096, STEPS = 24 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, step_source);
    float *x0 = malloc(sizeof(float) * M), *want = malloc(sizeof(float) * M);
    float *got = malloc(sizeof(float) * M);
    fill_f32(x0, M, 29);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x0, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    weft_range r = weft_range_1d(M);
    for (int step = 0; step < STEPS; step++) {
        weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(x), weft_arg_f32(0.5f),
                           weft_arg_i32(step)};
        ASSERT_OK(weft_launch(p, "stepped", &r, args, 4, stepped_host, NULL, NULL));
    }
    ASSERT_OK(weft_array_read(y, 0, M, got));
    for (size_t i = 0; i < M; i++)
        want[i] = x0[i] * 0.5f + (float)(STEPS - 1);
    assert_true(same_floats(got, want, M));
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    if (!getenv("WEFT_VERIFY")) /* which checks every split launch */
        assert_int_equal(st.splits_checked, selected_opencl(ctx) > 1 ? 1 : 0);
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
    free(want);
    free(got);
}

/* ---- geometry: bounds from get_global_size (a grid-stride loop) and tiles
 * from get_group_id ---- */

static const char geometry_source[] =
    "__kernel void stride(__global float *y, __global float *x, int n)\n"
    "{\n"
    "    for (int i = get_global_id(0); i < n; i += get_global_size(0)) y[i] = 2.0f * x[i] + i;\n"
    "}\n"
    "__kernel void tiles(__global float *y, __global float *x)\n"
    "{\n"
    "    int g = get_group_id(0), l = get_local_id(0), w = get_local_size(0);\n"
    "    y[g * w + l] = x[g * w + l] * 3.0f + g;\n"
    "}\n";

static void stride_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    int n = *(const int *)call->args[2];
    size_t size = call->range->size[0];
    HOST_ITEMS(call, g)
    for (size_t i = g; i < (size_t)n; i += size)
        y[i] = 2.0f * x[i] + (float)i;
}

static void tiles_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    size_t w = call->range->local[0];
    HOST_ITEMS(call, i)
    y[i] = x[i] * 3.0f + (float)(i / w);
}

static void test_geometry_of_the_whole_launch(void **state)
{
    (void)state;
    enum { M = 4096 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, geometry_source);
    float *x0 = malloc(sizeof(float) * M), *want = malloc(sizeof(float) * M);
    float *got = malloc(sizeof(float) * M);
    fill_f32(x0, M, 13);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x0, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    /* A quarter of the work-items, each striding over four elements. */
    weft_range quarter = weft_range_1d(M / 4);
    weft_arg stride_args[] = {weft_arg_slice(y), weft_arg_slice(x), weft_arg_i32(M)};
    ASSERT_OK(weft_launch(p, "stride", &quarter, stride_args, 3, stride_host, NULL, NULL));
    for (size_t i = 0; i < M; i++)
        want[i] = 2.0f * x0[i] + (float)i;
    ASSERT_OK(weft_array_read(y, 0, M, got));
    assert_true(same_floats(got, want, M));
    weft_range tiled = {1, {M, 1, 1}, {64, 1, 1}};
    weft_arg tile_args[] = {weft_arg_slice(y), weft_arg_slice(x)};
    ASSERT_OK(weft_launch(p, "tiles", &tiled, tile_args, 2, tiles_host, NULL, NULL));
    for (size_t i = 0; i < M; i++)
        want[i] = x0[i] * 3.0f + (float)(i / 64);
    ASSERT_OK(weft_array_read(y, 0, M, got));
    assert_true(same_floats(got, want, M));
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
    free(want);
    free(got);
}

/* ---- the row from get_global_id(0) in a 2-D range split along dimension 1 */

static const char across_source[] = "__kernel void across(__global float *a, int n)\n"
                                    "{\n"
                                    "    int row = get_global_id(0), col = get_global_id(1);\n"
                                    "    a[row * n + col] = a[row * n + col] * 2.0f + row;\n"
                                    "}\n";

static void across_host(const weft_host_call *call)
{
    float *a = call->args[0];
    int n = *(const int *)call->args[1];
    HOST_ITEMS(call, col)
    for (int row = 0; row < n; row++)
        a[row * n + (int)col] = a[row * n + (int)col] * 2.0f + (float)row;
}

static void test_index_across_the_split(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, across_source);
    float *want = malloc(sizeof(float) * N * N), *got = malloc(sizeof(float) * N * N);
    fill_f32(want, N * N, 17);
    weft_array *a;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, want, &a));
    for (size_t i = 0; i < (size_t)N * N; i++)
        want[i] = want[i] * 2.0f + (float)(i / N);
    weft_range r = weft_range_2d(N, N);
    weft_arg args[] = {weft_arg_slice(a), weft_arg_i32(N)};
    ASSERT_OK(weft_launch(p, "across", &r, args, 2, across_host, NULL, NULL));
    ASSERT_OK(weft_array_read(a, 0, N * N, got));
    assert_true(same_floats(got, want, N * N));
    weft_array_free(a);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(want);
    free(got);
}

/* ---- launch geometry as the suites size it: a 2-D range rounded up to a
 * multiple of the work-group (the kernel guards), and {N, 1} ---- */

static const char geometry_2d_source[] =
    "typedef float DATA_TYPE;\n"
    "__kernel void add2d(__global DATA_TYPE *c, __global DATA_TYPE *a, int rows, int cols)\n"
    "{\n"
    "    int x = get_global_id(0), y = get_global_id(1);\n"
    "    if (x < cols && y < rows) c[y * cols + x] = a[y * cols + x] + 1.0f;\n"
    "}\n"
    "__kernel void twice(__global DATA_TYPE *y, __global DATA_TYPE *x)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    y[i] = 2.0f * x[i];\n"
    "}\n";

static void add2d_host(const weft_host_call *call)
{
    float *c = call->args[0];
    const float *a = call->args[1];
    int rows = *(const int *)call->args[2], cols = *(const int *)call->args[3];
    HOST_ITEMS(call, y)
    for (int x = 0; x < cols && (int)y < rows; x++)
        c[(int)y * cols + x] = a[(int)y * cols + x] + 1.0f;
}

static void twice_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    HOST_ITEMS(call, i)
    y[i] = 2.0f * x[i];
}

static void test_suite_launch_geometry(void **state)
{
    (void)state;
    enum { ROWS = 50, COLS = 70, M = 1 << 16 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, geometry_2d_source);
    float *a0 = malloc(sizeof(float) * M), *got = malloc(sizeof(float) * M);
    fill_f32(a0, M, 19);
    weft_array *a, *c;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, ROWS * COLS, a0, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, ROWS * COLS, &c));
    weft_range rounded = {2, {80, 64, 1}, {16, 16, 1}};
    weft_arg args[] = {weft_arg_slice(c), weft_arg_slice(a), weft_arg_i32(ROWS),
                       weft_arg_i32(COLS)};
    ASSERT_OK(weft_launch(p, "add2d", &rounded, args, 4, add2d_host, NULL, NULL));
    ASSERT_OK(weft_array_read(c, 0, ROWS * COLS, got));
    for (size_t i = 0; i < ROWS * COLS; i++)
        assert_true(got[i] == a0[i] + 1.0f);
    /* Rounded up by more than a work-group: a mistake, refused. */
    weft_range too_far = {2, {80, 96, 1}, {16, 16, 1}};
    assert_int_equal(weft_launch(p, "add2d", &too_far, args, 4, add2d_host, NULL, NULL),
                     WEFT_ERR_SIZE);
    /* The message names the way out for a kernel with a rule of its own. */
    assert_non_null(strstr(weft_last_error(), "weft_arg_whole"));
    /* Rows whose bytes happen to divide the rounded-up size (60 x 60 under
     * 64 x 64 in work-groups of 32 x 8, PolyBench's 2DConvolution at 60;
     * 64 floats under 256): refused before as less than an element per
     * index. */
    static const struct {
        int rows, cols;
        weft_range range;
    } divisible[] = {{60, 60, {2, {64, 64, 1}, {32, 8, 1}}},
                     {64, 1, {2, {1, 256, 1}, {1, 256, 1}}},
                     {192, 1, {2, {1, 256, 1}, {1, 256, 1}}}};
    for (size_t k = 0; k < sizeof divisible / sizeof divisible[0]; k++) {
        int n = divisible[k].rows * divisible[k].cols;
        weft_array *a2, *c2;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, (size_t)n, a0, &a2));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, (size_t)n, &c2));
        weft_arg args2[] = {weft_arg_slice(c2), weft_arg_slice(a2), weft_arg_i32(divisible[k].rows),
                            weft_arg_i32(divisible[k].cols)};
        ASSERT_OK(weft_launch(p, "add2d", &divisible[k].range, args2, 4, add2d_host, NULL, NULL));
        ASSERT_OK(weft_array_read(c2, 0, (size_t)n, got));
        for (int i = 0; i < n; i++)
            assert_true(got[i] == a0[i] + 1.0f);
        weft_array_free(a2);
        weft_array_free(c2);
    }

    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, a0, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    weft_range column = weft_range_2d(M, 1);
    weft_arg targs[] = {weft_arg_slice(y), weft_arg_slice(x)};
    ASSERT_OK(weft_launch(p, "twice", &column, targs, 2, twice_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, got));
    for (size_t i = 0; i < M; i++)
        assert_true(got[i] == 2.0f * a0[i]);
    weft_piece_report pieces[8];
    size_t count = 0;
    ASSERT_OK(weft_launch(p, "twice", &column, targs, 2, twice_host, NULL, NULL));
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    if (selected_opencl(ctx) > 1) assert_true(count > 1); /* {M, 1} splits along M */
    weft_array_free(a);
    weft_array_free(c);
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(a0);
    free(got);
}

/* ---- a kernel that keeps to its rows is checked once and split since ---- */

static void test_row_local_kernel_stays_split(void **state)
{
    (void)state;
    enum { M = 1 << 16 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, geometry_2d_source);
    float *x0 = malloc(sizeof(float) * M), *got = malloc(sizeof(float) * M);
    fill_f32(x0, M, 23);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x0, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(x)};
    for (int round = 0; round < 4; round++)
        ASSERT_OK(weft_launch(p, "twice", &r, args, 2, twice_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, got));
    for (size_t i = 0; i < M; i++)
        assert_true(got[i] == 2.0f * x0[i]);
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    assert_int_equal(st.kernels_kept_whole, 0);
    assert_int_equal(st.splits_checked, selected_opencl(ctx) > 1 ? 1 : 0);
    weft_piece_report pieces[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    if (selected_opencl(ctx) > 1) assert_true(count > 1);
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
    free(got);
}

/* ---- records: a struct of two floats per element, as an f32 array of
 * their fields side by side ---- */

static const char records_source[] =
    "typedef struct latLong { float lat; float lng; } LatLong;\n"
    "__kernel void nearest(__global LatLong *loc, __global float *d, int n, float lat,\n"
    "                       float lng)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n) {\n"
    "        __global LatLong *l = &loc[i];\n"
    "        d[i] = (lat - l->lat) * (lat - l->lat) + (lng - l->lng) * (lng - l->lng);\n"
    "    }\n"
    "}\n";

static void nearest_host(const weft_host_call *call)
{
    const float *loc = call->args[0];
    float *d = call->args[1];
    float lat = *(const float *)call->args[3], lng = *(const float *)call->args[4];
    HOST_ITEMS(call, i)
    d[i] =
        (lat - loc[2 * i]) * (lat - loc[2 * i]) + (lng - loc[2 * i + 1]) * (lng - loc[2 * i + 1]);
}

static void test_struct_records(void **state)
{
    (void)state;
    enum { M = 5000 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, records_source);
    float *loc0 = malloc(sizeof(float) * 2 * M), *got = malloc(sizeof(float) * M);
    fill_f32(loc0, 2 * M, 29);
    weft_array *loc, *d;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 2 * M, loc0, &loc));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &d));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(loc), weft_arg_slice(d), weft_arg_i32(M), weft_arg_f32(0.25f),
                       weft_arg_f32(-0.5f)};
    ASSERT_OK(weft_launch(p, "nearest", &r, args, 5, nearest_host, NULL, NULL));
    ASSERT_OK(weft_array_read(d, 0, M, got));
    for (size_t i = 0; i < M; i++) {
        float a = 0.25f - loc0[2 * i], b = -0.5f - loc0[2 * i + 1];
        assert_true(got[i] == a * a + b * b);
    }
    /* A record is not an f64 array. */
    weft_array *wrong;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 2 * M, &wrong));
    weft_arg bad[] = {weft_arg_slice(wrong), weft_arg_slice(d), weft_arg_i32(M),
                      weft_arg_f32(0.25f), weft_arg_f32(-0.5f)};
    if (selected_opencl(ctx) > 0) {
        assert_int_equal(weft_launch(p, "nearest", &r, bad, 5, nearest_host, NULL, NULL),
                         WEFT_ERR_DTYPE);
        assert_non_null(strstr(weft_last_error(), "LatLong"));
    }
    weft_array_free(wrong);
    weft_array_free(loc);
    weft_array_free(d);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(loc0);
    free(got);
}

/* ---- records of mixed fields: an int and a float, as their bytes ---- */

static const char mixed_source[] = "typedef struct { int id; float weight; } item;\n"
                                   "__kernel void reweigh(__global item *items, float factor)\n"
                                   "{\n"
                                   "    int i = get_global_id(0);\n"
                                   "    items[i].weight = items[i].weight * factor + items[i].id;\n"
                                   "}\n";

typedef struct item {
    int32_t id;
    float weight;
} item;

static void reweigh_host(const weft_host_call *call)
{
    item *items = call->args[0];
    float factor = *(const float *)call->args[1];
    HOST_ITEMS(call, i)
    items[i].weight = items[i].weight * factor + (float)items[i].id;
}

static void test_records_of_mixed_fields(void **state)
{
    (void)state;
    enum { M = 3000 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, mixed_source);
    item *items = malloc(sizeof(item) * M), *got = malloc(sizeof(item) * M);
    for (int i = 0; i < M; i++)
        items[i] = (item){i, (float)i * 0.5f};
    weft_array *a;
    ASSERT_OK(weft_array_from(ctx, WEFT_U8, sizeof(item) * M, items, &a));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(a), weft_arg_f32(1.5f)};
    ASSERT_OK(weft_launch(p, "reweigh", &r, args, 2, reweigh_host, NULL, NULL));
    ASSERT_OK(weft_array_read(a, 0, sizeof(item) * M, got));
    for (int i = 0; i < M; i++) {
        assert_int_equal(got[i].id, i);
        assert_true(got[i].weight == (float)i * 0.5f * 1.5f + (float)i);
    }
    weft_array_free(a);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(items);
    free(got);
}

/* ---- one array passed twice (in place), and a verdict per split dimension */

static const char in_place_source[] =
    "__kernel void bump(__global const float *in, __global float *out)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    out[i] = in[i] + 1.0f;\n"
    "}\n"
    "__kernel void tr(__global const float *in, __global float *out, int nx, int ny)\n"
    "{\n"
    "    int x = get_global_id(0), y = get_global_id(1);\n"
    "    out[x * ny + y] = in[y * nx + x];\n"
    "}\n";

static void bump_host(const weft_host_call *call)
{
    const float *in = call->args[0];
    float *out = call->args[1];
    HOST_ITEMS(call, i)
    out[i] = in[i] + 1.0f;
}

static void tr_host(const weft_host_call *call)
{
    const float *in = call->args[0];
    float *out = call->args[1];
    size_t nx = (size_t) * (const int *)call->args[2], ny = (size_t) * (const int *)call->args[3];
    int split_y = call->range->size[1] > 1;
    HOST_ITEMS(call, i)
    for (size_t j = 0; j < (split_y ? nx : ny); j++) {
        size_t x = split_y ? j : i, y = split_y ? i : j;
        out[x * ny + y] = in[y * nx + x];
    }
}

/* The check keeps a copy per array, whatever arguments it is bound to: a
 * first launch of an in-place kernel once ran it twice (a + 2). */
static void test_one_array_passed_twice(void **state)
{
    (void)state;
    enum { M = 1 << 12 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, in_place_source);
    float *x0 = malloc(sizeof(float) * M), *got = malloc(sizeof(float) * M);
    fill_f32(x0, M, 31);
    weft_range r = weft_range_1d(M);
    for (int kind = 0; kind < 2; kind++) {
        weft_program *fresh = build(ctx, in_place_source); /* a first launch each time */
        weft_array *a;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x0, &a));
        weft_arg args[] = {kind ? weft_arg_whole(a) : weft_arg_slice(a), weft_arg_slice(a)};
        ASSERT_OK(weft_launch(fresh, "bump", &r, args, 2, bump_host, NULL, NULL));
        ASSERT_OK(weft_array_read(a, 0, M, got));
        for (size_t i = 0; i < M; i++)
            assert_true(got[i] == x0[i] + 1.0f);
        weft_array_free(a);
        weft_program_free(fresh);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
    free(got);
}

/* A kernel found safe split along dimension 0 ({N, 1}) is checked again
 * when a launch splits it along dimension 1, where it writes across rows. */
static void test_verdict_per_split_dimension(void **state)
{
    (void)state;
    enum { NX = 64, NY = 64 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, in_place_source);
    float *in0 = malloc(sizeof(float) * 256 * NY), *got = malloc(sizeof(float) * 256 * NY);
    for (size_t i = 0; i < 256 * NY; i++)
        in0[i] = (float)i + 1.0f;
    weft_array *in, *out;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 256, in0, &in));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 256, &out));
    weft_range column = weft_range_2d(256, 1);
    weft_arg a1[] = {weft_arg_slice(in), weft_arg_slice(out), weft_arg_i32(256), weft_arg_i32(1)};
    ASSERT_OK(weft_launch(p, "tr", &column, a1, 4, tr_host, NULL, NULL));
    weft_array_free(in);
    weft_array_free(out);
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, NX * NY, in0, &in));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, NX * NY, &out));
    weft_range square = weft_range_2d(NX, NY);
    weft_arg a2[] = {weft_arg_slice(in), weft_arg_slice(out), weft_arg_i32(NX), weft_arg_i32(NY)};
    ASSERT_OK(weft_launch(p, "tr", &square, a2, 4, tr_host, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, NX * NY, got));
    for (size_t y = 0; y < NY; y++)
        for (size_t x = 0; x < NX; x++)
            assert_true(got[x * NY + y] == in0[y * NX + x]);
    weft_array_free(in);
    weft_array_free(out);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(in0);
    free(got);
}

/* A window of rows needs slices made of whole rows. */
static void test_window_of_a_rounded_range_refused(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, in_place_source);
    weft_array *in, *out;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 1000, &in));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 1000, &out));
    weft_range r = {1, {1024, 1, 1}, {64, 1, 1}};
    weft_arg args[] = {weft_arg_slice(in), weft_arg_slice(out)};
    assert_int_equal(weft_launch_rows(p, "bump", &r, 0, 512, args, 2, bump_host, NULL, NULL),
                     WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "whole rows"));
    weft_array_free(in);
    weft_array_free(out);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* A window of rows runs those rows and no others, however the cost model
 * places it: the pool (through host_fn) and the devices are all candidates,
 * and repeated calls let the model explore each of them. */
static void test_placed_window_runs_only_its_rows(void **state)
{
    (void)state;
    enum { ROWS = 8192, FIRST = 2048, LAST = 6144, CALLS = 24 };
    weft_options o;
    weft_options_init(&o); /* the defaults: placed by the cost model */
    weft_ctx *ctx = test_ctx_with(&o);
    weft_program *p = build(ctx, in_place_source);
    float *got = malloc(ROWS * sizeof *got);
    assert_non_null(got);
    for (size_t i = 0; i < ROWS; i++)
        got[i] = -1.0f;
    weft_array *in, *out;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, ROWS, &in)); /* zeros */
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, ROWS, got, &out));
    weft_range r = {1, {ROWS, 1, 1}, {64, 1, 1}};
    weft_arg args[] = {weft_arg_slice(in), weft_arg_slice(out)};
    for (int k = 0; k < CALLS; k++)
        ASSERT_OK(weft_launch_rows(p, "bump", &r, FIRST, LAST, args, 2, bump_host, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, ROWS, got));
    for (size_t i = 0; i < ROWS; i++)
        if (got[i] != (i >= FIRST && i < LAST ? 1.0f : -1.0f))
            fail_msg("row %zu: %g, outside the window [%d, %d) it must stay -1", i, (double)got[i],
                     FIRST, LAST);
    weft_array_free(in);
    weft_array_free(out);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(got);
}

/* ---- a parameter type chosen by the preprocessor, as the suites do ---- */

static const char conditional_source[] =
    "#ifdef USE_DOUBLE\n"
    "#define REAL double\n"
    "#else\n"
    "#define REAL float\n"
    "#endif\n"
    "__kernel void twice_real(__global REAL *y, __global const REAL *x)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    y[i] = x[i] + x[i];\n"
    "}\n";

static void test_type_chosen_by_the_preprocessor(void **state)
{
    (void)state;
    enum { M = 1000 };
    weft_ctx *ctx = ctx_telling_signatures();
    for (int dbl = 0; dbl < 2; dbl++) {
        weft_program *p;
        ASSERT_OK(weft_program_build(ctx, conditional_source, dbl ? "-DUSE_DOUBLE" : NULL, &p));
        weft_dtype right = dbl ? WEFT_F64 : WEFT_F32, wrong = dbl ? WEFT_F32 : WEFT_F64;
        weft_array *x, *y, *other;
        ASSERT_OK(weft_array_create(ctx, right, M, &x));
        ASSERT_OK(weft_array_create(ctx, right, M, &y));
        ASSERT_OK(weft_array_create(ctx, wrong, M, &other));
        weft_range r = weft_range_1d(M);
        weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(x)};
        ASSERT_OK(weft_launch(p, "twice_real", &r, args, 2, NULL, NULL, NULL));
        weft_arg bad[] = {weft_arg_slice(other), weft_arg_slice(x)};
        assert_int_equal(weft_launch(p, "twice_real", &r, bad, 2, NULL, NULL, NULL),
                         WEFT_ERR_DTYPE);
        weft_array_free(x);
        weft_array_free(y);
        weft_array_free(other);
        weft_program_free(p);
    }
    weft_ctx_free(ctx);
}

/* ---- the compiler's own macros choose the code: the fp64 preamble of many
 * SDK kernels (AMD APP SDK guide), a configuration #undef, and a kernel
 * path under __OPENCL_VERSION__ ---- */

static const char fp64_preamble_source[] =
    "#if defined(cl_khr_fp64)\n"
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "#define DOUBLE_SUPPORT_AVAILABLE\n"
    "#elif defined(cl_amd_fp64)\n"
    "#pragma OPENCL EXTENSION cl_amd_fp64 : enable\n"
    "#define DOUBLE_SUPPORT_AVAILABLE\n"
    "#endif\n"
    "#define SINGLE_PRECISION\n"
    "#undef SINGLE_PRECISION\n"
    "#if defined(DOUBLE_SUPPORT_AVAILABLE) && !defined(SINGLE_PRECISION)\n"
    "typedef double real_t;\n"
    "#else\n"
    "typedef float real_t;\n"
    "#endif\n"
    "__kernel void axpy(__global real_t *y, __global const real_t *x, real_t a)\n"
    "{ int i = get_global_id(0); y[i] = a * x[i] + y[i]; }\n";

static void test_types_chosen_by_the_compilers_macros(void **state)
{
    (void)state;
    enum { M = 1000 };
    weft_ctx *ctx = ctx_telling_signatures();
    weft_program *p = build(ctx, fp64_preamble_source);
    weft_dtype a_type;
    ASSERT_OK(weft_program_scalar_dtype(p, "axpy", 2, &a_type));
    assert_int_equal(a_type, WEFT_F64); /* every PoCL device here has fp64 */
    double *xd = malloc(M * sizeof *xd), *yd = malloc(M * sizeof *yd);
    float *yf = malloc(M * sizeof *yf);
    for (int i = 0; i < M; i++) {
        xd[i] = i * 0.25;
        yd[i] = 1.0;
        yf[i] = 7.0f;
    }
    weft_array *x, *y, *narrow, *narrow_x;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, M, xd, &x));
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, M, yd, &y));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, yf, &narrow));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, yf, &narrow_x));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_slice(x), weft_arg_f64(2.0)};
    ASSERT_OK(weft_launch(p, "axpy", &r, args, 3, NULL, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, yd));
    for (int i = 0; i < M; i++)
        assert_true(yd[i] == 2.0 * (i * 0.25) + 1.0);
    /* Floats would have the kernel write doubles past their end. */
    weft_arg bad[] = {weft_arg_slice(narrow), weft_arg_slice(narrow_x), weft_arg_f64(2.0)};
    assert_int_equal(weft_launch(p, "axpy", &r, bad, 3, NULL, NULL, NULL), WEFT_ERR_DTYPE);
    ASSERT_OK(weft_array_read(narrow, 0, M, yf));
    for (int i = 0; i < M; i++)
        assert_true(yf[i] == 7.0f);
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(narrow);
    weft_array_free(narrow_x);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(xd);
    free(yd);
    free(yf);
}

/* Work-items of row 0 scale pivot row k (PolyBench's lu_kernel1 pattern),
 * on a path chosen by the OpenCL version: k picks rows only there. */
static const char versioned_pivot_source[] =
    "__kernel void pivot_row(__global float *a, int n, int k, float f)\n"
    "{\n"
    "    int j = get_global_id(0), i = get_global_id(1);\n"
    "#if __OPENCL_VERSION__ >= 110\n"
    "    if (i == 0) a[k * n + j] = a[k * n + j] * f;\n"
    "#endif\n"
    "}\n";

static void pivot_host(const weft_host_call *call)
{
    float *a = call->args[0];
    int n = *(const int *)call->args[1], k = *(const int *)call->args[2];
    float f = *(const float *)call->args[3];
    if (call->begin == 0)
        for (int j = 0; j < n; j++)
            a[k * n + j] *= f;
}

static void test_rows_picked_under_the_opencl_version(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, versioned_pivot_source);
    float *want = malloc(sizeof(float) * N * N), *got = malloc(sizeof(float) * N * N);
    for (int i = 0; i < N * N; i++)
        want[i] = 1.0f + (float)(i % 5);
    weft_array *a;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N * N, want, &a));
    /* The outer dimension (split) is i: row 0's work-items write row k. */
    weft_range r = weft_range_2d(N, N);
    const int ks[] = {0, N - 1, N / 2};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        int k = ks[t];
        for (int j = 0; j < N; j++)
            want[k * N + j] *= 2.0f;
        weft_arg args[] = {weft_arg_slice(a), weft_arg_i32(N), weft_arg_i32(k), weft_arg_f32(2.0f)};
        ASSERT_OK(weft_launch(p, "pivot_row", &r, args, 4, pivot_host, NULL, NULL));
        ASSERT_OK(weft_array_read(a, 0, N * N, got));
        assert_true(same_floats(got, want, N * N));
    }
    weft_array_free(a);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(want);
    free(got);
}

/* ---- records the compiler lays out larger than their fields' sum: a 4x4
 * matrix member, an aligned(16) 3-vector (graphics and n-body kernels) ---- */

static const char padded_records_source[] =
    "typedef struct { float m[4][4]; } mat4;\n"
    "typedef struct __attribute__((aligned(16))) { float x, y, z; } vec3a;\n"
    "__kernel void identity(__global mat4 *t)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    for (int r = 0; r < 4; r++)\n"
    "        for (int c = 0; c < 4; c++) t[i].m[r][c] = r == c;\n"
    "}\n"
    "__kernel void zero(__global vec3a *v) { int i = get_global_id(0); v[i].x = v[i].y = v[i].z = "
    "0; }\n";

static void test_records_padded_by_the_compiler(void **state)
{
    (void)state;
    enum { M = 4096 };
    weft_ctx *ctx = ctx_telling_signatures();
    weft_program *p = build(ctx, padded_records_source);
    weft_range r = weft_range_1d(M);
    weft_array *quarter, *whole, *three, *four;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, 16 * (size_t)M, &quarter));
    /* A record of an array member travels as its bytes (docs/kernels.md). */
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, 64 * (size_t)M, &whole));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 3 * (size_t)M, &three));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 4 * (size_t)M, &four));
    weft_arg short_matrices[] = {weft_arg_slice(quarter)};
    assert_int_equal(weft_launch(p, "identity", &r, short_matrices, 1, NULL, NULL, NULL),
                     WEFT_ERR_SIZE);
    weft_arg matrices[] = {weft_arg_slice(whole)};
    ASSERT_OK(weft_launch(p, "identity", &r, matrices, 1, NULL, NULL, NULL));
    float *got = malloc(16 * sizeof(float) * M);
    ASSERT_OK(weft_array_read(whole, 0, 64 * (size_t)M, got));
    for (size_t i = 0; i < 16 * (size_t)M; i++)
        assert_true(got[i] == ((i % 16) / 4 == (i % 4) ? 1.0f : 0.0f));
    weft_arg short_vectors[] = {weft_arg_slice(three)};
    assert_int_equal(weft_launch(p, "zero", &r, short_vectors, 1, NULL, NULL, NULL), WEFT_ERR_SIZE);
    weft_arg vectors[] = {weft_arg_slice(four)};
    ASSERT_OK(weft_launch(p, "zero", &r, vectors, 1, NULL, NULL, NULL));
    free(got);
    weft_array_free(quarter);
    weft_array_free(whole);
    weft_array_free(three);
    weft_array_free(four);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- types only the compiler can tell: a typedef under a condition weft
 * does not evaluate (a bit test of an options mask), one behind a comment
 * continued by a backslash, a macro defined, undefined and defined again,
 * a scalar by value of such a type ---- */

static const char *const compiler_typed_sources[] = {
    "#define USE_DOUBLE 2\n"
    "#if !(OPTIONS & USE_DOUBLE)\n"
    "typedef float real;\n"
    "#else\n"
    "typedef double real;\n"
    "#endif\n"
    "__kernel void fill(__global real *y, real v) { y[get_global_id(0)] = v; }\n",
    "// the single precision variant lives in C:\\work\\kernels\\float\\\n"
    "typedef float real;\n"
    "typedef double real;\n"
    "__kernel void fill(__global real *y, real v) { y[get_global_id(0)] = v; }\n",
    "#define REAL float\n"
    "#undef REAL\n"
    "#define REAL double\n"
    "typedef REAL real;\n"
    "__kernel void fill(__global real *y, real v) { y[get_global_id(0)] = v; }\n"};

static void fill_host(const weft_host_call *call)
{
    double *y = call->args[0], v = *(const double *)call->args[1];
    HOST_ITEMS(call, i)
    y[i] = v;
}

static void test_types_only_the_compiler_can_tell(void **state)
{
    (void)state;
    enum { M = 1000 };
    weft_ctx *ctx = ctx_telling_signatures();
    for (size_t k = 0; k < sizeof compiler_typed_sources / sizeof *compiler_typed_sources; k++) {
        weft_program *p = NULL;
        ASSERT_OK(weft_program_build(ctx, compiler_typed_sources[k], "-DOPTIONS=3", &p));
        weft_dtype v_type;
        ASSERT_OK(weft_program_scalar_dtype(p, "fill", 1, &v_type));
        assert_int_equal(v_type, WEFT_F64);
        weft_array *y, *narrow;
        ASSERT_OK(weft_array_create(ctx, WEFT_F64, M, &y));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &narrow));
        weft_range r = weft_range_1d(M);
        weft_arg args[] = {weft_arg_slice(y), weft_arg_f64(2.5)};
        ASSERT_OK(weft_launch(p, "fill", &r, args, 2, fill_host, NULL, NULL));
        double got[M];
        ASSERT_OK(weft_array_read(y, 0, M, got));
        for (int i = 0; i < M; i++)
            assert_true(got[i] == 2.5);
        /* Floats would have the kernel write doubles past their end. */
        weft_arg bad[] = {weft_arg_slice(narrow), weft_arg_f64(2.5)};
        assert_int_equal(weft_launch(p, "fill", &r, bad, 2, NULL, NULL, NULL), WEFT_ERR_DTYPE);
        weft_array_free(y);
        weft_array_free(narrow);
        weft_program_free(p);
    }
    weft_ctx_free(ctx);
}

/* ---- the launch's geometry read where the source does not spell it: a
 * header it includes, a -D option, get_global_linear_id ---- */

static void test_geometry_read_through_headers_and_options(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    char dir[] = "/tmp/weft-geometry-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char header[64], include[80];
    snprintf(header, sizeof header, "%s/geom.h", dir);
    FILE *f = fopen(header, "w");
    assert_non_null(f);
    fputs("#define NX get_global_size(0)\n", f);
    fclose(f);
    snprintf(include, sizeof include, "-I %s", dir);
    static const char reverse[] = "__kernel void rev(__global const float *in, __global float "
                                  "*out) { int i = get_global_id(0); out[i] = in[NX - 1 - i]; }\n";
    char with_header[512];
    snprintf(with_header, sizeof with_header, "#include \"geom.h\"\n%s", reverse);
    static const char linear[] = "__kernel void rev(__global const float *in, __global float "
                                 "*out) { int i = get_global_id(0); out[get_global_linear_id()] "
                                 "= in[i] * 2; }\n";
    const struct {
        const char *source, *options;
    } cases[] = {
        {with_header, include}, {reverse, "-DNX=get_global_size(0)"}, {linear, "-cl-std=CL3.0"}};
    enum { M = 1000 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        weft_program *p = NULL;
        weft_status built = weft_program_build(ctx, cases[k].source, cases[k].options, &p);
        if (built != WEFT_OK) { /* a device without OpenCL C 3.0 */
            weft_program_free(p);
            continue;
        }
        weft_array *in, *out;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &in));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &out));
        weft_range r = weft_range_1d(M);
        weft_arg args[] = {weft_arg_whole(in), weft_arg_slice(out)};
        /* A window would see its own size there: refused, as for
         * get_global_size in the source itself. */
        assert_int_equal(weft_launch_rows(p, "rev", &r, 500, 1000, args, 2, NULL, NULL, NULL),
                         WEFT_ERR_UNSUPPORTED);
        weft_array_free(in);
        weft_array_free(out);
        weft_program_free(p);
    }
    unlink(header);
    rmdir(dir);
    weft_ctx_free(ctx);
}

/* ---- vectors and structs passed by value (SDK samples' uint2 image
 * sizes): refused, saying so, before anything runs ---- */

static void test_vectors_and_structs_by_value_refused(void **state)
{
    (void)state;
    weft_ctx *ctx = ctx_telling_signatures();
    weft_program *p = build(ctx, "typedef struct { float a; int b; } params_t;\n"
                                 "__kernel void v(__global float *y, const uint2 dims) "
                                 "{ y[get_global_id(0)] = dims.x; }\n"
                                 "__kernel void s(__global float *y, params_t q) "
                                 "{ y[get_global_id(0)] = q.a; }\n");
    weft_array *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 16, &y));
    weft_range r = weft_range_1d(16);
    weft_arg vector_args[] = {weft_arg_slice(y), weft_arg_u64(3)};
    assert_int_equal(weft_launch(p, "v", &r, vector_args, 2, NULL, NULL, NULL),
                     WEFT_ERR_UNSUPPORTED);
    assert_non_null(strstr(weft_last_error(), "passed by value"));
    weft_arg struct_args[] = {weft_arg_slice(y), weft_arg_f32(1.0f)};
    assert_int_equal(weft_launch(p, "s", &r, struct_args, 2, NULL, NULL, NULL),
                     WEFT_ERR_UNSUPPORTED);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- arrays over overlapping memory (a shifted view of interior windows)
 * used by successive launches: the second saw the host memory while the
 * first's results were still on a copying device ---- */

static const char plus_one_source[] =
    "__kernel void cp(__global float *dst, __global const float *src)\n"
    "{ int i = get_global_id(0); dst[i] = src[i] + 1; }\n";

static void plus_one_host(const weft_host_call *call)
{
    float *dst = call->args[0];
    const float *src = call->args[1];
    HOST_ITEMS(call, i)
    dst[i] = src[i] + 1;
}

static void test_overlapping_wraps_across_launches(void **state)
{
    (void)state;
    enum { M = 4096 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, plus_one_source);
    float *buf = aligned_alloc(weft_array_wrap_alignment(), sizeof(float) * 3 * M);
    memset(buf, 0, sizeof(float) * 3 * M);
    weft_array *a, *b, *c, *d;
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, M, buf, &a));
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, M, buf + M, &b));
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, M, buf + M / 2, &c)); /* half of a, half of b */
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, M, buf + 2 * M, &d));
    weft_range r = weft_range_1d(M);
    float *values = malloc(sizeof(float) * M), *got = malloc(sizeof(float) * M);
    for (int it = 0; it < 3; it++) {
        for (int i = 0; i < M; i++)
            values[i] = (float)(it * 10);
        ASSERT_OK(weft_array_write(a, 0, M, values));
        weft_arg b_from_a[] = {weft_arg_slice(b), weft_arg_slice(a)};
        weft_arg d_from_c[] = {weft_arg_slice(d), weft_arg_slice(c)};
        ASSERT_OK(weft_launch(p, "cp", &r, b_from_a, 2, plus_one_host, NULL, NULL));
        ASSERT_OK(weft_launch(p, "cp", &r, d_from_c, 2, plus_one_host, NULL, NULL));
        ASSERT_OK(weft_array_read(d, 0, M, got));
        for (int i = 0; i < M; i++)
            if (got[i] != (i < M / 2 ? it * 10 + 1.0f : it * 10 + 2.0f))
                fail_msg("iteration %d, element %d: %g", it, i, (double)got[i]);
    }
    weft_array_free(a);
    weft_array_free(b);
    weft_array_free(c);
    weft_array_free(d);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(buf);
    free(values);
    free(got);
}

/* The compiler is asked right after the kernel: a macro defined further down
 * (`#define rec char`) must not change what the parameter's type is (asked at
 * the end of the source, sizeof(rec) was 1 and a 1 KiB array took 16 KiB of
 * writes); a source ending in a `//` comment continued by a backslash does not
 * swallow the question. */
static const char shadowed_record_source[] =
    "typedef struct { double a, b; } rec;\n"
    "__kernel void fill(__global rec *y) { size_t i = get_global_id(0); y[i].a = 1; y[i].b = 2; "
    "}\n"
    "#define rec char /* byte helpers follow */\n"
    "// kept in C:\\kernels\\";

static void test_types_asked_where_the_kernel_is(void **state)
{
    (void)state;
    enum { M = 1024 };
    weft_ctx *ctx = ctx_telling_signatures();
    weft_program *p = build(ctx, shadowed_record_source);
    weft_range r = weft_range_1d(M);
    weft_array *narrow, *wide;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, M, &narrow));
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, 16 * (size_t)M, &wide));
    weft_arg too_small[] = {weft_arg_slice(narrow)};
    assert_int_equal(weft_launch(p, "fill", &r, too_small, 1, NULL, NULL, NULL), WEFT_ERR_SIZE);
    weft_arg records[] = {weft_arg_slice(wide)};
    ASSERT_OK(weft_launch(p, "fill", &r, records, 1, NULL, NULL, NULL));
    double first[2];
    ASSERT_OK(weft_array_read(wide, 0, sizeof first, first));
    assert_true(first[0] == 1.0 && first[1] == 2.0);
    weft_array_free(narrow);
    weft_array_free(wide);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* Small reads and writes of a wrap take a quick path when nothing uses the
 * array: with another live wrap over the same memory, they must wait for
 * its operations too (a read saw 0 for 8, a write landed before the
 * operations queued ahead of it). */
static void test_small_access_to_an_overlapping_wrap_keeps_order(void **state)
{
    (void)state;
    enum { M = 1 << 20, K = 8 };
    weft_ctx *ctx = test_ctx();
    float *mem = aligned_alloc(weft_array_wrap_alignment(), M * sizeof(float));
    memset(mem, 0, M * sizeof(float));
    weft_array *a, *b;
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, M, mem, &a));
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, 16, mem, &b)); /* a's first 16 */
    weft_bind binds[] = {weft_bind_array("x", a)};
    weft_future *f[2 * K];
    for (int i = 0; i < K; i++)
        ASSERT_OK(weft_map(ctx, "x = x + 1", binds, 1, &f[i]));
    float got[16], hundred[16];
    ASSERT_OK(weft_array_read(b, 0, 16, got));
    assert_true(got[0] == K);
    for (int i = K; i < 2 * K; i++)
        ASSERT_OK(weft_map(ctx, "x = x + 1", binds, 1, &f[i]));
    for (int i = 0; i < 16; i++)
        hundred[i] = 100;
    ASSERT_OK(weft_array_write(b, 0, 16, hundred));
    for (int i = 0; i < 2 * K; i++) {
        ASSERT_OK(weft_future_wait(f[i]));
        ASSERT_OK(weft_future_release(f[i]));
    }
    ASSERT_OK(weft_array_read(b, 0, 16, got));
    assert_true(got[0] == 100);
    weft_array_free(b);
    weft_array_free(a);
    weft_ctx_free(ctx);
    free(mem);
}

/* ---- a convergence flag raised through a macro (MAGMA/clBLAS-style
 * accessors name parameters in #defines) ---- */

static const char relax_source[] =
    "#define NOT_DONE (done[0])\n"
    "__kernel void relax(__global const int *in, __global int *out,\n"
    "                    __global int *done, int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    int l = i > 0 ? in[i - 1] + 1 : in[i];\n"
    "    int v = min(in[i], l);\n"
    "    out[i] = v;\n"
    "    if (v != in[i]) NOT_DONE = 1;\n"
    "}\n";

static void relax_host(const weft_host_call *call)
{
    const int *in = call->args[0];
    int *out = call->args[1], *done = call->args[2];
    HOST_ITEMS(call, i)
    {
        int l = i > 0 ? in[i - 1] + 1 : in[i];
        int v = in[i] < l ? in[i] : l;
        out[i] = v;
        if (v != in[i]) done[0] = 1;
    }
}

static void check_flag_written(const char *source, const char *options)
{
    enum { M = 1024 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = NULL;
    if (weft_program_build(ctx, source, options, &p) != WEFT_OK)
        fail_msg("build: %s\n%s", weft_last_error(), weft_program_build_log(p));
    int *in = malloc(M * sizeof *in);
    const int wheres[] = {10, M / 2 + 3, M - 10};
    for (size_t t = 0; t < sizeof wheres / sizeof wheres[0]; t++) {
        for (int i = 0; i < M; i++)
            in[i] = i; /* nothing changes but one element, in each device's rows in turn */
        in[wheres[t]] = 1000000;
        int done = 0;
        weft_array *x, *out, *flag;
        ASSERT_OK(weft_array_from(ctx, WEFT_I32, M, in, &x));
        ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &out));
        ASSERT_OK(weft_array_from(ctx, WEFT_I32, 1, &done, &flag));
        weft_range r = weft_range_1d(M);
        weft_arg args[] = {weft_arg_halo(x, 1), weft_arg_slice(out), weft_arg_whole(flag),
                           weft_arg_i32(M)};
        ASSERT_OK(weft_launch(p, "relax", &r, args, 4, relax_host, NULL, NULL));
        ASSERT_OK(weft_array_read(flag, 0, 1, &done));
        assert_int_equal(done, 1);
        weft_array_free(x);
        weft_array_free(out);
        weft_array_free(flag);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(in);
}

static void test_flag_written_through_a_macro(void **state)
{
    (void)state;
    check_flag_written(relax_source, NULL);
}

/* The macro given in the build options (`-DNOT_DONE=done[0]`): the flag was
 * taken for only read, and its write was lost on copying devices. */
static void test_flag_written_through_an_option_macro(void **state)
{
    (void)state;
    const char *body = strchr(relax_source, '\n') + 1; /* without relax's own #define */
    check_flag_written(body, "-DNOT_DONE=(done[0])");
}

/* The same with the macro continued on a second line and CRLF line ends, as
 * Windows editors save (10 of Rodinia's kernel files): a backslash before
 * CR LF splices the lines for the compiler, so it must for weft too. */
static void test_flag_written_through_a_continued_macro_with_crlf(void **state)
{
    (void)state;
    const char *lf = "#define NOT_DONE \\\n (done[0])\n";
    size_t cap = 2 * (strlen(lf) + sizeof relax_source), at = 0;
    char *crlf = malloc(cap);
    assert_non_null(crlf);
    const char *body = strchr(relax_source, '\n') + 1; /* after relax's own #define */
    for (const char *parts[] = {lf, body}, **part = parts; part < parts + 2; part++)
        for (const char *c = *part; *c; c++) {
            if (*c == '\n') crlf[at++] = '\r';
            crlf[at++] = *c;
        }
    crlf[at] = '\0';
    check_flag_written(crlf, NULL);
    free(crlf);
}

/* ---- a whole argument the kernel writes: an atomics histogram (the AMD
 * SDK / Parboil "histo" pattern), and an input it changes in place ---- */

static const char histo_source[] =
    "__kernel void histo(__global const uint *x, __global volatile int *bins)\n"
    "{\n"
    "    atomic_inc(&bins[x[get_global_id(0)] & 255]);\n"
    "}\n";

static void histo_host(const weft_host_call *call)
{
    const uint32_t *x = call->args[0];
    int32_t *bins = call->args[1];
    HOST_ITEMS(call, i)
    __atomic_fetch_add(&bins[x[i] & 255], 1, __ATOMIC_RELAXED);
}

/* The bins are passed whole (no slice of 256 bins splits a range of 2^16
 * items). Split, every device counted its items into its own copy of them
 * (copying devices: the copies' counts were lost) or into the shared one
 * while one device then counted all of them again (zero-copy: twice the
 * count), with WEFT_OK. The split's change to them keeps the kernel on one
 * device, whose counts are kept; later launches count on one device. */
static void test_atomics_histogram_into_a_whole_argument(void **state)
{
    (void)state;
    enum { M = 1 << 16, ROUNDS = 3 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, histo_source);
    uint32_t *x0 = malloc(sizeof(uint32_t) * M);
    int32_t want[256] = {0}, got[256];
    for (size_t i = 0; i < M; i++) {
        x0[i] = (uint32_t)(i * 2654435761u) >> 7;
        want[x0[i] & 255] += ROUNDS;
    }
    weft_array *x, *bins;
    ASSERT_OK(weft_array_from(ctx, WEFT_U32, M, x0, &x));
    int32_t zeros[256] = {0};
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, 256, zeros, &bins));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(x), weft_arg_whole(bins)};
    for (int round = 0; round < ROUNDS; round++)
        ASSERT_OK(weft_launch(p, "histo", &r, args, 2, histo_host, NULL, NULL));
    ASSERT_OK(weft_array_read(bins, 0, 256, got));
    assert_memory_equal(got, want, sizeof want);
    /* Zero-copy, the split's check saw the bins change and kept the kernel
     * whole; copying, a kernel that may write a whole argument is not split
     * at all (what it writes can depend on the data: no check can tell). */
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    assert_int_equal(st.kernels_kept_whole,
                     selected_opencl(ctx) > 1 && copying_opencl(ctx) == 0 ? 1 : 0);
    weft_array_free(x);
    weft_array_free(bins);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
}

/* Rodinia bfs's "frontier not empty" flag: written only when the data says
 * so. A first launch that wrote nothing passed its check, the split was
 * taken as safe at these values, and the next level's flag, written on
 * copying devices into each device's own copy of it, was lost. */
static const char frontier_source[] =
    "__kernel void frontier(__global const uchar *mask, __global uchar *over, int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n && mask[i]) *over = 1;\n"
    "}\n";

static void frontier_host(const weft_host_call *call)
{
    const unsigned char *mask = call->args[0];
    unsigned char *over = call->args[1];
    HOST_ITEMS(call, i)
    if (mask[i]) *over = 1;
}

static void test_data_dependent_write_to_a_whole_argument(void **state)
{
    (void)state;
    enum { M = 1 << 14 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, frontier_source);
    unsigned char mask[M] = {0}, over = 0;
    weft_array *m, *o;
    ASSERT_OK(weft_array_from(ctx, WEFT_U8, M, mask, &m));
    ASSERT_OK(weft_array_from(ctx, WEFT_U8, 1, &over, &o));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(m), weft_arg_whole(o), weft_arg_i32(M)};
    /* Level 1: an empty frontier writes nothing. */
    ASSERT_OK(weft_launch(p, "frontier", &r, args, 3, frontier_host, NULL, NULL));
    ASSERT_OK(weft_array_read(o, 0, 1, &over));
    assert_int_equal(over, 0);
    /* Level 2: a node near the end of the range, on the last device. */
    mask[M - 3] = 1;
    ASSERT_OK(weft_array_write(m, 0, M, mask));
    ASSERT_OK(weft_launch(p, "frontier", &r, args, 3, frontier_host, NULL, NULL));
    ASSERT_OK(weft_array_read(o, 0, 1, &over));
    assert_int_equal(over, 1);
    weft_array_free(m);
    weft_array_free(o);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

static const char liar_source[] = "__kernel void liar(__global float *y, __global float *x)\n"
                                  "{\n"
                                  "    int i = get_global_id(0);\n"
                                  "    y[i] = x[i] + 1.0f;\n"
                                  "    if (i == 0) x[0] = -1.0f;\n"
                                  "}\n";

static void liar_host(const weft_host_call *call)
{
    float *y = call->args[0], *x = call->args[1];
    HOST_ITEMS(call, i)
    y[i] = x[i] + 1.0f;
    if (call->begin == 0) x[0] = -1.0f;
}

/* An input passed whole that the kernel also writes, one element from
 * work-item 0: the one-device answer, whatever the setup (WEFT_VERIFY=1
 * used to be the only way to hear of it). A whole input the kernel only
 * reads, declared without const as the suites declare them, still splits
 * after its check. */
static void scaled_host(const weft_host_call *call)
{
    float *y = call->args[0];
    const float *x = call->args[1];
    float a = *(const float *)call->args[2];
    HOST_ITEMS(call, i)
    y[i] = a * x[(i * 7) % 16384];
}

static void test_whole_argument_written_or_only_read(void **state)
{
    (void)state;
    enum { M = 1 << 14 };
    weft_ctx *ctx = test_ctx();
    float *x0 = malloc(sizeof(float) * M), *got = malloc(sizeof(float) * M);
    fill_f32(x0, M, 41);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, M, x0, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    weft_range r = weft_range_1d(M);
    weft_program *p = build(ctx, liar_source);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_whole(x)};
    ASSERT_OK(weft_launch(p, "liar", &r, args, 2, liar_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, got));
    for (size_t i = 0; i < M; i++)
        assert_true(got[i] == x0[i] + 1.0f);
    ASSERT_OK(weft_array_read(x, 0, M, got));
    assert_true(got[0] == -1.0f);
    assert_memory_equal(got + 1, x0 + 1, (M - 1) * sizeof(float));
    weft_program_free(p);
    /* Read only, though not const: split after one check. */
    static const char reader_source[] =
        "__kernel void scaled(__global float *y, __global float *x, float a)\n"
        "{ int i = get_global_id(0); y[i] = a * x[(i * 7) % 16384]; }\n";
    p = build(ctx, reader_source);
    weft_arg read_args[] = {weft_arg_slice(y), weft_arg_whole(x), weft_arg_f32(2.0f)};
    for (int round = 0; round < 3; round++)
        ASSERT_OK(weft_launch(p, "scaled", &r, read_args, 3, scaled_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, M, got));
    x0[0] = -1.0f; /* as the liar left it */
    for (size_t i = 0; i < M; i++)
        assert_true(got[i] == 2.0f * x0[(i * 7) % M]);
    weft_piece_report pieces[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    if (selected_opencl(ctx) > 1) assert_true(count > 1);
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
    free(x0);
    free(got);
}

/* Under WEFT_VERIFY=1 a whole argument the kernel may write is checked as
 * it is without (it failed as "given to read only"), and a const one the
 * kernel writes through a cast is named. */
static void test_verify_whole_arguments(void **state)
{
    (void)state;
    enum { M = 1 << 12 };
    setenv("WEFT_VERIFY", "1", 1);
    weft_ctx *ctx = test_ctx();
    unsetenv("WEFT_VERIFY");
    if (selected_opencl(ctx) < 2) {
        weft_ctx_free(ctx);
        skip(); /* the check runs where a launch is split */
    }
    weft_program *p = build(ctx, histo_source);
    uint32_t x0[M];
    int32_t want[256] = {0}, got[256], zeros[256] = {0};
    for (size_t i = 0; i < M; i++) {
        x0[i] = (uint32_t)(i * 2654435761u) >> 5;
        want[x0[i] & 255]++;
    }
    weft_array *x, *bins;
    ASSERT_OK(weft_array_from(ctx, WEFT_U32, M, x0, &x));
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, 256, zeros, &bins));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(x), weft_arg_whole(bins)};
    ASSERT_OK(weft_launch(p, "histo", &r, args, 2, histo_host, NULL, NULL));
    ASSERT_OK(weft_array_read(bins, 0, 256, got));
    assert_memory_equal(got, want, sizeof want);
    weft_program_free(p);
    static const char caster_source[] =
        "__kernel void caster(__global float *y, __global const float *x)\n"
        "{ int i = get_global_id(0); y[i] = x[i] + 1.0f;\n"
        "  if (i == 0) ((__global float *)x)[0] = -1.0f; }\n";
    p = build(ctx, caster_source);
    weft_array *a, *b;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &b));
    weft_arg cargs[] = {weft_arg_slice(b), weft_arg_whole(a)};
    assert_int_equal(weft_launch(p, "caster", &r, cargs, 2, NULL, NULL, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "wrote argument 1 at element 0"));
    weft_array_free(a);
    weft_array_free(b);
    weft_array_free(x);
    weft_array_free(bins);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- reqd_work_group_size, as SDK samples and tuned suite kernels
 * declare it ---- */

static const char reqd_source[] =
    "__attribute__((reqd_work_group_size(16, 16, 1)))\n"
    "__kernel void tile_ids(__global float *y, int nx)\n"
    "{\n"
    "    y[get_global_id(1) * nx + get_global_id(0)] = get_local_id(0) + 100 * get_local_id(1);\n"
    "}\n";

static void tile_ids_host(const weft_host_call *call)
{
    float *y = call->args[0];
    size_t nx = (size_t) * (const int *)call->args[1];
    HOST_ITEMS(call, j)
    for (size_t i = 0; i < nx; i++)
        y[j * nx + i] = (float)(i % 16 + 100 * (j % 16));
}

/* With no local size the kernel's own 16 x 16 is used (OpenCL refuses a
 * launch without it: the device "failed" and the pieces fell back to the
 * pool); the split keeps to whole work-groups; a local size that
 * contradicts the attribute is refused before anything runs. */
static void test_required_work_group_size(void **state)
{
    (void)state;
    enum { NX = 64, NY = 96 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, reqd_source);
    weft_array *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, NX * NY, &y));
    float *got = malloc(sizeof(float) * NX * NY);
    weft_arg args[] = {weft_arg_slice(y), weft_arg_i32(NX)};
    weft_range r = weft_range_2d(NX, NY);
    for (int round = 0; round < 2; round++)
        ASSERT_OK(weft_launch(p, "tile_ids", &r, args, 2, tile_ids_host, NULL, NULL));
    ASSERT_OK(weft_array_read(y, 0, NX * NY, got));
    for (size_t j = 0; j < NY; j++)
        for (size_t i = 0; i < NX; i++)
            assert_true(got[j * NX + i] == (float)(i % 16 + 100 * (j % 16)));
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    assert_int_equal(st.pieces_rerun, 0);
    weft_piece_report pieces[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    for (size_t k = 0; k < count; k++)
        assert_int_equal(pieces[k].begin % 16, 0);
    if (selected_opencl(ctx) > 0) {
        weft_range wrong = {2, {NX, NY, 1}, {32, 8, 1}};
        assert_int_equal(weft_launch(p, "tile_ids", &wrong, args, 2, tile_ids_host, NULL, NULL),
                         WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "reqd_work_group_size"));
        /* No local size, and 16 does not divide 100: refused before
         * anything is written (devices failed after writing part of it,
         * or the host_fn answered alone with WEFT_OK). */
        weft_range uneven = weft_range_2d(NX, 100);
        weft_array *z;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, NX * 100, &z));
        weft_arg zargs[] = {weft_arg_slice(z), weft_arg_i32(NX)};
        assert_int_equal(weft_launch(p, "tile_ids", &uneven, zargs, 2, tile_ids_host, NULL, NULL),
                         WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "do not divide the range's 100 indices"));
        float *zs = malloc(sizeof(float) * NX * 100);
        ASSERT_OK(weft_array_read(z, 0, NX * 100, zs));
        for (size_t i = 0; i < NX * 100; i++)
            assert_true(zs[i] == 0.0f); /* nothing written */
        free(zs);
        weft_array_free(z);
    }
    free(got);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* A kernel calling exp and log (option pricing, particle filters) and its C
 * twin give other bits (the device's libm and C's): with a device usable,
 * the host_fn is a fallback only, whatever the size, so the same launch
 * always answers with the device's bits. It answered from the pool for
 * small sizes, and now and then for large ones as timings moved. */
static const char inexact_source[] =
    "__kernel void growth(__global const float *x, __global float *o)\n"
    "{ int i = get_global_id(0); o[i] = exp(x[i]) + log(x[i] + 1.0f); }\n";
/* Exactly rounded math, made loose by the options: contraction into fma,
 * denormals flushed. */
static const char loose_source[] =
    "__kernel void growth(__global const float *x, __global float *o)\n"
    "{ int i = get_global_id(0); o[i] = x[i] * 3.0f + 1e-40f; }\n";

static void marking_host(const weft_host_call *call)
{
    float *o = call->args[1];
    HOST_ITEMS(call, i)
    o[i] = -1.0f; /* not what the kernel writes: shows who answered */
}

static void test_inexact_math_keeps_host_fn_a_fallback(void **state)
{
    (void)state;
    weft_options defaults;
    weft_options_init(&defaults); /* placed by the cost model, as by default */
    weft_ctx *ctx = test_ctx_with(&defaults);
    int devices = selected_opencl(ctx) > 0;
    static const struct {
        const char *source, *options;
    } programs[] = {{inexact_source, NULL},
                    {loose_source, "-weft-fp-contract"},
                    {loose_source, "-cl-denorms-are-zero"}};
    static const size_t sizes[] = {8, 1000, 100000};
    for (size_t c = 0; c < sizeof programs / sizeof programs[0] * 3; c++) {
        size_t k = c % 3;
        weft_program *p = NULL;
        ASSERT_OK(weft_program_build(ctx, programs[c / 3].source, programs[c / 3].options, &p));
        size_t n = sizes[k];
        float *x = malloc(n * sizeof *x), *o = malloc(n * sizeof *o);
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(i % 100) * 0.1f;
        weft_array *xa, *oa;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, n, &oa));
        weft_range r = weft_range_1d(n);
        weft_arg args[] = {weft_arg_slice(xa), weft_arg_slice(oa)};
        for (int round = 0; round < 12; round++) {
            ASSERT_OK(weft_launch(p, "growth", &r, args, 2, marking_host, NULL, NULL));
            ASSERT_OK(weft_array_read(oa, 0, n, o));
            size_t marked = 0;
            for (size_t i = 0; i < n; i++)
                marked += o[i] == -1.0f;
            if (marked != (devices ? 0 : n))
                fail_msg("program %zu, n = %zu, round %d: %zu of %zu from the host_fn", c / 3, n,
                         round, marked, n);
        }
        weft_array_free(xa);
        weft_array_free(oa);
        weft_program_free(p);
        free(x);
        free(o);
    }
    weft_ctx_free(ctx);
}

/* ---- char and short arrays, as Rodinia's bfs keeps its masks: u8 bytes ---- */

static const char masks_source[] =
    "__kernel void masks(__global char *mask, __global short *level, __global const char *seed)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    mask[i] = seed[i] ? (char)-1 : 0;\n"
    "    level[i] = (short)(i % 300) - 150;\n"
    "}\n";

static void masks_host(const weft_host_call *call)
{
    signed char *mask = call->args[0];
    short *level = call->args[1];
    const signed char *seed = call->args[2];
    HOST_ITEMS(call, i)
    {
        mask[i] = seed[i] ? (signed char)-1 : 0;
        level[i] = (short)((int)(i % 300) - 150);
    }
}

/* No dtype matched a char* or short* parameter, so such kernels could not
 * be launched at all; u8 arrays of their bytes are taken now. */
static void test_char_and_short_arrays_as_bytes(void **state)
{
    (void)state;
    enum { M = 4099 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, masks_source);
    unsigned char seed[M], mask[M];
    short level[M];
    for (size_t i = 0; i < M; i++)
        seed[i] = (unsigned char)(i % 3 == 0);
    weft_array *m, *l, *sd;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, M, &m));
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, 2 * M, &l));
    ASSERT_OK(weft_array_from(ctx, WEFT_U8, M, seed, &sd));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(m), weft_arg_slice(l), weft_arg_slice(sd)};
    ASSERT_OK(weft_launch(p, "masks", &r, args, 3, masks_host, NULL, NULL));
    ASSERT_OK(weft_array_read(m, 0, M, mask));
    ASSERT_OK(weft_array_read(l, 0, 2 * M, level));
    for (size_t i = 0; i < M; i++) {
        assert_int_equal(mask[i], i % 3 == 0 ? 0xff : 0);
        assert_int_equal(level[i], (short)((int)(i % 300) - 150));
    }
    weft_array_free(m);
    weft_array_free(l);
    weft_array_free(sd);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- an array must hold whole elements of what the kernel points to ---- */

static const char elements_source[] =
    "typedef struct { float lat; float lng; } LatLong;\n"
    "typedef struct { int id; float w; double d; } item; /* 16 bytes: d aligned to 8 */\n"
    "typedef struct { float3 pos; } point; /* float3 takes 16 bytes */\n"
    "typedef union { float f; int i; double d; } either; /* weft lays out no union */\n"
    "__kernel void unions(__global either *u)\n"
    "{ int i = get_global_id(0); u[i].d = i; }\n"
    "__kernel void quads(__global float4 *p)\n"
    "{ int i = get_global_id(0); p[i] = (float4)(i, i + 1, i + 2, i + 3); }\n"
    "__kernel void places(__global LatLong *p)\n"
    "{ int i = get_global_id(0); p[i].lat = i; p[i].lng = i + 1; }\n"
    "__kernel void items(__global item *p)\n"
    "{ int i = get_global_id(0); p[i].id = i; p[i].w = 0.5f; p[i].d = 2.0 * i; }\n"
    "__kernel void points(__global point *p)\n"
    "{ int i = get_global_id(0); p[i].pos = (float3)(i, 0, 0); }\n";

/* One launch of kernel over M work-items on an array of dtype and n
 * elements, wrapped from a buffer with a guard zone after it; the guard
 * must be untouched whatever the status. */
static weft_status launch_guarded(weft_ctx *ctx, weft_program *p, const char *kernel,
                                  weft_dtype dtype, size_t n, size_t items, char *why, size_t cap)
{
    enum { GUARD = 1 << 16 };
    size_t bytes = n * weft_dtype_size(dtype);
    unsigned char *memory = aligned_alloc(4096, (bytes + GUARD + 4095) / 4096 * 4096);
    memset(memory, 0x5a, bytes + GUARD);
    weft_array *a;
    ASSERT_OK(weft_array_wrap(ctx, dtype, n, memory, &a));
    weft_range r = weft_range_1d(items);
    weft_arg args[] = {weft_arg_slice(a)};
    weft_status st = weft_launch(p, kernel, &r, args, 1, NULL, NULL, NULL);
    snprintf(why, cap, "%s", weft_last_error());
    ASSERT_OK(weft_array_free(a));
    for (size_t i = bytes; i < bytes + GUARD; i++)
        if (memory[i] != 0x5a) fail_msg("%s wrote %zu bytes past the array", kernel, i - bytes);
    free(memory);
    return st;
}

/* An f32 array of one float per work-item bound to a float4* parameter, or
 * to a record of two floats (or a union of 8 bytes, which weft does not lay
 * out: the compiler is asked), let the kernel write past its end into the
 * caller's memory; it is WEFT_ERR_SIZE now, naming the element's size.
 * Arrays of whole elements per index run. */
static void test_elements_larger_than_the_array(void **state)
{
    (void)state;
    enum { M = 1 << 12 };
    weft_ctx *ctx = test_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip(); /* no device reads the kernel's signature */
    }
    weft_program *p = build(ctx, elements_source);
    static const struct {
        const char *kernel;
        weft_dtype dtype;
        size_t per_item, element;
    } cases[] = {{"quads", WEFT_F32, 4, 16},
                 {"places", WEFT_F32, 2, 8},
                 {"items", WEFT_U8, 16, 16},
                 {"points", WEFT_F32, 4, 16},
                 {"unions", WEFT_U8, 8, 8}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t elem = weft_dtype_size(cases[c].dtype), whole = cases[c].per_item;
        char why[512], size[32];
        ASSERT_OK(
            launch_guarded(ctx, p, cases[c].kernel, cases[c].dtype, M * whole, M, why, sizeof why));
        assert_int_equal(launch_guarded(ctx, p, cases[c].kernel, cases[c].dtype,
                                        M * (whole - (elem == 1 ? 4 : 1)), M, why, sizeof why),
                         WEFT_ERR_SIZE);
        snprintf(size, sizeof size, "its %zu-byte elements", cases[c].element);
        assert_non_null(strstr(why, size));
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- odd-even transposition sort (the textbook GPU sort, as in public HPC
 * courses): work-item t compares x[2t + parity] with the next key and swaps
 * them; in odd phases the pair at a piece boundary straddles two devices.
 * The key read across the split only feeds a comparison: a poison a key
 * moved by 2 kept its outcome, the check agreed, and later sorts on copying
 * devices came back unsorted, keys lost and duplicated. ---- */

static const char odd_even_source[] =
    "__kernel void odd_even_step(__global int *x, int n, int parity)\n"
    "{\n"
    "    int idx = 2 * (int)get_global_id(0) + parity;\n"
    "    if (idx + 1 < n && x[idx] > x[idx + 1]) {\n"
    "        int t = x[idx]; x[idx] = x[idx + 1]; x[idx + 1] = t;\n"
    "    }\n"
    "}\n";

static void odd_even_host(const weft_host_call *call)
{
    int *x = call->args[0];
    int n = *(const int *)call->args[1], parity = *(const int *)call->args[2];
    HOST_ITEMS(call, t)
    {
        int idx = 2 * (int)t + parity;
        if (idx + 1 < n && x[idx] > x[idx + 1]) {
            int k = x[idx];
            x[idx] = x[idx + 1];
            x[idx + 1] = k;
        }
    }
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_reads_across_the_split_that_only_compare(void **state)
{
    (void)state;
    enum { KEYS = 4096 };
    weft_ctx *ctx = test_ctx();
    int *keys = malloc(KEYS * sizeof *keys), *want = malloc(KEYS * sizeof *want);
    uint64_t seed = 7;
    /* The first sort (the check's values): sorted (a warm-up), all equal (a
     * zeroed buffer: every key is the least, the poison at the least could
     * not flip its compares), the least just before the middle; then
     * shuffled and backwards. Each first input with a fresh program. */
    for (int first = 0; first < 3; first++) {
        weft_program *p = build(ctx, odd_even_source);
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < KEYS; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                int random = (int)(seed >> 40);
                keys[i] = round == 3                               ? KEYS - i
                          : round > 0                              ? random
                          : first == 0                             ? 10 * i
                          : first == 1                             ? 0
                          : i == KEYS / 2 - 1 || i == KEYS / 2 - 2 ? -1
                                                                   : random;
            }
            memcpy(want, keys, KEYS * sizeof *keys);
            qsort(want, KEYS, sizeof *want, compare_ints);
            weft_array *x;
            ASSERT_OK(weft_array_from(ctx, WEFT_I32, KEYS, keys, &x));
            weft_range r = weft_range_1d(KEYS / 2);
            r.local[0] = 256;
            for (int phase = 0; phase < KEYS; phase++) {
                weft_arg args[] = {weft_arg_slice(x), weft_arg_i32(KEYS), weft_arg_i32(phase % 2)};
                ASSERT_OK(weft_launch(p, "odd_even_step", &r, args, 3, odd_even_host, NULL, NULL));
            }
            ASSERT_OK(weft_array_read(x, 0, KEYS, keys));
            size_t wrong = 0;
            for (int i = 0; i < KEYS; i++)
                wrong += keys[i] != want[i];
            if (wrong)
                fail_msg("first input %d, round %d: %zu of %d keys out of place", first, round,
                         wrong, KEYS);
            ASSERT_OK(weft_array_free(x));
        }
        weft_program_free(p);
    }
    free(keys);
    free(want);
    weft_ctx_free(ctx);
}

/* Row-local maps over an index array 0..n-1 (one 0) and over bytes 1..200:
 * a check of them is conclusive, so they keep splitting (one version of the
 * rule above stopped every uchar kernel, and every uint array holding a 0,
 * splitting after 3 checks). */
static const char row_local_source[] =
    "__kernel void twice_u(__global uint *y, __global const uint *x)\n"
    "{ size_t i = get_global_id(0); y[i] = 2u * x[i]; }\n"
    "__kernel void half_b(__global uchar *y, __global const uchar *x)\n"
    "{ size_t i = get_global_id(0); y[i] = (uchar)(x[i] / 2); }\n";

static void row_local_host(const weft_host_call *call)
{
    int bytes = *(const int *)call->user;
    HOST_ITEMS(call, i)
    {
        if (bytes)
            ((uint8_t *)call->args[0])[i] = (uint8_t)(((const uint8_t *)call->args[1])[i] / 2);
        else
            ((uint32_t *)call->args[0])[i] = 2u * ((const uint32_t *)call->args[1])[i];
    }
}

static void test_row_local_maps_over_zeros_keep_splitting(void **state)
{
    (void)state;
    enum { M = 1 << 16 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, row_local_source);
    uint32_t *x = malloc(M * sizeof *x), *got = malloc(M * sizeof *got);
    for (int bytes = 0; bytes < 2; bytes++) {
        for (uint32_t i = 0; i < M; i++)
            x[i] = i;
        uint8_t *x8 = (uint8_t *)x;
        if (bytes)
            for (uint32_t i = 0; i < M; i++)
                x8[i] = (uint8_t)(1 + i % 200);
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_from(ctx, bytes ? WEFT_U8 : WEFT_U32, M, x, &xa));
        ASSERT_OK(weft_array_create(ctx, bytes ? WEFT_U8 : WEFT_U32, M, &ya));
        weft_range r = weft_range_1d(M);
        weft_arg args[] = {weft_arg_slice(ya), weft_arg_slice(xa)};
        weft_stats before, after;
        ASSERT_OK(weft_ctx_stats(ctx, &before));
        for (int round = 0; round < 8; round++)
            ASSERT_OK(weft_launch(p, bytes ? "half_b" : "twice_u", &r, args, 2, row_local_host,
                                  &bytes, NULL));
        ASSERT_OK(weft_ctx_stats(ctx, &after));
        ASSERT_OK(weft_array_read(ya, 0, M, got));
        for (uint32_t i = 0; i < M; i++) {
            uint32_t want = bytes ? (uint32_t)(x8[i] / 2) : 2u * i;
            uint32_t have = bytes ? ((uint8_t *)got)[i] : got[i];
            if (have != want)
                fail_msg("%s: element %u is %u, want %u", bytes ? "half_b" : "twice_u", i, have,
                         want);
        }
        if (after.kernels_kept_whole != before.kernels_kept_whole ||
            after.splits_checked - before.splits_checked > 1)
            fail_msg("%s: %llu checks, %llu kernels kept whole over 8 launches (want <= 1, 0): %s",
                     bytes ? "half_b" : "twice_u",
                     (unsigned long long)(after.splits_checked - before.splits_checked),
                     (unsigned long long)(after.kernels_kept_whole - before.kernels_kept_whole),
                     weft_ctx_notes(ctx));
        ASSERT_OK(weft_array_free(xa));
        ASSERT_OK(weft_array_free(ya));
    }
    free(x);
    free(got);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* The same sort queued with futures, as a driver queues its phases: each
 * launch submitted before the first check had run was checked too (thousands
 * of checks and "runs on one device from now on" notes for one sort, 1.5-6x
 * slower), past "runs whole from then on" and the cap on checked sets. */
static void test_queued_launches_take_the_first_checks_verdict(void **state)
{
    (void)state;
    enum { KEYS = 2048 };
    weft_ctx *ctx = test_ctx();
    weft_program *p = build(ctx, odd_even_source);
    int *keys = malloc(KEYS * sizeof *keys), *want = malloc(KEYS * sizeof *want);
    uint64_t seed = 3;
    for (int i = 0; i < KEYS; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        keys[i] = want[i] = (int)(seed >> 40);
    }
    qsort(want, KEYS, sizeof *want, compare_ints);
    weft_array *x;
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, KEYS, keys, &x));
    weft_range r = weft_range_1d(KEYS / 2);
    r.local[0] = 128;
    weft_stats before, after;
    ASSERT_OK(weft_ctx_stats(ctx, &before));
    for (int phase = 0; phase < KEYS; phase++) {
        weft_arg args[] = {weft_arg_slice(x), weft_arg_i32(KEYS), weft_arg_i32(phase % 2)};
        weft_future *f = NULL;
        ASSERT_OK(weft_launch(p, "odd_even_step", &r, args, 3, odd_even_host, NULL, &f));
        ASSERT_OK(weft_future_release(f));
    }
    ASSERT_OK(weft_array_read(x, 0, KEYS, keys));
    ASSERT_OK(weft_ctx_stats(ctx, &after));
    assert_memory_equal(keys, want, KEYS * sizeof *keys);
    uint64_t checked = after.splits_checked - before.splits_checked;
    uint64_t kept = after.kernels_kept_whole - before.kernels_kept_whole;
    if (checked > 2 || kept > 1)
        fail_msg("%llu checks and %llu kernels kept whole for one queued sort (2 value sets)",
                 (unsigned long long)checked, (unsigned long long)kept);
    ASSERT_OK(weft_array_free(x));
    weft_program_free(p);
    free(keys);
    free(want);
    weft_ctx_free(ctx);
}

/* The same sort where the check's poison cannot put a value above and below
 * every key: records of mixed fields (a u8 array, poisoned a little), and
 * unsigned or byte keys whose first sort saw them all at 0 (nothing is below
 * 0). The check agreed on the first sort, later sorts split unchecked, and
 * on copying devices 1013-1023 of 1024 keys came back wrong. */
static const char keyed_sort_source[] =
    "typedef struct { int key; float payload; } rec;\n"
    "__kernel void rec_step(__global rec *v, int n, int parity)\n"
    "{\n"
    "    int i = 2 * (int)get_global_id(0) + parity;\n"
    "    if (i + 1 < n && v[i].key > v[i + 1].key) { rec t = v[i]; v[i] = v[i + 1]; v[i + 1] = t; "
    "}\n"
    "}\n"
    "__kernel void uint_step(__global uint *v, int n, int parity)\n"
    "{\n"
    "    int i = 2 * (int)get_global_id(0) + parity;\n"
    "    if (i + 1 < n && v[i] > v[i + 1]) { uint t = v[i]; v[i] = v[i + 1]; v[i + 1] = t; }\n"
    "}\n"
    "__kernel void desc_step(__global float *v, int n, int parity)\n"
    "{\n"
    "    int i = 2 * (int)get_global_id(0) + parity;\n"
    "    if (i + 1 < n && v[i] < v[i + 1]) { float t = v[i]; v[i] = v[i + 1]; v[i + 1] = t; }\n"
    "}\n"
    "__kernel void uchar_step(__global uchar *v, int n, int parity)\n"
    "{\n"
    "    int i = 2 * (int)get_global_id(0) + parity;\n"
    "    if (i + 1 < n && v[i] > v[i + 1]) { uchar t = v[i]; v[i] = v[i + 1]; v[i + 1] = t; }\n"
    "}\n";

typedef struct keyed_rec {
    int32_t key;
    float payload;
} keyed_rec;

/* The key of element i of kind (0 records, 1 uint, 2 uchar). */
static int64_t key_of(const unsigned char *v, int kind, size_t i)
{
    if (kind == 0) return ((const keyed_rec *)(const void *)v)[i].key;
    if (kind == 1) return ((const uint32_t *)(const void *)v)[i];
    return v[i];
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t key_size(int kind)
{
    return kind == 0 ? sizeof(keyed_rec) : kind == 1 ? 4 : 1;
}

static void keyed_sort_host(const weft_host_call *call)
{
    unsigned char *v = call->args[0];
    int n = *(const int *)call->args[1], parity = *(const int *)call->args[2];
    int kind = *(const int *)call->user;
    size_t e = key_size(kind);
    HOST_ITEMS(call, t)
    {
        int i = 2 * (int)t + parity;
        if (i + 1 < n && key_of(v, kind, (size_t)i) > key_of(v, kind, (size_t)i + 1)) {
            unsigned char tmp[8];
            memcpy(tmp, v + (size_t)i * e, e);
            memcpy(v + (size_t)i * e, v + (size_t)(i + 1) * e, e);
            memcpy(v + (size_t)(i + 1) * e, tmp, e);
        }
    }
}

static void test_compare_reads_of_records_and_keys_at_zero(void **state)
{
    (void)state;
    enum { KEYS = 1024 };
    static const char *const kernels[] = {"rec_step", "uint_step", "uchar_step"};
    weft_ctx *ctx = test_ctx();
    unsigned char *v = malloc(KEYS * sizeof(keyed_rec));
    int64_t *want = malloc(KEYS * sizeof *want);
    uint64_t seed = 11;
    for (int kind = 0; kind < 3; kind++) {
        weft_program *p = build(ctx, keyed_sort_source);
        size_t e = key_size(kind);
        for (int round = 0; round < 3; round++) {
            /* The first sort: sorted records, all-zero unsigned and byte keys. */
            for (int i = 0; i < KEYS; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                int64_t key = round == 0 ? (kind == 0 ? i : 0)
                                         : (int64_t)(seed >> 40) % (kind == 2 ? 256 : 100000);
                if (kind == 0)
                    ((keyed_rec *)(void *)v)[i] = (keyed_rec){(int32_t)key, (float)i};
                else if (kind == 1)
                    ((uint32_t *)(void *)v)[i] = (uint32_t)key;
                else
                    v[i] = (unsigned char)key;
                want[i] = key;
            }
            qsort(want, KEYS, sizeof *want, compare_i64);
            weft_array *x;
            size_t count = kind == 1 ? KEYS : KEYS * e; /* u32 keys, or bytes */
            ASSERT_OK(weft_array_from(ctx, kind == 1 ? WEFT_U32 : WEFT_U8, count, v, &x));
            weft_range r = weft_range_1d(KEYS / 2);
            r.local[0] = 128;
            for (int phase = 0; phase < KEYS; phase++) {
                weft_arg args[] = {weft_arg_slice(x), weft_arg_i32(KEYS), weft_arg_i32(phase % 2)};
                ASSERT_OK(weft_launch(p, kernels[kind], &r, args, 3, keyed_sort_host, &kind, NULL));
            }
            ASSERT_OK(weft_array_read(x, 0, count, v));
            size_t wrong = 0;
            for (size_t i = 0; i < KEYS; i++)
                wrong += key_of(v, kind, i) != want[i];
            if (wrong)
                fail_msg("%s, round %d: %zu of %d keys out of place", kernels[kind], round, wrong,
                         KEYS);
            ASSERT_OK(weft_array_free(x));
        }
        weft_program_free(p);
    }
    free(v);
    free(want);
    weft_ctx_free(ctx);
}

/* Two more first sorts a check cannot see through: a band of zeros (a fifth
 * of the keys, around the middle) in uint keys, where a 0 beside a 0 at the
 * piece's edge compares the same in both passes; and one +inf in float keys
 * sorted descending, where nothing is above +inf (that pass changes each key
 * a little). A rule that trusted a few zeros, or called the +inf pass
 * ordered, let later sorts come back with 819-1024 of 1024 keys wrong. */
static void desc_host(const weft_host_call *call)
{
    float *v = call->args[0];
    int n = *(const int *)call->args[1], parity = *(const int *)call->args[2];
    HOST_ITEMS(call, t)
    {
        int i = 2 * (int)t + parity;
        if (i + 1 < n && v[i] < v[i + 1]) {
            float k = v[i];
            v[i] = v[i + 1];
            v[i + 1] = k;
        }
    }
}

static int compare_floats_down(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_compare_reads_beside_a_zero_band_or_an_infinity(void **state)
{
    (void)state;
    enum { KEYS = 1024 };
    weft_ctx *ctx = test_ctx();
    uint32_t *u = malloc(KEYS * sizeof *u);
    float *f = malloc(KEYS * sizeof *f), *want = malloc(KEYS * sizeof *want);
    int64_t *wantu = malloc(KEYS * sizeof *wantu);
    uint64_t seed = 29;
    for (int kind = 0; kind < 2; kind++) {
        weft_program *p = build(ctx, keyed_sort_source);
        int uint_kind = 1;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < KEYS; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                int r = (int)(seed >> 40) % 100000;
                int band = i >= 2 * KEYS / 5 && i < 3 * KEYS / 5;
                u[i] = round == 0 ? (band ? 0u : (uint32_t)(i < KEYS / 2 ? 0 : i)) : (uint32_t)r;
                if (round == 0 && !band) u[i] = (uint32_t)i;
                f[i] = round == 0 ? (i == 0 ? INFINITY : (float)(KEYS - i)) : (float)r;
                wantu[i] = u[i];
                want[i] = f[i];
            }
            qsort(wantu, KEYS, sizeof *wantu, compare_i64);
            qsort(want, KEYS, sizeof *want, compare_floats_down);
            weft_array *x;
            ASSERT_OK(kind == 0 ? weft_array_from(ctx, WEFT_U32, KEYS, u, &x)
                                : weft_array_from(ctx, WEFT_F32, KEYS, f, &x));
            weft_range r = weft_range_1d(KEYS / 2);
            r.local[0] = 128;
            for (int phase = 0; phase < KEYS; phase++) {
                weft_arg args[] = {weft_arg_slice(x), weft_arg_i32(KEYS), weft_arg_i32(phase % 2)};
                ASSERT_OK(kind == 0
                              ? weft_launch(p, "uint_step", &r, args, 3, keyed_sort_host,
                                            &uint_kind, NULL)
                              : weft_launch(p, "desc_step", &r, args, 3, desc_host, NULL, NULL));
            }
            size_t wrong = 0;
            if (kind == 0) {
                ASSERT_OK(weft_array_read(x, 0, KEYS, u));
                for (int i = 0; i < KEYS; i++)
                    wrong += u[i] != (uint32_t)wantu[i];
            } else {
                ASSERT_OK(weft_array_read(x, 0, KEYS, f));
                for (int i = 0; i < KEYS; i++)
                    wrong += memcmp(&f[i], &want[i], sizeof *f) != 0;
            }
            if (wrong)
                fail_msg("%s, round %d: %zu of %d keys out of place",
                         kind == 0 ? "zero band" : "+inf", round, wrong, KEYS);
            ASSERT_OK(weft_array_free(x));
        }
        weft_program_free(p);
    }
    free(u);
    free(f);
    free(want);
    free(wantu);
    weft_ctx_free(ctx);
}

/* Types a header defines (Parboil mri-q's `struct kValues` of four floats
 * in macros.h, a `typedef double real_t`): weft read neither, so the
 * kernel's element size was unknown and any u8 array was taken (the kernel
 * wrote past it: heap corruption, abort), while the f32 / f64 arrays a
 * struct or typedef in the source takes were refused, and a `real_t`
 * scalar was "a struct passed by value". Headers are read as the source
 * is, and the compiler is asked for the sizes where a header is included. */
static void test_types_from_included_headers(void **state)
{
    (void)state;
    enum { M = 1 << 10 };
    weft_ctx *ctx = test_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip(); /* no device reads the kernel's signature */
    }
    char dir[] = "/tmp/weft-headers-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char header[64], options[80];
    snprintf(header, sizeof header, "%s/types.h", dir);
    FILE *f = fopen(header, "w");
    assert_non_null(f);
    fputs("#ifndef TYPES_H\n#define TYPES_H\n"
          "struct kValues { float Kx; float Ky; float Kz; float PhiMag; };\n"
          "typedef double real_t;\n#endif\n",
          f);
    fclose(f);
    snprintf(options, sizeof options, "-I %s", dir);
    const char *source = "#include \"types.h\"\n"
                         "__kernel void fill(__global struct kValues *ck)\n"
                         "{ int i = get_global_id(0); ck[i].Kx = i; ck[i].Ky = 1; ck[i].Kz = 2; "
                         "ck[i].PhiMag = 3; }\n"
                         "__kernel void reals(__global real_t *a, real_t s)\n"
                         "{ int i = get_global_id(0); a[i] = s * i; }\n";
    weft_program *p = NULL;
    ASSERT_OK(weft_program_build(ctx, source, options, &p));
    char why[512];
    /* Four floats per record, as with the struct in the source. */
    ASSERT_OK(launch_guarded(ctx, p, "fill", WEFT_F32, 4 * M, M, why, sizeof why));
    assert_int_equal(launch_guarded(ctx, p, "fill", WEFT_F32, 2 * M, M, why, sizeof why),
                     WEFT_ERR_SIZE);
    assert_non_null(strstr(why, "its 16-byte elements"));
    /* Bytes of half a record per index: refused before anything is written. */
    weft_status st = launch_guarded(ctx, p, "fill", WEFT_U8, 8 * M, M, why, sizeof why);
    assert_true(st == WEFT_ERR_SIZE || st == WEFT_ERR_DTYPE);
    weft_array *a;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, M, &a));
    weft_range r = weft_range_1d(M);
    weft_arg args[] = {weft_arg_slice(a), weft_arg_f64(2.5)};
    ASSERT_OK(weft_launch(p, "reals", &r, args, 2, NULL, NULL, NULL));
    double *got = malloc(M * sizeof *got);
    ASSERT_OK(weft_array_read(a, 0, M, got));
    for (size_t i = 0; i < M; i++)
        if (got[i] != 2.5 * (double)i) fail_msg("reals: element %zu is %g", i, got[i]);
    free(got);
    ASSERT_OK(weft_array_free(a));
    weft_array *bytes;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, M, &bytes));
    weft_arg short_args[] = {weft_arg_slice(bytes), weft_arg_f64(2.5)};
    st = weft_launch(p, "reals", &r, short_args, 2, NULL, NULL, NULL);
    assert_true(st == WEFT_ERR_SIZE || st == WEFT_ERR_DTYPE); /* 1 byte for an 8-byte double */
    ASSERT_OK(weft_array_free(bytes));
    weft_program_free(p);
    /* A precision switch between two headers: only the included one's
     * typedef counts (the inactive branch's header was read too, and an f64
     * array took a float kernel's stores). */
    char real_f[80], real_d[80];
    snprintf(real_f, sizeof real_f, "%s/real_float.h", dir);
    snprintf(real_d, sizeof real_d, "%s/real_double.h", dir);
    f = fopen(real_f, "w");
    fputs("typedef float real_t;\n", f);
    fclose(f);
    f = fopen(real_d, "w");
    fputs("typedef double real_t;\n", f);
    fclose(f);
    const char *switched = "#ifdef USE_DOUBLE\n#include \"real_double.h\"\n#else\n"
                           "#include \"real_float.h\"\n#endif\n"
                           "__kernel void halves(__global real_t *x)\n"
                           "{ int i = get_global_id(0); x[i] = (real_t)0.5 * i; }\n";
    for (int wide = 0; wide < 2; wide++) {
        char opts[160];
        snprintf(opts, sizeof opts, "%s%s", options, wide ? " -DUSE_DOUBLE" : "");
        weft_program *q = NULL;
        ASSERT_OK(weft_program_build(ctx, switched, opts, &q));
        ASSERT_OK(
            launch_guarded(ctx, q, "halves", wide ? WEFT_F64 : WEFT_F32, M, M, why, sizeof why));
        assert_int_equal(
            launch_guarded(ctx, q, "halves", wide ? WEFT_F32 : WEFT_F64, M, M, why, sizeof why),
            WEFT_ERR_DTYPE);
        weft_program_free(q);
    }
    unlink(real_f);
    unlink(real_d);
    unlink(header);
    rmdir(dir);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mirrored_writes),
        cmocka_unit_test(test_mirrored_writes_first_on_zeros),
        cmocka_unit_test(test_reads_across_the_split_first_on_zeros),
        cmocka_unit_test(test_equality_read_across_the_split),
        cmocka_unit_test(test_equality_with_the_row_above_across_the_split),
        cmocka_unit_test(test_equality_across_the_split_in_other_columns),
        cmocka_unit_test(test_whole_argument_written_through_a_macro),
        cmocka_unit_test(test_array_as_a_slice_and_a_halo_splits),
        cmocka_unit_test(test_flags_written_outside_the_rows),
        cmocka_unit_test(test_a_nan_across_the_split_stays_a_nan),
        cmocka_unit_test(test_rows_picked_by_a_scalar),
        cmocka_unit_test(test_columns_of_every_row_and_one_element),
        cmocka_unit_test(test_element_of_a_scalar_row_from_work_item_0),
        cmocka_unit_test(test_step_number_checked_once),
        cmocka_unit_test(test_geometry_of_the_whole_launch),
        cmocka_unit_test(test_index_across_the_split),
        cmocka_unit_test(test_suite_launch_geometry),
        cmocka_unit_test(test_row_local_kernel_stays_split),
        cmocka_unit_test(test_struct_records),
        cmocka_unit_test(test_records_of_mixed_fields),
        cmocka_unit_test(test_type_chosen_by_the_preprocessor),
        cmocka_unit_test(test_types_chosen_by_the_compilers_macros),
        cmocka_unit_test(test_rows_picked_under_the_opencl_version),
        cmocka_unit_test(test_flag_written_through_a_macro),
        cmocka_unit_test(test_flag_written_through_an_option_macro),
        cmocka_unit_test(test_flag_written_through_a_continued_macro_with_crlf),
        cmocka_unit_test(test_records_padded_by_the_compiler),
        cmocka_unit_test(test_types_only_the_compiler_can_tell),
        cmocka_unit_test(test_types_asked_where_the_kernel_is),
        cmocka_unit_test(test_geometry_read_through_headers_and_options),
        cmocka_unit_test(test_types_from_included_headers),
        cmocka_unit_test(test_reads_across_the_split_that_only_compare),
        cmocka_unit_test(test_compare_reads_of_records_and_keys_at_zero),
        cmocka_unit_test(test_compare_reads_beside_a_zero_band_or_an_infinity),
        cmocka_unit_test(test_queued_launches_take_the_first_checks_verdict),
        cmocka_unit_test(test_row_local_maps_over_zeros_keep_splitting),
        cmocka_unit_test(test_vectors_and_structs_by_value_refused),
        cmocka_unit_test(test_overlapping_wraps_across_launches),
        cmocka_unit_test(test_small_access_to_an_overlapping_wrap_keeps_order),
        cmocka_unit_test(test_one_array_passed_twice),
        cmocka_unit_test(test_verdict_per_split_dimension),
        cmocka_unit_test(test_window_of_a_rounded_range_refused),
        cmocka_unit_test(test_placed_window_runs_only_its_rows),
        cmocka_unit_test(test_atomics_histogram_into_a_whole_argument),
        cmocka_unit_test(test_whole_argument_written_or_only_read),
        cmocka_unit_test(test_data_dependent_write_to_a_whole_argument),
        cmocka_unit_test(test_verify_whole_arguments),
        cmocka_unit_test(test_required_work_group_size),
        cmocka_unit_test(test_inexact_math_keeps_host_fn_a_fallback),
        cmocka_unit_test(test_elements_larger_than_the_array),
        cmocka_unit_test(test_char_and_short_arrays_as_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
