/* Whole-file reductions, bit-identical to weft_reduce_expr over the whole
 * columns in memory. That result is a combination, in index order, of one
 * partial per block of WEFT_SUM_BLOCK elements (src/ops/reduction.c), so a
 * window (whole blocks) gives each block's own result in one reduction
 * (weft_reduce_expr_blocks) and they are combined here in the same order
 * with the same rules. A
 * watcher (reduce_blocks.h) sees each block's partial as it is folded. */
#include "../core/error.h"
#include "../expr/expr.h"
#include "../dev/ref/reduce_rules.h"
#include "../ops/reduction_blocks.h"
#include "reduce_blocks.h"
#include "stream_reduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A reduction that reads no column (`max: i`, the last row's index) still
 * reduces over the rows: an array of that many bytes, never read, gives it
 * its length. */
static weft_status bind_rows_only(weft_ctx *ctx, size_t rows, weft_bind *bind, weft_array **array)
{
    RETURN_ON_ERROR(weft_array_create(ctx, WEFT_U8, rows, array));
    *bind = weft_bind_array("__weft_rows", *array);
    return WEFT_OK;
}

/* Rows [first, first + count) of the window whose first row is window_row
 * in the file. */
static weft_status reduce_rows(weft_ctx *ctx, const csv_plan *p, const csv_reduce_state *rs,
                               uint64_t window_row, size_t first, size_t count, weft_scalar *out)
{
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS + 1] = {{0}};
    weft_array *arrays[WEFT_EXPR_MAX_BINDINGS] = {0};
    weft_status st = WEFT_OK;
    size_t n = 0;
    for (; n < rs->nvars && st == WEFT_OK; n++) {
        const csv_var *v = &p->vars[rs->vars[n]];
        size_t size = weft_dtype_size(v->dtype);
        st = count == 0 ? weft_array_create(ctx, v->dtype, 0, &arrays[n])
                        : weft_array_wrap(ctx, v->dtype, count, v->data + first * size, &arrays[n]);
        binds[n] = weft_bind_array(v->name, arrays[n]);
    }
    if (n == 0 && st == WEFT_OK) st = bind_rows_only(ctx, count, &binds[n++], &arrays[0]);
    size_t nbinds = n;
    if (weft_expr_text_uses_index(rs->expr))
        binds[nbinds++] = weft_bind_i64(WEFT_EXPR_INDEX_BASE, (int64_t)(window_row + first));
    if (st == WEFT_OK) st = weft_reduce_expr(ctx, rs->op, rs->expr, binds, nbinds, out, NULL);
    for (size_t k = 0; k < n; k++)
        weft_array_free(arrays[k]);
    return st;
}

static int is_better(weft_reduce_op op, const weft_scalar *x, const weft_scalar *best)
{
    int want_less = op == WEFT_MIN || op == WEFT_ARGMIN;
    switch (x->dtype) {
    case WEFT_F32:
        return want_less ? weft_less_f(x->value.f32, best->value.f32)
                         : weft_greater_f(x->value.f32, best->value.f32);
    case WEFT_F64:
        return want_less ? weft_less_f(x->value.f64, best->value.f64)
                         : weft_greater_f(x->value.f64, best->value.f64);
    case WEFT_I32:
        return want_less ? x->value.i32 < best->value.i32 : x->value.i32 > best->value.i32;
    case WEFT_U32:
        return want_less ? x->value.u32 < best->value.u32 : x->value.u32 > best->value.u32;
    case WEFT_I64:
        return want_less ? x->value.i64 < best->value.i64 : x->value.i64 > best->value.i64;
    default:
        return want_less ? x->value.u64 < best->value.u64 : x->value.u64 > best->value.u64;
    }
}

/* Folds one block's result into the running one, as reduce.c's combine does. */
static weft_status fold(csv_reduce_state *rs, const weft_scalar *b, uint64_t first_index)
{
    weft_scalar *acc = &rs->acc;
    int first = rs->blocks++ == 0;
    switch (rs->op) {
    case WEFT_SUM:
        if (first) {
            memset(acc, 0, sizeof *acc);
            acc->dtype = b->dtype;
        }
        if (b->dtype == WEFT_F64) {
            acc->value.f64 = acc->value.f64 + b->value.f64;
        } else if (b->dtype == WEFT_I64) {
            int64_t v;
            RETURN_IF(__builtin_add_overflow(acc->value.i64, b->value.i64, &v), WEFT_ERR_RANGE,
                      "integer sum overflows a signed 64-bit result");
            acc->value.i64 = v;
        } else {
            uint64_t v;
            RETURN_IF(__builtin_add_overflow(acc->value.u64, b->value.u64, &v), WEFT_ERR_RANGE,
                      "integer sum overflows an unsigned 64-bit result");
            acc->value.u64 = v;
        }
        return WEFT_OK;
    case WEFT_PROD:
        if (first) {
            *acc = *b;
            acc->value.f64 = 1.0;
        }
        acc->value.f64 = acc->value.f64 * b->value.f64;
        return WEFT_OK;
    case WEFT_ANY:
    case WEFT_ALL:
        if (first)
            *acc = *b;
        else
            acc->value.i32 = rs->op == WEFT_ANY ? (acc->value.i32 | b->value.i32)
                                                : (acc->value.i32 & b->value.i32);
        return WEFT_OK;
    default:
        if (first || is_better(rs->op, b, acc)) {
            *acc = *b;
            acc->index = b->index + first_index;
        }
        return WEFT_OK;
    }
}

static _Thread_local weft_csv_block_fn watch_fn;
static _Thread_local void *watch_user;

void weft_csv_watch_blocks(weft_csv_block_fn fn, void *user)
{
    watch_fn = fn;
    watch_user = user;
}

/* The window's columns bound by their names, wrapped where they lie, then
 * where i starts: the window's first row in the file. */
static weft_status bind_window(weft_ctx *ctx, const csv_plan *p, const csv_reduce_state *rs,
                               size_t rows, uint64_t first_row, weft_bind *binds,
                               weft_array **arrays, size_t *nbinds)
{
    *nbinds = 0;
    for (size_t n = 0; n < rs->nvars; n++) {
        const csv_var *v = &p->vars[rs->vars[n]];
        RETURN_ON_ERROR(weft_array_wrap(ctx, v->dtype, rows, v->data, &arrays[n]));
        binds[(*nbinds)++] = weft_bind_array(v->name, arrays[n]);
    }
    if (rs->nvars == 0) RETURN_ON_ERROR(bind_rows_only(ctx, rows, &binds[(*nbinds)++], &arrays[0]));
    if (weft_expr_text_uses_index(rs->expr))
        binds[(*nbinds)++] = weft_bind_i64(WEFT_EXPR_INDEX_BASE, (int64_t)first_row);
    return WEFT_OK;
}

/* Every block's own result in one reduction over the window, then folded
 * block after block. A block whose integer sum overflowed is reduced alone
 * again, for the error weft_reduce_expr gives of it. */
static weft_status fold_blocks(weft_ctx *ctx, const csv_plan *p, csv_reduce_state *rs,
                               const weft_scalar *blocks, const uint8_t *overflowed, size_t rows,
                               uint64_t first_row)
{
    for (size_t b = 0, b0 = 0; b0 < rows; b++, b0 += WEFT_SUM_BLOCK) {
        weft_scalar s = blocks[b];
        if (overflowed[b]) {
            size_t count = rows - b0 < WEFT_SUM_BLOCK ? rows - b0 : WEFT_SUM_BLOCK;
            RETURN_ON_ERROR(reduce_rows(ctx, p, rs, first_row, b0, count, &s));
        }
        RETURN_ON_ERROR(fold(rs, &s, first_row + b0));
        if (watch_fn)
            RETURN_ON_ERROR(watch_fn(watch_user, (size_t)(rs - p->reductions), &s, first_row + b0));
    }
    return WEFT_OK;
}

/* An error of reduction rs in the user's terms: which reduction, and what
 * to do where an integer sum overflows, rather than a call the user did not
 * make ("weft_reduce: ..."). */
static weft_status named_error(const csv_plan *p, const csv_reduce_state *rs, weft_status st)
{
    char detail[768];
    const char *start = csv_error_detail(st, detail, sizeof detail), *colon;
    if (strncmp(start, "weft_", 5) == 0 && (colon = strstr(start, ": ")) && colon - start < 24)
        start = colon + 2;
    /* Advice only where it holds: the expression in parentheses (no
     * temporaries, no comment to swallow the rest), a --type for a file
     * column the statements leave alone and the expression names bare. */
    char hint[400] = "";
    if (st == WEFT_ERR_RANGE && rs->op == WEFT_SUM) {
        const csv_var *v = rs->nvars == 1 ? &p->vars[rs->vars[0]] : NULL;
        int column = v && v->input_col >= 0 && !v->written && strcmp(rs->text, v->name) == 0;
        int wrap = strcspn(rs->text, ";#\n") == strlen(rs->text);
        if (wrap || column)
            snprintf(hint, sizeof hint, "; sum it in floating point%s%.120s%s%s%.120s%s",
                     wrap ? ": \"sum: (" : "", wrap ? rs->text : "", wrap ? ") * 1.0\"" : "",
                     column ? (wrap ? ", or type the column f64: --type " : ": --type ") : "",
                     column ? rs->text : "", column ? "=f64" : "");
    }
    return weft_error_set(st, "csv: %s(%.120s): %s%s", csv_reduce_op_name(rs->op), rs->text, start,
                          hint);
}

weft_status csv_reduce_window(weft_ctx *ctx, const csv_plan *p, csv_reduce_state *rs, size_t rows,
                              uint64_t first_row)
{
    if (rows == 0) return WEFT_OK;
    size_t nblocks = (rows + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS + 1] = {{0}};
    weft_array *arrays[WEFT_EXPR_MAX_BINDINGS] = {0};
    weft_scalar *blocks = malloc(nblocks * sizeof *blocks);
    uint8_t *overflowed = malloc(nblocks);
    weft_status st = WEFT_OK;
    GOTO_ERROR_IF(!blocks || !overflowed, WEFT_ERR_NOMEM, "csv: cannot allocate %zu partials",
                  nblocks);
    size_t nbinds = 0;
    GOTO_ERROR_ON(bind_window(ctx, p, rs, rows, first_row, binds, arrays, &nbinds));
    GOTO_ERROR_ON(
        weft_reduce_expr_blocks(ctx, rs->op, rs->expr, binds, nbinds, blocks, overflowed, nblocks));
    st = fold_blocks(ctx, p, rs, blocks, overflowed, rows, first_row);
error:
    for (size_t k = 0; k < (rs->nvars ? rs->nvars : 1); k++)
        weft_array_free(arrays[k]);
    free(blocks);
    free(overflowed);
    return st == WEFT_OK ? st : named_error(p, rs, st);
}

weft_status csv_reduce_finish(weft_ctx *ctx, const csv_plan *p, csv_reduce_state *rs,
                              weft_scalar *out)
{
    if (rs->blocks == 0) { /* an empty file: what weft_reduce_expr says of empty columns */
        weft_status st = reduce_rows(ctx, p, rs, 0, 0, 0, out);
        return st == WEFT_OK ? st : named_error(p, rs, st);
    }
    *out = rs->acc;
    return WEFT_OK;
}
