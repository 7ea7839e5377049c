/* Arrays: n elements of one dtype, their partition into pieces, and (through
 * src/mem/residency.h, the only code that reads or changes it) which memory
 * holds a current copy of which elements. */
#ifndef WEFT_ARRAY_H
#define WEFT_ARRAY_H

#include "layout.h"

/* WEFT_ERR_NULL / WEFT_ERR_STATE unless a is a live array. */
weft_status weft_array_check(const weft_array *a, const char *what);

/* Releases what the array holds (its storage, its device copies, the handle):
 * for weft_array_free, once no operation uses it, and for a failed create. */
void weft_array_destroy(weft_array *a);

#endif
