/* The window-by-window reader of the public API. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../mem/layout.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

struct weft_csv_reader {
    weft_ctx *ctx;
    csv_reader r;
    csv_missing missing;
    csv_var *columns; /* one per file column, parsed on demand */
    unsigned char *parsed;
    size_t window_rows;
};

static void drop_arrays(weft_csv_reader *x)
{
    for (size_t v = 0; x->columns && v < x->r.ncols; v++) {
        if (x->columns[v].array) x->columns[v].array->owned = 0;
        weft_array_free(x->columns[v].array);
        x->columns[v].array = NULL;
    }
    if (x->parsed) memset(x->parsed, 0, x->r.ncols ? x->r.ncols : 1);
}

static void reader_free(weft_csv_reader *x)
{
    drop_arrays(x);
    csv_columns_free(x->columns, x->r.ncols);
    csv_reader_close(&x->r);
    csv_missing_free(&x->missing);
    free(x->parsed);
    free(x);
}

weft_status weft_csv_open(weft_ctx *ctx, const char *path, const weft_csv_options *options,
                          weft_csv_reader **reader)
{
    return weft_csv_open_dialect(ctx, path, options, NULL, reader);
}

weft_status weft_csv_open_dialect(weft_ctx *ctx, const char *path, const weft_csv_options *options,
                                  const weft_csv_dialect *dialect, weft_csv_reader **reader)
{
    RETURN_IF(!ctx || !path || !reader, WEFT_ERR_NULL, "weft_csv_open: an argument is NULL");
    *reader = NULL;
    weft_csv_options defaults;
    weft_csv_options_init(&defaults);
    const weft_csv_options *o = options ? options : &defaults;
    size_t window;
    RETURN_ON_ERROR(csv_check_options(o, &window));
    if (dialect) RETURN_ON_ERROR(csv_check_dialect(dialect, o->delimiter));
    weft_csv_reader *x = calloc(1, sizeof *x);
    RETURN_IF(!x, WEFT_ERR_NOMEM, "weft_csv_open: out of memory");
    x->ctx = ctx;
    /* The reader first: it marks what it holds (no file, no block), so a
     * close after any later failure releases only what was opened. */
    weft_status st =
        csv_reader_open(&x->r, ctx->pool, path, o->delimiter, o->header, dialect, window, 0, NULL);
    if (st == WEFT_OK) st = csv_missing_init(&x->missing, o, dialect);
    if (st == WEFT_OK) {
        x->parsed = calloc(x->r.ncols ? x->r.ncols : 1, 1);
        if (!x->parsed) st = weft_error_set(WEFT_ERR_NOMEM, "weft_csv_open: out of memory");
    }
    if (st == WEFT_OK) st = csv_columns_all(&x->r, o->types, &x->columns);
    if (st == WEFT_OK) st = weft_handle_add(x, WEFT_HANDLE_CSV_READER);
    if (st != WEFT_OK) {
        reader_free(x);
        return st;
    }
    *reader = x;
    return WEFT_OK;
}

/* WEFT_OK while reader is an open reader: a closed one (its memory freed)
 * is never read. */
static weft_status live(const weft_csv_reader *reader, const char *call)
{
    RETURN_IF(!weft_handle_live(reader, WEFT_HANDLE_CSV_READER), WEFT_ERR_STATE,
              "%s: %p is not a live CSV reader (closed already?)", call, (const void *)reader);
    return WEFT_OK;
}

weft_status weft_csv_close(weft_csv_reader *reader)
{
    if (!reader) return WEFT_OK;
    RETURN_ON_ERROR(weft_handle_check_free(reader, WEFT_HANDLE_CSV_READER, "weft_csv_close"));
    RETURN_IF(!weft_handle_remove(reader), WEFT_ERR_STATE, "weft_csv_close: %p closed twice",
              (void *)reader);
    reader_free(reader);
    return WEFT_OK;
}

weft_status weft_csv_column_count(const weft_csv_reader *reader, size_t *count)
{
    RETURN_IF(!reader || !count, WEFT_ERR_NULL, "weft_csv_column_count: an argument is NULL");
    RETURN_ON_ERROR(live(reader, "weft_csv_column_count"));
    *count = reader->r.ncols;
    return WEFT_OK;
}

const char *weft_csv_column_name(const weft_csv_reader *reader, size_t column)
{
    return reader && weft_handle_live(reader, WEFT_HANDLE_CSV_READER) && column < reader->r.ncols
               ? reader->r.names[column]
               : NULL;
}

weft_status weft_csv_next(weft_csv_reader *reader, size_t *rows, uint64_t *first_row)
{
    RETURN_IF(!reader || !rows, WEFT_ERR_NULL, "weft_csv_next: an argument is NULL");
    RETURN_ON_ERROR(live(reader, "weft_csv_next"));
    drop_arrays(reader);
    *rows = 0;
    RETURN_ON_ERROR(csv_reader_next(&reader->r));
    *rows = reader->r.ix.rows;
    if (first_row) *first_row = reader->r.row;
    return WEFT_OK;
}

weft_status weft_csv_column(weft_csv_reader *reader, size_t column, weft_array **array)
{
    RETURN_IF(!reader || !array, WEFT_ERR_NULL, "weft_csv_column: an argument is NULL");
    RETURN_ON_ERROR(live(reader, "weft_csv_column"));
    RETURN_IF(column >= reader->r.ncols, WEFT_ERR_RANGE,
              "weft_csv_column: column %zu, but the file has %zu", column, reader->r.ncols);
    RETURN_IF(!reader->r.started, WEFT_ERR_STATE, "weft_csv_column: call weft_csv_next first");
    csv_var *v = &reader->columns[column];
    if (!reader->parsed[column]) {
        size_t rows = reader->r.ix.rows;
        RETURN_ON_ERROR(csv_var_reserve(v, rows));
        if (v->typed) {
            RETURN_ON_ERROR(
                csv_parse_column(&reader->r, column, v->dtype, &reader->missing, v->data));
        } else {
            RETURN_ON_ERROR(
                csv_infer_column(&reader->r, column, &reader->missing, &v->dtype, v->data));
            v->typed = 1;
        }
        RETURN_ON_ERROR(rows ? weft_array_wrap(reader->ctx, v->dtype, rows, v->data, &v->array)
                             : weft_array_create(reader->ctx, v->dtype, 0, &v->array));
        v->array->owned = 1;
        reader->parsed[column] = 1;
    }
    *array = v->array;
    return WEFT_OK;
}

weft_status weft_csv_field(const weft_csv_reader *reader, size_t row, size_t column,
                           const char **text, size_t *length)
{
    RETURN_IF(!reader || !text || !length, WEFT_ERR_NULL, "weft_csv_field: an argument is NULL");
    RETURN_ON_ERROR(live(reader, "weft_csv_field"));
    RETURN_IF(row >= reader->r.ix.rows || column >= reader->r.ncols, WEFT_ERR_RANGE,
              "weft_csv_field: row %zu, column %zu outside the window (%zu rows, %zu columns)", row,
              column, reader->r.ix.rows, reader->r.ncols);
    size_t b, e;
    csv_field(&reader->r.ix, reader->r.ncols, row, column, &b, &e);
    *text = reader->r.buf + b;
    *length = e - b;
    return WEFT_OK;
}
