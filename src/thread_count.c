#include "thread_count.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int online_cores(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) return 1;
    return cores > WEFT_MAX_THREADS ? WEFT_MAX_THREADS : (int)cores;
}

int weft_thread_count(int requested, const char *env_text, char *note, size_t note_cap)
{
    char ignored[160];
    size_t cap = note ? note_cap : sizeof ignored;
    char *out = note ? note : ignored;
    if (cap) out[0] = '\0';
    if (requested > WEFT_MAX_THREADS) {
        snprintf(out, cap, "options.num_threads = %d is above the limit: using %d threads",
                 requested, WEFT_MAX_THREADS);
        return WEFT_MAX_THREADS;
    }
    if (requested > 0) return requested;
    if (requested < 0) {
        snprintf(out, cap, "options.num_threads = %d is negative: ignored", requested);
        return online_cores();
    }
    if (!env_text || !*env_text) return online_cores();
    char *end;
    errno = 0;
    long long v = strtoll(env_text, &end, 10);
    if (*end != '\0' || end == env_text || v < 1) {
        snprintf(out, cap, "WEFT_NUM_THREADS=\"%.40s\" is not a positive thread count: ignored",
                 env_text);
        return online_cores();
    }
    if (v > WEFT_MAX_THREADS || errno == ERANGE) {
        snprintf(out, cap, "WEFT_NUM_THREADS=%.40s is above the limit: using %d threads", env_text,
                 WEFT_MAX_THREADS);
        return WEFT_MAX_THREADS;
    }
    return (int)v;
}
