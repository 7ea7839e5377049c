/* The per-context cache of compiled expressions. */
#include "../error.h"
#include "../expr/codegen_cl.h"
#include "expr_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "mode op|text|name:dtype:kind ..." identifies a compilation. Built by hand,
 * not with snprintf: it runs on every call, tiny arrays included. */
static char *put_text(char *p, const char *text)
{
    size_t len = strlen(text);
    memcpy(p, text, len);
    return p + len;
}

static char *make_key(char *stack, size_t cap, enum weft_expr_mode mode, weft_reduce_op op,
                      const char *text, const weft_bind *binds, size_t nbinds)
{
    size_t len = strlen(text) + 8;
    for (size_t b = 0; b < nbinds; b++)
        len += strlen(binds[b].name) + 6;
    char *key = len <= cap ? stack : malloc(len);
    if (!key) return NULL;
    char *p = key;
    *p++ = (char)('0' + (int)mode);
    *p++ = (char)('A' + (int)op);
    *p++ = '|';
    p = put_text(p, text);
    *p++ = '|';
    for (size_t b = 0; b < nbinds; b++) {
        weft_dtype dt = binds[b].array ? binds[b].array->dtype : binds[b].dtype;
        p = put_text(p, binds[b].name);
        *p++ = ':';
        *p++ = (char)('0' + (int)dt);
        *p++ = binds[b].array ? 'a' : 's';
        *p++ = ' ';
    }
    *p = '\0';
    return key;
}

static void compiled_free(weft_ctx *ctx, weft_compiled *c)
{
    if (!c) return;
    if (c->kernels)
        for (size_t d = 0; d < ctx->ndevices; d++)
            if (c->kernels[d] && c->kernels[d] != WEFT_KERNEL_FAILED)
                ctx->devices[d].ops.kernel_release(&ctx->devices[d], c->kernels[d]);
    weft_expr_free(c->expr);
    free(c->kernels);
    free(c->source);
    free(c->source_gpu);
    free(c->key);
    free(c);
}

void weft_compiled_release_all(weft_ctx *ctx)
{
    for (weft_compiled *c = ctx->compiled, *next; c; c = next) {
        next = c->next;
        compiled_free(ctx, c);
    }
    ctx->compiled = NULL;
}

static weft_status compile(weft_ctx *ctx, enum weft_expr_mode mode, weft_reduce_op op,
                           const char *text, const weft_bind *binds, size_t nbinds,
                           weft_compiled *c)
{
    weft_expr_binding bindings[WEFT_EXPR_MAX_BINDINGS];
    RETURN_IF(nbinds > WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG, "%zu bindings (at most %d)",
              nbinds, WEFT_EXPR_MAX_BINDINGS);
    for (size_t b = 0; b < nbinds; b++)
        bindings[b] = (weft_expr_binding){binds[b].name, binds[b].array != NULL,
                                          binds[b].array ? binds[b].array->dtype : binds[b].dtype};
    RETURN_ON_ERROR(weft_expr_compile(text, bindings, nbinds, mode, &c->expr));
    c->mode = mode;
    c->op = op;
    c->kernels = calloc(ctx->ndevices, sizeof *c->kernels);
    RETURN_IF(!c->kernels, WEFT_ERR_NOMEM, "cannot allocate kernel slots");
    if (mode == WEFT_EXPR_MAP) return weft_codegen_map(c->expr, &c->source);
    RETURN_ON_ERROR(weft_codegen_reduce(c->expr, op, 0, &c->source));
    return weft_codegen_reduce(c->expr, op, 1, &c->source_gpu);
}

weft_status weft_compiled_get(weft_ctx *ctx, enum weft_expr_mode mode, weft_reduce_op op,
                              const char *text, const weft_bind *binds, size_t nbinds,
                              weft_compiled **out)
{
    char stack[512];
    char *key = make_key(stack, sizeof stack, mode, op, text, binds, nbinds);
    RETURN_IF(!key, WEFT_ERR_NOMEM, "cannot allocate an expression key");
    pthread_mutex_lock(&ctx->lock);
    for (weft_compiled *c = ctx->compiled; c; c = c->next) {
        if (strcmp(c->key, key) == 0) {
            pthread_mutex_unlock(&ctx->lock);
            if (key != stack) free(key);
            *out = c;
            return WEFT_OK;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    weft_compiled *c = calloc(1, sizeof *c);
    if (c) c->key = key == stack ? strdup(stack) : key;
    if (!c || !c->key) {
        if (key != stack) free(key);
        free(c);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate an expression");
    }
    weft_status st = compile(ctx, mode, op, text, binds, nbinds, c);
    if (st != WEFT_OK) {
        compiled_free(ctx, c);
        return st;
    }
    pthread_mutex_lock(&ctx->lock);
    c->next = ctx->compiled; /* a racing twin may land too: harmless duplicate */
    ctx->compiled = c;
    pthread_mutex_unlock(&ctx->lock);
    *out = c;
    return WEFT_OK;
}
