#include "show.h"

#include <stdio.h>
#include <string.h>

/* Unicode code points that print as nothing or as a blank. */
static int invisible(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0xa0) || cp == 0xad || cp == 0x34f || cp == 0x61c || cp == 0x115f ||
           cp == 0x1160 || cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x180b && cp <= 0x180f) ||
           (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
           (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0x3164 ||
           (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff || cp == 0xffa0 ||
           (cp >= 0xfff0 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe0fff);
}

/* The length of a valid UTF-8 sequence at s (of at most len bytes), 0 if
 * none; its code point in *cp. */
static size_t utf8_at(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || n > len) return 0;
    *cp = s[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        *cp = *cp << 6 | (s[k] & 0x3f);
    }
    return n;
}

void csv_show_bytes(const char *s, size_t len, char *out, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len && cap > 0;) {
        char piece[16];
        size_t step = 1;
        unsigned cp = 0;
        const char *named = u[i] == '\t'   ? "\\t"
                            : u[i] == '\n' ? "\\n"
                            : u[i] == '\r' ? "\\r"
                            : u[i] == '\v' ? "\\v"
                            : u[i] == '\f' ? "\\f"
                                           : NULL;
        if (named) {
            snprintf(piece, sizeof piece, "%s", named);
        } else if (u[i] >= 0x20 && u[i] < 0x7f) {
            piece[0] = (char)u[i];
            piece[1] = '\0';
        } else if (u[i] >= 0x80 && (step = utf8_at(u + i, len - i, &cp)) > 0) {
            if (invisible(cp))
                snprintf(piece, sizeof piece, "\\u%04x", cp);
            else
                snprintf(piece, sizeof piece, "%.*s", (int)step, s + i);
        } else {
            step = 1;
            snprintf(piece, sizeof piece, "\\x%02x", u[i]);
        }
        size_t plen = strlen(piece);
        if (o + plen + 4 > cap) { /* room for "..." and the end */
            snprintf(out + o, cap - o, "...");
            return;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        i += step;
    }
    if (cap > 0) out[o < cap ? o : cap - 1] = '\0';
}

void csv_show_header(const csv_reader *r, const char *prefix, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%sthe header's columns:", prefix);
    for (size_t c = 0; c < r->ncols && o + 1 < cap; c++) {
        char name[96];
        csv_show_bytes(r->names[c], strlen(r->names[c]), name, sizeof name);
        /* Quoted where the shown name differs from a plain word. */
        int plain = name[0] != '\0' && strcspn(name, " \\") == strlen(name);
        int n = snprintf(out + o, cap - o, "%s %s%s%s (field %zu)", c ? "," : "", plain ? "" : "\"",
                         name, plain ? "" : "\"", c + 1);
        if (n < 0 || (size_t)n >= cap - o || c == 32) {
            snprintf(out + o, cap - o, ", ...");
            return;
        }
        o += (size_t)n;
    }
}
