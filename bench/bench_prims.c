/* The data primitives (docs/primitives.md) against plain single-threaded C:
 * sort (qsort, and a plain one-thread LSD radix as the fair baseline),
 * histogram, scatter-add, random and filter. Medians of R runs.
 *   bench_prims [n] [runs]        (WEFT_DEVICES=host for the pool alone)
 *   bench_prims n runs scan       weft_scan (SUM, inclusive) on f32 f64 i32
 *                                 i64, on the pool and on device 1 alone */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weft.h>
#include <weft_random.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        weft_status s_ = (x);                                                                      \
        if (s_ != WEFT_OK) {                                                                       \
            fprintf(stderr, "%s: %s\n", #x, weft_last_error());                                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int cmp_f32(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* One-thread LSD radix sort of f32 keys (no NaN handling): the baseline. */
static void radix_f32(float *x, size_t n, uint32_t *tmp)
{
    uint32_t *k = (uint32_t *)x;
    for (size_t i = 0; i < n; i++)
        k[i] = (k[i] & 0x80000000u) ? ~k[i] : k[i] | 0x80000000u;
    for (int d = 0; d < 4; d++) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(k[i] >> (8 * d)) & 255]++;
        size_t at = 0;
        for (int v = 0; v < 256; v++) {
            size_t c = count[v];
            count[v] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(k[i] >> (8 * d)) & 255]++] = k[i];
        memcpy(k, tmp, n * 4);
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (k[i] & 0x80000000u) ? k[i] ^ 0x80000000u : ~k[i];
}

static void load(weft_array *a, const float *x, weft_array *b, const float *v, size_t n)
{
    CHECK(weft_array_write(a, 0, n, x));
    if (b) CHECK(weft_array_write(b, 0, n, v));
}

static double median(double *t, int r)
{
    qsort(t, (size_t)r, sizeof *t, bench_cmp_double);
    return t[r / 2];
}

#define TIME(label, base_ms, setup_stmt, body)                                                     \
    do {                                                                                           \
        double t_[64];                                                                             \
        for (int r_ = 0; r_ < runs; r_++) {                                                        \
            setup_stmt;                                                                            \
            double t0_ = bench_now();                                                              \
            body;                                                                                  \
            t_[r_] = bench_now() - t0_;                                                            \
        }                                                                                          \
        double m_ = median(t_, runs) * 1e3;                                                        \
        if ((base_ms) > 0)                                                                         \
            printf("%-34s %9.2f ms  (%.2fx the plain loop)\n", label, m_, (base_ms) / m_);         \
        else                                                                                       \
            printf("%-34s %9.2f ms\n", label, m_);                                                 \
        last_ms = m_;                                                                              \
    } while (0)

/* The plain loops a user would write: f32 accumulates in double as
 * weft_scan does, integers wrap in their own width. */
static void plain_scan(weft_dtype t, size_t n, const void *x, void *y)
{
    if (t == WEFT_F32) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            ((float *)y)[i] = (float)(s += ((const float *)x)[i]);
    } else if (t == WEFT_F64) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            ((double *)y)[i] = s += ((const double *)x)[i];
    } else if (t == WEFT_I32) {
        uint32_t s = 0;
        for (size_t i = 0; i < n; i++)
            ((int32_t *)y)[i] = (int32_t)(s += (uint32_t)((const int32_t *)x)[i]);
    } else {
        uint64_t s = 0;
        for (size_t i = 0; i < n; i++)
            ((uint64_t *)y)[i] = s += ((const uint64_t *)x)[i];
    }
}

/* Each dtype: the plain loop, then weft_scan placed on the pool and on
 * device 1 (when there is one), checked against the loop's bits. */
static int bench_scans(weft_ctx *ctx, size_t n, int runs)
{
    static const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_I64};
    size_t ndev = 0;
    weft_device_count(ctx, &ndev);
    void *x = malloc(n * 8), *y = malloc(n * 8), *want = malloc(n * 8);
    if (!x || !y || !want) return 1;
    double base;
    for (int d = 0; d < 4; d++) {
        weft_dtype t = types[d];
        size_t size = t == WEFT_F32 || t == WEFT_I32 ? 4 : 8;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = weft_rng_u32_at(9, i);
            if (t == WEFT_F32) ((float *)x)[i] = weft_rng_uniform_f32(r) - 0.5f;
            if (t == WEFT_F64) ((double *)x)[i] = weft_rng_uniform_f32(r) - 0.5;
            if (t == WEFT_I32) ((int32_t *)x)[i] = (int32_t)r;
            if (t == WEFT_I64) ((int64_t *)x)[i] = (int64_t)r - 2147483648;
        }
        weft_array *a, *b;
        CHECK(weft_array_from(ctx, t, n, x, &a));
        CHECK(weft_array_create(ctx, t, n, &b));
        /* the loop and each placement in turn within every run, so that a
         * busy moment of the machine falls on all of them alike */
        size_t places = ndev > 1 ? 2 : 1;
        double times[3][64];
        int differs[2] = {0, 0};
        for (int r = 0; r < runs; r++) {
            double t0 = bench_now();
            plain_scan(t, n, x, want);
            times[0][r] = bench_now() - t0;
            for (size_t where = 0; where < places; where++) {
                uint64_t mask = where ? WEFT_PLACE_DEVICE(1) : WEFT_PLACE_HOST;
                CHECK(weft_ctx_place(ctx, "scan totals", mask));
                CHECK(weft_ctx_place(ctx, "scan apply", mask));
                t0 = bench_now();
                CHECK(weft_scan(ctx, WEFT_SUM, 0, a, b, NULL));
                times[1 + where][r] = bench_now() - t0;
                CHECK(weft_array_read(b, 0, n, y));
                differs[where] |= memcmp(y, want, n * size) != 0;
            }
        }
        base = median(times[0], runs) * 1e3;
        double bytes = 2.0 * (double)(n * size);
        printf("scan %s: plain loop                %9.2f ms  %6.2f GB/s\n", weft_dtype_name(t),
               base, bytes / base / 1e6);
        for (size_t where = 0; where < places; where++) {
            double ms = median(times[1 + where], runs) * 1e3;
            printf("scan %s: weft_scan, %-8s       %9.2f ms  %6.2f GB/s  (%.2fx the plain loop)%s\n",
                   weft_dtype_name(t), where ? "device 1" : "pool", ms, bytes / ms / 1e6, base / ms,
                   differs[where] ? "  DIFFERS from the plain loop" : "");
        }
        weft_array_free(a);
        weft_array_free(b);
    }
    free(x);
    free(y);
    free(want);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)1 << 22;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 64) runs = 5;
    weft_ctx *ctx;
    CHECK(weft_ctx_create(NULL, &ctx));
    int threads = 0;
    weft_ctx_num_threads(ctx, &threads);
    printf("n = %zu, %d runs, median; pool of %d threads\n", n, runs, threads);
    if (argc > 3 && !strcmp(argv[3], "scan")) {
        int rc = bench_scans(ctx, n, runs);
        weft_ctx_free(ctx);
        return rc;
    }
    float *x = malloc(n * 4), *y = malloc(n * 4), *v = malloc(n * 4);
    uint32_t *tmp = malloc(n * 4), *idx = malloc(n * 4), *hist = calloc(1000, 4);
    for (size_t i = 0; i < n; i++) {
        x[i] = weft_rng_uniform_f32(weft_rng_u32_at(1, i)) * 2 - 1;
        idx[i] = weft_rng_u32_at(2, i) % 1000;
        v[i] = weft_rng_uniform_f32(weft_rng_u32_at(3, i));
    }
    weft_array *a, *b, *ia, *va, *oa, *ca;
    CHECK(weft_array_create(ctx, WEFT_F32, n, &a));
    CHECK(weft_array_create(ctx, WEFT_F32, n, &b));
    CHECK(weft_array_from(ctx, WEFT_U32, n, idx, &ia));
    CHECK(weft_array_from(ctx, WEFT_F32, n, v, &va));
    CHECK(weft_array_create(ctx, WEFT_F32, 1000, &oa));
    CHECK(weft_array_create(ctx, WEFT_U64, 1000, &ca));
    double last_ms = 0, base;

    TIME("sort f32: qsort", 0, memcpy(y, x, n * 4), qsort(y, n, 4, cmp_f32));
    TIME("sort f32: plain radix, 1 thread", 0, memcpy(y, x, n * 4), radix_f32(y, n, tmp));
    base = last_ms;
    TIME("sort f32: weft_sort", base, load(a, x, NULL, NULL, n),
         CHECK(weft_sort(ctx, a, NULL, 0, NULL)));
    TIME("sort f32 + f32 values: weft_sort", 0, load(a, x, b, v, n),
         CHECK(weft_sort(ctx, a, b, 0, NULL)));
    weft_array *perm;
    CHECK(weft_array_create(ctx, WEFT_U32, n, &perm));
    TIME("argsort f32: weft_argsort", 0, (void)0, CHECK(weft_argsort(ctx, a, perm, 0, NULL)));

    TIME("histogram 1000 bins: plain loop", 0, memset(hist, 0, 4000), {
        for (size_t i = 0; i < n; i++) {
            double f = ((double)x[i] + 1.0) * 500.0;
            if (x[i] >= -1.0f && x[i] < 1.0f) hist[(size_t)f < 1000 ? (size_t)f : 999]++;
        }
    });
    base = last_ms;
    CHECK(weft_array_write(a, 0, n, x));
    TIME("histogram 1000 bins: weft_histogram", base, (void)0,
         CHECK(weft_histogram(ctx, a, -1.0, 1.0, ca, NULL)));

    float out[1000];
    TIME("scatter_add 1000 bins: plain loop", 0, memset(out, 0, sizeof out), {
        for (size_t i = 0; i < n; i++)
            out[idx[i]] += v[i];
    });
    base = last_ms;
    printf("  (checksum %g)\n", (double)out[0] + out[999]);
    TIME("scatter_add 1000 bins: weft", base, (void)0,
         CHECK(weft_scatter_add(ctx, ia, va, oa, NULL)));

    TIME("random f32 uniform: plain loop", 0, (void)0, {
        for (size_t i = 0; i < n; i++)
            y[i] = weft_rng_uniform_f32(weft_rng_u32_at(7, i));
    });
    base = last_ms;
    TIME("random f32 uniform: weft_random", base, (void)0,
         CHECK(weft_random(ctx, a, WEFT_UNIFORM, 7, 0, NULL)));
    TIME("random f32 normal: weft_random", 0, (void)0,
         CHECK(weft_random(ctx, a, WEFT_NORMAL, 7, 0, NULL)));

    size_t kept = 0;
    CHECK(weft_array_write(a, 0, n, x));
    TIME("filter x > 0: plain loop", 0, kept = 0, {
        for (size_t i = 0; i < n; i++)
            if (x[i] > 0) y[kept++] = x[i];
    });
    base = last_ms;
    weft_bind bind = weft_bind_array("x", a);
    TIME("filter x > 0: weft_filter", base, (void)0,
         CHECK(weft_filter(ctx, "x > 0", &bind, 1, &a, &b, 1, &kept, NULL)));

    weft_array *arrays[] = {a, b, ia, va, oa, ca, perm};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        weft_array_free(arrays[i]);
    weft_ctx_free(ctx);
    free(x);
    free(y);
    free(v);
    free(tmp);
    free(idx);
    free(hist);
    return 0;
}
