/* The mission's Dask example through the C API:
 *
 *     df = dd.read_csv("in.csv")
 *     df["new_column"] = df["old_column"] * 2
 *     df.to_csv("out.csv")
 *
 * in bounded memory, plus a whole-file sum, then the same file read window by
 * window with the reader API.
 *
 *     csv_pipeline IN.csv OUT.csv
 */
#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.csv OUT.csv\n", argv[0]);
        return 2;
    }
    weft_ctx *ctx;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) {
        fprintf(stderr, "weft_ctx_create: %s\n", weft_last_error());
        return 1;
    }
    /* 1. The whole pipeline in one call. */
    const char *statements[] = {"new_column = old_column * 2"};
    /* Missing values read as NaN; skip them as pandas' sum() does. */
    weft_csv_reduction sum = {WEFT_SUM, "new_column == new_column ? new_column : 0", {0}};
    weft_csv_job job = {0};
    job.statements = statements;
    job.nstatements = 1;
    job.reductions = &sum;
    job.nreductions = 1;
    weft_csv_stats stats;
    weft_status st = weft_csv_run(ctx, argv[1], argv[2], NULL, &job, &stats);
    if (st != WEFT_OK) {
        /* "in.csv:12:5: column 'old_column' (field 2): "x" is not a number" */
        fprintf(stderr, "%s\n", weft_last_error());
        weft_ctx_free(ctx);
        return 1;
    }
    printf("%llu rows in %.3f s (%.0f MB/s); sum of new_column = %.17g\n",
           (unsigned long long)stats.rows, stats.seconds,
           (double)stats.bytes_read / 1e6 / stats.seconds, weft_scalar_as_double(&sum.result));

    /* 2. Window by window: each numeric column is a weft array. */
    weft_csv_reader *reader;
    st = weft_csv_open(ctx, argv[1], NULL, &reader);
    size_t column = 0, columns = 0, rows = 0;
    if (st == WEFT_OK) weft_csv_column_count(reader, &columns);
    while (column < columns && strcmp(weft_csv_column_name(reader, column), "old_column") != 0)
        column++;
    double largest = -INFINITY;
    while (st == WEFT_OK && (st = weft_csv_next(reader, &rows, NULL)) == WEFT_OK && rows > 0) {
        weft_array *old;
        weft_scalar s;
        st = weft_csv_column(reader, column, &old);
        weft_bind bind = weft_bind_array("x", old);
        if (st == WEFT_OK)
            st = weft_reduce_expr(ctx, WEFT_MAX, "x == x ? x * 2 : -1e308", &bind, 1, &s, NULL);
        if (st == WEFT_OK) largest = fmax(largest, weft_scalar_as_double(&s));
    }
    if (st != WEFT_OK)
        fprintf(stderr, "%s\n", weft_last_error());
    else
        printf("largest new_column, window by window: %.17g\n", largest);
    weft_csv_close(reader);
    weft_ctx_free(ctx);
    return st == WEFT_OK ? 0 : 1;
}
