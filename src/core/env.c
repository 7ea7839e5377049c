#include "env.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { FLAG, NUMBER, WORD, FAULTS } kind;

typedef struct var {
    const char *name;
    kind kind;
    long long min;            /* NUMBER */
    const char *const *words; /* WORD, FAULTS: NULL-terminated */
} var;

static const char *const log_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const compile_words[] = {"sync", "background", NULL};
static const char *const weights_words[] = {"even", "calibrated", NULL};
static const char *const class_words[] = {"gpu", "cpu", NULL};
static const char *const placement_words[] = {"weights", "model", NULL};
static const char *const fault_words[] = {"launch", "finish", "write", "smoke",
                                          "build",  "upload", NULL};

/* Every variable the library reads, with the switches (flags, below), but
 * WEFT_DEVICES (its list is checked where it is parsed) and WEFT_CACHE_DIR
 * (any path; an unusable one is noted). weft::mpi reads WEFT_MPI_CHECK
 * itself: it sees the public API only. */
static const var vars[] = {
    {"WEFT_NUM_THREADS", NUMBER, 1, NULL},
    {"WEFT_MAX_ALLOC", NUMBER, 0, NULL},
    {"WEFT_SMALL_ELEMENTS", NUMBER, -1, NULL},
    {"WEFT_POOL_MIN_ELEMENTS", NUMBER, 0, NULL},
    {"WEFT_LOG", WORD, 0, log_words},
    {"WEFT_COMPILE", WORD, 0, compile_words},
    {"WEFT_WEIGHTS", WORD, 0, weights_words},
    {"WEFT_KERNEL_CLASS", WORD, 0, class_words},
    {"WEFT_PLACEMENT", WORD, 0, placement_words},
    {"WEFT_FAULT", FAULTS, 0, fault_words},
};
/* The switches (FLAG): a name is all they need. */
static const char *const flags[] = {"WEFT_ZERO_COPY",  "WEFT_PEER_COPY",  "WEFT_SMOKE",
                                    "WEFT_VERIFY",     "WEFT_DISK_CACHE", "WEFT_COPY_QUEUE",
                                    "WEFT_CSV_OVERLAP"};

static const var *find(const char *name)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strcmp(vars[i].name, name) == 0) return &vars[i];
    return NULL;
}

static const char *value_of(const char *name)
{
    const char *text = getenv(name);
    return text && *text ? text : NULL;
}

static int parse_flag(const char *text, int *value)
{
    static const char *const on[] = {"1", "yes", "true", "on"}, *const off[] = {"0", "no", "false",
                                                                                "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, on[i]) == 0 || strcasecmp(text, off[i]) == 0) {
            *value = strcasecmp(text, on[i]) == 0;
            return 1;
        }
    }
    return 0;
}

static int parse_number(const char *text, long long min, long long *value)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    /* Whole decimal digits (a '-' where min allows it): "+2" and " 2" are
     * no such numbers. */
    if (end == text || *end != '\0' || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) ||
        v < min)
        return 0;
    *value = v; /* ERANGE above: LLONG_MAX, which the caller caps */
    return 1;
}

static const char *parse_word(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcasecmp(text, words[i]) == 0) return words[i];
    return NULL;
}

/* The fault hooks are matched as spelled (context.c finds them by name). */
static int fault_word(const char *token)
{
    for (size_t i = 0; fault_words[i]; i++)
        if (strcmp(token, fault_words[i]) == 0) return 1;
    return 0;
}

/* WEFT_FAULT: hooks separated by commas or spaces, call:K with K a count. */
static int parse_faults(const char *text)
{
    size_t n = strlen(text);
    for (size_t at = 0; at < n;) {
        size_t len = strcspn(text + at, ", ");
        char token[32];
        if (len >= sizeof token) return 0;
        memcpy(token, text + at, len);
        token[len] = '\0';
        long long k;
        int ok = len == 0 || fault_word(token) ||
                 (strncmp(token, "call:", 5) == 0 && parse_number(token + 5, 0, &k));
        if (!ok) return 0;
        at += len + 1;
    }
    return 1;
}

int weft_env_flag(const char *name, int fallback)
{
    const char *text = value_of(name);
    int value = fallback;
    return text && parse_flag(text, &value) ? value : fallback;
}

long long weft_env_number(const char *name, long long fallback)
{
    const char *text = value_of(name);
    const var *v = find(name);
    long long value = fallback;
    return text && v && parse_number(text, v->min, &value) ? value : fallback;
}

const char *weft_env_word(const char *name)
{
    const char *text = value_of(name);
    const var *v = find(name);
    return text && v && v->words ? parse_word(text, v->words) : NULL;
}

static int well_formed(const var *v, const char *text)
{
    int flag;
    long long number;
    switch (v->kind) {
    case FLAG:
        return parse_flag(text, &flag);
    case NUMBER:
        return parse_number(text, v->min, &number);
    case WORD:
        return parse_word(text, v->words) != NULL;
    case FAULTS:
        return parse_faults(text);
    }
    return 0;
}

/* WEFT_OK, or the error naming v, its value and its forms. */
static weft_status check(const var *v)
{
    const char *text = value_of(v->name);
    if (!text || well_formed(v, text)) return WEFT_OK;
    char forms[128] = "";
    if (v->kind == FLAG) snprintf(forms, sizeof forms, "1/0, yes/no, true/false or on/off");
    if (v->kind == NUMBER) snprintf(forms, sizeof forms, "a whole number >= %lld", v->min);
    for (size_t w = 0; v->words && v->words[w]; w++)
        snprintf(forms + strlen(forms), sizeof forms - strlen(forms), "%s%s",
                 w == 0 ? (v->kind == FAULTS ? "hooks among " : "one of ") : ", ", v->words[w]);
    if (v->kind == FAULTS)
        snprintf(forms + strlen(forms), sizeof forms - strlen(forms),
                 ", call:K, separated by commas");
    return weft_error_set(WEFT_ERR_INVALID_ARG,
                          "%s=\"%.60s\" is not understood: expected %s (unset it for the "
                          "default)",
                          v->name, text, forms);
}

weft_status weft_env_check(void)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        var flag = {flags[i], FLAG, 0, NULL};
        RETURN_ON_ERROR(check(&flag));
    }
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        RETURN_ON_ERROR(check(&vars[i]));
    return WEFT_OK;
}
