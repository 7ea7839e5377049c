/* Propagating a failed status whose detail the callee already set: the one
 * macro weft's own error detail (error.h) and weft::mpi's (mpi/mpi_error.h)
 * both use. */
#ifndef WEFT_PROPAGATE_H
#define WEFT_PROPAGATE_H

#include "weft.h"

#define RETURN_ON_ERROR(expr)                                                                      \
    do {                                                                                           \
        weft_status status_ = (expr);                                                              \
        if (status_ != WEFT_OK) return status_;                                                    \
    } while (0)

#endif
