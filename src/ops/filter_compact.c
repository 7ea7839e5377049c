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
#define HAVE_AVX2_COMPACT 1

/* For each 8-bit set of kept lanes, their indices in order, 4 bits each. */
static const uint32_t packed_lanes[256] = {
    0x00000000, 0x00000000, 0x00000001, 0x00000010, 0x00000002, 0x00000020, 0x00000021, 0x00000210,
    0x00000003, 0x00000030, 0x00000031, 0x00000310, 0x00000032, 0x00000320, 0x00000321, 0x00003210,
    0x00000004, 0x00000040, 0x00000041, 0x00000410, 0x00000042, 0x00000420, 0x00000421, 0x00004210,
    0x00000043, 0x00000430, 0x00000431, 0x00004310, 0x00000432, 0x00004320, 0x00004321, 0x00043210,
    0x00000005, 0x00000050, 0x00000051, 0x00000510, 0x00000052, 0x00000520, 0x00000521, 0x00005210,
    0x00000053, 0x00000530, 0x00000531, 0x00005310, 0x00000532, 0x00005320, 0x00005321, 0x00053210,
    0x00000054, 0x00000540, 0x00000541, 0x00005410, 0x00000542, 0x00005420, 0x00005421, 0x00054210,
    0x00000543, 0x00005430, 0x00005431, 0x00054310, 0x00005432, 0x00054320, 0x00054321, 0x00543210,
    0x00000006, 0x00000060, 0x00000061, 0x00000610, 0x00000062, 0x00000620, 0x00000621, 0x00006210,
    0x00000063, 0x00000630, 0x00000631, 0x00006310, 0x00000632, 0x00006320, 0x00006321, 0x00063210,
    0x00000064, 0x00000640, 0x00000641, 0x00006410, 0x00000642, 0x00006420, 0x00006421, 0x00064210,
    0x00000643, 0x00006430, 0x00006431, 0x00064310, 0x00006432, 0x00064320, 0x00064321, 0x00643210,
    0x00000065, 0x00000650, 0x00000651, 0x00006510, 0x00000652, 0x00006520, 0x00006521, 0x00065210,
    0x00000653, 0x00006530, 0x00006531, 0x00065310, 0x00006532, 0x00065320, 0x00065321, 0x00653210,
    0x00000654, 0x00006540, 0x00006541, 0x00065410, 0x00006542, 0x00065420, 0x00065421, 0x00654210,
    0x00006543, 0x00065430, 0x00065431, 0x00654310, 0x00065432, 0x00654320, 0x00654321, 0x06543210,
    0x00000007, 0x00000070, 0x00000071, 0x00000710, 0x00000072, 0x00000720, 0x00000721, 0x00007210,
    0x00000073, 0x00000730, 0x00000731, 0x00007310, 0x00000732, 0x00007320, 0x00007321, 0x00073210,
    0x00000074, 0x00000740, 0x00000741, 0x00007410, 0x00000742, 0x00007420, 0x00007421, 0x00074210,
    0x00000743, 0x00007430, 0x00007431, 0x00074310, 0x00007432, 0x00074320, 0x00074321, 0x00743210,
    0x00000075, 0x00000750, 0x00000751, 0x00007510, 0x00000752, 0x00007520, 0x00007521, 0x00075210,
    0x00000753, 0x00007530, 0x00007531, 0x00075310, 0x00007532, 0x00075320, 0x00075321, 0x00753210,
    0x00000754, 0x00007540, 0x00007541, 0x00075410, 0x00007542, 0x00075420, 0x00075421, 0x00754210,
    0x00007543, 0x00075430, 0x00075431, 0x00754310, 0x00075432, 0x00754320, 0x00754321, 0x07543210,
    0x00000076, 0x00000760, 0x00000761, 0x00007610, 0x00000762, 0x00007620, 0x00007621, 0x00076210,
    0x00000763, 0x00007630, 0x00007631, 0x00076310, 0x00007632, 0x00076320, 0x00076321, 0x00763210,
    0x00000764, 0x00007640, 0x00007641, 0x00076410, 0x00007642, 0x00076420, 0x00076421, 0x00764210,
    0x00007643, 0x00076430, 0x00076431, 0x00764310, 0x00076432, 0x00764320, 0x00764321, 0x07643210,
    0x00000765, 0x00007650, 0x00007651, 0x00076510, 0x00007652, 0x00076520, 0x00076521, 0x00765210,
    0x00007653, 0x00076530, 0x00076531, 0x00765310, 0x00076532, 0x00765320, 0x00765321, 0x07653210,
    0x00007654, 0x00076540, 0x00076541, 0x00765410, 0x00076542, 0x00765420, 0x00765421, 0x07654210,
    0x00076543, 0x00765430, 0x00765431, 0x07654310, 0x00765432, 0x07654320, 0x07654321, 0x76543210,
};

/* Returns how far it got: elements before *i are done, *o of them kept. */
__attribute__((target("avx2"))) static void compact4_avx2(const unsigned char *mask,
                                                          const uint32_t *src, uint32_t *dst,
                                                          size_t *i, size_t last, size_t *o,
                                                          size_t kept)
{
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
