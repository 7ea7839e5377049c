/* C functions on the pool: weft_parallel_for against a single-threaded loop,
 * the cost of an empty submitted task, and a random task graph against the
 * same graph run serially. Each figure is the median of REPS runs.
 * Usage: bench_tasks [reps] (default 7). WEFT_DEVICES etc. apply as usual. */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, compare);
    return t[n / 2];
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        weft_status st_ = (call);                                                                  \
        if (st_ != WEFT_OK) {                                                                      \
            fprintf(stderr, "%s: %s\n", #call, weft_last_error());                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* ---- compute-bound map ---- */

static uint32_t collatz(uint64_t v)
{
    uint32_t steps = 0;
    for (; v > 1; steps++)
        v = v & 1 ? 3 * v + 1 : v / 2;
    return steps;
}

static void collatz_range(void *user, size_t begin, size_t end)
{
    uint32_t *out = user;
    for (size_t i = begin; i < end; i++)
        out[i] = collatz(i + 1);
}

/* The ceiling: two plain threads, each taking every other element. */
typedef struct split_half {
    uint32_t *out;
    size_t n, first;
} split_half;

static void *collatz_half(void *arg)
{
    split_half *h = arg;
    for (size_t i = h->first; i < h->n; i += 2)
        h->out[i] = collatz(i + 1);
    return NULL;
}

static double two_threads(uint32_t *out, size_t n)
{
    split_half a = {out, n, 0}, b = {out, n, 1};
    pthread_t t;
    double t0 = now();
    if (pthread_create(&t, NULL, collatz_half, &b) != 0) return 0;
    collatz_half(&a);
    pthread_join(t, NULL);
    return now() - t0;
}

static void noop_range(void *user, size_t begin, size_t end)
{
    volatile size_t *sink = user;
    *sink = begin + end;
}

static weft_status empty_task(void *user)
{
    (void)user;
    return WEFT_OK;
}

/* ---- random graph ---- */

enum { GRAPH_N = 1000, MAX_DEPS = 4 };

typedef struct node {
    int ndeps, deps[MAX_DEPS];
    uint64_t seed, value;
    struct node *all;
} node;

/* About 20 us of integer work, seeded by the dependencies' values. */
static weft_status node_run(void *user)
{
    node *n = user;
    uint64_t v = n->seed;
    for (int d = 0; d < n->ndeps; d++)
        v ^= n->all[n->deps[d]].value;
    for (int k = 0; k < 100; k++)
        v += collatz((v % 100000) + 1);
    n->value = v;
    return WEFT_OK;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > 99) reps = 7;
    weft_ctx *ctx = NULL;
    CHECK(weft_ctx_create(NULL, &ctx));
    int threads = 0;
    CHECK(weft_ctx_num_threads(ctx, &threads));
    double t[99], u[99];

    /* 1. parallel_for of a compute-bound function vs a plain loop */
    const size_t n = 1000000;
    uint32_t *out = malloc(n * sizeof *out);
    double cpu = 0, wall = 0, v[99];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        collatz_range(out, 0, n);
        t[r] = now() - t0;
        v[r] = two_threads(out, n);
        t0 = now();
        double c0 = cpu_seconds();
        CHECK(weft_parallel_for(ctx, n, 0, collatz_range, out, NULL));
        u[r] = now() - t0;
        cpu += cpu_seconds() - c0;
        wall += u[r];
    }
    double loop = median(t, reps), par = median(u, reps), raw = median(v, reps);
    /* CPU time over wall time: how many threads worked, whatever the
     * neighbours on a shared machine left them. */
    printf("parallel_for collatz n=%zu threads=%d: loop %.2f ms, weft %.2f ms, speed-up %.2fx "
           "(weft cpu/wall %.2f); two plain pthreads %.2f ms, %.2fx\n",
           n, threads, loop * 1e3, par * 1e3, loop / par, cpu / wall, raw * 1e3, loop / raw);

    /* 2. small work: a parallel_for over 16 elements vs calling fn directly */
    volatile size_t sink = 0;
    enum { CALLS = 200000 };
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int c = 0; c < CALLS; c++)
            noop_range((void *)&sink, 0, 16);
        t[r] = (now() - t0) / CALLS;
        t0 = now();
        for (int c = 0; c < CALLS; c++)
            weft_parallel_for(ctx, 16, 0, noop_range, (void *)&sink, NULL);
        u[r] = (now() - t0) / CALLS;
    }
    double direct = median(t, reps), small = median(u, reps);
    printf("parallel_for n=16, empty fn: direct %.3f us, weft %.3f us, extra %.3f us per call\n",
           direct * 1e6, small * 1e6, (small - direct) * 1e6);

    /* 3. 10,000 empty tasks: submit, wait for all, release */
    enum { TASKS = 10000 };
    weft_future **f = malloc(TASKS * sizeof *f);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < TASKS; i++)
            CHECK(weft_submit(ctx, empty_task, NULL, NULL, 0, &f[i]));
        CHECK(weft_future_wait_all(f, TASKS));
        for (int i = 0; i < TASKS; i++)
            weft_future_release(f[i]);
        t[r] = (now() - t0) / TASKS;
    }
    printf("%d empty tasks (submit + wait_all + release): %.3f us per task\n", TASKS,
           median(t, reps) * 1e6);

    /* 4. a random graph of 1,000 tasks vs the same graph in a serial loop */
    node *g = calloc(GRAPH_N, sizeof *g);
    uint64_t rng = 42;
    for (int i = 0; i < GRAPH_N; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        g[i].all = g;
        g[i].seed = rng >> 20;
        g[i].ndeps = i == 0 ? 0 : (int)((rng >> 33) % (MAX_DEPS + 1));
        for (int d = 0; d < g[i].ndeps; d++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly recent tasks: a graph with both chains and width */
            int back = 1 + (int)((rng >> 33) % 50);
            g[i].deps[d] = i - back < 0 ? 0 : i - back;
        }
    }
    uint64_t serial_check = 0, graph_check = 0;
    cpu = wall = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < GRAPH_N; i++)
            node_run(&g[i]);
        t[r] = now() - t0;
        serial_check = g[GRAPH_N - 1].value;
        t0 = now();
        double c0 = cpu_seconds();
        for (int i = 0; i < GRAPH_N; i++) {
            weft_future *after[MAX_DEPS];
            for (int d = 0; d < g[i].ndeps; d++)
                after[d] = f[g[i].deps[d]];
            CHECK(weft_submit(ctx, node_run, &g[i], after, (size_t)g[i].ndeps, &f[i]));
        }
        CHECK(weft_future_wait_all(f, GRAPH_N));
        u[r] = now() - t0;
        cpu += cpu_seconds() - c0;
        wall += u[r];
        for (int i = 0; i < GRAPH_N; i++)
            weft_future_release(f[i]);
        graph_check = g[GRAPH_N - 1].value;
    }
    double serial = median(t, reps), graph = median(u, reps);
    printf("graph of %d tasks (<= %d deps each): serial %.2f ms, weft %.2f ms, speed-up %.2fx "
           "(weft cpu/wall %.2f)%s\n",
           GRAPH_N, MAX_DEPS, serial * 1e3, graph * 1e3, serial / graph, cpu / wall,
           serial_check == graph_check ? "" : " (RESULTS DIFFER)");
    free(g);
    free(f);
    free(out);
    weft_ctx_free(ctx);
    return serial_check == graph_check ? 0 : 1;
}
