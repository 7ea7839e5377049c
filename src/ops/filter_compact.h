/* Stream compaction of one part of a filter's input (weft_filter). */
#ifndef WEFT_OPS_FILTER_COMPACT_H
#define WEFT_OPS_FILTER_COMPACT_H

#include <stddef.h>
#include <stdint.h>

/* mask[i] = flags[i] != 0 for i < n; returns how many are set. */
size_t weft_filter_narrow(const int32_t *flags, unsigned char *mask, size_t n);

/* The elements i of src in [b, last] whose mask[i] is non-zero, in order, to
 * dst (both element 0); `kept` of them, mask[last] among them. Writes dst's
 * elements [0, kept) and nothing else. es: 1, 4 or 8 bytes. */
void weft_filter_compact(const unsigned char *mask, const void *src, void *dst, size_t es, size_t b,
                         size_t last, size_t kept);

#endif
