/* Many arrays alive at once: the cost of making and freeing each when
 * thousands of others live (every wrap is checked against the live wraps
 * it may overlap; every call looks its handles up).
 *
 *   bench_many_arrays [count] [rounds]
 *
 * Prints, per kind (wrapped rows of one buffer, arrays of weft's own), the
 * median over rounds of seconds to make count arrays of 64 floats, then to
 * free them. */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

enum { ROW = 64, MAX_ROUNDS = 32 };

static int make_all(weft_ctx *ctx, int wrap, float *buffer, size_t count, weft_array **a)
{
    for (size_t i = 0; i < count; i++) {
        weft_status st = wrap ? weft_array_wrap(ctx, WEFT_F32, ROW, buffer + i * ROW, &a[i])
                              : weft_array_create(ctx, WEFT_F32, ROW, &a[i]);
        if (st != WEFT_OK) return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 40000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (count == 0 || rounds <= 0 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_many_arrays [count > 0] [rounds 1-%d]\n", MAX_ROUNDS);
        return 2;
    }
    weft_ctx *ctx;
    float *buffer = calloc(count * ROW, sizeof *buffer);
    weft_array **a = calloc(count, sizeof *a);
    if (!buffer || !a || weft_ctx_create(NULL, &ctx) != WEFT_OK) {
        fprintf(stderr, "bench_many_arrays: %s\n", buffer && a ? weft_last_error() : "no memory");
        return 1;
    }
    printf("%zu live arrays of %d floats: seconds to make them all, then to free them "
           "(medians of %d rounds)\n\n| kind | make | free |\n|---|---:|---:|\n",
           count, ROW, rounds);
    for (int wrap = 1; wrap >= 0; wrap--) {
        double make[MAX_ROUNDS], unmake[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) {
            double t0 = bench_now();
            if (!make_all(ctx, wrap, buffer, count, a)) {
                fprintf(stderr, "bench_many_arrays: %s\n", weft_last_error());
                return 1;
            }
            double t1 = bench_now();
            for (size_t i = 0; i < count; i++)
                weft_array_free(a[i]);
            make[r] = t1 - t0;
            unmake[r] = bench_now() - t1;
        }
        qsort(make, (size_t)rounds, sizeof *make, bench_cmp_double);
        qsort(unmake, (size_t)rounds, sizeof *unmake, bench_cmp_double);
        printf("| %s | %.3f | %.3f |\n", wrap ? "wrapped rows of one buffer" : "weft_array_create",
               make[rounds / 2], unmake[rounds / 2]);
    }
    weft_ctx_free(ctx);
    free(buffer);
    free(a);
    return 0;
}
