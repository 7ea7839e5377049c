/* Sorting keys alone (no values, no indices) of 4 or 8 bytes: the fast path
 * of weft_ref_sort (sort_keys.c). */
#ifndef WEFT_SORT_KEYS_H
#define WEFT_SORT_KEYS_H

#include "../device.h"

/* Keys below this many go to the plain radix passes. */
#define WEFT_SORT_KEYS_MIN ((size_t)1 << 16)

/* How a sort splits n elements over the pool's threads: about 4 chunks a
 * thread, none under min elements (but a lone one), at most max; returns
 * their count, *chunk the elements of each but the last. */
static inline size_t weft_sort_chunks(const weft_prim_threads *threads, size_t n, size_t min,
                                      size_t max, size_t *chunk)
{
    size_t width = threads->width > 0 ? (size_t)threads->width : 1;
    size_t chunks = n / min < 4 * width ? n / min : 4 * width;
    if (chunks < 1) chunks = 1;
    if (chunks > max) chunks = max;
    *chunk = (n + chunks - 1) / chunks;
    return (n + *chunk - 1) / *chunk;
}

/* Sorts call->keys in place when it can: sets *done, or leaves it 0 when the
 * keys hold a NaN or a -0.0 (whose order among equal keys only a stable sort
 * keeps), having changed nothing. Errors are out of memory. */
weft_status weft_ref_sort_keys(const weft_prim_threads *threads, const weft_sort_call *call,
                               int *done);

#endif
