/* Registry of live handles, so that a double free or a freed handle passed
 * back in is reported (WEFT_ERR_STATE) instead of corrupting memory. A handle
 * is checked by address only; the registry never dereferences it. */
#ifndef WEFT_HANDLES_H
#define WEFT_HANDLES_H

#include "weft.h"

/* WEFT_ERR_NOMEM if the registry cannot grow. */
weft_status weft_handle_add(const void *handle);
/* Registers the table's lock with the fork registry (once; the first add
 * does too), as weft_error_install_fork_handlers. */
void weft_handles_install_fork_handlers(void);
/* 1 if the handle was live (and now is not), 0 if it was not live. */
int weft_handle_remove(const void *handle);
int weft_handle_live(const void *handle);
/* What a public free checks of a handle that is not NULL: WEFT_OK while it
 * is live, else WEFT_ERR_STATE naming the call and the kind of handle. */
weft_status weft_handle_check_free(const void *handle, const char *call, const char *kind);

#endif
