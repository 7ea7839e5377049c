/* Per-call cost of the built-in operations on small arrays, where a call is
 * all overhead: the host path of a synchronous weft_sum, dot, axpy, map and
 * scan on n elements, and an array made and freed, in microseconds per
 * call: medians over rounds of the calling thread's CPU time (the calls run
 * on it; on a shared machine this moves less than wall time) and of wall
 * time.
 *
 *   bench_small_ops [devices] [n] [calls per round] [rounds] [op]
 *
 * devices as weft_options.devices ("host", "all", ...; default "all"); op: run
 * only the operations whose name starts with it ("dot", "sum f32"; for perf). */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ROUNDS = 64 };

typedef struct fixture {
    weft_ctx *ctx;
    weft_array *x32, *y32, *x64, *y64;
    size_t n;
    float *buffer; /* n floats, for wrapping */
} fixture;

typedef weft_status (*small_op)(const fixture *f);

static weft_status sum_f32(const fixture *f)
{
    double s;
    return weft_sum(f->ctx, f->x32, &s, NULL);
}

static weft_status sum_f64(const fixture *f)
{
    double s;
    return weft_sum(f->ctx, f->x64, &s, NULL);
}

static weft_status dot(const fixture *f, weft_array *x, weft_array *y)
{
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    weft_scalar out;
    return weft_reduce_expr(f->ctx, WEFT_SUM, "x * y", b, 2, &out, NULL);
}

static weft_status dot_f32(const fixture *f)
{
    return dot(f, f->x32, f->y32);
}

static weft_status dot_f64(const fixture *f)
{
    return dot(f, f->x64, f->y64);
}

static weft_status max_f32(const fixture *f)
{
    weft_scalar out;
    return weft_reduce(f->ctx, WEFT_MAX, f->x32, &out, NULL);
}

static weft_status axpy_f32(const fixture *f)
{
    return weft_axpy(f->ctx, 1e-7, f->x32, f->y32, NULL);
}

static weft_status map_f32(const fixture *f)
{
    weft_bind b[] = {weft_bind_array("x", f->x32), weft_bind_array("y", f->y32),
                     weft_bind_f32("a", 1e-7f)};
    return weft_map(f->ctx, "y = a * x + y", b, 3, NULL);
}

static weft_status scan_f32(const fixture *f)
{
    return weft_scan(f->ctx, WEFT_SUM, 0, f->x32, f->y32, NULL);
}

/* An array made and freed (a temporary in a loop): the baseline beside it
 * is the plain C a user would write, a zeroed buffer of the same size. */
static weft_status create_free_f32(const fixture *f)
{
    weft_array *a;
    weft_status st = weft_array_create(f->ctx, WEFT_F32, f->n, &a);
    weft_array_free(a);
    return st;
}

static weft_status wrap_free_f32(const fixture *f)
{
    weft_array *a;
    weft_status st = weft_array_wrap(f->ctx, WEFT_F32, f->n, f->buffer, &a);
    weft_array_free(a);
    return st;
}

static weft_status calloc_free_f32(const fixture *f)
{
    float *volatile p = calloc(f->n, sizeof(float));
    free(p);
    return p ? WEFT_OK : WEFT_ERR_NOMEM;
}

static const struct {
    const char *name;
    small_op run;
} ops[] = {{"sum f32", sum_f32},
           {"sum f64", sum_f64},
           {"dot f32", dot_f32},
           {"dot f64", dot_f64},
           {"max f32", max_f32},
           {"axpy f32", axpy_f32},
           {"map f32", map_f32},
           {"scan f32", scan_f32},
           {"create+free f32", create_free_f32},
           {"wrap+free f32", wrap_free_f32},
           {"calloc+free f32 (C)", calloc_free_f32}};

static weft_status make_array(weft_ctx *ctx, weft_dtype t, size_t n, weft_array **out)
{
    size_t size = t == WEFT_F32 ? sizeof(float) : sizeof(double);
    unsigned char *data = malloc(n * size);
    if (!data) return WEFT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        double v = (double)(i % 17) * 0.25;
        if (t == WEFT_F32) {
            float f = (float)v;
            memcpy(data + i * size, &f, size);
        } else {
            memcpy(data + i * size, &v, size);
        }
    }
    weft_status st = weft_array_from(ctx, t, n, data, out);
    free(data);
    return st;
}

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    return t[n / 2];
}

static int fixture_make(const char *devices, size_t n, int start_stream, fixture *f)
{
    weft_options o;
    weft_options_init(&o);
    o.devices = devices;
    memset(f, 0, sizeof *f);
    f->n = n;
    f->buffer = aligned_alloc(128, (n * sizeof(float) + 127) / 128 * 128);
    if (!f->buffer || weft_ctx_create(&o, &f->ctx) != WEFT_OK ||
        make_array(f->ctx, WEFT_F32, n, &f->x32) || make_array(f->ctx, WEFT_F32, n, &f->y32) ||
        make_array(f->ctx, WEFT_F64, n, &f->x64) || make_array(f->ctx, WEFT_F64, n, &f->y64))
        return 0;
    if (!start_stream) return 1;
    /* Any call with a future starts the context's stream threads for good. */
    double s;
    weft_future *future = NULL;
    return weft_sum(f->ctx, f->x32, &s, &future) == WEFT_OK &&
           weft_future_wait(future) == WEFT_OK && weft_future_release(future) == WEFT_OK;
}

static void fixture_free(fixture *f)
{
    weft_array_free(f->x32);
    weft_array_free(f->y32);
    weft_array_free(f->x64);
    weft_array_free(f->y64);
    weft_ctx_free(f->ctx);
    free(f->buffer);
}

/* Microseconds per call of one round: CPU time of this thread and wall time. */
static int round_us(small_op run, const fixture *f, long calls, double *cpu, double *wall)
{
    double c0 = thread_seconds(), t0 = bench_now();
    for (long c = 0; c < calls; c++)
        if (run(f) != WEFT_OK) return 0;
    *wall = (bench_now() - t0) / (double)calls * 1e6;
    *cpu = (thread_seconds() - c0) / (double)calls * 1e6;
    return 1;
}

int main(int argc, char **argv)
{
    const char *devices = argc > 1 ? argv[1] : "all";
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    long calls = argc > 3 ? strtol(argv[3], NULL, 10) : 100000;
    int rounds = argc > 4 ? atoi(argv[4]) : 5;
    const char *only = argc > 5 ? argv[5] : "";
    if (n == 0 || calls <= 0 || rounds <= 0 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_small_ops [devices] [n > 0] [calls > 0] [rounds 1-%d] [op]\n",
                MAX_ROUNDS);
        return 2;
    }
    /* Two contexts: one that only ever ran synchronous calls, and one whose
     * stream threads run (it once took a future), as in most programs. */
    fixture f[2];
    if (!fixture_make(devices, n, 0, &f[0]) || !fixture_make(devices, n, 1, &f[1])) {
        fprintf(stderr, "bench_small_ops: %s\n", weft_last_error());
        return 1;
    }
    printf("Synchronous calls on n = %zu, devices \"%s\": microseconds per call, medians of %d "
           "rounds of %ld calls (CPU: the calling thread's CPU time)\n\n"
           "| op | CPU, fresh context | wall | CPU, stream started | wall |\n"
           "|---|---:|---:|---:|---:|\n",
           n, devices, rounds, calls);
    int ok = 1;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0] && ok; k++) {
        if (strncmp(ops[k].name, only, strlen(only)) != 0) continue;
        double cpu[2][MAX_ROUNDS], wall[2][MAX_ROUNDS];
        for (int c = 0; c < 2 && ok; c++)
            ok = ops[k].run(&f[c]) == WEFT_OK; /* warm up: compile, place */
        for (int r = 0; r < rounds && ok; r++)
            for (int c = 0; c < 2 && ok; c++) /* alternated: drift hits both alike */
                ok = round_us(ops[k].run, &f[c], calls, &cpu[c][r], &wall[c][r]);
        if (!ok) break;
        printf("| %s | %.3f | %.3f | %.3f | %.3f |\n", ops[k].name, median(cpu[0], rounds),
               median(wall[0], rounds), median(cpu[1], rounds), median(wall[1], rounds));
        fflush(stdout);
    }
    if (!ok) fprintf(stderr, "bench_small_ops: %s\n", weft_last_error());
    fixture_free(&f[0]);
    fixture_free(&f[1]);
    return !ok;
}
