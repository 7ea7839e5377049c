/* Residency's records of copies into devices (copy_records.h). */
#include "copy_records.h"
#include "../core/error.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static weft_status wait_and_release(weft_array *a, size_t dev, void *event)
{
    weft_device *d = &a->ctx->devices[dev];
    weft_status st = d->ops.wait(d, event);
    d->ops.event_release(d, event);
    return st;
}

/* Failed copies found so far, by anyone: a failure's number is the count
 * when it was found. Only grows (compared modulo wrap-around). */
static atomic_uint found_failures;

static int overlaps(const weft_copy_record *r, size_t begin, size_t end)
{
    return r->begin < end && begin < r->end;
}

/* Notes that the copy of [begin, end) into the store failed. Past the last
 * record, the two oldest merge over their hull (the later number): work is
 * then blamed for more than it read, never for less. */
static void record_failure(weft_store *s, size_t begin, size_t end)
{
    unsigned found = atomic_fetch_add(&found_failures, 1) + 1;
    if (s->nfailed == WEFT_FAILED_COPY_RECORDS) {
        weft_copy_record *old = &s->failed[0], *next = &s->failed[1];
        next->begin = old->begin < next->begin ? old->begin : next->begin;
        next->end = old->end > next->end ? old->end : next->end;
        memmove(s->failed, s->failed + 1, --s->nfailed * sizeof *s->failed);
    }
    s->failed[s->nfailed++] = (weft_copy_record){begin, end, NULL, found};
}

/* Drops from dev's copy the parts of [begin, end) that other from holds. */
static weft_status drop_held(weft_ranges *mine, const weft_ranges *other, size_t begin, size_t end)
{
    size_t hb, he;
    while (begin < end && weft_ranges_first_hit(other, begin, end, &hb, &he)) {
        RETURN_ON_ERROR(weft_ranges_remove(mine, hb, he));
        begin = he;
    }
    return WEFT_OK;
}

weft_status weft_copies_drop_held_elsewhere(weft_array *a, size_t dev, size_t begin, size_t end)
{
    weft_ranges *mine = &a->stores[dev].valid;
    RETURN_ON_ERROR(drop_held(mine, &a->host_valid, begin, end));
    for (size_t d = 1; d < a->ctx->ndevices; d++)
        if (d != dev && !a->stores[d].shares_host)
            RETURN_ON_ERROR(drop_held(mine, &a->stores[d].valid, begin, end));
    return WEFT_OK;
}

/* Copies from the host storage to copying devices run while the caller goes
 * on: before anything writes that storage, they must be done. A failed copy
 * only read the storage, so its failure is the device's, not the host's: the
 * device's copy of that range is what is lost, and the work that read that
 * range is blamed. Settles the records overlapping [begin, end). */
void weft_copies_settle(weft_array *a, size_t dev, size_t begin, size_t end)
{
    weft_store *s = &a->stores[dev];
    size_t kept = 0;
    for (size_t i = 0; i < s->nuploading; i++) {
        weft_copy_record r = s->uploading[i];
        if (!overlaps(&r, begin, end)) {
            s->uploading[kept++] = r;
            continue;
        }
        if (wait_and_release(a, dev, r.event) == WEFT_OK) continue;
        if (weft_copies_drop_held_elsewhere(a, dev, r.begin, r.end) != WEFT_OK)
            weft_ranges_free(&s->valid); /* as in lost_locked: rather none than a suspect one */
        record_failure(s, r.begin, r.end);
    }
    s->nuploading = kept;
}

void weft_copies_settle_all(weft_array *a)
{
    for (size_t d = 1; d < a->ctx->ndevices; d++)
        weft_copies_settle(a, d, 0, SIZE_MAX);
}

/* The calling thread's next command on dev waits for the copies into
 * [begin, end) still pending there: they run on the device's copy queue,
 * beside its kernels. */
void weft_copies_depend(weft_array *a, size_t dev, size_t begin, size_t end)
{
    weft_store *s = &a->stores[dev];
    weft_device *d = &a->ctx->devices[dev];
    if (!d->ops.depend) return;
    for (size_t i = 0; i < s->nuploading; i++)
        if (overlaps(&s->uploading[i], begin, end)) d->ops.depend(d, s->uploading[i].event);
}

/* Beyond this many pending copies into one store, the oldest is waited for:
 * the records stay few even when no work settles them. */
#define MAX_PENDING_UPLOADS 64

weft_status weft_copies_add(weft_array *a, size_t dev, size_t begin, size_t end, void *done)
{
    weft_store *s = &a->stores[dev];
    if (s->nuploading == MAX_PENDING_UPLOADS)
        weft_copies_settle(a, dev, s->uploading[0].begin, s->uploading[0].begin + 1);
    if (s->nuploading == s->uploading_cap) {
        size_t cap = s->uploading_cap ? 2 * s->uploading_cap : 4;
        weft_copy_record *grown = realloc(s->uploading, cap * sizeof *grown);
        if (!grown) { /* no record to keep it by: the range is not made current */
            (void)wait_and_release(a, dev, done);
            return weft_error_set(WEFT_ERR_NOMEM, "cannot grow the copy list of device %zu", dev);
        }
        s->uploading = grown;
        s->uploading_cap = cap;
    }
    s->uploading[s->nuploading++] = (weft_copy_record){begin, end, done, 0};
    return WEFT_OK;
}

unsigned weft_mem_copy_failures_found(void)
{
    return atomic_load(&found_failures);
}

int weft_copies_failed_since(weft_array *a, size_t dev, unsigned mark, size_t begin, size_t end)
{
    const weft_store *s = &a->stores[dev];
    for (size_t i = 0; i < s->nfailed; i++)
        if ((int)(s->failed[i].found - mark) > 0 && overlaps(&s->failed[i], begin, end)) return 1;
    return 0;
}

void weft_copies_release(weft_array *a, size_t dev)
{
    weft_store *s = &a->stores[dev];
    for (size_t i = 0; i < s->nuploading; i++)
        (void)wait_and_release(a, dev, s->uploading[i].event);
    free(s->uploading);
    s->uploading = NULL;
    s->nuploading = s->uploading_cap = 0;
}
