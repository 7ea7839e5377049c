/* weft_random on the pool: whole Philox blocks at a time, each word written
 * to the element include/weft_random.h assigns it, so the numbers are those
 * of the header's per-element functions wherever a piece starts. */
#include "../device.h"

#include <weft_random.h>

enum { RANDOM_GRAIN = 1 << 16 };

typedef struct random_job {
    weft_dtype t;
    int dist;
    uint64_t seed, first;
    void *y;
} random_job;

/* One element from its block's words. */
static void put(const random_job *j, size_t k, uint64_t e, const weft_philox4x32 *b)
{
    switch (j->t) {
    case WEFT_F32:
        if (j->dist == WEFT_NORMAL) {
            int pair = 2 * (int)((e % 4) / 2);
            double u1 = ((double)b->v[pair] + 1.0) * (1.0 / 4294967296.0);
            double u2 = (double)b->v[pair + 1] * (1.0 / 4294967296.0);
            ((float *)j->y)[k] = (float)weft_rng_box_muller(u1, u2, (int)(e % 2));
        } else {
            ((float *)j->y)[k] = weft_rng_uniform_f32(b->v[e % 4]);
        }
        break;
    case WEFT_I32:
    case WEFT_U32:
        ((uint32_t *)j->y)[k] = b->v[e % 4];
        break;
    case WEFT_U8:
        ((uint8_t *)j->y)[k] = (uint8_t)b->v[e % 4];
        break;
    default: {
        if (j->dist == WEFT_NORMAL) {
            uint64_t w0 = (uint64_t)b->v[0] | ((uint64_t)b->v[1] << 32);
            uint64_t w1 = (uint64_t)b->v[2] | ((uint64_t)b->v[3] << 32);
            double u1 = (double)((w0 >> 11) + 1) * (1.0 / 9007199254740992.0);
            double u2 = (double)(w1 >> 11) * (1.0 / 9007199254740992.0);
            ((double *)j->y)[k] = weft_rng_box_muller(u1, u2, (int)(e % 2));
            break;
        }
        int w = 2 * (int)(e % 2);
        uint64_t bits = (uint64_t)b->v[w] | ((uint64_t)b->v[w + 1] << 32);
        if (j->t == WEFT_F64)
            ((double *)j->y)[k] = weft_rng_uniform_f64(bits);
        else
            ((uint64_t *)j->y)[k] = bits;
    }
    }
}

static void random_range(void *arg, size_t begin, size_t end)
{
    const random_job *j = arg;
    uint64_t per = weft_dtype_size(j->t) == 8 ? 2 : 4;
    uint64_t block = UINT64_MAX;
    weft_philox4x32 b = {{0, 0, 0, 0}};
    for (size_t k = begin; k < end; k++) {
        uint64_t e = j->first + k;
        if (e / per != block) {
            block = e / per;
            b = weft_rng_block(j->seed, block);
        }
        put(j, k, e, &b);
    }
}

weft_status weft_ref_random(const weft_prim_threads *threads, weft_dtype dtype, int dist,
                            uint64_t seed, uint64_t first, void *y, size_t n)
{
    random_job j = {dtype, dist, seed, first, y};
    threads->parallel_for(threads->pool, n, RANDOM_GRAIN, n < threads->min_elements ? 1 : 0,
                          random_range, &j);
    return WEFT_OK;
}
