/* History-based cost models, as StarPU's: for one operation on one device,
 * how long a piece of n elements took, kept per power-of-two size class
 * (the fastest of its first few samples, then running means over a bounded
 * window, each sample clipped at twice the mean, so a model follows a device
 * whose speed changes but not a moment of interference). A prediction reads the class of n, or
 * interpolates between the nearest classes measured. Choosing devices from predictions is here too,
 * as a pure function: the same histories give the same choice. No context, no locks, no files
 * (perf_store.c keeps models on disk, placement.c applies them to a context). */
#ifndef WEFT_PERF_MODEL_H
#define WEFT_PERF_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum {
    WEFT_PERF_CLASSES = 48,       /* size classes: n in [2^k, 2^(k+1)) */
    WEFT_PERF_WINDOW = 16,        /* a class's mean weighs at most this many samples */
    WEFT_PERF_SETTLE = 3,         /* a class's first samples: the fastest stands for them */
    WEFT_PERF_OUTLIER = 2,        /* then a sample counts as at most this many times the mean */
    WEFT_PERF_FRESH_WINDOW = 4,   /* a re-measurement's sample counts as one of this many */
    WEFT_PERF_MAX_CANDIDATES = 16 /* devices a plan may use */
};

typedef struct weft_perf_class {
    double samples; /* counted up to WEFT_PERF_WINDOW */
    double mean_n;  /* elements */
    double mean_s;  /* seconds */
} weft_perf_class;

typedef struct weft_perf_history {
    weft_perf_class cls[WEFT_PERF_CLASSES];
    /* Bit k: cls[k] has a sample. A prediction finds the nearest measured
     * classes from it at once, rather than scanning 48 classes of a device
     * never measured near n, twice a call. Kept by record, merge and load:
     * write classes through them. */
    uint64_t measured;
} weft_perf_history;

int weft_perf_class_of(double n);
void weft_perf_record(weft_perf_history *h, double n, double seconds);
/* A sample of a call that measured a runner-up again (weft_perf_choose_at):
 * its history is stale, so the sample weighs as one of
 * WEFT_PERF_FRESH_WINDOW, not of WEFT_PERF_WINDOW. A runner-up settled in a
 * busy moment (n-body's pool at 1.6x behind, the two even) otherwise needed
 * dozens of re-measurements, 16 calls apart, to climb back; weighting every
 * fast sample so instead predicted a device that varies at its fast end. */
void weft_perf_record_fresh(weft_perf_history *h, double n, double seconds);
/* 1 when n's own size class has a sample. */
int weft_perf_has(const weft_perf_history *h, double n);

/* How a prediction was made. */
enum weft_perf_basis {
    WEFT_PERF_NONE,         /* no sample at all: the caller's static estimate */
    WEFT_PERF_EXACT,        /* n's class */
    WEFT_PERF_BETWEEN,      /* interpolated between a smaller and a larger class */
    WEFT_PERF_FROM_SMALLER, /* extrapolated up from smaller pieces (least certain) */
    WEFT_PERF_FROM_LARGER   /* extrapolated down from larger pieces */
};

/* Seconds for n elements. overhead: what a call costs however small (a
 * launch), kept as the fixed part when a class's time is scaled to n. */
double weft_perf_predict(const weft_perf_history *h, double n, double overhead,
                         enum weft_perf_basis *basis);
/* Folds from into into (another process's file): per class, means weighted
 * by samples, counts capped at the window; from's time counts at most
 * WEFT_PERF_OUTLIER times into's, as a recorded sample would. */
void weft_perf_merge(weft_perf_history *into, const weft_perf_history *from);

/* A device that failed an operation is left out for a while, then tried
 * again: each failure doubles the wait (in calls of that operation), a
 * success forgets them. */
typedef struct weft_perf_health {
    unsigned failures;
    uint64_t retry_at; /* the operation's call count from which it is tried again */
} weft_perf_health;

void weft_perf_failed(weft_perf_health *h, uint64_t call);
void weft_perf_succeeded(weft_perf_health *h);
int weft_perf_usable(const weft_perf_health *h, uint64_t call);

/* One device the operation could run on. */
typedef struct weft_perf_candidate {
    size_t device;
    const weft_perf_history *history;
    double overhead; /* seconds a call costs however small (prior) */
    double estimate; /* seconds per element with no history (static estimate) */
    double transfer; /* seconds to bring the inputs there (residency's stale bytes) */
    double queued;   /* seconds of work already queued there */
    int group;       /* devices of one group share cores: splitting among them gains nothing */
    int explore;     /* 0: do not run it just to measure it (e.g. its code is not built yet) */
    int incumbent;   /* 1: the size class's last call placed by the model ran here alone */
} weft_perf_candidate;

typedef struct weft_perf_plan {
    size_t count;
    size_t device[WEFT_PERF_MAX_CANDIDATES];
    double share[WEFT_PERF_MAX_CANDIDATES]; /* fractions of n, summing to 1 */
    double predicted;                       /* seconds, the plan as a whole */
    int exploring;                          /* the call measures a device without history */
    int remeasuring; /* the call measures the runner-up again (WEFT_PERF_REMEASURE_EVERY) */
    /* Per candidate (in the order given): its predicted seconds alone. */
    double alone[WEFT_PERF_MAX_CANDIDATES];
} weft_perf_plan;

/* An empty plan (count 0, no flags). Its arrays are left as they were: a
 * plan is read up to its count (alone: up to the candidates'). Zeroing them
 * was 56 of the 1,000 instructions placement spent on a 1000-element call. */
void weft_perf_plan_clear(weft_perf_plan *plan);

/* Splits only pay when they finish this much sooner than the best device alone. */
#define WEFT_PERF_SPLIT_GAIN 0.9
/* A device predicted this many times slower than the best is not explored. */
#define WEFT_PERF_HOPELESS 3.0
/* Near-ties keep the incumbent: another device takes a size class over only
 * when predicted this many times faster than the device its last call ran
 * on. Two devices within the noise of their means (the stencil at 10^5: pool
 * and PoCL both 0.10-0.12 ms) otherwise traded the calls back and forth, each
 * move paying the other's cold caches and sleeping threads. At most
 * 1/WEFT_PERF_STICK of the best is given up (0.91x), by prediction. */
#define WEFT_PERF_STICK 1.1

/* A decision rests on few samples, and the first sample on a busy machine can
 * be far off: calls WEFT_PERF_REMEASURE_EVERY - 2 and - 1 of every
 * WEFT_PERF_REMEASURE_EVERY at a size class run on the runner-up instead
 * (two in a row: the first runs in the best's wake and is not timed), when
 * it is predicted within WEFT_PERF_REMEASURE_WITHIN of the best (within
 * WEFT_PERF_HOPELESS in periods 1, 2, 4, 8 ...) or has one
 * sample at that size (however slow it looked), so a device that looked
 * slower by chance gets measured again and wins back its calls. One with
 * one sample there is also measured again on the class's calls 1 to
 * WEFT_PERF_REMEASURE_EVERY - 3 (until it has two). */
#define WEFT_PERF_REMEASURE_EVERY 16
#define WEFT_PERF_REMEASURE_WITHIN 1.5

/* 1 when dev cannot win however its history reads: what a call costs it
 * however small (overhead and transfer) is past WEFT_PERF_HOPELESS times the
 * pool's prior for all n elements (its overhead and n at its estimate).
 * Tiny work never pays a launch, whatever one noisy sample of the pool's
 * said. weft_perf_choose never explores or picks such a device; placement
 * leaves it out before asking anything else of it (its model, whether it
 * runs the operation). */
int weft_perf_out_of_reach(const weft_perf_candidate *pool, const weft_perf_candidate *dev,
                           double n);

/* Deterministic given the candidates: first any device with no sample at
 * n's size class (in the order given, the pool first) runs the call alone,
 * unless the classes around predict it hopeless; then the plan of least
 * predicted completion time: the best device alone (the incumbent, measured
 * at this size, unless another is WEFT_PERF_STICK times faster), or shares
 * over devices of different groups that finish together. count >= 1. */
void weft_perf_choose(const weft_perf_candidate *c, size_t count, double n, weft_perf_plan *plan);
/* The same, for the operation's call number `calls` at n's size class
 * (counted from 0): calls REMEASURE_EVERY - 2 and - 1, 2 * REMEASURE_EVERY - 2 and - 1 ...
 * re-measure the runner-up. weft_perf_choose is call 0. */
void weft_perf_choose_at(const weft_perf_candidate *c, size_t count, double n, uint64_t calls,
                         weft_perf_plan *plan);

#endif
