/* Arrays: host storage plus, per piece, device buffers and which copy is current. */
#ifndef WEFT_ARRAY_H
#define WEFT_ARRAY_H

#include "ctx.h"

/* A contiguous stretch of an array held by one device in one buffer. A piece
 * larger than the device's max allocation becomes several chunks. */
typedef struct weft_chunk {
    size_t begin, count; /* elements */
    size_t device;       /* owner device index; 0 = host */
    void *buffer;        /* device buffer, created on first use */
    int zero_copy;       /* buffer wraps the host storage */
    int host_valid;      /* the host storage holds the current values */
    int device_valid;    /* the buffer holds the current values */
} weft_chunk;

struct weft_array {
    weft_ctx *ctx;
    weft_dtype dtype;
    size_t n, elem_size;
    unsigned char *host;
    int owns_host;
    weft_chunk *chunks;
    size_t nchunks;
    int pending; /* queued or running ops using it (under the stream lock) */
};

static inline void *weft_array_host_at(const weft_array *a, size_t index)
{
    return a->host + index * a->elem_size;
}

/* WEFT_ERR_NULL / WEFT_ERR_STATE unless a is a live array. */
weft_status weft_array_check(const weft_array *a, const char *what);
/* Make the host copy of [begin, end) current (reads back from devices). */
weft_status weft_array_to_host(weft_array *a, size_t begin, size_t end);
/* Make chunk c current on its device (creates the buffer, copies or maps). */
weft_status weft_array_chunk_to_device(weft_array *a, size_t c);
/* After a write: the host copy of [begin, end) is current, devices are stale. */
void weft_array_host_wrote(weft_array *a, size_t begin, size_t end);

#endif
