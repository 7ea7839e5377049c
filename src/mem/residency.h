/* Residency: the one module that knows which memory holds a current copy of
 * which elements of an array, and moves data between memories. Every other
 * layer asks it for a copy to read or write (as StarPU's data handles do).
 *
 * Memories: the host, plus one per OpenCL device that does not share host
 * memory. A zero-copy device works on the host storage itself. A copy moves
 * only when a reader needs it and it is stale. A device takes what it lacks
 * straight from a peer's buffer when their driver says it can
 * (peer_reachable: devices of one OpenCL platform sharing a context), and
 * through the host otherwise. A copy from the host runs while the caller
 * goes on (on the device's copy queue where it has one): residency keeps a
 * record per copied range, names its event to the device work that then
 * touches that range (depend), and settles it before the host storage may
 * change or when the work that read it ends. A failed copy is recorded by
 * range, so only work that read that range is blamed.
 *
 * Each call holds the array's own lock, so threads that touch one array at
 * once (two readers, a reader beside the executor, the completer accounting
 * for a failed device) never see its bookkeeping half-changed. */
#ifndef WEFT_MEM_RESIDENCY_H
#define WEFT_MEM_RESIDENCY_H

#include "layout.h"

typedef struct weft_mem_span {
    size_t begin, end;
} weft_mem_span;

/* span grows to cover by too (empty spans, begin >= end, cover nothing). */
static inline void weft_mem_span_widen(weft_mem_span *span, weft_mem_span by)
{
    if (by.end <= by.begin) return;
    if (span->end <= span->begin) *span = by;
    if (by.begin < span->begin) span->begin = by.begin;
    if (by.end > span->end) span->end = by.end;
}

/* Sets up an array's stores, with the host storage current (it holds the
 * values of from / wrap, and the zero pages of create). */
weft_status weft_mem_init(weft_array *a);
/* Releases every device buffer. */
void weft_mem_release(weft_array *a);

/* A view of elements [begin, end) on device dev (0: the host): host pointer
 * and, on a device, a buffer whose first element is element begin. Creates
 * the buffer if needed; moves no data. */
weft_status weft_mem_view(weft_array *a, size_t dev, size_t begin, size_t end, weft_view *view);
/* A buffer on device dev whose element i is element i of the array, for
 * kernels that index the whole array (user kernels). Moves no data. */
weft_status weft_mem_whole(weft_array *a, size_t dev, void **buffer);

/* Makes [begin, end) current on dev, moving only what is stale there. */
weft_status weft_mem_make_current(weft_array *a, size_t dev, size_t begin, size_t end);
/* dev wrote [begin, end): its copy is now the only current one. */
weft_status weft_mem_wrote(weft_array *a, size_t dev, size_t begin, size_t end);
/* dev failed while it may have been writing [begin, end): its copy is lost.
 * Returns 1 when that copy is the host's own storage (zero-copy): then the
 * host's values may be half-written too, and they stop being current. */
int weft_mem_lost(weft_array *a, size_t dev, size_t begin, size_t end);
/* dev failed: a copy into its own memory may have failed after it was
 * counted current, so what it holds that the host or another device holds
 * too is current there no more; what it alone holds (its own results) stays,
 * for a read to try.
 * Nothing changes for a device on the host storage. */
void weft_mem_forget(weft_array *a, size_t dev);
/* Failed copies into devices found so far, by anyone: work that reads
 * through copies takes this before its copies are made, as its mark. */
unsigned weft_mem_copy_failures_found(void);
/* 1 when a copy into dev of elements overlapping [begin, end), found failed
 * after mark, may have fed work that read that range. Settles the copies
 * of that range first (they ran before the work that read them: nothing is
 * waited for long). A failed copy stops counting as current where it went;
 * a failed copy of another range or another array blames no one. */
int weft_mem_copy_failed(weft_array *a, size_t dev, unsigned mark, size_t begin, size_t end);
/* While spans is set, weft_mem_make_current on dev, by the calling thread,
 * widens spans[i] to what it makes current of arrays[i]: what a piece reads
 * of each array (span empty: nothing). NULL spans stops. */
void weft_mem_log_reads(weft_array *const *arrays, size_t narrays, size_t dev,
                        weft_mem_span *spans);
/* 1 when dev holds [begin, end) current. */
int weft_mem_is_current(weft_array *a, size_t dev, size_t begin, size_t end);
/* weft_mem_view on the host when the host holds [begin, end) current
 * (*current 1), else nothing (*current 0): both under one lock, for work
 * small enough to run on its caller. */
weft_status weft_mem_host_view_if_current(weft_array *a, size_t begin, size_t end, weft_view *view,
                                          int *current);
/* An operation enqueued work on dev touching the array, done when event
 * completes. On the host storage in place (zero-copy): before anyone else
 * touches that memory, residency waits for the event. On a copying device:
 * a copy into its copy waits for it on the device. */
void weft_mem_busy(weft_array *a, size_t dev, void *event);

/* 1 when dev works on the host storage itself (the host, or zero-copy). */
int weft_mem_shares_host(const weft_array *a, size_t dev);

#endif
