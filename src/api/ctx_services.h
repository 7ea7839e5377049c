/* Fills ctx->services (dev/services.h) from the context's options: once,
 * after the options, the cache directory and the pool are set, before any
 * driver opens. Freed with the context. */
#ifndef WEFT_CTX_SERVICES_H
#define WEFT_CTX_SERVICES_H

#include "../core/ctx.h"

weft_status weft_ctx_services_init(weft_ctx *ctx);

#endif
