/* What is asked of any device, whatever its driver. */
#include "device.h"

#include <stddef.h>
#include <string.h>

/* Where each primitive's entry sits in the table (the last is
 * WEFT_PRIM_REDUCE_BY_KEY). */
static const size_t prim_entry[] = {
    [WEFT_PRIM_AXPY] = offsetof(weft_backend, axpy),
    [WEFT_PRIM_MAP_EXPR] = offsetof(weft_backend, map_expr),
    [WEFT_PRIM_REDUCE_EXPR] = offsetof(weft_backend, reduce_expr),
    [WEFT_PRIM_SCAN_TOTALS] = offsetof(weft_backend, scan_totals),
    [WEFT_PRIM_SCAN_APPLY] = offsetof(weft_backend, scan_apply),
    [WEFT_PRIM_SORT] = offsetof(weft_backend, sort),
    [WEFT_PRIM_HISTOGRAM] = offsetof(weft_backend, histogram),
    [WEFT_PRIM_SCATTER_ADD] = offsetof(weft_backend, scatter_add),
    [WEFT_PRIM_RANDOM] = offsetof(weft_backend, random),
    [WEFT_PRIM_REDUCE_BY_KEY] = offsetof(weft_backend, reduce_by_key),
};

_Static_assert(sizeof prim_entry / sizeof prim_entry[0] == WEFT_PRIM_REDUCE_BY_KEY + 1,
               "a primitive without its entry");

int weft_device_native(const weft_device *dev, weft_prim prim)
{
    if ((size_t)prim >= sizeof prim_entry / sizeof prim_entry[0]) return 0;
    /* The entries differ in type, not in how a function pointer is held. */
    const char *ops = (const char *)&dev->ops, *ref = (const char *)weft_backend_reference();
    return memcmp(ops + prim_entry[prim], ref + prim_entry[prim], sizeof(void (*)(void))) != 0;
}
