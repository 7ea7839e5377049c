/* The data primitives against the plain single-threaded C loop a user would
 * write, in the same process, runs alternating between the two (so a busy
 * moment of the machine falls on both): shared by bench/bench_prims and
 * `weft bench prims`. */
#ifndef WEFT_PRIMS_CASES_H
#define WEFT_PRIMS_CASES_H

#include <weft.h>

#include <stddef.h>

typedef struct prims_options {
    size_t n;          /* elements of most cases */
    size_t group_rows; /* rows of the group-by case */
    int runs;          /* medians of this many */
    const char *only;  /* cases whose name contains it (NULL: all) */
    int scan_only;     /* only the scans (bench_prims N R scan) */
} prims_options;

typedef struct prims_row {
    const char *name;
    const char *loop; /* what the plain loop is */
    size_t n;
    double loop_ms, weft_ms; /* medians */
    int same;                /* 1 same result as the loop, 0 not, -1 not compared */
} prims_row;

typedef void (*prims_emit)(const prims_row *row, void *arg);

/* Runs the cases, calling emit once per row as it is measured. Returns 0, or
 * 1 after printing to stderr why a weft call or an allocation failed. */
int prims_run(weft_ctx *ctx, const prims_options *o, prims_emit emit, void *arg);

/* 1 when some case's name contains only (what --only selects). */
int prims_case_named(const char *only);

/* prims_run printing a header, the rows (text, or one JSON object), and a
 * footer to stdout. */
int prims_report(weft_ctx *ctx, const prims_options *o, int json);

#endif
