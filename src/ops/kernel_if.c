/* A small evaluator of #if conditions: integers, names defined by -D or by
 * an earlier #define to an integer, defined(NAME), !, unary -, comparisons,
 * && and ||, parentheses. Anything else (arithmetic, function-like macros,
 * a macro defined to an expression) makes the value unknown, and weft keeps
 * both branches. Kernels choose types and code with such conditions
 * (`#if 0` ... `#else`, `#if PREC == 2`): taking the first branch when the
 * compiler took the other let weft size arrays by a type the kernel never
 * used. */
#include "kernel_if.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cond {
    const char *p, *end;
    const char *text;
    size_t upto;
    const char *options;
    int unknown;
    int depth; /* nesting of the unary operators and parentheses being read */
} cond;

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static void blank(cond *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int take(cond *c, const char *op)
{
    blank(c);
    size_t n = strlen(op);
    if ((size_t)(c->end - c->p) < n || strncmp(c->p, op, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* The value of -D name in options into out ("1" for a bare -D); NULL if
 * none. The last -D of a name wins, as the compiler takes them. */
static const char *option_definition(const cond *c, const char *name, size_t len, char *out,
                                     size_t cap)
{
    const char *found = NULL;
    for (const char *o = c->options ? strstr(c->options, "-D") : NULL; o; o = strstr(o + 2, "-D")) {
        const char *q = o + 2;
        while (*q == ' ')
            q++;
        if (strncmp(q, name, len) != 0 || ident_char(q[len])) continue;
        if (q[len] != '=') { /* -D NAME: defined as 1 */
            snprintf(out, cap, "1");
        } else {
            snprintf(out, cap, "%.*s", (int)strcspn(q + len + 1, " \t"), q + len + 1);
        }
        found = out;
    }
    return found;
}

/* If the directive at d (its word, after the '#') is "#define name ..." or
 * "#undef name", returns 1 and sets out to the value (empty) or *undefined;
 * else 0. */
static int directive_on(const char *d, const char *name, size_t len, char *out, size_t cap,
                        int *undefined)
{
    int undef = strncmp(d, "undef", 5) == 0 && (d[5] == ' ' || d[5] == '\t');
    if (!undef && (strncmp(d, "define", 6) != 0 || (d[6] != ' ' && d[6] != '\t'))) return 0;
    const char *q = d + (undef ? 5 : 6);
    while (*q == ' ' || *q == '\t')
        q++;
    if (strncmp(q, name, len) != 0 || ident_char(q[len]) || (!undef && q[len] == '(')) return 0;
    *undefined = undef;
    q += len;
    while (*q == ' ' || *q == '\t')
        q++;
    size_t vlen = undef ? 0 : strcspn(q, "\n");
    while (vlen > 0 && (q[vlen - 1] == ' ' || q[vlen - 1] == '\t'))
        vlen--;
    snprintf(out, cap, "%.*s", (int)vlen, q);
    return 1;
}

/* What name stands for before upto: the last #define or #undef of it there
 * (an #undef also ends a -D), else its -D value; NULL when undefined. */
static const char *definition(const cond *c, const char *name, size_t len, char *out, size_t cap)
{
    const char *found = option_definition(c, name, len, out, cap);
    for (const char *h = strchr(c->text, '#'); h && (size_t)(h - c->text) < c->upto;
         h = strchr(h + 1, '#')) {
        const char *line = h;
        while (line > c->text && (line[-1] == ' ' || line[-1] == '\t'))
            line--;
        if (line != c->text && line[-1] != '\n') continue; /* not a directive */
        const char *d = h + 1;
        while (*d == ' ' || *d == '\t')
            d++;
        int undefined = 0;
        if (directive_on(d, name, len, out, cap, &undefined)) found = undefined ? NULL : out;
    }
    return found;
}

static int includes_files(const cond *c)
{
    for (const char *h = strchr(c->text, '#'); h && (size_t)(h - c->text) < c->upto;
         h = strchr(h + 1, '#')) {
        const char *w = h + 1;
        while (*w == ' ' || *w == '\t')
            w++;
        if (strncmp(w, "include", 7) == 0) return 1;
    }
    return 0;
}

static long long or_expr(cond *c);
static long long unary(cond *c);

/* An undefined name may still be defined: by a header the source includes,
 * or, for a name reserved for the implementation (__LIKE_THIS), by the
 * device's compiler without weft knowing (the macros it knows of come as -D
 * options). */
static int maybe_defined(const cond *c, const char *name, size_t len)
{
    return includes_files(c) || (len > 2 && name[0] == '_' && name[1] == '_');
}

/* A name's value: an integer it is defined to, 1 for a bare -D, 0 when
 * undefined (unknown when it may be defined elsewhere). */
static long long name_value(cond *c, const char *name, size_t len)
{
    char value[64];
    const char *v = definition(c, name, len, value, sizeof value);
    if (!v) {
        if (maybe_defined(c, name, len)) c->unknown = 1;
        return 0;
    }
    char *end;
    long long n = strtoll(v, &end, 0);
    while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
        end++;
    if (end == v || *end) c->unknown = 1; /* defined to an expression */
    return n;
}

static long long nested(cond *c, int op)
{
    if (++c->depth > 64) { /* a line of "((((...": no stack spent on it */
        c->unknown = 1;
        c->p = c->end;
        return 0;
    }
    long long v = op == '(' ? or_expr(c) : unary(c);
    if (op == '(' && !take(c, ")")) c->unknown = 1;
    c->depth--;
    return op == '!' ? !v : op == '-' ? -v : v;
}

static long long unary(cond *c)
{
    blank(c);
    if (take(c, "!")) return nested(c, '!');
    if (take(c, "-")) return nested(c, '-');
    if (take(c, "(")) return nested(c, '(');
    if (c->p < c->end && isdigit((unsigned char)*c->p)) {
        char *end;
        long long n = strtoll(c->p, &end, 0);
        c->p = end;
        while (c->p < c->end && strchr("uUlL", *c->p))
            c->p++;
        return n;
    }
    const char *name = c->p;
    while (c->p < c->end && ident_char(*c->p))
        c->p++;
    size_t len = (size_t)(c->p - name);
    if (len == 0) {
        c->unknown = 1;
        c->p = c->end;
        return 0;
    }
    if (len == 7 && strncmp(name, "defined", 7) == 0) {
        int paren = take(c, "(");
        blank(c);
        const char *n = c->p;
        while (c->p < c->end && ident_char(*c->p))
            c->p++;
        size_t nlen = (size_t)(c->p - n);
        if (paren && !take(c, ")")) c->unknown = 1;
        char value[64];
        if (definition(c, n, nlen, value, sizeof value)) return 1;
        if (maybe_defined(c, n, nlen)) c->unknown = 1;
        return 0;
    }
    blank(c);
    if (c->p < c->end && *c->p == '(') c->unknown = 1; /* a function-like macro */
    return name_value(c, name, len);
}

static long long compare(cond *c)
{
    long long a = unary(c);
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (!take(c, ops[k])) continue;
        long long b = unary(c);
        switch (k) {
        case 0:
            return a == b;
        case 1:
            return a != b;
        case 2:
            return a <= b;
        case 3:
            return a >= b;
        case 4:
            return a < b;
        default:
            return a > b;
        }
    }
    return a;
}

static long long and_expr(cond *c)
{
    long long v = compare(c);
    while (take(c, "&&")) {
        long long w = compare(c);
        v = v && w;
    }
    return v;
}

static long long or_expr(cond *c)
{
    long long v = and_expr(c);
    while (take(c, "||")) {
        long long w = and_expr(c);
        v = v || w;
    }
    return v;
}

int weft_kernel_if_value(const char *text, size_t upto, const char *condition, size_t len,
                         const char *options)
{
    cond c = {condition, condition + len, text, upto, options, 0, 0};
    long long v = or_expr(&c);
    blank(&c);
    if (c.p != c.end) c.unknown = 1; /* arithmetic and the rest: not read here */
    return c.unknown ? -1 : v != 0;
}
