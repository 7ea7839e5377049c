/* Aliasing between the arrays of one call. The same array may be bound
 * twice (in-place work: "x = x * 2", weft_scan with y == x); two different
 * arrays whose host storage shares any byte (wrapped pointers into one
 * buffer) may not: pieces of one would be copied over pieces of the other
 * while both are in use, and the result would depend on the devices. */
#ifndef WEFT_ALIAS_H
#define WEFT_ALIAS_H

#include "array.h"

/* WEFT_ERR_INVALID_ARG naming both when a and b are different arrays whose
 * storage overlaps; what is the call, a_name and b_name how the caller knows
 * the arrays ("x", "argument 2"). */
weft_status weft_alias_check(const char *what, const weft_array *a, const char *a_name,
                             const weft_array *b, const char *b_name);
/* The same for every pair of array arguments of a launch. */
weft_status weft_alias_check_args(const weft_arg *args, size_t nargs);

#endif
