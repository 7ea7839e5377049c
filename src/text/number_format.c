/* Shortest round-trip decimals with Schubfach:
 *   Raffaello Giulietti, "The Schubfach way to render doubles", 2020 (revised 2022).
 * For a finite v it finds the decimal d 10^e with the fewest digits inside v's
 * rounding interval (the reals that read back as v under round-half-even),
 * and of those the one closest to v. One 126-bit power of ten per value and
 * three 64x128-bit products, no loops over digits, no big numbers.
 * The layout is CPython's repr (float_repr_style "short"): fixed notation for
 * decimal exponents in [-4, 16), else d.ddde+XX with at least two exponent digits. */
#include "number_format.h"
#include "schubfach_table.h"

#include <string.h>

typedef struct {
    uint64_t digits; /* v = digits 10^exp10, possibly with trailing zeros */
    int exp10;
} decimal;

static inline uint64_t mul_high64(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)a * b) >> 64);
#else
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
    uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
    return a_hi * b_hi + (hi_lo >> 32) + (cross >> 32);
#endif
}

/* floor(q log10 2), floor(log10(3/4 2^q)) and floor(e log2 10) for the exponents of binary64
 * (the paper's fixed-point forms; the right shift of a negative value is arithmetic on
 * every compiler weft supports). */
static inline int floor_log10_pow2(int q)
{
    return (int)(((int64_t)q * 661971961083LL) >> 41);
}

static inline int floor_log10_three_quarters_pow2(int q)
{
    return (int)(((int64_t)q * 661971961083LL - 274743187321LL) >> 41);
}

static inline int floor_log2_pow10(int e)
{
    return (int)(((int64_t)e * 913124641741LL) >> 38);
}

#define MASK63 0x7fffffffffffffffull

/* floor(g cp / 2^127) rounded to odd: the sticky bit keeps "exactly" apart from "a little
 * more", all the comparisons below need. g = g1 2^63 + g0. */
static inline uint64_t round_to_odd(uint64_t g1, uint64_t g0, uint64_t cp)
{
    uint64_t x1 = mul_high64(g0, cp);
    uint64_t y0 = g1 * cp;
    uint64_t y1 = mul_high64(g1, cp);
    uint64_t z = (y0 >> 1) + x1;
    uint64_t vbp = y1 + (z >> 63);
    return vbp | (((z & MASK63) + MASK63) >> 63);
}

/* v = c 2^q; c_min and q_min describe the format (2^52, -1074 for binary64). The paper
 * scales the tiniest subnormals' c by 10 only because Java wants two digits; repr wants the
 * shortest ("5e-324"), which the unscaled c gives. */
static decimal to_decimal(int q, uint64_t c, uint64_t c_min, int q_min)
{
    uint64_t out = c & 1; /* odd c: the interval's ends do not read back as v */
    uint64_t cb = c << 2;
    uint64_t cbr = cb + 2;
    uint64_t cbl;
    int k;
    if (c != c_min || q == q_min) {
        cbl = cb - 2;
        k = floor_log10_pow2(q);
    } else { /* at a power of two the interval below is half as wide */
        cbl = cb - 1;
        k = floor_log10_three_quarters_pow2(q);
    }
    int h = q + floor_log2_pow10(-k) + 2;
    const uint64_t *g = weft_schubfach_g[k - WEFT_SCHUBFACH_K_MIN];
    uint64_t vb = round_to_odd(g[0], g[1], cb << h);
    uint64_t vbl = round_to_odd(g[0], g[1], cbl << h);
    uint64_t vbr = round_to_odd(g[0], g[1], cbr << h);
    uint64_t s = vb >> 2;
    /* One digit fewer, when exactly one candidate of that length fits. The paper asks for
     * s >= 100 to keep Java's two digits; repr wants one ("5e-323", not "4.9e-323"). */
    if (s >= 10) {
        uint64_t sp10 = 10 * mul_high64(s, 115292150460684698ull << 4);
        uint64_t tp10 = sp10 + 10;
        int upin = vbl + out <= sp10 << 2;
        int wpin = (tp10 << 2) + out <= vbr;
        if (upin != wpin) return (decimal){upin ? sp10 : tp10, k};
    }
    uint64_t t = s + 1;
    int uin = vbl + out <= s << 2;
    int win = (t << 2) + out <= vbr;
    if (uin != win) return (decimal){uin ? s : t, k};
    /* both fit: the closer one, the even one on a tie */
    int64_t cmp = (int64_t)(vb - ((s + t) << 1));
    return (decimal){cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t, k};
}

/* bits: a finite, nonzero value with the sign bit clear, of a format with mantissa_bits
 * stored bits and smallest exponent q_min (52, -1074 for binary64; 23, -149 for binary32;
 * the 126-bit powers of ten are more than precise enough for binary32). */
static decimal binary_to_decimal(uint64_t bits, int mantissa_bits, int q_min)
{
    uint64_t c_min = 1ull << mantissa_bits;
    int bq = (int)(bits >> mantissa_bits);
    uint64_t t = bits & (c_min - 1);
    if (bq == 0) return to_decimal(q_min, t, c_min, q_min); /* subnormal */
    int mq = 1 - q_min - bq;
    uint64_t c = c_min | t;
    if (0 < mq && mq <= mantissa_bits) { /* an integer below 2^(mantissa_bits + 1) is its own
                                            shortest decimal */
        uint64_t f = c >> mq;
        if (f << mq == c) return (decimal){f, 0};
    }
    return to_decimal(-mq, c, c_min, q_min);
}

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Writes v's decimal digits ending at `end`; returns where they begin. */
static inline char *digits_backwards(uint64_t v, char *end)
{
    while (v >= 100) {
        uint64_t r = v % 100;
        v /= 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

static size_t write_repr(decimal d, int negative, char *out)
{
    uint64_t f = d.digits;
    int e = d.exp10;
    while (f % 10 == 0) {
        f /= 10;
        e++;
    }
    char buf[24];
    char *digits = digits_backwards(f, buf + sizeof buf);
    int n = (int)(buf + sizeof buf - digits);
    int point = n + e; /* digits before the decimal point */
    char *o = out;
    if (negative) *o++ = '-';
    if (point - 1 < -4 || point - 1 >= 16) {
        int x = point - 1;
        *o++ = digits[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(n - 1));
            o += n - 1;
        }
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax >= 100) {
            *o++ = (char)('0' + ax / 100);
            ax %= 100;
        }
        memcpy(o, digit_pairs + 2 * ax, 2);
        o += 2;
    } else if (point <= 0) {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)-point);
        o += -point;
        memcpy(o, digits, (size_t)n);
        o += n;
    } else if (point >= n) {
        memcpy(o, digits, (size_t)n);
        o += n;
        memset(o, '0', (size_t)(point - n));
        o += point - n;
        *o++ = '.';
        *o++ = '0';
    } else {
        memcpy(o, digits, (size_t)point);
        o += point;
        *o++ = '.';
        memcpy(o, digits + point, (size_t)(n - point));
        o += n - point;
    }
    return (size_t)(o - out);
}

static size_t write_special(int negative, int is_nan, int is_zero, char *out)
{
    const char *text = is_nan    ? "nan"
                       : is_zero ? (negative ? "-0.0" : "0.0")
                                 : (negative ? "-inf" : "inf");
    size_t n = strlen(text);
    memcpy(out, text, n);
    return n;
}

size_t weft_format_f64(double v, char *out)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int negative = (int)(bits >> 63);
    bits &= MASK63;
    if (bits >= 0x7ff0000000000000ull || bits == 0)
        return write_special(negative, bits > 0x7ff0000000000000ull, bits == 0, out);
    return write_repr(binary_to_decimal(bits, 52, -1074), negative, out);
}

size_t weft_format_f32(float v, char *out)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    int negative = (int)(bits >> 31);
    bits &= 0x7fffffffu;
    if (bits >= 0x7f800000u || bits == 0)
        return write_special(negative, bits > 0x7f800000u, bits == 0, out);
    return write_repr(binary_to_decimal(bits, 23, -149), negative, out);
}

size_t weft_format_u64(uint64_t v, char *out)
{
    char buf[24];
    char *digits = digits_backwards(v, buf + sizeof buf);
    size_t n = (size_t)(buf + sizeof buf - digits);
    memcpy(out, digits, n);
    return n;
}

size_t weft_format_i64(int64_t v, char *out)
{
    if (v >= 0) return weft_format_u64((uint64_t)v, out);
    *out = '-';
    return 1 + weft_format_u64(0 - (uint64_t)v, out + 1);
}
