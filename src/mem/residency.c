#include "residency.h"
#include "copy_records.h"
#include "../core/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What weft_array_wrap needs of a user pointer for a device to work on it in
 * place (PoCL asks for 128 bytes). */
#define SHARE_ALIGN 128

static weft_device *device_of(const weft_array *a, size_t dev)
{
    return &a->ctx->devices[dev];
}

/* Where element index lies in window w's buffer, in bytes. */
static size_t byte_offset(const weft_array *a, const weft_window *w, size_t index)
{
    return (index - w->lo) * a->elem_size;
}

int weft_mem_shares_host(const weft_array *a, size_t dev)
{
    return dev == 0 || a->stores[dev].shares_host;
}

/* In a context with no device but the host, the host storage is the only
 * copy and always current: only a device's failure takes elements off
 * host_valid (wrote and lost below). Then nothing is ever settled or moved,
 * and a view or a read needs no lock. */
static int host_only(const weft_array *a)
{
    return a->ctx->ndevices == 1;
}

static weft_ranges *valid_set(weft_array *a, size_t dev)
{
    return weft_mem_shares_host(a, dev) ? &a->host_valid : &a->stores[dev].valid;
}

weft_status weft_mem_init(weft_array *a)
{
    weft_ctx *ctx = a->ctx;
    a->stores = calloc(ctx->ndevices, sizeof *a->stores);
    RETURN_IF(!a->stores, WEFT_ERR_NOMEM, "cannot allocate the array's device stores");
    pthread_mutex_init(&a->lock, NULL);
    int aligned = (uintptr_t)a->host % SHARE_ALIGN == 0;
    for (size_t d = 1; d < ctx->ndevices; d++)
        a->stores[d].shares_host = ctx->zero_copy && ctx->devices[d].info.zero_copy && aligned;
    return weft_ranges_add(&a->host_valid, 0, a->n);
}

static void window_release(weft_device *dev, weft_window *w)
{
    for (size_t s = 0; s < w->nsubs; s++)
        dev->ops.buffer_release(dev, w->subs[s].buffer);
    free(w->subs);
    if (w->buffer) dev->ops.buffer_release(dev, w->buffer);
    *w = (weft_window){0};
}

static void busy_locked(weft_array *a, size_t dev, void *event)
{
    weft_store *s = &a->stores[dev];
    if (dev == 0 || !event) return;
    weft_device *d = device_of(a, dev);
    void **slot = s->shares_host ? &s->busy : &s->used;
    if (*slot) d->ops.event_release(d, *slot);
    d->ops.event_retain(d, event);
    *slot = event;
}

void weft_mem_busy(weft_array *a, size_t dev, void *event)
{
    pthread_mutex_lock(&a->lock);
    busy_locked(a, dev, event);
    pthread_mutex_unlock(&a->lock);
}

static weft_status wait_and_clear(weft_array *a, size_t dev, void **event)
{
    weft_device *d = device_of(a, dev);
    weft_status st = d->ops.wait(d, *event);
    d->ops.event_release(d, *event);
    *event = NULL;
    return st;
}

/* A copy into dev came from the host or from a peer, which stays current
 * until something writes it elsewhere, and that drops dev's copy too: what
 * dev alone holds its own work wrote, and the failure may have spared it (a
 * read tells). Only what is current somewhere else as well is dropped. */
static void forget_locked(weft_array *a, size_t dev)
{
    if (weft_mem_shares_host(a, dev)) return;
    /* As in lost_locked: if that fails, rather no copy than a suspect one. */
    if (weft_copies_drop_held_elsewhere(a, dev, 0, a->n) != WEFT_OK)
        weft_ranges_free(&a->stores[dev].valid);
}

/* The host storage is shared by the host and zero-copy devices: before one of
 * them touches it, work the others enqueued on it must be done (a device's
 * own queue keeps its own work in order). One that may write it also waits
 * for the copies still reading it; a copying device only reads it. */
static weft_status settle(weft_array *a, size_t dev)
{
    weft_status st = WEFT_OK;
    if (weft_mem_shares_host(a, dev)) weft_copies_settle_all(a);
    for (size_t d = 1; d < a->ctx->ndevices; d++) {
        weft_store *s = &a->stores[d];
        if (d == dev || !s->busy) continue;
        weft_status waited = wait_and_clear(a, d, &s->busy);
        if (st == WEFT_OK) st = waited;
    }
    return st;
}

void weft_mem_release(weft_array *a)
{
    if (!a->stores) return;
    for (size_t d = 1; d < a->ctx->ndevices; d++) {
        weft_store *s = &a->stores[d];
        /* Work that failed halfway may still touch the storage about to go. */
        if (s->busy) (void)wait_and_clear(a, d, &s->busy);
        if (s->used) device_of(a, d)->ops.event_release(device_of(a, d), s->used);
        weft_copies_release(a, d);
        for (size_t w = 0; w < s->nwindows; w++)
            window_release(device_of(a, d), &s->windows[w]);
        free(s->windows);
        for (size_t w = 0; w < s->nretired; w++)
            window_release(device_of(a, d), &s->retired[w]);
        free(s->retired);
        weft_ranges_free(&s->valid);
    }
    free(a->stores);
    a->stores = NULL;
    weft_ranges_free(&a->host_valid);
    pthread_mutex_destroy(&a->lock);
}

static weft_window *window_covering(weft_store *s, size_t begin, size_t end)
{
    for (size_t w = 0; w < s->nwindows; w++)
        if (s->windows[w].lo <= begin && s->windows[w].hi >= end) return &s->windows[w];
    return NULL;
}

/* Copies into the fresh window what is current in the old one, and nothing
 * else. A stale part would be made current later by a copy from the host,
 * which runs on the copy queue where there is one (WEFT_COPY_QUEUE): this
 * copy, on the kernel queue and maybe waiting there behind other work, could
 * land after it and bring the stale values back. What is current here stays
 * current while readers run beside each other, and only gaps are copied in,
 * so the two never write the same elements. */
static weft_status copy_current(weft_array *a, size_t dev, const weft_window *old,
                                const weft_window *fresh)
{
    weft_device *d = device_of(a, dev);
    weft_copies_depend(a, dev, old->lo, old->hi);
    size_t hb, he;
    for (size_t from = old->lo;
         weft_ranges_first_hit(&a->stores[dev].valid, from, old->hi, &hb, &he); from = he)
        RETURN_ON_ERROR(d->ops.copy(d, old->buffer, (hb - old->lo) * a->elem_size, fresh->buffer,
                                    (hb - fresh->lo) * a->elem_size, (he - hb) * a->elem_size));
    return WEFT_OK;
}

/* A window holding [lo, hi) on dev: an existing one, or a new one that absorbs
 * every window it overlaps (their contents copied over, on the device). */
static weft_status ensure_window(weft_array *a, size_t dev, size_t lo, size_t hi, weft_window **out)
{
    weft_store *s = &a->stores[dev];
    weft_device *d = device_of(a, dev);
    if (hi == lo) hi = lo + 1 <= a->n ? lo + 1 : lo; /* an empty view still needs a buffer */
    if ((*out = window_covering(s, lo, hi))) return WEFT_OK;
    for (size_t w = 0; w < s->nwindows; w++) {
        if (s->windows[w].hi <= lo || s->windows[w].lo >= hi) continue;
        if (s->windows[w].lo < lo) lo = s->windows[w].lo;
        if (s->windows[w].hi > hi) hi = s->windows[w].hi;
    }
    size_t bytes = (hi - lo) * a->elem_size;
    RETURN_IF(bytes > d->info.max_alloc_bytes, WEFT_ERR_NOMEM,
              "elements [%zu, %zu) of a %s array need %zu bytes in one buffer on device %zu, "
              "more than its largest allocation (%llu bytes)",
              lo, hi, weft_dtype_name(a->dtype), bytes, dev,
              (unsigned long long)d->info.max_alloc_bytes);
    weft_window fresh = {.lo = lo, .hi = hi};
    RETURN_ON_ERROR(d->ops.buffer_create(
        d, bytes, s->shares_host ? weft_array_host_at(a, lo) : NULL, &fresh.buffer));
    weft_window *grown = realloc(s->windows, (s->nwindows + 1) * sizeof *grown);
    if (!grown) {
        d->ops.buffer_release(d, fresh.buffer);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot grow the window list of device %zu", dev);
    }
    s->windows = grown;
    size_t absorbed = 0;
    for (size_t w = 0; w < s->nwindows; w++)
        absorbed += !(s->windows[w].hi <= lo || s->windows[w].lo >= hi);
    weft_window *retired = realloc(s->retired, (s->nretired + absorbed + 1) * sizeof *retired);
    if (!retired) {
        d->ops.buffer_release(d, fresh.buffer);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot grow the window list of device %zu", dev);
    }
    s->retired = retired;
    size_t kept = 0;
    for (size_t w = 0; w < s->nwindows; w++) {
        weft_window *old = &s->windows[w];
        if (old->hi <= lo || old->lo >= hi) {
            s->windows[kept++] = *old;
            continue;
        }
        weft_status st = s->shares_host ? WEFT_OK : copy_current(a, dev, old, &fresh);
        if (st != WEFT_OK) { /* the old windows stay; the fresh one goes */
            d->ops.buffer_release(d, fresh.buffer);
            for (size_t rest = w; rest < s->nwindows; rest++)
                s->windows[kept++] = s->windows[rest];
            s->nwindows = kept;
            return st;
        }
        s->retired[s->nretired++] = *old;
    }
    s->windows[kept] = fresh;
    s->nwindows = kept + 1;
    *out = &s->windows[kept];
    return WEFT_OK;
}

static weft_status view_locked(weft_array *a, size_t dev, size_t begin, size_t end, weft_view *view)
{
    view->host = weft_array_host_at(a, begin);
    view->buffer = NULL;
    if (weft_mem_shares_host(a, dev)) RETURN_ON_ERROR(settle(a, dev));
    if (dev == 0) return WEFT_OK;
    weft_window *w;
    RETURN_ON_ERROR(ensure_window(a, dev, begin, end, &w));
    weft_copies_depend(a, dev, begin, end); /* for work that writes it without reading */
    if (w->lo == begin && w->hi == end) {
        view->buffer = w->buffer;
        return WEFT_OK;
    }
    for (size_t s = 0; s < w->nsubs; s++)
        if (w->subs[s].begin == begin && w->subs[s].end == end) {
            view->buffer = w->subs[s].buffer;
            return WEFT_OK;
        }
    weft_subview *subs = realloc(w->subs, (w->nsubs + 1) * sizeof *subs);
    RETURN_IF(!subs, WEFT_ERR_NOMEM, "cannot grow the sub-buffer list of device %zu", dev);
    w->subs = subs;
    weft_device *d = device_of(a, dev);
    void *sub;
    size_t bytes = (end > begin ? end - begin : 1) * a->elem_size;
    RETURN_ON_ERROR(d->ops.sub_buffer(d, w->buffer, byte_offset(a, w, begin), bytes, &sub));
    w->subs[w->nsubs++] = (weft_subview){begin, end, sub};
    view->buffer = sub;
    return WEFT_OK;
}

weft_status weft_mem_view(weft_array *a, size_t dev, size_t begin, size_t end, weft_view *view)
{
    if (host_only(a)) {
        *view = (weft_view){weft_array_host_at(a, begin), NULL};
        return WEFT_OK;
    }
    pthread_mutex_lock(&a->lock);
    weft_status st = view_locked(a, dev, begin, end, view);
    pthread_mutex_unlock(&a->lock);
    return st;
}

static weft_status whole_locked(weft_array *a, size_t dev, void **buffer)
{
    weft_window *w;
    if (weft_mem_shares_host(a, dev)) RETURN_ON_ERROR(settle(a, dev));
    RETURN_ON_ERROR(ensure_window(a, dev, 0, a->n, &w));
    if (!weft_mem_shares_host(a, dev)) weft_copies_depend(a, dev, 0, a->n);
    *buffer = w->buffer;
    return WEFT_OK;
}

weft_status weft_mem_whole(weft_array *a, size_t dev, void **buffer)
{
    pthread_mutex_lock(&a->lock);
    weft_status st = whole_locked(a, dev, buffer);
    pthread_mutex_unlock(&a->lock);
    return st;
}

static const weft_window *window_holding(const weft_store *s, size_t index)
{
    for (size_t i = 0; i < s->nwindows; i++)
        if (s->windows[i].lo <= index && s->windows[i].hi > index) return &s->windows[i];
    return NULL;
}

/* Where the part of [begin, end) that w holds ends (w holds begin). */
static size_t held_until(const weft_window *w, size_t end)
{
    return w->hi < end ? w->hi : end;
}

/* Moves [begin, end) between host memory and dev's windows (which hold it). */
static weft_status transfer(weft_array *a, size_t dev, size_t begin, size_t end, int to_device)
{
    weft_store *s = &a->stores[dev];
    weft_device *d = device_of(a, dev);
    while (begin < end) {
        const weft_window *w = window_holding(s, begin);
        if (!w) { /* not held yet (reading into a device): make room */
            weft_window *made;
            RETURN_ON_ERROR(ensure_window(a, dev, begin, end, &made));
            w = made;
        }
        size_t stop = held_until(w, end);
        size_t offset = byte_offset(a, w, begin), bytes = (stop - begin) * a->elem_size;
        void *host = weft_array_host_at(a, begin);
        if (to_device) { /* the work that reads it waits for it (depend_on_uploads) */
            void *done = NULL;
            if (d->ops.upload)
                RETURN_ON_ERROR(d->ops.upload(d, w->buffer, offset, bytes, host, s->used, &done));
            else
                RETURN_ON_ERROR(d->ops.write(d, w->buffer, offset, bytes, host, &done));
            if (done) RETURN_ON_ERROR(weft_copies_add(a, dev, begin, stop, done));
        } else {
            RETURN_ON_ERROR(d->ops.read(d, w->buffer, offset, bytes, host));
        }
        begin = stop;
    }
    return WEFT_OK;
}

/* Makes the host current on [begin, end) from whichever devices hold it;
 * *moved counts the bytes read. */
static weft_status fetch_to_host(weft_array *a, size_t begin, size_t end, uint64_t *moved)
{
    size_t gb, ge;
    while (weft_ranges_first_gap(&a->host_valid, begin, end, &gb, &ge)) {
        int found = 0;
        for (size_t d = 1; d < a->ctx->ndevices && !found; d++) {
            size_t hb, he;
            if (a->stores[d].shares_host ||
                !weft_ranges_first_hit(&a->stores[d].valid, gb, ge, &hb, &he))
                continue;
            weft_copies_settle_all(a); /* they may still read what this overwrites */
            RETURN_ON_ERROR(transfer(a, d, hb, he, 0));
            RETURN_ON_ERROR(weft_ranges_add(&a->host_valid, hb, he));
            *moved += (uint64_t)(he - hb) * a->elem_size;
            found = 1;
        }
        RETURN_IF(!found, WEFT_ERR_DEVICE,
                  "elements [%zu, %zu) of a %s array are current nowhere: the device that held "
                  "them failed",
                  gb, ge, weft_dtype_name(a->dtype));
    }
    return WEFT_OK;
}

/* Copies [begin, end), current on the copying device src, straight into
 * dev's windows. */
static weft_status copy_from_peer(weft_array *a, size_t dev, size_t src, size_t begin, size_t end)
{
    weft_store *from = &a->stores[src];
    weft_device *d = device_of(a, dev);
    while (begin < end) {
        const weft_window *w = window_holding(from, begin);
        RETURN_IF(!w, WEFT_ERR_DEVICE, "elements current on device %zu lie in no window", src);
        size_t stop = held_until(w, end);
        weft_window *into;
        RETURN_ON_ERROR(ensure_window(a, dev, begin, stop, &into));
        weft_copies_depend(a, dev, begin, stop); /* a stale one must not land after it */
        RETURN_ON_ERROR(d->ops.peer_copy(d, into->buffer, byte_offset(a, into, begin),
                                         device_of(a, src), w->buffer, byte_offset(a, w, begin),
                                         (stop - begin) * a->elem_size));
        RETURN_ON_ERROR(weft_ranges_add(&a->stores[dev].valid, begin, stop));
        weft_stat_add(a->ctx, WEFT_STAT_DEVICE_TO_DEVICE, (uint64_t)(stop - begin) * a->elem_size);
        begin = stop;
    }
    return WEFT_OK;
}

/* The first part of [begin, end) that the host lacks and a device dev can
 * copy from directly holds current: copied, *copied = 1. What the host holds
 * goes up from the host: a copy from a peer waits for all work queued on it. */
static weft_status fetch_from_peers(weft_array *a, size_t dev, size_t begin, size_t end,
                                    int *copied)
{
    weft_device *d = device_of(a, dev);
    *copied = 0;
    for (size_t src = 1; src < a->ctx->ndevices; src++) {
        if (src == dev || a->stores[src].shares_host ||
            !d->ops.peer_reachable(d, device_of(a, src)))
            continue;
        size_t hb, he, gb, ge;
        for (size_t from = begin; weft_ranges_first_hit(&a->stores[src].valid, from, end, &hb, &he);
             from = he) {
            if (!weft_ranges_first_gap(&a->host_valid, hb, he, &gb, &ge)) continue;
            RETURN_ON_ERROR(copy_from_peer(a, dev, src, gb, ge));
            *copied = 1;
            return WEFT_OK;
        }
    }
    return WEFT_OK;
}

/* The calling thread's log of what it makes current (weft_mem_log_reads). */
static _Thread_local struct {
    weft_array *const *arrays;
    size_t narrays, dev;
    weft_mem_span *spans;
} reads_log;

void weft_mem_log_reads(weft_array *const *arrays, size_t narrays, size_t dev, weft_mem_span *spans)
{
    reads_log.arrays = arrays;
    reads_log.narrays = narrays;
    reads_log.dev = dev;
    reads_log.spans = spans;
}

static void note_read(const weft_array *a, size_t dev, size_t begin, size_t end)
{
    if (!reads_log.spans || dev != reads_log.dev) return;
    for (size_t i = 0; i < reads_log.narrays; i++)
        if (reads_log.arrays[i] == a)
            weft_mem_span_widen(&reads_log.spans[i], (weft_mem_span){begin, end});
}

static weft_status make_current_locked(weft_array *a, size_t dev, size_t begin, size_t end)
{
    weft_ranges *valid = valid_set(a, dev);
    size_t gb, ge;
    note_read(a, dev, begin, end);
    RETURN_ON_ERROR(settle(a, dev));
    while (weft_ranges_first_gap(valid, begin, end, &gb, &ge)) {
        if (!weft_mem_shares_host(a, dev)) {
            int copied;
            RETURN_ON_ERROR(fetch_from_peers(a, dev, gb, ge, &copied));
            if (copied) continue;
        }
        uint64_t moved = 0;
        RETURN_ON_ERROR(fetch_to_host(a, gb, ge, &moved));
        if (weft_mem_shares_host(a, dev)) {
            weft_stat_add(a->ctx, WEFT_STAT_TO_HOST, moved);
            continue;
        }
        RETURN_ON_ERROR(transfer(a, dev, gb, ge, 1));
        RETURN_ON_ERROR(weft_ranges_add(valid, gb, ge));
        weft_stat_add(a->ctx, WEFT_STAT_DEVICE_TO_DEVICE, moved);
        weft_stat_add(a->ctx, WEFT_STAT_TO_DEVICE, (uint64_t)(ge - gb) * a->elem_size - moved);
    }
    if (!weft_mem_shares_host(a, dev)) weft_copies_depend(a, dev, begin, end);
    return WEFT_OK;
}

weft_status weft_mem_make_current(weft_array *a, size_t dev, size_t begin, size_t end)
{
    if (host_only(a)) return WEFT_OK;
    pthread_mutex_lock(&a->lock);
    weft_status st = make_current_locked(a, dev, begin, end);
    pthread_mutex_unlock(&a->lock);
    return st;
}

static weft_status wrote_locked(weft_array *a, size_t dev, size_t begin, size_t end)
{
    weft_ranges *mine = valid_set(a, dev);
    if (mine != &a->host_valid) RETURN_ON_ERROR(weft_ranges_remove(&a->host_valid, begin, end));
    for (size_t d = 1; d < a->ctx->ndevices; d++)
        if (d != dev && !a->stores[d].shares_host)
            RETURN_ON_ERROR(weft_ranges_remove(&a->stores[d].valid, begin, end));
    return weft_ranges_add(mine, begin, end);
}

weft_status weft_mem_wrote(weft_array *a, size_t dev, size_t begin, size_t end)
{
    pthread_mutex_lock(&a->lock);
    weft_status st = wrote_locked(a, dev, begin, end);
    pthread_mutex_unlock(&a->lock);
    return st;
}

static int lost_locked(weft_array *a, size_t dev, size_t begin, size_t end)
{
    if (weft_mem_shares_host(a, dev)) {
        /* The device wrote host memory in place: those values may be half
         * written, so no one may read them as current (a rerun rewrites
         * them). As above, a failure to split the set drops all of it. */
        if (weft_ranges_remove(&a->host_valid, begin, end) != WEFT_OK)
            weft_ranges_free(&a->host_valid);
        return 1;
    }
    /* Removing never allocates more than one interval; if even that fails,
     * forget the whole copy rather than trust a suspect one. */
    if (weft_ranges_remove(&a->stores[dev].valid, begin, end) != WEFT_OK)
        weft_ranges_free(&a->stores[dev].valid);
    return 0;
}

int weft_mem_lost(weft_array *a, size_t dev, size_t begin, size_t end)
{
    pthread_mutex_lock(&a->lock);
    int host_damaged = lost_locked(a, dev, begin, end);
    pthread_mutex_unlock(&a->lock);
    return host_damaged;
}

void weft_mem_forget(weft_array *a, size_t dev)
{
    pthread_mutex_lock(&a->lock);
    forget_locked(a, dev);
    pthread_mutex_unlock(&a->lock);
}

int weft_mem_copy_failed(weft_array *a, size_t dev, unsigned mark, size_t begin, size_t end)
{
    if (dev == 0 || host_only(a)) return 0;
    pthread_mutex_lock(&a->lock);
    weft_copies_settle(a, dev, begin, end);
    int failed = weft_copies_failed_since(a, dev, mark, begin, end);
    pthread_mutex_unlock(&a->lock);
    return failed;
}

weft_status weft_mem_host_view_if_current(weft_array *a, size_t begin, size_t end, weft_view *view,
                                          int *current)
{
    pthread_mutex_lock(&a->lock);
    *current = weft_ranges_covers(&a->host_valid, begin, end);
    weft_status st = *current ? view_locked(a, 0, begin, end, view) : WEFT_OK;
    pthread_mutex_unlock(&a->lock);
    return st;
}

int weft_mem_is_current(weft_array *a, size_t dev, size_t begin, size_t end)
{
    pthread_mutex_lock(&a->lock);
    const weft_ranges *valid =
        weft_mem_shares_host(a, dev) ? &a->host_valid : &a->stores[dev].valid;
    int current = weft_ranges_covers(valid, begin, end);
    pthread_mutex_unlock(&a->lock);
    return current;
}
