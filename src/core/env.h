/* WEFT_* environment variables, one rule for all: unset or empty means the
 * default; a set one must have one of its variable's forms, or
 * weft_ctx_create fails naming it (weft_env_check). A switch the user typed
 * and weft did not understand would otherwise silently change what runs. */
#ifndef WEFT_ENV_H
#define WEFT_ENV_H

#include "weft.h"

/* A switch: 1/0, yes/no, true/false, on/off, in any case. */
int weft_env_flag(const char *name, int fallback);
/* A whole decimal number, at least the variable's least; one too large for
 * a long long reads as LLONG_MAX (the caller caps it). */
long long weft_env_number(const char *name, long long fallback);
/* The value when it is one of the variable's words (any case), spelled as
 * the table spells it; NULL when unset or not one of them. */
const char *weft_env_word(const char *name);
/* WEFT_OK when every variable weft reads is unset, empty or well formed;
 * else WEFT_ERR_INVALID_ARG naming the first that is not, its value and the
 * forms it takes. */
weft_status weft_env_check(void);

#endif
