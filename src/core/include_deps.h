/* What a program source includes, for the binary cache key: every file it
 * includes, transitively, found where the compiler will find it. */
#ifndef WEFT_INCLUDE_DEPS_H
#define WEFT_INCLUDE_DEPS_H

#include "sha256.h"
#include "weft.h"

/* Adds to h, for each #include of source and of the files it includes, the
 * name, the file it resolves to and that file's contents. "name" resolves
 * against the including file's directory (not for source itself, which has
 * none), then the -I directories of options in order; <name> against the -I
 * directories; an absolute name as it is. A name that resolves nowhere is
 * keyed by the name (the compiler fails, or finds it in its own directories).
 * WEFT_ERR_IO when an included file is no regular file (a FIFO would hang the
 * compiler) or cannot be read; WEFT_ERR_RANGE when it is over 16 MiB or the
 * includes nest or fan out beyond bounds. */
weft_status weft_include_hash(weft_sha256 *h, const char *source, const char *options);
/* The same walk, calling visit with each included file's text (once per
 * file) instead of hashing; the same errors. */
weft_status weft_include_visit(const char *source, const char *options,
                               void (*visit)(void *user, const char *text, size_t size),
                               void *user);

#endif
