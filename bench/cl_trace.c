/* An LD_PRELOAD library that times the OpenCL calls a program makes: how
 * long each blocking transfer, launch and finish held the calling thread, per
 * queue (numbered in order of first use) and call. Used to see where a
 * launch's time goes without touching the library, e.g.
 *
 *   POCL_DEVICES="pthread pthread" WEFT_ZERO_COPY=0 CL_TRACE_LOG=16 CL_TRACE_SKIP=60 \
 *       LD_PRELOAD=build/bench/libcl_trace.so build/bench/bench_heat 1048576 200 1
 *
 * prints, at exit, the totals and a timeline of CL_TRACE_LOG calls after the
 * first CL_TRACE_SKIP. */
#define _GNU_SOURCE /* RTLD_NEXT */
#define CL_TARGET_OPENCL_VERSION 120
#include "bench_clock.h"

#include <CL/cl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { READ, WRITE, COPY, LAUNCH, FINISH, WAIT, KINDS };
enum { QUEUES = 8, NO_QUEUE = QUEUES, TIMELINE = 4096 };

static const char *const kind_names[KINDS] = {"clEnqueueReadBuffer",
                                              "clEnqueueWriteBuffer",
                                              "clEnqueueCopyBuffer",
                                              "clEnqueueNDRangeKernel",
                                              "clFinish",
                                              "clWaitForEvents"};

typedef struct {
    double start, seconds;
    int kind, queue;
    size_t size; /* bytes moved, or work-items launched */
} call_record;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cl_command_queue queues[QUEUES];
static int nqueues;
static long count[QUEUES + 1][KINDS];
static double total[QUEUES + 1][KINDS], longest[QUEUES + 1][KINDS];
static call_record timeline[TIMELINE];
static int ntimeline;
static long calls;

static int queue_number(cl_command_queue q)
{
    if (!q) return NO_QUEUE;
    for (int i = 0; i < nqueues; i++)
        if (queues[i] == q) return i;
    if (nqueues == QUEUES) return NO_QUEUE;
    queues[nqueues] = q;
    return nqueues++;
}

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v ? atol(v) : 0;
}

static void record(int kind, cl_command_queue q, size_t size, double start)
{
    double seconds = bench_now() - start;
    pthread_mutex_lock(&lock);
    int n = queue_number(q);
    count[n][kind]++;
    total[n][kind] += seconds;
    if (seconds > longest[n][kind]) longest[n][kind] = seconds;
    long wanted = env_long("CL_TRACE_LOG");
    if (calls++ >= env_long("CL_TRACE_SKIP") && ntimeline < wanted && ntimeline < TIMELINE)
        timeline[ntimeline++] = (call_record){start, seconds, kind, n, size};
    pthread_mutex_unlock(&lock);
}

#define REAL(name)                                                                                 \
    static __typeof__(name) *real;                                                                 \
    if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t offset,
                           size_t size, void *p, cl_uint n, const cl_event *w, cl_event *e)
{
    REAL(clEnqueueReadBuffer);
    double start = bench_now();
    cl_int err = real(q, b, blocking, offset, size, p, n, w, e);
    record(READ, q, size, start);
    return err;
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t offset,
                            size_t size, const void *p, cl_uint n, const cl_event *w, cl_event *e)
{
    REAL(clEnqueueWriteBuffer);
    double start = bench_now();
    cl_int err = real(q, b, blocking, offset, size, p, n, w, e);
    record(WRITE, q, size, start);
    return err;
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset,
                           size_t dst_offset, size_t size, cl_uint n, const cl_event *w,
                           cl_event *e)
{
    REAL(clEnqueueCopyBuffer);
    double start = bench_now();
    cl_int err = real(q, src, dst, src_offset, dst_offset, size, n, w, e);
    record(COPY, q, size, start);
    return err;
}

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset,
                              const size_t *global, const size_t *local, cl_uint n,
                              const cl_event *w, cl_event *e)
{
    REAL(clEnqueueNDRangeKernel);
    double start = bench_now();
    cl_int err = real(q, k, dims, offset, global, local, n, w, e);
    size_t items = 1;
    for (cl_uint d = 0; global && d < dims; d++)
        items *= global[d];
    record(LAUNCH, q, items, start);
    return err;
}

cl_int clFinish(cl_command_queue q)
{
    REAL(clFinish);
    double start = bench_now();
    cl_int err = real(q);
    record(FINISH, q, 0, start);
    return err;
}

cl_int clWaitForEvents(cl_uint n, const cl_event *events)
{
    REAL(clWaitForEvents);
    double start = bench_now();
    cl_int err = real(n, events);
    record(WAIT, NULL, n, start);
    return err;
}

__attribute__((destructor)) static void report(void)
{
    fprintf(stderr, "cl_trace: queue (q%d: none), call, count, total s, mean us, longest us\n",
            NO_QUEUE);
    for (int n = 0; n <= QUEUES; n++)
        for (int k = 0; k < KINDS; k++)
            if (count[n][k])
                fprintf(stderr, "  q%d %-24s %8ld %9.3f %10.1f %10.1f\n", n, kind_names[k],
                        count[n][k], total[n][k], total[n][k] / (double)count[n][k] * 1e6,
                        longest[n][k] * 1e6);
    if (ntimeline) fprintf(stderr, "cl_trace: timeline (start us, held us, call, queue, size)\n");
    for (int i = 0; i < ntimeline; i++) {
        const call_record *r = &timeline[i];
        fprintf(stderr, "  %10.1f %9.1f  %-24s q%d %zu\n", (r->start - timeline[0].start) * 1e6,
                r->seconds * 1e6, kind_names[r->kind], r->queue, r->size);
    }
}
