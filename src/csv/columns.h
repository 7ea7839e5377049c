/* Numeric columns of the current window, parsed in parallel. */
#ifndef WEFT_CSV_COLUMNS_H
#define WEFT_CSV_COLUMNS_H

#include "na_set.h"
#include "reader.h"

/* Which fields are missing (empty, pandas' NA tokens, the dialect's
 * na_values), and how a missing field of an integer column reads. */
typedef struct csv_missing {
    int fill; /* 0: an error naming the field; 1: reads as `value` */
    int64_t value;
    csv_na_set na; /* the dialect's na_values */
} csv_missing;

/* From the options and the dialect (NULL: none); free with csv_missing_free. */
weft_status csv_missing_init(csv_missing *m, const weft_csv_options *o, const weft_csv_dialect *d);
void csv_missing_free(csv_missing *m);

/* Parses column col (WEFT_I64 or WEFT_F64) of the window into out[rows]
 * (8 bytes each). Missing float fields read as NaN. */
weft_status csv_parse_column(const csv_reader *r, size_t col, weft_dtype dtype,
                             const csv_missing *missing, void *out);
/* The first window decides a column's type: i64 when every field is an
 * integer, else f64; the values land in out as csv_parse_column's do. */
weft_status csv_infer_column(const csv_reader *r, size_t col, const csv_missing *missing,
                             weft_dtype *dtype, void *out);

#endif
