/* Distributed arrays against one process: every global reduction and scan
 * must give the bits weft_reduce / weft_scan give on the whole array in this
 * process, for the rank count this runs under (mpirun -np 1, 2, 3). Every rank
 * holds the whole data (generated from one seed) and checks. A failure
 * prints the rank and line and aborts the job, so no rank waits forever. */
#include "mpi_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static weft_ctx *ctx;

/* Values whose sums depend on the order they are added in. */
static void fill(weft_dtype t, void *data, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t r = next_random();
        double mag = ldexp(1.0, (int)(r % 40) - 20);
        double v = ((double)(r >> 11) / 9007199254740992.0 - 0.5) * mag;
        switch (t) {
        case WEFT_F32:
            ((float *)data)[k] = (float)v;
            break;
        case WEFT_F64:
            ((double *)data)[k] = v;
            break;
        case WEFT_I32:
            ((int32_t *)data)[k] = (int32_t)(r >> 40) - (1 << 23);
            break;
        case WEFT_U32:
            ((uint32_t *)data)[k] = (uint32_t)(r >> 40);
            break;
        case WEFT_I64:
            ((int64_t *)data)[k] = (int64_t)(r >> 20) - ((int64_t)1 << 43);
            break;
        case WEFT_U64:
            ((uint64_t *)data)[k] = r >> 20;
            break;
        default:
            ((uint8_t *)data)[k] = (uint8_t)(r >> 56);
            break;
        }
    }
}

static int same_scalar(const weft_scalar *a, const weft_scalar *b)
{
    return a->dtype == b->dtype && a->index == b->index &&
           memcmp(&a->value, &b->value, weft_dtype_size(a->dtype)) == 0;
}

static const char *op_name(weft_reduce_op op)
{
    static const char *names[] = {"sum", "prod", "min", "max", "argmin", "argmax", "any", "all"};
    return names[op];
}

/* The splits every case runs under. */
enum { SPLIT_EVEN, SPLIT_WEIGHTED, SPLIT_LAST_HEAVY, SPLIT_FROM_LOCAL, SPLITS };

static weft_dist *make_dist(int split, weft_dtype t, size_t n, const void *data)
{
    weft_dist_layout layout;
    weft_dist_layout_init(&layout);
    weft_dist *d = NULL;
    size_t elem = weft_dtype_size(t);
    if (split == SPLIT_WEIGHTED) {
        layout.split = WEFT_DIST_WEIGHTED;
        layout.weight = rank + 1.0;
    } else if (split == SPLIT_LAST_HEAVY || split == SPLIT_FROM_LOCAL) {
        /* Rank 0 one block (or all), the rest on the last rank, middle ranks empty. */
        size_t *counts = calloc((size_t)nranks, sizeof *counts);
        size_t first = nranks == 1 ? n : (n < WEFT_SUM_BLOCK ? n : WEFT_SUM_BLOCK);
        counts[0] = first;
        counts[nranks - 1] += n - first;
        if (split == SPLIT_FROM_LOCAL) {
            size_t offset = rank == 0 ? 0 : first;
            const char *mine = (const char *)data + offset * elem;
            OK(weft_dist_from_local(ctx, MPI_COMM_WORLD, t, counts[rank], mine, &d));
            free(counts);
            return d;
        }
        layout.split = WEFT_DIST_COUNTS;
        layout.counts = counts;
        OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, t, n, &layout, data, nranks - 1, &d));
        free(counts);
        return d;
    }
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, t, n, &layout, data, 0, &d));
    return d;
}

static void check_reductions(weft_dtype t, size_t n, int split)
{
    size_t elem = weft_dtype_size(t);
    void *data = malloc(n * elem + 1);
    fill(t, data, n);
    weft_array *whole = NULL;
    OK(weft_array_from(ctx, t, n, data, &whole));
    weft_dist *d = make_dist(split, t, n, data);
    size_t global = 0;
    OK(weft_dist_size(d, &global));
    CHECK(global == n, "size %zu, not %zu", global, n);
    for (weft_reduce_op op = WEFT_SUM; op <= WEFT_ALL; op++) {
        if (op == WEFT_PROD && t != WEFT_F32 && t != WEFT_F64) continue;
        weft_scalar one, dist;
        memset(&one, 0, sizeof one);
        memset(&dist, 0, sizeof dist);
        weft_status a = weft_reduce(ctx, op, whole, &one, NULL);
        weft_status b = weft_dist_reduce(op, d, &dist);
        CHECK(a == b, "%s %s n=%zu split %d: one process %s, distributed %s (%s)", op_name(op),
              weft_dtype_name(t), n, split, weft_status_str(a), weft_status_str(b),
              weft_mpi_last_error());
        if (a == WEFT_OK)
            CHECK(same_scalar(&one, &dist),
                  "%s %s n=%zu split %d: one process %.17g [%llu], distributed %.17g [%llu]",
                  op_name(op), weft_dtype_name(t), n, split, weft_scalar_as_double(&one),
                  (unsigned long long)one.index, weft_scalar_as_double(&dist),
                  (unsigned long long)dist.index);
    }
    /* Round trips. */
    void *back = malloc(n * elem + 1);
    memset(back, 0xAB, n * elem + 1);
    OK(weft_dist_allgather(d, back));
    CHECK(memcmp(back, data, n * elem) == 0, "allgather differs (n=%zu)", n);
    memset(back, 0xAB, n * elem + 1);
    OK(weft_dist_gather(d, nranks - 1, rank == nranks - 1 ? back : NULL));
    if (rank == nranks - 1) CHECK(memcmp(back, data, n * elem) == 0, "gather differs");
    free(back);
    OK(weft_dist_free(d));
    OK(weft_array_free(whole));
    free(data);
}

/* Dot products, counts and temporaries over two arrays, with a scalar. */
static void check_expressions(size_t n, int split)
{
    float *x = malloc(n * sizeof *x + 4), *y = malloc(n * sizeof *y + 4);
    fill(WEFT_F32, x, n);
    fill(WEFT_F32, y, n);
    weft_array *wx = NULL, *wy = NULL;
    OK(weft_array_from(ctx, WEFT_F32, n, x, &wx));
    OK(weft_array_from(ctx, WEFT_F32, n, y, &wy));
    weft_dist *dx = make_dist(split, WEFT_F32, n, x);
    weft_dist *dy = make_dist(split, WEFT_F32, n, y);
    static const struct {
        weft_reduce_op op;
        const char *expr;
    } cases[] = {{WEFT_SUM, "x * y"},
                 {WEFT_SUM, "x > 0"},
                 {WEFT_SUM, "t = x - a; t * t"},
                 {WEFT_PROD, "1 + x * 0.001"},
                 {WEFT_MAX, "x * a + y"},
                 {WEFT_ARGMIN, "x - y"},
                 {WEFT_SUM, "x * x"},
                 /* i is the element's global index on every rank (it was the rank's own) */
                 {WEFT_SUM, "x * i"},
                 {WEFT_MAX, "x - i * 0.001"},
                 {WEFT_ARGMAX, "y + (i % 7)"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        weft_bind binds[3] = {weft_bind_array("x", wx), weft_bind_array("y", wy),
                              weft_bind_f64("a", 0.25)};
        weft_dist_bind dbinds[3] = {weft_dist_bind_array("x", dx), weft_dist_bind_array("y", dy),
                                    weft_dist_bind_scalar(weft_bind_f64("a", 0.25))};
        weft_scalar one, dist;
        memset(&one, 0, sizeof one);
        memset(&dist, 0, sizeof dist);
        weft_status a = weft_reduce_expr(ctx, cases[c].op, cases[c].expr, binds, 3, &one, NULL);
        weft_status b = weft_dist_reduce_expr(cases[c].op, cases[c].expr, dbinds, 3, &dist);
        CHECK(a == b, "\"%s\" n=%zu: %s vs %s (%s)", cases[c].expr, n, weft_status_str(a),
              weft_status_str(b), weft_mpi_last_error());
        if (a == WEFT_OK)
            CHECK(same_scalar(&one, &dist), "\"%s\" n=%zu split %d: %.17g vs %.17g", cases[c].expr,
                  n, split, weft_scalar_as_double(&one), weft_scalar_as_double(&dist));
    }
    /* The array keeps its last reduction compiled: the same text over a
     * scalar of another dtype, or another op, is compiled anew. */
    static const struct {
        weft_reduce_op op;
        weft_bind scalar;
    } again[] = {{WEFT_SUM, {"a", NULL, WEFT_F64, {.f64 = 0.25}}},
                 {WEFT_SUM, {"a", NULL, WEFT_I32, {.i32 = 3}}},
                 {WEFT_PROD, {"a", NULL, WEFT_I32, {.i32 = 1}}},
                 {WEFT_SUM, {"a", NULL, WEFT_F64, {.f64 = 0.25}}}};
    for (size_t c = 0; c < sizeof again / sizeof again[0]; c++) {
        weft_bind binds[2] = {weft_bind_array("x", wx), again[c].scalar};
        weft_dist_bind dbinds[2] = {weft_dist_bind_array("x", dx),
                                    weft_dist_bind_scalar(again[c].scalar)};
        weft_scalar one, dist;
        memset(&one, 0, sizeof one);
        memset(&dist, 0, sizeof dist);
        OK(weft_reduce_expr(ctx, again[c].op, "x * a", binds, 2, &one, NULL));
        OK(weft_dist_reduce_expr(again[c].op, "x * a", dbinds, 2, &dist));
        CHECK(same_scalar(&one, &dist), "\"x * a\" case %zu n=%zu split %d: %.17g vs %.17g", c, n,
              split, weft_scalar_as_double(&one), weft_scalar_as_double(&dist));
    }
    OK(weft_dist_free(dx));
    OK(weft_dist_free(dy));
    OK(weft_array_free(wx));
    OK(weft_array_free(wy));
    free(x);
    free(y);
}

/* NaN, signed zeros and ties in minima; an integer sum that overflows only
 * part way (one process reports it, so must we). */
static void check_special_values(void)
{
    size_t n = 3 * WEFT_SUM_BLOCK + 7;
    double *v = calloc(n, sizeof *v);
    v[5] = -0.0;
    v[WEFT_SUM_BLOCK + 3] = -0.0;
    v[2 * WEFT_SUM_BLOCK + 1] = NAN;
    v[n - 1] = NAN;
    int64_t *w = calloc(n, sizeof *w);
    w[0] = INT64_MAX;
    w[WEFT_SUM_BLOCK] = 1; /* the running sum overflows here */
    w[2 * WEFT_SUM_BLOCK] = -5;
    for (int split = 0; split < SPLITS; split++) {
        weft_array *a = NULL, *b = NULL;
        OK(weft_array_from(ctx, WEFT_F64, n, v, &a));
        OK(weft_array_from(ctx, WEFT_I64, n, w, &b));
        weft_dist *da = make_dist(split, WEFT_F64, n, v);
        weft_dist *db = make_dist(split, WEFT_I64, n, w);
        for (weft_reduce_op op = WEFT_MIN; op <= WEFT_ARGMAX; op++) {
            weft_scalar one, dist;
            OK(weft_reduce(ctx, op, a, &one, NULL));
            OK(weft_dist_reduce(op, da, &dist));
            CHECK(same_scalar(&one, &dist), "special %s split %d", op_name(op), split);
        }
        weft_scalar one, dist;
        weft_status s1 = weft_reduce(ctx, WEFT_SUM, b, &one, NULL);
        weft_status s2 = weft_dist_reduce(WEFT_SUM, db, &dist);
        CHECK(s1 == WEFT_ERR_RANGE && s2 == s1, "overflow: %s vs %s", weft_status_str(s1),
              weft_status_str(s2));
        OK(weft_dist_free(da));
        OK(weft_dist_free(db));
        OK(weft_array_free(a));
        OK(weft_array_free(b));
    }
    free(v);
    free(w);
}

static void check_scans(weft_dtype t, size_t n, int split)
{
    size_t elem = weft_dtype_size(t);
    void *data = malloc(n * elem + 1), *one = malloc(n * elem + 1), *dist = malloc(n * elem + 1);
    fill(t, data, n);
    weft_reduce_op ops[] = {WEFT_SUM, WEFT_MIN, WEFT_MAX};
    for (int k = 0; k < 3; k++)
        for (int exclusive = 0; exclusive <= 1; exclusive++) {
            weft_array *x = NULL, *y = NULL;
            OK(weft_array_from(ctx, t, n, data, &x));
            OK(weft_array_create(ctx, t, n, &y));
            OK(weft_scan(ctx, ops[k], exclusive, x, y, NULL));
            OK(weft_array_read(y, 0, n, one));
            weft_dist *dx = make_dist(split, t, n, data), *dy = NULL;
            /* in place on odd cases, into another array on even ones */
            int in_place = (k + exclusive) % 2;
            if (!in_place) OK(weft_dist_create_like(dx, t, &dy));
            OK(weft_dist_scan(ops[k], exclusive, dx, in_place ? dx : dy));
            OK(weft_dist_allgather(in_place ? dx : dy, dist));
            CHECK(memcmp(one, dist, n * elem) == 0, "scan %s %s%s n=%zu split %d differs",
                  op_name(ops[k]), weft_dtype_name(t), exclusive ? " exclusive" : "", n, split);
            OK(weft_dist_free(dx));
            OK(weft_dist_free(dy));
            OK(weft_array_free(x));
            OK(weft_array_free(y));
        }
    free(data);
    free(one);
    free(dist);
}

static void check_halo(void)
{
    size_t n = 2 * WEFT_SUM_BLOCK + 100, width = 3;
    int32_t *v = malloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++)
        v[k] = (int32_t)k;
    weft_dist *d = make_dist(SPLIT_EVEN, WEFT_I32, n, v);
    weft_dist_halo *h = NULL;
    OK(weft_dist_halo_create(d, width, &h));
    OK(weft_dist_halo_begin(h));
    CHECK(weft_dist_halo_begin(h) == WEFT_ERR_STATE, "begin twice");
    OK(weft_dist_halo_end(h));
    size_t offset, count;
    OK(weft_dist_local_range(d, &offset, &count));
    int32_t ghosts[3];
    if (count > 0 && offset > 0) {
        OK(weft_array_read(weft_dist_halo_left(h), 0, width, ghosts));
        for (size_t k = 0; k < width; k++)
            CHECK(ghosts[k] == (int32_t)(offset - width + k), "left ghost %zu: %d", k, ghosts[k]);
    }
    if (count > 0 && offset + count < n) {
        OK(weft_array_read(weft_dist_halo_right(h), 0, width, ghosts));
        for (size_t k = 0; k < width; k++)
            CHECK(ghosts[k] == (int32_t)(offset + count + k), "right ghost %zu: %d", k, ghosts[k]);
    }
    OK(weft_dist_halo_free(h));
    OK(weft_dist_free(d));
    free(v);
}

/* A bad split fails on every rank, not only the rank that sees it. */
static void check_errors(void)
{
    if (nranks < 2) return;
    float v[10] = {0};
    weft_dist *d = NULL;
    weft_status st = weft_dist_from_local(ctx, MPI_COMM_WORLD, WEFT_F32, 10, v, &d);
    CHECK(st == WEFT_ERR_INVALID_ARG && d == NULL, "misaligned blocks: %s", weft_status_str(st));
    CHECK(strstr(weft_mpi_last_error(), "WEFT_SUM_BLOCK") || strstr(weft_mpi_last_error(), "rank"),
          "detail: %s", weft_mpi_last_error());
    weft_dist_layout layout;
    weft_dist_layout_init(&layout);
    layout.split = WEFT_DIST_WEIGHTED;
    layout.weight = rank == 0 ? -1.0 : 1.0;
    st = weft_dist_create(ctx, MPI_COMM_WORLD, WEFT_F32, 100, &layout, &d);
    CHECK(st == WEFT_ERR_INVALID_ARG, "a bad weight on rank 0: %s", weft_status_str(st));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    weft_options o;
    weft_options_init(&o);
    /* --partition: split even small arrays over the devices, so blocks run on
     * them too (slower: a launch per block). */
    int partition = argc > 1 && strcmp(argv[1], "--partition") == 0;
    if (partition) o.small_elements = 0;
    OK(weft_ctx_create(&o, &ctx));

    static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 3 * 4096 + 5, 50000};
    static const weft_dtype dtypes[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U64, WEFT_U8};
    /* Every dtype under the even split; the float sums, whose bits depend on
     * the order, under every split. */
    size_t nsizes = sizeof sizes / sizeof sizes[0] - (partition ? 1 : 0); /* not 50000 */
    for (size_t s = 0; s < nsizes; s++) {
        for (size_t t = 0; t < sizeof dtypes / sizeof dtypes[0]; t++)
            check_reductions(dtypes[t], sizes[s], SPLIT_EVEN);
        for (int split = SPLIT_EVEN + 1; split < SPLITS; split++) {
            check_reductions(WEFT_F32, sizes[s], split);
            check_reductions(WEFT_F64, sizes[s], split);
        }
    }
    for (int split = 0; split < SPLITS; split++) {
        if (!partition) check_expressions(50000, split);
        check_expressions(4097, split);
        check_scans(WEFT_F32, partition ? 9000 : 20000, split);
        check_scans(split % 2 ? WEFT_F64 : WEFT_I32, 9000, split);
    }
    check_special_values();
    check_halo();
    check_errors();

    OK(weft_ctx_free(ctx));
    if (rank == 0) printf("test_mpi_dist: %d checks passed on %d rank(s)\n", checks, nranks);
    MPI_Finalize();
    return 0;
}
