#include <weft.h>

#include <stdio.h>

int main(void)
{
    weft_ctx *ctx;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) {
        fprintf(stderr, "%s\n", weft_last_error());
        return 1;
    }
    float x[3] = {1, 2, 3};
    weft_array *a;
    double sum = 0;
    weft_status st = weft_array_from(ctx, WEFT_F32, 3, x, &a);
    if (st == WEFT_OK) st = weft_sum(ctx, a, &sum, NULL);
    weft_array_free(a);
    weft_ctx_free(ctx);
    printf("weft %s: sum = %g\n", weft_version_string(), sum);
    return st == WEFT_OK && sum == 6.0 ? 0 : 1;
}
