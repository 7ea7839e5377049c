/* The smallest useful weft program: y = 2x + y and the sum of y, on whatever
 * devices this machine has. Build: cc demo.c $(pkg-config --cflags --libs weft) */
#include <weft.h>

#include <stdio.h>

int main(void)
{
    enum { N = 1 << 20 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 1.0f;
        y[i] = (float)i;
    }
    weft_ctx *ctx = NULL;
    weft_array *xa = NULL, *ya = NULL;
    double total = 0;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F32, N, x, &xa);
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F32, N, y, &ya);
    if (st == WEFT_OK) st = weft_axpy(ctx, 2.0, xa, ya, NULL); /* y = 2x + y */
    if (st == WEFT_OK) st = weft_sum(ctx, ya, &total, NULL);
    if (st != WEFT_OK)
        fprintf(stderr, "weft: %s\n", weft_last_error());
    else
        printf("sum = %.1f (expected %.1f)\n", total, 2.0 * N + (double)N * (N - 1) / 2);
    weft_array_free(xa);
    weft_array_free(ya);
    weft_ctx_free(ctx);
    return st == WEFT_OK ? 0 : 1;
}
