/* weft_program_build_file: the fopen/fread every user wrote around
 * weft_program_build (`weft run` takes a file too). */
#include "../core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCE_BYTES (16u << 20) /* as the include scanner's limit */

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
    if (st == WEFT_OK) {
        source[length] = '\0';
        st = weft_program_build(ctx, source, options, out);
    }
    free(source);
    return st;
}
