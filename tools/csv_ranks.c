#include "csv_ranks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WEFT_TOOL_MPI
#include <weft_mpi.h>
#endif

static int rank;
static int quiet; /* rank 0 says why a run failed */

/* The size of the job an MPI launcher started (Open MPI, MPICH's Hydra and
 * Slurm's PMI, PMIx), or 0 when none did. */
static int launched_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
        const char *v = getenv(vars[k]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

#ifdef WEFT_TOOL_MPI
static void finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

/* The ranks cut the input by records as weft_csv_run reads them with the
 * default dialect; the others are not split yet. */
static int default_dialect(const weft_csv_dialect *d)
{
    weft_csv_dialect plain;
    weft_csv_dialect_init(&plain);
    return !d || memcmp(d, &plain, sizeof plain) == 0;
}

/* After a failed run (every rank fails together): rank 0 gathers the ranks'
 * messages and keeps the first that says why rather than naming the rank
 * that failed; the other ranks print nothing (the launcher may end them
 * once rank 0 exits). */
static void tell_root(char *why, size_t cap)
{
    enum { MSG = 256 };
    char mine[MSG];
    /* The failing rank's own detail is its run's (the core's last error)
     * unless the MPI layer said more. */
    const char *detail = weft_mpi_last_error();
    snprintf(mine, sizeof mine, "%s", detail && detail[0] ? detail : weft_last_error());
    snprintf(why, cap, "%s", mine);
    int nranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    char *all = rank == 0 ? malloc((size_t)nranks * MSG) : NULL;
    MPI_Gather(mine, MSG, MPI_CHAR, all, MSG, MPI_CHAR, 0, MPI_COMM_WORLD);
    for (int r = 0; all && r < nranks; r++) {
        const char *m = all + (size_t)r * MSG;
        if (strncmp(m, "failed on rank", 14) == 0) continue;
        snprintf(why, cap, "rank %d: %.*s", r, MSG, m);
        break;
    }
    free(all);
    if (rank != 0) quiet = 1;
}

static weft_status run_ranks(weft_ctx *ctx, const char *input, const char *output,
                             const weft_csv_options *options, const weft_csv_dialect *dialect,
                             weft_csv_job *job, weft_csv_stats *stats, char *why, size_t cap)
{
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
        int provided;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            snprintf(why, cap, "MPI_Init failed");
            return WEFT_ERR_STATE;
        }
        atexit(finalize);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!default_dialect(dialect)) { /* every rank says it: each may be the one a user reads */
        snprintf(why, cap,
                 "dialect options (--skip-rows, --comment, --quoting ...) are not "
                 "split over MPI ranks yet: run one process");
        return WEFT_ERR_UNSUPPORTED;
    }
    weft_status st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, output, options, job, stats);
    if (st != WEFT_OK) tell_root(why, cap);
    return st;
}
#endif

weft_status csv_ranks_run(weft_ctx *ctx, const char *input, const char *output,
                          const weft_csv_options *options, const weft_csv_dialect *dialect,
                          weft_csv_job *job, weft_csv_stats *stats, char *why, size_t cap)
{
    int size = launched_size();
    why[0] = '\0';
#ifdef WEFT_TOOL_MPI
    if (size > 0) return run_ranks(ctx, input, output, options, dialect, job, stats, why, cap);
#else
    if (size > 1) {
        snprintf(why, cap,
                 "started by an MPI launcher with %d ranks, but this weft was built without MPI "
                 "(each rank would write the whole output)",
                 size);
        return WEFT_ERR_UNSUPPORTED;
    }
#endif
    return weft_csv_run_dialect(ctx, input, output, options, dialect, job, stats);
}

int csv_ranks_reports(void)
{
    return rank == 0;
}

int csv_ranks_says_failure(void)
{
    return !quiet;
}
