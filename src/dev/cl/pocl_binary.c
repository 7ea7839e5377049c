/* PoCL's binary, format 9, as PoCL 3.1 writes it (integers little-endian):
 *   "poclbin\0" | device id u64 | version u32 | kernels u32 | 12 bytes of
 *   flags | build hash, 41 bytes
 *   bitcode: record size u64 | file
 *   per kernel: record size u64 (from its start) | files' size u64 |
 *     argument info size u32 | name (u32 length, bytes) | metadata ... |
 *     files (the record's last "files' size" bytes)
 *   file: path (u32 length, bytes) | content (u32 length, bytes)
 * Read from the binaries PoCL 3.1 wrote here; weft checks the lengths only. */
#include "pocl_binary.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { HEADER = 8 + 8 + 4 + 4 + 12 + 41, KNOWN_VERSION = 9, KERNEL_FIXED = 8 + 8 + 4 };

typedef struct cursor {
    const unsigned char *bin;
    size_t at, end; /* reading [at, end) */
} cursor;

static int take(cursor *c, size_t bytes, uint64_t *value)
{
    if (c->end - c->at < bytes) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++)
        v |= (uint64_t)c->bin[c->at + i] << (8 * i);
    c->at += bytes;
    if (value) *value = v;
    return 1;
}

static int skip(cursor *c, uint64_t bytes)
{
    if (c->end - c->at < bytes) return 0;
    c->at += (size_t)bytes;
    return 1;
}

/* A u32 length and that many bytes. */
static int string(cursor *c)
{
    uint64_t len;
    return take(c, 4, &len) && skip(c, len);
}

/* Files (path, content) that fill [at, end) exactly. */
static int files(cursor c)
{
    while (c.at < c.end)
        if (!string(&c) || !string(&c)) return 0;
    return 1;
}

static int fail(char *why, size_t cap, const char *what, size_t at)
{
    snprintf(why, cap, "PoCL binary: %s at byte %zu runs past its end", what, at);
    return 0;
}

int weft_pocl_binary_whole(const unsigned char *bin, size_t size, char *why, size_t cap)
{
    cursor c = {bin, 0, size};
    uint64_t version, kernels, record;
    if (size < 8 || memcmp(bin, "poclbin", 8) != 0) return 1; /* not PoCL's */
    if (!skip(&c, 16) || !take(&c, 4, &version) || !take(&c, 4, &kernels))
        return fail(why, cap, "the header", 0);
    if (version != KNOWN_VERSION) return 1; /* a format weft does not know: PoCL's to judge */
    if (!skip(&c, HEADER - 24)) return fail(why, cap, "the header", 0);
    size_t at = c.at;
    if (!take(&c, 8, &record) || record > c.end - c.at) return fail(why, cap, "the bitcode", at);
    cursor bitcode = {bin, c.at, c.at + (size_t)record};
    if (!string(&bitcode) || !string(&bitcode) || bitcode.at != bitcode.end)
        return fail(why, cap, "the bitcode", at);
    c.at = bitcode.end;
    for (uint64_t k = 0; k < kernels; k++) {
        at = c.at;
        uint64_t files_size;
        if (!take(&c, 8, &record) || record < KERNEL_FIXED || record - 8 > c.end - c.at)
            return fail(why, cap, "a kernel's record", at);
        cursor kernel = {bin, c.at, at + (size_t)record};
        if (!take(&kernel, 8, &files_size) || !skip(&kernel, 4) || !string(&kernel) ||
            files_size > kernel.end - kernel.at)
            return fail(why, cap, "a kernel's name or files", at);
        if (!files((cursor){bin, kernel.end - (size_t)files_size, kernel.end}))
            return fail(why, cap, "a kernel's files", at);
        c.at = kernel.end;
    }
    if (c.at != size) {
        snprintf(why, cap, "PoCL binary: %zu bytes after its last kernel", size - c.at);
        return 0;
    }
    return 1;
}
