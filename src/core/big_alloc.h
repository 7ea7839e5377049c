/* Scratch buffers of many megabytes: on huge pages where the kernel has them,
 * and kept for the next call.
 *
 * A radix sort, a gather or a privatised histogram touches its scratch in an
 * order the TLB cannot follow on 4 KiB pages: on this project's VMs (nested
 * paging) a sort ran 5x faster once its scratch sat on 2 MiB pages. numpy
 * asks for huge pages for the same reason. Fresh pages cost their zeroing,
 * which took more time than a whole sort of 2^24 keys, so a freed buffer is
 * kept (at most CACHED_BUFFERS of them) for the next request it fits, marked
 * MADV_FREE so the kernel may still take its pages back under pressure.
 * Small requests stay on the heap. */
#ifndef WEFT_BIG_ALLOC_H
#define WEFT_BIG_ALLOC_H

#include <stddef.h>

/* At least `bytes`, aligned to 64 bytes (to 2 MiB when mapped), contents
 * undefined; NULL when out of memory or when bytes is 0. Thread-safe. */
void *weft_big_alloc(size_t bytes);
/* Frees what weft_big_alloc(bytes) returned, with the same bytes; NULL is
 * accepted. */
void weft_big_free(void *p, size_t bytes);
/* Returns every kept buffer to the kernel (a context free calls it). */
void weft_big_trim(void);

#endif
