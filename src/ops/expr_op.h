/* Compiled expressions as operations run them: cached per context by
 * (mode, op, text, names, dtypes), each with its OpenCL source and the kernel
 * built from it on each device, and with the bytecode for the pool. */
#ifndef WEFT_EXPR_OP_H
#define WEFT_EXPR_OP_H

#include "../array.h"
#include "../expr/expr.h"

/* One block's partial result (ulong2 in the kernels): the accumulator's bits
 * and an index or overflow flag. */
typedef struct weft_partial {
    uint64_t bits, aux;
} weft_partial;

#define WEFT_KERNEL_FAILED ((void *)-1)

typedef struct weft_compiled {
    char *key;
    weft_expr *expr;
    enum weft_expr_mode mode;
    weft_reduce_op op;
    char *source;     /* OpenCL C */
    char *source_gpu; /* reductions: the work-group-per-block variant */
    void **kernels;   /* per device index: cl_kernel, NULL until built, or WEFT_KERNEL_FAILED */
    struct weft_compiled *next;
} weft_compiled;

/* One call: the compiled expression and this call's bindings. */
typedef struct weft_expr_call {
    const weft_compiled *compiled;
    const weft_bind *binds;  /* per binding (scalars' values) */
    const int *view_of_bind; /* per binding: index into the dispatch views; -1 for scalars */
    size_t elem_of_view[WEFT_OP_MAX_ARRAYS];
} weft_expr_call;

/* Finds or compiles the expression (WEFT_ERR_EXPR with detail on a bad one). */
weft_status weft_compiled_get(weft_ctx *ctx, enum weft_expr_mode mode, weft_reduce_op op,
                              const char *text, const weft_bind *binds, size_t nbinds,
                              weft_compiled **out);
void weft_compiled_release_all(weft_ctx *ctx);

/* Checks bindings (live arrays of ctx, one size) and lays out the op's arrays,
 * each distinct array once; fills call's bindings. */
weft_status weft_expr_bind(weft_ctx *ctx, const char *what, const weft_bind *binds, size_t nbinds,
                           weft_op *base, weft_bind *copy, int *view_of_bind, weft_expr_call *call);

/* The reference (pool) implementations, used by the host backend table. */
weft_status weft_host_map_expr(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                               size_t begin, size_t n);
weft_status weft_host_reduce_expr(weft_device *dev, const weft_expr_call *call,
                                  const weft_view *views, size_t begin, size_t n,
                                  weft_partial *partials);

/* Scans on the pool (scan_host.c). */
weft_status weft_host_scan_totals(weft_device *dev, weft_reduce_op op, weft_dtype dtype,
                                  weft_view x, size_t n, uint64_t *subtotals);
weft_status weft_host_scan_apply(weft_device *dev, weft_reduce_op op, weft_dtype dtype,
                                 int exclusive, weft_view x, weft_view y, size_t n,
                                 const uint64_t *carries);
/* The carry each sub-block starts from, from all sub-block totals in index
 * order: 16 per block (see kernels/scan.cl). */
void weft_scan_carries(weft_reduce_op op, weft_dtype dtype, const uint64_t *subtotals,
                       size_t blocks, uint64_t *carries);

#endif
