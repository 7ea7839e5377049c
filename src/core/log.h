/* Context logging: the user's hook, or stderr when WEFT_LOG asks for it. */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include "weft.h"

typedef struct weft_logger {
    weft_log_fn fn;
    void *user;
    weft_log_level level;
    int enabled; /* 0: silent (no hook and no WEFT_LOG) */
} weft_logger;

/* From options, then WEFT_LOG=error|warn|info|debug (stderr) when no hook is set. */
void weft_logger_init(weft_logger *logger, weft_log_fn fn, void *user, weft_log_level level);
void weft_log(const weft_logger *logger, weft_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
