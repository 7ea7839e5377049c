/* The CSV pipeline over ranks (docs/mpi.md, "CSV files over ranks").
 *
 * Rank 0 reads the file once for quote state only (no parsing) and cuts it at
 * the first record boundary at or after each of the K equal byte offsets of
 * the data: a line end outside quotes, by quote parity as weft's own scanner
 * finds records, so a quoted field holding line ends is never cut. It also
 * types the parsed columns from the file's first window, as one process
 * does, so every rank parses them alike. Each rank writes its range, after
 * the header bytes, to a part file and runs weft_csv_run on it; rank 0
 * concatenates the parts' outputs (the header once) into a temporary file
 * renamed onto the output. Records are written independently of each other,
 * so the output is one process's, byte for byte. */
#include "../expr/expr.h"
#include "collective_check.h"
#include "dist_csv_reduce.h"
#include "mpi_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { IO_CHUNK = 1 << 20, MAX_TYPES = 4096 };

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Rank 0: the header's end and the cuts. cuts[r] is where rank r's data
 * starts (cuts[0] = 0: rank 0 takes the header with its range), cuts[nranks]
 * the file's size. With reductions (`window`, the pipeline's read size, not
 * 0), a cut falls only after a multiple of WEFT_SUM_BLOCK records (blank
 * lines are no records: the scanner drops them), so every rank's reduction
 * blocks are one process's; and *typed_end is where the records end that one
 * process types columns from: its first window of whole blocks (the first
 * `window`-byte reads holding WEFT_SUM_BLOCK records, cut back to a multiple
 * of it, or the whole file when it ends within them). */
static weft_status find_cuts(const char *input, int header, uint64_t window, int nranks,
                             uint64_t *cuts, uint64_t *header_end, uint64_t *typed_end)
{
    FILE *f = fopen(input, "rb");
    if (!f) return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", input, strerror(errno));
    unsigned char *buf = malloc(IO_CHUNK);
    uint64_t *targets = calloc((size_t)nranks + 1, sizeof *targets);
    struct stat sb;
    weft_status st = WEFT_OK;
    if (!buf || !targets)
        st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory to scan %s", input);
    else if (fstat(fileno(f), &sb) != 0)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", input, strerror(errno));
    if (st != WEFT_OK) {
        free(buf);
        free(targets);
        fclose(f);
        return st;
    }
    uint64_t size = (uint64_t)sb.st_size, pos = 0, hend = 0, line_start = 0, records = 0;
    int have_header = !header, nonblank = 0, inq = 0, next = 1;
    uint64_t block_end = 0; /* of the read holding record WEFT_SUM_BLOCK */
    int typing = window > 0;
    unsigned char prev = 0;
    *typed_end = 0;
    for (int r = 0; r <= nranks; r++)
        cuts[r] = size;
    cuts[0] = 0;
    if (have_header)
        for (int r = 1; r < nranks; r++)
            targets[r] = size * (uint64_t)r / (uint64_t)nranks;
    size_t got, bom = 0;
    while ((got = fread(buf, 1, IO_CHUNK, f)) > 0 && (next < nranks || typing)) {
        if (pos == 0 && got >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
            line_start = bom = 3;
        for (size_t i = 0; i < got; i++) {
            unsigned char c = buf[i], before = prev;
            prev = c;
            if (c == '"') {
                inq ^= 1;
            } else if (c == '\n' && !inq) {
                uint64_t p = pos + i + 1, len = p - 1 - line_start;
                line_start = p;
                if (have_header) {
                    int blank = len == 0 || (len == 1 && before == '\r');
                    records += !blank;
                    if (typing && !blank) {
                        if (records == WEFT_SUM_BLOCK) block_end = ((p - 1) / window + 1) * window;
                        if (block_end && p > block_end)
                            typing = 0;
                        else if (records % WEFT_SUM_BLOCK == 0)
                            *typed_end = p;
                    }
                    if (window && (blank || records % WEFT_SUM_BLOCK)) continue;
                    while (next < nranks && targets[next] <= p)
                        cuts[next++] = p;
                    if (next >= nranks && !typing) break;
                } else if (nonblank) {
                    /* The header record ends here: the data is cut evenly. */
                    have_header = 1;
                    hend = p;
                    for (int r = 1; r < nranks; r++)
                        targets[r] = hend + (size - hend) * (uint64_t)r / (uint64_t)nranks;
                    while (next < nranks && targets[next] <= p)
                        cuts[next++] = p;
                }
                continue;
            }
            if (!have_header && c != '\r' && !(pos + i < bom)) nonblank = 1;
        }
        pos += got;
    }
    if (ferror(f)) st = weft_mpi_fail(WEFT_ERR_IO, "reading %s", input);
    fclose(f);
    free(buf);
    free(targets);
    /* No header line end: the whole file is rank 0's. */
    *header_end = have_header ? hend : size;
    /* The first window reached the end of the file: it is all typed. */
    if (typing && !(block_end && size >= block_end)) *typed_end = size;
    return st;
}

/* Rank 0: "name=i64,..." for every column the first window types, as one
 * process types it, followed by the caller's own types (which win). A column
 * whose name holds ',' or '=' cannot be named there and is left out. */
static void infer_types(weft_ctx *ctx, const char *input, const weft_csv_options *options,
                        char *types, size_t cap)
{
    types[0] = 0;
    size_t len = 0;
    weft_csv_reader *reader = NULL;
    size_t ncols = 0, rows = 0;
    if (weft_csv_open(ctx, input, options, &reader) == WEFT_OK &&
        weft_csv_column_count(reader, &ncols) == WEFT_OK &&
        weft_csv_next(reader, &rows, NULL) == WEFT_OK && rows > 0) {
        for (size_t c = 0; c < ncols; c++) {
            const char *name = weft_csv_column_name(reader, c);
            weft_array *a = NULL;
            weft_dtype dt;
            if (!name || strpbrk(name, ",=") || weft_csv_column(reader, c, &a) != WEFT_OK ||
                weft_array_dtype(a, &dt) != WEFT_OK || (dt != WEFT_I64 && dt != WEFT_F64))
                continue;
            int n = snprintf(types + len, cap - len, "%s%s=%s", len ? "," : "", name,
                             dt == WEFT_I64 ? "i64" : "f64");
            if (n < 0 || (size_t)n >= cap - len) {
                types[len] = 0;
                break;
            }
            len += (size_t)n;
        }
    }
    if (reader) weft_csv_close(reader);
    if (options && options->types && *options->types) {
        int n = snprintf(types + len, cap - len, "%s%s", len ? "," : "", options->types);
        if (n < 0 || (size_t)n >= cap - len) types[0] = 0; /* too long: theirs alone */
    }
}

/* Copies [from, from + count) of in to out (both open). */
static weft_status copy_range(FILE *in, uint64_t from, uint64_t count, FILE *out, char *buf,
                              const char *what)
{
    if (fseeko(in, (off_t)from, SEEK_SET) != 0)
        return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", what, strerror(errno));
    while (count > 0) {
        size_t want = count < IO_CHUNK ? (size_t)count : IO_CHUNK;
        size_t got = fread(buf, 1, want, in);
        if (got == 0) return weft_mpi_fail(WEFT_ERR_IO, "%s: short read", what);
        if (fwrite(buf, 1, got, out) != got)
            return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", what, strerror(errno));
        count -= got;
    }
    return WEFT_OK;
}

/* This rank's part: the header bytes, then its records. */
static weft_status write_part(const char *input, const char *part, uint64_t header_end,
                              uint64_t from, uint64_t to)
{
    FILE *in = fopen(input, "rb");
    if (!in) return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", input, strerror(errno));
    FILE *out = fopen(part, "wb");
    char *buf = malloc(IO_CHUNK);
    weft_status st = WEFT_OK;
    if (!out)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", part, strerror(errno));
    else if (!buf)
        st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory to copy %s", input);
    if (st == WEFT_OK && header_end) st = copy_range(in, 0, header_end, out, buf, input);
    if (st == WEFT_OK) st = copy_range(in, from, to - from, out, buf, input);
    if (out && fclose(out) != 0 && st == WEFT_OK)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", part, strerror(errno));
    fclose(in);
    free(buf);
    return st;
}

static weft_status file_size(const char *path, uint64_t *size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", path, strerror(errno));
    *size = (uint64_t)sb.st_size;
    return WEFT_OK;
}

/* Rank 0: the parts' outputs, the header (hlen bytes, rank 0's) once. */
static weft_status concatenate(char parts[][4096], const int *ran, int nranks, uint64_t hlen,
                               const char *tmp, int do_fsync)
{
    FILE *out = fopen(tmp, "wb");
    if (!out) return weft_mpi_fail(WEFT_ERR_IO, "%s: %s", tmp, strerror(errno));
    char *buf = malloc(IO_CHUNK), *head = hlen ? malloc(hlen) : NULL, *other = NULL;
    weft_status st =
        buf && (!hlen || head) ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory to join");
    for (int r = 0; r < nranks && st == WEFT_OK; r++) {
        if (!ran[r]) continue;
        uint64_t size = 0;
        FILE *in = fopen(parts[r], "rb");
        if (!in) {
            st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", parts[r], strerror(errno));
            break;
        }
        st = file_size(parts[r], &size);
        if (st == WEFT_OK && size < hlen)
            st = weft_mpi_fail(WEFT_ERR_STATE, "%s: shorter than the header", parts[r]);
        if (st == WEFT_OK && hlen) {
            /* Every part starts with the same header: checked, then skipped. */
            char *dst = r == 0 ? head : (other = other ? other : malloc(hlen));
            if (!dst || fread(dst, 1, hlen, in) != hlen)
                st = weft_mpi_fail(WEFT_ERR_IO, "%s: reading its header", parts[r]);
            else if (r > 0 && memcmp(head, dst, hlen) != 0)
                st =
                    weft_mpi_fail(WEFT_ERR_STATE, "%s: its header differs from rank 0's", parts[r]);
            else if (r == 0 && fwrite(head, 1, hlen, out) != hlen)
                st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", tmp, strerror(errno));
        }
        if (st == WEFT_OK) st = copy_range(in, hlen, size - hlen, out, buf, parts[r]);
        fclose(in);
    }
    if (st == WEFT_OK && fflush(out) != 0)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (st == WEFT_OK && do_fsync && fsync(fileno(out)) != 0)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
    if (fclose(out) != 0 && st == WEFT_OK)
        st = weft_mpi_fail(WEFT_ERR_IO, "%s: %s", tmp, strerror(errno));
    free(buf);
    free(head);
    free(other);
    return st;
}

/* Rank 0: the types one process gives the columns (infer_types): from the
 * first typed_end bytes of the input when reductions make its first window
 * one of whole blocks (typed_end > 0), read as one window. */
static weft_status type_columns(weft_ctx *ctx, const char *input, const char *base, int pid,
                                const weft_csv_options *options, uint64_t typed_end, char *types,
                                size_t cap)
{
    if (!typed_end) {
        infer_types(ctx, input, options, types, cap);
        return WEFT_OK;
    }
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s.weft-%d-typed.in", base, pid);
    weft_status st = write_part(input, prefix, 0, 0, typed_end);
    if (st == WEFT_OK) {
        weft_csv_options whole = *options;
        whole.window_bytes = (size_t)typed_end + 64;
        infer_types(ctx, prefix, &whole, types, cap);
    }
    remove(prefix);
    return st;
}

typedef struct plan_msg {
    int32_t status;
    int32_t pid;
    uint64_t header_end;
    char types[MAX_TYPES];
} plan_msg;

/* A rank runs its records as a file of their own, whose rows it cannot
 * number in the whole file before every rank has counted its own: a
 * statement or reduction using the row index i would see other rows' numbers
 * than one process does. Refused, the same on every rank (the job is). */
static weft_status check_no_row_index(const weft_csv_job *job)
{
    for (size_t k = 0; k < job->nstatements; k++)
        if (job->statements && job->statements[k] && weft_expr_text_uses_index(job->statements[k]))
            return weft_mpi_fail(WEFT_ERR_UNSUPPORTED,
                                 "statement %zu (\"%s\") uses the row index i, which "
                                 "weft_dist_csv_run cannot number over ranks: run it on one rank",
                                 k, job->statements[k]);
    for (size_t k = 0; k < job->nreductions; k++)
        if (job->reductions[k].expr && weft_expr_text_uses_index(job->reductions[k].expr))
            return weft_mpi_fail(WEFT_ERR_UNSUPPORTED,
                                 "reduction %zu (\"%s\") uses the row index i, which "
                                 "weft_dist_csv_run cannot number over ranks: run it on one rank",
                                 k, job->reductions[k].expr);
    return WEFT_OK;
}

weft_status weft_dist_csv_run(weft_ctx *ctx, MPI_Comm comm, const char *input, const char *output,
                              const weft_csv_options *options, weft_csv_job *job,
                              weft_csv_stats *stats)
{
    weft_mpi_clear_error();
    double t0 = now_seconds();
    RETURN_ON_ERROR(weft_mpi_check_comm(comm));
    int rank = 0, nranks = 1;
    MPI_TRY(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    MPI_TRY(MPI_Comm_size(comm, &nranks), "MPI_Comm_size");
    RETURN_ON_ERROR(
        weft_mpi_check_collective(comm, "weft_dist_csv_run", (unsigned long long)nranks));

    weft_status st = WEFT_OK;
    if (!ctx)
        st = weft_mpi_fail(WEFT_ERR_NULL, "ctx is NULL");
    else if (!input)
        st = weft_mpi_fail(WEFT_ERR_NULL, "input is NULL");
    else if (!job)
        st = weft_mpi_fail(WEFT_ERR_NULL, "job is NULL");
    else if (job->nreductions > 0 && !job->reductions)
        st = weft_mpi_fail(WEFT_ERR_NULL, "reductions is NULL");
    else if (nranks > 1)
        st = check_no_row_index(job);
    st = weft_mpi_agree(comm, st);
    if (st != WEFT_OK) return st;

    if (nranks == 1) {
        /* One process, exactly. */
        st = weft_csv_run(ctx, input, output, options, job, stats);
        if (st != WEFT_OK) weft_mpi_fail_core(st, "weft_csv_run");
        return weft_mpi_agree(comm, st);
    }

    MPI_Comm dup = MPI_COMM_NULL;
    MPI_TRY(MPI_Comm_dup(comm, &dup), "duplicating the communicator");
    MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);

    weft_csv_options opts;
    if (options)
        opts = *options;
    else
        weft_csv_options_init(&opts);

    uint64_t *cuts = calloc((size_t)nranks + 1, sizeof *cuts);
    plan_msg *plan = calloc(1, sizeof *plan);
    int *ran = calloc((size_t)nranks, sizeof *ran);
    char(*parts)[4096] = calloc((size_t)nranks, sizeof *parts);
    char part_in[4096], header_in[4096], tmp_out[4096];
    part_in[0] = header_in[0] = tmp_out[0] = 0;
    st = cuts && plan && ran && parts ? WEFT_OK
                                      : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for the plan");
    if (st == WEFT_OK && rank == 0) {
        uint64_t window = opts.window_bytes ? opts.window_bytes : (uint64_t)1 << 20, typed_end = 0;
        plan->pid = (int32_t)getpid();
        st = find_cuts(input, opts.header, job->nreductions > 0 ? window : 0, nranks, cuts,
                       &plan->header_end, &typed_end);
        /* Rank 0 alone holding the records runs one process's job exactly:
         * no types are forced on it. */
        if (st == WEFT_OK && cuts[1] < cuts[nranks])
            st = type_columns(ctx, input, output ? output : input, plan->pid, &opts, typed_end,
                              plan->types, sizeof plan->types);
    }
    st = weft_mpi_agree(dup, st);
    int rc = MPI_SUCCESS;
    if (st == WEFT_OK) rc = MPI_Bcast(plan, (int)sizeof *plan, MPI_BYTE, 0, dup);
    if (st == WEFT_OK && rc == MPI_SUCCESS) rc = MPI_Bcast(cuts, nranks + 1, MPI_UINT64_T, 0, dup);
    if (st == WEFT_OK && rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "sending the plan");
    st = weft_mpi_agree(dup, st);

    /* Part files beside the output (the ranks must share its file system). */
    const char *base = output ? output : input;
    weft_csv_stats mine;
    memset(&mine, 0, sizeof mine);
    csv_blocks blocks;
    memset(&blocks, 0, sizeof blocks);
    if (st == WEFT_OK) st = csv_blocks_init(&blocks, job->nreductions);
    if (st == WEFT_OK) {
        if (plan->types[0]) opts.types = plan->types;
        for (int r = 0; r < nranks; r++) {
            snprintf(parts[r], sizeof parts[r], "%s.weft-%d-rank%d.out", base, (int)plan->pid, r);
            ran[r] = r == 0 || cuts[r] < cuts[r + 1];
        }
        snprintf(part_in, sizeof part_in, "%s.weft-%d-rank%d.in", base, (int)plan->pid, rank);
        snprintf(header_in, sizeof header_in, "%s.weft-%d-header.in", base, (int)plan->pid);
        snprintf(tmp_out, sizeof tmp_out, "%s.weft-%d.tmp", base, (int)plan->pid);
        if (ran[rank]) {
            uint64_t from = rank == 0 ? 0 : cuts[rank], to = cuts[rank + 1];
            st = write_part(input, part_in, rank == 0 ? 0 : plan->header_end, from, to);
            csv_blocks_watch(&blocks);
            if (st == WEFT_OK) {
                st = weft_csv_run(ctx, part_in, output ? parts[rank] : NULL, &opts, job, &mine);
                /* A failing watcher has set its own detail. */
                if (st != WEFT_OK && !*weft_mpi_last_error())
                    weft_mpi_fail_core(st, "weft_csv_run on this rank's records");
                blocks.rows = mine.rows;
            }
            csv_blocks_watch(NULL);
            remove(part_in);
        }
    }
    /* The header as one process writes it: what every part starts with. */
    uint64_t hlen = 0;
    int need_header = 0;
    for (int r = 1; r < nranks && st == WEFT_OK; r++)
        need_header |= ran[r];
    if (st == WEFT_OK && rank == 0 && output && opts.header && need_header) {
        st = write_part(input, header_in, plan->header_end, 0, 0);
        char header_out[4200];
        snprintf(header_out, sizeof header_out, "%s.out", header_in);
        if (st == WEFT_OK) {
            weft_csv_job no_reductions = *job;
            no_reductions.nreductions = 0;
            st = weft_csv_run(ctx, header_in, header_out, &opts, &no_reductions, NULL);
            if (st != WEFT_OK) weft_mpi_fail_core(st, "weft_csv_run on the header");
        }
        if (st == WEFT_OK) st = file_size(header_out, &hlen);
        remove(header_in);
        remove(header_out);
    }
    st = weft_mpi_agree(dup, st);
    int agreed = st == WEFT_OK; /* the same on every rank */
    if (st == WEFT_OK && rank == 0 && output) {
        st = concatenate(parts, ran, nranks, hlen, tmp_out, opts.fsync);
        if (st == WEFT_OK && rename(tmp_out, output) != 0)
            st = weft_mpi_fail(WEFT_ERR_IO, "renaming %s onto %s: %s", tmp_out, output,
                               strerror(errno));
        if (st != WEFT_OK) remove(tmp_out);
    }
    /* Rank 0 has read every part (or the run failed): they go. */
    MPI_Barrier(dup);
    if (output && parts && ran && ran[rank] && parts[rank][0]) remove(parts[rank]);
    /* Only the joining can have failed since: a failure agreed on above keeps
     * its detail on the rank that failed (agreeing again would name another). */
    if (agreed) st = weft_mpi_agree(dup, st);

    if (st == WEFT_OK) {
        uint64_t sums[3] = {mine.rows, mine.windows, mine.bytes_read}, total[3] = {0, 0, 0};
        rc = MPI_Allreduce(sums, total, 3, MPI_UINT64_T, MPI_SUM, dup);
        uint64_t written = 0;
        if (rank == 0 && output) file_size(output, &written);
        if (rc == MPI_SUCCESS) rc = MPI_Bcast(&written, 1, MPI_UINT64_T, 0, dup);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "summing the stats");
        if (stats) {
            *stats = mine;
            stats->rows = total[0];
            stats->windows = total[1];
            stats->bytes_read = total[2];
            stats->bytes_written = written;
            stats->seconds = now_seconds() - t0;
        }
        st = weft_mpi_agree(dup, st);
    }
    if (st == WEFT_OK && job->nreductions > 0)
        st = weft_mpi_agree(dup, csv_blocks_combine(&blocks, dup, nranks, job));
    csv_blocks_free(&blocks);
    free(cuts);
    free(plan);
    free(ran);
    free(parts);
    MPI_Comm_free(&dup);
    return st;
}
