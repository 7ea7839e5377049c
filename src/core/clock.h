/* Monotonic wall time, for the ledger and calibration. */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include <time.h>

static inline double weft_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
