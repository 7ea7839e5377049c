#include "log.h"
#include "env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void log_to_stderr(void *user, weft_log_level level, const char *message)
{
    (void)user;
    fprintf(stderr, "weft[%s]: %s\n", level_names[level], message);
}

static int parse_level(const char *text, weft_log_level *level)
{
    for (int i = 0; i <= WEFT_LOG_DEBUG; i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *level = (weft_log_level)i;
            return 1;
        }
    }
    return 0;
}

void weft_logger_init(weft_logger *logger, weft_log_fn fn, void *user, weft_log_level level)
{
    memset(logger, 0, sizeof *logger);
    if (fn) {
        *logger = (weft_logger){fn, user, level, 1};
        return;
    }
    const char *env = weft_env_word("WEFT_LOG");
    weft_log_level env_level;
    if (env && parse_level(env, &env_level))
        *logger = (weft_logger){log_to_stderr, NULL, env_level, 1};
}

void weft_log(const weft_logger *logger, weft_log_level level, const char *fmt, ...)
{
    if (!logger || !logger->enabled || level > logger->level) return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    logger->fn(logger->user, level, message);
}
