/* Device discovery: every platform and device the ICD loader knows, each
 * given its own queue (in one context per platform) and trusted only after a
 * smoke kernel. */
#include "backend_cl.h"
#include "../drivers.h"
#include "cl_common.h"
#include "cl_macros.h"
#include "../../core/env.h"
#include "../../core/error.h"
#include "../../core/kernels.h"
#include "../../core/process.h"

#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void info_string(cl_device_id id, cl_device_info what, char *out, size_t cap)
{
    out[0] = '\0';
    if (clGetDeviceInfo(id, what, cap, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[cap - 1] = '\0';
}

static weft_device_kind kind_of(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU) return WEFT_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_CPU) return WEFT_DEVICE_CPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return WEFT_DEVICE_ACCELERATOR;
    return WEFT_DEVICE_OTHER;
}

static void describe(weft_device *dev, cl_platform_id platform, cl_device_id id)
{
    const weft_dev_services *s = dev->services;
    weft_cl_device *cl = weft_cl(dev);
    weft_device_info *info = &dev->info;
    info_string(id, CL_DEVICE_NAME, info->name, sizeof info->name);
    info_string(id, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    info_string(id, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof cl->platform_version,
                      cl->platform_version, NULL);
    cl_device_type type = 0;
    cl_ulong mem = 0, max_alloc = 0;
    cl_uint units = 0, align_bits = 0;
    cl_bool unified = CL_FALSE;
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    clGetDeviceInfo(id, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    clGetDeviceInfo(id, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    info->kind = kind_of(type);
    info->global_mem_bytes = mem;
    info->max_alloc_bytes = s->max_alloc && s->max_alloc < max_alloc ? s->max_alloc : max_alloc;
    info->compute_units = units;
    info->zero_copy = s->zero_copy && (unified || info->kind == WEFT_DEVICE_CPU) &&
                      align_bits / 8 <= s->wrap_alignment;
    cl->has_fp64 = fp64 != 0;
    weft_cl_compiler_macros(id, dev->compiler_macros, sizeof dev->compiler_macros);
    cl->base_align = align_bits / 8;
    const char *klass = weft_env_word("WEFT_KERNEL_CLASS");
    cl->gpu_class = klass ? strcmp(klass, "gpu") == 0 : info->kind == WEFT_DEVICE_GPU;
}

/* shared: the platform's context for all its devices, or NULL (then the
 * device gets its own, and copies to its peers go through the host). */
static weft_status open_device(weft_device *dev, cl_context shared)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_int err;
    if (shared) {
        clRetainContext(shared);
        cl->context = shared;
    } else {
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform,
                                         0};
        cl->context = clCreateContext(props, 1, &cl->id, NULL, NULL, &err);
        if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateContext", err);
    }
    /* Profiling on: user-kernel launches report their device time. */
    cl->queue = clCreateCommandQueue(cl->context, cl->id, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateCommandQueue", err);
    /* A copy queue only when WEFT_COPY_QUEUE=1 asks: on PoCL it showed no
     * gain (bench/RESULTS.md) and no GPU measured it (docs/architecture.md,
     * "Asynchronous operations"). */
    if (!weft_env_flag("WEFT_COPY_QUEUE", 0)) {
        dev->ops.upload = NULL;
        dev->ops.depend = NULL;
        return WEFT_OK;
    }
    cl->copy_queue = clCreateCommandQueue(cl->context, cl->id, 0, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateCommandQueue (copies)", err);
    return WEFT_OK;
}

/* Builds and runs kernels/smoke.cl on 64 items and checks every value. */
static weft_status smoke_test(weft_device *dev)
{
    enum { ITEMS = 64 };
    weft_cl_device *cl = weft_cl(dev);
    RETURN_IF(dev->services->faults & WEFT_FAULT_SMOKE, WEFT_ERR_DEVICE,
              "smoke kernel failed on purpose (WEFT_FAULT=smoke)");
    cl_program program = NULL;
    cl_kernel kernel = NULL;
    cl_mem out = NULL;
    cl_uint got[ITEMS];
    weft_status st = WEFT_OK;
    cl_int err;
    GOTO_ERROR_ON(weft_cl_program_get(dev, weft_kernel_smoke, "-cl-std=CL1.2 -w", &program, NULL));
    kernel = clCreateKernel(program, "smoke", &err);
    GOTO_ERROR_IF(err != CL_SUCCESS, WEFT_ERR_OPENCL, "clCreateKernel(smoke): %s",
                  weft_cl_error_name(err));
    out = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, sizeof got, NULL, &err);
    GOTO_ERROR_IF(err != CL_SUCCESS, WEFT_ERR_OPENCL, "clCreateBuffer: %s",
                  weft_cl_error_name(err));
    err = clSetKernelArg(kernel, 0, sizeof out, &out);
    size_t global = ITEMS;
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(cl->queue, out, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL);
    GOTO_ERROR_IF(err != CL_SUCCESS, WEFT_ERR_OPENCL, "running the smoke kernel: %s (%d)",
                  weft_cl_error_name(err), (int)err);
    for (cl_uint i = 0; i < ITEMS; i++)
        GOTO_ERROR_IF(got[i] != i * 3u + 1u, WEFT_ERR_DEVICE,
                      "smoke kernel computed %u at %u instead of %u", got[i], i, i * 3u + 1u);
error:
    if (out) clReleaseMemObject(out);
    if (kernel) clReleaseKernel(kernel);
    if (program) clReleaseProgram(program);
    return st;
}

static void add_device(const weft_dev_services *s, struct weft_cl_programs *programs,
                       cl_platform_id platform, cl_device_id id, cl_context shared)
{
    weft_cl_device *cl = calloc(1, sizeof *cl);
    weft_device *dev = cl ? s->add_device(s->owner) : NULL;
    if (!dev) {
        free(cl);
        weft_dev_note(s, "out of memory while adding an OpenCL device");
        return;
    }
    cl->programs = programs;
    cl->platform = platform;
    cl->id = id;
    static atomic_ulong serials;
    cl->serial = atomic_fetch_add(&serials, 1) + 1;
    cl->pid = weft_process_id();
    pthread_mutex_init(&cl->lock, NULL);
    pthread_mutex_init(&cl->queue_lock, NULL);
    pthread_mutex_init(&cl->submit, NULL);
    dev->impl = cl;
    weft_backend_cl_init(&dev->ops);
    describe(dev, platform, id);
    weft_status st = open_device(dev, shared);
    if (st == WEFT_OK && s->smoke_test) st = smoke_test(dev);
    dev->info.usable = st == WEFT_OK;
    if (!dev->info.usable) {
        snprintf(dev->info.reason, sizeof dev->info.reason, "%s", weft_last_error());
        weft_dev_note(s, "device %zu (%s) set aside: %s", dev->index, dev->info.name,
                      dev->info.reason);
    }
}

static const char *vendors_dir(void)
{
    const char *env = getenv("OCL_ICD_VENDORS");
    return env ? env : "/etc/OpenCL/vendors";
}

/* The process that first looked for platforms. An OpenCL implementation's
 * threads and locks do not survive fork(): a child that creates a context
 * on a platform its parent set up waits forever (PoCL's pthread driver, in
 * pthread_cond_wait). Called under the platform lock. */
static pid_t platforms_pid;

void weft_cl_discover(const weft_dev_services *s, void *programs)
{
    pid_t self = weft_process_id();
    if (platforms_pid && platforms_pid != self) {
        weft_dev_note(s, "OpenCL was set up before fork() made this process: a forked child "
                         "uses the pool only (OpenCL platforms do not survive fork(); create "
                         "contexts in a process that set up none, e.g. multiprocessing's "
                         "spawn start method)");
        return;
    }
    cl_uint nplatforms = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &nplatforms);
    if (err == CL_SUCCESS && nplatforms > 0) platforms_pid = self;
    if (err != CL_SUCCESS || nplatforms == 0) {
        weft_dev_note(s,
                      "no OpenCL platform: clGetPlatformIDs returned %s (%d); the ICD loader found "
                      "no usable vendor file in %s (set OCL_ICD_VENDORS, or install an ICD such "
                      "as pocl-opencl-icd)",
                      weft_cl_error_name(err), (int)err, vendors_dir());
        return;
    }
    cl_platform_id *platforms = calloc(nplatforms, sizeof *platforms);
    if (!platforms || clGetPlatformIDs(nplatforms, platforms, NULL) != CL_SUCCESS) {
        free(platforms);
        weft_dev_note(s, "clGetPlatformIDs failed while listing %u platforms", nplatforms);
        return;
    }
    for (cl_uint p = 0; p < nplatforms; p++) {
        char name[128] = "";
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof name, name, NULL);
        cl_uint ndev = 0;
        err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev);
        if (err != CL_SUCCESS || ndev == 0) {
            weft_dev_note(s, "platform %u (%s) has no devices: clGetDeviceIDs returned %s (%d)", p,
                          name, weft_cl_error_name(err), (int)err);
            continue;
        }
        cl_device_id *ids = calloc(ndev, sizeof *ids);
        if (ids &&
            clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, ndev, ids, NULL) == CL_SUCCESS) {
            /* One context for the platform's devices lets them copy from each
             * other's buffers; a platform that refuses one gets a context per
             * device. */
            cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                             (cl_context_properties)platforms[p], 0};
            cl_context shared = ndev > 1 && s->peer_copies
                                    ? clCreateContext(props, ndev, ids, NULL, NULL, &err)
                                    : NULL;
            for (cl_uint d = 0; d < ndev; d++)
                add_device(s, programs, platforms[p], ids[d], shared);
            if (shared) clReleaseContext(shared);
        }
        free(ids);
    }
    free(platforms);
}

const weft_driver weft_driver_opencl = {
    .name = "opencl",
    .open = weft_cl_programs_create,
    .discover = weft_cl_discover,
    .close = weft_cl_programs_release,
};
