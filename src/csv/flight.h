/* A window's statements in flight: weft_map over arrays that wrap the vars'
 * data, returned as a future so the next window is parsed meanwhile. */
#ifndef WEFT_CSV_FLIGHT_H
#define WEFT_CSV_FLIGHT_H

#include "plan.h"

typedef struct csv_flight {
    weft_future *future; /* NULL: nothing in flight */
    weft_array *arrays[WEFT_EXPR_MAX_BINDINGS];
    size_t narrays;
} csv_flight;

/* 1 when a window's statements can usefully run beside the next window's
 * parse: some selected device copies its arrays, or is not a CPU. A
 * zero-copy CPU device, or the pool, runs on the cores the parse uses, and
 * two parallel stages at once there only take turns (measured slower on 2
 * cores: bench/RESULTS.md, "CSV windows in flight"). WEFT_CSV_OVERLAP=1 or
 * 0 decides instead. */
int csv_flight_overlaps(weft_ctx *ctx);
/* Starts the statements over rows of the vars' current data (nothing when
 * the plan has none or rows is 0). The data must stay until csv_land. */
weft_status csv_launch(weft_ctx *ctx, const csv_plan *p, size_t rows, uint64_t first_row,
                       csv_flight *f);
/* Waits for the statements and makes the values they wrote current in the
 * vars' data; then f is empty again. Safe on an empty flight, and after a
 * failure (it only waits and frees then). */
weft_status csv_land(const csv_plan *p, csv_flight *f);

#endif
