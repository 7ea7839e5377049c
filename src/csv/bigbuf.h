/* Window-sized buffers straight from the kernel: freeing one returns its
 * memory at once, so a long run's peak memory stays that of its largest
 * window (heap allocations of varying large sizes fragment and ratchet up). */
#ifndef WEFT_CSV_BIGBUF_H
#define WEFT_CSV_BIGBUF_H

#include <stddef.h>

typedef struct csv_bigbuf {
    void *p;
    size_t bytes;
} csv_bigbuf;

/* At least `bytes`, page aligned, contents not kept; 0 on out of memory. A
 * bigger buffer gets 25% room so a slowly growing window maps rarely. */
int csv_bigbuf_reserve(csv_bigbuf *b, size_t bytes);
void csv_bigbuf_free(csv_bigbuf *b);

#endif
