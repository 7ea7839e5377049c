/* Monte Carlo estimate of pi: the fraction of uniform points of the unit
 * square inside the quarter circle, times 4. weft_random draws the points in
 * batches (offset = points drawn so far, so the batch size cannot change the
 * stream) and weft_reduce_expr counts the hits. Uniforms are the same bits on
 * every device (docs/primitives.md), and the count is an integer, so the
 * estimate equals monte_carlo_reference's, which draws the same stream with
 * include/weft_random.h in plain C. */
#include <weft.h>
#include <weft_random.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* x and y are two streams: seed and seed + 1. */
static uint64_t monte_carlo_reference(uint64_t seed, size_t samples)
{
    uint64_t hits = 0;
    for (size_t i = 0; i < samples; i++) {
        double x = weft_rng_uniform_f64(weft_rng_u64_at(seed, i));
        double y = weft_rng_uniform_f64(weft_rng_u64_at(seed + 1, i));
        hits += x * x + y * y < 1.0;
    }
    return hits;
}

static weft_status monte_carlo_hits(weft_ctx *ctx, uint64_t seed, size_t samples, size_t batch,
                                    uint64_t *hits)
{
    weft_array *x = NULL, *y = NULL;
    size_t length = 0; /* of x and y */
    weft_status st = WEFT_OK;
    *hits = 0;
    for (size_t done = 0; done < samples && st == WEFT_OK; done += batch) {
        size_t count = samples - done < batch ? samples - done : batch;
        if (count != length) { /* the first batch, or a shorter last one */
            weft_array_free(x);
            weft_array_free(y);
            x = y = NULL;
            length = count;
            st = weft_array_create(ctx, WEFT_F64, count, &x);
            if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_F64, count, &y);
        }
        if (st == WEFT_OK) st = weft_random(ctx, x, WEFT_UNIFORM, seed, done, NULL);
        if (st == WEFT_OK) st = weft_random(ctx, y, WEFT_UNIFORM, seed + 1, done, NULL);
        weft_scalar inside;
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        if (st == WEFT_OK)
            st = weft_reduce_expr(ctx, WEFT_SUM, "x * x + y * y < 1.0", b, 2, &inside, NULL);
        if (st == WEFT_OK) *hits += (uint64_t)weft_scalar_as_double(&inside);
    }
    weft_array_free(x);
    weft_array_free(y);
    return st;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void)
{
    const size_t samples = (size_t)1 << 26, batch = (size_t)1 << 22;
    weft_ctx *ctx;
    uint64_t hits = 0;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = monte_carlo_hits(ctx, 2024, samples, batch, &hits);
    if (st != WEFT_OK)
        fprintf(stderr, "monte_carlo: %s\n", weft_last_error());
    else
        printf("pi ~ %.6f from %zu points (%llu inside)\n", 4.0 * (double)hits / (double)samples,
               samples, (unsigned long long)hits);
    weft_ctx_free(ctx);
    return st == WEFT_OK ? 0 : 1;
}
#endif
