/* Reductions over runs of equal keys on the pool. The input is cut into
 * parts; a run belongs to the part where it starts and is reduced whole, in
 * index order, by whoever takes that part. How many parts there are changes
 * who works, never what a run adds up to. */
#include "../device.h"
#include "../../core/error.h"
#include "../../core/values.h"
#include "reduce_rules.h"
#include "segment_host.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_PARTS = 256, PART_MIN = 1 << 14 };
#define DENSE_MAX ((uint64_t)1 << 20) /* keys in a group-by's table, at most */

typedef struct segment_job {
    const weft_segment_call *c;
    size_t ksize, part, parts;
    size_t *starts; /* per part: runs starting there, then where their output begins */
} segment_job;

static int starts_run(const segment_job *j, size_t i)
{
    const unsigned char *k = j->c->keys;
    return i == 0 || memcmp(k + i * j->ksize, k + (i - 1) * j->ksize, j->ksize) != 0;
}

static size_t part_end(const segment_job *j, size_t p)
{
    size_t e = (p + 1) * j->part;
    return e < j->c->n ? e : j->c->n;
}

static void count_runs(void *arg, size_t p0, size_t p1)
{
    segment_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        size_t count = 0;
        for (size_t i = p * j->part, e = part_end(j, p); i < e; i++)
            count += (size_t)starts_run(j, i);
        j->starts[p] = count;
    }
}

/* Integer results as 64 bits, stored in the output's dtype. */
static void store(void *out, weft_dtype t, size_t g, uint64_t bits, double f)
{
    switch (t) {
    case WEFT_F32:
        ((float *)out)[g] = (float)f;
        break;
    case WEFT_F64:
        ((double *)out)[g] = f;
        break;
    case WEFT_I32:
    case WEFT_U32:
        ((uint32_t *)out)[g] = (uint32_t)bits;
        break;
    case WEFT_U8:
        ((uint8_t *)out)[g] = (uint8_t)bits;
        break;
    default:
        ((uint64_t *)out)[g] = bits;
    }
}

static void reduce_run(const weft_segment_call *c, size_t b, size_t e, size_t g)
{
    weft_dtype t = c->value_dtype;
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (c->op == WEFT_COUNT) {
        store(c->out_values, c->out_dtype, g, e - b, (double)(e - b));
        return;
    }
    if (c->op == WEFT_SUM) {
        double f = 0;
        uint64_t u = 0;
        for (size_t i = b; i < e; i++) {
            if (is_float)
                f = f + weft_load_double(c->values, t, i);
            else
                u += weft_load_bits(c->values, t, i);
        }
        store(c->out_values, t, g, u, f);
        return;
    }
    int min = c->op == WEFT_MIN;
    if (is_float) {
        double best = weft_load_double(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            double v = weft_load_double(c->values, t, i);
            if (min ? weft_less_f(v, best) : weft_greater_f(v, best)) best = v;
        }
        store(c->out_values, t, g, 0, best);
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t best = (int64_t)weft_load_bits(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            int64_t v = (int64_t)weft_load_bits(c->values, t, i);
            if (min ? v < best : v > best) best = v;
        }
        store(c->out_values, t, g, (uint64_t)best, 0);
    } else {
        uint64_t best = weft_load_bits(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            uint64_t v = weft_load_bits(c->values, t, i);
            if (min ? v < best : v > best) best = v;
        }
        store(c->out_values, t, g, best, 0);
    }
}

static void reduce_runs(void *arg, size_t p0, size_t p1)
{
    segment_job *j = arg;
    const weft_segment_call *c = j->c;
    for (size_t p = p0; p < p1; p++) {
        size_t g = j->starts[p];
        for (size_t i = p * j->part, e = part_end(j, p); i < e; i++) {
            if (!starts_run(j, i)) continue;
            size_t end = i + 1;
            while (end < c->n && !starts_run(j, end))
                end++;
            memcpy((unsigned char *)c->out_keys + g * j->ksize,
                   (const unsigned char *)c->keys + i * j->ksize, j->ksize);
            reduce_run(c, i, end, g);
            g++;
        }
    }
}

weft_status weft_ref_reduce_by_key(const weft_prim_threads *threads, const weft_segment_call *c)
{
    *c->count = 0;
    if (c->n == 0) return WEFT_OK;
    size_t starts[MAX_PARTS];
    segment_job j = {c, weft_dtype_size(c->key_dtype), 0, 0, starts};
    j.parts = c->n / PART_MIN;
    if (j.parts < 1) j.parts = 1;
    if (j.parts > MAX_PARTS) j.parts = MAX_PARTS;
    j.part = (c->n + j.parts - 1) / j.parts;
    j.parts = (c->n + j.part - 1) / j.part;
    int width = c->n < threads->min_elements ? 1 : 0;
    threads->parallel_for(threads->pool, j.parts, 1, width, count_runs, &j);
    size_t total = 0;
    for (size_t p = 0; p < j.parts; p++) {
        size_t runs = starts[p];
        starts[p] = total;
        total += runs;
    }
    RETURN_IF(total > c->capacity, WEFT_ERR_SIZE, "%s: %zu groups, but the outputs hold %zu",
              c->what, total, c->capacity);
    threads->parallel_for(threads->pool, j.parts, 1, width, reduce_runs, &j);
    *c->count = total;
    return WEFT_OK;
}

/* Group-by over keys in a narrow range, without sorting: one pass in index
 * order into a table indexed by key - min, then the keys that occur in
 * ascending order. Each group's values meet in input order, from the same
 * start as reduce_run's, so the results are those of the stable sort and
 * reduce_by_key, bit for bit. One thread: float sums must not be split. */
typedef struct dense_table {
    uint64_t min;
    size_t range;
    uint64_t *count;
    union {
        double f;
        uint64_t u;
        int64_t i;
    } * acc;
} dense_table;

static uint64_t key_bits(const weft_segment_call *c, size_t i)
{
    return weft_load_bits(c->keys, c->key_dtype, i);
}

/* The keys' range, when it is narrow enough for a table (0: it is not). */
static size_t dense_range(const weft_segment_call *c, uint64_t *min_out)
{
    int is_signed = c->key_dtype == WEFT_I32 || c->key_dtype == WEFT_I64;
    uint64_t lo = key_bits(c, 0), hi = lo;
    for (size_t i = 1; i < c->n; i++) {
        uint64_t k = key_bits(c, i);
        if (is_signed ? (int64_t)k < (int64_t)lo : k < lo) lo = k;
        if (is_signed ? (int64_t)k > (int64_t)hi : k > hi) hi = k;
    }
    uint64_t span = hi - lo; /* as unsigned: right for signed keys too */
    *min_out = lo;
    return span < DENSE_MAX && span < c->n / 2 + 1 ? (size_t)span + 1 : 0;
}

static void dense_add(const weft_segment_call *c, dense_table *d, size_t i)
{
    weft_dtype t = c->value_dtype;
    size_t g = (size_t)(key_bits(c, i) - d->min);
    uint64_t seen = d->count[g]++;
    if (c->op == WEFT_COUNT) return;
    int is_float = t == WEFT_F32 || t == WEFT_F64, min = c->op == WEFT_MIN;
    if (c->op == WEFT_SUM) {
        if (is_float)
            d->acc[g].f = d->acc[g].f + weft_load_double(c->values, t, i);
        else
            d->acc[g].u += weft_load_bits(c->values, t, i);
    } else if (is_float) {
        double v = weft_load_double(c->values, t, i);
        if (!seen || (min ? weft_less_f(v, d->acc[g].f) : weft_greater_f(v, d->acc[g].f)))
            d->acc[g].f = v;
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t v = (int64_t)weft_load_bits(c->values, t, i);
        if (!seen || (min ? v < d->acc[g].i : v > d->acc[g].i)) d->acc[g].i = v;
    } else {
        uint64_t v = weft_load_bits(c->values, t, i);
        if (!seen || (min ? v < d->acc[g].u : v > d->acc[g].u)) d->acc[g].u = v;
    }
}

static void dense_emit(const weft_segment_call *c, const dense_table *d)
{
    weft_dtype t = c->value_dtype;
    size_t g = 0, ksize = weft_dtype_size(c->key_dtype);
    for (size_t k = 0; k < d->range; k++) {
        if (!d->count[k]) continue;
        uint64_t key = d->min + k;
        unsigned char *to = (unsigned char *)c->out_keys + g * ksize;
        if (ksize == 1)
            *to = (uint8_t)key;
        else if (ksize == 4)
            memcpy(to, &(uint32_t){(uint32_t)key}, 4);
        else
            memcpy(to, &key, 8);
        if (c->op == WEFT_COUNT)
            store(c->out_values, c->out_dtype, g, d->count[k], (double)d->count[k]);
        else
            store(c->out_values, t, g, d->acc[k].u, d->acc[k].f);
        g++;
    }
}

weft_status weft_ref_group_dense(const weft_segment_call *c, int *done)
{
    dense_table d = {0};
    size_t groups = 0;
    *done = 0;
    if (c->n == 0 || !(d.range = dense_range(c, &d.min))) return WEFT_OK;
    weft_status st = WEFT_OK;
    d.count = calloc(d.range, sizeof *d.count);
    d.acc = calloc(d.range, sizeof *d.acc);
    if (!d.count || !d.acc) goto error; /* the sort needs less memory than a table this wide */
    *done = 1;
    for (size_t i = 0; i < c->n; i++)
        dense_add(c, &d, i);
    for (size_t k = 0; k < d.range; k++)
        groups += d.count[k] != 0;
    *c->count = 0;
    GOTO_ERROR_IF(groups > c->capacity, WEFT_ERR_SIZE, "%s: %zu groups, but the outputs hold %zu",
                  c->what, groups, c->capacity);
    dense_emit(c, &d);
    *c->count = groups;
error:
    free(d.count);
    free(d.acc);
    return st;
}
