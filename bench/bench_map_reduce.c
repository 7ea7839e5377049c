/* Benchmarks weft_axpy and weft_sum against baselines run in the same process:
 * a plain C loop, an OpenMP loop, and hand-written raw OpenCL. Prints medians
 * as a markdown table (GB/s of the bytes each operation must move) and the
 * ratios the performance targets are stated in.
 *
 *   bench_map_reduce [--quick]
 */
#define _GNU_SOURCE
#include "raw_opencl.h"

#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- baselines ---- */

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

static double loop_sum(int f64, size_t n, const void *x)
{
    double s = 0;
    if (f64)
        for (size_t i = 0; i < n; i++)
            s += ((const double *)x)[i];
    else
        for (size_t i = 0; i < n; i++)
            s += ((const float *)x)[i];
    return s;
}

static double omp_sum(int f64, size_t n, const void *x)
{
    double s = 0;
    if (f64) {
        const double *xs = x;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
        for (size_t i = 0; i < n; i++)
            s += xs[i];
    } else {
        const float *xs = x;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
        for (size_t i = 0; i < n; i++)
            s += xs[i];
    }
    return s;
}

/* ---- measurement ---- */

enum { LOOP, OMP, RAW, WEFT, WEFT_HOST, CONTENDERS };
static const char *const names[CONTENDERS] = {"C loop", "OpenMP", "raw OpenCL", "weft",
                                               "weft host"};

typedef struct setup {
    int f64, sum;
    size_t n;
    void *x, *y;
    raw_cl *raw;
    weft_ctx *ctx[2]; /* default devices, host only */
    weft_array *xa[2], *ya[2];
} setup;

static volatile double sink;

static int run_once(setup *s, int who)
{
    double r = 0;
    switch (who) {
    case LOOP:
        if (s->sum) r = loop_sum(s->f64, s->n, s->x);
        else loop_axpy(s->f64, s->n, 1e-3, s->x, s->y);
        break;
    case OMP:
        if (s->sum) r = omp_sum(s->f64, s->n, s->x);
        else omp_axpy(s->f64, s->n, 1e-3, s->x, s->y);
        break;
    case RAW:
        if (!s->raw) return 0;
        if (s->sum ? !raw_cl_sum(s->raw, &r) : !raw_cl_axpy(s->raw, 1e-3)) return 0;
        break;
    default: {
        int h = who == WEFT_HOST;
        weft_status st = s->sum ? weft_sum(s->ctx[h], s->xa[h], &r, NULL)
                                : weft_axpy(s->ctx[h], 1e-3, s->xa[h], s->ya[h], NULL);
        if (st != WEFT_OK) {
            fprintf(stderr, "bench: %s\n", weft_last_error());
            return 0;
        }
    }
    }
    sink = r;
    return 1;
}

/* Median seconds per call, contenders interleaved so drift hits them alike. */
static void measure(setup *s, int reps, double med[CONTENDERS])
{
    double *t = malloc(sizeof(double) * (size_t)reps * CONTENDERS);
    int ok[CONTENDERS];
    for (int who = 0; who < CONTENDERS; who++)
        ok[who] = run_once(s, who) && run_once(s, who); /* warm-up */
    for (int r = 0; r < reps; r++)
        for (int who = 0; who < CONTENDERS; who++) {
            if (!ok[who]) continue;
            double t0 = now();
            run_once(s, who);
            t[who * reps + r] = now() - t0;
        }
    for (int who = 0; who < CONTENDERS; who++) {
        if (!ok[who]) {
            med[who] = NAN;
            continue;
        }
        qsort(t + who * reps, (size_t)reps, sizeof(double), cmp_double);
        med[who] = t[who * reps + reps / 2];
    }
    free(t);
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
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
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
    printf("weft %s; arrays under %lld elements stay on the host; medians of interleaved runs\n\n",
           weft_version_string(), (long long)small);
    printf("| op | dtype | n | C loop | OpenMP | raw OpenCL | weft | weft host | weft / raw | "
           "host / OpenMP | weft - loop (us) |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int sum = 0; sum <= 1; sum++)
        for (int f64 = 0; f64 <= 1; f64++)
            for (size_t k = 0; k < nsizes; k++) {
                size_t n = sizes[k], elem = f64 ? 8 : 4;
                s.f64 = f64;
                s.sum = sum;
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
                    weft_array_create(s.ctx[h], dt, n, &s.xa[h]);
                    weft_array_create(s.ctx[h], dt, n, &s.ya[h]);
                }
                double target = quick ? 0.15 : 0.6; /* seconds per contender */
                double one = (double)n * elem * 3 / 10e9 + 2e-6;
                int reps = (int)fmin(fmax(target / one, 5), quick ? 200 : 2000);
                double med[CONTENDERS];
                measure(&s, reps, med);
                double moved = (double)n * elem * (sum ? 1 : 3);
                printf("| %s | %s | %zu |", sum ? "sum" : "axpy", f64 ? "f64" : "f32", n);
                for (int who = 0; who < CONTENDERS; who++)
                    printf(isnan(med[who]) ? " n/a |" : " %.2f |", moved / med[who] * 1e-9);
                printf(" %.2f | %.2f | %+.2f |\n", med[RAW] / med[WEFT], med[OMP] / med[WEFT_HOST],
                       (med[WEFT] - med[LOOP]) * 1e6);
                fflush(stdout);
                for (int h = 0; h < 2; h++) {
                    weft_array_free(s.xa[h]);
                    weft_array_free(s.ya[h]);
                }
                if (s.raw) raw_cl_unbind(s.raw);
                free(s.x);
                free(s.y);
            }
    printf("\nGB/s count the bytes the operation must move: axpy reads x and y and writes y, "
           "sum reads x. %s\n", names[0]);
    raw_cl_free(s.raw);
    weft_ctx_free(s.ctx[0]);
    weft_ctx_free(s.ctx[1]);
    return 0;
}
