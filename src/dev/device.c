/* What is asked of any device, whatever its driver. */
#include "device.h"

int weft_device_native(const weft_device *dev, weft_prim prim)
{
    const weft_backend *ref = weft_backend_reference(), *ops = &dev->ops;
    switch (prim) {
    case WEFT_PRIM_AXPY:
        return ops->axpy != ref->axpy;
    case WEFT_PRIM_MAP_EXPR:
        return ops->map_expr != ref->map_expr;
    case WEFT_PRIM_REDUCE_EXPR:
        return ops->reduce_expr != ref->reduce_expr;
    case WEFT_PRIM_SCAN_TOTALS:
        return ops->scan_totals != ref->scan_totals;
    case WEFT_PRIM_SCAN_APPLY:
        return ops->scan_apply != ref->scan_apply;
    case WEFT_PRIM_SORT:
        return ops->sort != ref->sort;
    case WEFT_PRIM_HISTOGRAM:
        return ops->histogram != ref->histogram;
    case WEFT_PRIM_SCATTER_ADD:
        return ops->scatter_add != ref->scatter_add;
    case WEFT_PRIM_RANDOM:
        return ops->random != ref->random;
    case WEFT_PRIM_REDUCE_BY_KEY:
        return ops->reduce_by_key != ref->reduce_by_key;
    }
    return 0;
}
