#include "alias.h"
#include "../core/error.h"

#include <stdint.h>
#include <stdio.h>

static int storage_overlaps(const weft_array *a, const weft_array *b)
{
    uintptr_t a0 = (uintptr_t)a->host, a1 = a0 + a->n * a->elem_size;
    uintptr_t b0 = (uintptr_t)b->host, b1 = b0 + b->n * b->elem_size;
    return a0 < b1 && b0 < a1;
}

weft_status weft_alias_check(const char *what, const weft_array *a, const char *a_name,
                             const weft_array *b, const char *b_name)
{
    RETURN_IF(
        a != b && storage_overlaps(a, b), WEFT_ERR_INVALID_ARG,
        "%s: \"%s\" and \"%s\" are different arrays over overlapping memory (%p, %zu bytes "
        "and %p, %zu bytes): give arrays over memory that does not overlap (in a map, a scan or "
        "a kernel launch, one array passed twice is in-place work)",
        what, a_name, b_name, (void *)a->host, a->n * a->elem_size, (void *)b->host,
        b->n * b->elem_size);
    return WEFT_OK;
}

weft_status weft_alias_check_args(const weft_arg *args, size_t nargs)
{
    for (size_t j = 1; j < nargs; j++) {
        if (args[j].kind > WEFT_ARG_WHOLE) continue;
        for (size_t i = 0; i < j; i++) {
            if (args[i].kind > WEFT_ARG_WHOLE) continue;
            char first[32], second[32];
            snprintf(first, sizeof first, "argument %zu", i);
            snprintf(second, sizeof second, "argument %zu", j);
            RETURN_ON_ERROR(
                weft_alias_check("weft_launch", args[i].array, first, args[j].array, second));
        }
    }
    return WEFT_OK;
}
