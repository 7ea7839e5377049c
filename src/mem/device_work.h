/* The accounting when device work on arrays ends, in one place for both
 * places it ends: a synchronous operation waiting for its devices
 * (exec/pieces.c) and the stream's completer, for an asynchronous one
 * (exec/stream.c). It says whether a copy the work read failed, and what a
 * failed device loses, so the two cannot drift apart. */
#ifndef WEFT_MEM_DEVICE_WORK_H
#define WEFT_MEM_DEVICE_WORK_H

#include "residency.h"

/* One device's work on some arrays. */
typedef struct weft_mem_device_work {
    weft_array *const *arrays;
    size_t narrays; /* at most 32: one bit each in reads */
    unsigned reads; /* bit i: the work reads arrays[i], through copies into dev */
    size_t dev;
    /* What it reads of arrays[i] (weft_mem_log_reads), or NULL: all of each. */
    const weft_mem_span *reading;
} weft_mem_device_work;

/* Taken before the work's copies are made: the failed copies found so far.
 * Each failed copy is recorded by range, array and device, so work that read
 * a failed copy sees it, whichever settles it first, and a failed copy of
 * another range or another array blames no one. */
unsigned weft_mem_copy_mark(const weft_mem_device_work *work);
/* dev finished the work: settles the copies it read (they ran before it)
 * and fails with WEFT_ERR_DEVICE when one of them was found failed after
 * mark. */
weft_status weft_mem_check_copies(const weft_mem_device_work *work, unsigned mark);
/* dev failed during the work: writing[i] of arrays[i] is lost (writing NULL
 * or a span empty: nothing), and of every array dev keeps only what no one
 * else holds (weft_mem_forget). Returns bit i set when the loss of arrays[i]
 * hit the host storage (a zero-copy device): the host's values there may be
 * half-written too. */
unsigned weft_mem_device_failed(const weft_mem_device_work *work, const weft_mem_span *writing);

#endif
