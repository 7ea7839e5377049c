/* Each block's own reduction result, for the layers that fold the blocks of
 * several calls in one process's order (weft::mpi: every rank's blocks of
 * one global array). Exported from libweft for them; not public API. */
#ifndef WEFT_REDUCTION_BLOCKS_H
#define WEFT_REDUCTION_BLOCKS_H

#include "weft.h"

#include <stdint.h>

/* As weft_reduce_expr, but blocks[b] receives what weft_reduce_expr gives
 * over block b alone (elements [b * WEFT_SUM_BLOCK, (b + 1) *
 * WEFT_SUM_BLOCK)), in one pass over the arrays, on any devices. nblocks
 * must be the arrays' number of blocks. overflowed[b] is 1 where block b's
 * integer sum left 64 bits (blocks[b] then holds nothing), else 0. Indices
 * count from the block's start, as over the block alone. Synchronous. */
WEFT_API weft_status weft_reduce_expr_blocks(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                             const weft_bind *binds, size_t nbinds,
                                             weft_scalar *blocks, uint8_t *overflowed,
                                             size_t nblocks);

#endif
