/* The common filter conditions run without the expression VM (weft_filter):
 * comparisons of an array with a constant or with another array, joined by
 * && and ||, evaluated 64 elements at a time into bits that the compaction
 * reads directly. Other conditions keep the VM. */
#ifndef WEFT_OPS_FILTER_FUSED_H
#define WEFT_OPS_FILTER_FUSED_H

#include "../expr/expr.h"

#include <stddef.h>
#include <stdint.h>

enum { WEFT_FILTER_MAX_LEAVES = 4, WEFT_FILTER_MAX_STEPS = 2 * WEFT_FILTER_MAX_LEAVES - 1 };

/* array[i] op b, b another array's element i (view_b >= 0) or a constant. */
typedef struct weft_filter_leaf {
    int op;               /* OP_LT .. OP_NE, with the array on the left */
    int shape;            /* how elements are loaded and compared (filter_fused.c) */
    int view_a, view_b;   /* into the op's host pointers; view_b -1: the constant */
    double kf;            /* the constant, for float comparisons */
    int64_t ki;           /* the constant's bits, for integer ones */
    weft_dtype src, type; /* the arrays' dtype, the comparison's */
} weft_filter_leaf;

typedef struct weft_filter_plan {
    int nsteps, nleaves;                     /* nsteps 0: not fused */
    signed char step[WEFT_FILTER_MAX_STEPS]; /* postfix: a leaf, or FUSED_AND / FUSED_OR */
    weft_filter_leaf leaf[WEFT_FILTER_MAX_LEAVES];
} weft_filter_plan;

/* The plan of a parsed condition (reduce mode, the user's bindings), or
 * nsteps 0 when its shape is not one of these or this CPU lacks AVX-512. */
void weft_filter_plan_of(const weft_expr *e, const weft_bind *binds, const int *view_of_bind,
                         weft_filter_plan *plan);

/* The same for the text of a condition over binds (filter_plans.c), its
 * parse kept for the next call with the same text and bindings. */
void weft_filter_plan_cond(const char *cond, const weft_bind *binds, size_t nbinds,
                           const int *view_of_bind, weft_filter_plan *plan);

/* Bit q of bits[w] set where element b + 64 w + q is kept, for the elements
 * of [b, e); returns how many are kept. */
size_t weft_filter_bits(const weft_filter_plan *plan, void *const *host, size_t b, size_t e,
                        uint64_t *bits);

/* The `kept` elements of src in [b, e) whose bit is set (bits[0] bit 0 is
 * element b, b a multiple of 64), in order, to dst; reads nothing of src
 * past e and writes nothing past dst's `kept` elements. Returns how many.
 * es: 1, 4 or 8. */
size_t weft_filter_compact_bits(const uint64_t *bits, const void *src, void *dst, size_t es,
                                size_t b, size_t e, size_t kept);

/* In one pass, how long a part waits for the count of the part before it
 * before it is left to be copied after the pass (filter.c; tests set it:
 * below 0, every part is copied after the pass). */
extern double weft_filter_late_s;

#endif
