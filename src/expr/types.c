/* What the language needs to know of dtypes. */
#include "expr.h"

int weft_dtype_is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

int weft_dtype_is_signed(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64 || weft_dtype_is_float(t);
}
