/* `mpirun -np K weft csv ...`: the CSV command over MPI ranks when an MPI
 * launcher started the process (docs/mpi.md), one process otherwise. */
#ifndef WEFT_CSV_RANKS_H
#define WEFT_CSV_RANKS_H

#include <weft.h>

/* Runs the job as weft_csv_run_dialect does, or, under an MPI launcher, as
 * weft_dist_csv_run over MPI_COMM_WORLD (the output byte for byte one
 * process's; the reductions bit for bit). A weft built without MPI refuses
 * to run under a launcher with more than one rank: each rank would write
 * the whole output. A refusal of the tool's own (not a weft call's) is
 * written to why (empty otherwise). */
weft_status csv_ranks_run(weft_ctx *ctx, const char *input, const char *output,
                          const weft_csv_options *options, const weft_csv_dialect *dialect,
                          weft_csv_job *job, weft_csv_stats *stats, char *why, size_t cap);

/* 1 on the rank that reports (rank 0, or the only process). */
int csv_ranks_reports(void);

/* 1 when this process prints a failed run's message: the only process, or
 * rank 0, with the message of the rank that failed. */
int csv_ranks_says_failure(void);

#endif
