/* Group-by over keys in a narrow range, without sorting: one pass in index
 * order into a table indexed by key, then the keys that occur in ascending
 * order. Each group's values meet in input order, from the same start as
 * reduce_by_key's runs, so the results are those of the stable sort and
 * weft_ref_reduce_by_key, bit for bit. One thread: float sums must not be
 * split.
 *
 * The pass finds the keys' range as it goes, so the keys are read once: the
 * table starts from the range of the first rows, and a key outside it stops
 * the loop, which widens the table (at least doubling it) and goes on. Keys
 * whose range turns out wider than a table may be give up, with nothing
 * written, and the caller sorts. The loop is built once per (key dtype, value dtype, op), so
 * no element goes through a dtype switch. */
#include "../device.h"
#include "../../core/error.h"
#include "../../core/values.h"
#include "reduce_rules.h"
#include "segment_host.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DENSE_MAX ((size_t)1 << 20) /* slots in a table, at most */
#define SIGN64 ((uint64_t)1 << 63)
#define INLINE static inline __attribute__((always_inline))
enum { FIRST_ROWS = 4096, FIRST_SLOTS = 1024 };

typedef union dense_acc {
    double f;
    uint64_t u;
    int64_t i;
} dense_acc;

/* Keys are handled as unsigned 64-bit integers in the keys' order ("ordered":
 * the sign bit of signed keys flipped); slot s holds the key base + s. */
typedef struct dense_table {
    uint64_t base, top; /* ordered: slot 0's key; the dtype's largest key */
    size_t slots, limit;
    unsigned char *seen;
    dense_acc *acc;
} dense_table;

static int signed_dtype(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64;
}

static int float_dtype(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

static uint64_t ordered_key(const weft_segment_call *c, size_t i)
{
    uint64_t bits = weft_load_bits(c->keys, c->key_dtype, i);
    return signed_dtype(c->key_dtype) ? bits ^ SIGN64 : bits;
}

/* What a slot holds before its first value: min and max start from the
 * value every other replaces (NaN included, as weft_less_f orders it). */
static dense_acc identity(const weft_segment_call *c)
{
    weft_dtype t = c->value_dtype;
    dense_acc a = {.u = 0};
    if (c->op == WEFT_MIN) {
        if (float_dtype(t))
            a.f = INFINITY;
        else
            a.u = signed_dtype(t) ? (uint64_t)INT64_MAX : UINT64_MAX;
    } else if (c->op == WEFT_MAX) {
        if (float_dtype(t))
            a.f = -INFINITY;
        else
            a.u = signed_dtype(t) ? (uint64_t)INT64_MIN : 0;
    }
    return a;
}

static void table_free(dense_table *t)
{
    free(t->seen);
    free(t->acc);
    t->seen = NULL;
    t->acc = NULL;
}

/* A table of `slots` slots from `lo`, kept inside the dtype's keys (a
 * window past them would wrap onto small keys in the loop's arithmetic). */
static int table_alloc(const weft_segment_call *c, dense_table *t, uint64_t lo, size_t slots)
{
    t->slots = slots;
    t->base = lo <= t->top - (slots - 1) ? lo : t->top - (slots - 1);
    t->seen = calloc(slots, 1);
    t->acc = malloc(slots * sizeof *t->acc);
    if (!t->seen || !t->acc) return 0;
    dense_acc start = identity(c);
    for (size_t s = 0; s < slots; s++)
        t->acc[s] = start;
    return 1;
}

/* The table for the first rows' range (0: too wide, or out of memory). */
static int table_start(const weft_segment_call *c, dense_table *t)
{
    weft_dtype kt = c->key_dtype;
    t->top = kt == WEFT_U8    ? 255
             : kt == WEFT_U32 ? UINT32_MAX
             : kt == WEFT_I32 ? SIGN64 + INT32_MAX
                              : UINT64_MAX;
    if (kt == WEFT_U8) return table_alloc(c, t, 0, t->limit = 256); /* every u8 key */
    t->limit = c->n / 2 + 1 < DENSE_MAX ? c->n / 2 + 1 : DENSE_MAX;
    uint64_t lo = ordered_key(c, 0), hi = lo;
    for (size_t i = 1; i < c->n && i < FIRST_ROWS; i++) {
        uint64_t k = ordered_key(c, i);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    if (hi - lo >= t->limit) return 0;
    size_t slots = hi - lo + 1 > FIRST_SLOTS ? (size_t)(hi - lo + 1) : FIRST_SLOTS;
    return table_alloc(c, t, lo, slots < t->limit ? slots : t->limit);
}

/* Room for key k as well as every key seen (0: the range is too wide, or
 * out of memory). */
static int table_widen(const weft_segment_call *c, dense_table *t, uint64_t k)
{
    size_t first = 0, last = t->slots;
    while (first < t->slots && !t->seen[first])
        first++;
    while (last > first && !t->seen[last - 1])
        last--;
    uint64_t lo = k, hi = k;
    if (first < last) {
        lo = k < t->base + first ? k : t->base + first;
        hi = k > t->base + last - 1 ? k : t->base + last - 1;
    }
    if (hi - lo >= t->limit) return 0;
    size_t slots = 2 * t->slots > hi - lo + 1 ? 2 * t->slots : (size_t)(hi - lo + 1);
    dense_table old = *t;
    if (!table_alloc(c, t, lo, slots < t->limit ? slots : t->limit)) {
        table_free(&old);
        return 0;
    }
    size_t shift = (size_t)(old.base - t->base); /* the new table starts no later */
    if (first < last) {
        memcpy(t->seen + shift + first, old.seen + first, last - first);
        memcpy(t->acc + shift + first, old.acc + first, (last - first) * sizeof *t->acc);
    }
    table_free(&old);
    return 1;
}

/* Rows from i in index order, until one whose key has no slot; returns it
 * (n: all done). Built for constant kt, vt and op. */
INLINE size_t rows(const weft_segment_call *c, dense_table *t, size_t i, weft_dtype kt,
                   weft_dtype vt, int op)
{
    const void *keys = c->keys, *values = c->values;
    unsigned char *seen = t->seen;
    dense_acc *acc = t->acc;
    uint64_t base = t->base ^ (signed_dtype(kt) ? SIGN64 : 0);
    size_t slots = t->slots, n = c->n;
    for (; i < n; i++) {
        size_t s; /* the difference in the keys' width: slots never exceed it */
        if (kt == WEFT_U8)
            s = (uint8_t)(((const uint8_t *)keys)[i] - (uint8_t)base);
        else if (kt == WEFT_I32 || kt == WEFT_U32)
            s = (uint32_t)(((const uint32_t *)keys)[i] - (uint32_t)base);
        else
            s = (size_t)(((const uint64_t *)keys)[i] - base);
        if (s >= slots) break;
        seen[s] = 1;
        if (op == WEFT_COUNT) {
            acc[s].u++;
        } else if (op == WEFT_SUM) {
            if (vt == WEFT_F32)
                acc[s].f = acc[s].f + ((const float *)values)[i];
            else if (vt == WEFT_F64)
                acc[s].f = acc[s].f + ((const double *)values)[i];
            else
                acc[s].u += weft_load_bits(values, vt, i);
        } else if (float_dtype(vt)) {
            double v = weft_load_double(values, vt, i);
            if (op == WEFT_MIN ? weft_less_f(v, acc[s].f) : weft_greater_f(v, acc[s].f))
                acc[s].f = v;
        } else if (signed_dtype(vt)) {
            int64_t v = (int64_t)weft_load_bits(values, vt, i);
            if (op == WEFT_MIN ? v < acc[s].i : v > acc[s].i) acc[s].i = v;
        } else {
            uint64_t v = weft_load_bits(values, vt, i);
            if (op == WEFT_MIN ? v < acc[s].u : v > acc[s].u) acc[s].u = v;
        }
    }
    return i;
}

INLINE size_t rows_v(const weft_segment_call *c, dense_table *t, size_t i, weft_dtype kt, int op)
{
    switch (op == WEFT_COUNT ? WEFT_U64 : c->value_dtype) { /* COUNT reads no values */
    case WEFT_F32:
        return rows(c, t, i, kt, WEFT_F32, op);
    case WEFT_F64:
        return rows(c, t, i, kt, WEFT_F64, op);
    case WEFT_I32:
        return rows(c, t, i, kt, WEFT_I32, op);
    case WEFT_U32:
        return rows(c, t, i, kt, WEFT_U32, op);
    case WEFT_I64:
        return rows(c, t, i, kt, WEFT_I64, op);
    case WEFT_U8:
        return rows(c, t, i, kt, WEFT_U8, op);
    default:
        return rows(c, t, i, kt, WEFT_U64, op);
    }
}

INLINE size_t rows_k(const weft_segment_call *c, dense_table *t, size_t i, int op)
{
    switch (c->key_dtype) {
    case WEFT_U8:
        return rows_v(c, t, i, WEFT_U8, op);
    case WEFT_I32:
        return rows_v(c, t, i, WEFT_I32, op);
    case WEFT_U32:
        return rows_v(c, t, i, WEFT_U32, op);
    case WEFT_I64:
        return rows_v(c, t, i, WEFT_I64, op);
    default:
        return rows_v(c, t, i, WEFT_U64, op);
    }
}

static size_t rows_any(const weft_segment_call *c, dense_table *t, size_t i)
{
    switch (c->op) {
    case WEFT_SUM:
        return rows_k(c, t, i, WEFT_SUM);
    case WEFT_MIN:
        return rows_k(c, t, i, WEFT_MIN);
    case WEFT_MAX:
        return rows_k(c, t, i, WEFT_MAX);
    default:
        return rows_k(c, t, i, WEFT_COUNT);
    }
}

static void emit(const weft_segment_call *c, const dense_table *t)
{
    size_t g = 0, ksize = weft_dtype_size(c->key_dtype);
    uint64_t flip = signed_dtype(c->key_dtype) ? SIGN64 : 0;
    for (size_t s = 0; s < t->slots; s++) {
        if (!t->seen[s]) continue;
        uint64_t key = (t->base + s) ^ flip;
        unsigned char *to = (unsigned char *)c->out_keys + g * ksize;
        if (ksize == 1)
            *to = (uint8_t)key;
        else if (ksize == 4)
            memcpy(to, &(uint32_t){(uint32_t)key}, 4);
        else
            memcpy(to, &key, 8);
        const dense_acc *a = &t->acc[s];
        if (c->op == WEFT_COUNT)
            weft_segment_store(c->out_values, c->out_dtype, g, a->u, (double)a->u);
        else
            weft_segment_store(c->out_values, c->value_dtype, g, a->u, a->f);
        g++;
    }
}

weft_status weft_ref_group_dense(const weft_segment_call *c, int *done)
{
    dense_table t = {0};
    weft_status st = WEFT_OK;
    size_t i = 0, groups = 0;
    *done = 0;
    if (c->n == 0 || !table_start(c, &t)) goto error; /* the sort needs less memory */
    while ((i = rows_any(c, &t, i)) < c->n)
        if (!table_widen(c, &t, ordered_key(c, i))) goto error;
    *done = 1;
    for (size_t s = 0; s < t.slots; s++)
        groups += t.seen[s];
    *c->count = 0;
    GOTO_ERROR_IF(groups > c->capacity, WEFT_ERR_SIZE, "%s: %zu groups, but the outputs hold %zu",
                  c->what, groups, c->capacity);
    emit(c, &t);
    *c->count = groups;
error:
    table_free(&t);
    return st;
}
