/* Sorting keys alone (no values, no indices) of 4 or 8 bytes: the fast path
 * of weft_ref_sort (sort_keys.c). */
#ifndef WEFT_SORT_KEYS_H
#define WEFT_SORT_KEYS_H

#include "../device.h"

/* Keys below this many go to the plain radix passes. */
#define WEFT_SORT_KEYS_MIN ((size_t)1 << 16)

/* Sorts call->keys in place when it can: sets *done, or leaves it 0 when the
 * keys hold a NaN or a -0.0 (whose order among equal keys only a stable sort
 * keeps), having changed nothing. Errors are out of memory. */
weft_status weft_ref_sort_keys(const weft_prim_threads *threads, const weft_sort_call *call,
                               int *done);

#endif
