/* Survivors copied without a branch per element. The scalar loop writes every
 * element at the next free place, which moves on only when it is kept; it
 * stops at the last survivor, so nothing lands past the part's share of the
 * output. With AVX2, 4-byte elements go 8 at a time: the 8 mask bytes pick a
 * permutation that packs the kept ones to the front of a vector, stored
 * whole while 8 more places remain in the share. */
#include "filter_compact.h"
#include "../core/simd.h"

WEFT_AVX2_CLONES
size_t weft_filter_narrow(const int32_t *flags, unsigned char *mask, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        mask[i] = flags[i] != 0;
        kept += mask[i];
    }
    return kept;
}

#define COMPACT(T)                                                                                 \
    do {                                                                                           \
        const T *s_ = (const T *)src;                                                              \
        T *d_ = (T *)dst + o;                                                                      \
        size_t k_ = 0;                                                                             \
        for (size_t i = b; i < last; i++) {                                                        \
            d_[k_] = s_[i];                                                                        \
            k_ += mask[i] != 0;                                                                    \
        }                                                                                          \
        d_[k_] = s_[last];                                                                         \
    } while (0)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <pthread.h>
#define HAVE_AVX2_COMPACT 1

/* For each 8-bit set of kept lanes, their indices in order, 4 bits each:
 * filled once, before the first compaction that uses it. */
static uint32_t packed_lanes[256];
static pthread_once_t packed_once = PTHREAD_ONCE_INIT;

static void pack_lanes(void)
{
    for (unsigned m = 0; m < 256; m++) {
        uint32_t packed = 0;
        unsigned k = 0;
        for (unsigned lane = 0; lane < 8; lane++)
            if (m >> lane & 1) packed |= (uint32_t)lane << (4 * k++);
        packed_lanes[m] = packed;
    }
}

/* Returns how far it got: elements before *i are done, *o of them kept. */
__attribute__((target("avx2"))) static void compact4_avx2(const unsigned char *mask,
                                                          const uint32_t *src, uint32_t *dst,
                                                          size_t *i, size_t last, size_t *o,
                                                          size_t kept)
{
    pthread_once(&packed_once, pack_lanes);
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i lane = _mm256_set1_epi32(7);
    size_t at = *i, out = *o;
    for (; at + 8 <= last + 1 && out + 8 <= kept; at += 8) {
        __m128i m = _mm_loadl_epi64((const __m128i *)(const void *)(mask + at));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128()));
        bits = ~bits & 0xffu;
        __m256i idx = _mm256_and_si256(
            _mm256_srlv_epi32(_mm256_set1_epi32((int)packed_lanes[bits]), shifts), lane);
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(src + at));
        _mm256_storeu_si256((__m256i *)(void *)(dst + out), _mm256_permutevar8x32_epi32(v, idx));
        out += (size_t)__builtin_popcount(bits);
    }
    *i = at;
    *o = out;
}
#endif

void weft_filter_compact(const unsigned char *mask, const void *src, void *dst, size_t es, size_t b,
                         size_t last, size_t kept)
{
    size_t o = 0;
#ifdef HAVE_AVX2_COMPACT
    if (es == 4 && __builtin_cpu_supports("avx2")) {
        compact4_avx2(mask, src, dst, &b, last, &o, kept);
        if (o == kept) return; /* the last survivor is behind */
    }
#else
    (void)kept;
#endif
    if (es == 4)
        COMPACT(uint32_t);
    else if (es == 8)
        COMPACT(uint64_t);
    else
        COMPACT(uint8_t);
}
