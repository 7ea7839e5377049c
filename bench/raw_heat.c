#define _DEFAULT_SOURCE /* madvise */
#define CL_TARGET_OPENCL_VERSION 120
#include "bench_clock.h"
#include "raw_heat.h"
#include "raw_launch.h"

#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* What weft puts before a user's source unless asked for contraction
 * (src/program.c): without it the results would not be comparable bit for bit. */
static const char no_contraction[] = "#pragma OPENCL FP_CONTRACT OFF\n#line 1\n";

struct raw_heat {
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernel;
};

raw_heat *raw_heat_create(unsigned index, const char *source, const char *name)
{
    cl_device_id device = raw_find_device(index);
    raw_heat *raw = device ? calloc(1, sizeof *raw) : NULL;
    if (!raw) return NULL;
    cl_int err = CL_SUCCESS;
    const char *parts[2] = {no_contraction, source};
    raw->context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (err == CL_SUCCESS) raw->queue = clCreateCommandQueue(raw->context, device, 0, &err);
    if (err == CL_SUCCESS)
        raw->program = clCreateProgramWithSource(raw->context, 2, parts, NULL, &err);
    if (err == CL_SUCCESS) err = clBuildProgram(raw->program, 1, &device, NULL, NULL, NULL);
    if (err == CL_SUCCESS) raw->kernel = clCreateKernel(raw->program, name, &err);
    if (err != CL_SUCCESS) {
        raw_heat_free(raw);
        return NULL;
    }
    return raw;
}

void raw_heat_free(raw_heat *raw)
{
    if (!raw) return;
    if (raw->kernel) clReleaseKernel(raw->kernel);
    if (raw->program) clReleaseProgram(raw->program);
    if (raw->queue) clReleaseCommandQueue(raw->queue);
    if (raw->context) clReleaseContext(raw->context);
    free(raw);
}

static int set_step_args(cl_kernel kernel, cl_mem u, cl_mem v)
{
    return clSetKernelArg(kernel, 0, sizeof u, &u) == CL_SUCCESS &&
           clSetKernelArg(kernel, 1, sizeof v, &v) == CL_SUCCESS;
}

static void *huge_pages(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

static cl_mem buffer(raw_heat *raw, raw_heat_memory memory, void *host, const double *init,
                     size_t bytes)
{
    cl_int err;
    cl_mem_flags flags = CL_MEM_READ_WRITE;
    if (memory == RAW_HUGE_HOST_BUFFERS && !host) return NULL;
    if (memory == RAW_HUGE_HOST_BUFFERS) {
        if (init) memcpy(host, init, bytes);
        flags |= CL_MEM_USE_HOST_PTR;
    } else if (init) {
        host = (void *)init;
        flags |= CL_MEM_COPY_HOST_PTR;
    }
    cl_mem m = clCreateBuffer(raw->context, flags, bytes, host, &err);
    return err == CL_SUCCESS ? m : NULL;
}

double raw_heat_run(raw_heat *raw, raw_heat_memory memory, const double *u0, double *out, int n,
                    int steps, double r, size_t local)
{
    size_t bytes = sizeof(double) * (size_t)n, global = (size_t)n;
    void *hu = NULL, *hv = NULL;
    if (memory == RAW_HUGE_HOST_BUFFERS) {
        hu = huge_pages(bytes);
        hv = huge_pages(bytes);
    }
    /* Initialised as weft's arrays are (weft_array_from copies u0 in), outside the timing. */
    cl_mem u = buffer(raw, memory, hu, u0, bytes), v = buffer(raw, memory, hv, NULL, bytes);
    int ok = u && v && clSetKernelArg(raw->kernel, 2, sizeof n, &n) == CL_SUCCESS &&
             clSetKernelArg(raw->kernel, 3, sizeof r, &r) == CL_SUCCESS;
    double t0 = bench_now();
    for (int s = 0; ok && s < steps; s++) {
        ok = set_step_args(raw->kernel, u, v) &&
             clEnqueueNDRangeKernel(raw->queue, raw->kernel, 1, NULL, &global,
                                    local ? &local : NULL, 0, NULL, NULL) == CL_SUCCESS;
        cl_mem t = u;
        u = v;
        v = t;
    }
    ok = ok && clFinish(raw->queue) == CL_SUCCESS &&
         clEnqueueReadBuffer(raw->queue, u, CL_TRUE, 0, bytes, out, 0, NULL, NULL) == CL_SUCCESS;
    double t = bench_now() - t0;
    if (u) clReleaseMemObject(u);
    if (v) clReleaseMemObject(v);
    if (hu) munmap(hu, bytes);
    if (hv) munmap(hv, bytes);
    return ok ? t : -1;
}
