/* Tiered compile: an expression whose device code is not built yet runs on
 * the pool while one background thread per context builds it, as JIT
 * runtimes run the interpreter while the compiler works. Once the kernel is
 * in compiled->kernels, the device is a candidate like any other and the
 * model moves the operation there if it is faster. WEFT_COMPILE=sync (or
 * weft_options.compile) builds in the call instead, as before. */
#ifndef WEFT_EXPR_BUILD_H
#define WEFT_EXPR_BUILD_H

#include "../core/ctx.h"
#include "../dev/device.h"

#include <stdint.h>

typedef struct weft_expr_builds weft_expr_builds;

/* The devices (bit d) whose code for c the call must not wait for: not
 * built, and queued or being built in the background (started here when
 * not yet). 0 when the context builds synchronously, when the call may
 * not run on the pool (a hint leaves it out: then it waits for a build
 * already under way, so the code is built once), or when nothing is
 * missing. prim: WEFT_PRIM_MAP_EXPR or WEFT_PRIM_REDUCE_EXPR. */
uint64_t weft_expr_builds_defer(weft_ctx *ctx, weft_compiled *c, weft_prim prim);

/* What exit() does first (the main thread's destructor, or an atexit
 * handler): in every context no build starts any more, and the ones
 * running end. For a caller whose exit runs
 * before C's: Python's atexit callbacks run before exit() and its handlers,
 * among them the compiler's static destructors that a first build from
 * source registered after weft's handler (they ran first, under the build:
 * a crash at exit, a third of short scripts). Not public API; the Python
 * binding links the static library. */
void weft_expr_builds_stop_all(void);

/* Makes the calling thread's end, when it is the main thread's (exit() or
 * a return from main), stop the builds as weft_expr_builds_stop_all does,
 * before any atexit handler runs. Cheap after the first call in a thread:
 * called where a context or an expression is made. */
void weft_expr_builds_watch_exit(void);

/* Whether device d's pieces go to the pool this call. */
static inline int weft_expr_deferred(uint64_t deferred, size_t d)
{
    return d < 64 && ((deferred >> d) & 1);
}

/* Whether dev runs a call of c natively (dispatch's native): it runs prim,
 * and c's code there has not failed and is built or not left to the pool
 * this call (deferred, from weft_expr_builds_defer). */
static inline int weft_expr_native(const weft_device *dev, const weft_compiled *c,
                                   uint64_t deferred, weft_prim prim)
{
    void *kernel = c->kernels[dev->index];
    return weft_device_native(dev, prim) && kernel != WEFT_KERNEL_FAILED &&
           (kernel || !weft_expr_deferred(deferred, dev->index));
}

/* Whether c's code for dev is built (dispatch's built). */
static inline int weft_expr_built(const weft_device *dev, const weft_compiled *c)
{
    return c->kernels[dev->index] != NULL;
}

/* Until no build is queued or running (tests, and before freeing what
 * builds use). */
void weft_expr_builds_wait(weft_ctx *ctx);
/* Drops queued builds, waits for the one running (a clBuildProgram cannot
 * be cancelled), ends the thread and frees the state. At context free,
 * before the expressions and devices go. */
void weft_expr_builds_stop(weft_ctx *ctx);

#endif
