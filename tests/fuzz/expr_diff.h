/* Differential testing of the expression language, shared by the libFuzzer
 * target (fuzz_expr_diff.c) and the deterministic replay (test_expr_diff.c).
 *
 * Bytes become a program and its data. Two kinds of program:
 * - typed: arrays x, y of one float dtype T, every subexpression of type T
 *   (literals cast to T, integer literals too), stored into z of any dtype.
 *   A reference evaluator computes it in plain C, with weft's documented rule
 *   where C leaves a case open (fmin/fmax of a NaN or of two zeros, float to
 *   integer or u8 out of range or NaN). Pool and devices must both match it.
 * - mixed: x, y, z of any dtypes, integer and float operators, casts, weak
 *   literals and the index i. The pool and the devices must match each other,
 *   on the map and (half of them) on a reduction of the same expression.
 * Inputs are bit patterns that break things: NaNs of every kind (signalling,
 * quiet, both signs, payloads), infinities, subnormals, extremes, INT_MIN, -1.
 * Floats compare bit for bit except that two NaNs agree (docs/expressions.md:
 * a NaN's sign and payload may differ). */
#ifndef WEFT_EXPR_DIFF_H
#define WEFT_EXPR_DIFF_H

#include <weft.h>

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DIFF_N = 67, DIFF_TEXT = 8192, DIFF_NODES = 48, DIFF_DEPTH = 5 };

/* Reads the input's bytes, then continues from a generator seeded by them, so
 * short inputs still make full programs and every byte still matters. */
typedef struct diff_bytes {
    const uint8_t *data;
    size_t size, at;
    uint64_t state;
} diff_bytes;

static inline uint64_t diff_mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline unsigned diff_byte(diff_bytes *b)
{
    if (b->at < b->size) return b->data[b->at++];
    return (unsigned)(diff_mix(&b->state) & 0xff);
}

static inline uint64_t diff_u64(diff_bytes *b)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | diff_byte(b);
    return v;
}

static inline unsigned diff_pick(diff_bytes *b, unsigned n)
{
    return diff_byte(b) % n;
}

/* ---- bit patterns ---- */

static const uint32_t diff_f32_special[] = {
    0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x00000001u, 0x80000001u,
    0x007fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu, 0x7f800000u, 0xff800000u,
    0x7f800001u, 0xff800001u, 0x7fa00000u, 0x7fbfffffu, 0xffbfffffu, 0x7fc00000u,
    0xffc00000u, 0x7fffffffu, 0x3f000000u, 0x4b800001u, 0x4f000000u, 0xcf000000u,
    0x437f0000u, 0x437fff00u, 0x5f000000u, 0x3effffffu, 0x3fc00000u, 0xc0200000u};
static const uint64_t diff_f64_special[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x0000000000000001ull, 0x800fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff0000000000001ull, 0xfff0000000000001ull,
    0x7ff4000000000000ull, 0x7ff7ffffffffffffull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
    0x7fffffffffffffffull, 0x3fe0000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
    0x43e0000000000000ull, 0xc3e0000000000000ull, 0x43f0000000000000ull, 0x406fe00000000000ull,
    0x4070000000000000ull, 0x3810000000000000ull, 0x36a0000000000000ull, 0x47efffffe0000000ull};
static const uint64_t diff_int_special[] = {0,
                                            1,
                                            (uint64_t)-1,
                                            2,
                                            255,
                                            256,
                                            0x7f,
                                            0x80,
                                            0x7fffffff,
                                            0x80000000,
                                            0xffffffff,
                                            0x100000000ull,
                                            0x7fffffffffffffffull,
                                            0x8000000000000000ull,
                                            (uint64_t)-2,
                                            31,
                                            32,
                                            63,
                                            64,
                                            0x1000001,
                                            0x20000000000001ull,
                                            0x1000000000000001ull};

#define DIFF_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline size_t diff_size(weft_dtype t)
{
    return t == WEFT_U8 ? 1 : (t == WEFT_F64 || t == WEFT_I64 || t == WEFT_U64) ? 8 : 4;
}

/* One element's bits: a special pattern or random bytes. */
static inline void diff_element(diff_bytes *b, weft_dtype t, void *out)
{
    unsigned how = diff_pick(b, 4);
    uint64_t v = diff_u64(b);
    if (how < 3) {
        if (t == WEFT_F32)
            v = diff_f32_special[v % DIFF_COUNT(diff_f32_special)];
        else if (t == WEFT_F64)
            v = diff_f64_special[v % DIFF_COUNT(diff_f64_special)];
        else
            v = diff_int_special[v % DIFF_COUNT(diff_int_special)];
    }
    if (t == WEFT_F32 || t == WEFT_I32 || t == WEFT_U32) {
        uint32_t w = (uint32_t)v;
        memcpy(out, &w, 4);
    } else if (t == WEFT_U8) {
        *(uint8_t *)out = (uint8_t)v;
    } else {
        memcpy(out, &v, 8);
    }
}

/* ---- typed programs and their C reference ---- */

enum diff_op {
    D_X,
    D_Y,
    D_LIT,    /* (T)float literal */
    D_INTLIT, /* (T)integer literal: one rounding, as C */
    D_NEG,
    D_ADD,
    D_SUB,
    D_MUL,
    D_DIV,
    D_SQRT,
    D_FABS,
    D_FLOOR,
    D_CEIL,
    D_TRUNC,
    D_ROUND,
    D_COPYSIGN,
    D_FMA,
    D_FMIN,
    D_FMAX,
    D_MIN,
    D_MAX,
    D_CLAMP,
    D_SEL_LT, /* a < b ? c : d */
    D_SEL_EQ,
    D_SEL_NE,
    D_OPS
};

typedef struct diff_node {
    int op, kid[4];
    double lit;      /* D_LIT, already of T */
    uint64_t ilit;   /* D_INTLIT magnitude */
    int ilit_signed; /* D_INTLIT: -magnitude (magnitude <= INT64_MAX) */
} diff_node;

typedef struct diff_tree {
    diff_node nodes[DIFF_NODES];
    int count;
    weft_dtype t;
} diff_tree;

static inline int diff_arity(int op)
{
    switch (op) {
    case D_X:
    case D_Y:
    case D_LIT:
    case D_INTLIT:
        return 0;
    case D_NEG:
    case D_SQRT:
    case D_FABS:
    case D_FLOOR:
    case D_CEIL:
    case D_TRUNC:
    case D_ROUND:
        return 1;
    case D_FMA:
    case D_CLAMP:
        return 3;
    case D_SEL_LT:
    case D_SEL_EQ:
    case D_SEL_NE:
        return 4;
    default:
        return 2;
    }
}

/* Grows a random tree; `reserve` nodes stay free for the operands still to
 * come, so every tree completes within DIFF_NODES. */
static inline int diff_grow(diff_bytes *b, diff_tree *tr, int depth, int reserve)
{
    int id = tr->count++;
    diff_node *n = &tr->nodes[id];
    memset(n, 0, sizeof *n);
    int leaf = depth >= DIFF_DEPTH || tr->count + reserve + 4 > DIFF_NODES || diff_pick(b, 8) < 3;
    n->op = leaf ? (int)diff_pick(b, 4) : (int)(D_NEG + diff_pick(b, D_OPS - D_NEG));
    if (n->op == D_LIT) {
        uint64_t v = diff_u64(b);
        if (tr->t == WEFT_F32) {
            uint32_t w =
                diff_pick(b, 2) ? diff_f32_special[v % DIFF_COUNT(diff_f32_special)] : (uint32_t)v;
            float f;
            memcpy(&f, &w, 4);
            n->lit = f;
        } else {
            if (diff_pick(b, 2)) v = diff_f64_special[v % DIFF_COUNT(diff_f64_special)];
            memcpy(&n->lit, &v, 8);
        }
        if (!isfinite(n->lit)) n->lit = 0.75; /* no literal spells inf or NaN */
    } else if (n->op == D_INTLIT) {
        uint64_t v = diff_u64(b);
        if (diff_pick(b, 2)) v = diff_int_special[v % DIFF_COUNT(diff_int_special)];
        v >>= diff_pick(b, 64); /* every magnitude */
        if (diff_pick(b, 4) == 0) {
            /* Halfway between two floats plus a bit below double precision:
             * rounding through double first lands on the tie and goes wrong. */
            unsigned top = 54 + diff_pick(b, 10);
            v = 1ull << top | 1ull << (top - 24) | 1ull << diff_pick(b, top - 53);
        }
        n->ilit = v;
        n->ilit_signed = v <= (uint64_t)INT64_MAX && diff_pick(b, 2);
    }
    int arity = diff_arity(n->op);
    for (int k = 0; k < arity; k++) {
        int kid = diff_grow(b, tr, depth + 1, reserve + arity - 1 - k);
        tr->nodes[id].kid[k] = kid;
    }
    return id;
}

static inline void diff_print(const diff_tree *tr, int id, char *out, size_t cap, size_t *len)
{
    const diff_node *n = &tr->nodes[id];
    const char *cast = tr->t == WEFT_F32 ? "(float)" : "(double)";
#define DIFF_PUT(...)                                                                              \
    do {                                                                                           \
        if (*len < cap) *len += (size_t)snprintf(out + *len, cap - *len, __VA_ARGS__);             \
    } while (0)
#define DIFF_KID(k) diff_print(tr, n->kid[k], out, cap, len)
    static const char *const fn1[] = {
        [D_SQRT] = "sqrt",   [D_FABS] = "fabs",   [D_FLOOR] = "floor",       [D_CEIL] = "ceil",
        [D_TRUNC] = "trunc", [D_ROUND] = "round", [D_COPYSIGN] = "copysign", [D_FMA] = "fma",
        [D_FMIN] = "fmin",   [D_FMAX] = "fmax",   [D_MIN] = "min",           [D_MAX] = "max",
        [D_CLAMP] = "clamp"};
    switch (n->op) {
    case D_X:
        DIFF_PUT("x");
        return;
    case D_Y:
        DIFF_PUT("y");
        return;
    case D_LIT:
        DIFF_PUT("%s%.17e", cast, n->lit);
        return;
    case D_INTLIT:
        DIFF_PUT("%s%s%" PRIu64, cast, n->ilit_signed ? "-" : "", n->ilit);
        return;
    case D_NEG:
        DIFF_PUT("-(");
        DIFF_KID(0);
        DIFF_PUT(")");
        return;
    case D_ADD:
    case D_SUB:
    case D_MUL:
    case D_DIV:
        DIFF_PUT("(");
        DIFF_KID(0);
        DIFF_PUT(" %c ", "+-*/"[n->op - D_ADD]);
        DIFF_KID(1);
        DIFF_PUT(")");
        return;
    case D_SEL_LT:
    case D_SEL_EQ:
    case D_SEL_NE:
        DIFF_PUT("(");
        DIFF_KID(0);
        DIFF_PUT(n->op == D_SEL_LT ? " < " : n->op == D_SEL_EQ ? " == " : " != ");
        DIFF_KID(1);
        DIFF_PUT(" ? ");
        DIFF_KID(2);
        DIFF_PUT(" : ");
        DIFF_KID(3);
        DIFF_PUT(")");
        return;
    default:
        DIFF_PUT("%s(", fn1[n->op]);
        for (int k = 0; k < diff_arity(n->op); k++) {
            if (k) DIFF_PUT(", ");
            DIFF_KID(k);
        }
        DIFF_PUT(")");
        return;
    }
#undef DIFF_KID
#undef DIFF_PUT
}

/* weft's fmin/fmax: a NaN gives the other operand; -0 < +0. C leaves both
 * cases open (glibc returns NaN for a signalling NaN). */
#define DIFF_EVAL(T, SUFFIX, FN)                                                                   \
    static inline T diff_fmin_##SUFFIX(T a, T b)                                                   \
    {                                                                                              \
        return a != a ? b : b != b ? a : (a < b || (a == b && signbit(a))) ? a : b;                \
    }                                                                                              \
    static inline T diff_fmax_##SUFFIX(T a, T b)                                                   \
    {                                                                                              \
        return a != a ? b : b != b ? a : (a > b || (a == b && !signbit(a))) ? a : b;               \
    }                                                                                              \
    static inline T diff_eval_##SUFFIX(const diff_tree *tr, int id, T x, T y)                      \
    {                                                                                              \
        const diff_node *n = &tr->nodes[id];                                                       \
        T k[4] = {0, 0, 0, 0};                                                                     \
        for (int i = 0; i < diff_arity(n->op); i++)                                                \
            k[i] = diff_eval_##SUFFIX(tr, n->kid[i], x, y);                                        \
        switch (n->op) {                                                                           \
        case D_X:                                                                                  \
            return x;                                                                              \
        case D_Y:                                                                                  \
            return y;                                                                              \
        case D_LIT:                                                                                \
            return (T)n->lit;                                                                      \
        case D_INTLIT:                                                                             \
            return n->ilit_signed ? (T) - (int64_t)n->ilit : (T)n->ilit;                           \
        case D_NEG:                                                                                \
            return -k[0];                                                                          \
        case D_ADD:                                                                                \
            return k[0] + k[1];                                                                    \
        case D_SUB:                                                                                \
            return k[0] - k[1];                                                                    \
        case D_MUL:                                                                                \
            return k[0] * k[1];                                                                    \
        case D_DIV:                                                                                \
            return k[0] / k[1];                                                                    \
        case D_SQRT:                                                                               \
            return FN(sqrt)(k[0]);                                                                 \
        case D_FABS:                                                                               \
            return FN(fabs)(k[0]);                                                                 \
        case D_FLOOR:                                                                              \
            return FN(floor)(k[0]);                                                                \
        case D_CEIL:                                                                               \
            return FN(ceil)(k[0]);                                                                 \
        case D_TRUNC:                                                                              \
            return FN(trunc)(k[0]);                                                                \
        case D_ROUND:                                                                              \
            return FN(round)(k[0]);                                                                \
        case D_COPYSIGN:                                                                           \
            return FN(copysign)(k[0], k[1]);                                                       \
        case D_FMA:                                                                                \
            return FN(fma)(k[0], k[1], k[2]);                                                      \
        case D_FMIN:                                                                               \
        case D_MIN:                                                                                \
            return diff_fmin_##SUFFIX(k[0], k[1]);                                                 \
        case D_FMAX:                                                                               \
        case D_MAX:                                                                                \
            return diff_fmax_##SUFFIX(k[0], k[1]);                                                 \
        case D_CLAMP:                                                                              \
            return diff_fmin_##SUFFIX(diff_fmax_##SUFFIX(k[0], k[1]), k[2]);                       \
        case D_SEL_LT:                                                                             \
            return k[0] < k[1] ? k[2] : k[3];                                                      \
        case D_SEL_EQ:                                                                             \
            return k[0] == k[1] ? k[2] : k[3];                                                     \
        default:                                                                                   \
            return k[0] != k[1] ? k[2] : k[3];                                                     \
        }                                                                                          \
    }
#define DIFF_FN_F32(name) name##f
#define DIFF_FN_F64(name) name
DIFF_EVAL(float, f32, DIFF_FN_F32)
DIFF_EVAL(double, f64, DIFF_FN_F64)

/* A float stored into dtype `to` by weft's documented rules: floats round;
 * integers truncate toward zero and saturate, NaN gives 0; u8 clamps to
 * [0, 255] first. */
static inline void diff_store(double v, weft_dtype to, void *out)
{
    if (to == WEFT_F32) {
        float f = (float)v;
        memcpy(out, &f, 4);
        return;
    }
    if (to == WEFT_F64) {
        memcpy(out, &v, 8);
        return;
    }
    if (v != v) v = 0;
    switch (to) {
    case WEFT_U8: {
        uint8_t u = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
        memcpy(out, &u, 1);
        return;
    }
    case WEFT_I32: {
        int32_t i = v <= -2147483648.0 ? INT32_MIN : v >= 2147483647.0 ? INT32_MAX : (int32_t)v;
        memcpy(out, &i, 4);
        return;
    }
    case WEFT_U32: {
        uint32_t u = v <= 0 ? 0 : v >= 4294967295.0 ? UINT32_MAX : (uint32_t)v;
        memcpy(out, &u, 4);
        return;
    }
    case WEFT_I64: {
        int64_t i = v <= -9223372036854775808.0  ? INT64_MIN
                    : v >= 9223372036854775808.0 ? INT64_MAX
                                                 : (int64_t)v;
        memcpy(out, &i, 8);
        return;
    }
    default: {
        uint64_t u = v <= 0 ? 0 : v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
        memcpy(out, &u, 8);
        return;
    }
    }
}

/* ---- mixed programs (pool against devices) ---- */

typedef struct diff_text {
    char *out;
    size_t cap, len;
    int budget; /* nodes left */
} diff_text;

#define DIFF_EMIT(t, ...)                                                                          \
    do {                                                                                           \
        if ((t)->len < (t)->cap)                                                                   \
            (t)->len += (size_t)snprintf((t)->out + (t)->len, (t)->cap - (t)->len, __VA_ARGS__);   \
    } while (0)

/* Emits an expression; returns 1 when its type is a float (so integer-only
 * operators are not applied to it), which is how it stays well-typed. */
static inline int diff_mixed(diff_bytes *b, diff_text *t, int depth, int x_float, int y_float)
{
    static const char *const casts[] = {"(float)", "(double)", "(int)",  "(uint)",
                                        "(long)",  "(ulong)",  "(uchar)"};
    static const char *const arith[] = {"+", "-", "*", "/"};
    static const char *const ints[] = {"%", "&", "|", "^", "<<", ">>"};
    static const char *const compares[] = {"<", "<=", ">", ">=", "==", "!=", "&&", "||"};
    static const char *const exact1[] = {"sqrt", "fabs", "floor", "ceil", "trunc", "round"};
    static const char *const exact2[] = {"fmin", "fmax", "copysign", "min", "max"};
    t->budget--;
    if (depth >= DIFF_DEPTH || t->budget <= 0 || diff_pick(b, 8) < 3) {
        switch (diff_pick(b, 6)) {
        case 0:
            DIFF_EMIT(t, "x");
            return x_float;
        case 1:
            DIFF_EMIT(t, "y");
            return y_float;
        case 2:
            DIFF_EMIT(t, "i");
            return 0;
        case 3: {
            uint64_t v = diff_int_special[diff_u64(b) % DIFF_COUNT(diff_int_special)];
            DIFF_EMIT(t, "%" PRIu64, v >> diff_pick(b, 8));
            return 0;
        }
        default: {
            uint64_t v = diff_f64_special[diff_u64(b) % DIFF_COUNT(diff_f64_special)];
            double d;
            memcpy(&d, &v, 8);
            if (!isfinite(d)) d = 2.5;
            DIFF_EMIT(t, "%.17e", fabs(d));
            return 1;
        }
        }
    }
    int f, g;
    switch (diff_pick(b, 8)) {
    case 0: { /* cast */
        unsigned c = diff_pick(b, 7);
        DIFF_EMIT(t, "%s(", casts[c]);
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return c < 2;
    }
    case 1: /* unary */
        if (diff_pick(b, 2)) {
            DIFF_EMIT(t, "-(");
            f = diff_mixed(b, t, depth + 1, x_float, y_float);
            DIFF_EMIT(t, ")");
            return f;
        }
        DIFF_EMIT(t, "!(");
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return 0;
    case 2: /* integer operators, on integers only */
        DIFF_EMIT(t, "((long)(");
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ") %s (int)(", ints[diff_pick(b, 6)]);
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, "))");
        return 0;
    case 3:
        DIFF_EMIT(t, "(");
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, " %s ", compares[diff_pick(b, 8)]);
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return 0;
    case 4:
        DIFF_EMIT(t, "(");
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, " ? ");
        f = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, " : ");
        g = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return f || g;
    case 5:
        DIFF_EMIT(t, "%s(", exact1[diff_pick(b, 6)]);
        diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return 1;
    case 6: {
        unsigned fn = diff_pick(b, 5);
        DIFF_EMIT(t, "%s(", exact2[fn]);
        f = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ", ");
        g = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return fn < 3 || f || g;
    }
    default:
        DIFF_EMIT(t, "(");
        f = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, " %s ", arith[diff_pick(b, 4)]);
        g = diff_mixed(b, t, depth + 1, x_float, y_float);
        DIFF_EMIT(t, ")");
        return f || g;
    }
}

/* ---- running and comparing ---- */

typedef struct diff_case {
    char text[DIFF_TEXT];
    weft_dtype tx, ty, tz;
    unsigned char x[DIFF_N * 8], y[DIFF_N * 8];
    unsigned char want[DIFF_N * 8]; /* typed programs: the C reference */
    int typed;
    int reduce; /* mixed programs: a weft_reduce_op to compare too, or -1 */
} diff_case;

static inline int diff_is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

/* Builds the case from bytes; 0 when the text did not fit. */
static inline int diff_make(const uint8_t *data, size_t size, diff_case *c)
{
    diff_bytes b = {data, size, 0, 0x5eed};
    for (size_t i = 0; i < size; i++)
        b.state = b.state * 31 + data[i];
    memset(c, 0, sizeof *c);
    c->typed = diff_pick(&b, 2);
    static const weft_dtype all[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32,
                                     WEFT_I64, WEFT_U64, WEFT_U8};
    c->tz = all[diff_pick(&b, 7)];
    size_t len = 0;
    if (c->typed) {
        static diff_tree tr;
        memset(&tr, 0, sizeof tr);
        tr.t = diff_pick(&b, 2) ? WEFT_F32 : WEFT_F64;
        c->tx = c->ty = tr.t;
        diff_grow(&b, &tr, 0, 0);
        len = (size_t)snprintf(c->text, sizeof c->text, "z = ");
        diff_print(&tr, 0, c->text, sizeof c->text, &len);
        for (int i = 0; i < DIFF_N; i++) {
            diff_element(&b, tr.t, c->x + i * diff_size(tr.t));
            diff_element(&b, tr.t, c->y + i * diff_size(tr.t));
            double v;
            if (tr.t == WEFT_F32) {
                float x, y;
                memcpy(&x, c->x + i * 4, 4);
                memcpy(&y, c->y + i * 4, 4);
                v = diff_eval_f32(&tr, 0, x, y);
            } else {
                double x, y;
                memcpy(&x, c->x + i * 8, 8);
                memcpy(&y, c->y + i * 8, 8);
                v = diff_eval_f64(&tr, 0, x, y);
            }
            diff_store(v, c->tz, c->want + i * diff_size(c->tz));
        }
    } else {
        c->tx = all[diff_pick(&b, 7)];
        c->ty = all[diff_pick(&b, 7)];
        diff_text t = {c->text, sizeof c->text, 0, DIFF_NODES};
        DIFF_EMIT(&t, "z = ");
        diff_mixed(&b, &t, 0, diff_is_float(c->tx), diff_is_float(c->ty));
        len = t.len;
        for (int i = 0; i < DIFF_N; i++) {
            diff_element(&b, c->tx, c->x + i * diff_size(c->tx));
            diff_element(&b, c->ty, c->y + i * diff_size(c->ty));
        }
    }
    /* Drawn last, past the program and its data, so that adding it kept the
     * corpus's programs: half the mixed programs are reduced too. */
    c->reduce = (int)(diff_mix(&b.state) % 16) - 8;
    return len < sizeof c->text - 1;
}

/* Element k of two results agree: same bits, or both NaN. */
static inline int diff_same(weft_dtype t, const unsigned char *a, const unsigned char *b)
{
    if (t == WEFT_F32) {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        if (x != x && y != y) return 1;
    } else if (t == WEFT_F64) {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != x && y != y) return 1;
    }
    return memcmp(a, b, diff_size(t)) == 0;
}

/* Runs the case's program on one context into out; the status. */
static inline weft_status diff_run(weft_ctx *ctx, const diff_case *c, unsigned char *out)
{
    weft_array *x = NULL, *y = NULL, *z = NULL;
    weft_status st = weft_array_from(ctx, c->tx, DIFF_N, c->x, &x);
    if (st == WEFT_OK) st = weft_array_from(ctx, c->ty, DIFF_N, c->y, &y);
    if (st == WEFT_OK) st = weft_array_create(ctx, c->tz, DIFF_N, &z);
    if (st == WEFT_OK) {
        weft_bind binds[] = {weft_bind_array("x", x), weft_bind_array("y", y),
                             weft_bind_array("z", z)};
        st = weft_map(ctx, c->text, binds, 3, NULL);
    }
    if (st == WEFT_OK) st = weft_array_read(z, 0, DIFF_N, out);
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(z);
    return st;
}

static inline void diff_hex(char *out, size_t cap, const unsigned char *p, size_t size)
{
    size_t len = 0;
    for (size_t k = size; k-- > 0 && len + 3 < cap;)
        len += (size_t)snprintf(out + len, cap - len, "%02x", p[k]);
}

/* Compares got with the expected result; 1 and a report on a mismatch. */
static inline int diff_compare(const diff_case *c, const char *what, const unsigned char *got,
                               const unsigned char *want, char *report, size_t cap)
{
    size_t es = diff_size(c->tz);
    for (int i = 0; i < DIFF_N; i++) {
        if (diff_same(c->tz, got + i * es, want + i * es)) continue;
        char g[20], w[20], xs[20], ys[20];
        diff_hex(g, sizeof g, got + i * es, es);
        diff_hex(w, sizeof w, want + i * es, es);
        diff_hex(xs, sizeof xs, c->x + i * diff_size(c->tx), diff_size(c->tx));
        diff_hex(ys, sizeof ys, c->y + i * diff_size(c->ty), diff_size(c->ty));
        snprintf(report, cap,
                 "%s: element %d of \"%s\" (x %s 0x%s, y %s 0x%s, z %s): got 0x%s, want 0x%s", what,
                 i, c->text, weft_dtype_name(c->tx), xs, weft_dtype_name(c->ty), ys,
                 weft_dtype_name(c->tz), g, w);
        return 1;
    }
    return 0;
}

/* The mixed program's expression reduced on both contexts: the same status,
 * and the same value (two NaNs agree) and index, as documented for any mix of
 * devices. */
static inline int diff_reduce(const diff_case *c, weft_ctx *host, weft_ctx *device, char *report,
                              size_t cap)
{
    weft_scalar r[2];
    weft_status st[2];
    weft_ctx *ctxs[2] = {host, device};
    for (int k = 0; k < 2; k++) {
        weft_array *x = NULL, *y = NULL;
        memset(&r[k], 0, sizeof r[k]);
        st[k] = weft_array_from(ctxs[k], c->tx, DIFF_N, c->x, &x);
        if (st[k] == WEFT_OK) st[k] = weft_array_from(ctxs[k], c->ty, DIFF_N, c->y, &y);
        if (st[k] == WEFT_OK) {
            weft_bind binds[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
            st[k] = weft_reduce_expr(ctxs[k], (weft_reduce_op)c->reduce, c->text + 4, binds, 2,
                                     &r[k], NULL);
        }
        weft_array_free(x);
        weft_array_free(y);
    }
    int same = st[0] == st[1];
    if (same && st[0] == WEFT_OK) {
        weft_dtype t = r[0].dtype;
        same = t == r[1].dtype && r[0].index == r[1].index &&
               diff_same(t, (const unsigned char *)&r[0].value, (const unsigned char *)&r[1].value);
    }
    if (same) return 0;
    char a[20], b[20];
    diff_hex(a, sizeof a, (const unsigned char *)&r[0].value, 8);
    diff_hex(b, sizeof b, (const unsigned char *)&r[1].value, 8);
    snprintf(report, cap,
             "reduce op %d of \"%s\" (x %s, y %s): pool %s 0x%s at %" PRIu64
             ", devices %s 0x%s at %" PRIu64,
             c->reduce, c->text + 4, weft_dtype_name(c->tx), weft_dtype_name(c->ty),
             weft_status_str(st[0]), a, r[0].index, weft_status_str(st[1]), b, r[1].index);
    return 1;
}

/* The whole check: 0 agree (or the program was refused by both), 1 mismatch
 * with a report. `device` may be NULL (no OpenCL): then only the reference. */
static inline int diff_check(const uint8_t *data, size_t size, weft_ctx *host, weft_ctx *device,
                             char *report, size_t cap)
{
    static diff_case c;
    if (!diff_make(data, size, &c)) return 0;
    unsigned char on_host[DIFF_N * 8], on_device[DIFF_N * 8];
    weft_status sh = diff_run(host, &c, on_host);
    if (c.typed && sh != WEFT_OK) {
        snprintf(report, cap, "pool refused the typed program \"%s\": %s", c.text,
                 weft_last_error());
        return 1;
    }
    if (c.typed && diff_compare(&c, "pool vs C", on_host, c.want, report, cap)) return 1;
    if (!device) return 0;
    weft_status sd = diff_run(device, &c, on_device);
    if (sh != sd) {
        snprintf(report, cap, "\"%s\": pool %s, devices %s (%s)", c.text, weft_status_str(sh),
                 weft_status_str(sd), weft_last_error());
        return 1;
    }
    /* copysign(v, t) moves the sign of a NaN t into a number, and a NaN's
     * sign may differ between the pool and a device (docs/expressions.md,
     * "Floating point"): such programs are compared with C on the pool only. */
    if (strstr(c.text, "copysign")) return 0;
    if (sh == WEFT_OK && diff_compare(&c, "devices vs pool", on_device, on_host, report, cap))
        return 1;
    return !c.typed && c.reduce >= 0 && diff_reduce(&c, host, device, report, cap);
}

#endif
