/* Compiled expressions as operations use them: the per-context cache (by
 * mode, op, text, names and dtypes) and the binding of a call's arrays. What
 * a device's primitives take is dev/device.h. */
#ifndef WEFT_EXPR_OP_H
#define WEFT_EXPR_OP_H

#include "../exec/stream.h"
#include "../mem/array.h"
#include "../dev/device.h"

/* Finds or compiles the expression (WEFT_ERR_EXPR with detail on a bad one). */
weft_status weft_compiled_get(weft_ctx *ctx, enum weft_expr_mode mode, weft_reduce_op op,
                              const char *text, const weft_bind *binds, size_t nbinds,
                              weft_compiled **out);
void weft_compiled_release_all(weft_ctx *ctx);

/* Checks bindings (live arrays of ctx, one size) and lays out the op's arrays,
 * each distinct array once; fills call's bindings. */
weft_status weft_expr_bind(weft_ctx *ctx, const char *what, const weft_bind *binds, size_t nbinds,
                           weft_op *base, weft_bind *copy, int *view_of_bind, weft_expr_call *call);
/* Two arrays over overlapping memory (wraps of one buffer) in one call are
 * refused where the call writes either (writes: per binding, the compiled
 * expression's); overlapping arrays only read cannot race (numpy's
 * b[1:] - b[:-1]). One array bound twice is in-place work, allowed. */
weft_status weft_expr_alias_check(const char *what, const weft_bind *binds, size_t nbinds,
                                  const unsigned char *writes);

#endif
