/* What the MPI tests share: a failed check aborts the whole job, so no rank
 * waits for one that stopped, and one generator of test data. */
#ifndef WEFT_TESTS_MPI_CHECK_H
#define WEFT_TESTS_MPI_CHECK_H

#include <weft_mpi.h>

#include <stdint.h>
#include <stdio.h>

static int rank, nranks;
static int checks; /* checks made on this rank */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d, line %d: %s: ", rank, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)
#define OK(expr) CHECK((expr) == WEFT_OK, "%s | core: %s", weft_mpi_last_error(), weft_last_error())

/* xorshift64: every rank draws the same sequence from the same seed. */
static uint64_t seed = 0x9E3779B97F4A7C15u;
static inline uint64_t next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

#endif
