/* Residency's records of the copies from the host storage into copying
 * devices, one per range: pending ones (their events, which the device work
 * touching that range waits for, and which must complete before the host
 * storage changes) and failed ones (by range and by when they were found,
 * so a failure blames only the work that read that range). Internal to
 * src/mem/: every call is made with the array's lock held. */
#ifndef WEFT_MEM_COPY_RECORDS_H
#define WEFT_MEM_COPY_RECORDS_H

#include "residency.h"

/* Waits for the pending copies into dev overlapping [begin, end); a failed
 * one stops counting as current there and is recorded. */
void weft_copies_settle(weft_array *a, size_t dev, size_t begin, size_t end);
/* The same for every copy into every device. */
void weft_copies_settle_all(weft_array *a);
/* The calling thread's next command on dev waits for the pending copies
 * into [begin, end) (the device's depend; nothing without one). */
void weft_copies_depend(weft_array *a, size_t dev, size_t begin, size_t end);
/* Records a copy of [begin, end) into dev, pending until done completes. */
weft_status weft_copies_add(weft_array *a, size_t dev, size_t begin, size_t end, void *done);
/* 1 when a copy into dev overlapping [begin, end) was found failed after
 * mark (weft_mem_copy_failures_found). */
int weft_copies_failed_since(weft_array *a, size_t dev, unsigned mark, size_t begin, size_t end);
/* After a failed copy or device failure touching [begin, end) of dev: what
 * the host or another copying device still holds is dropped from dev's copy
 * (it moves again when read). What is current nowhere else was written on
 * dev after the copy, and stays: dropping it would lose the only copy. */
weft_status weft_copies_drop_held_elsewhere(weft_array *a, size_t dev, size_t begin, size_t end);
/* Waits for every pending copy into dev and frees the records. */
void weft_copies_release(weft_array *a, size_t dev);

#endif
