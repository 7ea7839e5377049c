/* The public questions about a context's devices. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "../dev/device.h"

#include <string.h>

const char *weft_device_kind_name(weft_device_kind kind)
{
    static const char *const names[] = {"host", "cpu", "gpu", "accelerator", "other"};
    return (unsigned)kind <= WEFT_DEVICE_OTHER ? names[kind] : "unknown";
}

weft_status weft_device_count(const weft_ctx *ctx, size_t *count)
{
    RETURN_IF(!ctx || !count, WEFT_ERR_NULL, "weft_device_count: NULL argument");
    *count = ctx->ndevices;
    return WEFT_OK;
}

weft_status weft_device_get_info(weft_ctx *ctx, size_t index, weft_device_info *info)
{
    RETURN_IF(!ctx || !info, WEFT_ERR_NULL, "weft_device_get_info: NULL argument");
    RETURN_IF(index >= ctx->ndevices, WEFT_ERR_RANGE, "device %zu of %zu", index, ctx->ndevices);
    *info = ctx->devices[index].info;
    return WEFT_OK;
}

weft_status weft_device_impl(const weft_ctx *ctx, size_t index, const char *primitive,
                             const char **impl)
{
    RETURN_IF(!ctx || !primitive || !impl, WEFT_ERR_NULL, "weft_device_impl: NULL argument");
    RETURN_IF(index >= ctx->ndevices, WEFT_ERR_RANGE, "device %zu of %zu", index, ctx->ndevices);
    RETURN_IF(strcmp(primitive, "axpy") != 0 && strcmp(primitive, "sum") != 0, WEFT_ERR_INVALID_ARG,
              "unknown primitive \"%s\" (axpy, sum)", primitive);
    const weft_device *dev = &ctx->devices[index];
    *impl = dev->ops.impl(dev, primitive);
    return WEFT_OK;
}
