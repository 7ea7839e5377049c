/* The element of a block that a min or max (argmin, argmax) keeps. */
#ifndef WEFT_REF_REDUCE_EXTREME_H
#define WEFT_REF_REDUCE_EXTREME_H

#include "../device.h"

#include <stddef.h>

/* The index of the first element of values[0, n) that no other beats under
 * weft_less_f / weft_greater_f (NaN beats all, -0.0 is less than +0.0) or
 * integer order: the one an element-by-element fold keeps. n when the dtype
 * has no fast path here (the caller folds element by element). */
size_t weft_ref_first_extreme(const void *values, weft_dtype t, size_t n, int want_less);

#endif
