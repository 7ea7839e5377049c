/* weft_dist_sort against one process's weft_sort of the whole array, bit for
 * bit, keys and values, by the sample sort and by the automatic choice (the
 * gathering sort below its size, the sample sort above, weft_sort alone on
 * one rank): every key dtype; random, all-equal, sorted, reversed and
 * few-distinct keys; NaNs, infinities and -0.0 among 0.0; sizes 0, 1, 2 and
 * around powers of two; even splits and splits with empty ranks; ascending
 * and descending; with and without values. Every rank makes the whole data
 * from one seed; a failure aborts the job so no rank waits. Linked with
 * weft::mpi's objects to reach weft_dist_sort_by. */
#include "mpi_check.h"
#include "../../src/mpi/dist_sort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static weft_ctx *ctx;

/* ZEROS: most keys -0.0 or 0.0 (ints: 0 or 1), so splitters fall among them. */
enum pattern { RANDOM, EQUAL, SORTED, REVERSED, FEW, ZEROS, PATTERNS };
static const char *pattern_name[] = {"random", "all-equal", "sorted", "reversed", "few", "zeros"};

static int is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

/* A float key: mostly a few hundred values with duplicates, and 0.0, -0.0,
 * NaN (either sign), infinities and raw bit patterns (NaN payloads). */
static double float_key(uint64_t r)
{
    switch (r % 16) {
    case 0:
        return -0.0;
    case 1:
        return 0.0;
    case 2:
        return (r >> 8) & 1 ? NAN : -NAN;
    case 3:
        return (r >> 8) & 1 ? INFINITY : -INFINITY;
    default:
        return (double)((r >> 8) % 600) / 8.0 - 30.0;
    }
}

static void put(weft_dtype t, void *buf, size_t i, uint64_t bits, double f)
{
    char *p = (char *)buf + i * weft_dtype_size(t);
    if (t == WEFT_F32) {
        float v = (float)f;
        memcpy(p, &v, 4);
    } else if (t == WEFT_F64) {
        memcpy(p, &f, 8);
    } else {
        memcpy(p, &bits, weft_dtype_size(t)); /* little-endian: the low bytes */
    }
}

/* The keys of one case: ints from bits, floats from f. Sorted and reversed
 * ones rise (fall) through the dtype's range, with ties where it is small. */
static void fill(weft_dtype t, enum pattern pat, size_t n, void *keys)
{
    uint64_t same = next_random();
    size_t width = 8 * weft_dtype_size(t);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_random();
        double frac = (double)i / (double)(n ? n : 1);
        if (pat == REVERSED) frac = 1.0 - frac;
        uint64_t bits = r;
        double f = float_key(r);
        if (pat == EQUAL) {
            bits = same;
            /* Equal floats that differ in bits: -0.0 and 0.0, or NaNs. */
            f = (same & 1) ? ((r & 1) ? -0.0 : 0.0) : ((r & 1) ? NAN : -NAN);
        } else if (pat == SORTED || pat == REVERSED) {
            bits = (uint64_t)(frac * ldexp(1.0, (int)(width < 64 ? width : 63)));
            if (t == WEFT_I32) bits ^= 0x80000000u; /* through the signed range */
            if (t == WEFT_I64) bits ^= 0x4000000000000000ull;
            f = frac * 1000.0 - 500.0;
        } else if (pat == FEW) {
            bits = r % 3 == 0 ? (uint64_t)-1 : r % 3;
            f = (double)(r % 3) - 1.0;
        } else if (pat == ZEROS) {
            bits = r % 2;
            f = r % 5 == 0 ? float_key(r >> 3) : (r >> 9) & 1 ? -0.0 : 0.0;
        } else if ((r >> 40) % 64 == 0 && is_float(t)) {
            uint64_t raw = r | (t == WEFT_F32 ? 0x7f800000u : 0x7ff0000000000000ull);
            memcpy((char *)keys + i * weft_dtype_size(t), &raw, weft_dtype_size(t));
            continue; /* a NaN with a payload, or an infinity */
        }
        put(t, keys, i, bits, f);
    }
}

/* The global index as the value's dtype (u8 keeps the low byte). */
static void fill_values(weft_dtype t, size_t n, void *values)
{
    for (size_t i = 0; i < n; i++)
        put(t, values, i, (uint64_t)i, (double)i);
}

/* Splits: 0 even; 1 rank 0 empty, one block on the next and the rest last; 2
 * all on rank 0; 3 a middle rank empty. Blocks start on WEFT_SUM_BLOCK
 * multiples, so some fall back to even where n is small. */
static const weft_dist_layout *layout_of(int kind, size_t n, weft_dist_layout *l, size_t *counts)
{
    if (kind == 0 || nranks == 1) return NULL;
    weft_dist_layout_init(l);
    l->split = WEFT_DIST_COUNTS;
    l->counts = counts;
    memset(counts, 0, (size_t)nranks * sizeof *counts);
    size_t block = n < WEFT_SUM_BLOCK ? n : WEFT_SUM_BLOCK;
    if (kind == 1) {
        counts[1] = nranks > 2 ? block : n;
        counts[nranks - 1] += n - counts[1];
    } else if (kind == 2) {
        counts[0] = n;
    } else {
        counts[0] = block;
        counts[nranks - 1] = n - block;
    }
    return l;
}

typedef struct one_case {
    weft_dtype t, vt; /* vt WEFT_DTYPE_COUNT: keys alone */
    enum pattern pat;
    size_t n;
    int layout;
    unsigned flags;
    int on_devices; /* the keys last written by a weft_map */
} one_case;

static void run(const one_case *c, dist_sort_method method)
{
    size_t ks = weft_dtype_size(c->t), vs = c->vt == WEFT_DTYPE_COUNT ? 1 : weft_dtype_size(c->vt);
    size_t n = c->n;
    char *keys = malloc(n * ks + 1), *want = malloc(n * ks + 1), *got = malloc(n * ks + 1);
    char *values = malloc(n * vs + 1), *want_v = malloc(n * vs + 1), *got_v = malloc(n * vs + 1);
    int with_values = c->vt != WEFT_DTYPE_COUNT;
    fill(c->t, c->pat, n, keys);
    if (with_values) fill_values(c->vt, n, values);
    /* One process. */
    memcpy(want, keys, n * ks);
    memcpy(want_v, values, n * vs);
    if (n > 0) {
        weft_array *k = NULL, *v = NULL;
        OK(weft_array_wrap(ctx, c->t, n, want, &k));
        if (with_values) OK(weft_array_wrap(ctx, c->vt, n, want_v, &v));
        OK(weft_sort(ctx, k, v, c->flags, NULL));
        OK(weft_array_sync(k));
        if (v) OK(weft_array_sync(v));
        weft_array_free(k);
        weft_array_free(v);
    }
    /* Over the ranks. */
    weft_dist_layout l;
    size_t counts[8];
    const weft_dist_layout *layout = layout_of(c->layout, n, &l, counts);
    weft_dist *dk = NULL, *dv = NULL;
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, c->t, n, layout, keys, 0, &dk));
    if (with_values) OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, c->vt, n, layout, values, 0, &dv));
    if (c->on_devices) {
        /* The block's current copy on the devices that ran this, when any. */
        weft_bind b = weft_bind_array("k", weft_dist_local(dk));
        OK(weft_map(ctx, "k = k", &b, 1, NULL));
    }
    OK(weft_dist_sort_by(dk, dv, c->flags, method));
    OK(weft_dist_allgather(dk, got));
    if (with_values) OK(weft_dist_allgather(dv, got_v));
    const char *how = method == DIST_SORT_SAMPLE ? "sample" : "auto";
    CHECK(memcmp(want, got, n * ks) == 0, "%s sort, %s %s keys of %zu, split %d, flags %u: keys",
          how, pattern_name[c->pat], weft_dtype_name(c->t), n, c->layout, c->flags);
    if (with_values)
        CHECK(memcmp(want_v, got_v, n * vs) == 0,
              "%s sort, %s %s keys of %zu, split %d, flags %u: %s values", how,
              pattern_name[c->pat], weft_dtype_name(c->t), n, c->layout, c->flags,
              weft_dtype_name(c->vt));
    OK(weft_dist_free(dk));
    OK(weft_dist_free(dv));
    free(keys);
    free(want);
    free(got);
    free(values);
    free(want_v);
    free(got_v);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    CHECK(nranks <= 8, "at most 8 ranks");
    OK(weft_ctx_create(NULL, &ctx));
    /* Below and above one WEFT_SUM_BLOCK, a few blocks, and past the size
     * the automatic choice starts sampling at. */
    static const size_t sizes[] = {0, 1, 2, 33, 1023, 4095, 4097, 8193, 3 * 4096 + 5, 65535, 65537};
    const size_t nsizes = sizeof sizes / sizeof *sizes;
    int cases = 0;
    for (int t = 0; t < WEFT_DTYPE_COUNT; t++)
        for (size_t s = 0; s < nsizes; s++)
            for (int pat = 0; pat < PATTERNS; pat++) {
                /* Random keys at every size; the others at every other. */
                if (pat != RANDOM && (s + (size_t)pat + (size_t)t) % 2) continue;
                int i = cases++;
                one_case c = {(weft_dtype)t,
                              WEFT_DTYPE_COUNT,
                              (enum pattern)pat,
                              sizes[s],
                              i % 4,
                              (unsigned)(i / 4) % 2 ? WEFT_SORT_DESCENDING : 0,
                              i % 5 == 0};
                if (i % 3 == 1) c.vt = WEFT_I64;
                if (i % 3 == 2) c.vt = WEFT_U8;
                uint64_t keys_seed = seed;
                run(&c, DIST_SORT_SAMPLE);
                seed = keys_seed; /* the same keys each way */
                run(&c, DIST_SORT_AUTO);
            }
    weft_ctx_free(ctx);
    if (rank == 0)
        printf("test_mpi_sort: %d ranks: %d cases ok (%d checks)\n", nranks, cases, checks);
    MPI_Finalize();
    return 0;
}
