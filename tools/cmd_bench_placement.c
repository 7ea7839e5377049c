/* weft bench placement: where operations of different costs per element run
 * best, and where weft runs them. Per operation and size: each OpenCL device
 * alone and the pool alone (weft_ctx_place), today's static split by
 * calibrated weights (WEFT_PLACEMENT=weights), and weft's default after three
 * warm-up calls, starting with no models (a fresh cache directory). */
#define _POSIX_C_SOURCE 200809L
#include "bench_placement.h"
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { WARMUP = 3, REPS = 3, BATCH = 8, MAX_COLUMNS = 8, MAX_SIZES = 6 };

typedef enum op_kind {
    OP_MAP,
    OP_SUM,
    OP_DOT,
    OP_MAX,
    OP_SCAN,
    OP_AXPY,
    OP_NBODY,
    OP_STENCIL
} op_kind;

typedef struct bench_op {
    const char *name;
    op_kind kind;
    weft_dtype dtype;
    const char *expr; /* the expression, or a user kernel's name: hints name it */
} bench_op;

/* Inputs s, k, t (and x, y for the simple ones); outputs c, p, y. */
static const bench_op ops[] = {
    {"axpy f32", OP_AXPY, WEFT_F32, "axpy"},
    {"sum f32", OP_SUM, WEFT_F32, "x"},
    {"dot f32", OP_DOT, WEFT_F32, "x * y"},
    {"max f64", OP_MAX, WEFT_F64, "x"},
    {"scan f32", OP_SCAN, WEFT_F32, NULL},
    {"triad f32", OP_MAP, WEFT_F32, "y = x + 3.0f * k"},
    {"poly f32", OP_MAP, WEFT_F32, "y = ((0.5 * x + 1.5) * x - 2.0) * x + 0.25"},
    {"sqrt f32", OP_MAP, WEFT_F32, "y = sqrt(x)"},
    {"exp f32", OP_MAP, WEFT_F32, "y = exp(x)"},
    {"log f32", OP_MAP, WEFT_F32, "y = log(x)"},
    {"erfc f32", OP_MAP, WEFT_F32, "y = erfc(x)"},
    {"pow f64", OP_MAP, WEFT_F64, "y = pow(x, 1.7)"},
    {"sin*cos f64", OP_MAP, WEFT_F64, "y = sin(x) * cos(x)"},
    {"hash u32", OP_MAP, WEFT_U32,
     "h = x * (uint)73244475; h = h ^ (h >> 15); h = h * (uint)2246822519; y = h ^ (h >> 13)"},
    {"Black-Scholes f32", OP_MAP, WEFT_F32,
     "sq = sqrt(t); d1 = (log(x / k) + (0.02f + 0.5f * 0.3f * 0.3f) * t) / (0.3f * sq); "
     "d2 = d1 - 0.3f * sq; disc = k * exp(-0.02f * t); "
     "y = x * (0.5f * erfc(-d1 * 0.70710678f)) - disc * (0.5f * erfc(-d2 * 0.70710678f))"},
    {"n-body f64 kernel", OP_NBODY, WEFT_F64, "accel"},
    {"stencil f32 kernel", OP_STENCIL, WEFT_F32, "stencil"},
};
enum { NOPS = sizeof ops / sizeof ops[0] };

static bench_kernel kernel_of(const bench_op *op)
{
    return op->kind == OP_NBODY ? BENCH_NBODY : op->kind == OP_STENCIL ? BENCH_STENCIL : 0;
}

typedef struct arrays {
    weft_array *x, *y, *k, *t;
} arrays;

static void fill(weft_dtype dt, size_t n, void *p, double lo, double hi, unsigned seed)
{
    uint64_t s = 88172645463325252u ^ seed;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double u = lo + (hi - lo) * (double)(s >> 11) * 0x1p-53;
        if (dt == WEFT_F32)
            ((float *)p)[i] = (float)u;
        else if (dt == WEFT_F64)
            ((double *)p)[i] = u;
        else
            ((uint32_t *)p)[i] = (uint32_t)s;
    }
}

static weft_status make(weft_ctx *ctx, const bench_op *op, size_t n, arrays *a)
{
    memset(a, 0, sizeof *a);
    size_t es = weft_dtype_size(op->dtype);
    void *buf = malloc(n * es);
    if (!buf) return WEFT_ERR_NOMEM;
    weft_status st = WEFT_OK;
    weft_array **slots[] = {&a->x, &a->y, &a->k, &a->t};
    const double lo[] = {0.5, 0.5, 0.8, 0.1}, hi[] = {2.0, 2.0, 1.2, 2.0};
    for (int i = 0; i < 4 && st == WEFT_OK; i++) {
        fill(op->dtype, n, buf, lo[i], hi[i], (unsigned)i + 1);
        st = weft_array_from(ctx, op->dtype, n, buf, slots[i]);
    }
    free(buf);
    return st;
}

static void release(arrays *a)
{
    weft_array_free(a->x);
    weft_array_free(a->y);
    weft_array_free(a->k);
    weft_array_free(a->t);
}

static weft_status run_once(weft_ctx *ctx, const bench_op *op, arrays *a)
{
    weft_bind b[] = {weft_bind_array("x", a->x), weft_bind_array("y", a->y),
                     weft_bind_array("k", a->k), weft_bind_array("t", a->t)};
    weft_scalar out;
    double sum;
    switch (op->kind) {
    case OP_AXPY:
        return weft_axpy(ctx, 0.5, a->x, a->y, NULL);
    case OP_SUM:
        return weft_sum(ctx, a->x, &sum, NULL);
    case OP_DOT:
        return weft_reduce_expr(ctx, WEFT_SUM, op->expr, b, 2, &out, NULL);
    case OP_MAX:
        return weft_reduce(ctx, WEFT_MAX, a->x, &out, NULL);
    case OP_SCAN:
        return weft_scan(ctx, WEFT_SUM, 0, a->x, a->y, NULL);
    default:
        return weft_map(ctx, op->expr, b,
                        strstr(op->expr, "t)")  ? 4
                        : strchr(op->expr, 'k') ? 3
                                                : 2,
                        NULL);
    }
}

/* One column of a row: its context, the placement it is held to (0: none),
 * its own arrays, and its best time so far. */
typedef struct column {
    weft_ctx *ctx;
    uint64_t mask;
    int warmup;
    arrays a;
    bench_kernel_state k;
    double best; /* seconds; NAN once a call failed */
} column;

static void place(weft_ctx *ctx, const bench_op *op, uint64_t mask);

/* batch calls in the column's context, timed; seconds a call, NAN on
 * failure. */
static double call_batch(column *c, const bench_op *op, int batch)
{
    if (c->mask) place(c->ctx, op, c->mask);
    double t0 = cli_now();
    for (int i = 0; i < batch; i++) {
        weft_status st = kernel_of(op) ? bench_kernel_run(&c->k) : run_once(c->ctx, op, &c->a);
        if (st != WEFT_OK) {
            fprintf(stderr, "weft bench placement: %s: %s\n", op->name, weft_last_error());
            return NAN;
        }
    }
    return (cli_now() - t0) / batch;
}

/* Best of REPS per column after each column's warm-up calls, a sample being
 * the mean of BATCH calls in a row for short calls: one call of 0.5 us timed
 * alone is mostly the clock and the moment (best-of-15 ratios of identical
 * columns ranged 0.86-1.0 at 10^3 elements). The timed
 * calls go round the columns in turn, so a burst of other work on this
 * shared machine slows every column's call of one round, not one column's
 * calls: timed column after column, the ratios swung 2-6x at load 8-10. */
static void time_row(column *cols, size_t ncols, const bench_op *op, size_t n)
{
    for (size_t c = 0; c < ncols; c++) {
        memset(&cols[c].a, 0, sizeof cols[c].a);
        memset(&cols[c].k, 0, sizeof cols[c].k);
        cols[c].best = INFINITY;
        weft_status made = kernel_of(op)
                               ? bench_kernel_make(cols[c].ctx, kernel_of(op), n, &cols[c].k)
                               : make(cols[c].ctx, op, n, &cols[c].a);
        if (made != WEFT_OK) {
            fprintf(stderr, "weft bench placement: %s: %s\n", op->name, weft_last_error());
            cols[c].best = NAN;
        }
        for (int r = 0; r < cols[c].warmup && !isnan(cols[c].best); r++)
            if (isnan(call_batch(&cols[c], op, 1))) cols[c].best = NAN;
    }
    int reps = n <= 100000 ? 5 * REPS : REPS; /* short calls: more tries against noise */
    int batch = n <= 10000 ? BATCH : 1;
    /* Each round starts one column further on, so no column is always timed
     * right after the same other: the default's pool calls always ran in
     * the wake of today's weights on PoCL (its threads still spinning on
     * the cores), 48 us against the pool column's 39 for the same pool. */
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < ncols; i++) {
            size_t c = (i + (size_t)r) % ncols;
            if (isnan(cols[c].best)) continue;
            double t = call_batch(&cols[c], op, batch);
            if (isnan(t) || t < cols[c].best) cols[c].best = t;
        }
    for (size_t c = 0; c < ncols; c++) {
        if (kernel_of(op))
            bench_kernel_release(&cols[c].k);
        else
            release(&cols[c].a);
    }
}

/* The names weft_ctx_place knows the operation's dispatches by. */
static void place(weft_ctx *ctx, const bench_op *op, uint64_t mask)
{
    if (op->kind == OP_SCAN) {
        weft_ctx_place(ctx, "scan totals", mask);
        weft_ctx_place(ctx, "scan apply", mask);
    } else {
        weft_ctx_place(ctx, op->expr, mask);
    }
}

static weft_ctx *context(const char *cache_dir, int static_split)
{
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = cache_dir;
    o.compile = WEFT_COMPILE_SYNC; /* warm-up calls build, as before: comparable columns */
    if (static_split) setenv("WEFT_PLACEMENT", "weights", 1);
    weft_ctx *ctx = NULL;
    weft_status st = weft_ctx_create(&o, &ctx);
    if (static_split) unsetenv("WEFT_PLACEMENT");
    if (st != WEFT_OK) {
        cli_fail("creating a context");
        return NULL;
    }
    return ctx;
}

int cmd_bench_placement(int argc, char **argv)
{
    int json = 0;
    size_t min_n = 1000, max_n = 10000000;
    const char *only = NULL; /* rows whose operation name contains this */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
            unsigned long long v = 0;
            if (!cli_parse_count(argv[++i], 1, SIZE_MAX, &v)) {
                fprintf(stderr, "weft bench placement: bad value for --max: %s\n", argv[i]);
                return EXIT_USAGE;
            }
            max_n = (size_t)v;
        } else if (strcmp(argv[i], "--min") == 0 && i + 1 < argc) {
            unsigned long long v = 0;
            if (!cli_parse_count(argv[++i], 1, SIZE_MAX, &v)) {
                fprintf(stderr, "weft bench placement: bad value for --min: %s\n", argv[i]);
                return EXIT_USAGE;
            }
            min_n = (size_t)v;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            FILE *out = strcmp(argv[i], "--help") == 0 ? stdout : stderr;
            fprintf(out,
                    "usage: weft bench placement [--json] [--min N] [--max N] [--only NAME]\n"
                    "Times %d operations at powers of ten from --min (default 10^3) to\n"
                    "--max elements (default 10^7; n-body at most %d bodies): on each\n"
                    "OpenCL device alone, on the pool alone, split by today's weights, and\n"
                    "as weft places them by default after %d warm-up calls (fresh models).\n"
                    "Best of %d samples each (%d up to 10^5 elements), a sample the mean\n"
                    "of %d calls in a row up to 10^4 elements. --only: the operations\n"
                    "whose name contains NAME. Device code is built in each call that\n"
                    "needs it (WEFT_COMPILE=sync), so warm-up calls are comparable. The\n"
                    "timed calls go round the columns in turn (each round starting one\n"
                    "column further on), so a burst of other work slows one round of every\n"
                    "column rather than one column.\n",
                    NOPS, BENCH_NBODY_MAX, WARMUP, REPS, 5 * REPS, BATCH);
            return out == stdout ? 0 : EXIT_USAGE;
        }
    }
    size_t sizes[MAX_SIZES], nsizes = 0;
    for (size_t n = 1000; n <= max_n && nsizes < MAX_SIZES; n *= 10)
        if (n >= min_n) sizes[nsizes++] = n;
    char fresh[] = "/tmp/weft-bench-placement-XXXXXX";
    if (!mkdtemp(fresh)) {
        perror("weft bench placement: mkdtemp");
        return EXIT_WEFT;
    }
    weft_ctx *fixed = context(NULL, 0), *today = context(NULL, 1), *auto_ctx = context(fresh, 0);
    if (!fixed || !today || !auto_ctx) return EXIT_WEFT;
    /* Columns: the pool, each selected OpenCL device, today's split, weft. */
    size_t ndev = 0, devices[MAX_COLUMNS];
    weft_device_count(fixed, &ndev);
    size_t ncols = 0;
    devices[ncols++] = 0;
    for (size_t d = 1; d < ndev && ncols < MAX_COLUMNS - 2; d++) {
        weft_device_info info;
        if (weft_device_get_info(fixed, d, &info) == WEFT_OK && info.selected) devices[ncols++] = d;
    }
    static double t[NOPS][MAX_SIZES][MAX_COLUMNS + 2];
    for (size_t o = 0; o < NOPS; o++) {
        if (only && !strstr(ops[o].name, only)) continue;
        for (size_t s = 0; s < nsizes; s++) {
            if (!bench_kernel_fits(kernel_of(&ops[o]), sizes[s])) continue;
            column cols[MAX_COLUMNS + 2];
            for (size_t c = 0; c < ncols; c++)
                cols[c] =
                    (column){.ctx = fixed, .mask = WEFT_PLACE_DEVICE(devices[c]), .warmup = 2};
            cols[ncols] = (column){.ctx = today, .warmup = WARMUP};
            cols[ncols + 1] = (column){.ctx = auto_ctx, .warmup = WARMUP};
            time_row(cols, ncols + 2, &ops[o], sizes[s]);
            for (size_t c = 0; c < ncols + 2; c++)
                t[o][s][c] = cols[c].best;
        }
    }
    if (json) printf("{\"devices\": [");
    for (size_t c = 0; c < ncols && json; c++)
        printf("%s%zu", c ? ", " : "", devices[c]);
    if (json) printf("], \"rows\": [");
    if (!json) {
        printf("%-18s %9s", "operation", "elements");
        for (size_t c = 0; c < ncols; c++)
            printf(c ? "   device %zu" : "      pool", devices[c]);
        printf("  weights  default  best/default  today/default   (ms; best of %d+ samples after "
               "warm-up, columns in turn)\n",
               REPS);
    }
    int first = 1;
    for (size_t o = 0; o < NOPS; o++) {
        if (only && !strstr(ops[o].name, only)) continue;
        for (size_t s = 0; s < nsizes; s++) {
            if (!bench_kernel_fits(kernel_of(&ops[o]), sizes[s])) continue;
            double best = INFINITY;
            for (size_t c = 0; c <= ncols; c++)
                if (t[o][s][c] < best) best = t[o][s][c];
            double def = t[o][s][ncols + 1], ratio = best / def, vs_today = t[o][s][ncols] / def;
            if (json) {
                printf("%s\n  {\"op\": \"%s\", \"n\": %zu, \"alone\": [", first ? "" : ",",
                       ops[o].name, sizes[s]);
                for (size_t c = 0; c < ncols; c++)
                    printf("%s%.6g", c ? ", " : "", t[o][s][c]);
                printf("], \"weights\": %.6g, \"default\": %.6g, \"best_over_default\": %.3f, "
                       "\"today_over_default\": %.3f}",
                       t[o][s][ncols], def, ratio, vs_today);
                first = 0;
                continue;
            }
            printf("%-18s %9zu", ops[o].name, sizes[s]);
            for (size_t c = 0; c <= ncols + 1; c++)
                printf(" %9.3f", t[o][s][c] * 1e3);
            printf("  %12.2f  %13.2f%s\n", ratio, vs_today, ratio < 0.9 ? "  <" : "");
        }
    }
    if (json) printf("\n]}\n");
    weft_ctx_free(fixed);
    weft_ctx_free(today);
    weft_ctx_free(auto_ctx);
    weft_cache_clear(fresh, NULL);
    rmdir(fresh);
    return 0;
}
