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

/* The -D value or the last #define before upto of name; NULL if neither. */
static const char *definition(const cond *c, const char *name, size_t len, char *out, size_t cap)
{
    for (const char *o = c->options ? strstr(c->options, "-D") : NULL; o; o = strstr(o + 2, "-D")) {
        const char *q = o + 2;
        while (*q == ' ')
            q++;
        if (strncmp(q, name, len) != 0 || ident_char(q[len])) continue;
        if (q[len] != '=') return "1"; /* -D NAME: defined as 1 */
        snprintf(out, cap, "%.*s", (int)strcspn(q + len + 1, " \t"), q + len + 1);
        return out;
    }
    const char *found = NULL;
    for (const char *d = strstr(c->text, "define"); d && (size_t)(d - c->text) < c->upto;
         d = strstr(d + 6, "define")) {
        const char *h = d;
        while (h > c->text && (h[-1] == ' ' || h[-1] == '\t'))
            h--;
        if (h == c->text || h[-1] != '#') continue;
        const char *q = d + 6;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncmp(q, name, len) != 0 || ident_char(q[len]) || q[len] == '(') continue;
        q += len;
        while (*q == ' ' || *q == '\t')
            q++;
        size_t vlen = strcspn(q, "\n");
        while (vlen > 0 && (q[vlen - 1] == ' ' || q[vlen - 1] == '\t'))
            vlen--;
        snprintf(out, cap, "%.*s", (int)vlen, q);
        found = out;
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

/* A name's value: an integer it is defined to, 1 for a bare -D, 0 when
 * undefined (unknown if a header could define it). */
static long long name_value(cond *c, const char *name, size_t len)
{
    char value[64];
    const char *v = definition(c, name, len, value, sizeof value);
    if (!v) {
        if (includes_files(c)) c->unknown = 1;
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
        return definition(c, n, nlen, value, sizeof value) != NULL ||
               (includes_files(c) ? (c->unknown = 1, 0) : 0);
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
