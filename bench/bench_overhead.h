/* Per-operation overhead of weft against raw OpenCL in the same process:
 * user-kernel launches (synchronous and 1000 queued) and a chain of dependent
 * weft_map calls queued with futures. */
#ifndef WEFT_BENCH_OVERHEAD_H
#define WEFT_BENCH_OVERHEAD_H

#include "raw_opencl.h"

#include <weft.h>

/* Prints a markdown table, or with json a JSON object (no newline). `raw`
 * may be NULL (then only weft's side is measured). 0 on a weft failure. */
int bench_overhead(weft_ctx *ctx, raw_cl *raw, int quick, int json);
/* A weft_stats as a JSON object. */
void bench_print_ledger_json(const weft_stats *st);

#endif
