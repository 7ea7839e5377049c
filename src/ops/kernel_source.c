/* Reading OpenCL C the way its preprocessor and compiler would, only as far
 * as launches need: comments out, identifiers as tokens, and simple typedefs
 * and object-like macros followed to a built-in type. */
#include "kernel_source.h"
#include "../core/include_deps.h"
#include "kernel_if.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *weft_kernel_source_plain(const char *source)
{
    size_t n = strlen(source);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    memcpy(out, source, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '/' && out[i + 1] == '/') {
            while (i < n && out[i] != '\n')
                out[i++] = ' ';
        } else if (out[i] == '/' && out[i + 1] == '*') {
            out[i] = out[i + 1] = ' ';
            for (i += 2; i < n && !(out[i] == '*' && out[i + 1] == '/'); i++)
                if (out[i] != '\n') out[i] = ' ';
            if (i < n) out[i] = out[i + 1] = ' ';
            i++;
        } else if (out[i] == '"' || out[i] == '\'') {
            /* A string's or a character's contents are not code: '"' or
             * '}' read as code hid the rest of a line, or ended a kernel's
             * body, from the scans here. */
            char quote = out[i];
            for (i++; i < n && out[i] != quote && out[i] != '\n'; i++) {
                if (out[i] == '\\' && i + 1 < n && out[i + 1] != '\n') out[i++] = 'x';
                out[i] = 'x';
            }
        }
    }
    return out;
}

static int is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static int is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The next identifier at or after *pos; its length, 0 at the end. */
static size_t next_ident(const char *text, size_t *pos)
{
    size_t i = *pos;
    while (text[i] && !(is_ident_start(text[i]) && (i == 0 || !is_ident(text[i - 1]))))
        i++;
    size_t len = 0;
    while (text[i + len] && is_ident(text[i + len]))
        len++;
    *pos = i;
    return len;
}

/* 1 when text (comments left out) names one of names, or starts a name with
 * one of prefixes; 1 also when it cannot be read (the safe answer). calls:
 * only a name called (followed by '(') counts, or one on a preprocessor line
 * (`#define MUL mad`): `int length` is no call of length(). */
static int text_names_any(const char *source, const char *const *names, size_t count,
                          const char *const *prefixes, size_t nprefixes, int calls)
{
    char *text = weft_kernel_source_plain(source);
    if (!text) return 1;
    int found = 0;
    for (size_t pos = 0, len; !found && (len = next_ident(text, &pos)) > 0; pos += len) {
        int named = 0;
        for (size_t k = 0; k < count && !named; k++)
            named = len == strlen(names[k]) && strncmp(text + pos, names[k], len) == 0;
        for (size_t k = 0; k < nprefixes && !named; k++)
            named = len > strlen(prefixes[k]) &&
                    strncmp(text + pos, prefixes[k], strlen(prefixes[k])) == 0;
        if (named && calls) {
            size_t next = pos + len, line = pos;
            while (text[next] == ' ' || text[next] == '\t' || text[next] == '\n')
                next++;
            while (line > 0 && text[line - 1] != '\n')
                line--;
            while (text[line] == ' ' || text[line] == '\t')
                line++;
            named = text[next] == '(' || text[line] == '#';
        }
        found = named;
    }
    free(text);
    return found;
}

char *weft_kernel_option_macros(const char *options)
{
    size_t len = options ? strlen(options) : 0, at = 0;
    char *out = malloc(len + 2);
    if (!out) return NULL;
    for (size_t i = 0; i + 1 < len; i++) {
        if (options[i] != '-' || options[i + 1] != 'D' ||
            (i > 0 && !isspace((unsigned char)options[i - 1])))
            continue;
        size_t j = i + 2;
        while (j < len && isspace((unsigned char)options[j]))
            j++;
        while (j < len && !isspace((unsigned char)options[j]) && options[j] != '=')
            j++;
        if (j >= len || options[j] != '=') continue; /* -DNAME: defined, no body */
        for (j++; j < len && !isspace((unsigned char)options[j]); j++)
            out[at++] = options[j];
        out[at++] = '\n';
    }
    out[at] = '\0';
    return out;
}

/* 1 when `#pragma OPENCL FP_CONTRACT ON` (or DEFAULT) is in text: the
 * compiler may then fuse a * b + c into one rounding, where C does not. */
static int contracts(const char *text)
{
    char *plain = weft_kernel_source_plain(text);
    if (!plain) return 1;
    int found = 0;
    for (const char *at = strstr(plain, "FP_CONTRACT"); at && !found;
         at = strstr(at + 1, "FP_CONTRACT")) {
        const char *w = at + strlen("FP_CONTRACT");
        while (*w == ' ' || *w == '\t')
            w++;
        found = (strncmp(w, "ON", 2) == 0 || strncmp(w, "DEFAULT", 7) == 0) &&
                !is_ident(w[*w == 'O' ? 2 : 7]);
    }
    free(plain);
    return found;
}

/* What a screen looks for: names (and name prefixes), and for the
 * loose-math screen an FP_CONTRACT pragma turned on too. */
typedef struct name_set {
    const char *const *names;
    size_t count;
    const char *const *prefixes;
    size_t nprefixes;
    int calls;     /* only called names count in source text (text_names_any) */
    int contracts; /* a text that turns contraction on counts (contracts) */
} name_set;

static int text_names_set(const char *text, const name_set *set)
{
    return text_names_any(text, set->names, set->count, set->prefixes, set->nprefixes,
                          set->calls) ||
           (set->contracts && contracts(text));
}

typedef struct included_search {
    const name_set *set;
    int found;
} included_search;

static void included_names(void *user, const char *text, size_t size)
{
    included_search *q = user;
    if (q->found) return;
    char *copy = malloc(size + 1);
    if (!copy) {
        q->found = 1; /* cannot tell: the safe answer */
        return;
    }
    memcpy(copy, text, size);
    copy[size] = '\0';
    q->found = text_names_set(copy, q->set);
    free(copy);
}

/* 1 when the source, a macro of its options (-DMUL_ADD=mad) or a header it
 * includes holds what the set looks for: what the compiler sees, not the
 * source's text alone. 1 also when a header cannot be read. */
static int program_names(const char *source, const char *options, const name_set *set)
{
    if (text_names_set(source, set)) return 1;
    /* The bodies of -D macros, where a bare name is what the compiler
     * substitutes (-D MUL_ADD=mad); not -I paths or other options. */
    char *bodies = weft_kernel_option_macros(options);
    if (!bodies) return 1;
    name_set bare = *set;
    bare.calls = 0;
    bare.contracts = 0;
    int found = text_names_set(bodies, &bare);
    free(bodies);
    if (found) return 1;
    included_search q = {set, 0};
    if (weft_include_visit(source, options, included_names, &q) != WEFT_OK) return 1;
    return q.found;
}

int weft_kernel_source_inexact_math(const char *source, const char *options)
{
    /* OpenCL allows these some ULPs of error, and C libraries have their
     * own: a kernel and its C twin agree only by chance. The geometric ones
     * and mix / smoothstep may be fused (PoCL's dot is an fma chain). + - *
     * / sqrt fma and conversions are rounded exactly in both (contraction
     * is off unless a pragma turns it on). */
    static const char *const names[] = {
        "acos",    "acosh",     "acospi",        "asin",        "asinh",
        "asinpi",  "atan",      "atan2",         "atanh",       "atanpi",
        "atan2pi", "cbrt",      "cos",           "cosh",        "cospi",
        "erf",     "erfc",      "exp",           "exp2",        "exp10",
        "expm1",   "hypot",     "lgamma",        "lgamma_r",    "log",
        "log2",    "log10",     "log1p",         "pow",         "pown",
        "powr",    "rootn",     "rsqrt",         "sin",         "sincos",
        "sinh",    "sinpi",     "tan",           "tanh",        "tanpi",
        "tgamma",  "mad",       "dot",           "cross",       "distance",
        "length",  "normalize", "fast_distance", "fast_length", "fast_normalize",
        "mix",     "smoothstep"};
    static const char *const prefixes[] = {"native_", "half_"};
    static const char *const loose[] = {
        "-cl-fast-relaxed-math", "-cl-mad-enable",      "-cl-unsafe-math-optimizations",
        "-cl-denorms-are-zero",  "-cl-no-signed-zeros", "-cl-finite-math-only",
        "-weft-fp-contract"};
    for (size_t k = 0; options && k < sizeof loose / sizeof loose[0]; k++)
        if (strstr(options, loose[k])) return 1;
    const name_set set = {names,    sizeof names / sizeof names[0],
                          prefixes, sizeof prefixes / sizeof prefixes[0],
                          1,        1};
    return program_names(source, options, &set);
}

int weft_kernel_source_reads_geometry(const char *source, const char *options)
{
    /* A macro of the options (-DNX=get_global_size(0)) or of a header the
     * source includes reads it as well as the source's own text. */
    static const char *const names[] = {"get_global_size", "get_num_groups", "get_group_id",
                                        "get_global_offset", "get_global_linear_id"};
    const name_set set = {names, sizeof names / sizeof names[0], NULL, 0, 0, 0};
    return program_names(source, options, &set);
}

/* Collapses runs of blanks and trims; writes at most cap bytes. */
static void squeeze(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    int blank = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (isspace((unsigned char)in[i])) {
            blank = o > 0;
            continue;
        }
        if (blank && o + 2 < cap) out[o++] = ' ';
        blank = 0;
        out[o++] = in[i];
    }
    out[o] = '\0';
}

/* "unsigned int" as OpenCL C's own name; qualifiers dropped. */
static void canonical(char *base)
{
    static const struct {
        const char *from, *to;
    } spellings[] = {
        {"unsigned char", "uchar"}, {"unsigned short", "ushort"}, {"unsigned int", "uint"},
        {"unsigned long", "ulong"}, {"unsigned", "uint"},         {"signed char", "char"},
        {"signed short", "short"},  {"signed int", "int"},        {"signed long", "long"},
        {"long int", "long"},       {"short int", "short"},       {"unsigned long int", "ulong"}};
    for (;;) { /* qualifiers the compiler drops from the element type */
        if (strncmp(base, "const ", 6) == 0)
            memmove(base, base + 6, strlen(base + 6) + 1);
        else if (strncmp(base, "volatile ", 9) == 0)
            memmove(base, base + 9, strlen(base + 9) + 1);
        else
            break;
    }
    size_t len = strlen(base);
    if (len > 6 && strcmp(base + len - 6, " const") == 0) base[len - 6] = '\0';
    for (size_t k = 0; k < sizeof spellings / sizeof spellings[0]; k++)
        if (strcmp(base, spellings[k].from) == 0) {
            strcpy(base, spellings[k].to);
            return;
        }
}

/* A conditional directive's value (1, 0, -1 unknown: kernel_if.h); d is
 * just past the '#' and the blanks after it. */
static int directive_value(const char *text, size_t upto, const char *d, const char *options)
{
    int negate = strncmp(d, "ifndef", 6) == 0;
    size_t skip = negate ? 6 : strncmp(d, "ifdef", 5) == 0 ? 5 : strncmp(d, "elif", 4) == 0 ? 4 : 2;
    const char *rest = d + skip;
    size_t len = strcspn(rest, "\n");
    if (skip == 5 || skip == 6) { /* #ifdef NAME: defined(NAME) */
        char condition[160];
        snprintf(condition, sizeof condition, "%sdefined %.*s", negate ? "!" : "",
                 (int)(len < 128 ? len : 128), rest);
        return weft_kernel_if_value(text, upto, condition, strlen(condition), options);
    }
    return weft_kernel_if_value(text, upto, rest, len, options);
}

/* Blanks the lines of conditional groups known not taken (directive_value:
 * 0, or an earlier branch known taken), so a #define, typedef or kernel
 * there is not taken for the compiler's. A group whose condition weft
 * cannot tell stays, and so do the branches after it. */
static void drop_inactive(char *text, const char *options)
{
    enum { DEPTH = 32 };
    int skip[DEPTH] = {0}, taken[DEPTH] = {0}, depth = 0;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *d = line;
        while (*d == ' ' || *d == '\t')
            d++;
        int inactive = depth > 0 && skip[depth - 1];
        if (*d == '#') {
            d++;
            while (*d == ' ' || *d == '\t')
                d++;
            size_t at = (size_t)(line - text);
            if (strncmp(d, "if", 2) == 0 && depth < DEPTH) {
                int value = inactive ? 0 : directive_value(text, at, d, options);
                skip[depth] = inactive || value == 0;
                taken[depth++] = inactive || value == 1;
            } else if (strncmp(d, "elif", 4) == 0 && depth) {
                int outer_off = depth > 1 && skip[depth - 2];
                int value =
                    outer_off || taken[depth - 1] ? 0 : directive_value(text, at, d, options);
                skip[depth - 1] = outer_off || taken[depth - 1] || value == 0;
                taken[depth - 1] = taken[depth - 1] || value == 1;
            } else if (strncmp(d, "else", 4) == 0 && depth) {
                int outer_off = depth > 1 && skip[depth - 2];
                skip[depth - 1] = outer_off || taken[depth - 1];
                taken[depth - 1] = 1;
            } else if (strncmp(d, "endif", 5) == 0 && depth) {
                depth--;
            }
        } else if (inactive) {
            memset(line, ' ', len);
        }
        if (inactive && *d != '#') memset(line, ' ', len);
        line += len + (end ? 1 : 0);
    }
}

/* The value of -D name=value in options, into out; 0 when absent. The
 * last -D of a name wins, as the compiler takes them. */
static int option_macro(const char *options, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    int found = 0;
    for (const char *p = options ? strstr(options, "-D") : NULL; p; p = strstr(p + 2, "-D")) {
        const char *q = p + 2;
        while (*q == ' ')
            q++;
        if (strncmp(q, name, nlen) != 0 || q[nlen] != '=') continue;
        q += nlen + 1;
        size_t len = strcspn(q, " \t");
        squeeze(q, len, out, cap);
        found = 1;
    }
    return found;
}

/* `#define name value` (object-like), into out; 0 when absent. */
static int source_macro(const char *text, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(text, "define"); p; p = strstr(p + 6, "define")) {
        const char *hash = p;
        while (hash > text && (hash[-1] == ' ' || hash[-1] == '\t'))
            hash--;
        if (hash == text || hash[-1] != '#') continue;
        const char *q = p + 6;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncmp(q, name, nlen) != 0 || is_ident(q[nlen]) || q[nlen] == '(') continue;
        q += nlen;
        squeeze(q, strcspn(q, "\n"), out, cap);
        return out[0] != '\0';
    }
    return 0;
}

/* `typedef value name;` without braces or parentheses, into out. */
static int source_typedef(const char *text, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (size_t pos = 0, len; (len = next_ident(text, &pos)) > 0; pos += len) {
        if (len != 7 || strncmp(text + pos, "typedef", 7) != 0) continue;
        const char *start = text + pos + 7, *semi = strchr(start, ';');
        if (!semi || (size_t)(semi - start) > 256) continue;
        if (memchr(start, '{', (size_t)(semi - start)) ||
            memchr(start, '(', (size_t)(semi - start)))
            continue;
        const char *end = semi;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if ((size_t)(end - start) <= nlen || strncmp(end - nlen, name, nlen) != 0 ||
            is_ident(end[-(long)nlen - 1]))
            continue;
        squeeze(start, (size_t)(end - nlen - start), out, cap);
        return out[0] != '\0';
    }
    return 0;
}

/* The declaration of a struct body starting at body[i], squeezed into decl
 * (empty for an empty one); returns where the next one starts. */
static size_t next_declaration(const char *body, size_t len, size_t i, char *decl, size_t cap)
{
    size_t end = i;
    while (end < len && body[end] != ';')
        end++;
    squeeze(body + i, end - i, decl, cap);
    return end + 1;
}

/* The one built-in type every field of a struct body has ("float" for
 * { float lat; float lng; }), into out; 0 when the fields differ or the body
 * holds anything but plain declarations. */
static int record_field_type(const char *body, size_t len, char *out, size_t cap)
{
    char field[128];
    int fields = 0;
    for (size_t i = 0; i < len;) {
        char decl[128];
        i = next_declaration(body, len, i, decl, sizeof decl);
        if (!decl[0]) continue;
        if (strpbrk(decl, "{}()[*")) return 0; /* nested, arrays, pointers: not one type */
        char *name = strrchr(decl, ' '), *comma = strchr(decl, ',');
        if (comma) { /* "float a, b": the type is before the first name */
            *comma = '\0';
            name = strrchr(decl, ' ');
        }
        if (!name) return 0;
        *name = '\0';
        canonical(decl);
        if (fields++ && strcmp(decl, field) != 0) return 0;
        snprintf(field, sizeof field, "%s", decl);
    }
    if (!fields) return 0;
    snprintf(out, cap, "%s", field);
    return 1;
}

/* The body of the struct named name (`typedef struct [tag] {...} name;`,
 * or `struct name {...}` when name is "struct tag"): its first character
 * and length; 0 when there is none. */
/* Past blanks and `__attribute__((...))` groups at q. */
static const char *skip_attributes(const char *q)
{
    for (;;) {
        while (isspace((unsigned char)*q))
            q++;
        if (strncmp(q, "__attribute__", 13) != 0) return q;
        q += 13;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '(') return q;
        int depth = 0;
        do {
            depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
            q++;
        } while (*q && depth > 0);
    }
}

/* The body of struct name; *decl, *decl_len: the whole declaration, from
 * `struct` past the name (where its attributes are). */
static int record_body(const char *text, const char *name, const char **body, size_t *len,
                       const char **decl, size_t *decl_len)
{
    int tagged = strncmp(name, "struct ", 7) == 0;
    const char *want = tagged ? name + 7 : name;
    size_t wlen = strlen(want);
    for (const char *p = strstr(text, "struct"); p; p = strstr(p + 6, "struct")) {
        if ((p > text && is_ident(p[-1])) || is_ident(p[6])) continue;
        const char *open = strchr(p, '{'), *semi = strchr(p, ';');
        if (!open || (semi && semi < open)) continue;
        const char *close = strchr(open, '}');
        if (!close) continue;
        int match;
        if (tagged) { /* struct want { */
            const char *q = p + 6;
            while (isspace((unsigned char)*q))
                q++;
            match = strncmp(q, want, wlen) == 0 && !is_ident(q[wlen]);
        } else { /* typedef struct ... } want; */
            const char *before = p;
            while (before > text && isspace((unsigned char)before[-1]))
                before--;
            const char *q = skip_attributes(close + 1);
            match = before - text >= 7 && strncmp(before - 7, "typedef", 7) == 0 &&
                    strncmp(q, want, wlen) == 0 && !is_ident(q[wlen]);
        }
        if (match) {
            const char *after = strchr(close, ';');
            *body = open + 1;
            *len = (size_t)(close - open - 1);
            *decl = p;
            *decl_len = after ? (size_t)(after - p) : strlen(p);
            return 1;
        }
    }
    return 0;
}

/* A struct named name whose fields share one type: a record an array of
 * that type holds field after field. */
static int source_record(const char *text, const char *name, char *out, size_t cap)
{
    const char *body, *decl;
    size_t len, decl_len;
    return record_body(text, name, &body, &len, &decl, &decl_len) &&
           record_field_type(body, len, out, cap);
}

/* Moves the trailing '*'s (and blanks) of base into the front of suffix. */
static void take_pointers(char *base, char *suffix, size_t cap)
{
    size_t len = strlen(base), stars = 0;
    while (len > 0 && (base[len - 1] == '*' || base[len - 1] == ' ')) {
        stars += base[len - 1] == '*';
        base[--len] = '\0';
    }
    char moved[64];
    size_t o = 0;
    while (stars-- && o + 1 < sizeof moved)
        moved[o++] = '*';
    moved[o] = '\0';
    size_t have = strlen(suffix);
    if (o + have + 1 <= cap) {
        memmove(suffix + o, suffix, have + 1);
        memcpy(suffix, moved, o);
    }
}

/* base (128 bytes) with its macro and typedef names followed, and records
 * of one field type too when records is 1; the '*'s found on the way go to
 * the front of suffix (32 bytes). text: the plain active source, or NULL. */
static void resolve_names(const char *text, const char *options, int records, char *base,
                          char *suffix)
{
    char value[128];
    /* A few steps: typedefs of typedefs; more would be a loop. */
    for (int step = 0; step < 8; step++) {
        canonical(base);
        int found = option_macro(options, base, value, sizeof value) ||
                    (text && (source_macro(text, base, value, sizeof value) ||
                              source_typedef(text, base, value, sizeof value) ||
                              (records && source_record(text, base, value, sizeof value))));
        if (!found || strcmp(value, base) == 0) break;
        snprintf(base, 128, "%s", value);
        take_pointers(base, suffix, 32);
    }
}

char *weft_kernel_source_active(const char *source, const char *options)
{
    char *text = source ? weft_kernel_source_plain(source) : NULL;
    if (text) drop_inactive(text, options);
    return text;
}

typedef struct joined_text {
    char *text;
    size_t len;
    const char *options;
    int failed;
} joined_text;

static void join_included(void *user, const char *text, size_t size)
{
    joined_text *j = user;
    char *copy = malloc(size + 1);
    char *plain = NULL;
    if (copy) {
        memcpy(copy, text, size);
        copy[size] = '\0';
        plain = weft_kernel_source_plain(copy);
        free(copy);
    }
    if (plain) drop_inactive(plain, j->options);
    size_t add = plain ? strlen(plain) : 0;
    char *grown = plain ? realloc(j->text, j->len + add + 2) : NULL;
    if (!grown) {
        j->failed = 1;
        free(plain);
        return;
    }
    memcpy(grown + j->len, plain, add);
    j->len += add;
    grown[j->len++] = '\n';
    grown[j->len] = '\0';
    j->text = grown;
    free(plain);
}

/* source with the lines active leaves blank blanked too (active:
 * weft_kernel_source_active of it, line for line): the #include lines of
 * the branches the options leave out are not followed (a precision switch
 * includes one header or the other). NULL when the lines do not match. */
static char *raw_active(const char *source, const char *active)
{
    char *out = strdup(source);
    if (!out) return NULL;
    char *line = out;
    const char *act = active;
    for (;;) {
        size_t len = strcspn(line, "\n"), act_len = strcspn(act, "\n");
        int blank = 1;
        for (size_t i = 0; i < act_len && blank; i++)
            blank = isspace((unsigned char)act[i]) != 0;
        if (blank) memset(line, ' ', len);
        if (!line[len] || !act[act_len]) {
            if (line[len] != act[act_len]) { /* the lines do not pair up */
                free(out);
                return NULL;
            }
            return out;
        }
        line += len + 1;
        act += act_len + 1;
    }
}

/* Where a type name may be defined: the active text of the files source
 * includes (a struct or typedef in a header: Parboil's macros.h), then the
 * source's own. The compiler reads headers first too. Positions in it are
 * not the source's: for names, not for offsets. */
static char *text_for_types(const char *source, const char *options)
{
    char *own = weft_kernel_source_active(source, options);
    if (!own || !strstr(own, "#include")) return own;
    joined_text j = {NULL, 0, options, 0};
    char *walked = raw_active(source, own);
    if (!walked || weft_include_visit(walked, options, join_included, &j) != WEFT_OK || j.failed ||
        !j.text) {
        free(walked);
        free(j.text);
        return own;
    }
    free(walked);
    size_t own_len = strlen(own);
    char *all = realloc(j.text, j.len + own_len + 1);
    if (!all) {
        free(j.text);
        return own;
    }
    memcpy(all + j.len, own, own_len + 1);
    free(own);
    return all;
}

void weft_kernel_type_resolve(const char *source, const char *options, const char *type, char *out,
                              size_t cap)
{
    char base[128], suffix[32] = "";
    squeeze(type, strlen(type), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    char *text = text_for_types(source, options);
    resolve_names(text, options, 1, base, suffix);
    free(text);
    snprintf(out, cap, "%s%s", base, suffix);
}

typedef struct layout {
    size_t size, align;
} layout;

/* A built-in scalar or vector type's size and alignment (a 3-vector is laid
 * out as a 4-vector); 0 for anything else, size_t and kin included (their
 * size is the device's). */
static int builtin_layout(const char *base, layout *l)
{
    static const struct {
        const char *name;
        size_t size;
    } scalars[] = {{"char", 1},   {"uchar", 1}, {"bool", 1},  {"short", 2},
                   {"ushort", 2}, {"half", 2},  {"int", 4},   {"uint", 4},
                   {"float", 4},  {"long", 8},  {"ulong", 8}, {"double", 8}};
    size_t len = strlen(base), name_len = len;
    while (name_len > 0 && isdigit((unsigned char)base[name_len - 1]))
        name_len--;
    size_t width = name_len < len ? strtoul(base + name_len, NULL, 10) : 1;
    if (width != 1 && width != 2 && width != 3 && width != 4 && width != 8 && width != 16) return 0;
    for (size_t k = 0; k < sizeof scalars / sizeof scalars[0]; k++)
        if (strlen(scalars[k].name) == name_len && strncmp(base, scalars[k].name, name_len) == 0) {
            l->size = l->align = scalars[k].size * (width == 3 ? 4 : width);
            return 1;
        }
    return 0;
}

static int type_layout(const char *text, const char *options, const char *type, int depth,
                       layout *l);

/* The length inside `[...]` at at: a number, or a name -D or #define makes
 * one; 0 when weft cannot tell. */
static size_t array_length(const char *text, const char *options, const char *at)
{
    size_t len = strcspn(at, "]");
    char inside[64], value[64];
    if (at[len] != ']' || len >= sizeof inside) return 0;
    squeeze(at, len, inside, sizeof inside);
    const char *number = inside;
    if (is_ident_start(inside[0]) && (option_macro(options, inside, value, sizeof value) ||
                                      source_macro(text, inside, value, sizeof value)))
        number = value;
    char *end;
    unsigned long long n = strtoull(number, &end, 0);
    while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
        end++;
    return *end || end == number ? 0 : (size_t)n;
}

/* The alignment an `aligned(N)` attribute of a record's declaration asks
 * for (0: none), and whether it is `packed`; outside its body. */
static void record_attributes(const char *decl, size_t decl_len, const char *body, size_t len,
                              size_t *aligned, int *packed)
{
    *aligned = 0;
    *packed = 0;
    for (size_t i = 0; i < decl_len; i++) {
        const char *at = decl + i;
        if (at >= body && at < body + len) continue;
        if (i > 0 && isalnum((unsigned char)at[-1])) continue; /* inside another word */
        const char *q = at;
        if (strncmp(q, "packed", 6) == 0)
            q += 6;
        else if (strncmp(q, "aligned", 7) == 0)
            q += 7;
        else
            continue;
        if (q[0] == '_' && q[1] == '_') q += 2; /* __aligned__ */
        while (*q == ' ')
            q++;
        if (*q != '(' && *q != ')' && *q != ',') continue; /* a name like aligned_vec */
        if (at[0] == 'p') {
            *packed = 1;
            continue;
        }
        size_t n = *q == '(' ? strtoul(q + 1, NULL, 0) : 16; /* bare: the largest */
        if (n > *aligned) *aligned = n;
    }
}

/* One field declaration ("float lat", "float a, b", "int v[4]") placed at
 * *offset, widening *align; 0 when weft cannot lay it out. */
static int place_field(const char *text, const char *options, char *decl, int depth, size_t *offset,
                       size_t *align)
{
    if (strpbrk(decl, "{}()*")) return 0; /* nested bodies, pointers: not laid out here */
    size_t count = 1;
    for (char *c = strchr(decl, ','); c; c = strchr(c + 1, ','))
        count++;
    char *bracket = strchr(decl, '[');
    if (bracket) {
        if (count > 1) return 0;
        for (char *b = bracket; b; b = strchr(b + 1, '[')) { /* v[4], m[4][4], v[N] */
            size_t n = array_length(text, options, b + 1);
            if (n == 0 || count > SIZE_MAX / n) return 0;
            count *= n;
        }
        *bracket = '\0';
    }
    char *comma = strchr(decl, ',');
    if (comma) *comma = '\0';
    size_t len = strlen(decl);
    while (len > 0 && decl[len - 1] == ' ')
        decl[--len] = '\0';
    char *name = strrchr(decl, ' ');
    if (!name) return 0;
    *name = '\0';
    layout f;
    if (!type_layout(text, options, decl, depth + 1, &f)) return 0;
    *offset = (*offset + f.align - 1) / f.align * f.align + f.size * count;
    if (f.align > *align) *align = f.align;
    return 1;
}

/* type's size and alignment: a built-in type, or a struct whose fields are
 * (natural alignment, as OpenCL C lays it out); 0 when unknown. */
static int type_layout(const char *text, const char *options, const char *type, int depth,
                       layout *l)
{
    char base[128], suffix[32] = "";
    squeeze(type, strlen(type), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    resolve_names(text, options, 0, base, suffix);
    if (suffix[0] || depth > 4) return 0;
    if (builtin_layout(base, l)) return 1;
    const char *body, *decl_text;
    size_t len, decl_len, aligned;
    int packed;
    if (!text || !record_body(text, base, &body, &len, &decl_text, &decl_len)) return 0;
    record_attributes(decl_text, decl_len, body, len, &aligned, &packed);
    if (packed) return 0; /* fields without padding: not laid out here */
    size_t offset = 0, align = 1;
    for (size_t i = 0; i < len;) {
        char decl[128];
        i = next_declaration(body, len, i, decl, sizeof decl);
        if (decl[0] && !place_field(text, options, decl, depth, &offset, &align)) return 0;
    }
    if (offset == 0) return 0;
    if (aligned > align) align = aligned;
    l->size = (offset + align - 1) / align * align;
    l->align = align;
    return 1;
}

size_t weft_kernel_pointee_size(const char *source, const char *options, const char *type)
{
    char base[128], suffix[32] = "";
    squeeze(type, strlen(type), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    char *text = text_for_types(source, options);
    resolve_names(text, options, 0, base, suffix);
    layout l = {0, 0};
    int known = strcmp(suffix, "*") == 0 && type_layout(text, options, base, 0, &l);
    free(text);
    return known ? l.size : 0;
}

int weft_kernel_type_to_size(const char *type, char *name, size_t cap)
{
    char base[128], suffix[32] = "";
    squeeze(type, strlen(type), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    canonical(base);
    layout l;
    if (strlen(suffix) > 1 || !base[0] || builtin_layout(base, &l) || strlen(base) + 1 > cap)
        return 0; /* a pointer to pointers, or a built-in type: nothing to ask */
    strcpy(name, base);
    return 1;
}

/* The same kind of number (floating, signed, unsigned) of another size. */
static const char *scalar_of_size(const char *scalar, size_t size)
{
    static const char *const kinds[][4] = {{"char", "short", "int", "long"},
                                           {"uchar", "ushort", "uint", "ulong"},
                                           {"", "half", "float", "double"}};
    int index = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
    if (index < 0) return NULL;
    for (size_t k = 0; k < 3; k++)
        for (size_t j = 0; j < 4; j++)
            if (strcmp(kinds[k][j], scalar) == 0)
                return kinds[k][index][0] ? kinds[k][index] : NULL;
    return NULL;
}

int weft_kernel_type_resize(char *resolved, size_t cap, size_t size)
{
    char base[128], suffix[32] = "";
    squeeze(resolved, strlen(resolved), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    layout l;
    if (!builtin_layout(base, &l) || l.size == size) return 1;
    size_t len = strlen(base), name_len = len;
    while (name_len > 0 && isdigit((unsigned char)base[name_len - 1]))
        name_len--;
    size_t width = name_len < len ? strtoul(base + name_len, NULL, 10) : 1;
    size_t lanes = width == 3 ? 4 : width;
    char scalar[16];
    if (name_len >= sizeof scalar || size % lanes) return 0;
    memcpy(scalar, base, name_len);
    scalar[name_len] = '\0';
    const char *other = scalar_of_size(scalar, size / lanes);
    if (!other) return 0;
    char width_text[24] = "";
    if (name_len < len) snprintf(width_text, sizeof width_text, "%zu", width);
    return snprintf(resolved, cap, "%s%s%s", other, width_text, suffix) < (int)cap;
}

size_t weft_kernel_builtin_size(const char *type)
{
    char base[128], suffix[32] = "";
    squeeze(type, strlen(type), base, sizeof base);
    take_pointers(base, suffix, sizeof suffix);
    canonical(base);
    layout l;
    return strlen(suffix) <= 1 && builtin_layout(base, &l) ? l.size : 0;
}

int weft_kernel_source_types_certain(const char *source, const char *options, size_t kernel_end)
{
    /* What the compiler chooses and weft's reading may not: branches of a
     * condition, a definition taken back or made again, a line continued
     * by a backslash (comments included), attributes of a layout, a name
     * given by -D twice, and a #define after the kernel (weft's reading
     * follows a macro wherever it is defined; the compiler, only after). */
    static const char *const doubtful[] = {"if", "ifdef", "ifndef", "elif", "else", "undef"};
    char *text = weft_kernel_source_plain(source);
    if (!text) return 0;
    /* A header may define a type as the compiler sees it and weft's reading
     * does not (a guard, an #if, a macro of its own): its sizes are asked. */
    int certain = !strstr(source, "\\\n") && !strstr(source, "\\\r\n") &&
                  !strstr(text, "__attribute__") && !strstr(text, "#include");
    for (const char *h = strchr(text, '#'); certain && h; h = strchr(h + 1, '#')) {
        const char *w = h + 1;
        while (*w == ' ' || *w == '\t')
            w++;
        if ((size_t)(h - text) >= kernel_end) {
            if (strncmp(w, "define", 6) == 0) certain = 0;
            continue;
        }
        for (size_t k = 0; k < sizeof doubtful / sizeof doubtful[0]; k++) {
            size_t len = strlen(doubtful[k]);
            if (strncmp(w, doubtful[k], len) == 0 && !is_ident(w[len])) certain = 0;
        }
    }
    free(text);
    /* -D NAME twice: which one counts is the compiler's rule, not read here. */
    for (const char *o = options ? strstr(options, "-D") : NULL; certain && o;
         o = strstr(o + 2, "-D")) {
        const char *q = o + 2;
        while (*q == ' ')
            q++;
        size_t len = strcspn(q, "= \t");
        for (const char *again = strstr(q + len, "-D"); again; again = strstr(again + 2, "-D")) {
            const char *r = again + 2;
            while (*r == ' ')
                r++;
            if (len > 0 && strncmp(r, q, len) == 0 && strchr("= \t", r[len]) && r[len]) certain = 0;
        }
    }
    return certain;
}
