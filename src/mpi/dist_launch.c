/* A user kernel launched over row-distributed arrays: each rank runs its own
 * rows with the kernel source and host_fn of one process (weft_launch_rows).
 * Halo rows come from the neighbouring ranks: the receives and sends are
 * posted first, the interior rows (which need no ghosts) are queued, the
 * exchange is waited for while they run, the ghosts are written, and then the
 * boundary rows run. Inside a rank, weft splits each part over its devices. */
#include "dist_rows.h"
#include "collective_check.h"
#include "mpi_error.h"

#include <stdlib.h>
#include <string.h>

enum { TAG_BASE = 24000, MAX_EXCHANGES = 16 };

/* One halo argument's exchange: ghosts left and right, this rank's edges. */
typedef struct exchange {
    weft_dist_rows *rows;
    size_t width;
    int left, right;
    void *send_left, *send_right, *recv_left, *recv_right;
} exchange;

typedef struct launch_state {
    exchange ex[MAX_EXCHANGES];
    size_t nex;
    MPI_Request requests[4 * MAX_EXCHANGES];
    int nrequests;
    weft_arg *plain; /* the arguments as weft_launch_rows takes them */
    size_t halo;     /* the widest halo: rows within it of an edge need ghosts */
} launch_state;

/* Everything one rank can find wrong by itself; the caller agrees on it. */
static weft_status check(const weft_dist_rows *lead, const weft_range *range,
                         const weft_dist_arg *args, size_t nargs, launch_state *s)
{
    size_t outer = range->size[0];
    for (unsigned d = range->dims; d-- > 1;)
        if (range->size[d] > 1) {
            outer = range->size[d];
            break;
        }
    if (range->dims < 1 || range->dims > 3)
        return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "the range has %u dimensions", range->dims);
    if (outer != lead->rows)
        return weft_mpi_fail(WEFT_ERR_SIZE,
                             "the range's split dimension has %zu indices, the arrays %zu rows",
                             outer, lead->rows);
    for (size_t k = 0; k < nargs; k++) {
        const weft_dist_arg *a = &args[k];
        s->plain[k] = a->arg;
        int split = a->arg.kind == WEFT_ARG_SLICE || a->arg.kind == WEFT_ARG_HALO;
        if (split != (a->rows != NULL))
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "argument %zu: slices and halos take a weft_dist_rows "
                                 "(weft_dist_arg_slice / _halo), other kinds none",
                                 k);
        if (!split) continue;
        int same = MPI_UNEQUAL;
        MPI_Comm_compare(a->rows->comm, lead->comm, &same);
        if (same != MPI_CONGRUENT && same != MPI_IDENT)
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "argument %zu lives on another communicator than argument 0's", k);
        if (a->rows->rows != lead->rows || a->rows->ctx != lead->ctx)
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "argument %zu has %zu rows (or another context), the first %zu", k,
                                 a->rows->rows, lead->rows);
        s->plain[k].array = a->rows->array;
        if (a->arg.kind != WEFT_ARG_HALO || a->arg.halo == 0) continue;
        for (int r = 0; r < lead->nranks; r++)
            if (lead->count[r] > 0 && lead->count[r] < a->arg.halo)
                return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                     "rank %d holds %zu rows, fewer than argument %zu's halo %zu",
                                     r, lead->count[r], k, a->arg.halo);
        if (s->nex == MAX_EXCHANGES)
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "more than %d halo arguments",
                                 MAX_EXCHANGES);
        exchange *e = &s->ex[s->nex++];
        e->rows = a->rows;
        e->width = a->arg.halo;
        if (a->arg.halo > s->halo) s->halo = a->arg.halo;
        size_t bytes = a->arg.halo * a->rows->row_bytes + 1;
        e->send_left = malloc(bytes);
        e->send_right = malloc(bytes);
        e->recv_left = malloc(bytes);
        e->recv_right = malloc(bytes);
        if (!e->send_left || !e->send_right || !e->recv_left || !e->recv_right)
            return weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for halo rows");
    }
    return WEFT_OK;
}

/* Posts every exchange. A rank whose edges cannot be read still sends (what
 * it has), so that no neighbour waits forever; its failure is agreed on after. */
static weft_status begin_exchanges(launch_state *s)
{
    weft_status st = WEFT_OK;
    for (size_t i = 0; i < s->nex; i++) {
        exchange *e = &s->ex[i];
        weft_dist_rows *a = e->rows;
        size_t first = a->first[a->rank], count = a->count[a->rank], inner = a->row_elems;
        int holds = count > 0, w = (int)e->width, tag = TAG_BASE + 2 * (int)i;
        e->left = holds ? weft_dist_rows_neighbour(a, -1) : MPI_PROC_NULL;
        e->right = holds ? weft_dist_rows_neighbour(a, +1) : MPI_PROC_NULL;
        MPI_Request *q = &s->requests[s->nrequests];
        s->nrequests += 4;
        int rc = MPI_Irecv(e->recv_left, w, a->row, e->left, tag, a->comm, &q[0]);
        if (rc == MPI_SUCCESS)
            rc = MPI_Irecv(e->recv_right, w, a->row, e->right, tag + 1, a->comm, &q[1]);
        if (rc != MPI_SUCCESS) {
            st = weft_mpi_fail_mpi(rc, "MPI_Irecv of halo rows");
            continue;
        }
        weft_status r = WEFT_OK;
        if (e->left != MPI_PROC_NULL)
            r = weft_array_read(a->array, first * inner, e->width * inner, e->send_left);
        if (r == WEFT_OK && e->right != MPI_PROC_NULL)
            r = weft_array_read(a->array, (first + count - e->width) * inner, e->width * inner,
                                e->send_right);
        if (r != WEFT_OK && st == WEFT_OK) st = weft_mpi_fail_core(r, "reading edge rows");
        rc = MPI_Isend(e->send_right, w, a->row, e->right, tag, a->comm, &q[2]);
        if (rc == MPI_SUCCESS)
            rc = MPI_Isend(e->send_left, w, a->row, e->left, tag + 1, a->comm, &q[3]);
        if (rc != MPI_SUCCESS && st == WEFT_OK) st = weft_mpi_fail_mpi(rc, "MPI_Isend of rows");
    }
    return st;
}

static weft_status end_exchanges(launch_state *s)
{
    int rc = MPI_Waitall(s->nrequests, s->requests, MPI_STATUSES_IGNORE);
    s->nrequests = 0;
    if (rc != MPI_SUCCESS) return weft_mpi_fail_mpi(rc, "MPI_Waitall of halo rows");
    for (size_t i = 0; i < s->nex; i++) {
        exchange *e = &s->ex[i];
        weft_dist_rows *a = e->rows;
        size_t first = a->first[a->rank], count = a->count[a->rank], inner = a->row_elems;
        if (e->left != MPI_PROC_NULL)
            CORE_TRY(weft_array_write(a->array, (first - e->width) * inner, e->width * inner,
                                      e->recv_left),
                     "writing ghost rows");
        if (e->right != MPI_PROC_NULL)
            CORE_TRY(weft_array_write(a->array, (first + count) * inner, e->width * inner,
                                      e->recv_right),
                     "writing ghost rows");
    }
    return WEFT_OK;
}

static weft_status run_rows(weft_program *program, const char *name, const weft_range *range,
                            size_t first, size_t last, const launch_state *s, size_t nargs,
                            weft_host_fn host_fn, void *user, weft_future **future)
{
    if (first >= last) return WEFT_OK;
    weft_status st =
        weft_launch_rows(program, name, range, first, last, s->plain, nargs, host_fn, user, future);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "weft_launch_rows");
}

static weft_status launch(weft_program *program, const char *name, const weft_range *range,
                          const weft_dist_rows *lead, launch_state *s, size_t nargs,
                          weft_host_fn host_fn, void *user)
{
    size_t first = lead->first[lead->rank], last = first + lead->count[lead->rank];
    size_t h = s->halo;
    /* Rows [first + h, last - h) read no ghosts: they run while rows travel. */
    size_t inner_first = first + h < last ? first + h : last;
    size_t inner_last = last > inner_first + h ? last - h : inner_first;
    weft_future *interior = NULL;
    weft_status st = begin_exchanges(s);
    if (st == WEFT_OK)
        st = run_rows(program, name, range, inner_first, inner_last, s, nargs, host_fn, user,
                      &interior);
    weft_status ex = end_exchanges(s); /* always: the neighbours are sending */
    if (st == WEFT_OK) st = ex;
    if (st == WEFT_OK)
        st = run_rows(program, name, range, first, inner_first, s, nargs, host_fn, user, NULL);
    if (st == WEFT_OK)
        st = run_rows(program, name, range, inner_last > inner_first ? inner_last : inner_first,
                      last, s, nargs, host_fn, user, NULL);
    if (interior) {
        weft_status w = weft_future_wait(interior);
        if (st == WEFT_OK && w != WEFT_OK) st = weft_mpi_fail_core(w, "the interior rows");
        weft_future_release(interior);
    }
    return st;
}

weft_status weft_dist_launch(weft_program *program, const char *name, const weft_range *range,
                             const weft_dist_arg *args, size_t nargs, weft_host_fn host_fn,
                             void *user)
{
    weft_mpi_clear_error();
    const weft_dist_rows *lead = NULL;
    for (size_t k = 0; args && k < nargs && !lead; k++)
        lead = args[k].rows;
    if (!lead)
        return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                             "weft_dist_launch: no argument is a weft_dist_rows (nothing says "
                             "which ranks take part)");
    RETURN_ON_ERROR(weft_mpi_check_collective(lead->comm, "weft_dist_launch", nargs));
    launch_state *s = calloc(1, sizeof *s);
    weft_status st = WEFT_OK;
    if (s) s->plain = calloc(nargs + 1, sizeof *s->plain);
    if (!s || !s->plain)
        st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for the launch");
    else if (!program || !name || !range)
        st = weft_mpi_fail(WEFT_ERR_NULL, "program, kernel name or range is NULL");
    else
        st = check(lead, range, args, nargs, s);
    st = weft_mpi_agree(lead->comm, st);
    if (st == WEFT_OK) /* agreed again only after running: the first failure keeps its name */
        st =
            weft_mpi_agree(lead->comm, launch(program, name, range, lead, s, nargs, host_fn, user));
    for (size_t i = 0; s && i < s->nex; i++) {
        free(s->ex[i].send_left);
        free(s->ex[i].send_right);
        free(s->ex[i].recv_left);
        free(s->ex[i].recv_right);
    }
    if (s) free(s->plain);
    free(s);
    return st;
}
