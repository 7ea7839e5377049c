/* What every layer records into its context (declared in ctx.h): notes,
 * live handles, the pieces of the last operation. The public calls that
 * report them are api/ctx_report.c. */
#include "ctx.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void weft_ctx_note(weft_ctx *ctx, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ctx->lock);
    size_t old = ctx->notes ? strlen(ctx->notes) : 0;
    char *grown = realloc(ctx->notes, old + strlen(line) + 2);
    if (grown) {
        sprintf(grown + old, "%s\n", line);
        ctx->notes = grown;
    }
    pthread_mutex_unlock(&ctx->lock);
    weft_log(&ctx->log, WEFT_LOG_INFO, "%s", line);
}

void weft_ctx_count_handles(weft_ctx *ctx, int delta)
{
    atomic_fetch_add(&ctx->live_handles, delta);
}

void weft_ctx_set_pieces(weft_ctx *ctx, const weft_piece_report *pieces, size_t count)
{
    pthread_mutex_lock(&ctx->lock);
    if (count > ctx->last_capacity) {
        weft_piece_report *grown = realloc(ctx->last_pieces, count * sizeof *grown);
        if (grown) {
            ctx->last_pieces = grown;
            ctx->last_capacity = count;
        }
    }
    ctx->last_count = count <= ctx->last_capacity ? count : 0;
    if (ctx->last_count) memcpy(ctx->last_pieces, pieces, count * sizeof *pieces);
    pthread_mutex_unlock(&ctx->lock);
}
