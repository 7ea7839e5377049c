/* weft_mpi's own per-thread failure detail (the core's weft_last_error has no
 * public setter), and agreeing on one outcome across the ranks. */
#ifndef WEFT_MPI_ERROR_H
#define WEFT_MPI_ERROR_H

#include "../core/propagate.h"
#include "weft_mpi.h"

weft_status weft_mpi_fail(weft_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A core call failed: keep its status and weft_last_error(), after `what`. */
weft_status weft_mpi_fail_core(weft_status status, const char *what);
/* An MPI call failed (MPI_ERRORS_RETURN): WEFT_ERR_IO with MPI's text. */
weft_status weft_mpi_fail_mpi(int mpi_code, const char *what);
void weft_mpi_clear_error(void);

/* Collective: every rank passes its own outcome and gets back the first
 * failure of the lowest failing rank (the others' detail names that rank). */
weft_status weft_mpi_agree(MPI_Comm comm, weft_status local);
/* The agreed outcome once every rank's is known: OK when failed < 0, else
 * local on the failing rank and "failed on rank R" with its status elsewhere. */
weft_status weft_mpi_settle(int rank, int failed, weft_status status, weft_status local);

#define MPI_TRY(call, what)                                                                        \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != MPI_SUCCESS) return weft_mpi_fail_mpi(rc_, (what));                             \
    } while (0)

#define CORE_TRY(call, what)                                                                       \
    do {                                                                                           \
        weft_status st_ = (call);                                                                  \
        if (st_ != WEFT_OK) return weft_mpi_fail_core(st_, (what));                                \
    } while (0)

#endif
