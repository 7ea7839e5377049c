#include "mpi_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { DETAIL_BYTES = 1024 };
static _Thread_local char detail[DETAIL_BYTES];
/* The rank whose failure the detail reports: -1 this one, else the rank an
 * agreement named. Agreeing again on an agreed failure names that rank
 * again, not the lowest of the ranks that now all fail. */
static _Thread_local int culprit = -1;

const char *weft_mpi_last_error(void)
{
    return detail;
}

void weft_mpi_clear_error(void)
{
    detail[0] = '\0';
    culprit = -1;
}

weft_status weft_mpi_fail(weft_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    culprit = -1;
    return status;
}

weft_status weft_mpi_fail_core(weft_status status, const char *what)
{
    return weft_mpi_fail(status, "%s: %s", what, weft_last_error());
}

weft_status weft_mpi_fail_mpi(int mpi_code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    if (MPI_Error_string(mpi_code, text, &length) != MPI_SUCCESS) text[0] = '\0';
    return weft_mpi_fail(WEFT_ERR_IO, "%s: MPI error %d: %s", what, mpi_code, text);
}

weft_status weft_mpi_agree(MPI_Comm comm, weft_status local)
{
    int rank = 0, nranks = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    /* The lowest failing rank wins: its rank and status in one int each. */
    int mine[2] = {local == WEFT_OK ? nranks : culprit >= 0 ? culprit : rank, (int)local};
    int first[2] = {nranks, 0};
    int rc = MPI_Allreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, comm);
    if (rc != MPI_SUCCESS) return weft_mpi_fail_mpi(rc, "agreeing on an outcome");
    return weft_mpi_settle(rank, first[0] == nranks ? -1 : first[0], (weft_status)first[1], local);
}

weft_status weft_mpi_settle(int rank, int failed, weft_status status, weft_status local)
{
    if (failed < 0) return WEFT_OK;
    if (failed == rank) return local;
    weft_mpi_fail(status, "failed on rank %d (%s)", failed, weft_status_str(status));
    culprit = failed;
    return status;
}
