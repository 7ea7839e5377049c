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

static void reduce_run(const weft_segment_call *c, size_t b, size_t e, size_t g)
{
    weft_dtype t = c->value_dtype;
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    if (c->op == WEFT_COUNT) {
        weft_segment_store(c->out_values, c->out_dtype, g, e - b, (double)(e - b));
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
        weft_segment_store(c->out_values, t, g, u, f);
        return;
    }
    int min = c->op == WEFT_MIN;
    if (is_float) {
        double best = weft_load_double(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            double v = weft_load_double(c->values, t, i);
            if (min ? weft_less_f(v, best) : weft_greater_f(v, best)) best = v;
        }
        weft_segment_store(c->out_values, t, g, 0, best);
    } else if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t best = (int64_t)weft_load_bits(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            int64_t v = (int64_t)weft_load_bits(c->values, t, i);
            if (min ? v < best : v > best) best = v;
        }
        weft_segment_store(c->out_values, t, g, (uint64_t)best, 0);
    } else {
        uint64_t best = weft_load_bits(c->values, t, b);
        for (size_t i = b + 1; i < e; i++) {
            uint64_t v = weft_load_bits(c->values, t, i);
            if (min ? v < best : v > best) best = v;
        }
        weft_segment_store(c->out_values, t, g, best, 0);
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
