/* weft_dist_csv_run against weft_csv_run on one process, byte for byte, at
 * the rank count this runs under: quoted fields holding line ends, commas and
 * quotes, CRLF, blank lines, a BOM, no final line end, no header, fewer
 * records than ranks; and failures that fail every rank. */
#include "mpi_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static weft_ctx *ctx;

static int no_missing; /* make_file writes a number in every float field */

/* Rank 0 writes the file. */
static void make_file(const char *path, size_t rows, int header, int crlf, int bom, int final_eol)
{
    if (rank != 0) return;
    FILE *f = fopen(path, "wb");
    CHECK(f, "cannot write %s", path);
    const char *eol = crlf ? "\r\n" : "\n";
    if (bom) fputs("\xEF\xBB\xBF", f);
    if (header) fprintf(f, "%sid,a,\"f\nx\",s%s", eol, eol); /* a blank line, a quoted name */
    static const char *texts[] = {"plain", "\"with, comma\"", "\"two\nlines\"", "\"q \"\"x\"\"\"",
                                  "\"\"",  "\"a\r\nb\"",      "tail",           "\"\n\n\""};
    for (size_t i = 0; i < rows; i++) {
        uint64_t r = next_random();
        char fl[64];
        switch (no_missing ? 3 : r % 7) {
        case 0:
            snprintf(fl, sizeof fl, "%s", "");
            break;
        case 1:
            snprintf(fl, sizeof fl, "nan");
            break;
        case 2:
            snprintf(fl, sizeof fl, "%de%d", (int)(r >> 8) % 100, (int)(r >> 20) % 9);
            break;
        default:
            snprintf(fl, sizeof fl, "%.3f", (double)((r >> 16) % 100000) / 7.0 - 3000.0);
        }
        fprintf(f, "%zu,%d,%s,%s", i, (int)((r >> 32) % 2001) - 1000, fl, texts[(r >> 40) % 8]);
        if (i + 1 < rows || final_eol) fputs(eol, f);
        if ((r >> 50) % 50 == 0 && i + 1 < rows) fputs(eol, f); /* blank lines */
    }
    fclose(f);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    CHECK(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size, "short read of %s", path);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

/* Rank 0: want and got hold the same bytes (both removed); their size. */
static size_t same_files(const char *want, const char *got, size_t window)
{
    size_t nw, ng;
    char *w = slurp(want, &nw), *g = slurp(got, &ng);
    size_t at = 0;
    while (at < nw && at < ng && w[at] == g[at])
        at++;
    CHECK(nw == ng && at == nw, "%s (window %zu): %zu vs %zu bytes, first difference at %zu", got,
          window, nw, ng, at);
    free(w);
    free(g);
    remove(want);
    remove(got);
    return nw;
}

static void setup(weft_csv_options *o, weft_csv_job *job, int header, size_t window,
                  const char *const *set, size_t nset)
{
    weft_csv_options_init(o);
    o->header = header;
    o->window_bytes = window;
    memset(job, 0, sizeof *job);
    job->statements = set;
    job->nstatements = nset;
}

static void compare(const char *input, int header, size_t window, const char *const *set,
                    size_t nset, const char *const *select, size_t nselect)
{
    weft_csv_options o;
    weft_csv_job job;
    setup(&o, &job, header, window, set, nset);
    job.select = select;
    job.nselect = nselect;
    char want[512], got[512];
    snprintf(want, sizeof want, "%s.want", input);
    snprintf(got, sizeof got, "%s.got", input);
    weft_csv_stats one, dist;
    if (rank == 0) OK(weft_csv_run(ctx, input, want, &o, &job, &one));
    remove(got);
    MPI_Barrier(MPI_COMM_WORLD);
    OK(weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, got, &o, &job, &dist));
    if (rank == 0) {
        size_t nw = same_files(want, got, window);
        CHECK(dist.rows == one.rows, "%s: %llu rows vs %llu", input, (unsigned long long)dist.rows,
              (unsigned long long)one.rows);
        CHECK(dist.bytes_written == nw, "bytes_written %llu",
              (unsigned long long)dist.bytes_written);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* Reductions over the columns: every rank gets one process's weft_scalar,
 * bit for bit (or its failure status). */
typedef struct red_spec {
    weft_reduce_op op;
    const char *expr;
} red_spec;

static const red_spec mixed_reds[] = {{WEFT_SUM, "a"},
                                      {WEFT_SUM, "id * 0.37 - a / 3.0"},
                                      {WEFT_SUM, "`f\nx`"},
                                      {WEFT_MIN, "`f\nx`"},
                                      {WEFT_MAX, "a"},
                                      {WEFT_ARGMIN, "a"},
                                      {WEFT_ARGMAX, "`f\nx` + a"},
                                      {WEFT_PROD, "1.0 + a * 1e-5"},
                                      {WEFT_ANY, "a > 998"},
                                      {WEFT_ALL, "a > -1000"},
                                      {WEFT_SUM, "b"}};
enum { NMIXED = sizeof mixed_reds / sizeof *mixed_reds };

/* header 0: columns c1, c2, ...; output 0: reductions alone, no output file. */
static void compare_reductions(const char *input, int header, int output, size_t window,
                               const char *const *set, size_t nset, const red_spec *reds,
                               size_t nred)
{
    enum { NRED = 16 };
    CHECK(nred <= NRED, "%zu reductions", nred);
    weft_csv_options o;
    weft_csv_job job;
    setup(&o, &job, header, window, set, nset);
    weft_csv_reduction one[NRED], dist[NRED];
    for (size_t k = 0; k < nred; k++)
        one[k] = dist[k] = (weft_csv_reduction){reds[k].op, reds[k].expr, {0}};
    job.reductions = one;
    job.nreductions = nred;
    char want_out[512], got_out[512];
    snprintf(want_out, sizeof want_out, "%s.want", input);
    snprintf(got_out, sizeof got_out, "%s.got", input);
    int want = WEFT_OK;
    if (rank == 0) want = (int)weft_csv_run(ctx, input, output ? want_out : NULL, &o, &job, NULL);
    MPI_Bcast(&want, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(one, (int)sizeof one, MPI_BYTE, 0, MPI_COMM_WORLD);
    job.reductions = dist;
    weft_status got =
        weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, output ? got_out : NULL, &o, &job, NULL);
    CHECK((int)got == want, "%s: status %d, one process %d: %s", input, (int)got, want,
          weft_mpi_last_error());
    if (rank == 0 && want == WEFT_OK && output) same_files(want_out, got_out, window);
    for (size_t k = 0; k < nred && want == WEFT_OK; k++) {
        const weft_scalar *w = &one[k].result, *g = &dist[k].result;
        CHECK(w->dtype == g->dtype && memcmp(&w->value, &g->value, sizeof w->value) == 0 &&
                  w->index == g->index,
              "%s (window %zu): reduction %zu (%s): dtype %d value %.17g index %llu, one "
              "process: dtype %d value %.17g index %llu",
              input, window, k, reds[k].expr, (int)g->dtype, weft_scalar_as_double(g),
              (unsigned long long)g->index, (int)w->dtype, weft_scalar_as_double(w),
              (unsigned long long)w->index);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* With reductions one process types a column from its first window of whole
 * blocks, which holds fewer or more records than a plain first window: a
 * non-integer just past the blocks of a short-record window (rows 5000 and
 * 24800 at 64 and 256 KiB windows), and one within the blocks that a
 * long-record window grows to. The ranks type as it does. */
static void typing(const char *path)
{
    static const red_spec reds[] = {{WEFT_SUM, "a"}, {WEFT_MAX, "a"}};
    static const struct {
        size_t rows, pad, odd_row;
        const char *eol; /* a bare CR: no cut, the whole file is rank 0's */
    } cases[] = {{30000, 0, 5000, "\n"},
                 {30000, 0, 24800, "\n"},
                 {10000, 90, 1000, "\n"},
                 {10000, 90, 20, "\n"},
                 {30000, 0, 5000, "\r"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        if (rank == 0) {
            FILE *f = fopen(path, "wb");
            CHECK(f, "cannot write %s", path);
            fprintf(f, "id,a,s%s", cases[c].eol);
            for (size_t i = 0; i < cases[c].rows; i++)
                fprintf(f, i == cases[c].odd_row ? "%zu,%zu.5,%*s%s" : "%zu,%zu,%*s%s", i, i % 977,
                        (int)cases[c].pad, "", cases[c].eol);
            fclose(f);
        }
        compare_reductions(path, 1, 0, 64 << 10, NULL, 0, reds, 2);
        compare_reductions(path, 1, 1, 256 << 10, NULL, 0, reds, 2);
    }
}

/* A failure on whichever rank reads the bad record fails every rank and
 * leaves no output. */
static void failure(const char *input)
{
    if (rank == 0) {
        FILE *f = fopen(input, "wb");
        fputs("a,b\n", f);
        for (int i = 0; i < 10000; i++)
            fprintf(f, i == 9500 ? "%d,%d,9\n" : "%d,%d\n", i, i);
        fclose(f);
    }
    char got[512];
    snprintf(got, sizeof got, "%s.got", input);
    remove(got);
    MPI_Barrier(MPI_COMM_WORLD);
    static const char *set[] = {"c = a + b"};
    weft_csv_job job;
    memset(&job, 0, sizeof job);
    job.statements = set;
    job.nstatements = 1;
    weft_status st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, got, NULL, &job, NULL);
    CHECK(st == WEFT_ERR_DATA || (st != WEFT_OK && strstr(weft_mpi_last_error(), "failed on rank")),
          "status %d: %s", (int)st, weft_mpi_last_error());
    CHECK(access(got, F_OK) != 0, "a failed run left %s", got);
    /* A reduction that fails on the rank holding the bad record fails them all. */
    weft_csv_reduction red = {WEFT_SUM, "a", {0}};
    job.reductions = &red;
    job.nreductions = 1;
    MPI_Barrier(MPI_COMM_WORLD);
    st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, got, NULL, &job, NULL);
    CHECK(st == WEFT_ERR_DATA || (st != WEFT_OK && strstr(weft_mpi_last_error(), "failed on rank")),
          "reductions: status %d: %s", (int)st, weft_mpi_last_error());
    /* The bad record is the last rank's: rank 0 heard of it. */
    CHECK(nranks == 1 || rank > 0 || strstr(weft_mpi_last_error(), "failed on rank"),
          "reductions: rank 0 says %s", weft_mpi_last_error());
    CHECK(access(got, F_OK) != 0, "a failed run left %s", got);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) remove(input);
}

/* The row index i cannot be numbered over ranks before they counted their
 * records: refused on every rank (it restarted at each rank's first row);
 * one rank runs it as one process does. */
static void row_index(const char *input)
{
    if (rank == 0) {
        FILE *f = fopen(input, "wb");
        fputs("a\n", f);
        for (int i = 0; i < 5000; i++)
            fprintf(f, "%d\n", i);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    static const char *set[] = {"row = i"};
    weft_csv_job job;
    memset(&job, 0, sizeof job);
    job.statements = set;
    job.nstatements = 1;
    weft_status st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, NULL, NULL, &job, NULL);
    CHECK(nranks == 1 ? st == WEFT_OK : st == WEFT_ERR_UNSUPPORTED, "statement with i: %d %s",
          (int)st, weft_mpi_last_error());
    weft_csv_reduction red = {WEFT_SUM, "a - i", {0}};
    memset(&job, 0, sizeof job);
    job.reductions = &red;
    job.nreductions = 1;
    st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, NULL, NULL, &job, NULL);
    CHECK(nranks == 1 ? st == WEFT_OK && weft_scalar_as_double(&red.result) == 0.0
                      : st == WEFT_ERR_UNSUPPORTED,
          "reduction with i: %d %s", (int)st, weft_mpi_last_error());
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) remove(input);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    OK(weft_ctx_create(NULL, &ctx));
    char path[256];
    snprintf(path, sizeof path, "mpi_csv_%d.csv", nranks);

    static const char *set[] = {"b = a * 3", "g = `f\nx` * 0.1 + a", "a = a - 1"};
    static const char *sel[] = {"s", "g", "id"};
    static const size_t sizes[] = {0, 1, 2, 5, 3000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int crlf = 0; crlf < 2; crlf++) {
            make_file(path, sizes[k], 1, crlf, k % 2, (k + (size_t)crlf) % 2);
            compare(path, 1, 4096, set, 3, NULL, 0);
            compare(path, 1, 1 << 20, set, 2, sel, 3);
            compare(path, 1, 4096, NULL, 0, NULL, 0);
        }
    /* No header: columns c1, c2, ... */
    static const char *set_nh[] = {"c5 = c2 * 2 + c1"};
    make_file(path, 2000, 0, 0, 0, 1);
    compare(path, 0, 4096, set_nh, 1, NULL, 0);
    make_file(path, 1, 0, 1, 0, 0);
    compare(path, 0, 4096, set_nh, 1, NULL, 0);
    /* Reductions, around the block size and with several windows, with the
     * output written too (the records are cut on block boundaries). */
    static const size_t red_sizes[] = {0, 1, 4095, 4096, 4097, 3 * 4096 + 5, 5 * 4096 - 1};
    static const char *set_red[] = {"b = a * 0.25 + `f\nx`"};
    no_missing = 1;
    for (size_t k = 0; k < sizeof red_sizes / sizeof *red_sizes; k++) {
        make_file(path, red_sizes[k], 1, k % 2, k % 3 == 0, k % 2);
        compare_reductions(path, 1, 1, 1 << 20, set_red, 1, mixed_reds, NMIXED);
        compare_reductions(path, 1, k % 2, 256 << 10, set_red, 1, mixed_reds, NMIXED);
    }
    no_missing = 0;
    typing(path);
    make_file(path, 3 * 4096 + 5, 1, 0, 0, 1); /* NaNs and empty fields */
    compare_reductions(path, 1, 1, 1 << 20, set_red, 1, mixed_reds, NMIXED);
    /* No header, a BOM before the first record. */
    static const red_spec nh_reds[] = {{WEFT_SUM, "c2"}, {WEFT_ARGMAX, "c2 * 0.5 + c1"}};
    make_file(path, 2 * 4096 + 3, 0, 1, 1, 0);
    compare_reductions(path, 0, 1, 1 << 20, NULL, 0, nh_reds, 2);
    make_file(path, 2 * 4096 + 7, 1, 0, 0, 1);
    compare(path, 1, 1 << 20, set_red, 1, NULL, 0);
    if (rank == 0) remove(path);
    failure(path);
    row_index(path);

    weft_ctx_free(ctx);
    if (rank == 0) printf("mpi csv: %d ranks, ok\n", nranks);
    MPI_Finalize();
    return 0;
}
