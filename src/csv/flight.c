/* The statements of a CSV job over one window, asynchronous. */
#include "../core/env.h"
#include "../core/error.h"
#include "../expr/expr.h"
#include "flight.h"

#include <stdlib.h>
#include <string.h>

int csv_flight_overlaps(weft_ctx *ctx)
{
    const char *forced = getenv("WEFT_CSV_OVERLAP");
    if (forced && *forced) return weft_env_flag("WEFT_CSV_OVERLAP", 0);
    size_t n = 0;
    if (weft_device_count(ctx, &n) != WEFT_OK) return 0;
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        if (weft_device_get_info(ctx, d, &info) != WEFT_OK || !info.selected) continue;
        if (!info.zero_copy || info.kind != WEFT_DEVICE_CPU) return 1;
    }
    return 0;
}

weft_status csv_launch(weft_ctx *ctx, const csv_plan *p, size_t rows, uint64_t first_row,
                       csv_flight *f)
{
    if (!p->program || rows == 0) return WEFT_OK;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS + 1];
    weft_status st = WEFT_OK;
    for (; f->narrays < p->nvars && st == WEFT_OK; f->narrays++) {
        const csv_var *v = &p->vars[f->narrays];
        st = weft_array_wrap(ctx, v->dtype, rows, v->data, &f->arrays[f->narrays]);
        binds[f->narrays] = weft_bind_array(v->name, f->arrays[f->narrays]);
    }
    /* i is the row's index in the file, not in the window. */
    size_t nbinds = f->narrays;
    if (weft_expr_text_uses_index(p->program))
        binds[nbinds++] = weft_bind_i64(WEFT_EXPR_INDEX_BASE, (int64_t)first_row);
    if (st == WEFT_OK) st = weft_map(ctx, p->program, binds, nbinds, &f->future);
    if (st != WEFT_OK) csv_land(p, f);
    return st;
}

weft_status csv_land(const csv_plan *p, csv_flight *f)
{
    weft_status st = WEFT_OK;
    if (f->future) {
        st = weft_future_wait(f->future);
        weft_future_release(f->future);
        f->future = NULL;
        for (size_t v = 0; v < f->narrays && st == WEFT_OK; v++)
            if (p->vars[v].written) st = weft_array_sync(f->arrays[v]);
    }
    for (size_t v = 0; v < f->narrays; v++) {
        weft_array_free(f->arrays[v]);
        f->arrays[v] = NULL;
    }
    f->narrays = 0;
    return st;
}
