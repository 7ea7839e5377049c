#include "dispatch.h"
#include "../error.h"
#include "../mem/residency.h"

#include <stdlib.h>
#include <string.h>

enum chunk_state {
    ON_HOST,      /* owned by the host, or its device lacks the primitive */
    LAUNCHED,     /* enqueued on its device */
    FAILED_EARLY, /* the device refused it before any work started */
    FAILED_LATE   /* the device failed after the kernel may have run */
};

typedef struct chunk_run {
    enum chunk_state state;
} chunk_run;

static const weft_chunk *chunk_at(const weft_dispatch *d, size_t c)
{
    return &d->arrays[0]->chunks[c];
}

/* Views of chunk c on dev, each array made current there if the primitive
 * reads it: only stale copies move. */
static weft_status acquire(const weft_dispatch *d, size_t c, size_t dev, weft_view *views)
{
    const weft_chunk *ch = chunk_at(d, c);
    for (size_t i = 0; i < d->narrays; i++) {
        RETURN_ON_ERROR(
            weft_mem_view(d->arrays[i], dev, ch->begin, ch->begin + ch->count, &views[i]));
        if (d->reads & (1u << i))
            RETURN_ON_ERROR(
                weft_mem_make_current(d->arrays[i], dev, ch->begin, ch->begin + ch->count));
    }
    return WEFT_OK;
}

static weft_status wrote(const weft_dispatch *d, size_t c, size_t dev)
{
    const weft_chunk *ch = chunk_at(d, c);
    for (size_t i = 0; i < d->narrays; i++)
        if (d->writes & (1u << i))
            RETURN_ON_ERROR(weft_mem_wrote(d->arrays[i], dev, ch->begin, ch->begin + ch->count));
    return WEFT_OK;
}

static weft_status launch_on_device(const weft_dispatch *d, size_t c, weft_device *dev)
{
    weft_view views[WEFT_OP_MAX_ARRAYS];
    RETURN_ON_ERROR(acquire(d, c, dev->index, views));
    const weft_chunk *ch = chunk_at(d, c);
    weft_stat_add(d->ctx, WEFT_STAT_TASKS, 1);
    return d->run(d->op, dev, views, ch->begin, ch->count);
}

static weft_status run_on_host(const weft_dispatch *d, size_t c)
{
    weft_view views[WEFT_OP_MAX_ARRAYS];
    RETURN_ON_ERROR(acquire(d, c, 0, views));
    const weft_chunk *ch = chunk_at(d, c);
    weft_stat_add(d->ctx, WEFT_STAT_TASKS, 1);
    RETURN_ON_ERROR(d->run(d->op, &d->ctx->devices[0], views, ch->begin, ch->count));
    return wrote(d, c, 0);
}

/* A device failed after its kernel may have run. Its copies of what it was
 * writing are lost; the chunk can be redone on the host only if no array it
 * updates in place was written in host memory itself (zero-copy), and every
 * input is still current somewhere (residency checks that when it re-reads). */
static int lose_and_check(const weft_dispatch *d, size_t c, const weft_device *dev)
{
    const weft_chunk *ch = chunk_at(d, c);
    int safe = 1;
    for (size_t i = 0; i < d->narrays; i++) {
        unsigned bit = 1u << i;
        if (!(d->writes & bit)) continue;
        int host_damaged =
            weft_mem_lost(d->arrays[i], dev->index, ch->begin, ch->begin + ch->count);
        if (host_damaged && (d->reads & bit)) safe = 0;
    }
    return safe;
}

static void report(const weft_dispatch *d, const chunk_run *runs)
{
    const weft_array *a = d->arrays[0];
    weft_piece_report *pieces = calloc(a->nchunks, sizeof *pieces);
    if (!pieces) return;
    size_t count = 0;
    for (size_t c = 0; c < a->nchunks; c++) {
        const weft_chunk *ch = &a->chunks[c];
        int fell_back = runs[c].state == FAILED_EARLY || runs[c].state == FAILED_LATE;
        int native = runs[c].state != ON_HOST || ch->device == 0;
        size_t device = native || fell_back ? ch->device : 0;
        weft_piece_report *last = count ? &pieces[count - 1] : NULL;
        if (last && last->device == device && last->fell_back == fell_back &&
            last->end == ch->begin) {
            last->end = ch->begin + ch->count;
            continue;
        }
        pieces[count++] = (weft_piece_report){device, ch->begin, ch->begin + ch->count, fell_back};
    }
    weft_ctx_set_pieces(d->ctx, pieces, count);
    free(pieces);
}

/* Arrays of different element sizes split into different buffers once a
 * device's max allocation cuts pieces (1 GiB on PoCL): then chunk k of one is
 * not chunk k of another. */
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

static weft_status leave_running(const weft_dispatch *d, weft_device *dev, chunk_run *runs)
{
    size_t before = d->async->nwaits;
    RETURN_ON_ERROR(weft_op_wait_for(d->async, dev, d->ctx->ndevices));
    d->async->written |= d->writes; /* the dispatch's arrays are the op's, in order */
    void *event = d->async->nwaits > before ? d->async->waits[before].event : NULL;
    for (size_t i = 0; i < d->narrays; i++)
        weft_mem_busy(d->arrays[i], dev->index, event);
    const weft_array *a0 = d->arrays[0];
    for (size_t c = 0; c < a0->nchunks; c++)
        if (a0->chunks[c].device == dev->index && runs[c].state == LAUNCHED)
            RETURN_ON_ERROR(wrote(d, c, dev->index));
    return WEFT_OK;
}

/* The rare case above runs on the pool over the whole range: correct, slower. */
static weft_status run_all_on_host(const weft_dispatch *d)
{
    size_t n = d->arrays[0]->n;
    weft_view views[WEFT_OP_MAX_ARRAYS];
    for (size_t i = 0; i < d->narrays; i++) {
        RETURN_ON_ERROR(weft_mem_view(d->arrays[i], 0, 0, n, &views[i]));
        if (d->reads & (1u << i)) RETURN_ON_ERROR(weft_mem_make_current(d->arrays[i], 0, 0, n));
    }
    weft_stat_add(d->ctx, WEFT_STAT_TASKS, 1);
    RETURN_ON_ERROR(d->run(d->op, &d->ctx->devices[0], views, 0, n));
    for (size_t i = 0; i < d->narrays; i++)
        if (d->writes & (1u << i)) RETURN_ON_ERROR(weft_mem_wrote(d->arrays[i], 0, 0, n));
    weft_piece_report whole = {0, 0, n, 0};
    weft_ctx_set_pieces(d->ctx, &whole, 1);
    return WEFT_OK;
}

weft_status weft_dispatch_run(const weft_dispatch *d)
{
    weft_ctx *ctx = d->ctx;
    const weft_array *a0 = d->arrays[0];
    size_t nchunks = a0->nchunks;
    if (!same_split(d)) return run_all_on_host(d);
    /* Small arrays live in one host chunk: no bookkeeping to allocate. */
    if (nchunks == 1 && a0->chunks[0].device == 0) {
        RETURN_ON_ERROR(run_on_host(d, 0));
        weft_piece_report whole = {0, 0, a0->n, 0};
        weft_ctx_set_pieces(ctx, &whole, 1);
        return WEFT_OK;
    }
    chunk_run *runs = calloc(nchunks, sizeof *runs);
    unsigned char *used = calloc(ctx->ndevices, 1);
    weft_status st = WEFT_OK;
    GOTO_ERROR_IF(!runs || !used, WEFT_ERR_NOMEM, "cannot allocate the dispatch state");

    /* 1. Enqueue every device chunk, so devices work while the host does. */
    for (size_t c = 0; c < nchunks; c++) {
        weft_device *dev = &ctx->devices[a0->chunks[c].device];
        if (weft_device_is_host(dev) || !d->native(dev, d->op)) continue;
        /* Even a failed launch may have queued work: the device is waited
         * for below either way. */
        used[dev->index] = 1;
        if (launch_on_device(d, c, dev) == WEFT_OK) {
            runs[c].state = LAUNCHED;
        } else {
            runs[c].state = FAILED_EARLY;
            weft_log(&ctx->log, WEFT_LOG_WARN,
                     "device %zu failed on elements [%zu, %zu): %s; rerunning on the host pool",
                     dev->index, a0->chunks[c].begin, a0->chunks[c].begin + a0->chunks[c].count,
                     weft_last_error());
        }
    }
    /* 2. Host chunks. */
    for (size_t c = 0; c < nchunks; c++)
        if (runs[c].state == ON_HOST) GOTO_ERROR_ON(run_on_host(d, c));
    /* 3. Wait for the devices; a failure condemns every chunk it ran. An
     * asynchronous op instead leaves a marker per device to the stream, and
     * its outputs are current there from now on (later work on the same
     * queue runs after it; anyone else waits for the marker). */
    for (size_t dev_index = 1; dev_index < ctx->ndevices; dev_index++) {
        if (!used[dev_index]) continue;
        weft_device *dev = &ctx->devices[dev_index];
        if (d->async && leave_running(d, dev, runs) == WEFT_OK) continue;
        int ok = dev->ops.finish(dev) == WEFT_OK;
        if (!ok)
            weft_log(&ctx->log, WEFT_LOG_WARN,
                     "device %zu failed: %s; rerunning its pieces on the host pool", dev_index,
                     weft_last_error());
        for (size_t c = 0; c < nchunks; c++) {
            if (a0->chunks[c].device != dev_index) continue;
            if (runs[c].state != LAUNCHED) continue;
            if (ok)
                GOTO_ERROR_ON(wrote(d, c, dev_index));
            else /* redone on the host below, if that is still possible */
                runs[c].state = lose_and_check(d, c, dev) ? FAILED_EARLY : FAILED_LATE;
        }
    }
    /* 4. Rerun what the devices could not do. */
    for (size_t c = 0; c < nchunks; c++) {
        if (runs[c].state != FAILED_EARLY && runs[c].state != FAILED_LATE) continue;
        const weft_chunk *ch = &a0->chunks[c];
        GOTO_ERROR_IF(runs[c].state == FAILED_LATE, WEFT_ERR_DEVICE,
                      "device %zu failed after it may have updated elements [%zu, %zu) in place; "
                      "their previous values are gone, so the host cannot redo them",
                      ch->device, ch->begin, ch->begin + ch->count);
        weft_stat_add(ctx, WEFT_STAT_RERUNS, 1);
        st = run_on_host(d, c);
        GOTO_ERROR_IF(
            st != WEFT_OK, WEFT_ERR_DEVICE,
            "device %zu failed and rerunning elements [%zu, %zu) on the host failed too: %s",
            ch->device, ch->begin, ch->begin + ch->count, weft_last_error());
    }
    report(d, runs);
error:
    free(runs);
    free(used);
    return st;
}
