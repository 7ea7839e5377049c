/* Numeric columns of a window: fields parsed in parallel over rows into i64
 * or f64 values, with the first bad field named by line and column. */
#include "../core/error.h"
#include "../text/number_parse.h"
#include "columns.h"
#include "show.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What pandas reads as a missing value besides the empty field. */
static int is_missing_token(const char *b, const char *e)
{
    static const char *const tokens[] = {
        "NA",  "N/A",  "NaN",  "nan",  "NULL",     "null",    "None",     "n/a",    "<NA>",
        "#NA", "#N/A", "-NaN", "-nan", "#N/A N/A", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN"};
    size_t n = (size_t)(e - b);
    if (n == 0) return 1;
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strlen(tokens[i]) == n && memcmp(tokens[i], b, n) == 0) return 1;
    return 0;
}

typedef enum parse_result { PARSED = 0, NOT_NUMBER, MISSING_INT, PAST_I64 } parse_result;

/* [+-]digits: an integer, whatever its size. */
static int integer_text(const char *b, const char *e)
{
    if (b < e && (*b == '+' || *b == '-')) b++;
    if (b == e) return 0;
    for (; b < e; b++)
        if (*b < '0' || *b > '9') return 0;
    return 1;
}

static parse_result read_missing(weft_dtype dtype, const csv_missing *missing, void *out)
{
    if (dtype == WEFT_F64) {
        *(double *)out = NAN;
        return PARSED;
    }
    if (!missing->fill) return MISSING_INT;
    *(int64_t *)out = missing->value;
    return PARSED;
}

static parse_result parse_one(const char *b, const char *e, weft_dtype dtype,
                              const csv_missing *missing, void *out)
{
    /* Most numbers are unquoted: the call only for a field that opens with a quote. */
    if (b != e && *b == '"' && !csv_unquote_simple(&b, &e)) return NOT_NUMBER;
    /* Before the number: a value such as "-999" may be named missing. */
    if (csv_na_set_has(&missing->na, b, (size_t)(e - b))) return read_missing(dtype, missing, out);
    /* Spaces around a number are read past, as pandas does ("  0 "); a field
     * of spaces only is text to pandas, so it is no number here either. */
    const char *nb = b, *ne = e;
    while (nb < ne && (*nb == ' ' || *nb == '\t'))
        nb++;
    while (ne > nb && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
    if (nb == ne && b != e) return NOT_NUMBER;
    if (dtype == WEFT_F64 ? weft_parse_f64(nb, ne, out) : weft_parse_i64(nb, ne, out))
        return PARSED;
    if (dtype == WEFT_I64 && integer_text(nb, ne)) return PAST_I64;
    if (!is_missing_token(b, e)) return NOT_NUMBER;
    return read_missing(dtype, missing, out);
}

weft_status csv_missing_init(csv_missing *m, const weft_csv_options *o, const weft_csv_dialect *d)
{
    memset(m, 0, sizeof *m);
    m->fill = o->int_missing_fill;
    m->value = o->int_missing_value;
    if (!d || d->n_na_values == 0) return WEFT_OK;
    RETURN_IF(!d->na_values, WEFT_ERR_NULL, "csv: na_values is NULL (n_na_values %zu)",
              d->n_na_values);
    for (size_t i = 0; i < d->n_na_values; i++)
        RETURN_IF(!d->na_values[i], WEFT_ERR_NULL, "csv: na_values[%zu] is NULL", i);
    return csv_na_set_init(&m->na, d->na_values, d->n_na_values);
}

void csv_missing_free(csv_missing *m)
{
    csv_na_set_free(&m->na);
}

typedef struct parse_job {
    const csv_reader *r;
    size_t col, rows;
    weft_dtype dtype;
    const csv_missing *missing;
    unsigned char *out;
    size_t chunk;
    size_t *bad_row; /* per chunk: first bad row, or SIZE_MAX */
    parse_result *why;
} parse_job;

static void parse_range(void *arg, size_t begin, size_t end)
{
    parse_job *j = arg;
    const csv_reader *r = j->r;
    for (size_t k = begin; k < end; k++) {
        size_t r0 = k * j->chunk, r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
        j->bad_row[k] = SIZE_MAX;
        for (size_t row = r0; row < r1; row++) {
            size_t fb, fe;
            csv_field(&r->ix, r->ncols, row, j->col, &fb, &fe);
            parse_result res =
                parse_one(r->buf + fb, r->buf + fe, j->dtype, j->missing, j->out + row * 8);
            if (res != PARSED) {
                j->bad_row[k] = row;
                j->why[k] = res;
                break;
            }
        }
    }
}

#define PARSE_CHUNKS 64

/* 1 when every field parsed; else *bad_row and *why of the first failure. */
static int parse_all(const csv_reader *r, size_t col, weft_dtype dtype, const csv_missing *missing,
                     void *out, size_t *bad_row, parse_result *why)
{
    size_t rows = r->ix.rows;
    size_t bad[PARSE_CHUNKS];
    parse_result whys[PARSE_CHUNKS];
    size_t chunk = (rows + PARSE_CHUNKS - 1) / PARSE_CHUNKS;
    if (chunk < 1024) chunk = 1024;
    size_t nchunks = (rows + chunk - 1) / chunk;
    parse_job j = {r, col, rows, dtype, missing, out, chunk, bad, whys};
    weft_pool_parallel_for(r->pool, nchunks, 1, 0, parse_range, &j);
    for (size_t k = 0; k < nchunks; k++)
        if (bad[k] != SIZE_MAX) {
            *bad_row = bad[k];
            *why = whys[k];
            return 0;
        }
    return 1;
}

static weft_status bad_field(const csv_reader *r, size_t col, size_t row, weft_dtype dtype,
                             parse_result why)
{
    size_t fb, fe;
    csv_field(&r->ix, r->ncols, row, col, &fb, &fe);
    char where[512];
    csv_reader_where(r, fb, where, sizeof where);
    char shown[256];
    csv_show_bytes(r->buf + fb, fe - fb > 40 ? 40 : fe - fb, shown, sizeof shown);
    if (why == PAST_I64)
        return weft_error_set(WEFT_ERR_DATA,
                              "%scolumn '%s' (field %zu): %s%s is an integer past the i64 range "
                              "(the column is i64): give the column f64 (types \"%s=f64\", "
                              "--type '%s=f64')",
                              where, r->names[col], col + 1, shown, fe - fb > 40 ? "..." : "",
                              r->names[col], r->names[col]);
    if (why == MISSING_INT)
        return weft_error_set(WEFT_ERR_DATA,
                              "%scolumn '%s' (field %zu): missing integer (an i64 column; read "
                              "missing integers as a value, or type the column f64)",
                              where, r->names[col], col + 1);
    return weft_error_set(WEFT_ERR_DATA, "%scolumn '%s' (field %zu): \"%s%s\" is not %s", where,
                          r->names[col], col + 1, shown, fe - fb > 40 ? "..." : "",
                          dtype == WEFT_I64 ? "an integer (the column is i64)" : "a number");
}

weft_status csv_parse_column(const csv_reader *r, size_t col, weft_dtype dtype,
                             const csv_missing *missing, void *out)
{
    size_t row;
    parse_result why;
    if (parse_all(r, col, dtype, missing, out, &row, &why)) return WEFT_OK;
    return bad_field(r, col, row, dtype, why);
}

weft_status csv_infer_column(const csv_reader *r, size_t col, const csv_missing *missing,
                             weft_dtype *dtype, void *out)
{
    size_t row;
    parse_result why;
    /* Integers as long as every field is one (pandas reads a column with a
     * missing integer as floats too); else floats. */
    csv_missing strict = *missing;
    strict.fill = 0;
    if (r->ix.rows > 0 &&
        parse_all(r, col, WEFT_I64, missing->fill ? missing : &strict, out, &row, &why)) {
        *dtype = WEFT_I64;
        return WEFT_OK;
    }
    *dtype = WEFT_F64;
    if (parse_all(r, col, WEFT_F64, missing, out, &row, &why)) return WEFT_OK;
    return bad_field(r, col, row, WEFT_F64, why);
}
