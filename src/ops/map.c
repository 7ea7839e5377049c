/* weft_map: element-wise statements over partitioned arrays. */
#include "../mem/alias.h"
#include "../core/error.h"
#include "dispatch.h"
#include "expr_build.h"
#include "expr_op.h"
#include "submit_local.h"

#include <string.h>

_Static_assert(WEFT_MAX_ARRAYS == WEFT_OP_MAX_ARRAYS, "weft.h promises what an operation holds");
_Static_assert(WEFT_MAX_BINDINGS == WEFT_EXPR_MAX_BINDINGS, "weft.h promises the bindings");

typedef struct map_op {
    weft_op base;
    weft_compiled *compiled;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS];
    int view_of_bind[WEFT_EXPR_MAX_BINDINGS];
    weft_expr_call call;
} map_op;

static weft_status map_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                             size_t count)
{
    const map_op *m = op;
    return dev->ops.map_expr(dev, &m->call, views, begin, count);
}

static weft_status map_run(weft_op *base)
{
    map_op *m = (map_op *)base;
    const weft_expr *e = m->compiled->expr;
    weft_dispatch d = {.base = base,
                       .may_leave_running = 1,
                       .prim = WEFT_PRIM_MAP_EXPR,
                       .compiled = m->compiled,
                       .run = map_chunk,
                       .op = m,
                       .name = "weft_map",
                       .kind = "map"};
    for (size_t b = 0; b < e->nbindings; b++)
        if (m->view_of_bind[b] >= 0 && e->reads[b]) d.reads |= 1u << m->view_of_bind[b];
    return weft_dispatch_run(&d);
}

static void map_relink(weft_op *copy, const weft_op *from)
{
    (void)from;
    map_op *m = (map_op *)copy;
    m->call.binds = m->binds;
    m->call.view_of_bind = m->view_of_bind;
}

weft_status weft_expr_bind(weft_ctx *ctx, const char *what, const weft_bind *binds, size_t nbinds,
                           weft_op *base, weft_bind *copy, int *view_of_bind, weft_expr_call *call)
{
    RETURN_IF(!binds && nbinds, WEFT_ERR_NULL, "%s: %zu bindings but binds is NULL", what, nbinds);
    RETURN_IF(nbinds > WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG,
              "%s: %zu bindings (at most %d)", what, nbinds, WEFT_EXPR_MAX_BINDINGS);
    const weft_array *first = NULL;
    for (size_t b = 0; b < nbinds; b++) {
        RETURN_IF(!binds[b].name, WEFT_ERR_NULL, "%s: binding %zu has no name", what, b);
        copy[b] = binds[b];
        view_of_bind[b] = -1;
        if (!binds[b].array) continue;
        RETURN_ON_ERROR(weft_array_check(binds[b].array, what));
        RETURN_IF(binds[b].array->ctx != ctx, WEFT_ERR_INVALID_ARG,
                  "%s: array \"%s\" belongs to another context", what, binds[b].name);
        if (!first) first = binds[b].array;
        RETURN_IF(binds[b].array->n != first->n, WEFT_ERR_SIZE,
                  "%s: \"%s\" has %zu elements, the first array has %zu", what, binds[b].name,
                  binds[b].array->n, first->n);
        for (size_t k = 0; k < base->narrays && view_of_bind[b] < 0; k++)
            if (base->arrays[k] == binds[b].array) view_of_bind[b] = (int)k;
        if (view_of_bind[b] < 0) {
            /* An operation's array table is fixed (src/exec/stream.h), smaller
             * than the binding table: refuse before writing past it. */
            RETURN_IF(base->narrays == WEFT_MAX_ARRAYS, WEFT_ERR_INVALID_ARG,
                      "%s: array \"%s\" is one too many: an operation takes at most %d arrays "
                      "(scalars aside; %d bindings in all)",
                      what, binds[b].name, WEFT_MAX_ARRAYS, WEFT_MAX_BINDINGS);
            view_of_bind[b] = (int)base->narrays;
            call->elem_of_view[base->narrays] = binds[b].array->elem_size;
            base->arrays[base->narrays++] = binds[b].array;
        }
    }
    RETURN_IF(!first, WEFT_ERR_INVALID_ARG, "%s: no array is bound", what);
    call->binds = copy;
    call->view_of_bind = view_of_bind;
    return WEFT_OK;
}

weft_status weft_expr_alias_check(const char *what, const weft_bind *binds, size_t nbinds,
                                  const unsigned char *writes)
{
    for (size_t b = 0; b < nbinds && writes; b++)
        for (size_t c = 0; c < b; c++)
            if (binds[b].array && binds[c].array && (writes[b] || writes[c]))
                RETURN_ON_ERROR(weft_alias_check(what, binds[c].array, binds[c].name,
                                                 binds[b].array, binds[b].name));
    return WEFT_OK;
}

weft_status weft_map(weft_ctx *ctx, const char *expr, const weft_bind *binds, size_t nbinds,
                     weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx || !expr, WEFT_ERR_NULL, "weft_map: context or expression is NULL");
    /* Built here; a copy goes to the heap only if it cannot run at once. */
    map_op m;
    m.base = (weft_op){.run = map_run, .ctx = ctx};
    m.compiled = NULL;
    m.call = (weft_expr_call){0};
    RETURN_ON_ERROR(
        weft_expr_bind(ctx, "weft_map", binds, nbinds, &m.base, m.binds, m.view_of_bind, &m.call));
    RETURN_ON_ERROR(
        weft_compiled_get(ctx, WEFT_EXPR_MAP, WEFT_SUM, expr, binds, nbinds, &m.compiled));
    RETURN_ON_ERROR(weft_expr_alias_check("weft_map", binds, m.compiled->expr->nbindings,
                                          m.compiled->expr->writes));
    m.call.compiled = m.compiled;
    m.base.read_only = (1u << m.base.narrays) - 1;
    for (size_t b = 0; b < m.compiled->expr->nbindings; b++)
        if (m.view_of_bind[b] >= 0 && m.compiled->expr->writes[b])
            m.base.read_only &= ~(1u << m.view_of_bind[b]);
    weft_local_op local = {&m.base, sizeof m, map_relink, NULL};
    return weft_submit_local(ctx->stream, &local, future);
}
