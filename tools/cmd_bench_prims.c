/* weft bench prims: the data primitives against the plain C loops a user
 * would write, in the same run (the cases are bench/prims_cases.c, which
 * bench/bench_prims runs too). */
#include "../bench/prims_cases.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A count option's value in [min, max], or a message and 0. */
static int count_option(const char *name, const char *text, size_t min, size_t max, size_t *out)
{
    unsigned long long v = 0;
    if (!cli_parse_count(text, min, max, &v)) {
        fprintf(stderr, "weft bench prims: bad value for %s: %s\n", name, text);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int cmd_bench_prims(int argc, char **argv)
{
    int json = 0;
    prims_options o = {.n = (size_t)1 << 22, .group_rows = 10000000, .runs = 5};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            if (!count_option(argv[i], argv[i + 1], 1, SIZE_MAX, &o.n)) return EXIT_USAGE;
            i++;
        } else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            if (!count_option(argv[i], argv[i + 1], 1, SIZE_MAX, &o.group_rows)) return EXIT_USAGE;
            i++;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            size_t runs = 0;
            if (!count_option(argv[i], argv[i + 1], 1, 1000, &runs)) return EXIT_USAGE;
            o.runs = (int)runs;
            i++;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            o.only = argv[++i];
        } else {
            FILE *out = strcmp(argv[i], "--help") == 0 ? stdout : stderr;
            fprintf(out,
                    "usage: weft bench prims [--json] [--n N] [--rows R] [--runs K] [--only NAME]\n"
                    "Sort, argsort, histograms (256 and 65536 bins), bincount, scatter-add,\n"
                    "random, filter, group-by sum (R rows, default 10^7, 1000 keys) and scan\n"
                    "(f32 f64 i32 i64, on the pool and on device 1) against the plain\n"
                    "single-threaded C loop, runs alternating, medians of K (default 5), on N\n"
                    "elements (default 2^22). --only: the cases whose name contains NAME.\n");
            return out == stdout ? 0 : EXIT_USAGE;
        }
    }
    if (o.n == 0 || o.group_rows == 0 || o.runs < 1) {
        fprintf(stderr, "weft bench prims: N, R and K must be positive\n");
        return EXIT_USAGE;
    }
    if (o.only && !prims_case_named(o.only)) {
        fprintf(stderr,
                "weft bench prims: no case's name contains \"%s\" (weft bench prims "
                "--help names them)\n",
                o.only);
        return EXIT_USAGE;
    }
    weft_ctx *ctx = cli_ctx(NULL);
    if (!ctx) return EXIT_WEFT;
    int rc = prims_report(ctx, &o, json);
    weft_ctx_free(ctx);
    return rc ? EXIT_WEFT : 0;
}
