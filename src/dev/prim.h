/* What the primitives of the device table (backend.h) take: a compiled
 * expression and one call's bindings, per-block partial results, and the
 * reference implementation of each primitive (src/dev/ref/, BLIS's
 * ref_kernels), which the host driver runs and every other driver matches. */
#ifndef WEFT_DEV_PRIM_H
#define WEFT_DEV_PRIM_H

#include "../expr/expr.h"
#include "device.h"

/* Arrays one primitive call sees at most. */
#define WEFT_PRIM_MAX_VIEWS 16

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
    /* Per device index: cl_kernel, NULL until built, or WEFT_KERNEL_FAILED.
     * Atomic: the driver builds it on first use while other operations ask
     * whether the device runs the expression. */
    void *_Atomic *kernels;
    struct weft_compiled *next;
} weft_compiled;

/* One call: the compiled expression and this call's bindings. */
typedef struct weft_expr_call {
    const weft_compiled *compiled;
    const weft_bind *binds;  /* per binding (scalars' values) */
    const int *view_of_bind; /* per binding: index into the dispatch views; -1 for scalars */
    size_t elem_of_view[WEFT_PRIM_MAX_VIEWS];
} weft_expr_call;

/* Where a reference primitive runs its chunks. ref/ sits below the pool and
 * the context, so it names neither: the driver that runs it (the host's)
 * passes the context's pool and its parallel_for. fn(arg, begin, end) over
 * [0, n) in chunks of grain, on up to width threads (<= 0: all). */
typedef struct weft_pool weft_pool;
typedef void (*weft_prim_range_fn)(void *arg, size_t begin, size_t end);
typedef struct weft_prim_threads {
    void (*parallel_for)(weft_pool *pool, size_t n, size_t grain, int width, weft_prim_range_fn fn,
                         void *arg);
    weft_pool *pool;
    size_t min_elements; /* fewer elements than this run on one thread */
} weft_prim_threads;

/* The reference implementations (ref/), which the host driver's table runs
 * and every other driver matches bit for bit. */
weft_status weft_ref_map_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                              const weft_view *views, size_t begin, size_t n);
weft_status weft_ref_reduce_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                                 const weft_view *views, size_t begin, size_t n,
                                 weft_partial *partials);

/* Scans (ref/scan_host.c). */
weft_status weft_ref_scan_totals(const weft_prim_threads *threads, weft_reduce_op op,
                                 weft_dtype dtype, weft_view x, size_t n, uint64_t *subtotals);
weft_status weft_ref_scan_apply(const weft_prim_threads *threads, weft_reduce_op op,
                                weft_dtype dtype, int exclusive, weft_view x, weft_view y, size_t n,
                                const uint64_t *carries);
/* The carry each sub-block starts from, from all sub-block totals in index
 * order: 16 per block (see kernels/scan.cl). */
void weft_scan_carries(weft_reduce_op op, weft_dtype dtype, const uint64_t *subtotals,
                       size_t blocks, uint64_t *carries);

#endif
