/* Pool.map for a plain C function: the number of Collatz steps of every
 * start value below n, with weft_parallel_for, checked against a plain loop.
 * Run: example_collatz [n] (default 2,000,000). */
#include <weft.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t collatz_steps(uint64_t v)
{
    uint32_t steps = 0;
    for (; v > 1; steps++)
        v = v & 1 ? 3 * v + 1 : v / 2;
    return steps;
}

/* Each call gets its own [begin, end): writes never overlap, so no lock. */
static void steps_range(void *user, size_t begin, size_t end)
{
    uint32_t *steps = user;
    for (size_t i = begin; i < end; i++)
        steps[i] = collatz_steps(i + 1);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    uint32_t *steps = calloc(n ? n : 1, sizeof *steps);
    weft_ctx *ctx = NULL;
    weft_status st = steps ? weft_ctx_create(NULL, &ctx) : WEFT_ERR_NOMEM;
    /* grain 0: weft times the first chunks and picks the chunk size. */
    if (st == WEFT_OK) st = weft_parallel_for(ctx, n, 0, steps_range, steps, NULL);
    if (st != WEFT_OK) {
        fprintf(stderr, "collatz: %s: %s\n", weft_status_str(st), weft_last_error());
        weft_ctx_free(ctx);
        free(steps);
        return 1;
    }
    size_t longest = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        wrong += steps[i] != collatz_steps(i + 1);
        if (steps[i] > steps[longest]) longest = i;
    }
    if (n > 0)
        printf("below %zu: %zu takes the most steps (%u); %zu wrong\n", n + 1, longest + 1,
               steps[longest], wrong);
    weft_ctx_free(ctx);
    free(steps);
    return wrong ? 1 : 0;
}
