/* The cache directory of a new context: chosen from the options and the
 * environment, checked once, and what is wrong with it said once (the log and
 * weft_ctx_notes), so that no later load has to find out. */
#include "cache.h"
#include "ctx.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

void weft_ctx_cache_setup(weft_ctx *ctx, const char *requested)
{
    ctx->cache_dir = NULL;
    if (requested && !*requested) {
        weft_ctx_note(ctx, "disk cache off: options.cache_dir is \"\" (memory-only caching)");
        return;
    }
    char *dir = requested ? strdup(requested) : weft_cache_default_dir();
    if (!dir) {
        weft_ctx_note(ctx, "disk cache off: %s",
                      requested ? "out of memory"
                                : "no cache dir (WEFT_CACHE_DIR, XDG_CACHE_HOME and HOME unset)");
        return;
    }
    size_t dead = 0;
    if (weft_cache_open(dir, &dead) != WEFT_OK) {
        /* Asked for (or defaulted to) a disk cache that cannot be used: a
         * warning, not only a note, since every build now compiles. */
        weft_log(&ctx->log, WEFT_LOG_WARN, "disk cache off (memory-only caching): %s",
                 weft_last_error());
        weft_ctx_note(ctx, "disk cache off: %s", weft_last_error());
        free(dir);
        return;
    }
    if (dead)
        weft_log(&ctx->log, WEFT_LOG_WARN,
                 "program cache: %zu cached binar%s discarded: a process died while its driver "
                 "loaded %s",
                 dead, dead == 1 ? "y was" : "ies were", dead == 1 ? "it" : "them");
    ctx->cache_dir = dir;
}
