/* What a context reports: its notes, the pieces of the last operation, the
 * ledger, cache figures. The layers below record through core/ctx_record.c;
 * only context.c creates and frees contexts. */
#include "../core/pool.h"
#include "../exec/stream.h"
#include "../core/ctx.h"
#include "../core/error.h"
#include "../core/handles.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

weft_status weft_ctx_stats(weft_ctx *ctx, weft_stats *stats)
{
    RETURN_IF(!ctx || !stats, WEFT_ERR_NULL, "weft_ctx_stats: NULL argument");
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_ctx_stats: not a live context");
    uint64_t v[WEFT_STAT_COUNT];
    for (int i = 0; i < WEFT_STAT_COUNT; i++)
        v[i] = atomic_load(&ctx->stats[i]);
    *stats = (weft_stats){
        .bytes_to_device = v[WEFT_STAT_TO_DEVICE],
        .bytes_to_host = v[WEFT_STAT_TO_HOST],
        .bytes_device_to_device = v[WEFT_STAT_DEVICE_TO_DEVICE],
        .kernel_launches = v[WEFT_STAT_LAUNCHES],
        .tasks = v[WEFT_STAT_TASKS],
        .pieces_rerun = v[WEFT_STAT_RERUNS],
        .splits_checked = v[WEFT_STAT_SPLITS_CHECKED],
        .kernels_kept_whole = v[WEFT_STAT_KEPT_WHOLE],
        .wait_seconds = (double)(v[WEFT_STAT_WAIT_NS] + atomic_load(&ctx->stream->wait_ns)) * 1e-9};
    return WEFT_OK;
}

weft_status weft_ctx_stats_reset(weft_ctx *ctx)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_ctx_stats_reset: context is NULL");
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_ctx_stats_reset: not a live context");
    for (int i = 0; i < WEFT_STAT_COUNT; i++)
        atomic_store(&ctx->stats[i], 0);
    atomic_store(&ctx->stream->wait_ns, 0);
    return WEFT_OK;
}

weft_status weft_ctx_set_log(weft_ctx *ctx, weft_log_fn fn, void *user, weft_log_level level)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_ctx_set_log: context is NULL");
    RETURN_IF((unsigned)level > WEFT_LOG_DEBUG, WEFT_ERR_INVALID_ARG,
              "weft_ctx_set_log: level %d is no weft_log_level (WEFT_LOG_ERROR to WEFT_LOG_DEBUG)",
              (int)level);
    weft_logger_init(&ctx->log, fn, user, level);
    return WEFT_OK;
}

const char *weft_ctx_notes(const weft_ctx *ctx)
{
    return ctx && ctx->notes ? ctx->notes : "";
}

weft_status weft_ctx_num_threads(const weft_ctx *ctx, int *num_threads)
{
    RETURN_IF(!ctx || !num_threads, WEFT_ERR_NULL, "weft_ctx_num_threads: NULL argument");
    *num_threads = weft_pool_threads(ctx->pool);
    return WEFT_OK;
}

weft_status weft_ctx_small_elements(weft_ctx *ctx, int64_t *elements)
{
    RETURN_IF(!ctx || !elements, WEFT_ERR_NULL, "weft_ctx_small_elements: NULL argument");
    *elements = ctx->small_elements;
    return WEFT_OK;
}

weft_status weft_ctx_last_pieces(weft_ctx *ctx, weft_piece_report *pieces, size_t capacity,
                                 size_t *count)
{
    RETURN_IF(!ctx || !count || (!pieces && capacity), WEFT_ERR_NULL,
              "weft_ctx_last_pieces: NULL argument");
    pthread_mutex_lock(&ctx->lock);
    *count = ctx->last_count;
    size_t copy = capacity < ctx->last_count ? capacity : ctx->last_count;
    if (copy) memcpy(pieces, ctx->last_pieces, copy * sizeof *pieces);
    pthread_mutex_unlock(&ctx->lock);
    return WEFT_OK;
}

weft_status weft_cache_stats_get(const weft_ctx *ctx, weft_cache_stats *stats)
{
    RETURN_IF(!ctx || !stats, WEFT_ERR_NULL, "weft_cache_stats_get: NULL argument");
    weft_ctx *c = (weft_ctx *)ctx;
    stats->memory_hits = atomic_load(&c->cache_counters[WEFT_CACHE_MEMORY_HIT]);
    stats->disk_hits = atomic_load(&c->cache_counters[WEFT_CACHE_DISK_HIT]);
    stats->misses = atomic_load(&c->cache_counters[WEFT_CACHE_MISS]);
    stats->disk_rejects = atomic_load(&c->cache_counters[WEFT_CACHE_REJECT]);
    stats->disk_writes = atomic_load(&c->cache_counters[WEFT_CACHE_WRITE]);
    return WEFT_OK;
}

const char *weft_cache_dir(const weft_ctx *ctx)
{
    return ctx && ctx->cache_dir ? ctx->cache_dir : "";
}
