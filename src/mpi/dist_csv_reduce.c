/* Job reductions of weft_dist_csv_run (dist_csv_reduce.h). */
#include "dist_csv_reduce.h"
#include "../csv/reduce_blocks.h"
#include "mpi_error.h"

#include <stdlib.h>
#include <string.h>

static weft_status keep_block(void *user, size_t k, const weft_scalar *partial, uint64_t first_row)
{
    csv_blocks *b = user;
    if (k >= b->nreductions) return weft_mpi_fail(WEFT_ERR_STATE, "reduction %zu out of range", k);
    if (b->count[k] == b->cap[k]) {
        size_t cap = b->cap[k] ? 2 * b->cap[k] : 64;
        dist_partial *grown = realloc(b->kept[k], cap * sizeof *grown);
        if (!grown) return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for block partials");
        b->kept[k] = grown;
        b->cap[k] = cap;
    }
    b->kept[k][b->count[k]++] = weft_dist_partial_of(partial, first_row);
    return WEFT_OK;
}

weft_status csv_blocks_init(csv_blocks *b, size_t nreductions)
{
    memset(b, 0, sizeof *b);
    b->nreductions = nreductions;
    size_t n = nreductions ? nreductions : 1;
    b->kept = calloc(n, sizeof *b->kept);
    b->count = calloc(n, sizeof *b->count);
    b->cap = calloc(n, sizeof *b->cap);
    if (!b->kept || !b->count || !b->cap)
        return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for block partials");
    return WEFT_OK;
}

void csv_blocks_watch(csv_blocks *b)
{
    if (b)
        weft_csv_watch_blocks(keep_block, b);
    else
        weft_csv_watch_blocks(NULL, NULL);
}

void csv_blocks_free(csv_blocks *b)
{
    for (size_t k = 0; b->kept && k < b->nreductions; k++)
        free(b->kept[k]);
    free(b->kept);
    free(b->count);
    free(b->cap);
    memset(b, 0, sizeof *b);
}

/* Where this rank's records start in the file; fails unless every rank
 * before the last holding records holds whole blocks (the cuts promise it). */
static weft_status row_offset(const csv_blocks *b, MPI_Comm comm, int nranks, uint64_t *offset)
{
    uint64_t *rows = calloc((size_t)nranks, sizeof *rows);
    weft_status ready =
        weft_mpi_agree(comm, rows ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory"));
    if (ready != WEFT_OK) {
        free(rows);
        return ready;
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int rc = MPI_Allgather(&b->rows, 1, MPI_UINT64_T, rows, 1, MPI_UINT64_T, comm);
    weft_status st = rc == MPI_SUCCESS ? WEFT_OK : weft_mpi_fail_mpi(rc, "gathering row counts");
    int last = -1;
    for (int r = 0; r < nranks; r++)
        if (rows[r]) last = r;
    *offset = 0;
    for (int r = 0; st == WEFT_OK && r < last; r++) {
        if (rows[r] % WEFT_SUM_BLOCK)
            st = weft_mpi_fail(WEFT_ERR_STATE,
                               "rank %d's %llu records are not whole blocks of %d: the "
                               "reductions cannot follow one process",
                               r, (unsigned long long)rows[r], WEFT_SUM_BLOCK);
        if (r < rank) *offset += rows[r];
    }
    free(rows);
    return st;
}

weft_status csv_blocks_combine(csv_blocks *b, MPI_Comm comm, int nranks, weft_csv_job *job)
{
    uint64_t offset = 0;
    RETURN_ON_ERROR(row_offset(b, comm, nranks, &offset));
    weft_status st = WEFT_OK;
    for (size_t k = 0; k < b->nreductions && st == WEFT_OK; k++) {
        for (size_t i = 0; i < b->count[k]; i++)
            b->kept[k][i].index += offset;
        dist_partial *all = NULL;
        size_t nall = 0;
        st = weft_dist_gather_partials(comm, nranks, b->kept[k], b->count[k], &all, &nall);
        weft_scalar *out = &job->reductions[k].result;
        if (st == WEFT_OK && nall > 0) {
            st = weft_dist_combine(job->reductions[k].op, all, nall, out);
        } else if (st == WEFT_OK) {
            /* No records anywhere: rank 0's answer (it ran on the empty file). */
            int rc = MPI_Bcast(out, (int)sizeof *out, MPI_BYTE, 0, comm);
            if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "sending the result");
        }
        free(all);
    }
    return st;
}
