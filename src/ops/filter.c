/* weft_filter: the condition evaluated into a byte mask on the host (the
 * expression's host code, as weft_map runs it on the pool) and counted part
 * by part, the counts scanned into where each part's survivors go, and the
 * parts copied: a stream compaction whose order is the input's. */
#include "../mem/alias.h"
#include "../core/big_alloc.h"
#include "../core/error.h"
#include "../core/clock.h"
#include "../core/pool.h"
#include "expr_op.h"
#include "filter_compact.h"
#include "filter_fused.h"
#include "host_whole.h"
#include "submit_local.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_NAME "weft_filter_keep_"

enum { MAX_PARTS = 4096, PART_MIN = 1 << 14 }; /* parts of 64 KiB of f32 stay in L2 */
/* A part's start later than this (seconds): copied after the pass. */
double weft_filter_late_s = 20e-6;

typedef struct filter_op {
    weft_op base; /* arrays: the bound ones, then inputs, then outputs */
    weft_compiled *compiled;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS + 1];
    int view_of_bind[WEFT_EXPR_MAX_BINDINGS + 1];
    weft_expr_call call;
    weft_filter_plan plan; /* nsteps 0: the condition runs in the VM */
    size_t nbound, n_out;
    size_t *count;
} filter_op;

typedef struct compact_job {
    const filter_op *f;
    weft_device *dev;
    unsigned char *mask; /* per element, from the VM; or */
    uint64_t *bits;      /* per 64 elements, from the plan */
    void **host;
    size_t n, part, parts, total;
    atomic_int failed;
    size_t *at; /* per part: survivors, then where they go */
    /* In one pass (bits, and outputs with room for every element): */
    int one_pass;
    atomic_size_t next_part;
    atomic_size_t *kept, *start; /* per part, SIZE_MAX until known */
    unsigned char *late;         /* per part: copied after the pass */
} compact_job;

static size_t part_end(const compact_job *j, size_t p)
{
    size_t e = (p + 1) * j->part;
    return e < j->n ? e : j->n;
}

/* Each part's mask is made and counted while it is in the cache: the
 * condition runs part by part (inline on this thread: a parallel_for inside
 * a chunk does not fan out again) into 32-bit flags, the VM's own width,
 * which this loop narrows to the byte mask as it counts them. */
static void mask_parts(void *arg, size_t p0, size_t p1)
{
    compact_job *j = arg;
    const filter_op *f = j->f;
    int32_t *flags = malloc(j->part * sizeof *flags);
    if (!flags) {
        atomic_store(&j->failed, 1);
        return;
    }
    for (size_t p = p0; p < p1; p++) {
        size_t b = p * j->part, e = part_end(j, p);
        weft_view views[WEFT_PRIM_MAX_VIEWS] = {{0}};
        for (size_t k = 0; k < f->nbound; k++)
            views[k].host = (unsigned char *)j->host[k] + b * f->call.elem_of_view[k];
        views[f->nbound].host = flags;
        if (j->dev->ops.map_expr(j->dev, &f->call, views, b, e - b) != WEFT_OK)
            atomic_store(&j->failed, 1);
        j->at[p] = weft_filter_narrow(flags, j->mask + b, e - b);
    }
    free(flags);
}

static void copy_part_bits(const compact_job *j, size_t p, size_t start, size_t kept)
{
    const filter_op *f = j->f;
    size_t b = p * j->part;
    for (size_t k = 0; k < f->n_out; k++) {
        size_t es = f->base.arrays[f->nbound + k]->elem_size;
        unsigned char *dst = j->host[f->nbound + f->n_out + k];
        weft_filter_compact_bits(j->bits + b / 64, j->host[f->nbound + k], dst + es * start, es, b,
                                 part_end(j, p), kept);
    }
}

/* Where the parts from q on start, as far as their counts are known. A
 * part's thread stores its count and then reads its start; the thread that
 * stores the start then reads the count: one of the two sees the other's
 * store and carries the chain on (both: the same value, stored once). */
static void carry_starts(compact_job *j, size_t q)
{
    for (; q + 1 < j->parts; q++) {
        size_t s = atomic_load(&j->start[q]), c = atomic_load(&j->kept[q]), unknown = SIZE_MAX;
        if (s == SIZE_MAX || c == SIZE_MAX) return;
        atomic_compare_exchange_strong(&j->start[q + 1], &unknown, s + c);
    }
}

/* The last parts of a thread wait for their starts: the part before is
 * being counted on the other thread, and its count comes soon unless that
 * thread was paused. */
static size_t wait_start(compact_job *j, size_t p)
{
    enum { SPINS_PER_LOOK = 64 };
    double since = 0;
    if (weft_filter_late_s < 0) return SIZE_MAX; /* every part late */
    for (unsigned spin = 0;; spin++) {
        size_t s = atomic_load(&j->start[p]);
        if (s != SIZE_MAX) return s;
        if (spin % SPINS_PER_LOOK == 0) {
            double now = weft_now();
            if (since == 0)
                since = now;
            else if (now - since > weft_filter_late_s)
                return SIZE_MAX;
        }
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_ia32_pause();
#endif
    }
}

/* The plan's condition, 64 elements at a time, into bits (counted). */
static void bits_parts(void *arg, size_t p0, size_t p1)
{
    compact_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        size_t b = p * j->part;
        j->at[p] = weft_filter_bits(&j->f->plan, j->host, b, part_end(j, p), j->bits + b / 64);
    }
}

/* Part p copied if its start is known (waited for up to
 * weft_filter_late_s when `wait`); 0 when it is not. */
static int copy_if_started(compact_job *j, size_t p, int wait)
{
    size_t start = wait                     ? wait_start(j, p)
                   : weft_filter_late_s < 0 ? SIZE_MAX
                                            : atomic_load(&j->start[p]);
    if (start == SIZE_MAX) return 0;
    carry_starts(j, p);
    if (j->at[p]) copy_part_bits(j, p, start, j->at[p]);
    return 1;
}

/* One pass: each thread takes parts in index order (a counter of the job),
 * counts one and copies it as soon as its start is known: at once when the
 * part before was counted in time, else after its thread's next part or
 * parts, while it is still cached. What still waits when the parts run out
 * waits up to weft_filter_late_s, then is copied after the pass. */
static void one_pass_parts(void *arg, size_t w0, size_t w1)
{
    enum { WAITING = 4 };
    compact_job *j = arg;
    size_t waiting[WAITING], nwaiting = 0;
    (void)w0;
    (void)w1;
    for (;;) {
        size_t p = atomic_fetch_add(&j->next_part, 1);
        if (p >= j->parts) break;
        size_t b = p * j->part;
        j->at[p] = weft_filter_bits(&j->f->plan, j->host, b, part_end(j, p), j->bits + b / 64);
        atomic_store(&j->kept[p], j->at[p]);
        carry_starts(j, p);
        if (nwaiting == WAITING) { /* the oldest has left the cache */
            j->late[waiting[0]] = 1;
            memmove(waiting, waiting + 1, (WAITING - 1) * sizeof *waiting);
            nwaiting--;
        }
        waiting[nwaiting++] = p;
        size_t still = 0; /* the parts whose starts are known, copied */
        for (size_t q = 0; q < nwaiting; q++)
            if (!copy_if_started(j, waiting[q], 0)) waiting[still++] = waiting[q];
        nwaiting = still;
    }
    for (size_t q = 0; q < nwaiting; q++)
        if (!copy_if_started(j, waiting[q], 1)) j->late[waiting[q]] = 1;
}

static void copy_bits_parts(void *arg, size_t p0, size_t p1)
{
    compact_job *j = arg;
    for (size_t p = p0; p < p1; p++) {
        if (j->one_pass && !j->late[p]) continue;
        size_t kept = (p + 1 < j->parts ? j->at[p + 1] : j->total) - j->at[p];
        if (kept) copy_part_bits(j, p, j->at[p], kept);
    }
}

static void copy_parts(void *arg, size_t p0, size_t p1)
{
    compact_job *j = arg;
    const filter_op *f = j->f;
    for (size_t p = p0; p < p1; p++) {
        size_t b = p * j->part, last = part_end(j, p);
        size_t kept = (p + 1 < j->parts ? j->at[p + 1] : j->total) - j->at[p];
        if (!kept) continue;
        while (!j->mask[last - 1])
            last--;
        for (size_t k = 0; k < f->n_out; k++) {
            size_t es = f->base.arrays[f->nbound + k]->elem_size;
            unsigned char *dst = j->host[f->nbound + f->n_out + k];
            weft_filter_compact(j->mask, j->host[f->nbound + k], dst + es * j->at[p], es, b,
                                last - 1, kept);
        }
    }
}

static weft_status compact(filter_op *f, weft_device *dev, void **host, unsigned char *mask,
                           uint64_t *bits, size_t n)
{
    size_t parts = n / PART_MIN < 1 ? 1 : n / PART_MIN > MAX_PARTS ? MAX_PARTS : n / PART_MIN;
    /* sized by the parts: a small filter clears little */
    compact_job *j = calloc(1, sizeof *j + parts * (sizeof *j->at + 2 * sizeof *j->kept + 1));
    RETURN_IF(!j, WEFT_ERR_NOMEM, "weft_filter: cannot allocate its state");
    j->kept = (atomic_size_t *)(void *)(j + 1);
    j->start = j->kept + parts;
    j->at = (size_t *)(void *)(j->start + parts);
    j->late = (unsigned char *)(j->at + parts);
    j->f = f;
    j->dev = dev;
    j->mask = mask;
    j->bits = bits;
    j->host = host;
    j->n = n;
    j->part = (n + parts - 1) / parts;
    if (bits) j->part = (j->part + 63) & ~(size_t)63; /* parts start on a word of bits */
    j->parts = parts = (n + j->part - 1) / j->part;
    size_t total = 0, capacity = SIZE_MAX;
    for (size_t k = 0; k < f->n_out; k++) {
        size_t cap = f->base.arrays[f->nbound + f->n_out + k]->n;
        if (cap < capacity) capacity = cap;
    }
    /* Copying before every count is known may not overrun an output. */
    j->one_pass = bits && capacity >= n;
    for (size_t p = 0; p < parts; p++) {
        atomic_init(&j->kept[p], SIZE_MAX);
        atomic_init(&j->start[p], p ? SIZE_MAX : 0);
    }
    weft_pool *pool = dev->services->pool;
    if (j->one_pass) {
        atomic_init(&j->next_part, 0);
        size_t threads = (size_t)weft_pool_threads(pool);
        weft_pool_parallel_for(pool, threads < parts ? threads : parts, 1, 0, one_pass_parts, j);
    } else {
        weft_pool_parallel_for(pool, parts, 1, 0, bits ? bits_parts : mask_parts, j);
    }
    weft_status st = WEFT_OK;
    GOTO_ERROR_IF(atomic_load(&j->failed), WEFT_ERR_NOMEM,
                  "weft_filter: cannot allocate expression registers");
    for (size_t p = 0; p < parts; p++) {
        size_t kept = j->at[p];
        j->at[p] = total;
        total += kept;
    }
    j->total = total;
    GOTO_ERROR_IF(f->n_out > 0 && total > capacity, WEFT_ERR_SIZE,
                  "weft_filter: %zu elements kept, but an output holds %zu", total, capacity);
    weft_pool_parallel_for(pool, parts, 1, 0, bits ? copy_bits_parts : copy_parts, j);
    *f->count = total;
error:
    free(j);
    return st;
}

static weft_status filter_run(weft_op *base)
{
    filter_op *f = (filter_op *)base;
    size_t n = base->arrays[0]->n;
    void *host[WEFT_OP_MAX_ARRAYS];
    RETURN_ON_ERROR(weft_whole_acquire(base, (1u << base->narrays) - 1, host));
    weft_device *dev = weft_whole_device(base);
    if (n == 0) {
        *f->count = 0;
        return WEFT_OK;
    }
    size_t size = f->plan.nsteps ? (n + 63) / 64 * 8 : n;
    void *mask = weft_big_alloc(size);
    RETURN_IF(!mask, WEFT_ERR_NOMEM, "weft_filter: cannot allocate a mask of %zu bytes", size);
    weft_status st = f->plan.nsteps ? compact(f, dev, host, NULL, mask, n)
                                    : compact(f, dev, host, mask, NULL, n);
    weft_big_free(mask, size);
    RETURN_ON_ERROR(st);
    unsigned writes = ((1u << f->n_out) - 1) << (f->nbound + f->n_out);
    return weft_whole_wrote(base, writes);
}

/* The condition compiled alone, once its wrapped statement failed, so that
 * a mistake in it is reported in the user's text and columns, not in the
 * statement it is wrapped in. */
static weft_status check_condition(const char *name, const char *cond, const weft_bind *binds,
                                   size_t nbinds)
{
    weft_expr_binding b[WEFT_EXPR_MAX_BINDINGS];
    for (size_t k = 0; k < nbinds && k < WEFT_EXPR_MAX_BINDINGS; k++)
        b[k] = (weft_expr_binding){binds[k].name, binds[k].array != NULL,
                                   binds[k].array ? binds[k].array->dtype : binds[k].dtype};
    for (const char *c = cond; *c; c++) /* a = meant as == reads as an assignment */
        RETURN_IF(c[0] == '=' && c[1] != '=' && (c == cond || !strchr("=<>!", c[-1])),
                  WEFT_ERR_EXPR,
                  "%s: the condition \"%s\" assigns (=) at column %zu; compare with ==", name, cond,
                  (size_t)(c - cond) + 1);
    weft_expr *e = NULL;
    weft_status st = weft_expr_compile(cond, b, nbinds, WEFT_EXPR_REDUCE, &e);
    weft_expr_free(e);
    if (st == WEFT_OK) return WEFT_OK;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", weft_last_error());
    const char *said = weft_status_str(st), *start = detail; /* the status is said once */
    if (strncmp(start, said, strlen(said)) == 0 && strncmp(start + strlen(said), ": ", 2) == 0)
        start += strlen(said) + 2;
    return weft_error_set(st, "%s: the condition: %s", name, start);
}

static void filter_relink(weft_op *copy, const weft_op *from)
{
    (void)from;
    filter_op *f = (filter_op *)copy;
    f->call.binds = f->binds;
    f->call.view_of_bind = f->view_of_bind;
}

static weft_status check_outputs(weft_ctx *ctx, const filter_op *f, weft_array *const *inputs,
                                 weft_array *const *outputs)
{
    const char *name = "weft_filter";
    size_t n = f->base.arrays[0]->n;
    for (size_t k = 0; k < f->n_out; k++) {
        char what[32];
        snprintf(what, sizeof what, "inputs[%zu]", k);
        RETURN_ON_ERROR(weft_whole_check(ctx, inputs[k], name, what));
        RETURN_IF(inputs[k]->n != n, WEFT_ERR_SIZE, "%s: inputs[%zu] has %zu elements, not %zu",
                  name, k, inputs[k]->n, n);
        snprintf(what, sizeof what, "outputs[%zu]", k);
        RETURN_ON_ERROR(weft_whole_check(ctx, outputs[k], name, what));
        RETURN_IF(outputs[k]->dtype != inputs[k]->dtype, WEFT_ERR_DTYPE,
                  "%s: outputs[%zu] is %s, inputs[%zu] %s", name, k,
                  weft_dtype_name(outputs[k]->dtype), k, weft_dtype_name(inputs[k]->dtype));
    }
    /* an output shares memory with nothing else of the call */
    for (size_t k = 0; k < f->n_out; k++) {
        for (size_t a = 0; a < f->nbound + f->n_out; a++) {
            const weft_array *other = a < f->nbound ? f->base.arrays[a] : inputs[a - f->nbound];
            RETURN_IF(other == outputs[k], WEFT_ERR_INVALID_ARG,
                      "%s: outputs[%zu] is also an input or a bound array", name, k);
            RETURN_ON_ERROR(weft_alias_check(name, other, "an input", outputs[k], "an output"));
        }
        for (size_t o = 0; o < k; o++) {
            RETURN_IF(outputs[o] == outputs[k], WEFT_ERR_INVALID_ARG,
                      "%s: outputs[%zu] and outputs[%zu] are one array", name, o, k);
            RETURN_ON_ERROR(weft_alias_check(name, outputs[o], "an output", outputs[k], "another"));
        }
    }
    return WEFT_OK;
}

weft_status weft_filter(weft_ctx *ctx, const char *cond, const weft_bind *binds, size_t nbinds,
                        weft_array *const *inputs, weft_array *const *outputs, size_t n_out,
                        size_t *count, weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    const char *name = "weft_filter";
    RETURN_IF(!ctx || !cond || !count, WEFT_ERR_NULL, "%s: context, cond or count is NULL", name);
    RETURN_IF(n_out && (!inputs || !outputs), WEFT_ERR_NULL, "%s: %zu outputs but no arrays", name,
              n_out);
    filter_op *f = calloc(1, sizeof *f);
    RETURN_IF(!f, WEFT_ERR_NOMEM, "%s: cannot allocate the operation", name);
    weft_status st = WEFT_OK;
    char *text = NULL;
    f->base = (weft_op){.run = filter_run, .ctx = ctx};
    f->count = count;
    f->n_out = n_out;
    GOTO_ERROR_ON(
        weft_expr_bind(ctx, name, binds, nbinds, &f->base, f->binds, f->view_of_bind, &f->call));
    f->nbound = f->base.narrays;
    GOTO_ERROR_IF(f->nbound + 2 * n_out > WEFT_OP_MAX_ARRAYS, WEFT_ERR_INVALID_ARG,
                  "%s: %zu arrays bound and %zu outputs: at most %d arrays in all", name, f->nbound,
                  n_out, WEFT_OP_MAX_ARRAYS);
    GOTO_ERROR_ON(check_outputs(ctx, f, inputs, outputs));
    /* The mask is one more array of the expression, in memory of the op's
     * own: the compiler needs only its name and dtype. */
    weft_array mask_type = {.dtype = WEFT_I32, .elem_size = 4};
    weft_bind all[WEFT_EXPR_MAX_BINDINGS + 1];
    GOTO_ERROR_IF(nbinds >= WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG,
                  "%s: %zu bindings (at most %d)", name, nbinds, WEFT_EXPR_MAX_BINDINGS - 1);
    if (nbinds) memcpy(all, binds, nbinds * sizeof *binds);
    all[nbinds] = weft_bind_array(KEEP_NAME, &mask_type);
    size_t len = strlen(cond) + sizeof KEEP_NAME + 16;
    text = malloc(len);
    GOTO_ERROR_IF(!text, WEFT_ERR_NOMEM, "%s: cannot allocate the expression", name);
    snprintf(text, len, "%s = (%s) != 0", KEEP_NAME, cond);
    st = weft_compiled_get(ctx, WEFT_EXPR_MAP, WEFT_SUM, text, all, nbinds + 1, &f->compiled);
    if (st != WEFT_OK) { /* said again in the user's own text where it can be */
        char said[1024];
        snprintf(said, sizeof said, "%s", weft_last_error());
        weft_status own = check_condition(name, cond, binds, nbinds);
        if (own == WEFT_OK)
            weft_error_copy(said); /* the wrapped statement failed for another reason */
        else
            st = own;
        goto error;
    }
    f->call.compiled = f->compiled;
    weft_filter_plan_cond(cond, binds, nbinds, f->view_of_bind, &f->plan);
    f->binds[nbinds] = weft_bind_array(KEEP_NAME, NULL);
    f->view_of_bind[nbinds] = (int)f->nbound;
    f->call.elem_of_view[f->nbound] = 4;
    for (size_t k = 0; k < n_out; k++) {
        f->base.arrays[f->nbound + k] = inputs[k];
        f->base.arrays[f->nbound + n_out + k] = outputs[k];
    }
    f->base.narrays = f->nbound + 2 * n_out;
    f->base.read_only = (1u << (f->nbound + n_out)) - 1;
    free(text);
    text = NULL;
    weft_local_op local = {&f->base, sizeof *f, filter_relink, NULL};
    st = weft_submit_local(ctx->stream, &local, future);
error:
    free(text);
    free(f);
    return st;
}
