#include "dispatch.h"
#include "../core/error.h"
#include "expr_build.h"
#include "join_text.h"
#include "../mem/residency.h"
#include "../core/clock.h"
#include "../exec/split.h"
#include "../exec/placement.h"
#include "../mem/partition.h"

#include <stdio.h>
#include <stdlib.h>

/* Views of the piece on dev, each array made current there if the primitive
 * reads it: only stale copies move. An operation reading the array beside
 * this one may grow the window between the view and the copy, which then
 * lands in the grown window: a read's view is taken again after its copy. */
static weft_status acquire(const weft_dispatch *d, const weft_piece *p, size_t dev,
                           weft_view *views)
{
    weft_array *const *arrays = d->base->arrays;
    for (size_t i = 0; i < d->base->narrays; i++) {
        int read = (d->reads & (1u << i)) != 0;
        /* On the host a view binds no buffer, so a read's first view would
         * only be taken again: one view after the copy (a lock fewer). */
        if (!read || dev != 0)
            RETURN_ON_ERROR(weft_mem_view(arrays[i], dev, p->begin, p->end, &views[i]));
        if (!read) continue;
        RETURN_ON_ERROR(weft_mem_make_current(arrays[i], dev, p->begin, p->end));
        RETURN_ON_ERROR(weft_mem_view(arrays[i], dev, p->begin, p->end, &views[i]));
    }
    return WEFT_OK;
}

static weft_status run_on(const weft_dispatch *d, const weft_piece *p, weft_device *dev)
{
    weft_view views[WEFT_OP_MAX_ARRAYS];
    RETURN_ON_ERROR(acquire(d, p, dev->index, views));
    return d->run(d->op, dev, views, p->begin, p->end - p->begin);
}

static weft_status prepare(void *self, weft_piece *p)
{
    const weft_dispatch *d = self;
    weft_view views[WEFT_OP_MAX_ARRAYS];
    return acquire(d, p, p->device, views);
}

static weft_status enqueue(void *self, weft_piece *p)
{
    const weft_dispatch *d = self;
    return run_on(d, p, &d->base->ctx->devices[p->device]);
}

static weft_status run_host(void *self, weft_piece *p)
{
    const weft_dispatch *d = self;
    return run_on(d, p, &d->base->ctx->devices[0]);
}

/* Arrays of different element sizes split into different buffers once a
 * device's max allocation cuts pieces (1 GiB on PoCL): then chunk k of one is
 * not chunk k of another, and the whole range runs on the pool instead. */
static int same_split(const weft_dispatch *d)
{
    const weft_array *a0 = d->base->arrays[0];
    for (size_t i = 1; i < d->base->narrays; i++) {
        const weft_array *a = d->base->arrays[i];
        if (a->nchunks != a0->nchunks) return 0;
        for (size_t c = 0; c < a0->nchunks; c++)
            if (a->chunks[c].begin != a0->chunks[c].begin ||
                a->chunks[c].count != a0->chunks[c].count ||
                a->chunks[c].device != a0->chunks[c].device)
                return 0;
    }
    return 1;
}

/* Does dev run the primitive natively (d: the dispatch, as placement asks)? */
static int runs_native(const weft_device *dev, void *d)
{
    const weft_dispatch *dispatch = d;
    return dispatch->compiled
               ? weft_expr_native(dev, dispatch->compiled, dispatch->deferred, dispatch->prim)
               : weft_device_native(dev, dispatch->prim);
}

/* Is dev's code for the expression built (asked only of expressions)? A call
 * that builds it is not timed. */
static int is_built(const weft_device *dev, void *d)
{
    const weft_dispatch *dispatch = d;
    return weft_expr_built(dev, dispatch->compiled);
}

/* Each array's chunk runs on its owner, or on the host where that device
 * lacks the primitive: the static split, with no model to ask. */
static size_t owner_pieces(const weft_dispatch *d, weft_piece *pieces)
{
    const weft_array *a0 = d->base->arrays[0];
    if (!same_split(d)) {
        pieces[0] = (weft_piece){.device = 0, .begin = 0, .end = a0->n};
        return 1;
    }
    for (size_t c = 0; c < a0->nchunks; c++) {
        const weft_chunk *ch = &a0->chunks[c];
        const weft_device *dev = &d->base->ctx->devices[ch->device];
        size_t owner = weft_device_is_host(dev) || !runs_native(dev, (void *)d) ? 0 : ch->device;
        pieces[c] = (weft_piece){.device = owner, .begin = ch->begin, .end = ch->begin + ch->count};
    }
    return a0->nchunks;
}

/* Elements one piece on dev may hold: a window never exceeds the device's
 * largest allocation, for the widest element among the arrays. */
static size_t capacity(const void *self, size_t dev)
{
    const weft_dispatch *d = self;
    if (dev == 0) return SIZE_MAX;
    uint64_t max_bytes = d->base->ctx->devices[dev].info.max_alloc_bytes;
    size_t cap = SIZE_MAX;
    for (size_t i = 0; i < d->base->narrays; i++) {
        size_t elems = (size_t)(max_bytes / d->base->arrays[i]->elem_size);
        if (elems < cap) cap = elems;
    }
    return cap;
}

/* The plan's shares as contiguous ranges on whole granules (so reductions
 * combine the same blocks whatever the shares), cut at each device's
 * capacity. Returns how many pieces; fills pieces when it is not NULL. */
static size_t planned_pieces(const weft_dispatch *d, const weft_perf_plan *plan, size_t n,
                             weft_piece *pieces)
{
    weft_split split = {.first = 0,
                        .last = n,
                        .granule = WEFT_GRANULE,
                        .device = plan->device,
                        .share = plan->share,
                        .count = plan->count,
                        .capacity = capacity,
                        .self = d};
    return weft_split_pieces(&split, pieces);
}

/* The operation, when it may return with its device work running. */
static weft_op *leaves_running(const weft_dispatch *d)
{
    return d->may_leave_running && weft_op_async(d->base) ? d->base : NULL;
}

static void place(const weft_dispatch *d, weft_place_result *placed)
{
    char identity[64];
    const char *kind = d->kind ? d->kind : d->name ? d->name : "operation";
    const char *id = d->compiled ? d->compiled->key : NULL;
    if (!id) {
        weft_join_text(identity, sizeof identity,
                       (const char *const[]){kind, ":", weft_dtype_name(d->base->arrays[0]->dtype)},
                       3);
        id = identity;
    }
    weft_place_request req = {.identity = id,
                              .kind = kind,
                              .text = d->compiled ? d->compiled->expr->text : NULL,
                              .n = d->base->arrays[0]->n,
                              .arrays = d->base->arrays,
                              .narrays = d->base->narrays,
                              .reads = d->reads,
                              .native = runs_native,
                              .op = (void *)d,
                              .built = d->compiled ? is_built : NULL,
                              .async = leaves_running(d) != NULL,
                              .building = d->deferred != 0};
    weft_place(d->base->ctx, &req, placed);
}

static weft_status dispatch(const weft_dispatch *d)
{
    weft_ctx *ctx = d->base->ctx;
    const weft_array *a0 = d->base->arrays[0];
    weft_place_result placed;
    place(d, &placed);
    const weft_perf_plan *plan = &placed.plan;
    weft_piece small[8], *pieces = small;
    /* One device that holds it all (most small calls): its one piece, as
     * the split would cut it, without splitting. */
    int whole = plan->count == 1 && plan->share[0] > 0 && capacity(d, plan->device[0]) >= a0->n;
    size_t npieces = whole         ? 1
                     : plan->count ? planned_pieces(d, plan, a0->n, NULL)
                                   : (same_split(d) ? a0->nchunks : 1);
    if (npieces > 8) {
        pieces = calloc(npieces, sizeof *pieces);
        RETURN_IF(!pieces, WEFT_ERR_NOMEM, "cannot allocate the dispatch state");
    }
    if (whole)
        pieces[0] = (weft_piece){.device = plan->device[0], .begin = 0, .end = a0->n};
    else if (plan->count)
        planned_pieces(d, plan, a0->n, pieces);
    else
        owner_pieces(d, pieces);
    /* A call that builds a device's code, or leaves device work running, is
     * not the device's time. */
    int timed = 1;
    for (size_t k = 0; k < npieces && timed; k++) {
        size_t dev = pieces[k].device;
        if (dev == 0) continue;
        if (leaves_running(d) || (d->compiled && !is_built(&ctx->devices[dev], (void *)d)))
            timed = 0;
    }
    weft_piece_run run = {.ctx = ctx,
                          .op = leaves_running(d),
                          .arrays = d->base->arrays,
                          .narrays = d->base->narrays,
                          .reads = d->reads,
                          .writes = ~d->base->read_only & ((1u << d->base->narrays) - 1),
                          .pieces = pieces,
                          .npieces = npieces,
                          .what = d->name ? d->name : "a built-in operation",
                          .units = "elements",
                          .self = (void *)d,
                          .prepare = prepare,
                          .enqueue = enqueue,
                          .run_host = run_host};
    for (size_t i = 0; i < d->base->narrays; i++)
        run.scale[i] = 1;
    weft_status st = weft_pieces_run(&run);
    double seconds = timed && st == WEFT_OK ? weft_now() - placed.started : -1;
    weft_place_done(ctx, &placed, a0->n, pieces, npieces, seconds);
    if (pieces != small) free(pieces);
    return st;
}

weft_status weft_dispatch_run(const weft_dispatch *d)
{
    weft_dispatch run = *d;
    if (run.compiled) run.deferred = weft_expr_builds_defer(d->base->ctx, run.compiled, run.prim);
    return dispatch(&run);
}
