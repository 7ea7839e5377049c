/* Hot loops built twice, for AVX2 and the baseline, chosen when the library
 * loads (an ifunc): portable binaries that still use wide vectors. Off under
 * the sanitizers, whose runtimes are not up yet when resolvers run. */
#ifndef WEFT_SIMD_H
#define WEFT_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define WEFT_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WEFT_AVX2_CLONES
#endif

#endif
