/* A set of half-open intervals [lo, hi) with an item each, answering "which
 * intervals overlap [lo, hi)" in O(log n + answers): a treap ordered by lo,
 * each node keeping the largest hi below it (an interval tree). Overlap is
 * lo_a < hi_b && lo_b < hi_a, so an empty interval overlaps the intervals
 * that strictly contain its point. Not thread-safe: the owner locks. */
#ifndef WEFT_INTERVAL_SET_H
#define WEFT_INTERVAL_SET_H

#include <stdint.h>

typedef struct weft_interval_node weft_interval_node;
typedef struct weft_interval_set {
    weft_interval_node *root;
} weft_interval_set;

/* Adds item over [lo, hi); an item is listed once per (lo, item). Returns 0
 * when out of memory (the set is unchanged), 1 otherwise. */
int weft_interval_add(weft_interval_set *set, uintptr_t lo, uintptr_t hi, void *item);
/* Removes the interval added with this lo and item (nothing if none). */
void weft_interval_remove(weft_interval_set *set, uintptr_t lo, void *item);
/* Calls visit(item, arg) for every interval overlapping [lo, hi), in order
 * of lo, until visit returns nonzero; returns that value (0: all visited).
 * visit must not change the set. */
typedef int (*weft_interval_visit_fn)(void *item, void *arg);
int weft_interval_visit(const weft_interval_set *set, uintptr_t lo, uintptr_t hi,
                        weft_interval_visit_fn visit, void *arg);

#endif
