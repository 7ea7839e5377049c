#define _POSIX_C_SOURCE 200809L
#define CL_TARGET_OPENCL_VERSION 120
#include "bench_clock.h"
#include "raw_launch.h"

#include <CL/cl.h>
#include <stdlib.h>
#include <time.h>

struct raw_launch {
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernel;
    cl_mem buffer;
};

cl_device_id raw_find_device(unsigned index)
{
    cl_platform_id platforms[16];
    cl_uint nplatforms = 0;
    if (clGetPlatformIDs(16, platforms, &nplatforms) != CL_SUCCESS) return NULL;
    for (cl_uint p = 0; p < nplatforms && p < 16; p++) {
        cl_device_id ids[64];
        cl_uint n = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 64, ids, &n) != CL_SUCCESS) continue;
        if (n > 64) n = 64;
        if (index < n) return ids[index];
        index -= n;
    }
    return NULL;
}

raw_launch *raw_launch_create(unsigned index)
{
    cl_device_id device = raw_find_device(index);
    raw_launch *raw = device ? calloc(1, sizeof *raw) : NULL;
    if (!raw) return NULL;
    cl_int err = CL_SUCCESS;
    const char *src = NOP_KERNEL_SOURCE;
    raw->context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (err == CL_SUCCESS) raw->queue = clCreateCommandQueue(raw->context, device, 0, &err);
    if (err == CL_SUCCESS)
        raw->program = clCreateProgramWithSource(raw->context, 1, &src, NULL, &err);
    if (err == CL_SUCCESS) err = clBuildProgram(raw->program, 1, &device, NULL, NULL, NULL);
    if (err == CL_SUCCESS) raw->kernel = clCreateKernel(raw->program, "nop", &err);
    if (err == CL_SUCCESS)
        raw->buffer = clCreateBuffer(raw->context, CL_MEM_READ_WRITE, sizeof(cl_int), NULL, &err);
    if (err == CL_SUCCESS) err = clSetKernelArg(raw->kernel, 0, sizeof raw->buffer, &raw->buffer);
    if (err != CL_SUCCESS) {
        raw_launch_free(raw);
        return NULL;
    }
    return raw;
}

void raw_launch_free(raw_launch *raw)
{
    if (!raw) return;
    if (raw->buffer) clReleaseMemObject(raw->buffer);
    if (raw->kernel) clReleaseKernel(raw->kernel);
    if (raw->program) clReleaseProgram(raw->program);
    if (raw->queue) clReleaseCommandQueue(raw->queue);
    if (raw->context) clReleaseContext(raw->context);
    free(raw);
}

static int enqueue(raw_launch *raw)
{
    size_t one = 1;
    return clEnqueueNDRangeKernel(raw->queue, raw->kernel, 1, NULL, &one, NULL, 0, NULL, NULL) ==
           CL_SUCCESS;
}

double raw_launch_sync_us(raw_launch *raw, int reps)
{
    double *t = reps > 0 ? malloc(sizeof *t * (size_t)reps) : NULL;
    if (!t) return -1;
    int ok = enqueue(raw) && clFinish(raw->queue) == CL_SUCCESS; /* warm up */
    for (int i = 0; ok && i < reps; i++) {
        double t0 = bench_now();
        ok = enqueue(raw) && clFinish(raw->queue) == CL_SUCCESS;
        t[i] = bench_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    double median = ok ? t[reps / 2] * 1e6 : -1;
    free(t);
    return median;
}

double raw_launch_pipelined_us(raw_launch *raw, int count)
{
    if (count < 1 || !enqueue(raw) || clFinish(raw->queue) != CL_SUCCESS) return -1;
    double t0 = bench_now();
    for (int i = 0; i < count; i++)
        if (!enqueue(raw)) return -1;
    if (clFinish(raw->queue) != CL_SUCCESS) return -1;
    return (bench_now() - t0) / count * 1e6;
}
