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

/* The compiled form of (op, expr, the binds' names and kinds and dtypes),
 * for a caller that repeats one reduction (weft::mpi keeps one per
 * distributed array): its calls skip the expression cache's key and lock.
 * Valid while ctx lives. */
typedef struct weft_reduce_prepared weft_reduce_prepared;
WEFT_API weft_status weft_reduce_blocks_prepare(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                                const weft_bind *binds, size_t nbinds,
                                                const weft_reduce_prepared **prepared);
/* 1 when binds have the names, kinds and dtypes prepared was made for. */
WEFT_API int weft_reduce_prepared_fits(const weft_reduce_prepared *prepared, const weft_bind *binds,
                                       size_t nbinds);
/* weft_reduce_expr_blocks of the prepared reduction over binds (which fit). */
WEFT_API weft_status weft_reduce_expr_blocks_prepared(weft_ctx *ctx,
                                                      const weft_reduce_prepared *prepared,
                                                      const weft_bind *binds, size_t nbinds,
                                                      weft_scalar *blocks, uint8_t *overflowed,
                                                      size_t nblocks);

#endif
