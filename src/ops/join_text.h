/* Names made on every call of an operation (a model's identity, a kernel's
 * name in messages) are joined by hand: snprintf cost about a microsecond
 * per call there, as much as the rest of a small call's bookkeeping. */
#ifndef WEFT_OPS_JOIN_TEXT_H
#define WEFT_OPS_JOIN_TEXT_H

#include <stddef.h>
#include <string.h>

/* The parts one after the other into out (cap > 0 bytes), cut to fit as
 * snprintf would cut them. */
static inline void weft_join_text(char *out, size_t cap, const char *const *parts, size_t nparts)
{
    size_t at = 0;
    for (size_t i = 0; i < nparts; i++) {
        size_t len = strlen(parts[i]);
        if (len > cap - 1 - at) len = cap - 1 - at;
        memcpy(out + at, parts[i], len);
        at += len;
    }
    out[at] = '\0';
}

#endif
