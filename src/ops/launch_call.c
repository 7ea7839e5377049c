#include "launch_call.h"

void weft_launch_describe(const weft_launch_job *job, const weft_piece *piece,
                          weft_kernel_arg *args, void *const *buffers, weft_kernel_call *call)
{
    const weft_range *r = &job->range;
    *call =
        (weft_kernel_call){.name = job->name, .dims = r->dims, .args = args, .nargs = job->nargs};
    for (unsigned d = 0; d < r->dims; d++) {
        call->global[d] = r->size[d];
        call->local[d] = r->local[d];
    }
    unsigned dim = weft_range_split_dim(r);
    call->offset[dim] = piece->begin;
    call->global[dim] = piece->end - piece->begin;
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        if (a->kind <= WEFT_ARG_WHOLE)
            args[k] = (weft_kernel_arg){.kind = WEFT_KERNEL_ARG_BUFFER,
                                        .buffer = buffers ? buffers[k] : NULL};
        else if (a->kind == WEFT_ARG_SCALAR)
            args[k] = (weft_kernel_arg){.kind = WEFT_KERNEL_ARG_VALUE,
                                        .value = &a->value,
                                        .bytes = weft_dtype_size(a->dtype)};
        else
            args[k] = (weft_kernel_arg){.kind = WEFT_KERNEL_ARG_LOCAL, .bytes = a->local_bytes};
    }
}

int weft_launch_arg_whole(const weft_arg *a)
{
    return a->kind == WEFT_ARG_WHOLE || a->array->read_only;
}

void weft_launch_rows_read(const weft_launch_job *job, size_t k, const weft_piece *piece,
                           size_t *begin, size_t *end)
{
    const weft_arg *a = &job->args[k];
    size_t outer = weft_range_outer(&job->range), inner = a->array->n / outer;
    if (weft_launch_arg_whole(a)) {
        *begin = 0;
        *end = a->array->n;
        return;
    }
    size_t h = a->kind == WEFT_ARG_HALO ? a->halo : 0;
    size_t first = piece->begin > h ? piece->begin - h : 0;
    size_t last = outer - piece->end > h ? piece->end + h : outer;
    *begin = first * inner;
    *end = last == outer ? a->array->n : last * inner; /* a launch run whole reads all */
}
