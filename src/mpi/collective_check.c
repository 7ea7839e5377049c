#include "collective_check.h"
#include "mpi_error.h"

#include <stdlib.h>
#include <string.h>

enum { NAME_BYTES = 40 };

typedef struct call_id {
    char name[NAME_BYTES];
    unsigned long long shape;
} call_id;

static int checking(void)
{
    static int mode = -1; /* read once: every rank must see the same setting */
    if (mode < 0) {
        const char *v = getenv("WEFT_MPI_CHECK");
        mode = v && v[0] && strcmp(v, "0") != 0;
    }
    return mode;
}

weft_status weft_mpi_check_comm(MPI_Comm comm)
{
    if (comm == MPI_COMM_NULL)
        return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "the communicator is MPI_COMM_NULL");
    int inter = 0;
    if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter)
        return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                             "the communicator is an intercommunicator (or not one at all)");
    return WEFT_OK;
}

weft_status weft_mpi_dup_comm(MPI_Comm comm, MPI_Comm *dup, int *rank, int *nranks)
{
    int rc = MPI_Comm_dup(comm, dup);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(*dup, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(*dup, rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(*dup, nranks);
    return rc == MPI_SUCCESS ? WEFT_OK : weft_mpi_fail_mpi(rc, "duplicating the communicator");
}

int weft_mpi_neighbour(const size_t *counts, int nranks, int rank, int step)
{
    for (int r = rank + step; r >= 0 && r < nranks; r += step)
        if (counts[r] > 0) return r;
    return MPI_PROC_NULL;
}

/* Fixed-size collectives only, so that a rank short of memory still takes
 * part: rank 0's call is broadcast, every rank compares its own, and the
 * lowest rank that differs broadcasts its call for the message. */
unsigned long long weft_mpi_check_key(unsigned long long key, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) /* FNV-1a: any differing byte shows */
        key = (key ^ b[i]) * 1099511628211ull;
    return key;
}

weft_status weft_mpi_check_collective(MPI_Comm comm, const char *op, unsigned long long shape)
{
    if (!checking()) return WEFT_OK;
    int rank = 0, nranks = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    call_id mine = {{0}, shape};
    strncpy(mine.name, op, NAME_BYTES - 1);
    call_id first = mine, other = mine;
    MPI_TRY(MPI_Bcast(&first, (int)sizeof first, MPI_BYTE, 0, comm), "WEFT_MPI_CHECK");
    int differs[2] = {nranks, 0}, lowest[2] = {nranks, 0};
    if (strcmp(mine.name, first.name) != 0 || mine.shape != first.shape) differs[0] = rank;
    MPI_TRY(MPI_Allreduce(differs, lowest, 1, MPI_2INT, MPI_MINLOC, comm), "WEFT_MPI_CHECK");
    int r = lowest[0];
    if (r == nranks) return WEFT_OK;
    MPI_TRY(MPI_Bcast(&other, (int)sizeof other, MPI_BYTE, r, comm), "WEFT_MPI_CHECK");
    if (strcmp(other.name, first.name) != 0)
        return weft_mpi_fail(WEFT_ERR_STATE,
                             "mismatched collectives (WEFT_MPI_CHECK): rank 0 called %s, rank %d "
                             "called %s",
                             first.name, r, other.name);
    return weft_mpi_fail(WEFT_ERR_SIZE,
                         "%s with other arguments (WEFT_MPI_CHECK: sizes, operation, range or "
                         "flags; key %llu on rank 0, %llu on rank %d)",
                         first.name, first.shape, other.shape, r);
}

weft_status weft_mpi_same_everywhere(MPI_Comm comm, weft_status local, const char *what,
                                     unsigned long long a, unsigned long long b)
{
    unsigned long long mine[2] = {a, b}, low[2] = {0, 0}, high[2] = {0, 0};
    int rc = MPI_Allreduce(mine, low, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm);
    if (rc == MPI_SUCCESS) rc = MPI_Allreduce(mine, high, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    weft_status st = local;
    if (rc != MPI_SUCCESS)
        st = weft_mpi_fail_mpi(rc, "comparing the ranks' arguments");
    else if (st == WEFT_OK && memcmp(low, high, sizeof low) != 0)
        st = weft_mpi_fail(WEFT_ERR_SIZE, "the ranks disagree on %s: %llu to %llu and %llu to %llu",
                           what, low[0], high[0], low[1], high[1]);
    return weft_mpi_agree(comm, st);
}
