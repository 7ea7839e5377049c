/* What the pool's two scans share (ref/scan_host.c: blocks and carries in
 * the order kernels/scan.cl fixes, and the streaming stores of y), for the
 * two-pass scan there and the one-pass scan of ref/scan_chain.c. */
#ifndef WEFT_SCAN_HOST_H
#define WEFT_SCAN_HOST_H

#include "../device.h"

#include <stddef.h>
#include <stdint.h>

/* A block: 16 sub-blocks of 256, each a chain of its own (kernels/scan.cl). */
enum { SUBS = 16, SUB = WEFT_SUM_BLOCK / SUBS };

typedef struct scan_job {
    weft_reduce_op op;
    weft_dtype t;
    int exclusive;
    const void *x;
    void *y;
    size_t n;
    uint64_t *subtotals;
    const uint64_t *carries;
    int stream; /* y by non-temporal stores, through a block in cache */
} scan_job;

/* Block b from start (16 accumulators): y (the block's first element) when
 * not NULL, the 16 final accumulators into out when not NULL. */
void weft_scan_block(const scan_job *j, size_t b, const uint64_t *start, uint64_t *out, void *y);
/* Block b of j->y from its 16 carries, streamed when j->stream. */
void weft_scan_apply_block(const scan_job *j, size_t b, const uint64_t *carries);
/* Whether a scan of n elements of dtype writes y by streaming stores: only
 * where y would not stay in cache anyway. */
int weft_scan_streams(weft_dtype dtype, size_t n);
/* Stores after weft_scan_apply_block reach memory before what follows. */
void weft_scan_stream_fence(void);

/* The whole scan in one pass over x (ref/scan_chain.c), for the pool alone:
 * the bits of weft_ref_scan_totals, weft_scan_carries, weft_ref_scan_apply,
 * with subtotals and carries (16 per block) as theirs. */
weft_status weft_ref_scan(const weft_prim_threads *threads, weft_reduce_op op, weft_dtype dtype,
                          int exclusive, weft_view x, weft_view y, size_t n, uint64_t *subtotals,
                          uint64_t *carries);

uint64_t weft_scan_identity(weft_reduce_op op, weft_dtype t);
/* weft_scan_carries from carry_in; returns the carry after the last block. */
uint64_t weft_scan_carries_from(weft_reduce_op op, weft_dtype t, const uint64_t *subtotals,
                                size_t blocks, uint64_t *carries, uint64_t carry_in);

#endif
