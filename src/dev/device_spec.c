#include "device_spec.h"
#include "../core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *word;
    int any_kind; /* "all" */
    weft_device_kind kind;
} words[] = {{"all", 1, WEFT_DEVICE_HOST},
             {"host", 0, WEFT_DEVICE_HOST},
             {"cpu", 0, WEFT_DEVICE_CPU},
             {"gpu", 0, WEFT_DEVICE_GPU},
             {"accelerator", 0, WEFT_DEVICE_ACCELERATOR}};

enum { NOT_CL = -1, BAD_CL = -2 };

/* The N of "cl:N" (0 .. WEFT_MAX_CL_INDEX), NOT_CL for other tokens, BAD_CL
 * for a malformed or out-of-range number. Digits only: strtoull alone would
 * take a sign, spaces or a hexadecimal prefix. */
static long cl_index(const char *token, size_t len)
{
    if (len < 3 || strncasecmp(token, "cl:", 3) != 0) return NOT_CL;
    if (len == 3) return BAD_CL;
    for (size_t i = 3; i < len; i++)
        if (token[i] < '0' || token[i] > '9') return BAD_CL;
    errno = 0;
    unsigned long long n = strtoull(token + 3, NULL, 10);
    return errno == ERANGE || n > WEFT_MAX_CL_INDEX ? BAD_CL : (long)n;
}

static int is_separator(char c)
{
    return c == ',' || c == ' ';
}

/* Words in any case, as every other variable's ("CPU", "Cl:1"). */
weft_status weft_device_spec_check(const char *spec)
{
    RETURN_IF(!spec, WEFT_ERR_NULL, "device list is NULL");
    int after_comma = 0;
    for (const char *p = spec; *p;) {
        while (is_separator(*p)) {
            /* "cpu," or "cpu,,gpu": an empty item, likely a word left out */
            RETURN_IF(*p == ',' && (after_comma || p == spec), WEFT_ERR_INVALID_ARG,
                      "an empty item in the device list \"%.100s\"", spec);
            if (*p == ',') after_comma = 1;
            p++;
        }
        size_t len = 0;
        while (p[len] && !is_separator(p[len]))
            len++;
        if (len == 0) {
            RETURN_IF(after_comma, WEFT_ERR_INVALID_ARG,
                      "an empty item in the device list \"%.100s\"", spec);
            break;
        }
        after_comma = 0;
        int known = cl_index(p, len) >= 0;
        for (size_t w = 0; w < sizeof words / sizeof words[0] && !known; w++)
            known = strlen(words[w].word) == len && strncasecmp(p, words[w].word, len) == 0;
        RETURN_IF(!known && cl_index(p, len) == BAD_CL, WEFT_ERR_INVALID_ARG,
                  "device \"%.*s\" in \"%.100s\": N of cl:N must be a decimal number from 0 to %d",
                  (int)(len < 64 ? len : 64), p, spec, WEFT_MAX_CL_INDEX);
        RETURN_IF(!known, WEFT_ERR_INVALID_ARG,
                  "unknown device \"%.*s\" in \"%.100s\" (use all, cpu, gpu, accelerator, host, "
                  "cl:N)",
                  (int)(len < 64 ? len : 64), p, spec);
        p += len;
    }
    return WEFT_OK;
}

int weft_device_token_matches(const char *token, const weft_device *dev)
{
    long n = cl_index(token, strlen(token));
    if (n >= 0) return (size_t)n + 1 == dev->index && !weft_device_is_host(dev);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if (strcasecmp(token, words[w].word) == 0)
            return words[w].any_kind || dev->info.kind == words[w].kind;
    return 0;
}
