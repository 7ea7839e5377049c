#include "perf_model.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int weft_perf_class_of(double n)
{
    if (!(n >= 1)) return 0;
    /* Every call asks several times: a whole count below 2^32 (every one in
     * practice) takes its top bit, which is floor(log2(n)) exactly there. */
    int k = n < 4294967296.0 && n == (double)(uint64_t)n ? 63 - __builtin_clzll((uint64_t)n)
                                                         : (int)floor(log2(n));
    return k < WEFT_PERF_CLASSES ? k : WEFT_PERF_CLASSES - 1;
}

/* A sample taken in a call that measured a runner-up again, or explored it,
 * weighs as one of `window`: its history is stale. */
static void record(weft_perf_history *h, double n, double seconds, double window)
{
    if (!(n >= 1) || !(seconds >= 0) || !isfinite(seconds)) return;
    int k = weft_perf_class_of(n);
    weft_perf_class *c = &h->cls[k];
    h->measured |= (uint64_t)1 << k;
    /* Interference (other work on the cores, a first touch of memory) only
     * slows a piece down: while a class holds few samples, its fastest one
     * stands for it, so one slow early sample does not decide placement until
     * many calls have outvoted it. The running mean takes over from there. */
    if (c->samples > 0 && c->samples < WEFT_PERF_SETTLE) {
        if (seconds * c->mean_n < c->mean_s * n) {
            c->mean_n = n;
            c->mean_s = seconds;
        }
        c->samples += 1;
        return;
    }
    /* Once settled, one sample weighs at most WEFT_PERF_OUTLIER times the
     * class's time: a moment of interference (9 ms against a settled 2.2)
     * otherwise moved the mean past a slower device's, and the operation
     * stayed there, never measured again on the faster one. A device that
     * stays slower still moves the mean by a window's share each call. */
    double limit = c->samples > 0 ? WEFT_PERF_OUTLIER * c->mean_s * n / c->mean_n : INFINITY;
    if (seconds > limit) seconds = limit;
    double count = c->samples + 1 < WEFT_PERF_WINDOW ? c->samples + 1 : WEFT_PERF_WINDOW;
    double weight = count < window ? count : window;
    c->mean_n += (n - c->mean_n) / weight;
    c->mean_s += (seconds - c->mean_s) / weight;
    c->samples = count;
}

void weft_perf_record(weft_perf_history *h, double n, double seconds)
{
    record(h, n, seconds, WEFT_PERF_WINDOW);
}

void weft_perf_record_fresh(weft_perf_history *h, double n, double seconds)
{
    record(h, n, seconds, WEFT_PERF_FRESH_WINDOW);
}

int weft_perf_has(const weft_perf_history *h, double n)
{
    return h && (h->measured >> weft_perf_class_of(n) & 1);
}

/* A class's mean time moved to n: the fixed part (at most the whole time)
 * stays, the rest grows with the elements. */
static double scaled(const weft_perf_class *c, double n, double overhead)
{
    double fixed = overhead < c->mean_s ? overhead : c->mean_s;
    if (fixed < 0) fixed = 0;
    return fixed + (c->mean_s - fixed) * n / c->mean_n;
}

double weft_perf_predict(const weft_perf_history *h, double n, double overhead,
                         enum weft_perf_basis *basis)
{
    *basis = WEFT_PERF_NONE;
    if (!h || !h->measured) return 0;
    if (n < 1) n = 1;
    /* The nearest measured classes at and below k, at and above it. */
    int k = weft_perf_class_of(n);
    uint64_t below = h->measured & (((uint64_t)2 << k) - 1), above = h->measured >> k << k;
    int lo = below ? 63 - __builtin_clzll(below) : -1, hi = above ? __builtin_ctzll(above) : -1;
    if (lo == k) {
        *basis = WEFT_PERF_EXACT;
        return scaled(&h->cls[k], n, overhead);
    }
    if (lo >= 0 && hi >= 0) {
        const weft_perf_class *a = &h->cls[lo], *b = &h->cls[hi];
        *basis = WEFT_PERF_BETWEEN;
        double t = (n - a->mean_n) / (b->mean_n - a->mean_n);
        return a->mean_s + (b->mean_s - a->mean_s) * t;
    }
    *basis = lo >= 0 ? WEFT_PERF_FROM_SMALLER : WEFT_PERF_FROM_LARGER;
    return scaled(&h->cls[lo >= 0 ? lo : hi], n, overhead);
}

void weft_perf_merge(weft_perf_history *into, const weft_perf_history *from)
{
    for (int k = 0; k < WEFT_PERF_CLASSES; k++) {
        weft_perf_class *a = &into->cls[k];
        const weft_perf_class *b = &from->cls[k];
        if (!(b->samples > 0)) continue;
        /* Counted as its samples would be: at most WEFT_PERF_OUTLIER times
         * ours. Another context's first call (page faults, 3-12 ms against
         * a settled 0.085) otherwise moved the mean 20x. */
        double b_s = b->mean_s;
        if (a->samples > 0 && b_s > WEFT_PERF_OUTLIER * a->mean_s * b->mean_n / a->mean_n)
            b_s = WEFT_PERF_OUTLIER * a->mean_s * b->mean_n / a->mean_n;
        double total = a->samples + b->samples;
        a->mean_n = (a->mean_n * a->samples + b->mean_n * b->samples) / total;
        a->mean_s = (a->mean_s * a->samples + b_s * b->samples) / total;
        a->samples = total < WEFT_PERF_WINDOW ? total : WEFT_PERF_WINDOW;
        into->measured |= (uint64_t)1 << k;
    }
}

void weft_perf_failed(weft_perf_health *h, uint64_t call)
{
    if (h->failures < 16) h->failures++;
    h->retry_at = call + ((uint64_t)1 << h->failures);
}

void weft_perf_succeeded(weft_perf_health *h)
{
    h->failures = 0;
    h->retry_at = 0;
}

int weft_perf_usable(const weft_perf_health *h, uint64_t call)
{
    return h->failures == 0 || call >= h->retry_at;
}

void weft_perf_plan_clear(weft_perf_plan *plan)
{
    plan->count = 0;
    plan->predicted = 0;
    plan->exploring = 0;
    plan->remeasuring = 0;
}

static void alone(weft_perf_plan *plan, size_t device, double seconds)
{
    plan->count = 1;
    plan->device[0] = device;
    plan->share[0] = 1.0;
    plan->predicted = seconds;
}

/* Shares over one device per group that finish together: device i takes
 * m_i elements in a_i + b_i * m_i seconds; all end at T when
 * T = (n + sum a_i / b_i) / sum 1 / b_i. A device whose share would be
 * negative (its fixed cost alone exceeds T) drops out and T is solved again. */
static int split(const weft_perf_candidate *c, const size_t *members, size_t count, double n,
                 const double *seconds, weft_perf_plan *plan)
{
    double a[WEFT_PERF_MAX_CANDIDATES], b[WEFT_PERF_MAX_CANDIDATES];
    int in[WEFT_PERF_MAX_CANDIDATES];
    for (size_t i = 0; i < count; i++) {
        size_t k = members[i];
        a[i] = c[k].overhead + c[k].queued;
        if (a[i] > seconds[k]) a[i] = seconds[k];
        b[i] = (seconds[k] - a[i]) / n;
        if (b[i] < 1e-15) b[i] = 1e-15;
        in[i] = 1;
    }
    double T = 0;
    for (size_t round = 0; round < count; round++) {
        double num = n, den = 0;
        for (size_t i = 0; i < count; i++)
            if (in[i]) num += a[i] / b[i], den += 1 / b[i];
        T = num / den;
        int dropped = 0;
        for (size_t i = 0; i < count; i++)
            if (in[i] && (T - a[i]) / b[i] <= 0) in[i] = 0, dropped = 1;
        if (!dropped) break;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        used += in[i];
    if (used < 2) return 0;
    plan->count = 0;
    for (size_t i = 0; i < count; i++) {
        if (!in[i]) continue;
        plan->device[plan->count] = c[members[i]].device;
        plan->share[plan->count++] = (T - a[i]) / b[i] / n;
    }
    plan->predicted = T;
    return 1;
}

int weft_perf_out_of_reach(const weft_perf_candidate *pool, const weft_perf_candidate *dev,
                           double n)
{
    return dev->overhead + dev->transfer >
           WEFT_PERF_HOPELESS * (pool->overhead + n * pool->estimate);
}

/* The runner-up to best: measured at this size, allowed to be measured, and
 * predicted within `within` times its time, or resting on fewer
 * than `few` samples there (a first sample taken in a busy moment can be
 * 10x off); count when none. */
static size_t runner_up(const weft_perf_candidate *c, size_t count, const double *alone_s,
                        const enum weft_perf_basis *basis, size_t best, double n, double few,
                        double within)
{
    int k = weft_perf_class_of(n);
    size_t second = count;
    int second_few = 0;
    for (size_t i = 0; i < count; i++) {
        /* A device sharing the best's model (a twin) would measure the same
         * history again. */
        if (i == best || c[i].history == c[best].history || basis[i] != WEFT_PERF_EXACT ||
            !c[i].explore || isinf(alone_s[i]))
            continue;
        int is_few = c[i].history->cls[k].samples < few;
        if (!is_few && !(alone_s[i] <= within * alone_s[best])) continue;
        /* One resting on few samples first: the likeliest to be off. */
        if (second == count || is_few > second_few ||
            (is_few == second_few && alone_s[i] < alone_s[second])) {
            second = i;
            second_few = is_few;
        }
    }
    return second;
}

/* How far behind the best a settled runner-up may be predicted and still be
 * measured again at this call's periodic slot: WEFT_PERF_REMEASURE_WITHIN,
 * and at the slots of periods 1, 2, 4, 8 ... (counted in
 * WEFT_PERF_REMEASURE_EVERY calls) anything short of hopeless. Samples
 * taken while the machine was busy can leave a device settled at 1.6x
 * behind when it is even (n-body at 10^3, once in 9 runs): never measured
 * again, it never won its calls back. The doubling periods bound what
 * measuring a device that really is slower costs: two calls per doubling
 * of the calls made. */
static double remeasure_within(uint64_t calls)
{
    uint64_t period = calls / WEFT_PERF_REMEASURE_EVERY;
    return period && !(period & (period - 1)) ? WEFT_PERF_HOPELESS : WEFT_PERF_REMEASURE_WITHIN;
}

void weft_perf_choose(const weft_perf_candidate *c, size_t count, double n, weft_perf_plan *plan)
{
    weft_perf_choose_at(c, count, n, 0, plan);
}

void weft_perf_choose_at(const weft_perf_candidate *c, size_t count, double n, uint64_t calls,
                         weft_perf_plan *plan)
{
    weft_perf_plan_clear(plan);
    if (count > WEFT_PERF_MAX_CANDIDATES) count = WEFT_PERF_MAX_CANDIDATES;
    double best_measured = INFINITY;
    enum weft_perf_basis basis[WEFT_PERF_MAX_CANDIDATES];
    size_t pool = 0;
    while (pool < count && c[pool].device != 0)
        pool++;
    for (size_t i = 0; i < count; i++) {
        /* No prediction can bring it back: not asked for one. */
        if (pool < count && i != pool && weft_perf_out_of_reach(&c[pool], &c[i], n)) {
            basis[i] = WEFT_PERF_NONE;
            plan->alone[i] = INFINITY;
            continue;
        }
        double t = weft_perf_predict(c[i].history, n, c[i].overhead, &basis[i]);
        if (basis[i] == WEFT_PERF_NONE) t = c[i].overhead + n * c[i].estimate;
        plan->alone[i] = t + c[i].transfer + c[i].queued;
        if (basis[i] == WEFT_PERF_EXACT && plan->alone[i] < best_measured)
            best_measured = plan->alone[i];
    }
    /* Measure first: a device with no sample at this size runs the call
     * alone, unless sizes on both sides (or larger ones) say it is hopeless.
     * Extrapolating up from small pieces, where the launch dominates, is too
     * unsure to rule a device out. */
    for (size_t i = 0; i < count; i++) {
        if (basis[i] == WEFT_PERF_EXACT || !c[i].explore || isinf(plan->alone[i])) continue;
        int informed = basis[i] == WEFT_PERF_BETWEEN || basis[i] == WEFT_PERF_FROM_LARGER;
        if (informed && plan->alone[i] > WEFT_PERF_HOPELESS * best_measured) continue;
        /* What a call costs there however small (a launch and its finish)
         * already loses to a measured time: tiny work stays where it ran. */
        if (c[i].overhead + c[i].transfer >= best_measured) continue;
        alone(plan, c[i].device, plan->alone[i]);
        plan->exploring = 1;
        return;
    }
    size_t best = 0;
    for (size_t i = 1; i < count; i++)
        if (plan->alone[i] < plan->alone[best]) best = i;
    /* The incumbent, measured at this size, keeps a near-tie: means within
     * their noise would otherwise cross back and forth. */
    for (size_t i = 0; i < count; i++)
        if (c[i].incumbent && basis[i] == WEFT_PERF_EXACT &&
            plan->alone[i] <= WEFT_PERF_STICK * plan->alone[best])
            best = i;
    alone(plan, c[best].device, plan->alone[best]);
    /* Besides the periodic calls, a runner-up resting on one sample is
     * measured again on the size class's next calls: a context's first sample is the
     * likeliest to be off (a fresh output's page faults, a device's code
     * building in the background on the same cores: 556 ms for a map the
     * pool then ran in 14 ms), and waiting 15 calls for it cost seconds. */
    /* Two calls in a row: placement does not time the first, which runs in
     * the best's wake (its threads still spinning on shared cores). */
    int periodic = calls % WEFT_PERF_REMEASURE_EVERY >= WEFT_PERF_REMEASURE_EVERY - 2;
    if (periodic || (calls > 0 && calls < WEFT_PERF_REMEASURE_EVERY)) {
        /* At the periodic calls one resting on early samples only (fewer
         * than WEFT_PERF_SETTLE: the pool's first two n-body calls took 28
         * and 17 ms, its steady time is 1.6), in between one resting on a
         * single sample. */
        size_t second = runner_up(c, count, plan->alone, basis, best, n,
                                  periodic ? WEFT_PERF_SETTLE : 2, remeasure_within(calls));
        if (second < count && !periodic &&
            c[second].history->cls[weft_perf_class_of(n)].samples >= 2)
            second = count;
        if (second < count) {
            alone(plan, c[second].device, plan->alone[second]);
            plan->remeasuring = 1;
            return;
        }
    }
    /* The best of each group: devices sharing cores gain nothing together. */
    size_t reps[WEFT_PERF_MAX_CANDIDATES], nreps = 0;
    for (size_t i = 0; i < count; i++) {
        size_t r = 0;
        while (r < nreps && c[reps[r]].group != c[i].group)
            r++;
        if (r == nreps)
            reps[nreps++] = i;
        else if (plan->alone[i] < plan->alone[reps[r]])
            reps[r] = i;
    }
    if (nreps < 2) return;
    weft_perf_plan shared = *plan;
    if (split(c, reps, nreps, n, plan->alone, &shared) &&
        shared.predicted < WEFT_PERF_SPLIT_GAIN * plan->alone[best])
        *plan = shared;
}
