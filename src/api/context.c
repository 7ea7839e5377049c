/* Context lifetime: options and environment, device discovery and selection. */
#include "../dev/device.h"
#include "../core/pool.h"
#include "../exec/future.h"
#include "../exec/placement.h"
#include "../exec/stream.h"
#include "../core/big_alloc.h"
#include "../core/cache.h"
#include "../core/ctx.h"
#include "../dev/drivers.h"
#include "../dev/device_spec.h"
#include "../core/env.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../ops/expr_build.h"
#include "../ops/expr_op.h"
#include "../core/platform_lock.h"
#include "../core/thread_count.h"
#include "ctx_services.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void weft_options_init(weft_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->disk_cache = 1;
    o->zero_copy = 1;
    o->weights = WEFT_WEIGHTS_CALIBRATED;
    o->small_elements = -1;
    o->smoke_test = 1;
    o->log_level = WEFT_LOG_WARN;
}

static unsigned parse_faults(const char *text)
{
    static const struct {
        const char *name;
        unsigned flag;
    } table[] = {{"launch", WEFT_FAULT_LAUNCH}, {"finish", WEFT_FAULT_FINISH},
                 {"write", WEFT_FAULT_WRITE},   {"smoke", WEFT_FAULT_SMOKE},
                 {"build", WEFT_FAULT_BUILD},   {"upload", WEFT_FAULT_UPLOAD}};
    unsigned faults = 0;
    if (!text) return 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strstr(text, table[i].name)) faults |= table[i].flag;
    return faults;
}

static void add_host_device(weft_ctx *ctx)
{
    weft_device *host = &ctx->devices[0];
    memset(host, 0, sizeof *host);
    host->services = ctx->services;
    weft_backend_host_init(&host->ops);
    weft_device_info *info = &host->info;
    snprintf(info->name, sizeof info->name, "host thread pool (%d threads)",
             weft_pool_threads(ctx->pool));
    snprintf(info->vendor, sizeof info->vendor, "weft");
    snprintf(info->driver_version, sizeof info->driver_version, "%s", WEFT_VERSION_STRING);
    snprintf(info->platform, sizeof info->platform, "host");
    info->kind = WEFT_DEVICE_HOST;
    info->max_alloc_bytes = UINT64_MAX;
    info->compute_units = (unsigned)weft_pool_threads(ctx->pool);
    info->usable = 1;
    info->zero_copy = 1;
}

static weft_status select_devices(weft_ctx *ctx, const char *spec)
{
    char copy[512];
    RETURN_IF(strlen(spec) >= sizeof copy, WEFT_ERR_INVALID_ARG,
              "device list \"%.40s...\" too long", spec);
    strcpy(copy, spec);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        for (size_t d = 0; d < ctx->ndevices; d++)
            if (ctx->devices[d].info.usable && weft_device_token_matches(tok, &ctx->devices[d]))
                ctx->devices[d].info.selected = 1;
    }
    /* The pool and an OpenCL CPU device share the same cores: running both
     * at full width would oversubscribe them, so the host takes no pieces
     * while a CPU device is selected (unless weights are given by hand). */
    weft_device *host = &ctx->devices[0];
    for (size_t d = 1; d < ctx->ndevices && ctx->weights != WEFT_WEIGHTS_GIVEN; d++) {
        if (host->info.selected && ctx->devices[d].info.selected &&
            ctx->devices[d].info.kind == WEFT_DEVICE_CPU) {
            host->info.selected = 0;
            ctx->stream->throttles = 1;
            snprintf(host->info.reason, sizeof host->info.reason,
                     "shares its cores with OpenCL CPU device %zu; runs small work and fallbacks",
                     d);
        }
    }
    size_t selected = 0;
    for (size_t d = 0; d < ctx->ndevices; d++)
        selected += ctx->devices[d].info.selected;
    if (selected == 0) {
        host->info.selected = 1;
        host->info.reason[0] = '\0';
        weft_ctx_note(ctx, "no OpenCL device selected by \"%s\": running on the host pool", spec);
    }
    return WEFT_OK;
}

static weft_status apply_weights(weft_ctx *ctx)
{
    for (size_t d = 0; d < ctx->ndevices; d++) {
        weft_device_info *info = &ctx->devices[d].info;
        if (!info->selected) continue;
        if (ctx->weights == WEFT_WEIGHTS_GIVEN) {
            RETURN_IF(d >= ctx->given_count, WEFT_ERR_INVALID_ARG,
                      "weights: need a weight for device %zu (got %zu weights)", d,
                      ctx->given_count);
            info->weight = ctx->given[d];
        } else {
            info->weight = 1.0; /* calibration refines it lazily */
        }
    }
    return WEFT_OK;
}

/* Fields that hold no value the header gives them are refused, as the same
 * settings in the environment are: a setting weft did not understand never
 * runs as if it were unset. */
static weft_status check_options(const weft_options *o)
{
    RETURN_IF(o->small_elements < -1, WEFT_ERR_INVALID_ARG,
              "options.small_elements = %lld: -1 (measured), or a number of elements >= 0",
              (long long)o->small_elements);
    RETURN_IF((unsigned)o->weights > WEFT_WEIGHTS_GIVEN, WEFT_ERR_INVALID_ARG,
              "options.weights = %d is no weft_weights (WEFT_WEIGHTS_CALIBRATED, _EVEN, _GIVEN)",
              (int)o->weights);
    RETURN_IF((unsigned)o->compile > WEFT_COMPILE_SYNC, WEFT_ERR_INVALID_ARG,
              "options.compile = %d is no weft_compile (WEFT_COMPILE_DEFAULT, _BACKGROUND, _SYNC)",
              (int)o->compile);
    RETURN_IF((unsigned)o->log_level > WEFT_LOG_DEBUG, WEFT_ERR_INVALID_ARG,
              "options.log_level = %d is no weft_log_level (WEFT_LOG_ERROR to WEFT_LOG_DEBUG)",
              (int)o->log_level);
    return WEFT_OK;
}

static weft_status read_options(weft_ctx *ctx, const weft_options *o, char **spec)
{
    RETURN_ON_ERROR(check_options(o));
    RETURN_ON_ERROR(weft_env_check());
    ctx->zero_copy = o->zero_copy && weft_env_flag("WEFT_ZERO_COPY", 1);
    ctx->peer_copies = weft_env_flag("WEFT_PEER_COPY", 1);
    ctx->smoke_test = o->smoke_test && weft_env_flag("WEFT_SMOKE", 1);
    ctx->verify_splits = weft_env_flag("WEFT_VERIFY", 0);
    const char *compile = weft_env_word("WEFT_COMPILE");
    ctx->compile_sync = o->compile == WEFT_COMPILE_DEFAULT ? compile && strcmp(compile, "sync") == 0
                                                           : o->compile == WEFT_COMPILE_SYNC;
    ctx->max_alloc = o->max_alloc ? o->max_alloc : (uint64_t)weft_env_number("WEFT_MAX_ALLOC", 0);
    ctx->small_elements =
        o->small_elements >= 0 ? o->small_elements : weft_env_number("WEFT_SMALL_ELEMENTS", -1);
    ctx->pool_min_elements = (size_t)weft_env_number("WEFT_POOL_MIN_ELEMENTS", 1 << 15);
    ctx->faults = parse_faults(getenv("WEFT_FAULT"));
    const char *fault = getenv("WEFT_FAULT");
    const char *call = fault ? strstr(fault, "call:") : NULL;
    ctx->fault_call = call ? atol(call + 5) : 0;
    ctx->weights = o->weights;
    const char *weights_env = weft_env_word("WEFT_WEIGHTS");
    if (o->weights == WEFT_WEIGHTS_CALIBRATED && weights_env && strcmp(weights_env, "even") == 0)
        ctx->weights = WEFT_WEIGHTS_EVEN;
    if (ctx->weights == WEFT_WEIGHTS_GIVEN) {
        RETURN_IF(!o->given || o->given_count == 0, WEFT_ERR_INVALID_ARG,
                  "WEFT_WEIGHTS_GIVEN needs options.given and options.given_count");
        ctx->given = malloc(o->given_count * sizeof *ctx->given);
        RETURN_IF(!ctx->given, WEFT_ERR_NOMEM, "cannot copy weights");
        memcpy(ctx->given, o->given, o->given_count * sizeof *ctx->given);
        ctx->given_count = o->given_count;
        /* A weight is a relative size: an infinite one would leave the others
         * a share of inf / inf. */
        for (size_t d = 0; d < ctx->given_count; d++)
            RETURN_IF(!(isfinite(ctx->given[d]) && ctx->given[d] >= 0), WEFT_ERR_INVALID_ARG,
                      "weights: need a finite, non-negative weight for device %zu (got %g)", d,
                      ctx->given[d]);
    }
    const char *devices = o->devices ? o->devices : getenv("WEFT_DEVICES");
    *spec = strdup(devices && *devices ? devices : "all");
    RETURN_IF(!*spec, WEFT_ERR_NOMEM, "cannot copy the device list");
    RETURN_ON_ERROR(weft_device_spec_check(*spec));
    int disk = o->disk_cache && weft_env_flag("WEFT_DISK_CACHE", 1);
    if (disk) weft_ctx_cache_setup(ctx, o->cache_dir);
    return WEFT_OK;
}

static void ctx_destroy(weft_ctx *ctx);

weft_status weft_ctx_create(const weft_options *options, weft_ctx **out)
{
    RETURN_IF(!out, WEFT_ERR_NULL, "weft_ctx_create: output handle is NULL");
    *out = NULL;
    weft_options defaults;
    weft_options_init(&defaults);
    const weft_options *o = options ? options : &defaults;
    weft_status st = WEFT_OK;
    char *spec = NULL;
    weft_ctx *ctx = calloc(1, sizeof *ctx);
    RETURN_IF(!ctx, WEFT_ERR_NOMEM, "cannot allocate a context");
    pthread_mutex_init(&ctx->lock, NULL);
    ctx->forked = (weft_fork_member){.lock = &ctx->lock, .level = WEFT_FORK_LEAVES};
    weft_fork_add(&ctx->forked);
    weft_expr_builds_watch_exit(); /* the thread that makes a context often calls exit */
    ctx->stream = calloc(1, sizeof *ctx->stream);
    GOTO_ERROR_IF(!ctx->stream, WEFT_ERR_NOMEM, "cannot allocate the context's stream");
    weft_stream_init(ctx->stream);
    GOTO_ERROR_ON(weft_future_owner_open(&ctx->stream->owner));
    weft_logger_init(&ctx->log, o->log, o->log_user, o->log_level);
    GOTO_ERROR_ON(read_options(ctx, o, &spec));
    char threads_note[256];
    ctx->pool = weft_pool_create(weft_thread_count(o->num_threads, getenv("WEFT_NUM_THREADS"),
                                                   threads_note, sizeof threads_note));
    if (threads_note[0]) weft_ctx_note(ctx, "%s", threads_note);
    GOTO_ERROR_IF(!ctx->pool, WEFT_ERR_NOMEM, "cannot create the thread pool");
    ctx->stream->pool = ctx->pool;
    ctx->devices = calloc(1, sizeof *ctx->devices);
    GOTO_ERROR_IF(!ctx->devices, WEFT_ERR_NOMEM, "cannot allocate the device table");
    ctx->ndevices = 1;
    GOTO_ERROR_ON(weft_ctx_services_init(ctx));
    add_host_device(ctx);
    size_t ndrivers = 0;
    while (weft_drivers[ndrivers])
        ndrivers++;
    ctx->driver_states = calloc(ndrivers + 1, sizeof *ctx->driver_states);
    GOTO_ERROR_IF(!ctx->driver_states, WEFT_ERR_NOMEM, "cannot allocate the drivers' state");
    for (size_t d = 0; d < ndrivers; d++)
        GOTO_ERROR_ON(weft_drivers[d]->open(ctx->services, &ctx->driver_states[d]));
    weft_platform_lock();
    for (size_t d = 0; d < ndrivers; d++)
        weft_drivers[d]->discover(ctx->services, ctx->driver_states[d]);
    weft_platform_unlock();
    if (!weft_drivers[0])
        weft_ctx_note(ctx, "no OpenCL platform: weft was built without OpenCL "
                           "(WEFT_WITH_OPENCL=OFF)");
    GOTO_ERROR_ON(select_devices(ctx, spec));
    GOTO_ERROR_ON(apply_weights(ctx));
    GOTO_ERROR_ON(weft_placement_create(ctx));
    /* Measured now, before any operation can use the devices' kernels: the
     * measurement sets their arguments too. Read from the cache dir after the
     * first time, and skipped when nothing needs measuring. */
    weft_ctx_calibrate(ctx);
    for (size_t d = 0; d < ctx->ndevices; d++)
        weft_log(&ctx->log, WEFT_LOG_INFO, "device %zu: %s [%s]%s%s", d, ctx->devices[d].info.name,
                 weft_device_kind_name(ctx->devices[d].info.kind),
                 ctx->devices[d].info.selected ? " selected" : "",
                 ctx->devices[d].info.usable ? "" : " (set aside)");
    free(spec);
    spec = NULL;
    GOTO_ERROR_ON(weft_handle_add(ctx, WEFT_HANDLE_CONTEXT));
    *out = ctx;
    return WEFT_OK;
error:
    free(spec);
    {
        /* Keep the detail: freeing may call into OpenCL and overwrite it. */
        char *detail = strdup(weft_last_error());
        ctx_destroy(ctx);
        if (detail) weft_error_copy(detail);
        free(detail);
    }
    return st;
}

static void ctx_destroy(weft_ctx *ctx)
{
    /* The user may keep its futures longer (and wait on them meanwhile): they
     * stop reaching the stream before it goes. */
    if (ctx->stream) weft_future_owner_close(&ctx->stream->owner);
    /* The stream first: a task still running may start an operation, whose
     * device code the builder may be asked for. The builds use the
     * expressions and the devices, freed below. */
    if (ctx->stream) weft_stream_destroy(ctx->stream);
    if (ctx->stream) weft_future_owner_free(&ctx->stream->owner);
    free(ctx->stream);
    weft_expr_builds_stop(ctx);
    weft_placement_free(ctx);
    weft_platform_lock();
    weft_compiled_release_all(ctx);
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (ctx->devices[d].ops.release) ctx->devices[d].ops.release(&ctx->devices[d]);
    for (size_t d = 0; ctx->driver_states && weft_drivers[d]; d++)
        if (ctx->driver_states[d]) weft_drivers[d]->close(ctx->driver_states[d]);
    weft_platform_unlock();
    free(ctx->driver_states);
    free(ctx->services);
    weft_pool_free(ctx->pool);
    if (ctx->forked.lock) weft_fork_remove(&ctx->forked);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->devices);
    free(ctx->notes);
    free(ctx->cache_dir);
    free(ctx->given);
    free(ctx->last_pieces);
    free(ctx);
}

weft_status weft_ctx_free(weft_ctx *ctx)
{
    if (!ctx) return WEFT_OK;
    RETURN_ON_ERROR(weft_handle_check_free(ctx, WEFT_HANDLE_CONTEXT, "weft_ctx_free"));
    /* Their handles point into the context: freeing it under them would turn
     * every later call on them into a use-after-free. */
    int live = atomic_load(&ctx->live_handles);
    RETURN_IF(live > 0, WEFT_ERR_STATE,
              "weft_ctx_free: %d arrays or programs of this context are still live; free them "
              "first (nothing was freed)",
              live);
    RETURN_IF(weft_stream_in_operation(), WEFT_ERR_STATE,
              "weft_ctx_free: called from inside a running operation");
    RETURN_IF(weft_stream_current_task() == ctx->stream, WEFT_ERR_STATE,
              "weft_ctx_free: called from inside a task of this context");
    if (!weft_handle_remove(ctx))
        return weft_error_set(WEFT_ERR_STATE, "weft_ctx_free: %p freed twice", (void *)ctx);
    ctx_destroy(ctx);
    weft_big_trim();
    return WEFT_OK;
}

weft_status weft_ctx_wait_for(weft_ctx *ctx, weft_future *const *futures, size_t n)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_ctx_wait_for: context is NULL");
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_ctx_wait_for: not a live context");
    return weft_stream_wait_for(ctx->stream, futures, n);
}

weft_status weft_ctx_finish(weft_ctx *ctx)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_ctx_finish: context is NULL");
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_ctx_finish: not a live context");
    return weft_stream_finish(ctx->stream);
}
