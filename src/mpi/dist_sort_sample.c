/* The sample sort over ranks, with one process's answer:
 *  1. each rank sorts a copy of its block (weft_sort, stable) and samples it
 *     at regular positions;
 *  2. every rank gathers all samples (MPI_Allgatherv) and picks the same
 *     nranks - 1 splitters, ordered as weft_sort orders keys with ties broken
 *     by (rank, sorted position), i.e. by global input position;
 *  3. each rank cuts its sorted block at the splitters, the ranks share the
 *     counts (MPI_Allgather of one row each) and the pieces go to their
 *     ranks (MPI_Alltoallv), arriving in source-rank order;
 *  4. a stable merge of what arrived (dist_sort_merge.c) orders equal keys
 *     by source rank, then by position in the source: the global input
 *     order, as one process's sort;
 *  5. a second MPI_Alltoallv hands each rank back as many elements as its
 *     block holds, from the global position of every received run.
 * Every local step that can fail (allocations, sorts) is followed by an
 * agreement before the next exchange, so no rank waits in a collective that
 * a failed rank never enters. Counts are MPI ints per rank, not for the whole
 * array: the array may exceed what one rank could hold. */
#include "dist_sort_keys.h"
#include "dist_sort_merge.h"
#include "dist_sort_sample.h"
#include "mpi_error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct sort_run {
    weft_dist *keys, *values; /* values may be NULL */
    unsigned flags;
    int rank, p;
    size_t m;               /* this rank's block */
    void *sk, *sv;          /* the block sorted; at the end, the block's answer */
    void *rk, *rv;          /* what this rank receives */
    void *tk, *tv;          /* as large: where the received runs merge */
    size_t received;        /* elements in rk */
    sort_sample *samples;   /* every rank's, at each rank's displacement */
    sort_sample *splitters; /* p - 1, after the samples */
    size_t *bounds;         /* p - 1 cuts of this rank's sorted block */
    size_t *starts;         /* p + 1, after the bounds: where each received run starts */
    int *matrix;            /* p x p: matrix[s * p + d] elements go from rank s to d */
    int *scount, *sdispl, *rcount, *rdispl, *sample_bytes, *sample_displs; /* p each */
} sort_run;

/* Page-aligned (sorts wrap it) and not zeroed (it is written before it is
 * read): weft_dist_host_alloc's clearing would be one more pass. */
static void *buffer(size_t bytes)
{
    enum { PAGE = 4096 };
    return aligned_alloc(PAGE, bytes / PAGE * PAGE + PAGE);
}

static weft_status allocate(sort_run *r)
{
    size_t p = (size_t)r->p, nsamples = 0;
    for (int q = 0; q < r->p; q++)
        nsamples += weft_sort_sample_count(r->keys, q);
    r->sk = buffer(r->m * r->keys->elem_size);
    r->sv = r->values ? buffer(r->m * r->values->elem_size) : NULL;
    r->samples = malloc((nsamples + p) * sizeof *r->samples);
    r->bounds = malloc((2 * p + 1) * sizeof *r->bounds);
    r->matrix = malloc((p * p + 6 * p) * sizeof *r->matrix);
    if (!r->sk || (r->values && !r->sv) || !r->samples || !r->bounds || !r->matrix)
        return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for sorting %zu elements", r->m);
    r->splitters = r->samples + nsamples;
    r->starts = r->bounds + p;
    int *ints = r->matrix + p * p;
    r->scount = ints;
    r->sdispl = ints + p;
    r->rcount = ints + 2 * p;
    r->rdispl = ints + 3 * p;
    r->sample_bytes = ints + 4 * p;
    r->sample_displs = ints + 5 * p;
    size_t at = 0;
    for (int q = 0; q < r->p; q++) {
        size_t bytes = weft_sort_sample_count(r->keys, q) * sizeof *r->samples;
        if (bytes > INT_MAX || at > INT_MAX)
            return weft_mpi_fail(WEFT_ERR_SIZE, "%zu samples exceed MPI's int counts", nsamples);
        r->sample_bytes[q] = (int)bytes;
        r->sample_displs[q] = (int)at;
        at += bytes;
    }
    return WEFT_OK;
}

static weft_status read_block(weft_dist *d, void *dst)
{
    if (!d || d->counts[d->rank] == 0) return WEFT_OK;
    weft_status st = weft_array_read(d->local, 0, d->counts[d->rank], dst);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "reading the block");
}

/* Step 1, on this rank alone. */
static weft_status sort_locally(sort_run *r)
{
    for (int q = 0; q < r->p; q++)
        RETURN_ON_ERROR(weft_dist_check_int(r->keys->counts[q], "weft_dist_sort"));
    RETURN_ON_ERROR(allocate(r));
    RETURN_ON_ERROR(read_block(r->keys, r->sk));
    RETURN_ON_ERROR(read_block(r->values, r->sv));
    RETURN_ON_ERROR(
        weft_dist_sort_host(r->keys, r->values, r->m, r->sk, r->sv, r->flags, "sorting the block"));
    weft_sort_take_samples(r->keys, r->sk, r->flags & WEFT_SORT_DESCENDING,
                           (sort_sample *)((char *)r->samples + r->sample_displs[r->rank]));
    return WEFT_OK;
}

/* Steps 2 and 3's counts: who sends whom how many, known on every rank. */
static weft_status share_counts(sort_run *r)
{
    MPI_TRY(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r->samples, r->sample_bytes,
                           r->sample_displs, MPI_BYTE, r->keys->comm),
            "MPI_Allgatherv of the samples");
    size_t nsamples = 0;
    for (int q = 0; q < r->p; q++)
        nsamples += (size_t)r->sample_bytes[q] / sizeof *r->samples;
    weft_sort_splitters(r->samples, nsamples, r->p, r->splitters);
    weft_sort_bounds(r->keys, r->sk, r->flags & WEFT_SORT_DESCENDING, r->splitters, r->bounds);
    r->bounds[r->p - 1] = r->m;
    int *row = r->matrix + (size_t)r->rank * (size_t)r->p;
    for (int d = 0; d < r->p; d++)
        row[d] = (int)(r->bounds[d] - (d > 0 ? r->bounds[d - 1] : 0));
    MPI_TRY(
        MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r->matrix, r->p, MPI_INT, r->keys->comm),
        "MPI_Allgather of the counts");
    return WEFT_OK;
}

/* Displacements from counts: false when they pass MPI's ints. */
static int displace(const int *count, int *displ, int p, size_t *total)
{
    size_t at = 0;
    for (int q = 0; q < p; q++) {
        displ[q] = (int)at;
        at += (size_t)count[q];
        if (at > INT_MAX) return 0;
    }
    *total = at;
    return 1;
}

/* Step 3's buffers. */
static weft_status plan_first(sort_run *r)
{
    for (int q = 0; q < r->p; q++) {
        r->scount[q] = r->matrix[(size_t)r->rank * (size_t)r->p + (size_t)q];
        r->rcount[q] = r->matrix[(size_t)q * (size_t)r->p + (size_t)r->rank];
    }
    size_t sent = 0;
    if (!displace(r->scount, r->sdispl, r->p, &sent) ||
        !displace(r->rcount, r->rdispl, r->p, &r->received))
        return weft_mpi_fail(WEFT_ERR_SIZE, "a rank's share exceeds MPI's int counts");
    size_t kbytes = r->received * r->keys->elem_size;
    size_t vbytes = r->values ? r->received * r->values->elem_size : 0;
    r->rk = buffer(kbytes);
    r->tk = buffer(kbytes);
    r->rv = r->values ? buffer(vbytes) : NULL;
    r->tv = r->values ? buffer(vbytes) : NULL;
    if (!r->rk || !r->tk || (r->values && (!r->rv || !r->tv)))
        return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for %zu elements received", r->received);
    return WEFT_OK;
}

static weft_status exchange(sort_run *r, const void *kfrom, void *kto, const void *vfrom, void *vto,
                            const char *what)
{
    MPI_TRY(MPI_Alltoallv(kfrom, r->scount, r->sdispl, r->keys->element, kto, r->rcount, r->rdispl,
                          r->keys->element, r->keys->comm),
            what);
    if (r->values)
        MPI_TRY(MPI_Alltoallv(vfrom, r->scount, r->sdispl, r->values->element, vto, r->rcount,
                              r->rdispl, r->values->element, r->values->comm),
                what);
    return WEFT_OK;
}

/* Elements of [a, a + na) that are also in [b, b + nb), and where they start
 * in the first. */
static int overlap(size_t a, size_t na, size_t b, size_t nb, int *displ)
{
    size_t lo = a > b ? a : b, hi = a + na < b + nb ? a + na : b + nb;
    *displ = (int)(lo < hi ? lo - a : 0);
    return (int)(lo < hi ? hi - lo : 0);
}

/* Step 5's counts: rank q's received run is the sorted array's elements from
 * the runs of the ranks before it; each goes to the ranks whose block it
 * overlaps. */
static void plan_second(sort_run *r)
{
    size_t start = 0, my_start = 0;
    for (int q = 0; q < r->p; q++) {
        size_t got = 0;
        for (int s = 0; s < r->p; s++)
            got += (size_t)r->matrix[(size_t)s * (size_t)r->p + (size_t)q];
        if (q == r->rank) my_start = start;
        r->rcount[q] = overlap(r->keys->offsets[r->rank], r->m, start, got, &r->rdispl[q]);
        start += got;
    }
    for (int q = 0; q < r->p; q++)
        r->scount[q] =
            overlap(my_start, r->received, r->keys->offsets[q], r->keys->counts[q], &r->sdispl[q]);
}

static weft_status write_block(weft_dist *d, const void *src)
{
    if (!d || d->counts[d->rank] == 0) return WEFT_OK;
    weft_status st = weft_array_write(d->local, 0, d->counts[d->rank], src);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "writing the sorted block");
}

static weft_status run_steps(sort_run *r, weft_status checked)
{
    MPI_Comm comm = r->keys->comm;
    weft_status st = checked;
    if (st == WEFT_OK) st = sort_locally(r);
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    st = share_counts(r);
    if (st == WEFT_OK) st = plan_first(r);
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    st = exchange(r, r->sk, r->rk, r->sv, r->rv, "MPI_Alltoallv to the splitters' ranks");
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    for (int q = 0; q <= r->p; q++)
        r->starts[q] = q < r->p ? (size_t)r->rdispl[q] : r->received;
    int in_t =
        weft_sort_merge_runs(r->keys->dtype, r->flags & WEFT_SORT_DESCENDING, r->rk, r->tk,
                             r->values ? r->values->elem_size : 0, r->rv, r->tv, r->starts, r->p);
    plan_second(r);
    st = exchange(r, in_t ? r->tk : r->rk, r->sk, in_t ? r->tv : r->rv, r->sv,
                  "MPI_Alltoallv back to the split");
    if (st == WEFT_OK) st = write_block(r->keys, r->sk);
    if (st == WEFT_OK) st = write_block(r->values, r->sv);
    return weft_mpi_agree(comm, st);
}

weft_status weft_dist_sort_sample(weft_dist *keys, weft_dist *values, unsigned flags,
                                  weft_status checked)
{
    if (keys->n == 0) return weft_mpi_agree(keys->comm, checked);
    sort_run r;
    memset(&r, 0, sizeof r);
    r.keys = keys;
    r.values = values;
    r.flags = flags;
    r.rank = keys->rank;
    r.p = keys->nranks;
    r.m = keys->counts[keys->rank];
    weft_status st = run_steps(&r, checked);
    free(r.sk);
    free(r.sv);
    free(r.rk);
    free(r.rv);
    free(r.tk);
    free(r.tv);
    free(r.samples);
    free(r.bounds);
    free(r.matrix);
    return st;
}
