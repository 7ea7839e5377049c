#define CL_TARGET_OPENCL_VERSION 120
#include "raw_opencl.h"

#include <CL/cl.h>
#include <stdlib.h>

#ifdef WEFT_BENCH_CLBLAST
#include <clblast_c.h>
#endif

enum { CHUNK = 4096 };

static const char source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "#define CHUNK 4096\n"
    "#define AXPY(N, T, T16) __kernel void N(ulong n, T a, __global const T *x, __global T *y) "
    "{\\\n"
    "  ulong b = get_global_id(0) * CHUNK, e = min(b + CHUNK, n), i = b;\\\n"
    "  for (; i + 16 <= e; i += 16) vstore16(a * vload16(0, x + i) + vload16(0, y + i), 0, y + "
    "i);\\\n"
    "  for (; i < e; i++) y[i] = a * x[i] + y[i]; }\n"
    "AXPY(axpy_f32, float, float16)\n"
    "__kernel void axpy_each_f32(float a, __global const float *x, __global float *y) {\n"
    "  size_t i = get_global_id(0); y[i] = a * x[i] + y[i]; }\n"
    "AXPY(axpy_f64, double, double16)\n"
    "#define SUM(N, T, T16) __kernel void N(ulong n, __global const T *x, __global double *out) "
    "{\\\n"
    "  ulong b = get_global_id(0) * CHUNK, e = min(b + CHUNK, n), i = b;\\\n"
    "  double16 acc = 0;\\\n"
    "  for (; i + 16 <= e; i += 16) acc += convert_double16(vload16(0, x + i));\\\n"
    "  double s = 0; for (; i < e; i++) s += x[i];\\\n"
    "  double8 h = acc.lo + acc.hi; double4 q = h.lo + h.hi; double2 d = q.lo + q.hi;\\\n"
    "  out[get_global_id(0)] = d.lo + d.hi + s; }\n"
    "SUM(sum_f32, float, float16)\n"
    "SUM(sum_f64, double, double16)\n"
    "#define DOT(N, T, T16) __kernel void N(ulong n, __global const T *x, __global const T *y, "
    "__global double *out) {\\\n"
    "  ulong b = get_global_id(0) * CHUNK, e = min(b + CHUNK, n), i = b;\\\n"
    "  double16 acc = 0;\\\n"
    "  for (; i + 16 <= e; i += 16) acc += convert_double16(vload16(0, x + i) * vload16(0, y + "
    "i));\\\n"
    "  double s = 0; for (; i < e; i++) s += x[i] * y[i];\\\n"
    "  double8 h = acc.lo + acc.hi; double4 q = h.lo + h.hi; double2 d = q.lo + q.hi;\\\n"
    "  out[get_global_id(0)] = d.lo + d.hi + s; }\n"
    "DOT(dot_f32, float, float16)\n"
    "DOT(dot_f64, double, double16)\n";

struct raw_cl {
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel axpy[2], sum[2], dot[2], axpy_each;
    cl_mem x, y, partials, dot_out;
    double *host_partials;
    size_t n, groups;
    int f64;
};

raw_cl *raw_cl_create(void)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_uint count = 0;
    if (clGetPlatformIDs(1, &platform, &count) != CL_SUCCESS || count == 0) return NULL;
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) != CL_SUCCESS) return NULL;
    raw_cl *raw = calloc(1, sizeof *raw);
    cl_int err;
    raw->context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    raw->queue = clCreateCommandQueue(raw->context, device, 0, &err);
    const char *src = source;
    raw->program = clCreateProgramWithSource(raw->context, 1, &src, NULL, &err);
    if (clBuildProgram(raw->program, 1, &device, "-w", NULL, NULL) != CL_SUCCESS) {
        raw_cl_free(raw);
        return NULL;
    }
    raw->axpy[0] = clCreateKernel(raw->program, "axpy_f32", &err);
    raw->axpy[1] = clCreateKernel(raw->program, "axpy_f64", &err);
    raw->axpy_each = clCreateKernel(raw->program, "axpy_each_f32", &err);
    raw->sum[0] = clCreateKernel(raw->program, "sum_f32", &err);
    raw->sum[1] = clCreateKernel(raw->program, "sum_f64", &err);
    raw->dot[0] = clCreateKernel(raw->program, "dot_f32", &err);
    raw->dot[1] = clCreateKernel(raw->program, "dot_f64", &err);
    return raw;
}

void raw_cl_unbind(raw_cl *raw)
{
    if (raw->x) clReleaseMemObject(raw->x);
    if (raw->y) clReleaseMemObject(raw->y);
    if (raw->partials) clReleaseMemObject(raw->partials);
    if (raw->dot_out) clReleaseMemObject(raw->dot_out);
    free(raw->host_partials);
    raw->x = raw->y = raw->partials = raw->dot_out = NULL;
    raw->host_partials = NULL;
}

int raw_cl_bind(raw_cl *raw, int f64, void *x, void *y, size_t n)
{
    raw_cl_unbind(raw);
    size_t bytes = n * (f64 ? 8 : 4);
    cl_int e1, e2, e3;
    raw->f64 = f64;
    raw->n = n;
    raw->groups = (n + CHUNK - 1) / CHUNK;
    raw->x = clCreateBuffer(raw->context, CL_MEM_USE_HOST_PTR, bytes, x, &e1);
    raw->y = clCreateBuffer(raw->context, CL_MEM_USE_HOST_PTR, bytes, y, &e2);
    raw->partials = clCreateBuffer(raw->context, CL_MEM_READ_WRITE, raw->groups * 8, NULL, &e3);
    raw->host_partials = malloc(raw->groups * 8);
    cl_int e4;
    raw->dot_out = clCreateBuffer(raw->context, CL_MEM_READ_WRITE, 8, NULL, &e4);
    return e4 == CL_SUCCESS && e1 == CL_SUCCESS && e2 == CL_SUCCESS && e3 == CL_SUCCESS &&
           raw->host_partials;
}

int raw_cl_axpy_chain(raw_cl *raw, double a, int count)
{
    cl_kernel k = raw->axpy[raw->f64];
    cl_ulong n = raw->n;
    float af = (float)a;
    clSetKernelArg(k, 0, sizeof n, &n);
    if (raw->f64)
        clSetKernelArg(k, 1, sizeof a, &a);
    else
        clSetKernelArg(k, 1, sizeof af, &af);
    clSetKernelArg(k, 2, sizeof raw->x, &raw->x);
    clSetKernelArg(k, 3, sizeof raw->y, &raw->y);
    size_t global = raw->groups;
    for (int i = 0; i < count; i++) /* one in-order queue: each waits for the one before */
        if (clEnqueueNDRangeKernel(raw->queue, k, 1, NULL, &global, NULL, 0, NULL, NULL) !=
            CL_SUCCESS)
            return 0;
    return clFinish(raw->queue) == CL_SUCCESS;
}

int raw_cl_axpy_each_chain(raw_cl *raw, float a, int count)
{
    cl_kernel k = raw->axpy_each;
    clSetKernelArg(k, 0, sizeof a, &a);
    clSetKernelArg(k, 1, sizeof raw->x, &raw->x);
    clSetKernelArg(k, 2, sizeof raw->y, &raw->y);
    size_t global = raw->n;
    for (int i = 0; i < count; i++)
        if (clEnqueueNDRangeKernel(raw->queue, k, 1, NULL, &global, NULL, 0, NULL, NULL) !=
            CL_SUCCESS)
            return 0;
    return clFinish(raw->queue) == CL_SUCCESS;
}

int raw_cl_axpy(raw_cl *raw, double a)
{
    return raw_cl_axpy_chain(raw, a, 1);
}

static int chunk_sums(raw_cl *raw, cl_kernel k, double *result);

int raw_cl_sum(raw_cl *raw, double *result)
{
    cl_kernel k = raw->sum[raw->f64];
    cl_ulong n = raw->n;
    clSetKernelArg(k, 0, sizeof n, &n);
    clSetKernelArg(k, 1, sizeof raw->x, &raw->x);
    clSetKernelArg(k, 2, sizeof raw->partials, &raw->partials);
    return chunk_sums(raw, k, result);
}

int raw_cl_dot(raw_cl *raw, double *result)
{
    cl_kernel k = raw->dot[raw->f64];
    cl_ulong n = raw->n;
    clSetKernelArg(k, 0, sizeof n, &n);
    clSetKernelArg(k, 1, sizeof raw->x, &raw->x);
    clSetKernelArg(k, 2, sizeof raw->y, &raw->y);
    clSetKernelArg(k, 3, sizeof raw->partials, &raw->partials);
    return chunk_sums(raw, k, result);
}

static int chunk_sums(raw_cl *raw, cl_kernel k, double *result)
{
    size_t global = raw->groups;
    if (clEnqueueNDRangeKernel(raw->queue, k, 1, NULL, &global, NULL, 0, NULL, NULL) != CL_SUCCESS)
        return 0;
    if (clEnqueueReadBuffer(raw->queue, raw->partials, CL_TRUE, 0, raw->groups * 8,
                            raw->host_partials, 0, NULL, NULL) != CL_SUCCESS)
        return 0;
    double s = 0;
    for (size_t g = 0; g < raw->groups; g++)
        s += raw->host_partials[g];
    *result = s;
    return 1;
}

void raw_cl_free(raw_cl *raw)
{
    if (!raw) return;
    raw_cl_unbind(raw);
    if (raw->axpy_each) clReleaseKernel(raw->axpy_each);
    for (int i = 0; i < 2; i++) {
        if (raw->axpy[i]) clReleaseKernel(raw->axpy[i]);
        if (raw->sum[i]) clReleaseKernel(raw->sum[i]);
        if (raw->dot[i]) clReleaseKernel(raw->dot[i]);
    }
    if (raw->program) clReleaseProgram(raw->program);
    if (raw->queue) clReleaseCommandQueue(raw->queue);
    if (raw->context) clReleaseContext(raw->context);
    free(raw);
}

#ifdef WEFT_BENCH_CLBLAST
int raw_cl_has_clblast(void)
{
    return 1;
}

int raw_cl_clblast_axpy(raw_cl *raw, double a)
{
    CLBlastStatusCode st =
        raw->f64 ? CLBlastDaxpy(raw->n, a, raw->x, 0, 1, raw->y, 0, 1, &raw->queue, NULL)
                 : CLBlastSaxpy(raw->n, (float)a, raw->x, 0, 1, raw->y, 0, 1, &raw->queue, NULL);
    return st == CLBlastSuccess && clFinish(raw->queue) == CL_SUCCESS;
}

int raw_cl_clblast_dot(raw_cl *raw, double *result)
{
    CLBlastStatusCode st =
        raw->f64
            ? CLBlastDdot(raw->n, raw->dot_out, 0, raw->x, 0, 1, raw->y, 0, 1, &raw->queue, NULL)
            : CLBlastSdot(raw->n, raw->dot_out, 0, raw->x, 0, 1, raw->y, 0, 1, &raw->queue, NULL);
    if (st != CLBlastSuccess) return 0;
    double d = 0;
    float f = 0;
    cl_int err = clEnqueueReadBuffer(raw->queue, raw->dot_out, CL_TRUE, 0, raw->f64 ? 8 : 4,
                                     raw->f64 ? (void *)&d : (void *)&f, 0, NULL, NULL);
    *result = raw->f64 ? d : f;
    return err == CL_SUCCESS;
}
#else
int raw_cl_has_clblast(void)
{
    return 0;
}

int raw_cl_clblast_axpy(raw_cl *raw, double a)
{
    (void)raw;
    (void)a;
    return 0;
}

int raw_cl_clblast_dot(raw_cl *raw, double *result)
{
    (void)raw;
    (void)result;
    return 0;
}
#endif
