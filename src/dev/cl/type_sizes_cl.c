/* Type sizes as the device's compiler lays the types out: a kernel inserted
 * in the user's source writes sizeof of each, and the device runs it once.
 * weft reads sources itself to check arrays against parameters, but a
 * reader that is not the compiler misreads some (a typedef chosen by an
 * #if it cannot evaluate, a comment continued by a backslash): sized too
 * small, an array let the kernel write past its end. The compiler cannot
 * misread its own source. */
#include "cl_common.h"
#include "../../core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* source with a kernel writing sizeof(types[k]) to out[k] inserted at
 * `at`; NULL without memory. Line ends around it: a `//` comment ending in
 * a backslash before it continues onto the next line only. */
static char *probe_source(const char *source, size_t at, const char *const *types, size_t ntypes)
{
    static const char head[] = "\n\n__kernel void weft_type_sizes(__global ulong *out)\n{\n";
    size_t length = strlen(source);
    if (at > length) at = length;
    size_t bytes = length + sizeof head + 8;
    for (size_t k = 0; k < ntypes; k++)
        bytes += strlen(types[k]) + 48;
    char *text = malloc(bytes);
    if (!text) return NULL;
    size_t used = (size_t)snprintf(text, bytes, "%.*s%s", (int)at, source, head);
    for (size_t k = 0; k < ntypes; k++)
        used += (size_t)snprintf(text + used, bytes - used, "    out[%zu] = sizeof(%s);\n", k,
                                 types[k]);
    snprintf(text + used, bytes - used, "}\n%s", source + at);
    return text;
}

weft_status weft_cl_type_sizes(weft_device *dev, const char *source, size_t at, const char *options,
                               const char *const *types, size_t ntypes, size_t *sizes)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    weft_cl_device *cl = weft_cl(dev);
    cl_program program = NULL;
    cl_kernel kernel = NULL;
    cl_mem out = NULL;
    cl_command_queue queue = NULL;
    cl_ulong *got = calloc(ntypes ? ntypes : 1, sizeof *got);
    char *text = probe_source(source, at, types, ntypes);
    weft_status st = WEFT_OK;
    cl_int err = CL_SUCCESS;
    GOTO_ERROR_IF(!got || !text, WEFT_ERR_NOMEM, "cannot ask the compiler for type sizes");
    /* Through the program cache: a later process reads the binary back. */
    GOTO_ERROR_ON(weft_cl_program_get(dev, text, options, &program, NULL));
    kernel = clCreateKernel(program, "weft_type_sizes", &err);
    if (err == CL_SUCCESS)
        out = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, ntypes * sizeof *got, NULL, &err);
    /* A queue of its own: nothing of the operations on the device's queue
     * is waited for, and nothing of theirs waits for this. */
    if (err == CL_SUCCESS) queue = clCreateCommandQueue(cl->context, cl->id, 0, &err);
    if (err == CL_SUCCESS) err = clSetKernelArg(kernel, 0, sizeof out, &out);
    size_t one = 1;
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &one, NULL, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(queue, out, CL_TRUE, 0, ntypes * sizeof *got, got, 0, NULL, NULL);
    GOTO_ERROR_IF(err != CL_SUCCESS, WEFT_ERR_OPENCL, "running the type-size kernel: %s",
                  weft_cl_error_name(err));
    for (size_t k = 0; k < ntypes; k++)
        sizes[k] = (size_t)got[k];
error:
    if (queue) clReleaseCommandQueue(queue);
    if (out) clReleaseMemObject(out);
    if (kernel) clReleaseKernel(kernel);
    if (program) clReleaseProgram(program);
    free(text);
    free(got);
    return st;
}
