/* Shortest round-trip decimals with Schubfach:
 *   Raffaello Giulietti, "The Schubfach way to render doubles", 2020 (revised 2022).
 * For a finite v it finds the decimal d 10^e with the fewest digits inside v's
 * rounding interval (the reals that read back as v under round-half-even),
 * and of those the one closest to v. One 126-bit power of ten per value and
 * three 64x128-bit products, no loops over digits, no big numbers.
 * The layout is CPython's repr (float_repr_style "short"): fixed notation for
 * decimal exponents in [-4, 16), else d.ddde+XX with at least two exponent digits. */
#include "decimal_digits.h"
#include "number_format.h"
#include "pow10_table.h"

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

/* Row k - K_MIN: {g1, g0}, g = g1 2^63 + g0 = floor(10^-k / 2^r) + 1 in [2^125, 2^126)
 * (Giulietti), for k = floor(q log10 2) over binary64's exponents q. It is the parser's
 * floor(10^-k 2^s) in [2^127, 2^128) shifted right by two, plus one (floor(floor(x) / 4) is
 * floor(x / 4); tools/gen_number_tables.py checks it for every k): derived from that table
 * once, when the library is loaded, so each value still reads one row. */
enum { K_MIN = -324, K_MAX = 292 };
static uint64_t schubfach_g[K_MAX - K_MIN + 1][2];

__attribute__((constructor)) static void derive_schubfach_g(void)
{
    for (int k = K_MIN; k <= K_MAX; k++) {
        const uint64_t *m = weft_pow10_128[-k - WEFT_POW10_E_MIN];
        uint64_t lo = (m[1] >> 2 | m[0] << 62) + 1; /* the low 64 bits of g */
        uint64_t hi = (m[0] >> 2) + (lo == 0);
        schubfach_g[k - K_MIN][0] = hi << 1 | lo >> 63;
        schubfach_g[k - K_MIN][1] = lo & MASK63;
    }
}

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
    const uint64_t *g = schubfach_g[k - K_MIN];
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

/* v < 10^8 as eight ASCII digits in one word, the first digit in the lowest byte, with no
 * table and no per-digit loop: split into 4+4, then 2+2 per half, then 1+1, all lanes at
 * once (SWAR). */
static inline uint64_t ascii8(uint32_t v)
{
    uint64_t x = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
    uint64_t hundreds = ((x * 10486) >> 20) & 0x0000007f0000007full; /* x / 100 per 32-bit lane */
    x = hundreds | ((x - hundreds * 100) << 16);
    uint64_t tens = ((x * 103) >> 10) & 0x000f000f000f000full; /* x / 10 per 16-bit lane */
    x = tens | ((x - tens * 10) << 8);
    return x + 0x3030303030303030ull;
}

#define ASCII_ZEROS 0x3030303030303030ull

/* Text as 64-bit words, first character in the lowest byte whatever the byte order. */
static inline void store8(char *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(p, &w, 8);
}

/* A number's 20 digits, leading zeros included, from text[4], with '0's after them: whole-word
 * stores, so the fixed-size copies of the layout read them back without stalling. The words
 * themselves stay in registers for the trailing zeros. */
typedef struct {
    uint64_t w[3];
    char text[56];
} digit_text;

static inline void split_digits(uint64_t v, digit_text *d)
{
    uint64_t hi = v / 100000000, lo = v - hi * 100000000;
    uint64_t top = hi / 100000000, mid = hi - top * 100000000;
    d->w[0] = ascii8((uint32_t)top); /* top < 1845: 4 leading zeros */
    d->w[1] = ascii8((uint32_t)mid);
    d->w[2] = ascii8((uint32_t)lo);
    for (int i = 0; i < 3; i++)
        store8(d->text + 8 * i, d->w[i]);
    for (int i = 3; i < 7; i++)
        store8(d->text + 8 * i, ASCII_ZEROS);
}

/* '0' characters at the end of the 24 digits (v != 0). */
static inline int trailing_zero_digits(const digit_text *d)
{
    for (int i = 2;; i--) {
        uint64_t x =
            d->w[i] ^ ASCII_ZEROS; /* a '0' becomes a zero byte; the last char is the top */
        if (x) return (2 - i) * 8 + __builtin_clzll(x) / 8;
    }
}

/* Fixed-size copies (a few vector moves, where exact lengths would call memcpy) write up to
 * WEFT_FORMAT_MAX bytes of out, past the returned length too. A double's shortest decimal has
 * at most 17 significant digits. */
static size_t write_repr(decimal dec, int negative, char *out)
{
    digit_text d;
    split_digits(dec.digits, &d);
    int n = weft_decimal_length(dec.digits);
    const char *digits = d.text + 24 - n;
    int point = n + dec.exp10; /* digits before the decimal point */
    n -= trailing_zero_digits(&d);
    char *o = out;
    *o = '-';
    o += negative;
    if (point - 1 < -4 || point - 1 >= 16) { /* d.ddde+XX */
        int x = point - 1;
        o[0] = digits[0];
        o[1] = '.';
        memcpy(o + 2, digits + 1, 16);
        o += n > 1 ? n + 1 : 1;
        o[0] = 'e';
        o[1] = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        o += 2;
        if (ax >= 100) {
            *o++ = (char)('0' + ax / 100);
            ax %= 100;
        }
        memcpy(o, digit_pairs + 2 * ax, 2);
        return (size_t)(o + 2 - out);
    }
    if (point <= 0) { /* 0.000ddd: at most 3 zeros after the point */
        memcpy(o, "0.000000", 8);
        memcpy(o + 2 - point, digits, 24);
        return (size_t)(o + 2 - point + n - out);
    }
    memcpy(o, digits, 16); /* past the digits come '0's: ddd000 for free */
    if (point >= n) {      /* ddd000.0 */
        o[point] = '.';
        o[point + 1] = '0';
        return (size_t)(o + point + 2 - out);
    }
    o[point] = '.'; /* ddd.ddd: fewer than 9 digits after the point, or a point before the 9th */
    if (n - point > 8)
        memcpy(o + point + 1, digits + point, 16);
    else
        memcpy(o + point + 1, digits + point, 8);
    return (size_t)(o + n + 1 - out);
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
    digit_text d;
    split_digits(v, &d);
    int n = weft_decimal_length(v);
    memcpy(out, d.text + 24 - n, 24);
    return (size_t)n;
}

size_t weft_format_i64(int64_t v, char *out)
{
    *out = '-';
    int negative = v < 0;
    return (size_t)negative +
           weft_format_u64(negative ? 0 - (uint64_t)v : (uint64_t)v, out + negative);
}
