/* bench_na_values FILE [NVALUES] [ROUNDS]: weft_csv_run_dialect of
 * `y = old_column * 2` over FILE (weft-csv-gen's shape) with no na_values and
 * with NVALUES of them (-9990, -9991, ...: numbers' text, as a user's
 * sentinels are), alternated in one process, on the pool; prints the medians.
 * Linked to the shared library, so LD_LIBRARY_PATH picks the build measured. */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

static double run_once(weft_ctx *ctx, const char *file, const weft_csv_dialect *d)
{
    const char *set[] = {"y = old_column * 2"};
    weft_csv_job job = {.statements = set, .nstatements = 1};
    double t = bench_now();
    if (weft_csv_run_dialect(ctx, file, "/dev/null", NULL, d, &job, NULL) != WEFT_OK) {
        fprintf(stderr, "bench_na_values: %s\n", weft_last_error());
        exit(3);
    }
    return bench_now() - t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_na_values FILE [NVALUES] [ROUNDS]\n");
        return 2;
    }
    size_t nvalues = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (rounds < 1 || rounds > 99) rounds = 5;
    char **values = malloc(nvalues * sizeof *values);
    for (size_t i = 0; i < nvalues; i++) {
        values[i] = malloc(24);
        snprintf(values[i], 24, "-999%zu", i);
    }
    weft_options o;
    weft_options_init(&o);
    o.devices = "host";
    weft_ctx *ctx;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return 3;
    weft_csv_dialect with;
    weft_csv_dialect_init(&with);
    with.na_values = (const char *const *)values;
    with.n_na_values = nvalues;
    double none[99], listed[99];
    run_once(ctx, argv[1], NULL); /* warm the page cache */
    for (int r = 0; r < rounds; r++) {
        none[r] = run_once(ctx, argv[1], NULL);
        listed[r] = run_once(ctx, argv[1], &with);
    }
    qsort(none, (size_t)rounds, sizeof none[0], bench_cmp_double);
    qsort(listed, (size_t)rounds, sizeof listed[0], bench_cmp_double);
    printf("na_values none: %.3f s, %zu values: %.3f s (medians of %d)\n", none[rounds / 2],
           nvalues, listed[rounds / 2], rounds);
    weft_ctx_free(ctx);
    for (size_t i = 0; i < nvalues; i++)
        free(values[i]);
    free(values);
    return 0;
}
