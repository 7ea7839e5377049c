/* concurrent.futures for C functions: a small task graph. Two independent
 * loads run side by side, a weft_map on the device follows one of them, a C
 * task combines both, and the results are collected as they complete.
 *
 *   load_a ---> scale (weft_map, y = 2 * x) ---+
 *                                               +--> combine
 *   load_b -------------------------------------+
 */
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

enum { N = 100000 };

typedef struct graph {
    weft_array *a, *b;
    float host_b[N];
    double total;
} graph;

static weft_status load_a(void *user)
{
    graph *g = user;
    float *tmp = malloc(N * sizeof *tmp);
    if (!tmp) return WEFT_ERR_NOMEM;
    for (size_t i = 0; i < N; i++)
        tmp[i] = (float)(i % 100);
    weft_status st = weft_array_write(g->a, 0, N, tmp); /* a task may call weft */
    free(tmp);
    return st;
}

static weft_status load_b(void *user)
{
    graph *g = user;
    for (size_t i = 0; i < N; i++)
        g->host_b[i] = 1.0f;
    return WEFT_OK;
}

/* Runs after the map: reads its result and adds b. */
static weft_status combine(void *user)
{
    graph *g = user;
    float *y = malloc(N * sizeof *y);
    if (!y) return WEFT_ERR_NOMEM;
    weft_status st = weft_array_read(g->a, 0, N, y);
    double total = 0;
    for (size_t i = 0; st == WEFT_OK && i < N; i++)
        total += y[i] + g->host_b[i];
    g->total = total;
    free(y);
    return st;
}

int main(void)
{
    static graph g;
    weft_ctx *ctx = NULL;
    weft_future *fa = NULL, *fb = NULL, *scale = NULL, *done = NULL;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_F32, N, &g.a);
    if (st == WEFT_OK) st = weft_submit(ctx, load_a, &g, NULL, 0, &fa);
    if (st == WEFT_OK) st = weft_submit(ctx, load_b, &g, NULL, 0, &fb);
    /* The map waits for the load without blocking this thread (SYCL's
     * depends_on); the task after it takes the map's future. */
    if (st == WEFT_OK) st = weft_ctx_wait_for(ctx, &fa, 1);
    weft_bind bind = weft_bind_array("x", g.a);
    if (st == WEFT_OK) st = weft_map(ctx, "x = 2 * x", &bind, 1, &scale);
    weft_future *after[2] = {scale, fb};
    if (st == WEFT_OK) st = weft_submit(ctx, combine, &g, after, 2, &done);
    /* as_completed: report each step as it finishes. */
    weft_future *pending[3] = {fb, scale, done};
    const char *names[3] = {"load_b", "scale", "combine"};
    size_t left = st == WEFT_OK ? 3 : 0;
    while (left > 0 && st == WEFT_OK) {
        size_t i = 0;
        st = weft_future_wait_any(pending, left, &i);
        if (st == WEFT_OK) printf("%s done\n", names[i]);
        pending[i] = pending[left - 1];
        names[i] = names[left - 1];
        left--;
    }
    if (st != WEFT_OK)
        fprintf(stderr, "task_graph: %s: %s\n", weft_status_str(st), weft_last_error());
    /* Expected: sum of 2 * (i % 100) + 1 over N elements. */
    double expected = 0;
    for (size_t i = 0; i < N; i++)
        expected += 2.0 * (double)(i % 100) + 1.0;
    if (st == WEFT_OK) printf("total %.0f (expected %.0f)\n", g.total, expected);
    weft_future_release(fa);
    weft_future_release(fb);
    weft_future_release(scale);
    weft_future_release(done);
    weft_array_free(g.a);
    weft_ctx_free(ctx);
    return st == WEFT_OK && g.total == expected ? 0 : 1;
}
