/* Powers of ten and the decimal length of a 64-bit integer: one table for
 * number parsing and number formatting. */
#ifndef WEFT_DECIMAL_DIGITS_H
#define WEFT_DECIMAL_DIGITS_H

#include <stdint.h>

static const uint64_t weft_pow10_u64[20] = {1ull,
                                            10ull,
                                            100ull,
                                            1000ull,
                                            10000ull,
                                            100000ull,
                                            1000000ull,
                                            10000000ull,
                                            100000000ull,
                                            1000000000ull,
                                            10000000000ull,
                                            100000000000ull,
                                            1000000000000ull,
                                            10000000000000ull,
                                            100000000000000ull,
                                            1000000000000000ull,
                                            10000000000000000ull,
                                            100000000000000000ull,
                                            1000000000000000000ull,
                                            10000000000000000000ull};

/* The digits of v in decimal; 1 for 0. */
static inline int weft_decimal_length(uint64_t v)
{
    uint64_t odd = v | 1; /* as many digits as v: powers of ten are even */
    int t = ((64 - __builtin_clzll(odd)) * 1233) >> 12; /* the count, or one short */
    return t + (odd >= weft_pow10_u64[t]);
}

#endif
