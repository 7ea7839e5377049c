/* Reading and writing an array from the host: each access takes its turn
 * among the context's operations as an operation of its own, after those
 * submitted before it that use the array and before those submitted after it
 * (they wait while it runs). A read never sees an operation half done, and an
 * operation never changes what a read is copying. */
#include "../mem/array.h"
#include "stream.h"
#include "../core/handles.h"
#include "../core/error.h"
#include "../mem/residency.h"

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

/* The access as an operation on a alone: a read or sync only reads it, so it
 * may run beside other readers. */
static access_op access_of(weft_array *a, weft_status (*run)(weft_op *), size_t offset,
                           size_t count, void *dst, const void *src)
{
    return (access_op){.base = {.run = run,
                                .ctx = a->ctx,
                                .arrays = {a},
                                .narrays = 1,
                                .read_only = run != write_run,
                                .host_access = 1},
                       .offset = offset,
                       .count = count,
                       .dst = dst,
                       .src = src};
}

/* Runs the access on this thread at once when nothing ahead uses the array;
 * else queues a copy of it and waits for its turn. Operations on the array
 * submitted before it are waited for first, in flight too: the access then
 * sees how they ended (one whose device failed lost its results there),
 * instead of copying what the device holds while its failure is unknown. */
static weft_status take_turn(access_op *op, const char *what)
{
    weft_array *a = op->base.arrays[0];
    weft_stream *s = a->ctx->stream;
    RETURN_ON_ERROR(weft_stream_wait_array(s, a, what));
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
enum { QUICK_BYTES = 4096 };

/* Declines (0) unless the host holds the elements: fetching them from a
 * device is for the read's turn. */
static int quick_read(void *arg)
{
    access_op *r = arg;
    weft_array *a = r->base.arrays[0];
    if (!weft_mem_is_current(a, 0, r->offset, r->offset + r->count)) return 0;
    if (r->count > 0) /* dst may be NULL then */
        memcpy(r->dst, weft_array_host_at(a, r->offset), r->count * a->elem_size);
    return 1;
}

/* A failure here leaves the write to its turn, which reports it. */
static int quick_write(void *arg)
{
    return write_run(arg) == WEFT_OK;
}

/* The quick path when the access is small and nothing uses the array, else
 * its turn. A wrap another live wrap overlaps always takes its turn: the
 * quick path sees only this array's own users, not the other wrap's. */
static weft_status access_run(access_op *op, int (*quick)(void *), const char *what)
{
    weft_array *a = op->base.arrays[0];
    if (op->count * a->elem_size <= QUICK_BYTES && !atomic_load(&a->overlaps) &&
        weft_stream_access_idle(a->ctx->stream, &a->pending, quick, op))
        return WEFT_OK;
    return take_turn(op, what);
}

weft_status weft_array_read(weft_array *a, size_t offset, size_t count, void *dst)
{
    RETURN_ON_ERROR(check_range(a, offset, count, dst, "weft_array_read"));
    access_op op = access_of(a, read_run, offset, count, dst, NULL);
    return access_run(&op, quick_read, "weft_array_read");
}

weft_status weft_array_write(weft_array *a, size_t offset, size_t count, const void *src)
{
    RETURN_ON_ERROR(check_range(a, offset, count, src, "weft_array_write"));
    RETURN_IF(a->read_only, WEFT_ERR_INVALID_ARG,
              "weft_array_write: the array is read-only (made by weft_array_wrap_read_only)");
    access_op op = access_of(a, write_run, offset, count, NULL, src);
    return access_run(&op, quick_write, "weft_array_write");
}

weft_status weft_array_sync(weft_array *a)
{
    RETURN_ON_ERROR(weft_array_check(a, "weft_array_sync"));
    access_op op = access_of(a, sync_run, 0, 0, NULL, NULL);
    return take_turn(&op, "weft_array_sync");
}

/* Freeing takes its turn too: after every operation submitted before it that
 * uses the array. */
weft_status weft_array_free(weft_array *a)
{
    if (!a) return WEFT_OK;
    RETURN_ON_ERROR(weft_handle_check_free(a, WEFT_HANDLE_ARRAY, "weft_array_free"));
    RETURN_IF(a->owned, WEFT_ERR_STATE,
              "weft_array_free: %p belongs to a CSV reader (weft_csv_column), which frees it at "
              "weft_csv_next and weft_csv_close",
              (void *)a);
    RETURN_ON_ERROR(weft_stream_wait_array(a->ctx->stream, a, "weft_array_free"));
    if (!weft_handle_remove(a))
        return weft_error_set(WEFT_ERR_STATE, "weft_array_free: %p freed twice", (void *)a);
    weft_ctx_count_handles(a->ctx, -1);
    weft_array_destroy(a);
    return WEFT_OK;
}
