/* What an array is made of: its partition into pieces, its host storage,
 * and per device the windows that hold it and which elements are current
 * there. The residency module (residency.c, and copy_records.c for copies
 * into devices that failed) is the only code that changes which copy is
 * current. */
#ifndef WEFT_MEM_LAYOUT_H
#define WEFT_MEM_LAYOUT_H

#include "../core/ctx.h"
#include "../dev/device.h"
#include "ranges.h"

#include <stdatomic.h>

/* A piece of the partition: the elements [begin, begin + count) that device
 * owns for built-in primitives. A piece larger than the device's max
 * allocation becomes several chunks. */
typedef struct weft_chunk {
    size_t begin, count; /* elements */
    size_t device;       /* owner device index; 0 = host */
} weft_chunk;

/* A view of elements [begin, end) inside a window, as its own buffer. */
typedef struct weft_subview {
    size_t begin, end;
    void *buffer;
} weft_subview;

/* One device buffer holding elements [lo, hi) of the array. */
typedef struct weft_window {
    size_t lo, hi;
    void *buffer;
    weft_subview *subs;
    size_t nsubs;
} weft_window;

/* A copy of elements [begin, end) into a device: pending (event, its
 * completion) or found failed (found, the failure's number). */
typedef struct weft_copy_record {
    size_t begin, end;
    void *event;
    unsigned found;
} weft_copy_record;

/* Failed copies remembered per array and device; more merge into one record
 * over their hull, which blames more work, never less. */
#define WEFT_FAILED_COPY_RECORDS 8

/* What one OpenCL device holds of an array. A device that shares host memory
 * (zero-copy) wraps the host storage: its copy is the host's copy. */
typedef struct weft_store {
    weft_window *windows; /* disjoint */
    size_t nwindows;
    /* Windows a larger one absorbed: an operation reading the array beside the
     * one that grew it may still hold their buffers, so they go with the array. */
    weft_window *retired;
    size_t nretired;
    int shares_host;
    weft_ranges valid; /* elements current in this device's memory (unused if shares_host) */
    void *busy;        /* shares_host: the device's last work on the host storage may still run */
    /* Else: the last work enqueued on its copy, which a copy into it waits
     * for on the device (copies run on a queue of their own). */
    void *used;
    /* Copies from the host storage into the device that may still run (each
     * still reading that storage), one record per range, so copies of
     * disjoint ranges never wait for each other. */
    weft_copy_record *uploading;
    size_t nuploading, uploading_cap;
    /* Copies into the device found failed, by range and by when they were
     * found (weft_mem_copy_mark): work that read a range compares. */
    weft_copy_record failed[WEFT_FAILED_COPY_RECORDS];
    size_t nfailed;
} weft_store;

struct weft_array {
    weft_ctx *ctx;
    weft_dtype dtype;
    size_t n, elem_size;
    unsigned char *host; /* host storage: the user's (wrap) or ours, zero pages until touched */
    size_t host_bytes;   /* of our own storage (heap or mapping); 0 when wrapped */
    weft_ranges host_valid;
    weft_store *stores; /* per device index; [0], the host, unused */
    weft_chunk *chunks;
    size_t nchunks;
    int pending; /* queued or running ops using it (under the stream lock) */
    /* weft_array_wrap_read_only: no operation may write it (stream.c). */
    unsigned char read_only;
    /* Freed by the object that made it (a CSV reader's column), never by
     * weft_array_free: the owner would hand out the dead handle again. */
    unsigned char owned;
    /* A wrap whose memory another live wrap of its context overlaps
     * (mem/wraps.h): ordered and kept coherent with it. */
    atomic_int overlaps;
    pthread_mutex_t lock; /* its residency: held by every src/mem/residency.h call */
};

static inline void *weft_array_host_at(const weft_array *a, size_t index)
{
    return a->host + index * a->elem_size;
}

#endif
