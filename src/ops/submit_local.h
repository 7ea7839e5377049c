/* Submitting an operation built in the caller's memory (its stack): a
 * synchronous call with nothing queued ahead runs it in place, with no heap
 * allocation for the op; any other call submits a heap copy. Small arrays
 * are all per-call overhead, and the op's allocation was a large part. */
#ifndef WEFT_OPS_SUBMIT_LOCAL_H
#define WEFT_OPS_SUBMIT_LOCAL_H

#include "../exec/stream.h"

typedef struct weft_local_op {
    weft_op *op; /* its weft_op comes first; op->destroy frees a heap copy */
    size_t size; /* bytes of the whole op */
    /* Points a copy's fields back into itself (NULL: it has no such field). */
    void (*relink)(weft_op *copy, const weft_op *from);
    /* Frees what run allocated, not the op (NULL: nothing). */
    void (*release)(weft_op *op);
} weft_local_op;

/* As weft_stream_submit, for an op in the caller's memory: it is never freed
 * here, and a copy takes its place whenever it cannot run at once. */
weft_status weft_submit_local(weft_stream *stream, const weft_local_op *local,
                              weft_future **future);

/* The base of an operation that reads in and writes out. */
static inline weft_op weft_op_in_out(weft_status (*run)(weft_op *), weft_ctx *ctx, weft_array *in,
                                     weft_array *out)
{
    return (weft_op){.run = run, .ctx = ctx, .arrays = {in, out}, .narrays = 2, .read_only = 1};
}

#endif
