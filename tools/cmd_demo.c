/* weft demo: the main job of the quick start. A partitioned map and reduce
 * over generated data, which device ran which piece, and the speed against a
 * plain C loop. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double plain_sum(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

int cmd_demo(size_t n)
{
    enum { REPS = 7 };
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st != WEFT_OK) return cli_fail("creating a context");
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) return cli_fail("allocating");
    srand(42);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)rand() / (float)RAND_MAX;
        y[i] = (float)(i % 1000) * 0.001f;
    }
    weft_array *xa, *ya;
    if ((st = weft_array_from(ctx, WEFT_F32, n, x, &xa)) != WEFT_OK ||
        (st = weft_array_from(ctx, WEFT_F32, n, y, &ya)) != WEFT_OK)
        return cli_fail("creating arrays");

    double t_weft[REPS], t_loop[REPS], total = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = cli_now();
        if ((st = weft_axpy(ctx, 0.5, xa, ya, NULL)) != WEFT_OK) return cli_fail("weft_axpy");
        t_weft[r] = cli_now() - t0;
        t0 = cli_now();
        for (size_t i = 0; i < n; i++)
            y[i] = 0.5f * x[i] + y[i];
        t_loop[r] = cli_now() - t0;
    }
    weft_piece_report pieces[16];
    size_t npieces;
    weft_ctx_last_pieces(ctx, pieces, 16, &npieces);
    printf("map y = 0.5*x + y over %zu f32 elements:\n", n);
    for (size_t p = 0; p < npieces && p < 16; p++) {
        weft_device_info info;
        weft_device_get_info(ctx, pieces[p].device, &info);
        printf("  elements [%zu, %zu) ran on device %zu (%s)%s\n", pieces[p].begin, pieces[p].end,
               pieces[p].device, info.name, pieces[p].fell_back ? ", rerun on the host" : "");
    }
    qsort(t_weft, REPS, sizeof(double), cli_cmp_double);
    qsort(t_loop, REPS, sizeof(double), cli_cmp_double);
    double bytes = 3.0 * sizeof(float) * (double)n;
    printf("  weft %.2f GB/s, plain C loop %.2f GB/s (ratio %.2f; medians of %d)\n",
           bytes / t_weft[REPS / 2] * 1e-9, bytes / t_loop[REPS / 2] * 1e-9,
           t_loop[REPS / 2] / t_weft[REPS / 2], REPS);

    float *check = malloc(n * sizeof *check);
    if (!check || weft_array_read(ya, 0, n, check) != WEFT_OK) return cli_fail("reading y");
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += memcmp(&check[i], &y[i], sizeof(float)) != 0;
    printf("  result matches the plain loop bit for bit: %s\n", bad ? "NO" : "yes");

    for (int r = 0; r < REPS; r++) {
        double t0 = cli_now();
        if ((st = weft_sum(ctx, ya, &total, NULL)) != WEFT_OK) return cli_fail("weft_sum");
        t_weft[r] = cli_now() - t0;
        volatile double s;
        t0 = cli_now();
        s = plain_sum(y, n);
        t_loop[r] = cli_now() - t0;
        (void)s;
    }
    qsort(t_weft, REPS, sizeof(double), cli_cmp_double);
    qsort(t_loop, REPS, sizeof(double), cli_cmp_double);
    bytes = sizeof(float) * (double)n;
    double ref = plain_sum(y, n);
    printf("reduce sum(y) = %.6f (plain loop %.6f, relative difference %.1e):\n", total, ref,
           fabs(total - ref) / fabs(ref));
    weft_ctx_last_pieces(ctx, pieces, 16, &npieces);
    for (size_t p = 0; p < npieces && p < 16; p++)
        printf("  elements [%zu, %zu) ran on device %zu%s\n", pieces[p].begin, pieces[p].end,
               pieces[p].device, pieces[p].fell_back ? ", rerun on the host" : "");
    printf("  weft %.2f GB/s, plain C loop %.2f GB/s (ratio %.2f; medians of %d)\n",
           bytes / t_weft[REPS / 2] * 1e-9, bytes / t_loop[REPS / 2] * 1e-9,
           t_loop[REPS / 2] / t_weft[REPS / 2], REPS);
    weft_array_free(xa);
    weft_array_free(ya);
    weft_stats ledger;
    if (weft_ctx_stats(ctx, &ledger) == WEFT_OK)
        printf("ledger: %.1f MB to devices, %.1f MB back, %.1f MB between devices, %llu kernel "
               "launches, %llu tasks, %llu pieces rerun on the pool\n",
               (double)ledger.bytes_to_device * 1e-6, (double)ledger.bytes_to_host * 1e-6,
               (double)ledger.bytes_device_to_device * 1e-6,
               (unsigned long long)ledger.kernel_launches, (unsigned long long)ledger.tasks,
               (unsigned long long)ledger.pieces_rerun);
    weft_ctx_free(ctx);
    free(x);
    free(y);
    free(check);
    return bad ? 1 : 0;
}
