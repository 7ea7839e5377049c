/* Benchmarks weft_axpy and weft_sum against baselines run in the same process:
 * a plain C loop, an OpenMP loop, and hand-written raw OpenCL. Covers map (axpy), sum, dot
 * and scan. Prints medians
 * as a markdown table (GB/s of the bytes each operation must move) and the
 * ratios the performance targets are stated in.
 *
 * Then the overhead of weft_launch and of a chain of weft_map calls against
 * raw OpenCL (bench_overhead.c), and the contexts' ledgers.
 *
 *   bench_map_reduce [--quick] [--json] [--plot FILE.svg]
 * (installed as weft-bench, run by `weft bench`)
 */
#define _GNU_SOURCE
#include "bench_clock.h"
#include "bench_overhead.h"
#include "raw_opencl.h"

#ifdef WEFT_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- baselines: what a user writes without weft ---- */

static void loop_axpy(int f64, size_t n, double a, void *x, void *y)
{
    if (f64) {
        double *restrict xs = x, *restrict ys = y;
        for (size_t i = 0; i < n; i++)
            ys[i] = a * xs[i] + ys[i];
    } else {
        float *restrict xs = x, *restrict ys = y;
        float af = (float)a;
        for (size_t i = 0; i < n; i++)
            ys[i] = af * xs[i] + ys[i];
    }
}

static void omp_axpy(int f64, size_t n, double a, void *x, void *y)
{
    if (f64) {
        double *restrict xs = x, *restrict ys = y;
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++)
            ys[i] = a * xs[i] + ys[i];
    } else {
        float *restrict xs = x, *restrict ys = y;
        float af = (float)a;
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++)
            ys[i] = af * xs[i] + ys[i];
    }
}

/* y unused for sum; x*y for dot */
static double loop_reduce(int f64, int dot, size_t n, const void *x, const void *y)
{
    double s = 0;
    if (f64) {
        const double *xs = x, *ys = y;
        for (size_t i = 0; i < n; i++)
            s += dot ? xs[i] * ys[i] : xs[i];
    } else {
        const float *xs = x, *ys = y;
        for (size_t i = 0; i < n; i++)
            s += dot ? xs[i] * ys[i] : xs[i];
    }
    return s;
}

static double omp_reduce(int f64, int dot, size_t n, const void *x, const void *y)
{
    double s = 0;
    if (f64) {
        const double *xs = x, *ys = y;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
        for (size_t i = 0; i < n; i++)
            s += dot ? xs[i] * ys[i] : xs[i];
    } else {
        const float *xs = x, *ys = y;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
        for (size_t i = 0; i < n; i++)
            s += dot ? xs[i] * ys[i] : xs[i];
    }
    return s;
}

static void loop_scan(int f64, size_t n, const void *x, void *y)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        s += f64 ? ((const double *)x)[i] : ((const float *)x)[i];
        if (f64)
            ((double *)y)[i] = s;
        else
            ((float *)y)[i] = (float)s;
    }
}

/* ---- measurement ---- */

enum op_kind { OP_AXPY, OP_SUM, OP_DOT, OP_SCAN, OPS };
static const char *const op_names[OPS] = {"axpy", "sum", "dot", "scan"};
static const char *const json_names[] = {"loop",    "openmp", "raw_opencl", "openblas",
                                         "clblast", "weft",   "weft_host",  "weft_builtin"};
enum { LOOP, OMP, RAW, BLAS, CLBLAST, WEFT, WEFT_HOST, WEFT_BUILTIN, CONTENDERS };

typedef struct setup {
    enum op_kind op;
    int f64;
    size_t n;
    void *x, *y;
    raw_cl *raw;
    weft_ctx *ctx[2]; /* default devices, host only */
    weft_array *xa[2], *ya[2];
} setup;

static volatile double sink;

static int run_weft(setup *s, int h, int builtin, double *r)
{
    weft_bind b[] = {weft_bind_array("x", s->xa[h]), weft_bind_array("y", s->ya[h]),
                     s->f64 ? weft_bind_f64("a", 1e-3) : weft_bind_f32("a", 1e-3f)};
    weft_scalar out;
    weft_status st = WEFT_OK;
    switch (s->op) {
    case OP_AXPY:
        st = builtin ? weft_axpy(s->ctx[h], 1e-3, s->xa[h], s->ya[h], NULL)
                     : weft_map(s->ctx[h], "y = a * x + y", b, 3, NULL);
        break;
    case OP_SUM:
        if (builtin) {
            st = weft_sum(s->ctx[h], s->xa[h], r, NULL);
            return st == WEFT_OK;
        }
        st = weft_reduce(s->ctx[h], WEFT_SUM, s->xa[h], &out, NULL);
        break;
    case OP_DOT:
        if (builtin) return 0;
        st = weft_reduce_expr(s->ctx[h], WEFT_SUM, "x * y", b, 2, &out, NULL);
        break;
    case OP_SCAN:
        if (builtin) return 0;
        st = weft_scan(s->ctx[h], WEFT_SUM, 0, s->xa[h], s->ya[h], NULL);
        break;
    default:
        return 0;
    }
    if (st != WEFT_OK) {
        fprintf(stderr, "bench: %s\n", weft_last_error());
        return 0;
    }
    *r = out.value.f64;
    return 1;
}

static int run_once(setup *s, int who)
{
    double r = 0;
    int dot = s->op == OP_DOT;
    switch (who) {
    case LOOP:
        if (s->op == OP_AXPY)
            loop_axpy(s->f64, s->n, 1e-3, s->x, s->y);
        else if (s->op == OP_SCAN)
            loop_scan(s->f64, s->n, s->x, s->y);
        else
            r = loop_reduce(s->f64, dot, s->n, s->x, s->y);
        break;
    case OMP:
        if (s->op == OP_AXPY)
            omp_axpy(s->f64, s->n, 1e-3, s->x, s->y);
        else if (s->op == OP_SCAN)
            return 0; /* no plain OpenMP scan in C */
        else
            r = omp_reduce(s->f64, dot, s->n, s->x, s->y);
        break;
    case BLAS:
#ifdef WEFT_BENCH_OPENBLAS
        if (s->op == OP_AXPY) {
            if (s->f64)
                cblas_daxpy((int)s->n, 1e-3, s->x, 1, s->y, 1);
            else
                cblas_saxpy((int)s->n, 1e-3f, s->x, 1, s->y, 1);
        } else if (s->op == OP_DOT) {
            r = s->f64 ? cblas_ddot((int)s->n, s->x, 1, s->y, 1)
                       : cblas_sdot((int)s->n, s->x, 1, s->y, 1);
        } else {
            return 0;
        }
        break;
#else
        return 0;
#endif
    case CLBLAST:
        if (!s->raw || !raw_cl_has_clblast()) return 0;
        if (s->op == OP_AXPY) {
            if (!raw_cl_clblast_axpy(s->raw, 1e-3)) return 0;
        } else if (s->op == OP_DOT) {
            if (!raw_cl_clblast_dot(s->raw, &r)) return 0;
        } else {
            return 0;
        }
        break;
    case RAW:
        if (!s->raw || s->op == OP_SCAN) return 0;
        if (s->op == OP_AXPY ? !raw_cl_axpy(s->raw, 1e-3)
            : dot            ? !raw_cl_dot(s->raw, &r)
                             : !raw_cl_sum(s->raw, &r))
            return 0;
        break;
    default:
        return run_weft(s, who == WEFT_HOST, who == WEFT_BUILTIN, &r) ? (sink = r, 1) : 0;
    }
    sink = r;
    return 1;
}

/* Median seconds per call. Each contender runs its repetitions in a phase of
 * its own (PoCL's worker threads linger after a kernel and would slow a host
 * contender run right after one); two rounds in opposite orders even out drift. */
static void measure(setup *s, int reps, double med[CONTENDERS])
{
    double *t = malloc(sizeof(double) * (size_t)reps * 2 * CONTENDERS);
    int ok[CONTENDERS];
    for (int who = 0; who < CONTENDERS; who++)
        ok[who] = run_once(s, who) && run_once(s, who); /* warm-up: builds, faults in */
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < CONTENDERS; k++) {
            int who = round == 0 ? k : CONTENDERS - 1 - k;
            if (!ok[who]) continue;
            run_once(s, who);
            for (int r = 0; r < reps; r++) {
                double t0 = bench_now();
                run_once(s, who);
                t[(size_t)who * 2 * reps + (size_t)round * reps + r] = bench_now() - t0;
            }
        }
    for (int who = 0; who < CONTENDERS; who++) {
        if (!ok[who]) {
            med[who] = NAN;
            continue;
        }
        qsort(t + (size_t)who * 2 * reps, (size_t)reps * 2, sizeof(double), bench_cmp_double);
        med[who] = t[(size_t)who * 2 * reps + reps];
    }
    free(t);
}

/* An SVG of throughput against size: one panel per operation (f32), one line
 * per contender; sizes on a log axis. */
static int write_plot(const char *path, double gbs[OPS][2][8][CONTENDERS], const size_t *sizes,
                      size_t nsizes)
{
    static const char *const colors[CONTENDERS] = {"#777",    "#d62728", "#2ca02c", "#8c564b",
                                                   "#e377c2", "#1f77b4", "#9467bd", "#ff7f0e"};
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 0;
    }
    const int pw = 420, ph = 300, m = 50;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif' font-size='11'>\n<rect width='100%%' height='100%%' "
            "fill='white'/>\n",
            2 * pw, 2 * ph + 30);
    double lo = log10((double)sizes[0]), hi = log10((double)sizes[nsizes - 1]);
    for (int op = 0; op < OPS; op++) {
        int ox = (op % 2) * pw, oy = (op / 2) * ph;
        double top = 1;
        for (size_t k = 0; k < nsizes; k++)
            for (int w = 0; w < CONTENDERS; w++)
                if (isfinite(gbs[op][0][k][w]) && gbs[op][0][k][w] > top) top = gbs[op][0][k][w];
        fprintf(f, "<text x='%d' y='%d' font-weight='bold'>%s f32 (GB/s vs n)</text>\n", ox + m,
                oy + 18, op_names[op]);
        fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#ccc'/>\n",
                ox + m, oy + 25, pw - m - 10, ph - m - 25);
        fprintf(f, "<text x='%d' y='%d'>%.0f</text><text x='%d' y='%d'>0</text>\n", ox + 5, oy + 35,
                top, ox + 30, oy + ph - m);
        for (size_t k = 0; k < nsizes; k++) {
            double x = ox + m + (log10((double)sizes[k]) - lo) / (hi - lo) * (pw - m - 10);
            fprintf(f, "<text x='%.0f' y='%d' text-anchor='middle'>%.0e</text>\n", x,
                    oy + ph - m + 15, (double)sizes[k]);
        }
        for (int w = 0; w < CONTENDERS; w++) {
            int started = 0;
            for (size_t k = 0; k < nsizes; k++) {
                double v = gbs[op][0][k][w];
                if (!isfinite(v)) continue;
                double x = ox + m + (log10((double)sizes[k]) - lo) / (hi - lo) * (pw - m - 10);
                double y = oy + ph - m - v / top * (ph - m - 25);
                if (!started)
                    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='",
                            colors[w]);
                fprintf(f, "%.1f,%.1f ", x, y);
                started = 1;
            }
            if (started) fprintf(f, "'/>\n");
        }
    }
    for (int w = 0; w < CONTENDERS; w++)
        fprintf(
            f,
            "<rect x='%d' y='%d' width='12' height='12' fill='%s'/><text x='%d' y='%d'>%s</text>\n",
            10 + w * 102, 2 * ph + 10, colors[w], 26 + w * 102, 2 * ph + 20, json_names[w]);
    fprintf(f, "</svg>\n");
    fclose(f);
    return 1;
}

static weft_ctx *make_ctx(const char *devices)
{
    weft_options o;
    weft_options_init(&o);
    o.devices = devices;
    weft_ctx *ctx = NULL;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) {
        fprintf(stderr, "bench: %s\n", weft_last_error());
        exit(1);
    }
    return ctx;
}

int main(int argc, char **argv)
{
    /* OpenMP threads that spin after a loop steal the cores the next
     * contender needs: make them sleep, for a fair interleaved run. */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
    }
    int quick = 0, json = 0;
    const char *plot = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc) {
            plot = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: weft bench [--quick] [--json] [--plot FILE.svg]\n"
                    "Times map (axpy), sum, dot and scan over sizes from 1e3 to 2^26 on the\n"
                    "default devices and the pool, beside a C loop, OpenMP and raw OpenCL in\n"
                    "this process; prints medians and ratios. Then weft_launch latency and a\n"
                    "chain of 10 dependent weft_map calls against raw OpenCL, and (--json) the\n"
                    "contexts' ledgers. --quick: three sizes, fewer rounds.\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    int progress = isatty(2);
    static const size_t full_sizes[] = {1000, 10000, 100000, 1000000, 10000000, 1u << 26};
    static const size_t quick_sizes[] = {1000, 100000, 1u << 22};
    const size_t *sizes = quick ? quick_sizes : full_sizes;
    size_t nsizes = quick ? 3 : 6;

    setup s = {0};
    s.raw = raw_cl_create();
    s.ctx[0] = make_ctx(NULL);
    s.ctx[1] = make_ctx("host");
    int64_t small = 0;
    weft_ctx_small_elements(s.ctx[0], &small);
    if (!json) {
        printf("weft %s; arrays under %lld elements stay on the host; medians of two rounds\n\n",
               weft_version_string(), (long long)small);
        printf("| op | dtype | n | C loop | OpenMP | raw OpenCL | OpenBLAS | CLBlast | weft | "
               "weft host | weft builtin | weft / raw | host / OpenMP | weft - loop (us) |\n");
        printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    } else {
        printf("{\"version\": \"%s\", \"small_elements\": %lld, \"rows\": [", weft_version_string(),
               (long long)small);
    }
    static double gbs[OPS][2][8][CONTENDERS];
    int rows = 0;
    for (int op = 0; op < OPS; op++)
        for (int f64 = 0; f64 <= 1; f64++)
            for (size_t k = 0; k < nsizes; k++) {
                size_t n = sizes[k], elem = f64 ? 8 : 4;
                s.op = (enum op_kind)op;
                s.f64 = f64;
                s.n = n;
                size_t bytes = (n * elem + 4095) / 4096 * 4096;
                s.x = aligned_alloc(4096, bytes);
                s.y = aligned_alloc(4096, bytes);
                memset(s.x, 0, bytes);
                memset(s.y, 0, bytes);
                if (s.raw && !raw_cl_bind(s.raw, f64, s.x, s.y, n)) {
                    raw_cl_free(s.raw);
                    s.raw = NULL;
                }
                weft_dtype dt = f64 ? WEFT_F64 : WEFT_F32;
                for (int h = 0; h < 2; h++) {
                    /* From host data, as the baselines' arrays: an array only created
                     * is backed by the zero page until written, and reading that
                     * one cached page would flatter weft. */
                    weft_array_from(s.ctx[h], dt, n, s.x, &s.xa[h]);
                    weft_array_from(s.ctx[h], dt, n, s.y, &s.ya[h]);
                }
                double target = quick ? 0.1 : 0.5; /* seconds per contender */
                double one = (double)n * elem * 3 / 10e9 + 2e-6;
                int reps = (int)fmin(fmax(target / one, 5), quick ? 200 : 2000);
                double med[CONTENDERS];
                measure(&s, reps, med);
                /* bytes the operation must move */
                double moved = (double)n * elem * (op == OP_AXPY ? 3 : op == OP_SUM ? 1 : 2);
                for (int who = 0; who < CONTENDERS; who++)
                    gbs[op][f64][k][who] = moved / med[who] * 1e-9;
                if (progress)
                    fprintf(stderr, "\rbench: %s %s n=%zu      ", op_names[op], f64 ? "f64" : "f32",
                            n);
                if (json) {
                    printf("%s{\"op\": \"%s\", \"dtype\": \"%s\", \"n\": %zu", rows++ ? ", " : "",
                           op_names[op], f64 ? "f64" : "f32", n);
                    for (int who = 0; who < CONTENDERS; who++)
                        printf(isnan(med[who]) ? ", \"%s\": null" : ", \"%s\": %.3f",
                               json_names[who], moved / med[who] * 1e-9);
                    printf("}");
                } else {
                    printf("| %s | %s | %zu |", op_names[op], f64 ? "f64" : "f32", n);
                    for (int who = 0; who < CONTENDERS; who++)
                        printf(isnan(med[who]) ? " - |" : " %.2f |", moved / med[who] * 1e-9);
                    printf(isnan(med[RAW]) ? " - |" : " %.2f |", med[RAW] / med[WEFT]);
                    printf(isnan(med[OMP]) ? " - |" : " %.2f |", med[OMP] / med[WEFT_HOST]);
                    printf(" %+.2f |\n", (med[WEFT] - med[LOOP]) * 1e6);
                }
                fflush(stdout);
                for (int h = 0; h < 2; h++) {
                    weft_array_free(s.xa[h]);
                    weft_array_free(s.ya[h]);
                }
                if (s.raw) raw_cl_unbind(s.raw);
                free(s.x);
                free(s.y);
            }
    if (progress) fprintf(stderr, "\r%40s\r", "");
    if (plot && !write_plot(plot, gbs, sizes, nsizes)) return 1;
    int overhead_ok = 1;
    if (json) {
        printf("], \"overhead\": ");
        overhead_ok = bench_overhead(s.ctx[0], s.raw, quick, 1);
        weft_stats st;
        printf("%s, \"ledger\": {\"devices\": ", overhead_ok ? "" : "null");
        weft_ctx_stats(s.ctx[0], &st);
        bench_print_ledger_json(&st);
        printf(", \"host\": ");
        weft_ctx_stats(s.ctx[1], &st);
        bench_print_ledger_json(&st);
        printf("}}\n");
    } else
        printf(
            "\nGB/s of the bytes each operation must move (axpy: read x, y, write y; sum: read x; "
            "dot: read x, y; scan: read x, write y). weft = the expression API (weft_map, "
            "weft_reduce, weft_reduce_expr, weft_scan) on the default devices; weft host = the "
            "same "
            "on the pool only; weft builtin = weft_axpy / weft_sum; OpenBLAS = cblas_?axpy / "
            "cblas_?dot where installed. Ratios > 1: weft faster. numpy and numexpr: "
            "bench/peers.py.\n");
    if (!json) overhead_ok = bench_overhead(s.ctx[0], s.raw, quick, 0);
    raw_cl_free(s.raw);
    weft_ctx_free(s.ctx[0]);
    weft_ctx_free(s.ctx[1]);
    return overhead_ok ? 0 : 1;
}
