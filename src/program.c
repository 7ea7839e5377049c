/* User programs: OpenCL C built for every selected OpenCL device. */
#include "backend_cl.h"
#include "error.h"
#include "handles.h"

#include <stdlib.h>
#include <string.h>

struct weft_program {
    weft_ctx *ctx;
    void **per_device; /* cl_program per device index; NULL where not built */
    char *log;
};

static void program_destroy(weft_program *p)
{
    for (size_t d = 0; d < p->ctx->ndevices; d++)
        weft_cl_program_release(p->per_device[d]);
    free(p->per_device);
    free(p->log);
    free(p);
}

weft_status weft_program_free(weft_program *p)
{
    if (!p) return WEFT_OK;
    RETURN_IF(!weft_handle_remove(p), WEFT_ERR_STATE,
              "weft_program_free: %p is not a live program (freed twice?)", (void *)p);
    program_destroy(p);
    return WEFT_OK;
}

weft_status weft_program_build(weft_ctx *ctx, const char *source, const char *options,
                               weft_program **out)
{
    RETURN_IF(!ctx || !source || !out, WEFT_ERR_NULL,
              "weft_program_build: context, source or output is NULL");
    *out = NULL;
    weft_program *p = calloc(1, sizeof *p);
    RETURN_IF(!p, WEFT_ERR_NOMEM, "cannot allocate a program");
    p->ctx = ctx;
    p->per_device = calloc(ctx->ndevices, sizeof *p->per_device);
    if (!p->per_device) {
        free(p);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate a program");
    }
    weft_status st = WEFT_OK;
    for (size_t d = 1; d < ctx->ndevices && st == WEFT_OK; d++) {
        if (!ctx->devices[d].info.selected) continue;
        st = weft_cl_build_for(&ctx->devices[d], source, options ? options : "",
                               &p->per_device[d], &p->log);
    }
    /* A failed build still hands back the program: it carries the log. */
    if (weft_handle_add(p) != WEFT_OK) {
        program_destroy(p);
        return WEFT_ERR_NOMEM;
    }
    *out = p;
    return st;
}

const char *weft_program_build_log(const weft_program *p)
{
    return p && p->log ? p->log : "";
}
