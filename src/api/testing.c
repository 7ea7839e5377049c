#include "testing.h"
#include "../core/ctx.h"
#include "../mem/layout.h"
#include "../dev/services.h"
#include "../exec/stream.h"
#include "../ops/expr_build.h"

void weft_testing_set_faults(weft_ctx *ctx, unsigned faults)
{
    ctx->faults = faults;
    atomic_store(&ctx->services->faults, faults);
}

long weft_testing_fault_calls(weft_ctx *ctx)
{
    return atomic_load(&ctx->fault_calls);
}

void weft_testing_fail_call(weft_ctx *ctx, long k)
{
    ctx->fault_call = k > 0 ? atomic_load(&ctx->fault_calls) + k : 0;
}

int weft_testing_fault_fired(weft_ctx *ctx)
{
    return ctx->fault_call > 0 && atomic_load(&ctx->fault_calls) >= ctx->fault_call;
}

static int stream_has(weft_ctx *ctx, int in_flight)
{
    pthread_mutex_lock(&ctx->stream->lock);
    int has = in_flight ? ctx->stream->inflight_head != NULL : ctx->stream->head != NULL;
    pthread_mutex_unlock(&ctx->stream->lock);
    return has;
}

int weft_testing_stream_queued(weft_ctx *ctx)
{
    return stream_has(ctx, 0);
}

int weft_testing_stream_in_flight(weft_ctx *ctx)
{
    return stream_has(ctx, 1);
}

void weft_testing_wait_builds(weft_ctx *ctx)
{
    weft_expr_builds_wait(ctx);
}

int weft_testing_wrap_overlaps(const weft_array *a)
{
    return atomic_load(&a->overlaps);
}
