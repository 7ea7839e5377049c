/* What drivers see of a context (dev/services.h): its options, and calls
 * back into it for notes, counters, fault hooks and new devices. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "../dev/device.h"
#include "ctx_services.h"

#include <stdlib.h>
#include <string.h>

static int fault_tick(void *owner)
{
    weft_ctx *ctx = owner;
    return ctx->fault_call > 0 && atomic_fetch_add(&ctx->fault_calls, 1) + 1 == ctx->fault_call;
}

static void note(void *owner, const char *text)
{
    weft_ctx_note(owner, "%s", text);
}

/* The cache counters follow the context's own order (core/ctx.h). */
_Static_assert(WEFT_COUNT_CACHE_WRITE - WEFT_COUNT_CACHE_MEMORY_HIT ==
                   WEFT_CACHE_WRITE - WEFT_CACHE_MEMORY_HIT,
               "driver cache counters in the context's order");

static void count(void *owner, weft_dev_counter which, uint64_t amount)
{
    weft_ctx *ctx = owner;
    if (which == WEFT_COUNT_LAUNCHES)
        weft_stat_add(ctx, WEFT_STAT_LAUNCHES, amount);
    else
        atomic_fetch_add(
            &ctx->cache_counters[which - WEFT_COUNT_CACHE_MEMORY_HIT + WEFT_CACHE_MEMORY_HIT],
            amount);
}

static weft_device *add_device(void *owner)
{
    weft_ctx *ctx = owner;
    weft_device *grown = realloc(ctx->devices, (ctx->ndevices + 1) * sizeof *grown);
    if (!grown) return NULL;
    ctx->devices = grown;
    weft_device *dev = &ctx->devices[ctx->ndevices];
    memset(dev, 0, sizeof *dev);
    dev->index = ctx->ndevices++;
    dev->services = ctx->services;
    return dev;
}

weft_status weft_ctx_services_init(weft_ctx *ctx)
{
    weft_dev_services *s = calloc(1, sizeof *s);
    RETURN_IF(!s, WEFT_ERR_NOMEM, "cannot allocate the device services");
    *s = (weft_dev_services){.cache_dir = ctx->cache_dir,
                             .zero_copy = ctx->zero_copy,
                             .peer_copies = ctx->peer_copies,
                             .smoke_test = ctx->smoke_test,
                             .max_alloc = ctx->max_alloc,
                             .wrap_alignment = weft_array_wrap_alignment(),
                             .faults = ctx->faults,
                             .pool = ctx->pool,
                             .pool_min_elements = ctx->pool_min_elements,
                             .log = &ctx->log,
                             .owner = ctx,
                             .fault_tick = fault_tick,
                             .note = note,
                             .count = count,
                             .add_device = add_device};
    ctx->services = s;
    return WEFT_OK;
}
