/* One record at a time: the header, quoted values and UTF-8 checks. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

int csv_unquote_simple(const char **b, const char **e)
{
    if (*e - *b < 2 || **b != '"') return 1;
    if ((*e)[-1] != '"') return 0;
    const char *in = *b + 1, *out = *e - 1;
    if (memchr(in, '"', (size_t)(out - in))) return 0;
    *b = in;
    *e = out;
    return 1;
}

size_t csv_record_length(const char *buf, size_t len, char eol)
{
    int inq = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '"')
            inq ^= 1;
        else if (buf[i] == eol && !inq)
            return i + 1;
    }
    return 0;
}

char csv_detect_eol(const char *buf, size_t len, int at_eof)
{
    /* A bare CR first, and no LF outside quotes in what was read: a file of
     * CR lines. Any LF outside quotes makes it an LF file, whose stray CRs are
     * then reported rather than guessed at, except one that ends the file:
     * after CR lines, an editor's final LF hides no record (the reader takes
     * it for the last line end). */
    int inq = 0;
    char first = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '"')
            inq ^= 1;
        else if (!inq && buf[i] == '\n' && !(first == '\r' && at_eof && i + 1 == len)) {
            /* After CR lines, an LF at the end of what was read may be the
             * file's last byte: more bytes decide (a file exactly one
             * window long was refused). */
            if (first == '\r' && i + 1 == len) return 0;
            return '\n';
        } else if (!inq && !first && buf[i] == '\r') {
            if (i + 1 == len && !at_eof) return 0;
            first = i + 1 < len && buf[i + 1] == '\n' ? '\n' : '\r';
        }
    }
    return first;
}

size_t csv_stray_line_end(const char *rec, size_t len, char eol)
{
    int inq = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = rec[i];
        if (ch == '"') inq ^= 1;
        if (inq || (ch != '\r' && ch != '\n') || ch == eol) continue;
        if (eol == '\n' && ch == '\r' && i + 1 < len && rec[i + 1] == '\n') continue;
        return i;
    }
    return (size_t)-1;
}

/* The value of one field: quotes removed and "" read as ". */
static char *field_value(const char *b, const char *e)
{
    char *v = malloc((size_t)(e - b) + 1);
    if (!v) return NULL;
    size_t n = 0;
    int inq = 0;
    for (const char *p = b; p < e; p++) {
        if (*p == '"') {
            if (inq && p + 1 < e && p[1] == '"') {
                v[n++] = '"';
                p++;
            } else {
                inq ^= 1;
            }
        } else {
            v[n++] = *p;
        }
    }
    v[n] = 0;
    return v;
}

void csv_strings_free(char **strings, size_t n)
{
    for (size_t k = 0; strings && k < n; k++)
        free(strings[k]);
    free(strings);
}

size_t csv_split_record(const char *rec, size_t len, char delim, char ***names)
{
    size_t count = 1;
    int inq = 0;
    for (size_t i = 0; i < len; i++) {
        if (rec[i] == '"')
            inq ^= 1;
        else if (rec[i] == delim && !inq)
            count++;
    }
    char **out = calloc(count, sizeof *out);
    if (!out) return (size_t)-1;
    size_t f = 0, begin = 0;
    inq = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && rec[i] == '"') inq ^= 1;
        if (i == len || (rec[i] == delim && !inq)) {
            out[f] = field_value(rec + begin, rec + i);
            if (!out[f]) {
                csv_strings_free(out, f);
                return (size_t)-1;
            }
            f++;
            begin = i + 1;
        }
    }
    *names = out;
    return count;
}

/* Checks the characters that start in buf[0, len), reading up to `limit`. */
int csv_utf8_valid(const char *buf, size_t len, size_t limit, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            min = 0x10000;
        } else {
            *bad = i;
            return 0;
        }
        unsigned cp = c & (0x3Fu >> need);
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= limit) return 1; /* cut by the window: the next one checks it */
            if ((s[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = i;
            return 0;
        }
        i += need + 1;
    }
    return 1;
}
