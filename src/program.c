/* User programs: OpenCL C built for every selected OpenCL device. */
#include "backend_cl.h"
#include "error.h"
#include "handles.h"
#include "program.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static void program_destroy(weft_program *p)
{
    for (weft_kernel_entry *k = p->kernels, *next; k; k = next) {
        next = k->next;
        weft_cl_kernel_release(k->kernel);
        free(k->name);
        free(k);
    }
    pthread_mutex_destroy(&p->lock);
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
    pthread_mutex_init(&p->lock, NULL);
    p->per_device = calloc(ctx->ndevices, sizeof *p->per_device);
    if (!p->per_device) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate a program");
    }
    /* Argument info lets launches check arguments against the signature. */
    char *full_options = NULL;
    weft_status st = weft_user_options(options, &full_options);
    for (size_t d = 1; d < ctx->ndevices && st == WEFT_OK; d++) {
        if (!ctx->devices[d].info.selected) continue;
        st = weft_cl_build_for(&ctx->devices[d], source, full_options, &p->per_device[d], &p->log);
    }
    free(full_options);
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

/* User options plus -cl-kernel-arg-info; -I directories are hashed into the
 * cache key by the build (their headers change the program). */
weft_status weft_user_options(const char *options, char **full)
{
    const char *extra = "-cl-kernel-arg-info";
    size_t len = (options ? strlen(options) : 0) + strlen(extra) + 2;
    *full = malloc(len);
    RETURN_IF(!*full, WEFT_ERR_NOMEM, "cannot copy build options");
    snprintf(*full, len, "%s %s", options ? options : "", extra);
    return WEFT_OK;
}

weft_status weft_program_precompile(weft_ctx *ctx, const char *const *sources, size_t count,
                                    const char *options)
{
    RETURN_IF(!ctx || (!sources && count), WEFT_ERR_NULL, "weft_program_precompile: NULL argument");
    for (size_t i = 0; i < count; i++) {
        RETURN_IF(!sources[i], WEFT_ERR_NULL, "weft_program_precompile: source %zu is NULL", i);
        weft_program *p = NULL;
        weft_status st = weft_program_build(ctx, sources[i], options, &p);
        weft_program_free(p);
        if (st != WEFT_OK) return st;
    }
    return WEFT_OK;
}
