#include "launch_poison.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The byte holding an element's lowest bit. */
static size_t low_byte(size_t elem_size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return elem_size - 1;
#else
    (void)elem_size;
    return 0;
#endif
}

static int is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

static int is_signed(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64;
}

/* A float's near poison: a finite value far enough from it to show in any
 * sum (1 for a zero, the value doubled or halved), never inf or NaN where
 * the value was finite (a loop bounded by it still ends); an infinity
 * becomes the largest finite value. */
static double near_float(double v, double max)
{
    if (isinf(v)) return copysign(max, v);
    if (v == 0) return 1.0;
    return fabs(v) <= max / 2 ? v * 2 : v / 2;
}

/* The near poison of one element. Integers with bit 1 flipped: never a 0/1
 * flag's other value (a flag set outside the rows must show), and an index
 * read from it stays a near one. A NaN becomes another quiet NaN (a payload
 * bit flipped could make it an infinity, which a loop ended by the NaN would
 * not end on). */
static void near_element(unsigned char *out, const unsigned char *real, weft_dtype t, size_t e)
{
    memcpy(out, real, e);
    if (!is_float(t)) {
        out[low_byte(e)] ^= 2u;
        return;
    }
    double v = weft_load_double(real, t, 0);
    double p = isnan(v) ? NAN : near_float(v, t == WEFT_F32 ? FLT_MAX : DBL_MAX);
    weft_store_acc(out, t, 0, (weft_acc64){.f = p});
    /* The quiet NaN itself gets the next payload: still quiet, still NaN. */
    if (isnan(v) && memcmp(out, real, e) == 0) out[low_byte(e)] ^= 1u;
}

int weft_poison_passes(weft_dtype t, weft_poison_bytes bytes)
{
    return t == WEFT_U8 && bytes == WEFT_BYTES_RECORDS ? 1 : 2;
}

/* Whether a is above b, as dtype t orders them. */
static int above(weft_acc64 a, weft_acc64 b, weft_dtype t)
{
    if (is_float(t)) return a.f > b.f;
    return is_signed(t) ? a.i > b.i : a.u > b.u;
}

static uint64_t type_max(weft_dtype t)
{
    unsigned bits = 8 * (unsigned)weft_dtype_size(t);
    uint64_t all = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    return is_signed(t) ? all >> 1 : all;
}

/* Bytes that are numbers (a uchar or char parameter): above or below every
 * one, in the order the kernel compares them (a char's is the unsigned
 * order of the byte with its top bit flipped). */
static weft_poison byte_poison(const unsigned char *saved, size_t n, weft_poison_bytes bytes,
                               int pass, weft_poison p)
{
    unsigned flip = bytes == WEFT_BYTES_SIGNED ? 0x80u : 0u, best = pass == 0 ? 0u : 255u;
    size_t ties = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = saved[i] ^ flip;
        if (v == best) ties++;
        if (pass == 0 ? v > best : v < best) {
            best = v;
            ties = 1;
        }
    }
    int room = pass == 0 ? best < 255u : best > 0u;
    p.pass = pass == 0 ? WEFT_POISON_ABOVE : WEFT_POISON_BELOW;
    p.value.u = ((room ? (pass == 0 ? best + 1 : best - 1) : best) ^ flip) & 0xFFu;
    if (!room && pass == 0) p.pass = WEFT_POISON_NEAR; /* nothing above 255 */
    /* At the least, a comparison between two elements both there comes out
     * the same in both passes (a 0 beside a 0 at a piece's edge). */
    p.strict = room || (pass == 1 && ties < 2);
    return p;
}

weft_poison weft_poison_for(const unsigned char *saved, size_t n, weft_dtype t, size_t elem_size,
                            weft_poison_bytes bytes, int pass)
{
    weft_poison p = {WEFT_POISON_NEAR, 0, t, elem_size, {.u = 0}};
    p.strict = n == 0;
    /* Records are left as they are: a record's index field with bit 1 of
     * every byte flipped is past any array, and the check itself crashed
     * reading there. Their checks are never conclusive (launch_check.c). */
    if (t == WEFT_U8 && bytes == WEFT_BYTES_RECORDS) p.pass = WEFT_POISON_KEEP;
    if (weft_poison_passes(t, bytes) < 2 || n == 0) return p;
    if (t == WEFT_U8) return byte_poison(saved, n, bytes, pass, p);
    int want_above = pass == 0, found = 0;
    weft_acc64 best = {.u = 0};
    size_t ties = 0;
    for (size_t i = 0; i < n; i++) {
        weft_acc64 v = weft_load_acc(saved, t, i);
        if (is_float(t) && isnan(v.f)) continue;
        if (found && !above(v, best, t) && !above(best, v, t)) ties++;
        if (!found || (want_above ? above(v, best, t) : above(best, v, t))) {
            best = v;
            ties = 1;
        }
        found = 1;
    }
    if (!found) return p; /* all NaN */
    /* Without room below the least, a comparison of two elements both at it
     * comes out the same in both passes; without room above the largest
     * the pass is NEAR, which orders nothing. */
    p.strict = 0;
    if (!want_above) {
        /* Strictly below: at the least, a comparison of the least itself
         * with a value read across the split came out the same in both
         * passes (all-equal keys on a first call: odd-even sort unsorted). */
        p.pass = WEFT_POISON_BELOW;
        p.value = best;
        if (is_float(t)) {
            double min = t == WEFT_F32 ? -FLT_MAX : -DBL_MAX;
            double v = best.f - fmax(fabs(best.f), 1.0);
            if (v >= min) p.value.f = t == WEFT_F32 ? (double)(float)v : v;
        } else if (is_signed(t) ? best.i > -(int64_t)type_max(t) - 1 : best.u > 0) {
            p.value.u = best.u - 1; /* unsigned at 0: no room, at the least */
        }
        p.strict = memcmp(&p.value, &best, sizeof best) != 0 || ties < 2;
        return p;
    }
    if (is_float(t)) {
        double max = t == WEFT_F32 ? FLT_MAX : DBL_MAX;
        double v = best.f + fmax(fabs(best.f), 1.0);
        if (!(v <= max)) return p; /* the largest is near the top: no room above */
        p.value.f = t == WEFT_F32 ? (double)(float)v : v;
    } else {
        if (is_signed(t) ? best.i >= (int64_t)type_max(t) : best.u >= type_max(t)) return p;
        p.value.u = best.u + 1;
    }
    p.pass = WEFT_POISON_ABOVE;
    p.strict = 1;
    return p;
}

/* The poison of one element. */
static void poison_one(const weft_poison *p, unsigned char *out, const unsigned char *real)
{
    if (p->pass == WEFT_POISON_KEEP) {
        memcpy(out, real, p->elem_size);
        return;
    }
    if (p->pass == WEFT_POISON_NEAR ||
        (is_float(p->dtype) && isnan(weft_load_double(real, p->dtype, 0)))) {
        near_element(out, real, p->dtype, p->elem_size);
        return;
    }
    weft_store_acc(out, p->dtype, 0, p->value);
}

void weft_poison_fill(const weft_poison *p, unsigned char *out, const unsigned char *real, size_t n)
{
    size_t e = p->elem_size;
    for (size_t i = 0; i < n; i++)
        poison_one(p, out + i * e, real + i * e);
}

int weft_poison_is(const weft_poison *p, const unsigned char *now, const unsigned char *real)
{
    unsigned char expected[16];
    poison_one(p, expected, real);
    return memcmp(now, expected, p->elem_size) == 0;
}

/* Where the gap element j (row `row`, column col) takes its value from: the
 * range below it (its own last row or element) or above it (its own first). */
static size_t edge_source(const weft_edge_range *r, int below, size_t inner, size_t col,
                          weft_edge_kind kind)
{
    size_t begin = r->own_begin, end = r->own_end;
    if (begin >= end || kind == WEFT_EDGE_HALO_ROWS) { /* the rows it reads */
        begin = r->read_begin;
        end = r->read_end;
    }
    if (kind == WEFT_EDGE_ELEMENTS) return below ? end - 1 : begin;
    size_t at = (below ? (end - 1) / inner : begin / inner) * inner + col;
    return at < begin ? begin : at >= end ? end - 1 : at;
}

void weft_poison_edges(unsigned char *out, const unsigned char *real, size_t n, size_t elem_size,
                       size_t inner, const weft_edge_range *ranges, size_t nranges,
                       weft_edge_kind kind)
{
    memcpy(out, real, n * elem_size);
    if (inner == 0) inner = 1;
    const weft_edge_range *below = NULL; /* the last range passed */
    size_t from = 0;                     /* the first element not covered yet */
    for (size_t r = 0; r <= nranges; r++) {
        const weft_edge_range *above = r < nranges ? &ranges[r] : NULL;
        if (above && above->read_begin >= above->read_end) continue;
        size_t begin = above && above->read_begin < n ? above->read_begin : n;
        if (!below && !above) return; /* no rows at all: nothing to copy */
        /* The gap [from, begin): each element from the nearer neighbour. */
        for (size_t j = from; j < begin; j++) {
            size_t row = j / inner;
            size_t up = above ? begin / inner - row : SIZE_MAX;
            size_t down = below ? row - (below->read_end - 1) / inner : SIZE_MAX;
            size_t src = down <= up ? edge_source(below, 1, inner, j % inner, kind)
                                    : edge_source(above, 0, inner, j % inner, kind);
            memcpy(out + j * elem_size, real + src * elem_size, elem_size);
        }
        if (above && above->read_end > from) { /* one inside an earlier one changes nothing */
            below = above;
            from = above->read_end;
        }
    }
}
