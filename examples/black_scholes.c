/* Black-Scholes European option pricing: one work-item per option, with the
 * same formula in C as the host fallback. */
#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char black_scholes_source[] =
    "float cnd(float d) { return 0.5f * erfc(-d * M_SQRT1_2_F); }\n"
    "__kernel void black_scholes(__global const float *spot, __global const float *strike,\n"
    "                            __global const float *years, __global float *call,\n"
    "                            __global float *put, const float rate, const float vol)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    float s = spot[i], k = strike[i], t = years[i];\n"
    "    float sqrt_t = sqrt(t);\n"
    "    float d1 = (log(s / k) + (rate + 0.5f * vol * vol) * t) / (vol * sqrt_t);\n"
    "    float d2 = d1 - vol * sqrt_t;\n"
    "    float discounted = k * exp(-rate * t);\n"
    "    call[i] = s * cnd(d1) - discounted * cnd(d2);\n"
    "    put[i] = discounted * cnd(-d2) - s * cnd(-d1);\n"
    "}\n";

static float cnd_host(float d)
{
    return 0.5f * erfcf(-d * 0.70710678118654752f); /* 1/sqrt(2) */
}

static void black_scholes_one(float s, float k, float t, float rate, float vol, float *call,
                              float *put)
{
    float sqrt_t = sqrtf(t);
    float d1 = (logf(s / k) + (rate + 0.5f * vol * vol) * t) / (vol * sqrt_t);
    float d2 = d1 - vol * sqrt_t;
    float discounted = k * expf(-rate * t);
    *call = s * cnd_host(d1) - discounted * cnd_host(d2);
    *put = discounted * cnd_host(-d2) - s * cnd_host(-d1);
}

static void black_scholes_host(const weft_host_call *call)
{
    const float *spot = call->args[0], *strike = call->args[1], *years = call->args[2];
    float *calls = call->args[3], *puts = call->args[4];
    float rate = *(const float *)call->args[5], vol = *(const float *)call->args[6];
    for (size_t i = call->begin; i < call->end; i++)
        black_scholes_one(spot[i], strike[i], years[i], rate, vol, &calls[i], &puts[i]);
}

static weft_status black_scholes_price(weft_ctx *ctx, size_t n, const float *spot,
                                       const float *strike, const float *years, float rate,
                                       float vol, float *calls, float *puts)
{
    weft_program *program = NULL;
    weft_array *in[3] = {NULL, NULL, NULL}, *out[2] = {NULL, NULL};
    const float *inputs[3] = {spot, strike, years};
    weft_status st = weft_program_build(ctx, black_scholes_source, NULL, &program);
    for (int i = 0; i < 3 && st == WEFT_OK; i++)
        st = weft_array_from(ctx, WEFT_F32, n, inputs[i], &in[i]);
    for (int i = 0; i < 2 && st == WEFT_OK; i++)
        st = weft_array_create(ctx, WEFT_F32, n, &out[i]);
    if (st == WEFT_OK) {
        weft_arg args[] = {weft_arg_slice(in[0]),  weft_arg_slice(in[1]),  weft_arg_slice(in[2]),
                           weft_arg_slice(out[0]), weft_arg_slice(out[1]), weft_arg_f32(rate),
                           weft_arg_f32(vol)};
        weft_range range = {1, {n, 1, 1}, {0, 0, 0}};
        st = weft_launch(program, "black_scholes", &range, args, 7, black_scholes_host, NULL, NULL);
    }
    if (st == WEFT_OK) st = weft_array_read(out[0], 0, n, calls);
    if (st == WEFT_OK) st = weft_array_read(out[1], 0, n, puts);
    for (int i = 0; i < 3; i++)
        weft_array_free(in[i]);
    for (int i = 0; i < 2; i++)
        weft_array_free(out[i]);
    weft_program_free(program);
    return st;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void)
{
    enum { N = 1 << 20 };
    float *s = malloc(N * sizeof *s), *k = malloc(N * sizeof *k), *t = malloc(N * sizeof *t);
    float *c = malloc(N * sizeof *c), *p = malloc(N * sizeof *p);
    for (int i = 0; i < N; i++) {
        s[i] = 5.0f + 25.0f * (float)(i % 997) / 997.0f;
        k[i] = 1.0f + 99.0f * (float)(i % 991) / 991.0f;
        t[i] = 0.25f + 9.75f * (float)(i % 983) / 983.0f;
    }
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = black_scholes_price(ctx, N, s, k, t, 0.02f, 0.30f, c, p);
    if (st != WEFT_OK)
        fprintf(stderr, "black_scholes: %s\n", weft_last_error());
    else
        printf("option 0: spot %.2f strike %.2f years %.2f -> call %.4f put %.4f\n", s[0], k[0],
               t[0], c[0], p[0]);
    weft_ctx_free(ctx);
    free(s);
    free(k);
    free(t);
    free(c);
    free(p);
    return st == WEFT_OK ? 0 : 1;
}
#endif
