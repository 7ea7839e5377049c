/* The data primitives (docs/primitives.md) against plain single-threaded C
 * loops, alternating runs, medians (the cases: prims_cases.c, which
 * `weft bench prims` runs too).
 *   bench_prims [n] [runs] [scan|NAME] [--json]
 *     scan: only weft_scan (SUM, inclusive) on f32 f64 i32 i64, on the pool
 *     and on device 1 alone; NAME: the cases whose name contains it.
 *   WEFT_DEVICES=host for the pool alone. The group-by has 10^7 rows. */
#include "prims_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int json = 0, pos = 0;
    prims_options o = {.n = (size_t)1 << 22, .group_rows = 10000000, .runs = 5};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (pos == 0 && ++pos)
            o.n = strtoull(argv[i], NULL, 10);
        else if (pos == 1 && ++pos)
            o.runs = atoi(argv[i]);
        else if (!strcmp(argv[i], "scan"))
            o.scan_only = 1;
        else
            o.only = argv[i];
    }
    weft_ctx *ctx;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) {
        fprintf(stderr, "weft_ctx_create: %s\n", weft_last_error());
        return 1;
    }
    int rc = prims_report(ctx, &o, json);
    weft_ctx_free(ctx);
    return rc;
}
