/* The context's state: devices, pool, stream, program cache, options, and
 * the counters every layer records into (ctx_report.c). Creating and freeing
 * a context is context.c, above every layer; this header names the parts
 * without depending on them. */
#ifndef WEFT_CTX_H
#define WEFT_CTX_H

#include "fork_registry.h"
#include "log.h"
#include "weft.h"

#include <pthread.h>
#include <stdatomic.h>

/* The ledger (weft_ctx_stats): what moved and ran, counted where it happens. */
enum weft_stat {
    WEFT_STAT_TO_DEVICE,
    WEFT_STAT_TO_HOST,
    WEFT_STAT_DEVICE_TO_DEVICE,
    WEFT_STAT_LAUNCHES,
    WEFT_STAT_TASKS,
    WEFT_STAT_RERUNS,
    WEFT_STAT_WAIT_NS,
    WEFT_STAT_SPLITS_CHECKED,
    WEFT_STAT_KEPT_WHOLE,
    WEFT_STAT_COUNT
};

typedef struct weft_compiled weft_compiled;

struct weft_ctx {
    weft_logger log;
    struct weft_pool *pool;
    struct weft_device *devices; /* [0] is the host */
    size_t ndevices;
    char *notes;
    char *cache_dir; /* NULL: no disk cache */
    int zero_copy;
    int peer_copies; /* devices of one platform share a context and copy directly */
    int smoke_test;
    int verify_splits; /* WEFT_VERIFY=1: every split launch is checked (ops/launch_check.c) */
    uint64_t max_alloc;
    weft_weights weights;
    double *given;
    size_t given_count;
    int64_t small_elements;   /* -1 until measured */
    size_t pool_min_elements; /* below: the calling thread alone */
    unsigned faults;
    long fault_call; /* WEFT_FAULT=call:K: the K-th OpenCL call site fails */
    atomic_long fault_calls;
    pthread_mutex_t lock;    /* notes, last pieces, expression cache: a leaf, taking no other */
    weft_fork_member forked; /* lock, made anew in a fork child (its first map waited on it) */
    struct weft_stream *stream;
    struct weft_placement *placement;       /* cost models, hints, per-operation stats */
    void **driver_states;                   /* per driver in dev/drivers.c, from its open */
    struct weft_dev_services *services;     /* what drivers see of the context */
    weft_compiled *compiled;                /* expressions (ops/expr_cache.c), under lock */
    int compile_sync;                       /* WEFT_COMPILE=sync: device code built in the call */
    struct weft_expr_builds *builds;        /* background builds (ops/expr_build.c), under lock */
    atomic_uint_fast64_t cache_counters[5]; /* the fields of weft_cache_stats, in order */
    atomic_uint_fast64_t stats[WEFT_STAT_COUNT];
    atomic_int live_handles;    /* arrays and programs not yet freed */
    double last_kernel_seconds; /* weft_ctx_last_kernel_time, under lock */
    atomic_int time_kernels;    /* someone asked for kernel times: launches keep events */
    weft_piece_report *last_pieces;
    size_t last_count, last_capacity;
};

enum {
    WEFT_CACHE_MEMORY_HIT,
    WEFT_CACHE_DISK_HIT,
    WEFT_CACHE_MISS,
    WEFT_CACHE_REJECT,
    WEFT_CACHE_WRITE
};

static inline void weft_cache_count(weft_ctx *ctx, int which)
{
    atomic_fetch_add(&ctx->cache_counters[which], 1);
}

static inline void weft_stat_add(weft_ctx *ctx, enum weft_stat which, uint64_t amount)
{
    atomic_fetch_add_explicit(&ctx->stats[which], amount, memory_order_relaxed);
}

/* Arrays and programs count themselves in and out (weft_ctx_free refuses
 * while any is live). */
void weft_ctx_count_handles(weft_ctx *ctx, int delta);

/* Appends a line to the context notes (and logs it at info). */
void weft_ctx_note(weft_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records what ran where for weft_ctx_last_pieces. */
void weft_ctx_set_pieces(weft_ctx *ctx, const weft_piece_report *pieces, size_t count);
/* Measures weights and the small-work threshold (weft_ctx_create, once; read
 * from the cache dir after the first time). */
void weft_ctx_calibrate(weft_ctx *ctx);
/* Sets ctx->cache_dir (NULL: memory-only caching, with a note saying why). */
void weft_ctx_cache_setup(weft_ctx *ctx, const char *requested);

#endif
