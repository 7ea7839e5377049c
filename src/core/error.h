/* Per-thread error detail and the early-return macros used across weft. */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#include "propagate.h"
#include "weft.h"

/* Records a formatted detail for the calling thread and returns status, so a
 * failure path reads `return weft_error_set(WEFT_ERR_SIZE, "...", ...);`. */
weft_status weft_error_set(weft_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Replaces the detail with an exact copy (used to hand an async failure over). */
void weft_error_copy(const char *detail);
void weft_error_clear(void);
/* Registers the error slots' lock with the fork registry (once; the first
 * error does too), for a caller that may take it under its own lock later
 * (exec/stream_fork.c): no registration then happens under that lock. */
void weft_error_install_fork_handlers(void);

#define RETURN_IF(cond, status, ...)                                                               \
    do {                                                                                           \
        if (cond) return weft_error_set((status), __VA_ARGS__);                                    \
    } while (0)

/* For functions with one `error:` cleanup label and a local `weft_status st`. */
#define GOTO_ERROR_IF(cond, status, ...)                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            st = weft_error_set((status), __VA_ARGS__);                                            \
            goto error;                                                                            \
        }                                                                                          \
    } while (0)

#define GOTO_ERROR_ON(expr)                                                                        \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != WEFT_OK) goto error;                                                             \
    } while (0)

#endif
