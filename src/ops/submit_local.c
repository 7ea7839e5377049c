#include "submit_local.h"
#include "../core/error.h"

#include <stdlib.h>
#include <string.h>

weft_status weft_submit_local(weft_stream *stream, const weft_local_op *local, weft_future **future)
{
    weft_status status;
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
