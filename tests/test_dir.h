/* A test's own temporary folder, and whole files in it: path_of names a file
 * there (the last four names stay valid), write_text / write_file write one,
 * read_all reads one back. setup() makes `dir` with mkdtemp. */
#ifndef WEFT_TEST_DIR_H
#define WEFT_TEST_DIR_H

#include "common.h"

static char dir[256];

static inline const char *path_of(const char *name)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static inline void write_file(const char *name, const char *data, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static inline void write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

/* The file's bytes (NUL-terminated; *len their count when len is not NULL),
 * or NULL when it does not exist. */
static inline char *read_all(const char *name, size_t *len)
{
    if (len) *len = 0;
    FILE *f = fopen(path_of(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

#endif
