/* A user kernel through weft_launch: y = a*x + y, split over every device,
 * with the same loop in C as the fallback when no device can run it. */
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

static const char saxpy_source[] =
    "__kernel void saxpy(const float a, __global const float *x, __global float *y)\n"
    "{\n"
    "    /* Slices start at the piece: index relative to the global offset. */\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = a * x[i] + y[i];\n"
    "}\n";

/* Host fallback: arrays arrive whole, indices are global. */
static void saxpy_host(const weft_host_call *call)
{
    float a = *(const float *)call->args[0];
    const float *x = call->args[1];
    float *y = call->args[2];
    for (size_t i = call->begin; i < call->end; i++)
        y[i] = a * x[i] + y[i];
}

/* y = a*x + y over n elements of host arrays, through a user kernel. */
static weft_status saxpy_run(weft_ctx *ctx, float a, const float *x, float *y, size_t n)
{
    weft_program *program = NULL;
    weft_array *xa = NULL, *ya = NULL;
    weft_status st = weft_program_build(ctx, saxpy_source, NULL, &program);
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F32, n, x, &xa);
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F32, n, y, &ya);
    if (st == WEFT_OK) {
        weft_arg args[] = {weft_arg_f32(a), weft_arg_slice(xa), weft_arg_slice(ya)};
        weft_range range = {1, {n, 1, 1}, {0, 0, 0}};
        st = weft_launch(program, "saxpy", &range, args, 3, saxpy_host, NULL, NULL);
    }
    if (st == WEFT_OK) st = weft_array_read(ya, 0, n, y);
    weft_array_free(xa);
    weft_array_free(ya);
    weft_program_free(program);
    return st;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void)
{
    enum { N = 1000000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = 1.0f;
    }
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = saxpy_run(ctx, 2.0f, x, y, N);
    if (st != WEFT_OK)
        fprintf(stderr, "saxpy: %s\n", weft_last_error());
    else
        printf("y[%d] = %.1f (expected %.1f)\n", N - 1, y[N - 1], 2.0 * (N - 1) + 1);
    weft_ctx_free(ctx);
    free(x);
    free(y);
    return st == WEFT_OK ? 0 : 1;
}
#endif
