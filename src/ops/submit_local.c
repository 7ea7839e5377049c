#include "submit_local.h"
#include "../array.h"
#include "../error.h"

#include <stdlib.h>
#include <string.h>

/* Every array one chunk the host owns: the primitive runs on the pool alone. */
static int host_only(const weft_op *op)
{
    for (size_t i = 0; i < op->narrays; i++)
        if (op->arrays[i]->nchunks != 1 || op->arrays[i]->chunks[0].device != 0) return 0;
    return op->narrays > 0;
}

weft_status weft_submit_local(weft_stream *stream, const weft_local_op *local, weft_future **future)
{
    weft_status status;
    local->op->host_only = host_only(local->op);
    if (!future && weft_stream_run_inline(stream, local->op, &status)) {
        if (local->release) local->release(local->op);
        return status;
    }
    weft_op *copy = malloc(local->size);
    RETURN_IF(!copy, WEFT_ERR_NOMEM, "cannot allocate the operation");
    memcpy(copy, local->op, local->size);
    if (local->relink) local->relink(copy, local->op);
    return weft_stream_submit(stream, copy, future);
}
