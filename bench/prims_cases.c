/* The cases of prims_cases.h. Inputs come from weft's own generator (so
 * every run sees the same data): x uniform in [-1, 1), v in [0, 1), idx in
 * [0, 1000), keys all 32 bits. */
#define _POSIX_C_SOURCE 200809L
#include "prims_cases.h"
#include "bench_clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weft_random.h>

enum { BINS_SMALL = 256, BINS_LARGE = 65536, IDX_RANGE = 1000, MAX_RUNS = 64 };

typedef struct data {
    weft_ctx *ctx;
    size_t n, rows, ndev;
    float *x, *v, *y;
    uint32_t *idx, *keys, *tmp, *perm, *out_u32, *gkeys;
    uint64_t *keys64, *out64, *tmp64;
    double *sums;
    uint64_t *counts, *want_counts;
    float *gvals;
    weft_array *xa, *ya, *va, *ia, *ka, *pa, *ca_small, *ca_large, *ba, *sa, *fa, *k64a, *wa;
    weft_array *gka, *gva, *gok, *gov;
    size_t kept, groups;
    float out[IDX_RANGE], want_out[IDX_RANGE];
    unsigned char present[IDX_RANGE]; /* the group-by keys that occur */
} data;

/* ---- the plain loops ---- */

/* One-thread LSD radix sort of 4- or 8-byte unsigned keys, carrying u32
 * values when given: the fair plain baseline of a sort. */
static uint64_t key_at(const void *k, int wide, size_t i)
{
    return wide ? ((const uint64_t *)k)[i] : ((const uint32_t *)k)[i];
}

static void radix_sort(void *k, int wide, uint32_t *vals, size_t n, void *tmp, uint32_t *tmpv)
{
    size_t size = wide ? 8 : 4;
    for (int d = 0; d < (int)size; d++) {
        size_t count[256] = {0}, at = 0;
        for (size_t i = 0; i < n; i++)
            count[(key_at(k, wide, i) >> (8 * d)) & 255]++;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t key = key_at(k, wide, i);
            size_t to = count[(key >> (8 * d)) & 255]++;
            if (wide)
                ((uint64_t *)tmp)[to] = key;
            else
                ((uint32_t *)tmp)[to] = (uint32_t)key;
            if (vals) tmpv[to] = vals[i];
        }
        memcpy(k, tmp, n * size);
        if (vals) memcpy(vals, tmpv, n * 4);
    }
}

/* Floats as unsigned keys in their order (no NaN here), and back. */
static void float_keys(uint32_t *k, size_t n, int back)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = k[i];
        if (back)
            k[i] = (u & 0x80000000u) ? u ^ 0x80000000u : ~u;
        else
            k[i] = (u & 0x80000000u) ? ~u : u | 0x80000000u;
    }
}

static void histogram_loop(const float *x, size_t n, uint64_t *counts, size_t bins)
{
    memset(counts, 0, bins * sizeof *counts);
    double scale = (double)bins / 2.0;
    for (size_t i = 0; i < n; i++)
        if (x[i] >= -1.0f && x[i] < 1.0f) {
            size_t b = (size_t)(((double)x[i] + 1.0) * scale);
            counts[b < bins ? b : bins - 1]++;
        }
}

/* f32 accumulates in double as weft_scan does; integers wrap in their width. */
void prims_plain_scan(weft_dtype t, size_t n, const void *x, void *y);
void prims_plain_scan(weft_dtype t, size_t n, const void *x, void *y)
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

/* ---- the cases: loop, weft call, what is set up before each (untimed),
 * and whether the results agree ---- */

typedef struct prims_case {
    const char *name, *loop;
    void (*prep)(data *d); /* before each weft call; NULL: nothing */
    void (*run_loop)(data *d);
    weft_status (*run_weft)(data *d);
    int (*same)(data *d); /* NULL: not compared */
    int group;            /* counts rows, not n */
} prims_case;

/* In the comparisons: a read that fails is 2 (not 0, "differs"). */
#define READ(x)                                                                                    \
    do {                                                                                           \
        if ((x) != WEFT_OK) return 2;                                                              \
    } while (0)

static void prep_keys(data *d)
{
    weft_array_write(d->ka, 0, d->n, d->keys);
}

static void prep_floats(data *d)
{
    weft_array_write(d->fa, 0, d->n, d->x);
}

static void prep_keys64(data *d)
{
    weft_array_write(d->k64a, 0, d->n, d->keys64);
}

/* keys with their positions as values (the pairs sort) */
static void prep_pairs(data *d)
{
    prep_keys(d);
    for (size_t i = 0; i < d->n; i++)
        d->tmp[i] = (uint32_t)i; /* d->perm holds the loop's result */
    weft_array_write(d->wa, 0, d->n, d->tmp);
}

static void loop_sort(data *d)
{
    memcpy(d->out_u32, d->keys, d->n * 4);
    radix_sort(d->out_u32, 0, NULL, d->n, d->tmp, NULL);
}

static void loop_sort_f32(data *d)
{
    memcpy(d->out_u32, d->x, d->n * 4);
    float_keys(d->out_u32, d->n, 0);
    radix_sort(d->out_u32, 0, NULL, d->n, d->tmp, NULL);
    float_keys(d->out_u32, d->n, 1);
}

static void loop_sort_u64(data *d)
{
    memcpy(d->out64, d->keys64, d->n * 8);
    radix_sort(d->out64, 1, NULL, d->n, d->tmp64, NULL);
}

static void loop_argsort(data *d)
{
    memcpy(d->out_u32, d->keys, d->n * 4);
    for (size_t i = 0; i < d->n; i++)
        d->perm[i] = (uint32_t)i;
    radix_sort(d->out_u32, 0, d->perm, d->n, d->tmp, (uint32_t *)d->y);
}

static weft_status weft_sort_keys(data *d)
{
    return weft_sort(d->ctx, d->ka, NULL, 0, NULL);
}

static weft_status weft_sort_f32(data *d)
{
    return weft_sort(d->ctx, d->fa, NULL, 0, NULL);
}

static weft_status weft_sort_u64(data *d)
{
    return weft_sort(d->ctx, d->k64a, NULL, 0, NULL);
}

static weft_status weft_sort_pairs(data *d)
{
    return weft_sort(d->ctx, d->ka, d->wa, 0, NULL);
}

static weft_status weft_argsort_keys(data *d)
{
    return weft_argsort(d->ctx, d->ka, d->pa, 0, NULL);
}

static int same_u32(data *d, weft_array *a, const uint32_t *want)
{
    READ(weft_array_read(a, 0, d->n, d->tmp));
    return !memcmp(d->tmp, want, d->n * 4);
}

static int same_sort(data *d)
{
    return same_u32(d, d->ka, d->out_u32);
}

static int same_sort_f32(data *d)
{
    return same_u32(d, d->fa, d->out_u32);
}

static int same_sort_u64(data *d)
{
    READ(weft_array_read(d->k64a, 0, d->n, d->tmp64));
    return !memcmp(d->tmp64, d->out64, d->n * 8);
}

static int same_pairs(data *d)
{
    return same_sort(d) == 1 && same_u32(d, d->wa, d->perm) == 1;
}

static int same_argsort(data *d)
{
    return same_u32(d, d->pa, d->perm);
}

static void loop_hist_small(data *d)
{
    histogram_loop(d->x, d->n, d->want_counts, BINS_SMALL);
}

static void loop_hist_large(data *d)
{
    histogram_loop(d->x, d->n, d->want_counts, BINS_LARGE);
}

static weft_status weft_hist_small(data *d)
{
    return weft_histogram(d->ctx, d->xa, -1.0, 1.0, d->ca_small, NULL);
}

static weft_status weft_hist_large(data *d)
{
    return weft_histogram(d->ctx, d->xa, -1.0, 1.0, d->ca_large, NULL);
}

static int same_counts(data *d, weft_array *a, size_t bins)
{
    READ(weft_array_read(a, 0, bins, d->counts));
    return !memcmp(d->counts, d->want_counts, bins * 8);
}

static int same_hist_small(data *d)
{
    return same_counts(d, d->ca_small, BINS_SMALL);
}

static int same_hist_large(data *d)
{
    return same_counts(d, d->ca_large, BINS_LARGE);
}

static void loop_bincount(data *d)
{
    memset(d->want_counts, 0, IDX_RANGE * 8);
    for (size_t i = 0; i < d->n; i++)
        d->want_counts[d->idx[i]]++;
}

static weft_status weft_bincount_idx(data *d)
{
    return weft_bincount(d->ctx, d->ia, NULL, d->ba, NULL);
}

static int same_bincount(data *d)
{
    return same_counts(d, d->ba, IDX_RANGE);
}

static void prep_out(data *d)
{
    memset(d->out, 0, sizeof d->out);
    weft_array_write(d->sa, 0, IDX_RANGE, d->out);
}

static void loop_scatter(data *d)
{
    memset(d->want_out, 0, sizeof d->want_out);
    for (size_t i = 0; i < d->n; i++)
        d->want_out[d->idx[i]] += d->v[i];
}

static weft_status weft_scatter(data *d)
{
    return weft_scatter_add(d->ctx, d->ia, d->va, d->sa, NULL);
}

static int same_scatter(data *d)
{
    READ(weft_array_read(d->sa, 0, IDX_RANGE, d->out));
    return !memcmp(d->out, d->want_out, sizeof d->out);
}

static void loop_random(data *d)
{
    for (size_t i = 0; i < d->n; i++)
        d->y[i] = weft_rng_uniform_f32(weft_rng_u32_at(7, i));
}

static weft_status weft_random_uniform(data *d)
{
    return weft_random(d->ctx, d->ya, WEFT_UNIFORM, 7, 0, NULL);
}

static void loop_filter(data *d)
{
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->x[i] > 0) d->y[kept++] = d->x[i];
    d->kept = kept;
}

static weft_status weft_filter_positive(data *d)
{
    weft_bind bind = weft_bind_array("x", d->xa);
    size_t kept = 0;
    weft_status st = weft_filter(d->ctx, "x > 0", &bind, 1, &d->xa, &d->ya, 1, &kept, NULL);
    d->groups = kept; /* compared below */
    return st;
}

static int same_filter(data *d)
{
    float *got = (float *)d->tmp;
    if (d->groups != d->kept) return 0;
    READ(weft_array_read(d->ya, 0, d->kept, got));
    return !memcmp(got, d->y, d->kept * 4);
}

/* The loop knows the keys are below 1000: a dense table, no hashing. */
static void loop_group(data *d)
{
    memset(d->sums, 0, IDX_RANGE * sizeof *d->sums);
    for (size_t i = 0; i < d->rows; i++)
        d->sums[d->gkeys[i]] += d->gvals[i];
}

static weft_status weft_group_sum(data *d)
{
    return weft_group_by(d->ctx, WEFT_SUM, d->gka, d->gva, d->gok, d->gov, &d->groups, NULL);
}

/* Groups in ascending key order: the keys that occur, with the loop's sums. */
static int same_group(data *d)
{
    float got[IDX_RANGE];
    uint32_t keys[IDX_RANGE];
    size_t groups = 0;
    for (size_t k = 0; k < IDX_RANGE; k++)
        groups += d->present[k];
    if (d->groups != groups) return 0;
    READ(weft_array_read(d->gok, 0, groups, keys));
    READ(weft_array_read(d->gov, 0, groups, got));
    for (size_t g = 0, k = 0; k < IDX_RANGE; k++) {
        if (!d->present[k]) continue;
        if (keys[g] != k || got[g] != (float)d->sums[k]) return 0;
        g++;
    }
    return 1;
}

static const prims_case cases[] = {
    {"sort u32", "one-thread LSD radix", prep_keys, loop_sort, weft_sort_keys, same_sort, 0},
    {"sort f32", "one-thread LSD radix", prep_floats, loop_sort_f32, weft_sort_f32, same_sort_f32,
     0},
    {"sort u64", "one-thread LSD radix", prep_keys64, loop_sort_u64, weft_sort_u64, same_sort_u64,
     0},
    {"sort u32 + u32 values", "one-thread LSD radix of (key, value)", prep_pairs, loop_argsort,
     weft_sort_pairs, same_pairs, 0},
    {"argsort u32", "one-thread LSD radix of (key, index)", prep_keys, loop_argsort,
     weft_argsort_keys, same_argsort, 0},
    {"histogram 256 bins f32", "counting loop", NULL, loop_hist_small, weft_hist_small,
     same_hist_small, 0},
    {"histogram 65536 bins f32", "counting loop", NULL, loop_hist_large, weft_hist_large,
     same_hist_large, 0},
    {"bincount 1000 u32", "counting loop", NULL, loop_bincount, weft_bincount_idx, same_bincount,
     0},
    {"scatter_add 1000 f32", "out[idx[i]] += v[i]", prep_out, loop_scatter, weft_scatter,
     same_scatter, 0},
    {"random uniform f32", "per-element Philox", NULL, loop_random, weft_random_uniform, NULL, 0},
    {"filter x > 0 f32", "if (x > 0) y[k++] = x", NULL, loop_filter, weft_filter_positive,
     same_filter, 0},
    {"group_by sum 1000 keys f32", "dense table sums[key] += v", NULL, loop_group, weft_group_sum,
     same_group, 1},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* ---- running them ---- */

static double median(double *t, int r)
{
    qsort(t, (size_t)r, sizeof *t, bench_cmp_double);
    return t[r / 2];
}

static int failed(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, weft_last_error());
    return 1;
}

/* One case: loop and weft call alternating, medians of runs. */
static int run_case(data *d, const prims_case *c, int runs, prims_emit emit, void *arg)
{
    double tl[MAX_RUNS], tw[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        c->run_loop(d);
        tl[r] = bench_now() - t0;
        if (c->prep) c->prep(d);
        t0 = bench_now();
        if (c->run_weft(d) != WEFT_OK) return failed(c->name);
        tw[r] = bench_now() - t0;
    }
    int same = c->same ? c->same(d) : -1;
    if (same > 1) return failed(c->name); /* a read failed */
    prims_row row = {
        c->name, c->loop, c->group ? d->rows : d->n, median(tl, runs) * 1e3, median(tw, runs) * 1e3,
        same};
    emit(&row, arg);
    return 0;
}

static const char *const scan_names[2][4] = {
    {"scan f32 (pool)", "scan f64 (pool)", "scan i32 (pool)", "scan i64 (pool)"},
    {"scan f32 (device 1)", "scan f64 (device 1)", "scan i32 (device 1)", "scan i64 (device 1)"}};

int prims_case_named(const char *only)
{
    for (size_t c = 0; c < NCASES; c++)
        if (strstr(cases[c].name, only)) return 1;
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++)
            if (strstr(scan_names[p][k], only)) return 1;
    return 0;
}

/* The scans: the loop, then weft_scan placed on the pool and on device 1. */
static int run_scans(data *d, int runs, const char *only, prims_emit emit, void *arg)
{
    static const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_I64};
    size_t n = d->n, places = d->ndev > 1 ? 2 : 1;
    void *x = malloc(n * 8), *y = malloc(n * 8), *want = malloc(n * 8);
    int rc = !x || !y || !want;
    for (int k = 0; k < 4 && !rc; k++) {
        weft_dtype t = types[k];
        if (only && !strstr(scan_names[0][k], only) &&
            !(places > 1 && strstr(scan_names[1][k], only)))
            continue;
        size_t size = weft_dtype_size(t);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = weft_rng_u32_at(9, i);
            if (t == WEFT_F32) ((float *)x)[i] = weft_rng_uniform_f32(r) - 0.5f;
            if (t == WEFT_F64) ((double *)x)[i] = weft_rng_uniform_f32(r) - 0.5;
            if (t == WEFT_I32) ((int32_t *)x)[i] = (int32_t)r;
            if (t == WEFT_I64) ((int64_t *)x)[i] = (int64_t)r - 2147483648;
        }
        weft_array *a = NULL, *b = NULL;
        if (weft_array_from(d->ctx, t, n, x, &a) || weft_array_create(d->ctx, t, n, &b)) {
            rc = failed("scan arrays");
            weft_array_free(a);
            break;
        }
        double tl[MAX_RUNS], tw[2][MAX_RUNS];
        int same[2] = {1, 1};
        for (int r = 0; r < runs && !rc; r++) {
            double t0 = bench_now();
            prims_plain_scan(t, n, x, want);
            tl[r] = bench_now() - t0;
            for (size_t where = 0; where < places && !rc; where++) {
                uint64_t mask = where ? WEFT_PLACE_DEVICE(1) : WEFT_PLACE_HOST;
                weft_ctx_place(d->ctx, "scan totals", mask);
                weft_ctx_place(d->ctx, "scan apply", mask);
                t0 = bench_now();
                if (weft_scan(d->ctx, WEFT_SUM, 0, a, b, NULL) != WEFT_OK) rc = failed("weft_scan");
                tw[where][r] = bench_now() - t0;
                if (!rc && weft_array_read(b, 0, n, y) != WEFT_OK) rc = failed("reading a scan");
                same[where] &= !memcmp(y, want, n * size);
            }
        }
        weft_ctx_place(d->ctx, "scan totals", 0);
        weft_ctx_place(d->ctx, "scan apply", 0);
        for (size_t where = 0; where < places && !rc; where++) {
            prims_row row = {
                scan_names[where][k],          "running sum", n, median(tl, runs) * 1e3,
                median(tw[where], runs) * 1e3, same[where]};
            emit(&row, arg);
        }
        weft_array_free(a);
        weft_array_free(b);
    }
    free(x);
    free(y);
    free(want);
    return rc;
}

static int setup(data *d)
{
    size_t n = d->n, rows = d->rows;
    d->x = malloc(n * 4), d->v = malloc(n * 4), d->y = malloc(n * 4);
    d->idx = malloc(n * 4), d->keys = malloc(n * 4), d->tmp = malloc(n * 4);
    d->perm = malloc(n * 4), d->out_u32 = malloc(n * 4);
    d->keys64 = malloc(n * 8), d->out64 = malloc(n * 8), d->tmp64 = malloc(n * 8);
    d->counts = malloc(BINS_LARGE * 8), d->want_counts = malloc(BINS_LARGE * 8);
    d->gkeys = malloc(rows * 4), d->gvals = malloc(rows * 4), d->sums = malloc(IDX_RANGE * 8);
    if (!d->x || !d->v || !d->y || !d->idx || !d->keys || !d->tmp || !d->perm || !d->out_u32 ||
        !d->counts || !d->want_counts || !d->gkeys || !d->gvals || !d->sums || !d->keys64 ||
        !d->out64 || !d->tmp64) {
        fprintf(stderr, "out of memory for %zu elements\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        d->x[i] = weft_rng_uniform_f32(weft_rng_u32_at(1, i)) * 2 - 1;
        d->idx[i] = weft_rng_u32_at(2, i) % IDX_RANGE;
        d->v[i] = weft_rng_uniform_f32(weft_rng_u32_at(3, i));
        d->keys[i] = weft_rng_u32_at(4, i);
        d->keys64[i] = weft_rng_u64_at(8, i);
    }
    for (size_t i = 0; i < rows; i++) {
        d->gkeys[i] = weft_rng_u32_at(5, i) % IDX_RANGE;
        d->present[d->gkeys[i]] = 1;
        d->gvals[i] = weft_rng_uniform_f32(weft_rng_u32_at(6, i));
    }
    weft_ctx *c = d->ctx;
    if (weft_array_from(c, WEFT_F32, n, d->x, &d->xa) ||
        weft_array_create(c, WEFT_F32, n, &d->ya) ||
        weft_array_from(c, WEFT_F32, n, d->v, &d->va) ||
        weft_array_from(c, WEFT_U32, n, d->idx, &d->ia) ||
        weft_array_from(c, WEFT_U32, n, d->keys, &d->ka) ||
        weft_array_create(c, WEFT_U32, n, &d->pa) || weft_array_create(c, WEFT_F32, n, &d->fa) ||
        weft_array_create(c, WEFT_U64, n, &d->k64a) || weft_array_create(c, WEFT_U32, n, &d->wa) ||
        weft_array_create(c, WEFT_U64, BINS_SMALL, &d->ca_small) ||
        weft_array_create(c, WEFT_U64, BINS_LARGE, &d->ca_large) ||
        weft_array_create(c, WEFT_U64, IDX_RANGE, &d->ba) ||
        weft_array_create(c, WEFT_F32, IDX_RANGE, &d->sa) ||
        weft_array_from(c, WEFT_U32, rows, d->gkeys, &d->gka) ||
        weft_array_from(c, WEFT_F32, rows, d->gvals, &d->gva) ||
        weft_array_create(c, WEFT_U32, IDX_RANGE, &d->gok) ||
        weft_array_create(c, WEFT_F32, IDX_RANGE, &d->gov))
        return failed("making the arrays");
    return 0;
}

static void teardown(data *d)
{
    weft_array *arrays[] = {d->xa,       d->ya, d->va, d->ia,  d->ka,  d->pa,  d->ca_small,
                            d->ca_large, d->ba, d->sa, d->gka, d->gva, d->gok, d->gov};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        weft_array_free(arrays[i]);
    void *mem[] = {d->x,    d->v,       d->y,      d->idx,         d->keys,  d->tmp,
                   d->perm, d->out_u32, d->counts, d->want_counts, d->gkeys, d->gvals,
                   d->sums, d->keys64,  d->out64,  d->tmp64};
    for (size_t i = 0; i < sizeof mem / sizeof *mem; i++)
        free(mem[i]);
}

int prims_run(weft_ctx *ctx, const prims_options *o, prims_emit emit, void *arg)
{
    data d = {.ctx = ctx, .n = o->n, .rows = o->group_rows};
    int runs = o->runs < 1 ? 1 : o->runs > MAX_RUNS ? MAX_RUNS : o->runs;
    weft_device_count(ctx, &d.ndev);
    int rc = 0;
    if (!o->scan_only) {
        rc = setup(&d);
        for (size_t c = 0; c < NCASES && !rc; c++)
            if (!o->only || strstr(cases[c].name, o->only))
                rc = run_case(&d, &cases[c], runs, emit, arg);
        teardown(&d);
    }
    if (!rc) rc = run_scans(&d, runs, o->only, emit, arg);
    return rc;
}

static void prims_print_text(const prims_row *row, void *arg)
{
    (void)arg;
    printf("%-28s %10zu  loop %9.3f ms  weft %9.3f ms  %6.2fx%s   (loop: %s)\n", row->name, row->n,
           row->loop_ms, row->weft_ms, row->loop_ms / row->weft_ms,
           row->same == 0 ? "  RESULTS DIFFER" : "", row->loop);
    fflush(stdout);
}

static void prims_print_json(const prims_row *row, void *arg)
{
    int *first = arg;
    printf("%s\n  {\"op\": \"%s\", \"n\": %zu, \"loop\": \"%s\", \"loop_ms\": %.6g, \"weft_ms\": "
           "%.6g, \"speedup\": %.4g, \"same\": %s}",
           *first ? "" : ",", row->name, row->n, row->loop, row->loop_ms, row->weft_ms,
           row->loop_ms / row->weft_ms,
           row->same < 0 ? "null"
           : row->same   ? "true"
                         : "false");
    *first = 0;
}

int prims_report(weft_ctx *ctx, const prims_options *o, int json)
{
    int threads = 0, first = 1;
    weft_ctx_num_threads(ctx, &threads);
    if (json)
        printf("{\"n\": %zu, \"runs\": %d, \"threads\": %d, \"rows\": [", o->n, o->runs, threads);
    else
        printf("n = %zu, medians of %d alternating runs; pool of %d threads\n", o->n, o->runs,
               threads);
    int rc = prims_run(ctx, o, json ? prims_print_json : prims_print_text, &first);
    if (json) printf("\n]}\n");
    return rc;
}
