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

/* WEFT_NUM_THREADS (env_text), else the cores; why says what was ignored or capped. */
static int from_environment(const char *env_text, char *why, size_t cap)
{
    if (!env_text || !*env_text) return online_cores();
    char *end;
    errno = 0;
    long long v = strtoll(env_text, &end, 10);
    if (*end != '\0' || end == env_text || v < 1) {
        snprintf(why, cap, "WEFT_NUM_THREADS=\"%.40s\" is not a positive thread count: ignored",
                 env_text);
        return online_cores();
    }
    if (v > WEFT_MAX_THREADS || errno == ERANGE) {
        snprintf(why, cap, "WEFT_NUM_THREADS=%.40s is above the limit: using %d threads", env_text,
                 WEFT_MAX_THREADS);
        return WEFT_MAX_THREADS;
    }
    return (int)v;
}

int weft_thread_count(int requested, const char *env_text, char *note, size_t note_cap)
{
    char why[256] = "", env_why[128] = "";
    int threads = requested;
    if (requested > WEFT_MAX_THREADS) {
        snprintf(why, sizeof why, "options.num_threads = %d is above the limit: using %d threads",
                 requested, WEFT_MAX_THREADS);
        threads = WEFT_MAX_THREADS;
    } else if (requested <= 0) { /* negative: ignored, as if 0 */
        threads = from_environment(env_text, env_why, sizeof env_why);
        if (requested < 0)
            snprintf(why, sizeof why, "options.num_threads = %d is negative: ignored%s%s",
                     requested, env_why[0] ? "; " : "", env_why);
        else
            snprintf(why, sizeof why, "%s", env_why);
    }
    if (note && note_cap) snprintf(note, note_cap, "%s", why);
    return threads;
}
