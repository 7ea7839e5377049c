/* weft_dist_csv_run against weft_csv_run on one process, byte for byte, at
 * the rank count this runs under: quoted fields holding line ends, commas and
 * quotes, CRLF, blank lines, a BOM, no final line end, no header, fewer
 * records than ranks; and failures that fail every rank. */
#include <weft_mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, nranks;
static weft_ctx *ctx;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d, line %d: %s: ", rank, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)
#define OK(expr) CHECK((expr) == WEFT_OK, "%s | core: %s", weft_mpi_last_error(), weft_last_error())

static uint64_t seed = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

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
        switch (r % 7) {
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

static void compare(const char *input, int header, size_t window, const char *const *set,
                    size_t nset, const char *const *select, size_t nselect)
{
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.header = header;
    o.window_bytes = window;
    weft_csv_job job;
    memset(&job, 0, sizeof job);
    job.statements = set;
    job.nstatements = nset;
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
        size_t nw, ng;
        char *w = slurp(want, &nw), *g = slurp(got, &ng);
        size_t at = 0;
        while (at < nw && at < ng && w[at] == g[at])
            at++;
        CHECK(nw == ng && at == nw, "%s (window %zu): %zu vs %zu bytes, first difference at %zu",
              input, window, nw, ng, at);
        CHECK(dist.rows == one.rows, "%s: %llu rows vs %llu", input, (unsigned long long)dist.rows,
              (unsigned long long)one.rows);
        CHECK(dist.bytes_written == nw, "bytes_written %llu",
              (unsigned long long)dist.bytes_written);
        free(w);
        free(g);
        remove(want);
        remove(got);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* A failure on whichever rank reads the bad record fails every rank and
 * leaves no output. */
static void failure(const char *input)
{
    if (rank == 0) {
        FILE *f = fopen(input, "wb");
        fputs("a,b\n", f);
        for (int i = 0; i < 3000; i++)
            fprintf(f, i == 2500 ? "%d,%d,9\n" : "%d,%d\n", i, i);
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
    /* Reductions: one rank runs them; more say they cannot yet. */
    weft_csv_reduction red = {WEFT_SUM, "a", {0}};
    job.nstatements = 0;
    job.reductions = &red;
    job.nreductions = 1;
    make_file(input, 10, 1, 0, 0, 1);
    MPI_Barrier(MPI_COMM_WORLD);
    st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, NULL, NULL, &job, NULL);
    CHECK(nranks == 1 ? st == WEFT_OK : st == WEFT_ERR_INVALID_ARG, "reductions: %d %s", (int)st,
          weft_mpi_last_error());
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
    if (rank == 0) remove(path);
    failure(path);

    weft_ctx_free(ctx);
    if (rank == 0) printf("mpi csv: %d ranks, ok\n", nranks);
    MPI_Finalize();
    return 0;
}
