/* Catching misuse across ranks before it hangs or corrupts: mismatched
 * collectives (in checking mode) and arguments that must agree. */
#ifndef WEFT_MPI_COLLECTIVE_CHECK_H
#define WEFT_MPI_COLLECTIVE_CHECK_H

#include "weft_mpi.h"

/* Under WEFT_MPI_CHECK=1 (read once): every rank sends the name of the
 * collective it is in and `shape` (sizes that must match, 0 for none), and
 * all fail with WEFT_ERR_STATE naming both calls when any rank differs.
 * Otherwise WEFT_OK at no cost. Call first thing in each public collective. */
weft_status weft_mpi_check_collective(MPI_Comm comm, const char *op, unsigned long long shape);
/* `key` with n more bytes of arguments folded in, for the shape above:
 * ranks that pass other ranges or flags differ in it. */
unsigned long long weft_mpi_check_key(unsigned long long key, const void *bytes, size_t n);

/* Collective: `what` (two numbers) must be the same on every rank
 * (WEFT_ERR_SIZE naming the smallest and largest), folded with `local`. */
weft_status weft_mpi_same_everywhere(MPI_Comm comm, weft_status local, const char *what,
                                     unsigned long long a, unsigned long long b);

/* A communicator weft can work on: not MPI_COMM_NULL, not an
 * intercommunicator (WEFT_ERR_INVALID_ARG, on this rank only). */
weft_status weft_mpi_check_comm(MPI_Comm comm);

/* A distributed object's own duplicate of comm, returning errors rather than
 * aborting, with this rank and the number of ranks (on this rank only). */
weft_status weft_mpi_dup_comm(MPI_Comm comm, MPI_Comm *dup, int *rank, int *nranks);

/* The nearest rank from rank in direction step (-1, +1) whose count is not
 * zero, or MPI_PROC_NULL. */
int weft_mpi_neighbour(const size_t *counts, int nranks, int rank, int step);

#endif
