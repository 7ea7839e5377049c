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
    /* Does dev run this primitive natively (else its chunks run on the host)?
     * NULL: whenever dev runs prim (weft_device_native). */
    int (*native)(const weft_device *dev, void *op);
    weft_prim prim;
    /* Runs (or enqueues) the primitive on count elements from index begin. */
    weft_status (*run)(void *op, weft_device *dev, const weft_view *views, size_t begin,
                       size_t count);
    void *op;
    const char *name; /* the public call, for messages */
    /* What the cost models know the operation by (exec/placement.h): an
     * identity unique per operation and dtypes (NULL: kind and the first
     * array's dtype), its kind and its expression (NULL for primitives). */
    const char *identity;
    const char *kind;
    const char *text;
    /* Optional: 0 while dev's code for the operation is not built (a call
     * that builds it is not timed). */
    int (*built)(const weft_device *dev, void *op);
    /* 1: a device's code for it builds in the background during this call,
     * on the cores the pool runs on (the pool's time is not taken). */
    int building;
} weft_dispatch;

weft_status weft_dispatch_run(const weft_dispatch *d);

#endif
