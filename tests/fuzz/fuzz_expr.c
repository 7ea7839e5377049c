/* libFuzzer target: any bytes as an expression program, parsed, type-checked
 * and run on the pool over small arrays of every dtype, as a map and as a
 * reduction. Nothing may crash, leak or trip a sanitizer. The first byte picks
 * the dtypes, so one corpus covers them all. */
#include <weft.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { N = 37 }; /* spans a partial VM block */

static weft_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        weft_options o;
        weft_options_init(&o);
        o.devices = "host";
        o.disk_cache = 0;
        if (weft_ctx_create(&o, &ctx) != WEFT_OK) abort();
    }
    if (size == 0) return 0;
    weft_dtype tx = (weft_dtype)(data[0] % WEFT_DTYPE_COUNT);
    weft_dtype ty = (weft_dtype)((data[0] / WEFT_DTYPE_COUNT) % WEFT_DTYPE_COUNT);
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    weft_array *x = NULL, *y = NULL;
    unsigned char init[N * 8 + 8];
    for (size_t i = 0; i < sizeof init; i++)
        init[i] = (unsigned char)(i * 37 + 11);
    weft_array_from(ctx, tx, N, init, &x);
    weft_array_from(ctx, ty, N, init + 3, &y);
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f64("a", -1.5),
                     weft_bind_i32("k", 7), weft_bind_u8("c", 200)};
    weft_map(ctx, text, b, 5, NULL);
    weft_scalar s;
    for (int op = WEFT_SUM; op <= WEFT_ALL; op++)
        weft_reduce_expr(ctx, (weft_reduce_op)op, text, b, 5, &s, NULL);
    weft_array_free(x);
    weft_array_free(y);
    free(text);
    return 0;
}
