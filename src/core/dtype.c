/* Element types: sizes and names, shared by every layer. */
#include "weft.h"

static const size_t dtype_sizes[WEFT_DTYPE_COUNT] = {4, 8, 4, 4, 8, 8, 1};
static const char *const dtype_names[WEFT_DTYPE_COUNT] = {"f32", "f64", "i32", "u32",
                                                          "i64", "u64", "u8"};

size_t weft_dtype_size(weft_dtype dtype)
{
    return (unsigned)dtype < WEFT_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

const char *weft_dtype_name(weft_dtype dtype)
{
    return (unsigned)dtype < WEFT_DTYPE_COUNT ? dtype_names[dtype] : "invalid";
}
