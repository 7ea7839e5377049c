/*
 * weft_random.h: the counter-based generator behind weft_random, for C and
 * for OpenCL C kernels (build with -I <weft include dir>), so a user kernel
 * draws exactly the numbers weft_random writes.
 *
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC11), bit for bit as Random123's philox4x32 (the tests check its
 * known-answer vectors and, where installed, Random123 itself). Written out
 * here because it is twenty lines and must compile as OpenCL C without
 * Random123's headers on the device compiler's path.
 *
 * Element e of the stream of seed s (weft_random with offset o writes
 * elements o, o + 1, ...): the key is (s low 32 bits, s high 32 bits); 32-bit
 * values take word e % 4 of the block with counter (e / 4 low, e / 4 high, 0,
 * 0); 64-bit values take words 2 (e % 2) and 2 (e % 2) + 1 (low, high) of
 * block e / 2. Normals are Box-Muller over a pair of uniforms: cosine for
 * even e, sine for odd.
 */
#ifndef WEFT_RANDOM_H
#define WEFT_RANDOM_H

#ifdef __OPENCL_VERSION__
typedef uint weft_rng_u32;
typedef ulong weft_rng_u64;
#define WEFT_RNG_FN static inline
#define WEFT_RNG_LOG log
#define WEFT_RNG_SQRT sqrt
#define WEFT_RNG_COS cos
#define WEFT_RNG_SIN sin
#else
#include <math.h>
#include <stdint.h>
typedef uint32_t weft_rng_u32;
typedef uint64_t weft_rng_u64;
#define WEFT_RNG_FN static inline
#define WEFT_RNG_LOG log
#define WEFT_RNG_SQRT sqrt
#define WEFT_RNG_COS cos
#define WEFT_RNG_SIN sin
#endif

typedef struct weft_philox4x32 {
    weft_rng_u32 v[4];
} weft_philox4x32;

/* Ten rounds of Philox4x32 on counter ctr with key (k0, k1). */
WEFT_RNG_FN weft_philox4x32 weft_philox4x32_10(weft_philox4x32 ctr, weft_rng_u32 k0,
                                               weft_rng_u32 k1)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        weft_rng_u64 p0 = (weft_rng_u64)0xD2511F53u * ctr.v[0];
        weft_rng_u64 p1 = (weft_rng_u64)0xCD9E8D57u * ctr.v[2];
        weft_philox4x32 next;
        next.v[0] = (weft_rng_u32)(p1 >> 32) ^ ctr.v[1] ^ k0;
        next.v[1] = (weft_rng_u32)p1;
        next.v[2] = (weft_rng_u32)(p0 >> 32) ^ ctr.v[3] ^ k1;
        next.v[3] = (weft_rng_u32)p0;
        ctr = next;
    }
    return ctr;
}

/* The block with counter (block low, block high, 0, 0) under seed. */
WEFT_RNG_FN weft_philox4x32 weft_rng_block(weft_rng_u64 seed, weft_rng_u64 block)
{
    weft_philox4x32 ctr;
    ctr.v[0] = (weft_rng_u32)block;
    ctr.v[1] = (weft_rng_u32)(block >> 32);
    ctr.v[2] = 0;
    ctr.v[3] = 0;
    return weft_philox4x32_10(ctr, (weft_rng_u32)seed, (weft_rng_u32)(seed >> 32));
}

/* Element e's 32 or 64 random bits. */
WEFT_RNG_FN weft_rng_u32 weft_rng_u32_at(weft_rng_u64 seed, weft_rng_u64 e)
{
    return weft_rng_block(seed, e / 4).v[e % 4];
}

WEFT_RNG_FN weft_rng_u64 weft_rng_u64_at(weft_rng_u64 seed, weft_rng_u64 e)
{
    weft_philox4x32 b = weft_rng_block(seed, e / 2);
    int w = 2 * (int)(e % 2);
    return (weft_rng_u64)b.v[w] | ((weft_rng_u64)b.v[w + 1] << 32);
}

/* Uniform in [0, 1): the top 24 (53) bits over 2^24 (2^53). */
WEFT_RNG_FN float weft_rng_uniform_f32(weft_rng_u32 bits)
{
    return (float)(bits >> 8) * (1.0f / 16777216.0f);
}

WEFT_RNG_FN double weft_rng_uniform_f64(weft_rng_u64 bits)
{
    return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

/* Box-Muller: u1 in (0, 1] (never log 0), u2 in [0, 1). */
WEFT_RNG_FN double weft_rng_box_muller(double u1, double u2, int odd)
{
    double r = WEFT_RNG_SQRT(-2.0 * WEFT_RNG_LOG(u1));
    double theta = 6.283185307179586 * u2;
    return odd ? r * WEFT_RNG_SIN(theta) : r * WEFT_RNG_COS(theta);
}

/* Normal (mean 0, deviation 1), f32: the pair of words (e % 4) / 2 of block
 * e / 4, computed in double and rounded once. */
WEFT_RNG_FN float weft_rng_normal_f32_at(weft_rng_u64 seed, weft_rng_u64 e)
{
    weft_philox4x32 b = weft_rng_block(seed, e / 4);
    int pair = 2 * (int)((e % 4) / 2);
    double u1 = ((double)b.v[pair] + 1.0) * (1.0 / 4294967296.0);
    double u2 = (double)b.v[pair + 1] * (1.0 / 4294967296.0);
    return (float)weft_rng_box_muller(u1, u2, (int)(e % 2));
}

/* f64: words (0, 1) and (2, 3) of block e / 2 as two 53-bit uniforms. */
WEFT_RNG_FN double weft_rng_normal_f64_at(weft_rng_u64 seed, weft_rng_u64 e)
{
    weft_philox4x32 b = weft_rng_block(seed, e / 2);
    weft_rng_u64 w0 = (weft_rng_u64)b.v[0] | ((weft_rng_u64)b.v[1] << 32);
    weft_rng_u64 w1 = (weft_rng_u64)b.v[2] | ((weft_rng_u64)b.v[3] << 32);
    double u1 = (double)((w0 >> 11) + 1) * (1.0 / 9007199254740992.0);
    double u2 = (double)(w1 >> 11) * (1.0 / 9007199254740992.0);
    return weft_rng_box_muller(u1, u2, (int)(e % 2));
}

#endif
