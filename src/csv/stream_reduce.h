/* Whole-file reductions folded window by window (bit-identical to memory). */
#ifndef WEFT_CSV_STREAM_REDUCE_H
#define WEFT_CSV_STREAM_REDUCE_H

#include "plan.h"

/* Folds rows [0, rows) of the window (whole blocks but the file's last);
 * first_row is the index in the file of the window's first row. */
weft_status csv_reduce_window(weft_ctx *ctx, const csv_plan *p, csv_reduce_state *rs, size_t rows,
                              uint64_t first_row);
weft_status csv_reduce_finish(weft_ctx *ctx, const csv_plan *p, csv_reduce_state *rs,
                              weft_scalar *out);

#endif
