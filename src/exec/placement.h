/* Placement by measured cost: per context, one entry per operation identity
 * (an expression's compiled key, a primitive and its dtype, a kernel's
 * program hash and name) holding its cost model on every device
 * (perf_model.h), loaded from and saved to the cache directory
 * (perf_store.h), its hint (weft_ctx_place) and its statistics
 * (weft_ctx_op_stats). An operation asks where to run before it makes its
 * pieces and says afterwards how long they took; the model improves each
 * call. See docs/architecture.md, "How placement is decided". */
#ifndef WEFT_PLACEMENT_H
#define WEFT_PLACEMENT_H

#include "../core/ctx.h"
#include "../dev/device.h"
#include "../mem/array.h"
#include "perf_model.h"
#include "pieces.h"

typedef struct weft_placement weft_placement;
typedef struct weft_place_entry weft_place_entry;

/* Created before calibration (it reads the options calibration changes). */
weft_status weft_placement_create(weft_ctx *ctx);
/* Saves what changed since the last save, then frees. */
void weft_placement_free(weft_ctx *ctx);

typedef struct weft_place_request {
    const char *identity; /* unique per operation and argument dtypes */
    const char *kind;     /* "map", "reduce", "axpy", ...: for logs and stats */
    const char *text;     /* the expression, or NULL: hints name it (else kind) */
    size_t n;             /* elements */
    weft_array *const *arrays;
    size_t narrays;
    unsigned reads; /* bit i: arrays[i] is read (counts toward transfers) */
    /* Whether device dev can run the operation at all. */
    int (*native)(const weft_device *dev, void *op);
    void *op;
    /* Optional: 0 while dev's code for the operation is not built yet, so
     * the first call does not wait for a compile the pool does not need. */
    int (*built)(const weft_device *dev, void *op);
    int async;    /* device work may be left running (not timed) */
    int building; /* a device's code for it is being built in the background */
} weft_place_request;

typedef struct weft_place_result {
    weft_place_entry *entry;
    weft_perf_plan plan; /* count 0: no placement; split by the arrays' chunks as before */
    double transfer;     /* estimated seconds of copies in the plan (taken off its timing) */
    double started;
    int building; /* a device's code for it was being built: the pool's time is not its own */
} weft_place_result;

/* Looks up (or creates) the operation's entry and, when placement applies
 * (the default options, or a hint for this operation), the plan. Never fails:
 * without memory for an entry the result has none and the caller splits as
 * before. */
void weft_place(weft_ctx *ctx, const weft_place_request *req, weft_place_result *out);

/* After the pieces ran: counts them per device, takes the time (seconds < 0:
 * not timed) into the model when one device ran them all, and keeps devices
 * whose pieces failed out for a while. */
void weft_place_done(weft_ctx *ctx, const weft_place_result *r, size_t n, const weft_piece *pieces,
                     size_t npieces, double seconds);

/* 1 when the model places the operation named `name` (its expression, or
 * its kind) and may put it on the pool: no hint leaves the pool out. Such
 * an operation runs on the pool while a device's code for it is built
 * (ops/expr_build.h) instead of waiting for the build. */
int weft_place_pool_may_run(weft_ctx *ctx, const char *name);

/* What a user-kernel launch needs (ops/launch.c): the same decision and
 * bookkeeping through this interface, identity "kernel:<program hash>:<name>". */

#endif
