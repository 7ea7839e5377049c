/* The per-context cache of compiled expressions. */
#include "../core/error.h"
#include "../expr/codegen_cl.h"
#include "expr_build.h"
#include "expr_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A key identifies a compilation: mode, op, then the text and each binding's
 * name as length-prefixed fields ("<decimal length>:<bytes>"), each followed
 * by the binding's dtype and kind. Length prefixes make the key unambiguous
 * for any text, so no (text, bindings) can produce another one's key and run
 * a program compiled for other dtypes. Built by hand, not with snprintf: it
 * runs on every call, tiny arrays included. */
enum { KEY_LENGTH_DIGITS = 20 };

static char *put_field(char *p, const char *text)
{
    size_t len = strlen(text);
    char digits[KEY_LENGTH_DIGITS];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + len % 10);
    } while ((len /= 10) && nd < KEY_LENGTH_DIGITS);
    while (nd > 0)
        *p++ = digits[--nd];
    *p++ = ':';
    len = strlen(text);
    memcpy(p, text, len);
    return p + len;
}

static char *make_key(char *stack, size_t cap, enum weft_expr_mode mode, weft_reduce_op op,
                      const char *text, const weft_bind *binds, size_t nbinds)
{
    size_t len = 3 + strlen(text) + KEY_LENGTH_DIGITS + 1;
    for (size_t b = 0; b < nbinds; b++)
        len += strlen(binds[b].name) + KEY_LENGTH_DIGITS + 3;
    char *key = len <= cap ? stack : malloc(len);
    if (!key) return NULL;
    char *p = key;
    *p++ = (char)('0' + (int)mode);
    *p++ = (char)('A' + (int)op);
    p = put_field(p, text);
    for (size_t b = 0; b < nbinds; b++) {
        weft_dtype dt = binds[b].array ? binds[b].array->dtype : binds[b].dtype;
        p = put_field(p, binds[b].name);
        *p++ = (char)('0' + (int)dt);
        *p++ = binds[b].array ? 'a' : 's';
    }
    *p = '\0';
    return key;
}

/* The names and dtypes as the compiler sees them, checked before any key is
 * made of them. */
static weft_status expr_bindings(const weft_bind *binds, size_t nbinds, weft_expr_binding *bindings)
{
    RETURN_IF(nbinds > WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG, "%zu bindings (at most %d)",
              nbinds, WEFT_EXPR_MAX_BINDINGS);
    RETURN_IF(!binds && nbinds, WEFT_ERR_NULL, "%zu bindings but binds is NULL", nbinds);
    for (size_t b = 0; b < nbinds; b++)
        bindings[b] = (weft_expr_binding){binds[b].name, binds[b].array != NULL,
                                          binds[b].array ? binds[b].array->dtype : binds[b].dtype};
    return weft_expr_check_bindings(bindings, nbinds);
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
                           const char *text, const weft_expr_binding *bindings, size_t nbinds,
                           weft_compiled *c)
{
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
    RETURN_IF(!text, WEFT_ERR_NULL, "expression is NULL");
    RETURN_IF(nbinds > WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG, "%zu bindings (at most %d)",
              nbinds, WEFT_EXPR_MAX_BINDINGS);
    RETURN_IF(!binds && nbinds, WEFT_ERR_NULL, "%zu bindings but binds is NULL", nbinds);
    for (size_t b = 0; b < nbinds; b++) { /* what the key is made of must be readable */
        RETURN_IF(!binds[b].name, WEFT_ERR_NULL, "binding %zu has no name", b);
        weft_dtype dt = binds[b].array ? binds[b].array->dtype : binds[b].dtype;
        RETURN_IF((unsigned)dt >= WEFT_DTYPE_COUNT, WEFT_ERR_DTYPE,
                  "binding \"%.64s\" has dtype %d", binds[b].name, (int)dt);
    }
    char stack[512];
    char *key = make_key(stack, sizeof stack, mode, op, text, binds, nbinds);
    RETURN_IF(!key, WEFT_ERR_NOMEM, "cannot allocate an expression key");
    /* A hit needs no more checks: its names and dtypes passed them when the
     * entry was made, and the key holds every one of them. */
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
    weft_expr_binding checked[WEFT_EXPR_MAX_BINDINGS];
    weft_status checks = expr_bindings(binds, nbinds, checked);
    if (checks != WEFT_OK) {
        if (key != stack) free(key);
        return checks;
    }
    size_t key_size = strlen(key) + 1;
    weft_compiled *c = calloc(1, sizeof *c + key_size);
    if (c) memcpy(c->key, key, key_size);
    if (key != stack) free(key);
    RETURN_IF(!c, WEFT_ERR_NOMEM, "cannot allocate an expression");
    weft_expr_builds_watch_exit(); /* its device code may build in the background */
    weft_status st = compile(ctx, mode, op, text, checked, nbinds, c);
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
