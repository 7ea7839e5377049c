#include "dispatch.h"
#include "../error.h"

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
    unsigned host_was_valid; /* bit i: arrays[i]'s host copy was current before */
} chunk_run;

static void views_at(const weft_dispatch *d, size_t c, int on_device, weft_view *views)
{
    for (size_t i = 0; i < d->narrays; i++) {
        const weft_chunk *ch = &d->arrays[i]->chunks[c];
        views[i].host = weft_array_host_at(d->arrays[i], ch->begin);
        views[i].buffer = on_device ? ch->buffer : NULL;
    }
}

static weft_status launch_on_device(const weft_dispatch *d, size_t c, weft_device *dev)
{
    weft_view views[WEFT_OP_MAX_ARRAYS];
    for (size_t i = 0; i < d->narrays; i++)
        RETURN_ON_ERROR(weft_array_chunk_to_device(d->arrays[i], c));
    views_at(d, c, 1, views);
    const weft_chunk *ch = &d->arrays[0]->chunks[c];
    return d->run(d->op, dev, views, ch->begin, ch->count);
}

static weft_status run_on_host(const weft_dispatch *d, size_t c)
{
    const weft_chunk *ch = &d->arrays[0]->chunks[c];
    for (size_t i = 0; i < d->narrays; i++)
        if (d->reads & (1u << i))
            RETURN_ON_ERROR(weft_array_to_host(d->arrays[i], ch->begin, ch->begin + ch->count));
    weft_view views[WEFT_OP_MAX_ARRAYS];
    views_at(d, c, 0, views);
    weft_device *host = &d->ctx->devices[0];
    RETURN_ON_ERROR(d->run(d->op, host, views, ch->begin, ch->count));
    for (size_t i = 0; i < d->narrays; i++)
        if (d->writes & (1u << i))
            weft_array_host_wrote(d->arrays[i], ch->begin, ch->begin + ch->count);
    return WEFT_OK;
}

/* A chunk whose device failed after its kernel may have run can be redone on
 * the host only if no array it updates in place lost its pre-operation values. */
static int safe_to_rerun(const weft_dispatch *d, size_t c, const chunk_run *r)
{
    if (r->state != FAILED_LATE) return 1;
    for (size_t i = 0; i < d->narrays; i++) {
        unsigned bit = 1u << i;
        if ((d->writes & bit) && (d->reads & bit) &&
            (d->arrays[i]->chunks[c].zero_copy || !(r->host_was_valid & bit)))
            return 0;
    }
    return 1;
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

/* The rare case above runs on the pool over the whole range: correct, slower. */
static weft_status run_all_on_host(const weft_dispatch *d)
{
    size_t n = d->arrays[0]->n;
    weft_view views[WEFT_OP_MAX_ARRAYS];
    for (size_t i = 0; i < d->narrays; i++) {
        if (d->reads & (1u << i)) RETURN_ON_ERROR(weft_array_to_host(d->arrays[i], 0, n));
        if ((d->writes & (1u << i)) && !(d->reads & (1u << i)))
            RETURN_ON_ERROR(weft_array_to_host(d->arrays[i], 0, n)); /* keep what is not written */
        views[i] = (weft_view){d->arrays[i]->host, NULL};
    }
    RETURN_ON_ERROR(d->run(d->op, &d->ctx->devices[0], views, 0, n));
    for (size_t i = 0; i < d->narrays; i++)
        if (d->writes & (1u << i)) weft_array_host_wrote(d->arrays[i], 0, n);
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
        for (size_t i = 0; i < d->narrays; i++)
            if (d->arrays[i]->chunks[c].host_valid) runs[c].host_was_valid |= 1u << i;
        if (weft_device_is_host(dev) || !d->native(dev, d->op)) continue;
        /* Even a failed launch may have queued transfers that read host
         * memory: the device is finished below either way. */
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
    /* 3. Wait for the devices; a failure condemns every chunk it ran. */
    for (size_t dev_index = 1; dev_index < ctx->ndevices; dev_index++) {
        if (!used[dev_index]) continue;
        weft_device *dev = &ctx->devices[dev_index];
        int ok = dev->ops.finish(dev) == WEFT_OK;
        if (!ok)
            weft_log(&ctx->log, WEFT_LOG_WARN,
                     "device %zu failed: %s; rerunning its pieces on the host pool", dev_index,
                     weft_last_error());
        for (size_t c = 0; c < nchunks; c++) {
            if (a0->chunks[c].device != dev_index) continue;
            if (!ok) /* its copies are suspect; the host's, where current, win */
                for (size_t i = 0; i < d->narrays; i++)
                    if (d->arrays[i]->chunks[c].host_valid)
                        d->arrays[i]->chunks[c].device_valid = 0;
            if (runs[c].state != LAUNCHED) continue;
            if (!ok) {
                runs[c].state = FAILED_LATE;
                continue;
            }
            for (size_t i = 0; i < d->narrays; i++) {
                if (!(d->writes & (1u << i))) continue;
                d->arrays[i]->chunks[c].device_valid = 1;
                d->arrays[i]->chunks[c].host_valid = 0;
            }
        }
    }
    /* 4. Rerun what the devices could not do. */
    for (size_t c = 0; c < nchunks; c++) {
        if (runs[c].state != FAILED_EARLY && runs[c].state != FAILED_LATE) continue;
        const weft_chunk *ch = &a0->chunks[c];
        GOTO_ERROR_IF(!safe_to_rerun(d, c, &runs[c]), WEFT_ERR_DEVICE,
                      "device %zu failed after it may have updated elements [%zu, %zu) in place; "
                      "their previous values are gone, so the host cannot redo them",
                      ch->device, ch->begin, ch->begin + ch->count);
        for (size_t i = 0; i < d->narrays; i++)
            if (runs[c].state == FAILED_LATE && (runs[c].host_was_valid & (1u << i)))
                d->arrays[i]->chunks[c].host_valid = 1;
        st = run_on_host(d, c);
        GOTO_ERROR_IF(
            st != WEFT_OK, WEFT_ERR_DEVICE,
            "device %zu failed and rerunning elements [%zu, %zu) on the host failed too: %s",
            ch->device, ch->begin, ch->begin + ch->count, weft_last_error());
        for (size_t i = 0; i < d->narrays; i++)
            if (d->writes & (1u << i)) d->arrays[i]->chunks[c].device_valid = 0;
    }
    report(d, runs);
error:
    free(runs);
    free(used);
    return st;
}
