/* Numeric columns of the current window, parsed in parallel. */
#ifndef WEFT_CSV_COLUMNS_H
#define WEFT_CSV_COLUMNS_H

#include "reader.h"

/* How an empty (or NA) field of an integer column reads. */
typedef struct csv_int_missing {
    int fill; /* 0: an error naming the field; 1: reads as `value` */
    int64_t value;
} csv_int_missing;

/* Parses column col (WEFT_I64 or WEFT_F64) of the window into out[rows]
 * (8 bytes each). Float fields that are empty or NA read as NaN. */
weft_status csv_parse_column(const csv_reader *r, size_t col, weft_dtype dtype,
                             const csv_int_missing *missing, void *out);
/* The first window decides a column's type: i64 when every field is an
 * integer, else f64; the values land in out as csv_parse_column's do. */
weft_status csv_infer_column(const csv_reader *r, size_t col, const csv_int_missing *missing,
                             weft_dtype *dtype, void *out);

#endif
