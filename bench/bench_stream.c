/* The bandwidth a scan's traffic allows: read an array, write another of the
 * same size (bytes counted: read + written), on 1 and 2 threads, with
 * ordinary stores (each line of y is read before it is written) and with
 * streaming stores. The variants alternate within each run; medians.
 *   bench_stream [bytes per array] [runs]   (default 32 MiB, 9) */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct part {
    const char *x;
    char *y;
    size_t bytes;
    int stream;
} part;

static void *copy_part(void *arg)
{
    const part *p = arg;
#if defined(__SSE2__)
    if (p->stream) {
        for (size_t i = 0; i < p->bytes; i += 16)
            _mm_stream_si128((__m128i *)(void *)(p->y + i),
                             _mm_load_si128((const __m128i *)(const void *)(p->x + i)));
        _mm_sfence();
        return NULL;
    }
#endif
    memcpy(p->y, p->x, p->bytes);               /* glibc may stream past its own threshold */
    for (size_t i = 0; i < p->bytes; i += 4096) /* touch: no lazy write-back tricks */
        p->y[i] ^= 0;
    return NULL;
}

static double copy(const char *x, char *y, size_t bytes, int threads, int stream)
{
    pthread_t t[2];
    part parts[2];
    size_t half = bytes / 2 / 64 * 64;
    double t0 = bench_now();
    for (int i = 0; i < threads; i++) {
        size_t lo = threads == 1 ? 0 : i * half, hi = threads == 1 || i == 1 ? bytes : half;
        parts[i] = (part){x + lo, y + lo, hi - lo, stream};
        if (i) pthread_create(&t[i], NULL, copy_part, &parts[i]);
    }
    copy_part(&parts[0]);
    if (threads > 1) pthread_join(t[1], NULL);
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    size_t bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)32 << 20;
    int runs = argc > 2 ? atoi(argv[2]) : 9;
    if (runs < 1 || runs > 64) runs = 9;
    bytes = bytes / 64 * 64;
    char *x = aligned_alloc(64, bytes), *y = aligned_alloc(64, bytes);
    if (!x || !y) return 1;
    memset(x, 1, bytes);
    memset(y, 2, bytes);
    static const char *names[4] = {"1 thread, stores", "1 thread, streaming stores",
                                   "2 threads, stores", "2 threads, streaming stores"};
    double t[4][64];
    for (int r = 0; r < runs; r++)
        for (int v = 0; v < 4; v++)
            t[v][r] = copy(x, y, bytes, 1 + v / 2, v % 2);
    printf("read %zu MiB, write %zu MiB; medians of %d\n", bytes >> 20, bytes >> 20, runs);
    for (int v = 0; v < 4; v++) {
        qsort(t[v], (size_t)runs, sizeof(double), bench_cmp_double);
        double m = t[v][runs / 2];
        printf("%-28s %9.3f ms  %6.2f GB/s\n", names[v], m * 1e3, 2.0 * (double)bytes / m / 1e9);
    }
    free(x);
    free(y);
    return 0;
}
