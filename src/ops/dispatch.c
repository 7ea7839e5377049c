#include "dispatch.h"
#include "../core/error.h"
#include "../mem/residency.h"
#include "../exec/pieces.h"

#include <stdlib.h>

/* Views of the piece on dev, each array made current there if the primitive
 * reads it: only stale copies move. An operation reading the array beside
 * this one may grow the window between the view and the copy, which then
 * lands in the grown window: a read's view is taken again after its copy. */
static weft_status acquire(const weft_dispatch *d, const weft_piece *p, size_t dev,
                           weft_view *views)
{
    for (size_t i = 0; i < d->narrays; i++) {
        RETURN_ON_ERROR(weft_mem_view(d->arrays[i], dev, p->begin, p->end, &views[i]));
        if (!(d->reads & (1u << i))) continue;
        RETURN_ON_ERROR(weft_mem_make_current(d->arrays[i], dev, p->begin, p->end));
        RETURN_ON_ERROR(weft_mem_view(d->arrays[i], dev, p->begin, p->end, &views[i]));
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
    return run_on(d, p, &d->ctx->devices[p->device]);
}

static weft_status run_host(void *self, weft_piece *p)
{
    const weft_dispatch *d = self;
    return run_on(d, p, &d->ctx->devices[0]);
}

/* Arrays of different element sizes split into different buffers once a
 * device's max allocation cuts pieces (1 GiB on PoCL): then chunk k of one is
 * not chunk k of another, and the whole range runs on the pool instead. */
static int same_split(const weft_dispatch *d)
{
    const weft_array *a0 = d->arrays[0];
    for (size_t i = 1; i < d->narrays; i++) {
        const weft_array *a = d->arrays[i];
        if (a->nchunks != a0->nchunks) return 0;
        for (size_t c = 0; c < a0->nchunks; c++)
            if (a->chunks[c].begin != a0->chunks[c].begin ||
                a->chunks[c].count != a0->chunks[c].count ||
                a->chunks[c].device != a0->chunks[c].device)
                return 0;
    }
    return 1;
}

weft_status weft_dispatch_run(const weft_dispatch *d)
{
    const weft_array *a0 = d->arrays[0];
    weft_piece small[8], *pieces = small;
    int whole = !same_split(d);
    size_t npieces = whole ? 1 : a0->nchunks;
    if (npieces > 8) {
        pieces = calloc(npieces, sizeof *pieces);
        RETURN_IF(!pieces, WEFT_ERR_NOMEM, "cannot allocate the dispatch state");
    }
    /* Each array's chunk runs on its owner, or on the host where that device
     * lacks the primitive. */
    if (whole) {
        pieces[0] = (weft_piece){.device = 0, .begin = 0, .end = a0->n};
    } else {
        for (size_t c = 0; c < npieces; c++) {
            const weft_chunk *ch = &a0->chunks[c];
            const weft_device *dev = &d->ctx->devices[ch->device];
            size_t owner = weft_device_is_host(dev) || !d->native(dev, d->op) ? 0 : ch->device;
            pieces[c] =
                (weft_piece){.device = owner, .begin = ch->begin, .end = ch->begin + ch->count};
        }
    }
    weft_piece_run run = {.ctx = d->ctx,
                          .op = d->async,
                          .narrays = d->narrays,
                          .reads = d->reads,
                          .writes = d->writes,
                          .pieces = pieces,
                          .npieces = npieces,
                          .what = d->name ? d->name : "a built-in operation",
                          .units = "elements",
                          .self = (void *)d,
                          .prepare = prepare,
                          .enqueue = enqueue,
                          .run_host = run_host};
    for (size_t i = 0; i < d->narrays; i++) {
        run.arrays[i] = d->arrays[i];
        run.scale[i] = 1;
    }
    weft_status st = weft_pieces_run(&run);
    if (pieces != small) free(pieces);
    return st;
}
