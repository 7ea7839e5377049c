/* Reading and writing an array from the host: each access takes its turn
 * among the context's operations as an operation of its own, after those
 * submitted before it that use the array and before those submitted after it
 * (they wait while it runs). A read never sees an operation half done, and an
 * operation never changes what a read is copying. */
#include "array.h"
#include "error.h"
#include "mem/residency.h"

#include <stdlib.h>
#include <string.h>

typedef struct access_op {
    weft_op base;
    size_t offset, count;
    void *dst;       /* a read's destination */
    const void *src; /* a write's source */
} access_op;

static weft_status read_run(weft_op *op)
{
    access_op *r = (access_op *)op;
    weft_array *a = op->arrays[0];
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, r->offset, r->offset + r->count));
    if (r->count > 0) memcpy(r->dst, weft_array_host_at(a, r->offset), r->count * a->elem_size);
    return WEFT_OK;
}

static weft_status write_run(weft_op *op)
{
    access_op *w = (access_op *)op;
    weft_array *a = op->arrays[0];
    if (w->count == 0) return WEFT_OK;
    weft_view host; /* devices done with the elements first */
    RETURN_ON_ERROR(weft_mem_view(a, 0, w->offset, w->offset + w->count, &host));
    memcpy(host.host, w->src, w->count * a->elem_size);
    return weft_mem_wrote(a, 0, w->offset, w->offset + w->count);
}

static weft_status sync_run(weft_op *op)
{
    weft_array *a = op->arrays[0];
    return weft_mem_make_current(a, 0, 0, a->n);
}

/* Runs the access on this thread at once when nothing ahead uses the array;
 * else queues a copy of it and waits for its turn. Operations on the array
 * submitted before it are waited for first, in flight too: the access then
 * sees how they ended (one whose device failed lost its results there),
 * instead of copying what the device holds while its failure is unknown. */
static weft_status take_turn(weft_array *a, access_op *op, weft_status (*run)(weft_op *),
                             const char *what)
{
    RETURN_ON_ERROR(weft_stream_wait_array(a->ctx->stream, a, what));
    op->base.run = run;
    op->base.ctx = a->ctx;
    op->base.arrays[0] = a;
    op->base.narrays = 1;
    op->base.read_only = run != write_run; /* reads may run beside other readers */
    weft_stream *s = a->ctx->stream;
    weft_status status;
    if (weft_stream_run_inline(s, &op->base, &status)) return status;
    RETURN_IF(weft_stream_in_operation(), WEFT_ERR_STATE,
              "%s: called from inside a running operation (a host_fn) on data that operation "
              "or one queued behind it uses: it would wait for itself",
              what);
    access_op *queued = malloc(sizeof *queued);
    RETURN_IF(!queued, WEFT_ERR_NOMEM, "%s: cannot allocate its turn", what);
    *queued = *op;
    return weft_stream_submit(s, &queued->base, NULL);
}

static weft_status check_range(const weft_array *a, size_t offset, size_t count, const void *p,
                               const char *what)
{
    RETURN_ON_ERROR(weft_array_check(a, what));
    RETURN_IF(!p && count > 0, WEFT_ERR_NULL, "%s: buffer is NULL", what);
    RETURN_IF(offset > a->n || count > a->n - offset, WEFT_ERR_RANGE,
              "%s: elements [%zu, %zu + %zu) outside an array of %zu", what, offset, offset, count,
              a->n);
    return WEFT_OK;
}

/* A small read of an array no operation uses, current on the host, is
 * copied under the stream's lock: no operation can start on the array or
 * fail on it meanwhile, and the read costs one lock instead of an operation's
 * turn (about 40 ns instead of 105 for one element). Only small ones: the
 * stream waits for the copy. A small write of such an array likewise (the
 * devices' copies go stale; none is in use). */
enum { QUICK_READ_BYTES = 4096, QUICK_WRITE_BYTES = 4096 };

typedef struct quick_read {
    weft_array *a;
    size_t offset, count;
    void *dst;
} quick_read;

static int quick_copy(void *arg)
{
    quick_read *q = arg;
    if (!weft_mem_is_current(q->a, 0, q->offset, q->offset + q->count)) return 0;
    if (q->count > 0) /* dst may be NULL then */
        memcpy(q->dst, weft_array_host_at(q->a, q->offset), q->count * q->a->elem_size);
    return 1;
}

weft_status weft_array_read(weft_array *a, size_t offset, size_t count, void *dst)
{
    RETURN_ON_ERROR(check_range(a, offset, count, dst, "weft_array_read"));
    quick_read q = {a, offset, count, dst};
    if (count * a->elem_size <= QUICK_READ_BYTES &&
        weft_stream_access_idle(a->ctx->stream, &a->pending, quick_copy, &q))
        return WEFT_OK;
    access_op op = {.offset = offset, .count = count, .dst = dst};
    return take_turn(a, &op, read_run, "weft_array_read");
}

/* A failure here leaves the write to its turn, which reports it. */
static int quick_write(void *arg)
{
    return write_run(arg) == WEFT_OK;
}

weft_status weft_array_write(weft_array *a, size_t offset, size_t count, const void *src)
{
    RETURN_ON_ERROR(check_range(a, offset, count, src, "weft_array_write"));
    access_op op = {
        .base = {.arrays = {a}, .narrays = 1}, .offset = offset, .count = count, .src = src};
    if (count * a->elem_size <= QUICK_WRITE_BYTES &&
        weft_stream_access_idle(a->ctx->stream, &a->pending, quick_write, &op))
        return WEFT_OK;
    return take_turn(a, &op, write_run, "weft_array_write");
}

weft_status weft_array_sync(weft_array *a)
{
    RETURN_ON_ERROR(weft_array_check(a, "weft_array_sync"));
    access_op op = {0};
    return take_turn(a, &op, sync_run, "weft_array_sync");
}
