/* What an array is made of: its partition into pieces, its host storage,
 * and per device the windows that hold it and which elements are current
 * there. The residency module (residency.c) is the only code that changes
 * which copy is current. */
#ifndef WEFT_MEM_LAYOUT_H
#define WEFT_MEM_LAYOUT_H

#include "../core/ctx.h"
#include "../dev/device.h"
#include "ranges.h"

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
    void *uploading;   /* else: its last copy from the host storage may still be reading it */
    /* Copies into the device found failed so far: work that read copies
     * compares it before and after. */
    unsigned copy_failures;
} weft_store;

struct weft_array {
    weft_ctx *ctx;
    weft_dtype dtype;
    size_t n, elem_size;
    unsigned char *host; /* host storage: the user's (wrap) or ours, zero pages until touched */
    size_t host_bytes;   /* of our own mapping; 0 when wrapped */
    weft_ranges host_valid;
    weft_store *stores; /* per device index; [0], the host, unused */
    weft_chunk *chunks;
    size_t nchunks;
    int pending;          /* queued or running ops using it (under the stream lock) */
    pthread_mutex_t lock; /* its residency: held by every src/mem/residency.h call */
};

static inline void *weft_array_host_at(const weft_array *a, size_t index)
{
    return a->host + index * a->elem_size;
}

#endif
