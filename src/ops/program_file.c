/* weft_program_build_file: the fopen/fread every user wrote around
 * weft_program_build (`weft run` takes a file too). */
#include "../core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCE_BYTES (16u << 20) /* as the include scanner's limit */

/* "-I <the file's directory> " before options: a header beside the kernel
 * file (#include "defs.h") is found from any working directory, as a C
 * compiler finds it next to the including file (the include walk of the
 * cache key then finds it too). A directory whose name holds a blank cannot
 * travel in the option string: left out. NULL without memory. */
static char *options_with_file_dir(const char *path, const char *options)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    if (slash == path) dir_len = 1; /* "/k.cl": the root */
    if (memchr(dir, ' ', dir_len) || memchr(dir, '\t', dir_len)) dir_len = 0;
    size_t bytes = dir_len + 4 + (options ? strlen(options) : 0) + 1;
    char *all = malloc(bytes);
    if (!all) return NULL;
    if (dir_len)
        snprintf(all, bytes, "-I %.*s %s", (int)dir_len, dir, options ? options : "");
    else
        snprintf(all, bytes, "%s", options ? options : "");
    return all;
}

weft_status weft_program_build_file(weft_ctx *ctx, const char *path, const char *options,
                                    weft_program **out)
{
    RETURN_IF(!ctx || !path || !out, WEFT_ERR_NULL,
              "weft_program_build_file: context, path or output is NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    RETURN_IF(!f, WEFT_ERR_IO, "weft_program_build_file: cannot open %s: %s", path,
              strerror(errno));
    char *source = malloc(MAX_SOURCE_BYTES + 1);
    size_t length = source ? fread(source, 1, MAX_SOURCE_BYTES + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    weft_status st = WEFT_OK;
    if (!source)
        st = weft_error_set(WEFT_ERR_NOMEM, "weft_program_build_file: cannot allocate");
    else if (failed)
        st = weft_error_set(WEFT_ERR_IO, "weft_program_build_file: cannot read %s", path);
    else if (length > MAX_SOURCE_BYTES)
        st = weft_error_set(WEFT_ERR_RANGE, "weft_program_build_file: %s is over %u bytes", path,
                            MAX_SOURCE_BYTES);
    char *with_dir = NULL;
    if (st == WEFT_OK) {
        source[length] = '\0';
        with_dir = options_with_file_dir(path, options);
        if (!with_dir)
            st = weft_error_set(WEFT_ERR_NOMEM, "weft_program_build_file: cannot allocate");
    }
    if (st == WEFT_OK) st = weft_program_build(ctx, source, with_dir, out);
    free(with_dir);
    free(source);
    return st;
}
