/* Decimal text to binary, correctly rounded, in three tiers:
 *  1. Clinger's fast path: <= 2^53 and |exponent| <= 22, one exact IEEE operation
 *     (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990).
 *  2. Eisel-Lemire: 19 significant digits times a 128-bit power of ten, giving up when
 *     the truncated product cannot decide the rounding (D. Lemire, "Number parsing at a
 *     gigabyte per second", Software: Practice and Experience 51(8), 2021).
 *  3. strtod on a canonical copy "[-]DIGITSe[-]EXP" on the stack: digits past the 780th only
 *     count as "something nonzero" (an exact binary64 midpoint has at most 767 significant
 *     digits), and the copy has no decimal point, so the locale cannot change its meaning. */
#include "decimal_digits.h"
#include "number_parse.h"
#include "pow10_table.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t mantissa;     /* the first 19 significant digits */
    int64_t exp10;         /* value ~ mantissa 10^exp10 */
    int64_t written_exp10; /* the exponent after 'e', saturated */
    int truncated;         /* a nonzero digit after the 19th was dropped */
    int negative;
    const char *digits_end; /* [digits, digits_end): the digits and the point */
    const char *digits;
} decimal_text;

static inline unsigned digit_of(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

/* Eight characters as a word, the first in the lowest byte whatever the byte order. */
static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Where the first byte outside '0'..'9' is among eight: below '0' borrows into the byte's top
 * bit, above '9' carries into it. Borrows and carries only run upwards, so the lowest flagged
 * byte is the first non-digit; the bytes below it are exact. 8 when all are digits. */
static inline int digits_in_word(uint64_t w)
{
    uint64_t flags =
        ((w - 0x3030303030303030ull) | (w + 0x4646464646464646ull)) & 0x8080808080808080ull;
    return flags ? __builtin_ctzll(flags) >> 3 : 8;
}

/* The value of eight digit values (0..9 per byte, the first in the lowest byte): neighbouring
 * lanes merge pairwise, 1+1 -> 2, 2+2 -> 4, 4+4 -> 8 digits, each step one multiply over all
 * lanes (no lane can carry into the next). */
static inline uint32_t value_of_lanes(uint64_t w)
{
    w = ((w * 10) + (w >> 8)) & 0x00ff00ff00ff00ffull;
    w = ((w * 100) + (w >> 16)) & 0x0000ffff0000ffffull;
    return (uint32_t)((w * 10000) + (w >> 32));
}

typedef struct {
    uint64_t mantissa; /* the first 19 significant digits */
    int significant;   /* digits in mantissa after its leading zeros */
    int truncated;     /* a nonzero digit after the 19th was dropped */
    int64_t exp10;
} digit_sum;

/* A run of digits before (after_point 0) or after the point; returns where it ends. Works on
 * locals: stores through *a could alias the text, and would pin the loop to memory. Up to
 * eight digits per step, the run's end found in the same word, so a number's digits cost
 * a step or two whatever their count; the byte loop takes what the words cannot (the last
 * seven bytes of the text, digits past the 19th). */
static inline const char *scan_digit_run(const char *p, const char *end, digit_sum *a,
                                         int after_point)
{
    uint64_t mantissa = a->mantissa;
    int significant = a->significant, truncated = a->truncated;
    int64_t exp10 = a->exp10;
    while (end - p >= 8) {
        uint64_t w = load8(p);
        int n = digits_in_word(w);
        if (n == 0 || significant + n > 19) break;
        /* the n digits to the top lanes: the zero lanes below are leading zeros */
        uint64_t lanes = (w - 0x3030303030303030ull) << (64 - 8 * n);
        mantissa = mantissa * weft_pow10_u64[n] + value_of_lanes(lanes);
        significant =
            significant ? significant + n : (mantissa ? weft_decimal_length(mantissa) : 0);
        exp10 -= n * after_point;
        p += n;
        if (n < 8) {
            *a = (digit_sum){mantissa, significant, truncated, exp10};
            return p;
        }
    }
    for (; p < end && digit_of(*p) < 10; p++) {
        unsigned digit = digit_of(*p);
        if (significant < 19) {
            mantissa = mantissa * 10 + digit;
            significant += mantissa != 0;
            exp10 -= after_point;
        } else {
            exp10 += !after_point;
            truncated |= digit != 0;
        }
    }
    *a = (digit_sum){mantissa, significant, truncated, exp10};
    return p;
}

/* The grammar of Python's float() without its spaces and underscores:
 * [+-] (digits [. digits?] | . digits) ([eE] [+-] digits)? */
static int scan_decimal(const char *p, const char *end, decimal_text *d)
{
    digit_sum a = {0, 0, 0, 0};
    d->digits = p;
    const char *run = p;
    p = scan_digit_run(p, end, &a, 0);
    int any = p != run;
    if (p < end && *p == '.') {
        run = ++p;
        p = scan_digit_run(p, end, &a, 1);
        any |= p != run;
    }
    int64_t exp10 = a.exp10;
    if (!any) return 0;
    d->digits_end = p;
    d->written_exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int negative = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
        if (p == end || digit_of(*p) >= 10) return 0;
        int64_t e = 0;
        for (; p < end && digit_of(*p) < 10; p++)
            if (e < 1000000000) e = e * 10 + digit_of(*p);
        d->written_exp10 = negative ? -e : e;
        exp10 += d->written_exp10;
    }
    if (p != end) return 0;
    d->mantissa = a.mantissa;
    d->exp10 = exp10;
    d->truncated = a.truncated;
    return 1;
}

static int matches_word(const char *p, const char *end, const char *lower)
{
    size_t n = strlen(lower);
    if ((size_t)(end - p) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != lower[i]) return 0;
    return 1;
}

/* inf, infinity and nan in any case, as float() reads them. */
static int scan_special(const char *p, const char *end, int negative, double *out)
{
    if (matches_word(p, end, "inf") || matches_word(p, end, "infinity")) {
        *out = negative ? -INFINITY : INFINITY;
        return 1;
    }
    if (matches_word(p, end, "nan")) {
        *out = negative ? -NAN : NAN;
        return 1;
    }
    return 0;
}

static inline void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
}

/* The bits of mantissa 10^exp10 (mantissa != 0), or 0 when undecided: the product's
 * dropped bits could straddle a rounding boundary, the result is subnormal or overflows. */
static int eisel_lemire(uint64_t mantissa, int64_t exp10, uint64_t *bits)
{
    if (exp10 < WEFT_POW10_E_MIN || exp10 > WEFT_POW10_E_MAX) return 0;
    int lz = __builtin_clzll(mantissa);
    mantissa <<= lz;
    /* floor(exp10 log2 10) + 64 + bias - lz; the right shift of a negative value is arithmetic */
    uint64_t exp2 = (uint64_t)(((217706 * exp10) >> 16) + 64 + 1023) - (uint64_t)lz;
    const uint64_t *pow10 = weft_pow10_128[exp10 - WEFT_POW10_E_MIN];
    uint64_t x_hi, x_lo;
    mul_64x64(mantissa, pow10[0], &x_hi, &x_lo);
    if ((x_hi & 0x1ff) == 0x1ff && x_lo + mantissa < mantissa) {
        /* the low half of the power of ten may carry into the bits we keep */
        uint64_t y_hi, y_lo;
        mul_64x64(mantissa, pow10[1], &y_hi, &y_lo);
        uint64_t merged_hi = x_hi, merged_lo = x_lo + y_hi;
        if (merged_lo < x_lo) merged_hi++;
        if ((merged_hi & 0x1ff) == 0x1ff && merged_lo + 1 == 0 && y_lo + mantissa < mantissa)
            return 0;
        x_hi = merged_hi;
        x_lo = merged_lo;
    }
    uint64_t msb = x_hi >> 63;
    uint64_t m = x_hi >> (msb + 9); /* 54 bits: 53 and the rounding bit */
    exp2 -= 1 ^ msb;
    if (x_lo == 0 && (x_hi & 0x1ff) == 0 && (m & 3) == 1) return 0; /* maybe exactly halfway */
    m += m & 1;
    m >>= 1;
    if (m >> 53) {
        m >>= 1;
        exp2 += 1;
    }
    if (exp2 - 1 >= 0x7ff - 1) return 0;
    *bits = exp2 << 52 | (m & ((1ull << 52) - 1));
    return 1;
}

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Tiers 1 and 2: 1 with the magnitude in *out when they decide. */
static int fast_magnitude(const decimal_text *d, double *out)
{
    if (d->mantissa == 0) {
        *out = 0.0;
        return 1;
    }
    /* exact operands, one rounding: only where double arithmetic is done in double */
    if (FLT_EVAL_METHOD == 0 && !d->truncated && d->mantissa <= (1ull << 53) && d->exp10 >= -22 &&
        d->exp10 <= 22) {
        double m = (double)d->mantissa;
        *out = d->exp10 < 0 ? m / exact_pow10[-d->exp10] : m * exact_pow10[d->exp10];
        return 1;
    }
    uint64_t bits, bits_up;
    if (!eisel_lemire(d->mantissa, d->exp10, &bits)) return 0;
    /* dropped digits: the result holds when the next 19-digit mantissa rounds the same */
    if (d->truncated && (!eisel_lemire(d->mantissa + 1, d->exp10, &bits_up) || bits_up != bits))
        return 0;
    memcpy(out, &bits, sizeof bits);
    return 1;
}

#define CANONICAL_DIGITS 780

/* Tier 3: writes "[-]DIGITSe[-]EXP" with at most CANONICAL_DIGITS + 1 digits. */
static void write_canonical(const decimal_text *d, char *buf)
{
    char *o = buf;
    if (d->negative) *o++ = '-';
    size_t kept = 0;
    int64_t fraction = 0, dropped = 0;
    int after_point = 0, sticky = 0;
    for (const char *p = d->digits; p < d->digits_end; p++) {
        if (*p == '.') {
            after_point = 1;
            continue;
        }
        fraction += after_point;
        if (kept == 0 && *p == '0') continue;
        if (kept < CANONICAL_DIGITS) {
            *o++ = *p;
            kept++;
        } else {
            dropped++;
            sticky |= *p != '0';
        }
    }
    if (kept == 0) *o++ = '0';
    int64_t e = d->written_exp10 - fraction + dropped;
    if (sticky) { /* strictly between the kept digits and the next: same rounding */
        *o++ = '1';
        e--;
    }
    /* beyond this the result is 0 or inf whatever the <= 781 digits are */
    if (e > 99999) e = 99999;
    if (e < -99999) e = -99999;
    *o++ = 'e';
    if (e < 0) *o++ = '-';
    uint64_t ue = (uint64_t)(e < 0 ? -e : e);
    char tmp[8];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ue % 10);
        ue /= 10;
    } while (ue);
    while (n)
        *o++ = tmp[--n];
    *o = '\0';
}

/* Tier 3 for either width: *as_float when as_float is not NULL, else *as_double. */
static void parse_canonical(const decimal_text *d, double *as_double, float *as_float)
{
    char buf[CANONICAL_DIGITS + 32];
    write_canonical(d, buf);
    int saved = errno; /* ERANGE is no error here: float() reads 1e400 as inf too */
    if (as_float)
        *as_float = strtof(buf, NULL);
    else
        *as_double = strtod(buf, NULL);
    errno = saved;
}

/* 0: malformed; 1: *d holds a decimal; 2: *special holds inf or nan. */
static int scan_float(const char *begin, const char *end, decimal_text *d, double *special)
{
    const char *p = begin;
    d->negative = 0;
    if (p < end && (*p == '+' || *p == '-')) d->negative = *p++ == '-';
    if (p == end) return 0;
    if (digit_of(*p) >= 10 && *p != '.') return scan_special(p, end, d->negative, special) ? 2 : 0;
    return scan_decimal(p, end, d);
}

/* 0: malformed; 1: *v holds inf or nan; 2: *v holds the decimal in *d
 * correctly rounded to a double (tiers 1 and 2); 3: they did not decide. */
static int scan_value(const char *begin, const char *end, decimal_text *d, double *v)
{
    int kind = scan_float(begin, end, d, v);
    if (kind != 1) return kind == 2;
    if (!fast_magnitude(d, v)) return 3;
    *v = d->negative ? -*v : *v;
    return 2;
}

int weft_parse_f64(const char *begin, const char *end, double *out)
{
    decimal_text d;
    double v;
    int kind = scan_value(begin, end, &d, &v);
    if (kind == 0) return 0;
    if (kind == 3) parse_canonical(&d, &v, NULL);
    *out = v;
    return 1;
}

/* Rounding the correctly rounded double to float is correct unless the double landed exactly
 * on a midpoint between two floats (or near the top of the range): then the decimal itself
 * decides. */
static int double_rounds_to_float_correctly(double x, float f)
{
    if ((double)f == x) return 1;
    if (isinf(f)) return 0;
    float other = nextafterf(f, x > (double)f ? INFINITY : -INFINITY);
    if (isinf(other)) return 0;
    return ((double)f + (double)other) * 0.5 != x;
}

int weft_parse_f32(const char *begin, const char *end, float *out)
{
    decimal_text d;
    double v;
    int kind = scan_value(begin, end, &d, &v);
    if (kind == 0) return 0;
    /* Rounding is symmetric: the signed double rounds as its magnitude. */
    float f = (float)v;
    if (kind == 1 || (kind == 2 && double_rounds_to_float_correctly(v, f)))
        *out = f;
    else
        parse_canonical(&d, NULL, out);
    return 1;
}

/* The digits of [p, end) as a number no larger than limit. */
static int scan_magnitude(const char *p, const char *end, uint64_t limit, uint64_t *out)
{
    if (p == end) return 0;
    while (p < end - 1 && *p == '0')
        p++;
    if (end - p > 20) return 0;
    uint64_t v = 0;
    for (const char *q = p; q < end; q++) {
        unsigned digit = digit_of(*q);
        if (digit >= 10) return 0;
        if (q - p == 19 && v > (UINT64_MAX - digit) / 10) return 0; /* the 20th digit */
        v = v * 10 + digit;
    }
    if (v > limit) return 0;
    *out = v;
    return 1;
}

int weft_parse_i64(const char *begin, const char *end, int64_t *out)
{
    const char *p = begin;
    int negative = 0;
    if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
    uint64_t v;
    if (!scan_magnitude(p, end, negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
        return 0;
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

int weft_parse_u64(const char *begin, const char *end, uint64_t *out)
{
    const char *p = begin;
    if (p < end && *p == '+') p++;
    return scan_magnitude(p, end, UINT64_MAX, out);
}
