/* Registry of live handles, so that a double free or a freed handle passed
 * back in is reported (WEFT_ERR_STATE) instead of corrupting memory. A handle
 * is checked by address only; the registry never dereferences it. */
#ifndef WEFT_HANDLES_H
#define WEFT_HANDLES_H

#include "weft.h"

/* What a handle is: a live array passed where a future is expected is no
 * live future (a wait on it read the array's memory as a future's). */
typedef enum weft_handle_kind {
    WEFT_HANDLE_ANY = 0, /* for checks only: any kind */
    WEFT_HANDLE_CONTEXT,
    WEFT_HANDLE_ARRAY,
    WEFT_HANDLE_PROGRAM,
    WEFT_HANDLE_FUTURE,
    WEFT_HANDLE_CSV_READER
} weft_handle_kind;

/* WEFT_ERR_NOMEM if the registry cannot grow. */
weft_status weft_handle_add(const void *handle, weft_handle_kind kind);
/* Registers the table's lock with the fork registry (once; the first add
 * does too), as weft_error_install_fork_handlers. */
void weft_handles_install_fork_handlers(void);
/* 1 if the handle was live (and now is not), 0 if it was not live. */
int weft_handle_remove(const void *handle);
/* 1 when handle is live and of that kind (WEFT_HANDLE_ANY: any). */
int weft_handle_live(const void *handle, weft_handle_kind kind);
/* What a public free checks of a handle that is not NULL: WEFT_OK while it
 * is a live one of its kind, else WEFT_ERR_STATE naming the call and the
 * kind. */
weft_status weft_handle_check_free(const void *handle, weft_handle_kind kind, const char *call);

#endif
