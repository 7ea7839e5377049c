/* bench_map_stream [REPS] [THREADS]: `out = 2*a + 3*b*c` over 10^7 f64 on
 * the pool (devices "host") against a plain C loop with ordinary stores and
 * one with streaming stores, alternated in one process; medians. With
 * THREADS 1 and CPU=1 in the environment the times are the calling thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID), so other processes' preemption on a
 * shared machine does not count. Linked to the shared library, so
 * LD_LIBRARY_PATH picks the build measured. */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define N 10000000
static double *A, *B, *C, *O;
static int use_cpu;

static double now(void)
{
    struct timespec t;
    clock_gettime(use_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct part {
    size_t b, e;
    int stream;
} part;

static void *loop(void *arg)
{
    const part *p = arg;
#if defined(__SSE2__)
    if (p->stream) {
        for (size_t i = p->b; i < p->e; i += 2)
            _mm_stream_pd(O + i,
                          _mm_add_pd(_mm_mul_pd(_mm_set1_pd(2), _mm_load_pd(A + i)),
                                     _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(3), _mm_load_pd(B + i)),
                                                _mm_load_pd(C + i))));
        _mm_sfence();
        return NULL;
    }
#endif
    for (size_t i = p->b; i < p->e; i++)
        O[i] = 2 * A[i] + 3 * B[i] * C[i];
    return NULL;
}

static double plain(int nth, int stream)
{
    pthread_t t[8];
    part p[8];
    double s = now();
    if (nth == 1) {
        p[0] = (part){0, N, stream};
        loop(&p[0]);
        return now() - s;
    }
    for (int k = 0; k < nth; k++) {
        p[k] = (part){(size_t)N * k / nth / 2 * 2,
                      k == nth - 1 ? N : (size_t)N * (k + 1) / nth / 2 * 2, stream};
        pthread_create(&t[k], NULL, loop, &p[k]);
    }
    for (int k = 0; k < nth; k++)
        pthread_join(t[k], NULL);
    return now() - s;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 11, nth = argc > 2 ? atoi(argv[2]) : 2;
    if (reps < 1 || reps > 200) reps = 11;
    if (nth < 1 || nth > 8) nth = 2;
    use_cpu = getenv("CPU") != NULL && nth == 1;
    const char *expr = "out = 2*a + 3*b*c";
    weft_options o;
    weft_options_init(&o);
    o.devices = "host";
    o.num_threads = nth;
    weft_ctx *ctx;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return 3;
    double *h = malloc(sizeof(double) * N);
    for (size_t i = 0; i < N; i++)
        h[i] = (double)(i % 1000) / 1000.0;
    weft_array *a, *b, *c, *out;
    weft_array_from(ctx, WEFT_F64, N, h, &a);
    weft_array_from(ctx, WEFT_F64, N, h, &b);
    weft_array_from(ctx, WEFT_F64, N, h, &c);
    weft_array_create(ctx, WEFT_F64, N, &out);
    weft_bind bs[4] = {weft_bind_array("a", a), weft_bind_array("b", b), weft_bind_array("c", c),
                       weft_bind_array("out", out)};
    A = aligned_alloc(4096, 8 * N), B = aligned_alloc(4096, 8 * N);
    C = aligned_alloc(4096, 8 * N), O = aligned_alloc(4096, 8 * N);
    memcpy(A, h, 8 * N), memcpy(B, h, 8 * N), memcpy(C, h, 8 * N), memset(O, 0, 8 * N);
    static double tw[200], tp[200], tn[200];
    for (int r = 0; r < 3; r++)
        if (weft_map(ctx, expr, bs, 4, NULL) != WEFT_OK) return 3;
    for (int r = 0; r < reps; r++) {
        double s = now();
        weft_map(ctx, expr, bs, 4, NULL);
        tw[r] = now() - s;
        tp[r] = plain(nth, 0);
        tn[r] = plain(nth, 1);
    }
    qsort(tw, (size_t)reps, 8, cmp), qsort(tp, (size_t)reps, 8, cmp),
        qsort(tn, (size_t)reps, 8, cmp);
    printf("%d threads%s: pool %.2f ms | C loop %.2f ms, streaming %.2f ms (medians of %d)\n", nth,
           use_cpu ? " (CPU time)" : "", tw[reps / 2] * 1e3, tp[reps / 2] * 1e3, tn[reps / 2] * 1e3,
           reps);
    weft_ctx_free(ctx);
    return 0;
}
