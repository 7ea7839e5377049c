/* A set of element indices as sorted, disjoint, non-adjacent half-open
 * intervals: which elements of an array one memory holds current. Arrays are
 * touched in few contiguous pieces, so a set stays a handful of intervals. */
#ifndef WEFT_MEM_RANGES_H
#define WEFT_MEM_RANGES_H

#include "weft.h"

typedef struct weft_interval {
    size_t begin, end;
} weft_interval;

typedef struct weft_ranges {
    weft_interval *v;
    size_t n, cap;
} weft_ranges;

void weft_ranges_free(weft_ranges *r);
/* Adds [begin, end), merging with neighbours. */
weft_status weft_ranges_add(weft_ranges *r, size_t begin, size_t end);
/* Removes [begin, end) (may split an interval in two). */
weft_status weft_ranges_remove(weft_ranges *r, size_t begin, size_t end);
/* 1 when every index of [begin, end) is in the set. */
int weft_ranges_covers(const weft_ranges *r, size_t begin, size_t end);
/* The first stretch of [begin, end) that is NOT in the set, as [*gap_begin,
 * *gap_end); returns 0 when there is none. */
int weft_ranges_first_gap(const weft_ranges *r, size_t begin, size_t end, size_t *gap_begin,
                          size_t *gap_end);
/* The first stretch of [begin, end) that IS in the set; 0 when none. */
int weft_ranges_first_hit(const weft_ranges *r, size_t begin, size_t end, size_t *hit_begin,
                          size_t *hit_end);

#endif
