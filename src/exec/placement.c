#include "placement.h"
#include "../core/cache.h"
#include "../core/clock.h"
#include "../core/fork_registry.h"
#include "../core/env.h"
#include "../core/error.h"
#include "../mem/residency.h"
#include "perf_store.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TABLE = 256, LABEL = 160 };

/* Seconds a call costs on the pool however small (the calling thread alone
 * runs small work, with no fork), and per byte with no measurement. */
#define POOL_OVERHEAD 2e-6
#define DEFAULT_BYTES_PER_SEC 5e9
#define DEFAULT_LAUNCH 50e-6

/* What an entry keeps per device. */
typedef struct entry_device {
    weft_perf_history history; /* the file as first read, then every sample here */
    weft_perf_history unsaved; /* the samples since the last save: what it adds to the file */
    weft_perf_health health;
    unsigned untimed;          /* calls explored on it that could not be timed (async) */
    unsigned char warm;        /* it ran here before: its code is built, its buffers made */
    uint64_t pieces, elements; /* statistics */
    double seconds, timed_elements;
} entry_device;

struct weft_place_entry {
    char *identity;
    char *hint_name;
    char label[LABEL];
    uint64_t hint; /* device mask; 0: none */
    uint64_t calls;
    entry_device *dev;                       /* per device index */
    uint64_t logged[WEFT_PERF_CLASSES];      /* the plan last logged per size class, +1 */
    uint64_t class_calls[WEFT_PERF_CLASSES]; /* calls placed by the model, per size class */
    /* Per size class: the device the model's last choice ran alone, + 1 (0:
     * none yet, or shares). Re-measurements and explorations do not move it. */
    uint16_t incumbent[WEFT_PERF_CLASSES];
    uint16_t last; /* the device that ran the last call alone, + 1 (0: shares, none) */
    weft_place_entry *next, *next_in_order;
};

typedef struct hint {
    uint64_t mask;
    struct hint *next;
    char name[]; /* the operation it places */
} hint;

struct weft_placement {
    pthread_mutex_t lock;
    /* A fork child's first operation waited for good on the lock a parent
     * thread held placing one at fork(). */
    weft_fork_member forked;
    int by_model; /* the default options: placement from the model */
    int copies;   /* some selected device keeps its own copies (transfers count) */
    weft_place_entry *table[TABLE];
    weft_place_entry *first, **last; /* creation order, for weft_ctx_op_stats */
    size_t count;
    hint *hints;
    atomic_int hinted;  /* a hint was ever given: until then no lookup needs the lock */
    double *busy_until; /* per device: when work left running there should end */
    /* Per device: the first device of the same name, vendor and driver. Such
     * twins share one model (as they share its file): measuring one tells
     * the time on the other. */
    size_t *twin;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

weft_status weft_placement_create(weft_ctx *ctx)
{
    weft_placement *p = calloc(1, sizeof *p);
    RETURN_IF(!p, WEFT_ERR_NOMEM, "cannot allocate the placement state");
    p->busy_until = calloc(ctx->ndevices, sizeof *p->busy_until);
    if (!p->busy_until) {
        free(p);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate the placement state");
    }
    p->twin = calloc(ctx->ndevices, sizeof *p->twin);
    if (!p->twin) {
        free(p->busy_until);
        free(p);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate the placement state");
    }
    for (size_t d = 0; d < ctx->ndevices; d++) {
        const weft_device_info *a = &ctx->devices[d].info;
        p->twin[d] = d;
        for (size_t t = 1; t < d && p->twin[d] == d; t++) {
            const weft_device_info *b = &ctx->devices[t].info;
            if (!strcmp(a->name, b->name) && !strcmp(a->vendor, b->vendor) &&
                !strcmp(a->driver_version, b->driver_version))
                p->twin[d] = t;
        }
    }
    pthread_mutex_init(&p->lock, NULL);
    p->forked = (weft_fork_member){.lock = &p->lock, .level = WEFT_FORK_MODELS};
    weft_fork_add(&p->forked);
    p->last = &p->first;
    /* Weights given or even, or a size threshold given, ask for today's
     * static split by the arrays' chunks: tests and users who pinned it. */
    const char *env = weft_env_word("WEFT_PLACEMENT");
    p->by_model = ctx->weights == WEFT_WEIGHTS_CALIBRATED && ctx->small_elements < 0 &&
                  !(env && strcmp(env, "weights") == 0);
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (ctx->devices[d].info.selected && (!ctx->zero_copy || !ctx->devices[d].info.zero_copy))
            p->copies = 1;
    ctx->placement = p;
    return WEFT_OK;
}

static void save(weft_ctx *ctx, weft_place_entry *e, size_t d)
{
    if (!ctx->cache_dir || !e->dev[d].unsaved.measured || ctx->placement->twin[d] != d) return;
    char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    weft_perf_path(ctx->cache_dir, &ctx->devices[d].info, e->identity, path, sizeof path);
    if (weft_perf_save(path, e->label, ctx->devices[d].info.name, &e->dev[d].unsaved) == WEFT_OK)
        memset(&e->dev[d].unsaved, 0, sizeof e->dev[d].unsaved);
    else
        weft_log(&ctx->log, WEFT_LOG_DEBUG, "placement: %s", weft_last_error());
}

static void entry_free(weft_place_entry *e)
{
    free(e->identity);
    free(e->hint_name);
    free(e->dev);
    free(e);
}

void weft_placement_free(weft_ctx *ctx)
{
    weft_placement *p = ctx->placement;
    if (!p) return;
    for (weft_place_entry *e = p->first, *next; e; e = next) {
        next = e->next_in_order;
        for (size_t d = 0; d < ctx->ndevices; d++)
            save(ctx, e, d);
        entry_free(e);
    }
    for (hint *h = p->hints, *next; h; h = next) {
        next = h->next;
        free(h); /* its name with it */
    }
    weft_fork_remove(&p->forked);
    pthread_mutex_destroy(&p->lock);
    free(p->busy_until);
    free(p->twin);
    free(p);
    ctx->placement = NULL;
}

/* The next character of an operation's text that is not a blank, a line
 * end read as the ';' it means; NUL past a trailing separator. */
static const char *next_meaningful(const char *c)
{
    for (;; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\r') continue;
        if (*c == '\n' || *c == ';') { /* a separator counts unless only more follow */
            const char *rest = c + 1;
            while (*rest && strchr(" \t\r\n;", *rest))
                rest++;
            if (!*rest) return rest;
        }
        return c;
    }
}

/* Two texts of one operation: the same but for blanks and how statements
 * are separated (a hint written "y = x*2 + y" names the call's "y = x * 2 +
 * y"; the CSV pipeline joins its statements with line ends). */
static int same_operation(const char *a, const char *b)
{
    for (;;) {
        a = next_meaningful(a);
        b = next_meaningful(b);
        char ca = *a == '\n' ? ';' : *a, cb = *b == '\n' ? ';' : *b;
        if (ca != cb) return 0;
        if (!ca) return 1;
        a++;
        b++;
    }
}

static uint64_t hint_for(const weft_placement *p, const char *name)
{
    for (const hint *h = p->hints; h; h = h->next)
        if (same_operation(h->name, name)) return h->mask;
    return 0;
}

/* Under the lock. The models of every device it may run on come from the
 * cache directory now, once per context. */
static weft_place_entry *entry_new(weft_ctx *ctx, const weft_place_request *req, uint64_t hash)
{
    weft_placement *p = ctx->placement;
    size_t nd = ctx->ndevices;
    weft_place_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    const char *name = req->text ? req->text : req->kind;
    e->identity = strdup(req->identity);
    e->hint_name = strdup(name);
    e->dev = calloc(nd, sizeof *e->dev);
    if (!e->identity || !e->hint_name || !e->dev) {
        entry_free(e);
        return NULL;
    }
    if (req->text)
        snprintf(e->label, sizeof e->label, "%s \"%s\"", req->kind, req->text);
    else
        snprintf(e->label, sizeof e->label, "%s", req->identity);
    e->hint = hint_for(p, name);
    for (size_t d = 0; d < nd && ctx->cache_dir; d++) {
        if (p->twin[d] != d) continue;
        char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
        weft_perf_path(ctx->cache_dir, &ctx->devices[d].info, e->identity, path, sizeof path);
        weft_perf_load(path, &e->dev[d].history);
    }
    e->next = p->table[hash % TABLE];
    p->table[hash % TABLE] = e;
    *p->last = e;
    p->last = &e->next_in_order;
    p->count++;
    return e;
}

/* 1 when a device that works on host memory in place must copy one of the
 * arrays instead (user memory not aligned for it: numpy's, 16 bytes). */
static int copies_shared_memory(const weft_ctx *ctx, const weft_place_request *req)
{
    if (!ctx->zero_copy) return 0;
    for (size_t d = 1; d < ctx->ndevices; d++) {
        const weft_device_info *info = &ctx->devices[d].info;
        if (!info->selected || !info->zero_copy) continue;
        for (size_t i = 0; i < req->narrays; i++)
            if (!weft_mem_shares_host(req->arrays[i], d)) return 1;
    }
    return 0;
}

/* Calls whose arrays such a device must copy are another operation to the
 * model: there it pays the copies in and out (10-30x its time on resident
 * arrays, measured for 2*a + 3*b*c over numpy's float64), and one history
 * for both kept it off aligned arrays, or on unaligned ones. */
static weft_place_entry *entry_find(weft_ctx *ctx, const weft_place_request *req)
{
    weft_placement *p = ctx->placement;
    weft_place_request own = *req;
    char *split = NULL;
    if (copies_shared_memory(ctx, req) && (split = malloc(strlen(req->identity) + 8))) {
        sprintf(split, "%s|copied", req->identity);
        own.identity = split;
    }
    uint64_t hash = fnv1a(own.identity);
    weft_place_entry *e = p->table[hash % TABLE];
    while (e && strcmp(e->identity, own.identity) != 0)
        e = e->next;
    if (!e && (e = entry_new(ctx, &own, hash)) && split) {
        size_t len = strlen(e->label);
        snprintf(e->label + len, sizeof e->label - len, " (arrays copied)");
    }
    free(split);
    return e;
}

/* Elements of the read arrays that are not current on dev, as seconds of
 * copying. Only where some device keeps copies of its own: elsewhere every
 * device works on the host storage. */
static double transfer_seconds(weft_ctx *ctx, const weft_place_request *req, size_t dev)
{
    if (!ctx->placement->copies) return 0;
    double bytes = 0;
    for (size_t i = 0; i < req->narrays; i++) {
        if (!(req->reads & (1u << i))) continue;
        weft_array *a = req->arrays[i];
        for (size_t c = 0; c < a->nchunks; c++) {
            const weft_chunk *ch = &a->chunks[c];
            if (!weft_mem_is_current(a, dev, ch->begin, ch->begin + ch->count))
                bytes += (double)ch->count * (double)a->elem_size;
        }
    }
    const weft_device *d = &ctx->devices[dev];
    double rate = d->copy_bytes_per_sec > 0 ? d->copy_bytes_per_sec
                  : d->bytes_per_sec > 0    ? d->bytes_per_sec
                                            : DEFAULT_BYTES_PER_SEC;
    return bytes / rate;
}

static double bytes_per_element(const weft_place_request *req)
{
    double b = 0;
    for (size_t i = 0; i < req->narrays; i++)
        b += (double)req->arrays[i]->elem_size;
    return b;
}

static void describe(const weft_ctx *ctx, const weft_perf_plan *plan, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < plan->count && len < cap; i++) {
        size_t d = plan->device[i];
        int w = d == 0 ? snprintf(out + len, cap - len, "%spool", i ? " + " : "")
                       : snprintf(out + len, cap - len, "%sdevice %zu", i ? " + " : "", d);
        if (w > 0) len += (size_t)w;
        if (plan->count > 1 && len < cap) {
            w = snprintf(out + len, cap - len, " (%.0f%%)", plan->share[i] * 100);
            if (w > 0) len += (size_t)w;
        }
    }
    (void)ctx;
}

/* Where it ran and why, the first time for a size class and when it changes. */
static void log_plan(weft_ctx *ctx, weft_place_entry *e, const weft_perf_candidate *c, size_t count,
                     const weft_perf_plan *plan, size_t n)
{
    /* a re-measurement is not a change of placement */
    if (!ctx->log.enabled || ctx->log.level < WEFT_LOG_INFO || plan->remeasuring) return;
    uint64_t sig = (uint64_t)plan->exploring << 63;
    for (size_t i = 0; i < plan->count; i++)
        sig |= (uint64_t)1 << (plan->device[i] < 62 ? plan->device[i] : 62);
    int k = weft_perf_class_of((double)n);
    if (e->logged[k] == sig + 1) return;
    e->logged[k] = sig + 1;
    char where[160], why[512];
    describe(ctx, plan, where, sizeof where);
    size_t len = 0;
    why[0] = '\0';
    for (size_t i = 0; i < count && len < sizeof why; i++) {
        int w = c[i].device ? snprintf(why + len, sizeof why - len, "%sdevice %zu %.3g ms",
                                       i ? ", " : "", c[i].device, plan->alone[i] * 1e3)
                            : snprintf(why + len, sizeof why - len, "%spool %.3g ms", i ? ", " : "",
                                       plan->alone[i] * 1e3);
        if (w > 0) len += (size_t)w;
    }
    weft_log(&ctx->log, WEFT_LOG_INFO, "placement: %s, %zu elements: %s%s (predicted: %s)",
             e->label, n, where, plan->exploring ? ", measuring it (no history at this size)" : "",
             why);
}

void weft_place(weft_ctx *ctx, const weft_place_request *req, weft_place_result *out)
{
    weft_placement *p = ctx->placement;
    /* A plan that does not apply reads as none (count 0). */
    out->entry = NULL;
    weft_perf_plan_clear(&out->plan);
    out->transfer = 0;
    out->started = 0;
    out->building = req->building;
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    weft_place_entry *e = entry_find(ctx, req);
    out->entry = e;
    if (!e) goto done;
    uint64_t call = e->calls++;
    if (!p->by_model && !e->hint) goto done;
    weft_perf_candidate c[WEFT_PERF_MAX_CANDIDATES];
    size_t count = 0;
    int k = weft_perf_class_of((double)req->n);
    double per_element = bytes_per_element(req), now = 0;
    for (size_t d = 0; d < ctx->ndevices && count < WEFT_PERF_MAX_CANDIDATES; d++) {
        weft_device *dev = &ctx->devices[d];
        if (e->hint && !(e->hint & ((uint64_t)1 << (d < 63 ? d : 63)))) continue;
        if (d > 0 && !dev->info.selected) continue;
        double rate = dev->bytes_per_sec > 0 ? dev->bytes_per_sec : DEFAULT_BYTES_PER_SEC;
        double launch = d == 0                    ? POOL_OVERHEAD
                        : dev->launch_seconds > 0 ? dev->launch_seconds
                                                  : DEFAULT_LAUNCH;
        weft_perf_candidate *cd = &c[count];
        *cd =
            (weft_perf_candidate){.device = d,
                                  .history = &e->dev[p->twin[d]].history,
                                  .overhead = launch,
                                  .estimate = per_element / rate,
                                  .transfer = transfer_seconds(ctx, req, d),
                                  .group = d == 0 || dev->info.kind == WEFT_DEVICE_CPU ? 0 : (int)d,
                                  .incumbent = e->incumbent[k] == d + 1};
        /* The pool comes first: a device it leaves out of reach is asked
         * nothing more (most 1000-element calls). */
        if (d > 0 && count > 0 && c[0].device == 0 &&
            weft_perf_out_of_reach(&c[0], cd, (double)req->n))
            continue;
        if (d > 0 && !req->native(dev, req->op)) continue;
        if (!weft_perf_usable(&e->dev[d].health, call)) continue;
        if (p->busy_until[d] > 0) {
            if (now == 0) now = weft_now();
            cd->queued = p->busy_until[d] > now ? p->busy_until[d] - now : 0;
        }
        /* Explored when its code is ready or is built in the call (compiled
         * synchronously: a device not built yet was never explored, so never
         * built, and a pool whose first sample beat the device's static
         * estimate kept the operation for good), and its time can be taken.
         * The pool builds none: asking the expression's kernels kept it from
         * ever being measured again. */
        int built = d == 0 || !req->built || ctx->compile_sync || req->built(dev, req->op);
        cd->explore = built && e->dev[d].untimed < 2;
        count++;
    }
    if (count == 0) { /* the hint names no device that can run it: the pool does */
        out->plan = (weft_perf_plan){.count = 1, .device = {0}, .share = {1.0}};
        goto done;
    }
    if (count == 1 && c[0].device == 0 && !(ctx->log.enabled && ctx->log.level >= WEFT_LOG_INFO)) {
        /* The pool alone can run it (every device out of reach, as for most
         * 1000-element calls): nothing to predict. Its samples are still
         * taken, for when n grows. */
        out->plan = (weft_perf_plan){.count = 1, .device = {0}, .share = {1.0}};
        e->incumbent[k] = 1;
        out->transfer = c[0].transfer;
        e->class_calls[k]++;
        goto done;
    }
    weft_perf_choose_at(c, count, (double)req->n, e->class_calls[k]++, &out->plan);
    if (!out->plan.exploring && !out->plan.remeasuring)
        e->incumbent[k] = out->plan.count == 1 && out->plan.device[0] < UINT16_MAX
                              ? (uint16_t)(out->plan.device[0] + 1)
                              : 0;
    for (size_t i = 0; i < out->plan.count; i++)
        for (size_t j = 0; j < count; j++)
            if (c[j].device == out->plan.device[i]) out->transfer += c[j].transfer;
    if (req->async) {
        if (now == 0) now = weft_now();
        for (size_t i = 0; i < out->plan.count; i++) {
            size_t d = out->plan.device[i];
            if (d == 0) continue;
            double from = p->busy_until[d] > now ? p->busy_until[d] : now;
            p->busy_until[d] = from + out->plan.predicted;
        }
    }
    log_plan(ctx, e, c, count, &out->plan, req->n);
done:
    pthread_mutex_unlock(&p->lock);
    out->started = weft_now();
}

/* Worth writing now, so other processes see it soon: a size class's first
 * sample and when its mean has settled. Everything else at weft_ctx_free. */
static int milestone(const weft_perf_history *h, size_t n)
{
    double s = h->cls[weft_perf_class_of((double)n)].samples;
    return s == 1 || s == 4;
}

void weft_place_done(weft_ctx *ctx, const weft_place_result *r, size_t n, const weft_piece *pieces,
                     size_t npieces, double seconds)
{
    weft_placement *p = ctx->placement;
    weft_place_entry *e = r->entry;
    if (!p || !e) return;
    uint64_t failed = 0, used = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < npieces; k++) {
        size_t d = pieces[k].device;
        e->dev[d].pieces++;
        e->dev[d].elements += pieces[k].end - pieces[k].begin;
        used |= (uint64_t)1 << (d & 63);
        if (pieces[k].state == PIECE_FAILED_EARLY || pieces[k].state == PIECE_FAILED_LATE)
            failed |= (uint64_t)1 << (d & 63);
    }
    for (size_t d = 0; d < ctx->ndevices && d < 64; d++) {
        if (!(used & ((uint64_t)1 << d))) continue;
        if (failed & ((uint64_t)1 << d)) {
            weft_perf_failed(&e->dev[d].health, e->calls);
            weft_log(&ctx->log, WEFT_LOG_INFO,
                     "placement: device %zu failed %s; left out of it for %llu calls", d, e->label,
                     (unsigned long long)(e->dev[d].health.retry_at - e->calls));
        } else {
            weft_perf_succeeded(&e->dev[d].health);
        }
    }
    /* One device ran it all: the time is that device's. Split runs are not
     * taken apart (each device's part ends at a different moment). */
    int single = used && !(used & (used - 1)) && !failed && r->plan.count <= 1;
    size_t d = 0;
    while (single && !(used & ((uint64_t)1 << d)))
        d++;
    /* A device's first call builds its code and makes its buffers: not
     * its time. The pool has nothing to build. */
    int cold = single && d > 0 && !e->dev[d].warm;
    for (size_t k = 0; k < ctx->ndevices && k < 64; k++)
        if (used & ((uint64_t)1 << k)) e->dev[k].warm = 1;
    if (single && seconds < 0 && (r->plan.exploring || r->plan.remeasuring) && !cold)
        e->dev[d].untimed++;
    /* A call right after the operation ran on another device runs in its
     * wake: PoCL's threads still spin on the cores the pool needs, caches
     * are cold (n-body at 10^3 took the pool 3.0 ms there, 1.6 ms in steady
     * state). Such samples made the runner-up look slower than it is, for
     * good once near-ties kept the incumbent: not taken. Re-measurements run
     * two calls in a row for this (weft_perf_choose_at). */
    int wake = single && e->last && e->last != d + 1;
    e->last = single && d < UINT16_MAX ? (uint16_t)(d + 1) : 0;
    /* The pool's time while a device's code builds on the same cores is
     * the build's as much as its own (556 ms for a map it then ran in 14):
     * not taken, and not counted as untimed either (the pool stays to be
     * measured once the build is done). */
    int busy_cores = d == 0 && r->building;
    if (single && seconds >= 0 && !cold && !busy_cores && !wake) {
        size_t m = p->twin[d];
        double t = seconds - r->transfer;
        if (t < seconds * 0.1) t = seconds * 0.1; /* the copy estimate is rough */
        if (r->plan.remeasuring)
            weft_perf_record_fresh(&e->dev[m].history, (double)n, t);
        else
            weft_perf_record(&e->dev[m].history, (double)n, t);
        weft_perf_record(&e->dev[m].unsaved, (double)n, t);
        e->dev[d].seconds += seconds;
        e->dev[d].timed_elements += (double)n;
        if (milestone(&e->dev[m].history, n)) save(ctx, e, m);
    }
    pthread_mutex_unlock(&p->lock);
}

int weft_place_pool_may_run(weft_ctx *ctx, const char *name)
{
    weft_placement *p = ctx->placement;
    if (!p) return 0;
    if (!atomic_load_explicit(&p->hinted, memory_order_acquire)) return p->by_model;
    pthread_mutex_lock(&p->lock);
    uint64_t mask = hint_for(p, name);
    int may = mask ? (mask & WEFT_PLACE_HOST) != 0 : p->by_model;
    pthread_mutex_unlock(&p->lock);
    return may;
}

weft_status weft_ctx_place(weft_ctx *ctx, const char *operation, uint64_t devices)
{
    RETURN_IF(!ctx || !operation, WEFT_ERR_NULL, "weft_ctx_place: context or operation is NULL");
    weft_placement *p = ctx->placement;
    RETURN_IF(!p, WEFT_ERR_STATE, "weft_ctx_place: the context has no placement state");
    RETURN_IF(!*next_meaningful(operation), WEFT_ERR_INVALID_ARG,
              "weft_ctx_place: the operation's text is empty");
    /* WEFT_PLACE_DEVICES names every device there is; any other mask only
     * devices of this context (a pin to none would be silently void). */
    uint64_t known = ctx->ndevices >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ctx->ndevices) - 1;
    RETURN_IF(devices != WEFT_PLACE_DEVICES && (devices & ~known), WEFT_ERR_INVALID_ARG,
              "weft_ctx_place: the mask 0x%llx names devices the context does not have "
              "(it has %zu: indices 0 to %zu)",
              (unsigned long long)devices, ctx->ndevices, ctx->ndevices - 1);
    pthread_mutex_lock(&p->lock);
    hint *h = p->hints;
    while (h && !same_operation(h->name, operation))
        h = h->next;
    if (!h && devices) {
        size_t name_size = strlen(operation) + 1;
        h = calloc(1, sizeof *h + name_size);
        if (!h) {
            pthread_mutex_unlock(&p->lock);
            return weft_error_set(WEFT_ERR_NOMEM, "weft_ctx_place: cannot keep the hint");
        }
        memcpy(h->name, operation, name_size);
        h->next = p->hints;
        p->hints = h;
    }
    if (h) h->mask = devices;
    atomic_store_explicit(&p->hinted, 1, memory_order_release);
    for (weft_place_entry *e = p->first; e; e = e->next_in_order)
        if (same_operation(e->hint_name, operation)) e->hint = devices;
    pthread_mutex_unlock(&p->lock);
    return WEFT_OK;
}

weft_status weft_ctx_op_stats(weft_ctx *ctx, weft_op_stats *stats, size_t capacity, size_t *count)
{
    RETURN_IF(!ctx || !count || (!stats && capacity), WEFT_ERR_NULL,
              "weft_ctx_op_stats: NULL argument");
    weft_placement *p = ctx->placement;
    *count = 0;
    if (!p) return WEFT_OK;
    pthread_mutex_lock(&p->lock);
    size_t i = 0;
    for (weft_place_entry *e = p->first; e; e = e->next_in_order, i++) {
        if (i >= capacity) continue;
        weft_op_stats *s = &stats[i];
        memset(s, 0, sizeof *s);
        snprintf(s->operation, sizeof s->operation, "%s", e->label);
        s->calls = e->calls;
        s->ndevices = ctx->ndevices < WEFT_OP_STATS_DEVICES ? ctx->ndevices : WEFT_OP_STATS_DEVICES;
        for (size_t d = 0; d < s->ndevices; d++) {
            s->device[d].pieces = e->dev[d].pieces;
            s->device[d].elements = e->dev[d].elements;
            s->device[d].seconds_per_element =
                e->dev[d].timed_elements > 0 ? e->dev[d].seconds / e->dev[d].timed_elements : 0;
            enum weft_perf_basis basis;
            double t = weft_perf_predict(&e->dev[p->twin[d]].history, 1e6, 0, &basis);
            s->device[d].model_seconds_per_element = basis == WEFT_PERF_NONE ? 0 : t / 1e6;
        }
    }
    *count = i;
    pthread_mutex_unlock(&p->lock);
    return WEFT_OK;
}
