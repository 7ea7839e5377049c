/* Which scalar parameters may decide where a kernel reads or writes. A
 * scalar whose every use is a value stored into an element (a step number,
 * a coefficient) cannot move a write into another device's rows, so its
 * value need not be checked again (launch_check.c); everything else is
 * assumed to steer, and so is every scalar of a source that includes files
 * (their macros are unseen) and any scalar the build options name. The screen reads the source as
 * text: any use it does not recognise counts as steering, so it can only cost checks, never a wrong
 * answer. */
#include "launch_scalars.h"
#include "kernel_source.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* 1 when text[at, at + len) is the whole identifier word. */
static int word_at(const char *text, size_t at, const char *word, size_t len)
{
    return strncmp(text + at, word, len) == 0 && !ident_char(text[at + len]) &&
           (at == 0 || !ident_char(text[at - 1]));
}

static size_t skip_blank(const char *text, size_t i)
{
    while (text[i] && isspace((unsigned char)text[i]))
        i++;
    return i;
}

/* The index just past the bracket closing the one at open; 0 if none. */
static size_t matching(const char *text, size_t open, size_t end)
{
    char o = text[open], c = o == '(' ? ')' : o == '[' ? ']' : '}';
    int depth = 0;
    for (size_t i = open; i < end && text[i]; i++) {
        depth += text[i] == o;
        depth -= text[i] == c;
        if (depth == 0) return i + 1;
    }
    return 0;
}

/* The statement around `at` in the body: [*begin, *stop). */
static void statement(const char *text, size_t body, size_t end, size_t at, size_t *begin,
                      size_t *stop)
{
    *begin = at;
    *stop = at;
    while (*begin > body && !strchr(";{}", text[*begin - 1]))
        (*begin)--;
    while (*stop < end && !strchr(";{}", text[*stop]))
        (*stop)++;
}

/* 1 when text[j] starts what can carry a value somewhere other than the
 * stored element: another assignment (`r[i] = j = k`), the comma operator,
 * a dereference (`*(r + k)`) or an index of an expression (`(r + k)[0]`).
 * Comparisons (==, <=, >=, !=) are values. */
static int hides_an_address(const char *text, size_t rhs, size_t j)
{
    char c = text[j], prev = j > rhs ? text[j - 1] : '=';
    size_t p = j;
    while (p > rhs && isspace((unsigned char)text[p - 1]))
        p--;
    char before = p > rhs ? text[p - 1] : '=';
    if (c == '=') return !strchr("=<>!", prev) && text[j + 1] != '=';
    if (c == ',') return 1;
    if (c == '*') return !(ident_char(before) || before == ')' || before == ']');
    if (c == '[') return before == ')';
    return 0;
}

/* For a statement `name[...] = rhs` (or op=) whose rhs chooses nothing (no
 * ?:, && or ||, which could pick which element is read): where rhs starts,
 * and the stored-to name in [*target, *target + *len). 0 for any other
 * statement. */
static size_t store_rhs(const char *text, size_t begin, size_t end, size_t *target, size_t *len)
{
    size_t i = skip_blank(text, begin);
    *target = i;
    if (!isalpha((unsigned char)text[i]) && text[i] != '_') return 0;
    while (ident_char(text[i]))
        i++;
    *len = i - *target;
    i = skip_blank(text, i);
    if (text[i] != '[') return 0;
    while (text[i] == '[') {
        i = matching(text, i, end);
        if (!i) return 0;
        i = skip_blank(text, i);
    }
    if (text[i] && strchr("+-*/", text[i])) i++;
    if (text[i] != '=' || text[i + 1] == '=') return 0;
    for (size_t j = i + 1; j < end; j++)
        if (text[j] == '?' || (text[j] == '&' && text[j + 1] == '&') ||
            (text[j] == '|' && text[j + 1] == '|') || hides_an_address(text, i + 1, j))
            return 0;
    return i + 1;
}

/* 1 when [rhs, at) leaves `at` inside an index or a call's arguments. */
static int indexed_or_called(const char *text, size_t rhs, size_t at)
{
    int brackets = 0, calls = 0, stack[64], depth = 0;
    for (size_t j = rhs; j < at; j++) {
        brackets += (text[j] == '[') - (text[j] == ']');
        if (text[j] == '(') {
            size_t b = j;
            while (b > rhs && isspace((unsigned char)text[b - 1]))
                b--;
            int call = b > rhs && ident_char(text[b - 1]);
            if (depth == 64) return 1;
            stack[depth++] = call;
            calls += call;
        }
        if (text[j] == ')' && depth > 0) calls -= stack[--depth];
    }
    return brackets != 0 || calls != 0;
}

/* 1 when the identifier is a word of text[from, to). */
static int names(const char *text, size_t from, size_t to, const char *name, size_t len)
{
    for (size_t j = from; j + len <= to; j++)
        if (word_at(text, j, name, len)) return 1;
    return 0;
}

/* 1 when the identifier is named on a preprocessor line. */
static int on_directive(const char *text, const char *name, size_t len)
{
    for (size_t i = 0; text[i]; i++) {
        if (text[i] != '#') continue;
        size_t eol = i;
        while (text[eol] && (text[eol] != '\n' || text[eol - 1] == '\\'))
            eol++;
        if (names(text, i, eol, name, len)) return 1;
        if (!text[eol]) break;
        i = eol;
    }
    return 0;
}

enum { MAX_NAMES = 32 };

/* 1 when parameter `param` (len bytes) may steer. Its value may flow only
 * into stored elements: every use in the body [body, end) is in the rhs of
 * a store (outside indices and calls), and every array it is stored into
 * is used the same way, or as the target of such stores; a name on a
 * preprocessor line, anywhere, steers. */
static int steers(const char *text, size_t body, size_t end, const char *param, size_t len)
{
    const char *names[MAX_NAMES];
    size_t lens[MAX_NAMES], count = 1;
    names[0] = param;
    lens[0] = len;
    for (size_t n = 0; n < count; n++) {
        if (on_directive(text, names[n], lens[n])) return 1;
        for (size_t i = body; i + lens[n] <= end; i++) {
            if (!word_at(text, i, names[n], lens[n])) continue;
            size_t begin, stop, target, tlen;
            statement(text, body, end, i, &begin, &stop);
            size_t rhs = store_rhs(text, begin, stop, &target, &tlen);
            if (rhs && i == target && n > 0) continue; /* a store into a tainted array */
            if (!rhs || i < rhs || indexed_or_called(text, rhs, i)) return 1;
            size_t known = 0;
            while (known < count &&
                   !(lens[known] == tlen && strncmp(names[known], text + target, tlen) == 0))
                known++;
            if (known < count) continue;
            if (count == MAX_NAMES) return 1;
            names[count] = text + target;
            lens[count++] = tlen;
        }
    }
    return 0;
}

/* The parameter list's '(' and the body's '{' of kernel `name`; 0 when the
 * source has no such definition as this reading can see. */
static int find_kernel(const char *text, const char *name, size_t *params, size_t *body)
{
    size_t len = strlen(name);
    for (size_t i = 0; text[i]; i++) {
        if (!word_at(text, i, name, len)) continue;
        size_t open = skip_blank(text, i + len);
        if (text[open] != '(') continue;
        size_t start = i;
        while (start > 0 && !strchr(";}", text[start - 1]))
            start--;
        int is_kernel = 0;
        for (size_t j = start; j < i; j++)
            is_kernel |= word_at(text, j, "kernel", 6) || word_at(text, j, "__kernel", 8);
        size_t close = matching(text, open, strlen(text));
        if (!is_kernel || !close) continue;
        size_t brace = skip_blank(text, close);
        if (text[brace] != '{') continue; /* a declaration: look on */
        *params = open;
        *body = brace;
        return 1;
    }
    return 0;
}

/* 1 when a preprocessor line includes a file (its macros, unseen here, may
 * name any parameter) or holds a brace (`#define CLOSE }`: the bodies read
 * here would not be the compiler's). */
static int unreadable_directives(const char *text)
{
    for (const char *h = strchr(text, '#'); h; h = strchr(h + 1, '#')) {
        const char *w = h + 1;
        while (*w == ' ' || *w == '\t')
            w++;
        size_t line = strcspn(w, "\n");
        if (strncmp(w, "include", 7) == 0 || memchr(w, '{', line) || memchr(w, '}', line)) return 1;
    }
    return 0;
}

/* 1 when kernel name has a second definition after the one at body (under
 * an #if weft cannot evaluate both stay, and it cannot tell which is
 * built). */
static int defined_again(const char *text, const char *name, size_t body)
{
    size_t params, again;
    return find_kernel(text + body, name, &params, &again);
}

uint64_t weft_launch_steering_scalars(const char *source, const char *options, const char *name,
                                      size_t nparams)
{
    char *text = source ? weft_kernel_source_active(source, options) : NULL;
    size_t open, brace;
    if (!text || unreadable_directives(text) || !find_kernel(text, name, &open, &brace) ||
        defined_again(text, name, brace)) {
        free(text);
        return ~(uint64_t)0;
    }
    size_t close = matching(text, open, brace), end = matching(text, brace, strlen(text));
    uint64_t mask = 0;
    size_t k = 0, from = open + 1;
    for (size_t i = open + 1; end && close && i < close; i++) {
        if (i + 1 < close && (text[i] == '(' || text[i] == '[')) { /* the parameter's own */
            size_t past = matching(text, i, close);
            i = past ? past - 1 : close;
            continue;
        }
        if (text[i] != ',' && i + 1 != close) continue;
        size_t last = i; /* the parameter's name: its last identifier, before ',' or ')' */
        while (last > from && !ident_char(text[last - 1]))
            last--;
        size_t first = last;
        while (first > from && ident_char(text[first - 1]))
            first--;
        const char *opts = options ? options : "";
        if (k < 64 && (last == first || names(opts, 0, strlen(opts), text + first, last - first) ||
                       steers(text, brace, end, text + first, last - first)))
            mask |= (uint64_t)1 << k;
        k++;
        from = i + 1;
    }
    free(text);
    if (!end || k != nparams) return ~(uint64_t)0;
    return k < 64 ? mask | ~(((uint64_t)1 << k) - 1) : mask;
}

/* Past the subscripts that follow a pointer's name at text[j]: p[i], p[i].x
 * and, with arrows, p[i]->y[2]; 0 when none follows or a bracket does not
 * close before end. */
static size_t past_subscripts(const char *text, size_t j, size_t end, int arrows)
{
    j = skip_blank(text, j);
    if (text[j] != '[') return 0;
    for (;;) {
        j = skip_blank(text, j);
        if (text[j] == '[') {
            size_t past = matching(text, j, end);
            if (!past) return 0;
            j = past;
        } else if (text[j] == '.' || (arrows && text[j] == '-' && text[j + 1] == '>')) {
            j = skip_blank(text, j + (text[j] == '.' ? 1 : 2));
            while (ident_char(text[j]))
                j++;
        } else {
            return j;
        }
    }
}

/* Back from text[at] over blanks: where the token before it ends. */
static size_t back_over(const char *text, size_t at)
{
    while (at > 0 && isspace((unsigned char)text[at - 1]))
        at--;
    return at;
}

/* Whether the `&` at text[amp] is binary (`y & p[i]`, `c && p[i]`) rather
 * than taking an address: an operand ends before it. A parenthesised group
 * is an operand when it computes something (`(a + b) & p[i]`); one of names
 * only, or ending in '*', is taken for a cast (`(volatile global int *)&p[i]`,
 * `(uint)&p[i]`), which takes the address. */
static int binary_and(const char *text, size_t amp)
{
    size_t operand = back_over(text, amp);
    if (operand == 0) return 0;
    char c = text[operand - 1];
    if (ident_char(c) || c == ']' || c == '&') return 1;
    if (c != ')') return 0;
    size_t close = operand - 1, last = back_over(text, close);
    if (last > 0 && text[last - 1] == '*') return 0;
    int depth = 0;
    for (size_t i = close + 1; i > 0; i--) {
        char g = text[i - 1];
        depth += g == ')';
        depth -= g == '(';
        if (depth == 0) return 0; /* names and blanks only: a cast */
        if (!ident_char(g) && !isspace((unsigned char)g) && g != ')' && g != '(') return 1;
    }
    return 0;
}

/* 1 when the use of a pointer at text[at, at + len) is a subscript read:
 * `p[...]` (and a member or a further subscript of it), in parentheses or
 * not, not followed by an assignment or ++/--, and not preceded by a unary
 * &, ++ or --. */
static int subscript_read(const char *text, size_t at, size_t len, size_t end)
{
    /* Grouping parentheses around the use: not a call's or an if's (a name
     * before it; OpenCL C has no function pointers to call by `(...)(`). */
    size_t before = back_over(text, at), opened = 0;
    while (before > 0 && text[before - 1] == '(') {
        size_t prev = back_over(text, before - 1);
        if (prev > 0 && ident_char(text[prev - 1])) break;
        opened++;
        before = prev;
    }
    if (before > 0 && text[before - 1] == '&' && !binary_and(text, before - 1)) return 0;
    if (before > 1 &&
        (strncmp(text + before - 2, "++", 2) == 0 || strncmp(text + before - 2, "--", 2) == 0))
        return 0;
    size_t j = past_subscripts(text, at + len, end, 1); /* p[i], p[i].x, p[i]->y[2] ... */
    if (!j) return 0; /* used bare: passed on, offset, dereferenced */
    for (j = skip_blank(text, j); opened > 0 && text[j] == ')'; opened--) /* (p[i]) += ... */
        j = skip_blank(text, j + 1);
    char c = text[j], d = text[j + 1];
    if (c == '=' && d != '=') return 0;
    if (strchr("+-*/%&|^", c) && c && d == '=') return 0;
    if ((c == '+' && d == '+') || (c == '-' && d == '-')) return 0;
    if ((c == '<' || c == '>') && d == c && text[j + 2] == '=') return 0;
    return 1;
}

/* 1 when the use of a pointer at text[at, at + len) stores and reads
 * nothing: `p[...] = ` (a member of it too), not compound, not `==`. */
static int subscript_store(const char *text, size_t at, size_t len, size_t end)
{
    size_t before = at;
    while (before > 0 && isspace((unsigned char)text[before - 1]))
        before--;
    if (before > 0 &&
        (text[before - 1] == '&' || text[before - 1] == '+' || text[before - 1] == '-'))
        return 0;
    /* No arrows: p[i]->y = stores through a pointer read from p. */
    size_t j = past_subscripts(text, at + len, end, 0);
    return j && text[j] == '=' && text[j + 1] != '=';
}

/* 1 when text[0, len) may assign or take an address: `=` (not `==`,
 * `!=`, `<=`, `>=`), `++`, `--`, or a single `&`. */
static int writes_in(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i], n = i + 1 < len ? text[i + 1] : 0, p = i > 0 ? text[i - 1] : 0;
        if (c == '=' && n != '=' && !strchr("=!<>", p)) return 1;
        if ((c == '+' || c == '-') && n == c) return 1;
        if (c == '&' && n != '&' && p != '&') return 1;
    }
    return 0;
}

/* A macro's definition: `#define name` in text, or `-Dname` in the options
 * (quoted or not); *body and *len its replacement, *function whether it
 * takes arguments. 0 when name is no macro. */
static int macro_body(const char *text, const char *options, const char *name, size_t len,
                      const char **body, size_t *body_len, int *function)
{
    for (const char *h = strchr(text, '#'); h; h = strchr(h + 1, '#')) {
        size_t i = skip_blank(h, 1);
        if (strncmp(h + i, "define", 6) != 0 || !isspace((unsigned char)h[i + 6])) continue;
        i = skip_blank(h, i + 6);
        if (strncmp(h + i, name, len) != 0 || ident_char(h[i + len])) continue;
        *function = h[i + len] == '(';
        i += len;
        if (*function) {
            const char *close = strchr(h + i, ')');
            i = close ? (size_t)(close - h) + 1 : i;
        }
        size_t e = i;
        while (h[e] && (h[e] != '\n' || h[e - 1] == '\\'))
            e++;
        *body = h + i;
        *body_len = e - i;
        return 1;
    }
    for (const char *o = options ? strstr(options, "-D") : NULL; o; o = strstr(o + 2, "-D")) {
        size_t i = 2;
        while (o[i] == ' ' || o[i] == '\t' || o[i] == '"' || o[i] == '\'')
            i++;
        if (strncmp(o + i, name, len) != 0 || ident_char(o[i + len])) continue;
        *function = o[i + len] == '(';
        const char *eq = strchr(o + i, '=');
        *body = eq ? eq + 1 : o + i + len;
        *body_len = strcspn(*body, " \t");
        return 1;
    }
    return 0;
}

/* 1 when a call name(...) may assign what it is given: a function-like
 * macro whose replacement assigns, increments or takes an address
 * (`#define MultiplyAdd(c, a, b) c += a * b`, `#define INC(x)
 * atomic_inc(&(x))`), or calls such a macro; an object-like macro called
 * (`#define BUMP INC`), whatever it names. A function (by value) or a macro
 * that only computes (`#define SQ(v) ((v) * (v))`) reads. */
static int macro_may_write(const char *text, const char *options, const char *name, size_t len,
                           int depth)
{
    const char *body = NULL;
    size_t body_len = 0;
    int function = 0;
    if (!macro_body(text, options, name, len, &body, &body_len, &function)) return 0;
    if (!function || depth > 8 || writes_in(body, body_len)) return 1;
    for (size_t i = 0; i < body_len; i++) {
        if (!ident_char(body[i]) || (i > 0 && ident_char(body[i - 1]))) continue;
        size_t n = i;
        while (n < body_len && ident_char(body[n]))
            n++;
        size_t after = n;
        while (after < body_len && isspace((unsigned char)body[after]))
            after++;
        if (after < body_len && body[after] == '(' &&
            macro_may_write(text, options, body + i, n - i, depth + 1))
            return 1;
        i = n;
    }
    return 0;
}

/* 1 when text[at] is inside the arguments of a macro's call (at any depth)
 * that may assign what it is given (macro_may_write): back from at, to the
 * statement's start, each unclosed '(' whose name before it is such a
 * macro. */
static int in_macro_call(const char *text, const char *options, size_t body, size_t at)
{
    int depth = 0;
    for (size_t i = at; i > body; i--) {
        char c = text[i - 1];
        if (depth == 0 && (c == ';' || c == '{' || c == '}')) return 0;
        if (c == ')') depth++;
        if (c != '(') continue;
        if (depth > 0) {
            depth--;
            continue;
        }
        size_t last = back_over(text, i - 1), first = last;
        while (first > body && ident_char(text[first - 1]))
            first--;
        if (last > first && macro_may_write(text, options, text + first, last - first, 0)) return 1;
    }
    return 0;
}

/* 1 when every use of pointer parameter `param` in kernel `name` passes
 * `use`, as far as weft can tell (0 when it cannot: a macro or an option
 * naming it, or a function-like macro given it, directives it cannot read,
 * the kernel defined twice). */
static int every_use(const char *source, const char *options, const char *name, const char *param,
                     int (*use)(const char *, size_t, size_t, size_t))
{
    char *text = source && param && *param ? weft_kernel_source_active(source, options) : NULL;
    size_t open = 0, brace = 0, end = 0, len = param ? strlen(param) : 0;
    /* A macro may use the parameter in any way (`#define DONE done[0]`,
     * then `DONE = 1`, or `-DDONE=done[0]` in the options): a name on a
     * preprocessor line or in the options may be written. */
    char *bodies = weft_kernel_option_macros(options);
    int every = text && bodies && !unreadable_directives(text) && !on_directive(text, param, len) &&
                !names(bodies, 0, strlen(bodies), param, len) &&
                find_kernel(text, name, &open, &brace) && !defined_again(text, name, brace) &&
                (end = matching(text, brace, strlen(text))) != 0;
    for (size_t i = brace; every && i < end; i++)
        if (word_at(text, i, param, len))
            every = use(text, i, len, end) && !in_macro_call(text, options, brace, i);
    free(text);
    free(bodies);
    return every;
}

int weft_launch_param_only_read(const char *source, const char *options, const char *name,
                                const char *param)
{
    return every_use(source, options, name, param, subscript_read);
}

int weft_launch_param_only_stored(const char *source, const char *options, const char *name,
                                  const char *param)
{
    return every_use(source, options, name, param, subscript_store);
}

size_t weft_launch_kernel_end(const char *source, const char *options, const char *name)
{
    char *text = source ? weft_kernel_source_active(source, options) : NULL;
    size_t params = 0, body = 0, end = 0;
    if (text && !unreadable_directives(text) && find_kernel(text, name, &params, &body) &&
        !defined_again(text, name, body))
        end = matching(text, body, strlen(text));
    free(text);
    return end;
}
