/* Backquoted column names: replaced by identifiers before the expressions are
 * compiled, so that the expression language keeps plain identifiers; a file
 * column keeps one identifier wherever it is named, and messages get the
 * user's spelling back. */
#include "names.h"
#include "../core/error.h"
#include "../expr/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *csv_names_column(const csv_names *names, const char *id, size_t len)
{
    for (size_t i = 0; i < names->n; i++)
        if (strlen(names->aliases[i].alias) == len && memcmp(names->aliases[i].alias, id, len) == 0)
            return names->aliases[i].name;
    return NULL;
}

static int is_identifier(const char *s, size_t len)
{
    if (len == 0 || len >= 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

/* The identifier standing for `name` (made up and remembered when needed). */
static weft_status alias_of(csv_names *names, const csv_reader *r, const char *name,
                            const char **out)
{
    if (is_identifier(name, strlen(name))) {
        *out = name;
        return WEFT_OK;
    }
    for (size_t i = 0; i < names->n; i++)
        if (strcmp(names->aliases[i].name, name) == 0) {
            *out = names->aliases[i].alias;
            return WEFT_OK;
        }
    csv_alias *grown = realloc(names->aliases, (names->n + 1) * sizeof *grown);
    RETURN_IF(!grown, WEFT_ERR_NOMEM, "csv: out of memory");
    names->aliases = grown;
    int col = csv_column_index(r, name);
    char alias[48];
    if (col >= 0)
        snprintf(alias, sizeof alias, "__weft_c%d", col);
    else
        snprintf(alias, sizeof alias, "__weft_n%zu", names->n);
    csv_alias *a = &names->aliases[names->n];
    a->name = strdup(name);
    a->alias = strdup(alias);
    if (!a->name || !a->alias) {
        free(a->name);
        free(a->alias);
        return weft_error_set(WEFT_ERR_NOMEM, "csv: out of memory");
    }
    names->n++;
    *out = a->alias;
    return WEFT_OK;
}

typedef struct text_buf {
    char *s;
    size_t len, cap;
} text_buf;

static int put(text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *g = realloc(b->s, cap);
        if (!g) return 0;
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 1;
}

/* Length of the number token at s, as the expression lexer reads it. */
static size_t number_length(const char *s)
{
    size_t n = 0;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    while (isalnum((unsigned char)s[n]) || s[n] == '.' ||
           ((s[n] == '+' || s[n] == '-') && n > 0 && (s[n - 1] == 'e' || s[n - 1] == 'E') && !hex))
        n++;
    return n;
}

weft_status csv_names_rewrite(csv_names *names, const csv_reader *r, const char *text, char **out)
{
    text_buf b = {0};
    weft_status st = WEFT_OK;
    char *name = malloc(strlen(text) + 1);
    const char *s = text;
    int ok = name && put(&b, "", 0);
    while (ok && st == WEFT_OK && *s) {
        size_t n = 1;
        if (*s == '#') {
            n = strcspn(s, "\n");
        } else if (*s == '`') {
            size_t len = 0;
            const char *q = s + 1;
            for (; *q && !(q[0] == '`' && q[1] != '`'); q++) {
                name[len++] = *q;
                q += q[0] == '`'; /* `` is one backquote */
            }
            name[len] = 0;
            if (!*q) {
                st = weft_error_set(WEFT_ERR_EXPR,
                                    "csv: \"%s\": a name in backquotes lacks its "
                                    "closing backquote",
                                    text);
                break;
            }
            const char *alias = NULL;
            st = alias_of(names, r, name, &alias);
            if (st == WEFT_OK) ok = put(&b, alias, strlen(alias));
            s = q + 1;
            /* `a`2 is the name a, then 2: written together they read as
             * the identifier a2, another column. */
            if (ok && (isalnum((unsigned char)*s) || *s == '_')) ok = put(&b, " ", 1);
            continue;
        } else if (isalpha((unsigned char)*s) || *s == '_') {
            while (isalnum((unsigned char)s[n]) || s[n] == '_')
                n++;
            memcpy(name, s, n);
            name[n] = 0;
            /* A column named by an identifier too long for the language
             * (64 characters or more) is written bare as any other. */
            if (!is_identifier(name, n) && csv_column_index(r, name) >= 0) {
                const char *alias = NULL;
                st = alias_of(names, r, name, &alias);
                if (st == WEFT_OK) ok = put(&b, alias, strlen(alias));
                s += n;
                continue;
            }
        } else if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
            n = number_length(s);
            memcpy(name, s, n);
            name[n] = 0;
            /* A column named 1960 and the number 1960 look alike: refuse the
             * guess rather than compute with the wrong one. */
            if (csv_column_index(r, name) >= 0)
                st = weft_error_set(WEFT_ERR_EXPR,
                                    "csv: \"%s\": %s is a number here, but the file has a "
                                    "column named \"%s\": write `%s` for the column (and the "
                                    "number another way, e.g. %s.0)",
                                    text, name, name, name, name);
        }
        ok = ok && put(&b, s, n);
        s += n;
    }
    free(name);
    if (st == WEFT_OK && !ok) st = weft_error_set(WEFT_ERR_NOMEM, "csv: out of memory");
    if (st != WEFT_OK) {
        free(b.s);
        return st;
    }
    *out = b.s;
    return WEFT_OK;
}

void csv_names_restore(const csv_names *names, const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const char *s = text; *s && n + 80 < size;) {
        size_t len = strncmp(s, "__weft_", 7) == 0 ? 7 : 0;
        while (len && (isalnum((unsigned char)s[len]) || s[len] == '_'))
            len++;
        const char *name = len ? csv_names_column(names, s, len) : NULL;
        if (name) {
            n += (size_t)snprintf(out + n, size - n, "`%.60s`", name);
            s += len;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = 0;
}

void csv_names_free(csv_names *names)
{
    for (size_t i = 0; i < names->n; i++) {
        free(names->aliases[i].name);
        free(names->aliases[i].alias);
    }
    free(names->aliases);
    names->aliases = NULL;
    names->n = 0;
}

/* The end of the backquoted name starting at s[0] == '`' (past its closing
 * backquote; `` inside is one backquote). */
static const char *past_backquoted(const char *s)
{
    const char *q = s + 1;
    for (; *q && !(q[0] == '`' && q[1] != '`'); q++)
        q += q[0] == '`';
    return *q ? q + 1 : q;
}

size_t csv_names_original_offset(const char *text, const char *rewritten, size_t pos)
{
    const char *s = text, *w = rewritten, *target = rewritten + pos;
    while (*s && *w && w < target) {
        if (*s == '#') { /* a comment is copied as it is, backquotes and all */
            while (*s && *s != '\n' && w < target) {
                s++;
                w++;
            }
        } else if (*s == '`') {
            const char *name = s;
            s = past_backquoted(s);
            while (isalnum((unsigned char)*w) || *w == '_')
                w++;
            if (w > target) return (size_t)(name - text);
            if (*w == ' ' && *s != ' ') w++; /* the blank the rewrite put after it */
        } else {
            s++;
            w++;
        }
    }
    return (size_t)(s - text);
}

/* The start of the line holding pos. */
static size_t line_start(const char *text, size_t pos)
{
    while (pos > 0 && text[pos - 1] != '\n')
        pos--;
    return pos;
}

/* Where in rewritten the compiler's message points: the line its excerpt
 * shows ("  [...]line\n  ^"), at column `column`; (size_t)-1 if none. */
static size_t find_error(const char *rewritten, const char *excerpt, size_t excerpt_len, int column)
{
    int cut = excerpt_len >= 3 && strncmp(excerpt, "...", 3) == 0;
    if (cut) {
        excerpt += 3;
        excerpt_len -= 3;
    }
    for (size_t start = 0;;) {
        size_t end = start + strcspn(rewritten + start, "\n");
        size_t pos = start + (size_t)column - 1;
        size_t from = cut && pos >= start + 150 ? pos - 150 : start;
        if (pos <= end && cut == (from > start) && end - from >= excerpt_len &&
            strncmp(rewritten + from, excerpt, excerpt_len) == 0)
            return pos;
        if (!rewritten[end]) return (size_t)-1;
        start = end + 1;
    }
}

/* A column whose name is not an identifier, written bare or in quotes
 * where the error is ("old column", Total (USD), température): the
 * backquotes it needs. */
static void backquote_hint(const csv_reader *r, const char *text, size_t pos, char *out,
                           size_t size)
{
    out[0] = 0;
    for (size_t c = 0; c < r->ncols; c++) {
        const char *name = r->names[c];
        size_t len = strlen(name);
        if (len == 0 || is_identifier(name, len)) continue;
        for (const char *at = strstr(text, name); at; at = strstr(at + 1, name)) {
            size_t from = (size_t)(at - text), to = from + len;
            if (from > 0 && (text[from - 1] == '"' || text[from - 1] == '\'')) from--;
            if (from > 0 && text[from - 1] == '`') continue;
            if (pos >= from && pos <= to) {
                snprintf(out, size,
                         "\n(a column whose name is not an identifier goes in backquotes: "
                         "`%.60s`)",
                         name);
                return;
            }
        }
    }
}

void csv_names_point(const csv_names *names, const csv_reader *r, const char *text,
                     const char *rewritten, const char *detail, char *out, size_t size)
{
    /* " at column N" followed by the excerpt's line: the message before it
     * may hold anything, a line end among it. */
    const char *at = NULL, *nl = NULL;
    for (const char *a = strstr(detail, " at column "); a && !at;
         a = strstr(a + 1, " at column ")) {
        const char *d = a + 11;
        while (*d >= '0' && *d <= '9')
            d++;
        if (d > a + 11 && strncmp(d, "\n  ", 3) == 0) {
            at = a;
            nl = d;
        }
    }
    if (!at) {
        csv_names_restore(names, detail, out, size);
        return;
    }
    int column = atoi(at + 11);
    const char *excerpt = nl + 3;
    size_t pos = find_error(rewritten, excerpt, strcspn(excerpt, "\n"), column);
    if (column < 1 || pos == (size_t)-1) {
        csv_names_restore(names, detail, out, size);
        return;
    }
    /* The message itself may name a column of the same line (the '(' a ')'
     * was expected for): moved as the error is. */
    char message[512], moved[512];
    size_t n = 0, rw_line = line_start(rewritten, pos);
    size_t orig = csv_names_original_offset(text, rewritten, pos), line = line_start(text, orig);
    for (const char *s = detail; s < at && n + 32 < sizeof message;) {
        int k, used;
        if (sscanf(s, "column %d%n", &k, &used) == 1 && k >= 1 && rw_line + (size_t)k - 1 <= pos) {
            size_t o = csv_names_original_offset(text, rewritten, rw_line + (size_t)k - 1);
            n += (size_t)snprintf(message + n, sizeof message - n, "column %zu", o - line + 1);
            s += used;
        } else {
            message[n++] = *s++;
        }
    }
    message[n] = 0;
    csv_names_restore(names, message, moved, sizeof moved);
    char hint[160];
    backquote_hint(r, text, orig, hint, sizeof hint);
    weft_expr_format_at(text, orig, moved, out, size);
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s", hint);
}
