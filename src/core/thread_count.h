/* The pool width: one rule for options.num_threads and WEFT_NUM_THREADS. */
#ifndef WEFT_THREAD_COUNT_H
#define WEFT_THREAD_COUNT_H

#include <stddef.h>

/* More threads than this only cost memory and scheduling: no machine weft
 * targets has more cores. */
#define WEFT_MAX_THREADS 1024

/* The width for options.num_threads = requested: a positive request is used
 * (at most WEFT_MAX_THREADS); 0, or a negative value (ignored), means
 * env_text (WEFT_NUM_THREADS: a decimal count, capped the same way), else the
 * online cores (capped too). A value that is ignored (negative, malformed, 0
 * in the environment) or capped is explained in note (NUL-terminated, "" when
 * nothing was changed; note may be NULL). */
int weft_thread_count(int requested, const char *env_text, char *note, size_t note_cap);

#endif
