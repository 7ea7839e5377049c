/* k-means on 2-D points (Lloyd's iterations). Each point goes to its nearest
 * centre in plain C; the update, where the data-parallel work is, sums each
 * cluster's coordinates with weft_scatter_add and counts its points with
 * weft_bincount. Scatter-add adds in index order, as the plain loop does, so
 * the centres have the bits of kmeans_reference below on any devices. */
#include <weft.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nearest centre, ties to the lower index (so C and weft runs agree). */
static void kmeans_assign(size_t n, const double *x, const double *y, size_t k, const double *cx,
                          const double *cy, uint32_t *labels)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t best = 0;
        double best_d = INFINITY;
        for (size_t c = 0; c < k; c++) {
            double dx = x[i] - cx[c], dy = y[i] - cy[c];
            double d = dx * dx + dy * dy;
            if (d < best_d) {
                best_d = d;
                best = (uint32_t)c;
            }
        }
        labels[i] = best;
    }
}

/* An empty cluster keeps its centre: there is no mean to move it to. */
static void kmeans_move(size_t k, const double *sx, const double *sy, const uint32_t *counts,
                        double *cx, double *cy)
{
    for (size_t c = 0; c < k; c++)
        if (counts[c]) {
            cx[c] = sx[c] / counts[c];
            cy[c] = sy[c] / counts[c];
        }
}

/* The whole algorithm in plain C, the update as the loops scatter-add defines. */
static void kmeans_reference(size_t n, const double *x, const double *y, size_t k, int iterations,
                             double *cx, double *cy, uint32_t *labels)
{
    double *sx = malloc(k * sizeof *sx), *sy = malloc(k * sizeof *sy);
    uint32_t *counts = malloc(k * sizeof *counts);
    for (int it = 0; it < iterations && sx && sy && counts; it++) {
        kmeans_assign(n, x, y, k, cx, cy, labels);
        memset(sx, 0, k * sizeof *sx);
        memset(sy, 0, k * sizeof *sy);
        memset(counts, 0, k * sizeof *counts);
        for (size_t i = 0; i < n; i++) {
            sx[labels[i]] += x[i];
            sy[labels[i]] += y[i];
            counts[labels[i]]++;
        }
        kmeans_move(k, sx, sy, counts, cx, cy);
    }
    free(sx);
    free(sy);
    free(counts);
}

/* Runs `iterations` steps from the centres in cx, cy (updated in place);
 * labels gets the last assignment. */
static weft_status kmeans_run(weft_ctx *ctx, size_t n, const double *x, const double *y, size_t k,
                              int iterations, double *cx, double *cy, uint32_t *labels)
{
    weft_array *px = NULL, *py = NULL, *lab = NULL, *sx = NULL, *sy = NULL, *cnt = NULL;
    double *hsx = calloc(k, sizeof *hsx), *hsy = calloc(k, sizeof *hsy);
    uint32_t *hcnt = calloc(k, sizeof *hcnt);
    weft_status st = hsx && hsy && hcnt ? WEFT_OK : WEFT_ERR_NOMEM;
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F64, n, x, &px);
    if (st == WEFT_OK) st = weft_array_from(ctx, WEFT_F64, n, y, &py);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_U32, n, &lab);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_F64, k, &sx);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_F64, k, &sy);
    if (st == WEFT_OK) st = weft_array_create(ctx, WEFT_U32, k, &cnt);
    for (int it = 0; it < iterations && st == WEFT_OK; it++) {
        kmeans_assign(n, x, y, k, cx, cy, labels);
        memset(hsx, 0, k * sizeof *hsx); /* scatter-add adds to what out holds */
        st = weft_array_write(lab, 0, n, labels);
        if (st == WEFT_OK) st = weft_array_write(sx, 0, k, hsx);
        if (st == WEFT_OK) st = weft_array_write(sy, 0, k, hsx);
        if (st == WEFT_OK) st = weft_scatter_add(ctx, lab, px, sx, NULL);
        if (st == WEFT_OK) st = weft_scatter_add(ctx, lab, py, sy, NULL);
        if (st == WEFT_OK) st = weft_bincount(ctx, lab, NULL, cnt, NULL);
        if (st == WEFT_OK) st = weft_array_read(sx, 0, k, hsx);
        if (st == WEFT_OK) st = weft_array_read(sy, 0, k, hsy);
        if (st == WEFT_OK) st = weft_array_read(cnt, 0, k, hcnt);
        if (st == WEFT_OK) kmeans_move(k, hsx, hsy, hcnt, cx, cy);
    }
    weft_array *arrays[] = {px, py, lab, sx, sy, cnt};
    for (size_t a = 0; a < sizeof arrays / sizeof *arrays; a++)
        weft_array_free(arrays[a]);
    free(hsx);
    free(hsy);
    free(hcnt);
    return st;
}

/* Points around k centres on a circle, with a deterministic spread. */
static void kmeans_points(size_t n, size_t k, double *x, double *y)
{
    uint64_t state = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        double angle = 6.283185307179586 * (double)(i % k) / (double)k;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double jx = (double)(state & 0xffff) / 65536.0 - 0.5;
        double jy = (double)((state >> 16) & 0xffff) / 65536.0 - 0.5;
        x[i] = 4.0 * cos(angle) + jx;
        y[i] = 4.0 * sin(angle) + jy;
    }
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void)
{
    enum { N = 1 << 20, K = 8, ITERATIONS = 10 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    uint32_t *labels = malloc(N * sizeof *labels);
    double cx[K], cy[K];
    if (!x || !y || !labels) return 1;
    kmeans_points(N, K, x, y);
    for (int c = 0; c < K; c++) { /* the first K points, one per cluster */
        cx[c] = x[c];
        cy[c] = y[c];
    }
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = kmeans_run(ctx, N, x, y, K, ITERATIONS, cx, cy, labels);
    if (st != WEFT_OK)
        fprintf(stderr, "kmeans: %s\n", weft_last_error());
    else
        for (int c = 0; c < K; c++)
            printf("centre %d: (%.4f, %.4f)\n", c, cx[c], cy[c]);
    weft_ctx_free(ctx);
    free(x);
    free(y);
    free(labels);
    return st == WEFT_OK ? 0 : 1;
}
#endif
