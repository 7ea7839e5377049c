/* Running one primitive over partitioned arrays: each chunk on the device
 * that owns it, host chunks on the pool meanwhile, and any chunk whose device
 * fails rerun on the pool. Device-agnostic: the primitive is one callback. */
#ifndef WEFT_DISPATCH_H
#define WEFT_DISPATCH_H

#include "../exec/stream.h"
#include "../mem/array.h"

typedef struct weft_dispatch {
    /* The operation: its context and arrays (of equal size), of which the
     * primitive writes those it does not only read (base->read_only). */
    weft_op *base;
    unsigned reads; /* bit i: the primitive reads base->arrays[i] */
    /* 1: an asynchronous operation may return with device work running (its
     * result is all in its arrays), handed to the stream through base's
     * waits. 0: the operation needs its pieces done before it goes on (a
     * reduction combines their partials). */
    int may_leave_running;
    weft_prim prim;
    /* An expression's operation: its code, of which a device runs its chunks
     * natively once built (weft_expr_native). NULL: a primitive, native
     * wherever the device runs prim (weft_device_native). */
    weft_compiled *compiled;
    /* Set by weft_dispatch_run: the devices whose part of an expression the
     * pool runs this call while their code builds (weft_expr_builds_defer). */
    uint64_t deferred;
    /* Runs (or enqueues) the primitive on count elements from index begin. */
    weft_status (*run)(void *op, weft_device *dev, const weft_view *views, size_t begin,
                       size_t count);
    void *op;
    const char *name; /* the public call, for messages */
    /* What the cost models know the operation by (exec/placement.h): its
     * kind; an expression also by its cache key and text, a primitive by its
     * kind and the first array's dtype. */
    const char *kind;
} weft_dispatch;

weft_status weft_dispatch_run(const weft_dispatch *d);

/* A primitive's operation (no expression) whose result is all in its
 * arrays: run over chunks of base's arrays, reading those in reads. */
static inline weft_status weft_dispatch_prim(weft_op *base, weft_prim prim, unsigned reads,
                                             weft_status (*run)(void *, weft_device *,
                                                                const weft_view *, size_t, size_t),
                                             const char *name, const char *kind)
{
    weft_dispatch d = {.base = base,
                       .may_leave_running = 1,
                       .reads = reads,
                       .prim = prim,
                       .run = run,
                       .op = base,
                       .name = name,
                       .kind = kind};
    return weft_dispatch_run(&d);
}

#endif
