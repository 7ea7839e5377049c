#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cli_fail(const char *what)
{
    fprintf(stderr, "weft: %s failed: %s\n", what, weft_last_error());
    return EXIT_WEFT;
}

char *cli_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *data = malloc(cap + 1);
    size_t got;
    while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *grown = realloc(data, 2 * cap + 1);
            if (!grown) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!data || bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(data);
        return NULL;
    }
    data[len] = '\0';
    if (size) *size = len;
    return data;
}

weft_ctx *cli_ctx(const char *devices)
{
    weft_options o;
    weft_options_init(&o);
    o.devices = devices;
    weft_ctx *ctx = NULL;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) {
        cli_fail("creating a context");
        return NULL;
    }
    return ctx;
}

int cli_parse_count(const char *text, unsigned long long min, unsigned long long max,
                    unsigned long long *out)
{
    if (!text || *text < '0' || *text > '9') return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE || *end || v < min || v > max) return 0;
    *out = v;
    return 1;
}

int cli_parse_int64(const char *text, long long *out)
{
    if (!text || !(*text == '-' || *text == '+' || (*text >= '0' && *text <= '9'))) return 0;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end || end == text) return 0;
    *out = v;
    return 1;
}
