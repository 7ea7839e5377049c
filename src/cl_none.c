/* Built without OpenCL (WEFT_WITH_OPENCL=OFF): the host pool is the only device. */
#include "backend_cl.h"

void weft_cl_discover(weft_ctx *ctx)
{
    weft_ctx_note(ctx, "weft was built without OpenCL (WEFT_WITH_OPENCL=OFF)");
}

void weft_backend_cl_init(weft_backend *ops)
{
    weft_backend_host_init(ops);
}

void weft_cl_device_release(weft_device *dev)
{
    (void)dev;
}

void weft_cl_program_cache_release(weft_ctx *ctx)
{
    (void)ctx;
}

weft_status weft_cl_build_for(weft_device *dev, const char *source, const char *options,
                              void **handle, char **log)
{
    (void)dev;
    (void)source;
    (void)options;
    *handle = NULL;
    *log = NULL;
    return WEFT_OK;
}

void weft_cl_program_release(void *handle)
{
    (void)handle;
}

weft_status weft_cl_program_cache_create(weft_ctx *ctx)
{
    (void)ctx;
    return WEFT_OK;
}

void weft_cl_kernel_release(void *kernel)
{
    (void)kernel;
}

#include "launch.h"

weft_status weft_cl_kernel_params(weft_program *p, size_t dev, const char *name, weft_param *params,
                                  size_t capacity, size_t *count)
{
    (void)p;
    (void)dev;
    (void)name;
    (void)params;
    (void)capacity;
    *count = 0;
    return WEFT_ERR_UNSUPPORTED;
}

weft_status weft_cl_enqueue_piece(weft_launch_job *job, weft_launch_piece *piece,
                                  void *const *buffers)
{
    (void)job;
    (void)piece;
    (void)buffers;
    return weft_error_set(WEFT_ERR_UNSUPPORTED, "built without OpenCL");
}

void weft_cl_piece_done(weft_launch_job *job, weft_launch_piece *piece)
{
    (void)job;
    (void)piece;
}

#include "launch_limits.h"

weft_status weft_cl_launch_check_limits(weft_launch_job *job, size_t dev)
{
    (void)job;
    (void)dev; /* no OpenCL device to check */
    return WEFT_OK;
}
