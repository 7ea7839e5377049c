/* Ghost exchange for stencils, PETSc's VecGhostUpdateBegin/End: begin reads
 * this rank's edges and posts nonblocking sends and receives, end waits and
 * writes the ghost arrays, so computation that needs no ghosts runs between.
 * Each message ends in its sender's status: a rank whose edges cannot be read
 * still sends (its status says it failed), so its neighbours' end returns
 * that failure instead of waiting forever or writing garbage ghosts. */
#include "dist.h"
#include "collective_check.h"
#include "mpi_error.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_TO_RIGHT = 23001, TAG_TO_LEFT = 23002 };

struct weft_dist_halo {
    weft_dist *array;
    size_t width;
    int left, right; /* neighbouring ranks holding elements, or MPI_PROC_NULL */
    weft_array *ghost_left, *ghost_right;
    /* One block holds the four messages: width elements, then a status. */
    unsigned char *buffers;
    size_t bytes; /* of the elements */
    unsigned char *send_left, *send_right, *recv_left, *recv_right;
    MPI_Request requests[4];
    int started;
    weft_status failed; /* this rank's begin */
};

enum { TRAILER = sizeof(int64_t) };

static void set_trailer(unsigned char *message, size_t bytes, weft_status st)
{
    int64_t v = (int64_t)st;
    memcpy(message + bytes, &v, sizeof v);
}

static weft_status trailer(const unsigned char *message, size_t bytes)
{
    int64_t v;
    memcpy(&v, message + bytes, sizeof v);
    return (weft_status)v;
}

static void destroy(weft_dist_halo *h)
{
    if (!h) return;
    weft_array_free(h->ghost_left);
    weft_array_free(h->ghost_right);
    free(h->buffers);
    free(h);
}

static weft_status build(weft_dist *d, size_t width, weft_dist_halo *h)
{
    size_t bytes = width * d->elem_size;
    for (int r = 0; r < d->nranks; r++)
        if (d->counts[r] > 0 && d->counts[r] < width)
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "rank %d holds %zu elements, fewer than the halo width %zu", r,
                                 d->counts[r], width);
    if (bytes > INT_MAX - TRAILER)
        return weft_mpi_fail(WEFT_ERR_SIZE, "a halo of %zu elements exceeds MPI's int counts",
                             width);
    h->array = d;
    h->width = width;
    h->bytes = bytes;
    int holds = d->counts[d->rank] > 0;
    h->left = holds ? weft_mpi_neighbour(d->counts, d->nranks, d->rank, -1) : MPI_PROC_NULL;
    h->right = holds ? weft_mpi_neighbour(d->counts, d->nranks, d->rank, +1) : MPI_PROC_NULL;
    for (int k = 0; k < 4; k++)
        h->requests[k] = MPI_REQUEST_NULL;
    h->buffers = calloc(4, bytes + TRAILER);
    if (!h->buffers) return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for halo buffers");
    h->send_left = h->buffers;
    h->send_right = h->buffers + (bytes + TRAILER);
    h->recv_left = h->buffers + 2 * (bytes + TRAILER);
    h->recv_right = h->buffers + 3 * (bytes + TRAILER);
    CORE_TRY(weft_array_create(d->ctx, d->dtype, width, &h->ghost_left), "creating ghosts");
    CORE_TRY(weft_array_create(d->ctx, d->dtype, width, &h->ghost_right), "creating ghosts");
    return WEFT_OK;
}

weft_status weft_dist_halo_create(weft_dist *array, size_t width, weft_dist_halo **halo)
{
    weft_mpi_clear_error();
    if (!array || !halo) return weft_mpi_fail(WEFT_ERR_NULL, "array or output handle is NULL");
    *halo = NULL;
    RETURN_ON_ERROR(weft_mpi_check_collective(array->comm, "weft_dist_halo_create", width));
    weft_dist_halo *h = calloc(1, sizeof *h);
    weft_status st = h ? build(array, width, h) : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory");
    st = weft_mpi_same_everywhere(array->comm, st, "the halo width", width, 0);
    if (st != WEFT_OK) {
        destroy(h);
        return st;
    }
    *halo = h;
    return WEFT_OK;
}

weft_status weft_dist_halo_free(weft_dist_halo *halo)
{
    weft_mpi_clear_error();
    if (halo && halo->started) MPI_Waitall(4, halo->requests, MPI_STATUSES_IGNORE);
    destroy(halo);
    return WEFT_OK;
}

/* This rank's edges into the send buffers. */
static weft_status read_edges(weft_dist_halo *h)
{
    weft_dist *d = h->array;
    size_t count = d->counts[d->rank];
    if (h->left != MPI_PROC_NULL)
        CORE_TRY(weft_array_read(d->local, 0, h->width, h->send_left), "reading the left edge");
    if (h->right != MPI_PROC_NULL)
        CORE_TRY(weft_array_read(d->local, count - h->width, h->width, h->send_right),
                 "reading the right edge");
    return WEFT_OK;
}

weft_status weft_dist_halo_begin(weft_dist_halo *h)
{
    weft_mpi_clear_error();
    if (!h) return weft_mpi_fail(WEFT_ERR_NULL, "halo is NULL");
    if (h->started) return weft_mpi_fail(WEFT_ERR_STATE, "the exchange has begun already");
    weft_dist *d = h->array;
    /* Posted whatever the read gave: the neighbours wait for these. */
    h->failed = read_edges(h);
    set_trailer(h->send_left, h->bytes, h->failed);
    set_trailer(h->send_right, h->bytes, h->failed);
    int n = (int)(h->bytes + TRAILER);
    MPI_TRY(MPI_Irecv(h->recv_left, n, MPI_BYTE, h->left, TAG_TO_RIGHT, d->comm, &h->requests[0]),
            "MPI_Irecv");
    MPI_TRY(MPI_Irecv(h->recv_right, n, MPI_BYTE, h->right, TAG_TO_LEFT, d->comm, &h->requests[1]),
            "MPI_Irecv");
    MPI_TRY(MPI_Isend(h->send_right, n, MPI_BYTE, h->right, TAG_TO_RIGHT, d->comm, &h->requests[2]),
            "MPI_Isend");
    MPI_TRY(MPI_Isend(h->send_left, n, MPI_BYTE, h->left, TAG_TO_LEFT, d->comm, &h->requests[3]),
            "MPI_Isend");
    h->started = 1;
    return h->failed;
}

weft_status weft_dist_halo_end(weft_dist_halo *h)
{
    weft_mpi_clear_error();
    if (!h) return weft_mpi_fail(WEFT_ERR_NULL, "halo is NULL");
    if (!h->started) return weft_mpi_fail(WEFT_ERR_STATE, "weft_dist_halo_begin first");
    h->started = 0;
    MPI_TRY(MPI_Waitall(4, h->requests, MPI_STATUSES_IGNORE), "MPI_Waitall");
    if (h->failed != WEFT_OK)
        return weft_mpi_fail(h->failed, "this rank's weft_dist_halo_begin failed (%s)",
                             weft_status_str(h->failed));
    /* The lower neighbour first, as an agreement names the lowest rank. */
    weft_status left = h->left != MPI_PROC_NULL ? trailer(h->recv_left, h->bytes) : WEFT_OK;
    weft_status right = h->right != MPI_PROC_NULL ? trailer(h->recv_right, h->bytes) : WEFT_OK;
    if (left != WEFT_OK || right != WEFT_OK)
        return weft_mpi_fail(left != WEFT_OK ? left : right, "failed on rank %d (%s)",
                             left != WEFT_OK ? h->left : h->right,
                             weft_status_str(left != WEFT_OK ? left : right));
    if (h->left != MPI_PROC_NULL)
        CORE_TRY(weft_array_write(h->ghost_left, 0, h->width, h->recv_left), "writing ghosts");
    if (h->right != MPI_PROC_NULL)
        CORE_TRY(weft_array_write(h->ghost_right, 0, h->width, h->recv_right), "writing ghosts");
    return WEFT_OK;
}

weft_array *weft_dist_halo_left(const weft_dist_halo *halo)
{
    return halo ? halo->ghost_left : NULL;
}

weft_array *weft_dist_halo_right(const weft_dist_halo *halo)
{
    return halo ? halo->ghost_right : NULL;
}
