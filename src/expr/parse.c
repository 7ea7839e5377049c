/* Lexer, parser and type checker of the expression language. The parser is
 * recursive descent with a depth limit, over a length-limited text, so no
 * input can exhaust the stack; every error names its column. */
#include "../core/error.h"
#include "expr.h"
#include "vm.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { MAX_DEPTH = 200, MAX_STATEMENTS = 256, MAX_NODES = 8192 };

static const struct {
    const char *name;
    int arity;
    int any_type; /* also takes integers, keeping their type (abs, min, max, clamp) */
} functions[FN_COUNT] = {
    [FN_SQRT] = {"sqrt", 1, 0},   [FN_RSQRT] = {"rsqrt", 1, 0}, [FN_CBRT] = {"cbrt", 1, 0},
    [FN_EXP] = {"exp", 1, 0},     [FN_EXP2] = {"exp2", 1, 0},   [FN_EXPM1] = {"expm1", 1, 0},
    [FN_LOG] = {"log", 1, 0},     [FN_LOG2] = {"log2", 1, 0},   [FN_LOG10] = {"log10", 1, 0},
    [FN_LOG1P] = {"log1p", 1, 0}, [FN_SIN] = {"sin", 1, 0},     [FN_COS] = {"cos", 1, 0},
    [FN_TAN] = {"tan", 1, 0},     [FN_ASIN] = {"asin", 1, 0},   [FN_ACOS] = {"acos", 1, 0},
    [FN_ATAN] = {"atan", 1, 0},   [FN_SINH] = {"sinh", 1, 0},   [FN_COSH] = {"cosh", 1, 0},
    [FN_TANH] = {"tanh", 1, 0},   [FN_ERF] = {"erf", 1, 0},     [FN_ERFC] = {"erfc", 1, 0},
    [FN_FABS] = {"fabs", 1, 0},   [FN_FLOOR] = {"floor", 1, 0}, [FN_CEIL] = {"ceil", 1, 0},
    [FN_ROUND] = {"round", 1, 0}, [FN_TRUNC] = {"trunc", 1, 0}, [FN_POW] = {"pow", 2, 0},
    [FN_ATAN2] = {"atan2", 2, 0}, [FN_HYPOT] = {"hypot", 2, 0}, [FN_FMOD] = {"fmod", 2, 0},
    [FN_FMIN] = {"fmin", 2, 0},   [FN_FMAX] = {"fmax", 2, 0},   [FN_COPYSIGN] = {"copysign", 2, 0},
    [FN_FMA] = {"fma", 3, 0},     [FN_CLAMP] = {"clamp", 3, 1}, [FN_ABS] = {"abs", 1, 1},
    [FN_MIN] = {"min", 2, 1},     [FN_MAX] = {"max", 2, 1},
};

const char *weft_fn_name(enum weft_fn fn)
{
    return (unsigned)fn < FN_COUNT ? functions[fn].name : "?";
}

/* ---- types ---- */

static weft_dtype promote(weft_dtype t)
{
    return t == WEFT_U8 ? WEFT_I32 : t;
}

static int int_rank(weft_dtype t)
{
    return (t == WEFT_I64 || t == WEFT_U64) ? 2 : 1;
}

weft_dtype weft_dtype_common(weft_dtype a, weft_dtype b)
{
    a = promote(a);
    b = promote(b);
    if (a == WEFT_F64 || b == WEFT_F64) return WEFT_F64;
    if (a == WEFT_F32 || b == WEFT_F32) return WEFT_F32;
    if (a == b) return a;
    int sa = weft_dtype_is_signed(a), sb = weft_dtype_is_signed(b);
    if (sa == sb) return int_rank(a) >= int_rank(b) ? a : b;
    weft_dtype s = sa ? a : b, u = sa ? b : a;
    if (int_rank(u) >= int_rank(s)) return u;
    return s; /* i64 holds every u32 */
}

/* ---- lexer ---- */

enum tok_kind {
    T_END,
    T_NUMBER,
    T_NAME,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_SEMI,
    T_ASSIGN,
    T_QUESTION,
    T_COLON,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_EQ,
    T_NE,
    T_ANDAND,
    T_OROR,
    T_AMP,
    T_PIPE,
    T_CARET,
    T_SHL,
    T_SHR,
    T_BANG,
    T_TILDE
};

typedef struct token {
    enum tok_kind kind;
    size_t start, len; /* in the text */
} token;

#define MAX_HELPERS 16
#define MAX_HELPER_PARAMS 4

/* `def name(a, b) = expression`: a helper function, expanded where it is
 * called (as VEX_FUNCTION or an ElementwiseKernel preamble would be). */
typedef struct helper {
    size_t name_pos, name_len;
    size_t param_pos[MAX_HELPER_PARAMS], param_len[MAX_HELPER_PARAMS];
    int nparams;
    size_t body_pos; /* the body's first token; it ends at ';', a newline or the end */
} helper;

/* A helper's parameters while its body is expanded. */
typedef struct helper_frame {
    const helper *h;
    weft_node *args[MAX_HELPER_PARAMS];
} helper_frame;

typedef struct parser {
    const char *text;
    size_t pos;
    token tok;
    int depth;
    weft_expr *e;
    int failed;
    helper helpers[MAX_HELPERS];
    int nhelpers;
    int visible_helpers;       /* a body sees only helpers defined before it: no recursion */
    const helper_frame *frame; /* NULL outside a helper's body */
} parser;

static weft_status fail_at(parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static weft_status fail_at(parser *p, size_t pos, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    p->failed = 1;
    return weft_expr_error_at(p->text, pos, message);
}

/* The column of pos in its line (a line end ends a statement, so the '('
 * or '?' an error names is on the error's line): counted from the
 * program's start, it was past the end of a later statement's line. */
static size_t column_in_line(const parser *p, size_t pos)
{
    size_t start = pos;
    while (start > 0 && p->text[start - 1] != '\n')
        start--;
    return pos - start + 1;
}

/* What numexpr and Python spell differently, for a word (or "**") the
 * parser stopped at: the spelling it takes. "" for any other. */
static const char *other_spelling(const char *word, size_t len)
{
    static const struct {
        const char *word, *hint;
    } spellings[] = {
        {"**", " (a power is pow(x, y))"}, {"where", " (a choice is c ? a : b)"},
        {"and", " (logical and is &&)"},   {"or", " (logical or is ||)"},
        {"not", " (logical not is !)"},    {"True", " (true is 1)"},
        {"False", " (false is 0)"},
    };
    for (size_t k = 0; k < sizeof spellings / sizeof spellings[0]; k++)
        if (strlen(spellings[k].word) == len && strncmp(word, spellings[k].word, len) == 0)
            return spellings[k].hint;
    return "";
}

static void skip_space(parser *p)
{
    for (;;) {
        while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' || p->text[p->pos] == '\r')
            p->pos++;
        if (p->text[p->pos] == '#') { /* comment to end of line */
            while (p->text[p->pos] && p->text[p->pos] != '\n')
                p->pos++;
            continue;
        }
        return;
    }
}

static weft_status next(parser *p)
{
    skip_space(p);
    const char *s = p->text + p->pos;
    token t = {T_END, p->pos, 1};
    unsigned char c = (unsigned char)*s;
    if (c == '\0') {
        t.len = 0;
    } else if (c == '\n') {
        t.kind = T_SEMI;
    } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[1]))) {
        size_t n = 0;
        while (isalnum((unsigned char)s[n]) || s[n] == '.' ||
               ((s[n] == '+' || s[n] == '-') && n > 0 && (s[n - 1] == 'e' || s[n - 1] == 'E') &&
                !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))))
            n++;
        t.kind = T_NUMBER;
        t.len = n;
    } else if (isalpha(c) || c == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)s[n]) || s[n] == '_')
            n++;
        t.kind = T_NAME;
        t.len = n;
    } else {
        static const struct {
            const char *text;
            enum tok_kind kind;
        } ops[] = {{"&&", T_ANDAND}, {"||", T_OROR},    {"<<", T_SHL},  {">>", T_SHR},
                   {"<=", T_LE},     {">=", T_GE},      {"==", T_EQ},   {"!=", T_NE},
                   {"(", T_LPAREN},  {")", T_RPAREN},   {",", T_COMMA}, {";", T_SEMI},
                   {"=", T_ASSIGN},  {"?", T_QUESTION}, {":", T_COLON}, {"+", T_PLUS},
                   {"-", T_MINUS},   {"*", T_STAR},     {"/", T_SLASH}, {"%", T_PERCENT},
                   {"<", T_LT},      {">", T_GT},       {"&", T_AMP},   {"|", T_PIPE},
                   {"^", T_CARET},   {"!", T_BANG},     {"~", T_TILDE}};
        size_t i = 0;
        while (i < sizeof ops / sizeof ops[0] && strncmp(s, ops[i].text, strlen(ops[i].text)) != 0)
            i++;
        if (i == sizeof ops / sizeof ops[0]) {
            if (c >= 0x20 && c < 0x7f) return fail_at(p, p->pos, "unexpected character '%c'", c);
            return fail_at(p, p->pos, "unexpected byte 0x%02x", c);
        }
        t.kind = ops[i].kind;
        t.len = strlen(ops[i].text);
    }
    p->tok = t;
    p->pos += t.len;
    return WEFT_OK;
}

static int tok_is_name(const parser *p, const char *name)
{
    return p->tok.kind == T_NAME && p->tok.len == strlen(name) &&
           strncmp(p->text + p->tok.start, name, p->tok.len) == 0;
}

/* ---- nodes ---- */

static weft_node *new_node(parser *p, enum weft_node_kind kind, size_t pos)
{
    weft_expr *e = p->e;
    if (e->nnodes == e->node_capacity) {
        /* The arena is sized up front: nodes are never moved (kids point into it). */
        fail_at(p, pos, "expression too large (more than %d nodes)", MAX_NODES);
        return NULL;
    }
    weft_node *n = &e->nodes[e->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->column = (int)pos + 1;
    return n;
}

static weft_node *convert(parser *p, weft_node *n, weft_dtype to)
{
    if (!n || n->type == to) return n;
    if (n->kind == NODE_LITERAL) { /* fold: literals take the type directly */
        if (weft_dtype_is_float(to)) {
            /* One rounding, straight from the integer, as C converts: going
             * through double first would round large integers twice. */
            if (weft_dtype_is_float(n->type))
                n->lit.f = to == WEFT_F32 ? (double)(float)n->lit.f : n->lit.f;
            else if (weft_dtype_is_signed(n->type))
                n->lit.f = to == WEFT_F32 ? (double)weft_i64_to_f32(n->lit.i) : (double)n->lit.i;
            else
                n->lit.f = to == WEFT_F32 ? (double)weft_u64_to_f32(n->lit.u) : (double)n->lit.u;
        } else if (weft_dtype_is_float(n->type)) {
            double v = n->lit.f;
            /* float -> integer: truncate toward zero, saturate, NaN -> 0 */
            weft_vm_convert_literal(v, to, &n->lit.i, &n->lit.u);
        } else {
            int64_t v = n->lit.i;
            switch (to) {
            case WEFT_I32:
                n->lit.i = (int32_t)(uint32_t)(uint64_t)v;
                break;
            case WEFT_U32:
                n->lit.u = (uint32_t)(uint64_t)v;
                break;
            case WEFT_U64:
                n->lit.u = (uint64_t)v;
                break;
            default:
                n->lit.i = v;
                break;
            }
            if (to == WEFT_U32 || to == WEFT_U64) n->lit.i = (int64_t)n->lit.u;
        }
        n->type = to;
        return n;
    }
    weft_node *c = new_node(p, NODE_CONVERT, (size_t)n->column - 1);
    if (!c) return NULL;
    c->type = to;
    c->nkids = 1;
    c->kid[0] = n;
    return c;
}

/* Two operands meet: a weak literal adapts to a strong neighbour, as
 * documented ("x * 2.5" stays f32 when x is f32). */
static weft_dtype meet(const weft_node *a, const weft_node *b)
{
    if (a->weak && !b->weak) {
        if (weft_dtype_is_float(b->type) || !weft_dtype_is_float(a->type)) return promote(b->type);
        return weft_dtype_common(a->type, b->type);
    }
    if (b->weak && !a->weak) return meet(b, a);
    return weft_dtype_common(a->type, b->type);
}

/* (uchar)x and stores into u8 arrays: integers wrap modulo 256, floats
 * saturate to [0, 255] (NaN gives 0), as OpenCL's convert_uchar_sat_rtz. */
static weft_node *make_uchar(parser *p, weft_node *x, size_t pos)
{
    if (weft_dtype_is_float(x->type)) {
        weft_node *lo = new_node(p, NODE_LITERAL, pos),
                  *hi = lo ? new_node(p, NODE_LITERAL, pos) : NULL;
        weft_node *c = hi ? new_node(p, NODE_CALL, pos) : NULL;
        if (!c) return NULL;
        lo->type = hi->type = x->type;
        lo->lit.f = 0;
        hi->lit.f = 255;
        *c = (weft_node){.kind = NODE_CALL,
                         .op = FN_CLAMP,
                         .type = x->type,
                         .column = (int)pos + 1,
                         .nkids = 3,
                         .kid = {x, lo, hi}};
        return convert(p, c, WEFT_I32);
    }
    weft_node *w = convert(p, x, WEFT_U32);
    weft_node *mask = w ? new_node(p, NODE_LITERAL, pos) : NULL;
    weft_node *n = mask ? new_node(p, NODE_BINARY, pos) : NULL;
    if (!n) return NULL;
    mask->type = WEFT_U32;
    mask->lit.u = 0xff;
    mask->lit.i = 0xff;
    *n = (weft_node){.kind = NODE_BINARY,
                     .op = OP_BITAND,
                     .type = WEFT_U32,
                     .column = (int)pos + 1,
                     .nkids = 2,
                     .kid = {w, mask}};
    return convert(p, n, WEFT_I32);
}

/* ---- grammar ---- */

static weft_node *parse_expr(parser *p);

/* Nesting is counted where the text nests: parentheses (groups, calls,
 * casts), unary operators and ?: branches. Each level costs a bounded number
 * of stack frames (at most one per precedence level in between), so the limit
 * bounds the recursion too. */
static int enter(parser *p, size_t pos)
{
    if (++p->depth <= MAX_DEPTH) return 1;
    fail_at(p, pos,
            "expression nested too deeply (more than %d nested parentheses, unary operators or "
            "?: branches)",
            MAX_DEPTH);
    return 0;
}

/* An expression one nesting level down, opened at pos. */
static weft_node *parse_nested(parser *p, size_t pos)
{
    if (!enter(p, pos)) return NULL;
    weft_node *n = parse_expr(p);
    p->depth--;
    return n;
}

static weft_node *parse_number(parser *p)
{
    char buf[128];
    size_t len = p->tok.len, pos = p->tok.start;
    if (len >= sizeof buf) {
        fail_at(p, pos, "number too long");
        return NULL;
    }
    memcpy(buf, p->text + pos, len);
    buf[len] = '\0';
    weft_node *n = new_node(p, NODE_LITERAL, pos);
    if (!n) return NULL;
    n->weak = 1;
    char *end;
    errno = 0;
    int is_hex = len > 1 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    if (!is_hex && strpbrk(buf, ".eE")) {
        n->type = WEFT_F64;
        n->lit.f = strtod(buf, &end);
        if (*end == 'f' || *end == 'F') end++; /* 1.5f is still a weak literal */
    } else {
        unsigned long long v = strtoull(buf, &end, 0);
        if (errno == ERANGE) {
            fail_at(p, pos, "integer literal %s does not fit 64 bits", buf);
            return NULL;
        }
        if (v <= 0x7fffffffull) {
            n->type = WEFT_I32;
            n->lit.i = (int64_t)v;
        } else if (v <= 0x7fffffffffffffffull) {
            n->type = WEFT_I64;
            n->lit.i = (int64_t)v;
        } else {
            n->type = WEFT_U64;
            n->lit.u = v;
            n->lit.i = (int64_t)v;
        }
    }
    if (*end != '\0') {
        fail_at(p, pos, "malformed number \"%s\"", buf);
        return NULL;
    }
    return next(p) == WEFT_OK ? n : NULL;
}

static int cast_type(const parser *p, weft_dtype *type)
{
    static const struct {
        const char *name;
        weft_dtype type;
    } casts[] = {{"float", WEFT_F32}, {"double", WEFT_F64}, {"int", WEFT_I32}, {"uint", WEFT_U32},
                 {"long", WEFT_I64},  {"ulong", WEFT_U64},  {"uchar", WEFT_U8}};
    for (size_t i = 0; i < sizeof casts / sizeof casts[0]; i++)
        if (tok_is_name(p, casts[i].name)) {
            *type = casts[i].type;
            return 1;
        }
    return 0;
}

static weft_node *parse_helper_call(parser *p, const helper *h, size_t pos);

static weft_node *parse_call(parser *p, size_t pos, size_t len)
{
    for (int k = 0; k < p->visible_helpers; k++)
        if (p->helpers[k].name_len == len &&
            strncmp(p->text + p->helpers[k].name_pos, p->text + pos, len) == 0)
            return parse_helper_call(p, &p->helpers[k], pos);
    int fn = -1;
    for (int f = 0; f < FN_COUNT; f++)
        if (strlen(functions[f].name) == len && strncmp(p->text + pos, functions[f].name, len) == 0)
            fn = f;
    if (fn < 0) {
        fail_at(p, pos, "unknown function \"%.*s\"%s", (int)len, p->text + pos,
                other_spelling(p->text + pos, len));
        return NULL;
    }
    weft_node *args[3];
    int count = 0;
    if (next(p) != WEFT_OK) return NULL; /* '(' */
    if (p->tok.kind != T_RPAREN) {
        for (;;) {
            if (count == 3) {
                fail_at(p, p->tok.start, "%s takes %d arguments", functions[fn].name,
                        functions[fn].arity);
                return NULL;
            }
            args[count] = parse_nested(p, pos);
            if (!args[count++]) return NULL;
            if (p->tok.kind != T_COMMA) break;
            if (next(p) != WEFT_OK) return NULL;
        }
    }
    if (p->tok.kind != T_RPAREN) {
        fail_at(p, p->tok.start, "expected ')' to close %s(", functions[fn].name);
        return NULL;
    }
    if (count != functions[fn].arity) {
        fail_at(p, pos, "%s takes %d argument%s, %d given", functions[fn].name, functions[fn].arity,
                functions[fn].arity == 1 ? "" : "s", count);
        return NULL;
    }
    if (next(p) != WEFT_OK) return NULL;
    /* Arguments meet like operands; integers become double unless the
     * function is generic (abs, min, max, clamp keep integer types). */
    weft_node probe = *args[0];
    weft_dtype t = promote(args[0]->type);
    int weak = args[0]->weak;
    for (int i = 1; i < count; i++) {
        probe.type = t;
        probe.weak = weak;
        t = meet(&probe, args[i]);
        weak = weak && args[i]->weak;
    }
    if (!functions[fn].any_type && !weft_dtype_is_float(t)) t = WEFT_F64;
    if (fn == FN_MIN && weft_dtype_is_float(t)) fn = FN_FMIN; /* one float semantics */
    if (fn == FN_MAX && weft_dtype_is_float(t)) fn = FN_FMAX;
    if (fn == FN_ABS && weft_dtype_is_float(t)) fn = FN_FABS;
    weft_node *n = new_node(p, NODE_CALL, pos);
    if (!n) return NULL;
    n->op = fn;
    n->type = t;
    n->weak = weak;
    n->nkids = count;
    for (int i = 0; i < count; i++)
        if (!(n->kid[i] = convert(p, args[i], t))) return NULL;
    return n;
}

/* A copy of an argument's tree for each use in a helper's body: later passes
 * may retype a node in place. */
static weft_node *clone_tree(parser *p, const weft_node *n)
{
    weft_node *c = new_node(p, n->kind, (size_t)n->column - 1);
    if (!c) return NULL;
    *c = *n;
    for (int k = 0; k < n->nkids; k++)
        if (!(c->kid[k] = clone_tree(p, n->kid[k]))) return NULL;
    return c;
}

/* pi, e, inf and nan, as weak double literals (they adapt to f32 operands
 * like 3.14 does); bindings and temporaries of the same name shadow them. */
static weft_node *constant(parser *p, size_t pos, size_t len)
{
    static const struct {
        const char *name;
        double value;
    } constants[] = {{"pi", 3.14159265358979323846},
                     {"e", 2.71828182845904523536},
                     {"inf", INFINITY},
                     {"nan", NAN}};
    for (size_t c = 0; c < sizeof constants / sizeof constants[0]; c++) {
        if (strlen(constants[c].name) != len || strncmp(constants[c].name, p->text + pos, len))
            continue;
        weft_node *n = new_node(p, NODE_LITERAL, pos);
        if (!n) return NULL;
        n->type = WEFT_F64;
        n->weak = 1;
        n->lit.f = constants[c].value;
        return n;
    }
    return NULL;
}

static weft_node *make_binary(parser *p, enum weft_operator op, weft_node *a, weft_node *b,
                              size_t pos);

/* i is the element's index in the whole data: a caller that runs a piece of
 * it (a CSV window, an MPI rank's rows) binds the piece's first index as
 * WEFT_EXPR_INDEX_BASE, and i counts from there. */
static weft_node *index_from_base(parser *p, weft_node *index, size_t pos)
{
    const weft_expr *e = p->e;
    for (size_t b = 0; b < e->nbindings; b++) {
        if (strcmp(e->bindings[b].name, WEFT_EXPR_INDEX_BASE) != 0 || e->bindings[b].is_array)
            continue;
        weft_node *base = new_node(p, NODE_SCALAR, pos);
        if (!base) return NULL;
        base->slot = (int)b;
        base->type = promote(e->bindings[b].dtype);
        return make_binary(p, OP_ADD, index, base, pos);
    }
    return index;
}

static weft_node *parse_name(parser *p)
{
    size_t pos = p->tok.start, len = p->tok.len;
    const weft_expr *e = p->e;
    if (next(p) != WEFT_OK) return NULL;
    if (p->tok.kind == T_LPAREN) return parse_call(p, pos, len);
    if (p->frame)
        for (int k = 0; k < p->frame->h->nparams; k++)
            if (p->frame->h->param_len[k] == len &&
                strncmp(p->text + p->frame->h->param_pos[k], p->text + pos, len) == 0)
                return clone_tree(p, p->frame->args[k]);
    /* Temporaries and outputs assigned earlier shadow bindings. */
    for (size_t s = e->nstatements; s-- > 0;) {
        const char *name = weft_expr_statement_name(e, s);
        if (strlen(name) == len && strncmp(name, p->text + pos, len) == 0) {
            weft_node *n = new_node(p, NODE_TEMP, pos);
            if (!n) return NULL;
            n->slot = (int)s;
            n->type = e->statements[s].value->type;
            return n;
        }
    }
    for (size_t b = 0; b < e->nbindings; b++) {
        const char *name = e->bindings[b].name;
        if (strlen(name) != len || strncmp(name, p->text + pos, len) != 0) continue;
        weft_node *n = new_node(p, e->bindings[b].is_array ? NODE_ARRAY : NODE_SCALAR, pos);
        if (!n) return NULL;
        n->slot = (int)b;
        n->type = promote(e->bindings[b].dtype);
        if (e->bindings[b].is_array) p->e->reads[b] = 1;
        return n;
    }
    if (len == 1 && p->text[pos] == 'i') {
        weft_node *n = new_node(p, NODE_INDEX, pos);
        if (!n) return NULL;
        n->type = WEFT_I64;
        return index_from_base(p, n, pos);
    }
    if (!p->failed) {
        weft_node *c = constant(p, pos, len);
        if (c || p->failed) return c;
    }
    fail_at(p, pos, "unknown name \"%.*s\"%s", (int)len, p->text + pos,
            other_spelling(p->text + pos, len));
    return NULL;
}

/* Expands a call of helper h: its arguments are parsed here, then its body
 * is parsed where it was defined, each parameter standing for a copy of its
 * argument. */
static weft_node *parse_helper_call(parser *p, const helper *h, size_t pos)
{
    helper_frame frame = {.h = h};
    int count = 0;
    if (next(p) != WEFT_OK) return NULL; /* '(' */
    if (p->tok.kind != T_RPAREN) {
        for (;;) {
            if (count == MAX_HELPER_PARAMS) break;
            frame.args[count] = parse_nested(p, pos);
            if (!frame.args[count++]) return NULL;
            if (p->tok.kind != T_COMMA) break;
            if (next(p) != WEFT_OK) return NULL;
        }
    }
    if (p->tok.kind != T_RPAREN || count != h->nparams) {
        fail_at(p, pos, "%.*s takes %d argument%s", (int)h->name_len, p->text + h->name_pos,
                h->nparams, h->nparams == 1 ? "" : "s");
        return NULL;
    }
    size_t resume = p->pos;
    token after = p->tok;
    const helper_frame *outer = p->frame;
    int outer_visible = p->visible_helpers;
    p->frame = &frame;
    p->visible_helpers = (int)(h - p->helpers);
    p->pos = h->body_pos;
    weft_node *n = next(p) == WEFT_OK ? parse_nested(p, pos) : NULL;
    if (n && p->tok.kind != T_SEMI && p->tok.kind != T_END) {
        fail_at(p, p->tok.start, "expected the end of %.*s's body", (int)h->name_len,
                p->text + h->name_pos);
        n = NULL;
    }
    p->frame = outer;
    p->visible_helpers = outer_visible;
    p->pos = resume;
    p->tok = after;
    if (!n) return NULL;
    return next(p) == WEFT_OK ? n : NULL; /* ')' */
}

static weft_node *parse_unary(parser *p);

static weft_node *parse_primary(parser *p)
{
    size_t pos = p->tok.start;
    switch (p->tok.kind) {
    case T_NUMBER:
        return parse_number(p);
    case T_NAME:
        return parse_name(p);
    case T_LPAREN: {
        if (next(p) != WEFT_OK) return NULL;
        weft_dtype to;
        if (cast_type(p, &to)) { /* (type) operand */
            size_t save = p->pos;
            token tok = p->tok;
            if (next(p) != WEFT_OK) return NULL;
            if (p->tok.kind == T_RPAREN) {
                if (!enter(p, pos) || next(p) != WEFT_OK) return NULL;
                weft_node *operand = parse_unary(p);
                p->depth--;
                if (!operand) return NULL;
                if (to == WEFT_U8) {
                    weft_node *n = make_uchar(p, operand, pos);
                    if (n) n->weak = 0;
                    return n;
                }
                weft_node *n = convert(p, operand, to);
                if (n == operand && n) { /* already that type: keep the cast's strength */
                    n->weak = 0;
                    return n;
                }
                if (n) n->weak = 0;
                return n;
            }
            p->pos = save; /* "(float" not followed by ')': a name in parentheses */
            p->tok = tok;
        }
        weft_node *inner = parse_nested(p, pos);
        if (!inner) return NULL;
        if (p->tok.kind != T_RPAREN) {
            fail_at(p, p->tok.start, "expected ')' to match the '(' at column %zu",
                    column_in_line(p, pos));
            return NULL;
        }
        return next(p) == WEFT_OK ? inner : NULL;
    }
    case T_END:
        fail_at(p, pos, "expression ends where a value was expected");
        return NULL;
    default:
        if (p->text[pos] == '\n') { /* a statement cut short: its line ends */
            fail_at(p, pos, "expression ends where a value was expected (at the end of the line)");
            return NULL;
        }
        fail_at(p, pos, "expected a value, found \"%.*s\"%s", (int)p->tok.len, p->text + pos,
                pos > 0 && p->text[pos - 1] == '*' && p->text[pos] == '*' ? other_spelling("**", 2)
                                                                          : "");
        return NULL;
    }
}

static weft_node *parse_unary(parser *p)
{
    size_t pos = p->tok.start;
    weft_node *result = NULL;
    enum tok_kind k = p->tok.kind;
    if (k == T_MINUS || k == T_PLUS || k == T_BANG || k == T_TILDE) {
        if (!enter(p, pos) || next(p) != WEFT_OK) return NULL;
        weft_node *operand = parse_unary(p);
        p->depth--;
        if (!operand) return NULL;
        if (k == T_PLUS) {
            result = convert(p, operand, promote(operand->type));
        } else if (k == T_TILDE && weft_dtype_is_float(operand->type)) {
            fail_at(p, pos, "~ needs an integer operand, not %s", weft_dtype_name(operand->type));
        } else if (k == T_MINUS && operand->kind == NODE_LITERAL && operand->weak) {
            /* fold -literal: "-2147483648" is an i64 literal, as in C */
            if (weft_dtype_is_float(operand->type))
                operand->lit.f = -operand->lit.f;
            else if (operand->type == WEFT_U64)
                operand->lit.u = 0 - operand->lit.u, operand->lit.i = (int64_t)operand->lit.u;
            else
                operand->lit.i = -operand->lit.i;
            operand->column = (int)pos + 1;
            result = operand;
        } else {
            weft_node *n = new_node(p, NODE_UNARY, pos);
            if (!n) return NULL;
            n->op = k == T_MINUS ? OP_NEG : k == T_BANG ? OP_NOT : OP_BITNOT;
            n->type = k == T_BANG ? WEFT_I32 : promote(operand->type);
            n->weak = operand->weak && k != T_BANG;
            n->nkids = 1;
            n->kid[0] = convert(p, operand, k == T_BANG ? operand->type : n->type);
            result = n->kid[0] ? n : NULL;
        }
    } else {
        result = parse_primary(p);
    }
    return result;
}

/* Binary levels, lowest binding first. */
static const struct {
    enum tok_kind tok;
    enum weft_operator op;
    int level;
} binary_ops[] = {
    {T_OROR, OP_OR, 1},    {T_ANDAND, OP_AND, 2},   {T_PIPE, OP_BITOR, 3}, {T_CARET, OP_BITXOR, 4},
    {T_AMP, OP_BITAND, 5}, {T_EQ, OP_EQ, 6},        {T_NE, OP_NE, 6},      {T_LT, OP_LT, 7},
    {T_LE, OP_LE, 7},      {T_GT, OP_GT, 7},        {T_GE, OP_GE, 7},      {T_SHL, OP_SHL, 8},
    {T_SHR, OP_SHR, 8},    {T_PLUS, OP_ADD, 9},     {T_MINUS, OP_SUB, 9},  {T_STAR, OP_MUL, 10},
    {T_SLASH, OP_DIV, 10}, {T_PERCENT, OP_MOD, 10},
};

static int binary_level(enum tok_kind k, enum weft_operator *op)
{
    for (size_t i = 0; i < sizeof binary_ops / sizeof binary_ops[0]; i++)
        if (binary_ops[i].tok == k) {
            *op = binary_ops[i].op;
            return binary_ops[i].level;
        }
    return 0;
}

static const char *op_text(enum weft_operator op)
{
    static const char *const text[] = {"+",  "-",  "*", "/", "%", "<",  "<=", ">", ">=", "==", "!=",
                                       "&&", "||", "&", "|", "^", "<<", ">>", "-", "!",  "~"};
    return text[op];
}

static weft_node *make_binary(parser *p, enum weft_operator op, weft_node *a, weft_node *b,
                              size_t pos)
{
    int integer_only = op == OP_MOD || op == OP_BITAND || op == OP_BITOR || op == OP_BITXOR ||
                       op == OP_SHL || op == OP_SHR;
    if (integer_only && (weft_dtype_is_float(a->type) || weft_dtype_is_float(b->type))) {
        fail_at(p, pos, "%s needs integer operands, not %s and %s (%s)", op_text(op),
                weft_dtype_name(a->type), weft_dtype_name(b->type),
                op == OP_MOD      ? "use fmod for floats"
                : op == OP_BITXOR ? "^ is exclusive or: a power is pow(x, y)"
                                  : "a bitwise operator");
        return NULL;
    }
    weft_node *n = new_node(p, NODE_BINARY, pos);
    if (!n) return NULL;
    n->op = op;
    n->nkids = 2;
    if (op == OP_AND || op == OP_OR) { /* truth values of any type */
        n->type = WEFT_I32;
        n->kid[0] = a;
        n->kid[1] = b;
        return n;
    }
    weft_dtype t = (op == OP_SHL || op == OP_SHR) ? promote(a->type) : meet(a, b);
    int compare = op >= OP_LT && op <= OP_NE;
    n->type = compare ? WEFT_I32 : t;
    n->weak = !compare && a->weak && b->weak;
    n->kid[0] = convert(p, a, t);
    n->kid[1] = convert(p, b, (op == OP_SHL || op == OP_SHR) ? promote(b->type) : t);
    if ((op == OP_SHL || op == OP_SHR) && n->kid[1]) n->kid[1] = convert(p, n->kid[1], t);
    return n->kid[0] && n->kid[1] ? n : NULL;
}

static weft_node *parse_binary(parser *p, int min_level)
{
    weft_node *left = parse_unary(p);
    for (;;) {
        if (!left) return NULL;
        enum weft_operator op;
        int level = binary_level(p->tok.kind, &op);
        if (level == 0 || level < min_level) return left;
        size_t pos = p->tok.start;
        if (next(p) != WEFT_OK) return NULL;
        /* Recursion here is bounded by the number of precedence levels. */
        weft_node *right = parse_binary(p, level + 1);
        if (!right) return NULL;
        left = make_binary(p, op, left, right, pos);
    }
}

static weft_node *parse_expr(parser *p)
{
    weft_node *cond = parse_binary(p, 1);
    weft_node *result = cond;
    if (cond && p->tok.kind == T_QUESTION) {
        size_t pos = p->tok.start;
        weft_node *a = NULL, *b = NULL;
        if (next(p) == WEFT_OK) a = parse_nested(p, pos);
        if (a && p->tok.kind != T_COLON) {
            fail_at(p, p->tok.start, "expected ':' for the '?' at column %zu",
                    column_in_line(p, pos));
            a = NULL;
        }
        if (a && next(p) == WEFT_OK) b = parse_nested(p, pos);
        result = NULL;
        if (a && b) {
            weft_node *n = new_node(p, NODE_SELECT, pos);
            if (n) {
                weft_dtype t = meet(a, b);
                n->type = t;
                n->weak = a->weak && b->weak;
                n->nkids = 3;
                n->kid[0] = cond;
                n->kid[1] = convert(p, a, t);
                n->kid[2] = convert(p, b, t);
                result = n->kid[1] && n->kid[2] ? n : NULL;
            }
        }
    }
    return result;
}

/* ---- statements ---- */

/* Temporaries' names, parallel to statements (outputs use their binding's). */
typedef struct temp_names {
    char **names;
} temp_names;

static temp_names *names_of(const weft_expr *e)
{
    return (temp_names *)(void *)e->vm_names;
}

const char *weft_expr_statement_name(const weft_expr *e, size_t s)
{
    const weft_statement *st = &e->statements[s];
    return st->target >= 0 ? e->bindings[st->target].name : names_of(e)->names[s];
}

/* `def name(params) = body`: recorded, and checked at each call. The body
 * is skipped here up to the end of the statement. */
static weft_status parse_def(parser *p)
{
    RETURN_ON_ERROR(next(p)); /* def */
    if (p->tok.kind != T_NAME) return fail_at(p, p->tok.start, "expected a helper's name");
    if (p->nhelpers == MAX_HELPERS)
        return fail_at(p, p->tok.start, "too many helpers (more than %d)", MAX_HELPERS);
    helper *h = &p->helpers[p->nhelpers];
    *h = (helper){.name_pos = p->tok.start, .name_len = p->tok.len};
    for (int f = 0; f < FN_COUNT; f++)
        if (strlen(functions[f].name) == h->name_len &&
            strncmp(functions[f].name, p->text + h->name_pos, h->name_len) == 0)
            return fail_at(p, h->name_pos, "%s is a built-in function", functions[f].name);
    for (int k = 0; k < p->nhelpers; k++)
        if (p->helpers[k].name_len == h->name_len &&
            strncmp(p->text + p->helpers[k].name_pos, p->text + h->name_pos, h->name_len) == 0)
            return fail_at(p, h->name_pos, "helper \"%.*s\" is defined twice", (int)h->name_len,
                           p->text + h->name_pos);
    RETURN_ON_ERROR(next(p));
    if (p->tok.kind != T_LPAREN) return fail_at(p, p->tok.start, "expected '(' after the name");
    RETURN_ON_ERROR(next(p));
    while (p->tok.kind == T_NAME) {
        if (h->nparams == MAX_HELPER_PARAMS)
            return fail_at(p, p->tok.start, "a helper takes at most %d parameters",
                           MAX_HELPER_PARAMS);
        for (int k = 0; k < h->nparams; k++)
            if (h->param_len[k] == p->tok.len &&
                strncmp(p->text + h->param_pos[k], p->text + p->tok.start, p->tok.len) == 0)
                return fail_at(p, p->tok.start, "parameter \"%.*s\" is named twice",
                               (int)p->tok.len, p->text + p->tok.start);
        h->param_pos[h->nparams] = p->tok.start;
        h->param_len[h->nparams++] = p->tok.len;
        RETURN_ON_ERROR(next(p));
        if (p->tok.kind != T_COMMA) break;
        RETURN_ON_ERROR(next(p));
    }
    if (p->tok.kind != T_RPAREN) return fail_at(p, p->tok.start, "expected ')' or a parameter");
    RETURN_ON_ERROR(next(p));
    if (p->tok.kind != T_ASSIGN) return fail_at(p, p->tok.start, "expected '=' and the body");
    h->body_pos = p->pos;
    RETURN_ON_ERROR(next(p));
    if (p->tok.kind == T_SEMI || p->tok.kind == T_END)
        return fail_at(p, p->tok.start, "the helper has no body");
    while (p->tok.kind != T_SEMI && p->tok.kind != T_END)
        RETURN_ON_ERROR(next(p));
    p->nhelpers++;
    p->visible_helpers = p->nhelpers;
    return WEFT_OK;
}

static weft_status parse_statement(parser *p, enum weft_expr_mode mode, int *done)
{
    weft_expr *e = p->e;
    size_t pos = p->tok.start;
    if (tok_is_name(p, "def")) {
        size_t save = p->pos;
        token tok = p->tok;
        RETURN_ON_ERROR(next(p));
        int is_def = p->tok.kind == T_NAME;
        p->pos = save;
        p->tok = tok;
        if (is_def) return parse_def(p);
    }
    /* name '=' expr, or (reduce mode, last) a bare expression */
    int assignment = 0;
    if (p->tok.kind == T_NAME) {
        size_t save = p->pos;
        token tok = p->tok;
        RETURN_ON_ERROR(next(p));
        assignment = p->tok.kind == T_ASSIGN;
        p->pos = save;
        p->tok = tok;
    }
    if (!assignment) {
        if (mode != WEFT_EXPR_REDUCE)
            return fail_at(p, pos, "expected an assignment \"name = ...\"");
        weft_node *value = parse_expr(p);
        if (!value) return WEFT_ERR_EXPR;
        e->result = convert(p, value, promote(value->type));
        if (!e->result) return WEFT_ERR_EXPR;
        *done = 1;
        return WEFT_OK;
    }
    size_t name_pos = p->tok.start, name_len = p->tok.len;
    RETURN_ON_ERROR(next(p)); /* name */
    RETURN_ON_ERROR(next(p)); /* '=' */
    if (e->nstatements == MAX_STATEMENTS)
        return fail_at(p, pos, "too many statements (more than %d)", MAX_STATEMENTS);
    int target = -1;
    for (size_t b = 0; b < e->nbindings; b++) {
        const char *name = e->bindings[b].name;
        if (strlen(name) != name_len || strncmp(name, p->text + name_pos, name_len) != 0) continue;
        if (!e->bindings[b].is_array)
            return fail_at(p, name_pos, "cannot assign to scalar \"%s\"", name);
        target = (int)b;
    }
    /* A reduction only reads: a store would run on the pool and not in the
     * device kernels, so the same call would change its input or not by size. */
    if (target >= 0 && mode == WEFT_EXPR_REDUCE)
        return fail_at(p, name_pos,
                       "a reduction cannot assign to the bound array \"%s\" (use a temporary name)",
                       e->bindings[target].name);
    if (target < 0 && name_len == 1 && p->text[name_pos] == 'i')
        return fail_at(p, name_pos, "cannot assign to the element index i");
    weft_node *value = parse_expr(p);
    if (!value) return WEFT_ERR_EXPR;
    weft_dtype computed = value->type;
    if (target >= 0 && e->bindings[target].dtype == WEFT_U8)
        value = make_uchar(p, value, pos);
    else
        value = convert(p, value, target >= 0 ? e->bindings[target].dtype : promote(value->type));
    if (!value) return WEFT_ERR_EXPR;
    value->weak = 0;
    size_t s = e->nstatements++;
    e->statements[s] = (weft_statement){target, value, (int)name_pos + 1, computed};
    names_of(e)->names[s] = target >= 0 ? NULL : strndup(p->text + name_pos, name_len);
    if (target < 0 && !names_of(e)->names[s])
        return weft_error_set(WEFT_ERR_NOMEM, "out of memory");
    if (target >= 0) e->writes[target] = 1;
    return WEFT_OK;
}

static int temp_is_read(const weft_expr *e, size_t s)
{
    for (size_t k = 0; k < e->nnodes; k++)
        if (e->nodes[k].kind == NODE_TEMP && e->nodes[k].slot == (int)s) return 1;
    return 0;
}

/* In a map, a temporary nobody reads is almost always a misspelt output
 * ("Y = 2 * x" with y bound): numexpr's out= or a compiler would refuse it,
 * so it is an error rather than a silent no-op. */
static weft_status check_temps_are_read(parser *p)
{
    const weft_expr *e = p->e;
    for (size_t s = 0; s < e->nstatements; s++) {
        if (e->statements[s].target >= 0 || temp_is_read(e, s)) continue;
        const char *name = weft_expr_statement_name(e, s);
        const char *near = NULL;
        for (size_t b = 0; b < e->nbindings && !near; b++)
            if (e->bindings[b].is_array && strcasecmp(e->bindings[b].name, name) == 0)
                near = e->bindings[b].name;
        char hint[128] = "bind it as an output array, or read it in a later statement";
        if (near) snprintf(hint, sizeof hint, "did you mean the bound array \"%s\"?", near);
        return fail_at(p, (size_t)e->statements[s].column - 1,
                       "\"%s\" is assigned but neither bound nor read later (%s)", name, hint);
    }
    return WEFT_OK;
}

static weft_status parse_program(parser *p, enum weft_expr_mode mode)
{
    weft_expr *e = p->e;
    RETURN_ON_ERROR(next(p));
    int done = 0;
    while (p->tok.kind != T_END && !done) {
        if (p->tok.kind == T_SEMI) {
            RETURN_ON_ERROR(next(p));
            continue;
        }
        RETURN_ON_ERROR(parse_statement(p, mode, &done));
        if (p->tok.kind != T_SEMI && p->tok.kind != T_END)
            return fail_at(p, p->tok.start, "expected ';' or the end, found \"%.*s\"%s",
                           (int)p->tok.len, p->text + p->tok.start,
                           other_spelling(p->text + p->tok.start, p->tok.len));
    }
    while (p->tok.kind == T_SEMI)
        RETURN_ON_ERROR(next(p));
    if (p->tok.kind != T_END)
        return fail_at(p, p->tok.start, "nothing may follow the reduced expression");
    if (mode == WEFT_EXPR_MAP) {
        int outputs = 0;
        for (size_t s = 0; s < e->nstatements; s++)
            outputs += e->statements[s].target >= 0;
        if (outputs == 0)
            return fail_at(p, p->pos, "no output: assign to at least one bound array");
        RETURN_ON_ERROR(check_temps_are_read(p));
    } else if (mode == WEFT_EXPR_REDUCE && !e->result) {
        return fail_at(p, p->pos, "a reduction needs an expression to reduce, e.g. \"x * y\"");
    }
    return WEFT_OK;
}

int weft_expr_text_uses_index(const char *text)
{
    for (const char *c = text; c && *c; c++) {
        if (*c == '#') { /* a comment, to the line's end */
            while (c[1] && c[1] != '\n')
                c++;
            continue;
        }
        int starts = c == text || !(isalnum((unsigned char)c[-1]) || c[-1] == '_' || c[-1] == '.');
        if (*c == 'i' && starts && !(isalnum((unsigned char)c[1]) || c[1] == '_')) return 1;
    }
    return 0;
}

weft_status weft_expr_check_bindings(const weft_expr_binding *b, size_t n)
{
    RETURN_IF(n > WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG, "%zu bindings (at most %d)", n,
              WEFT_EXPR_MAX_BINDINGS);
    for (size_t i = 0; i < n; i++) {
        RETURN_IF(!b[i].name, WEFT_ERR_NULL, "binding %zu has no name", i);
        size_t len = strlen(b[i].name);
        int ok =
            len > 0 && len < 64 && (isalpha((unsigned char)b[i].name[0]) || b[i].name[0] == '_');
        for (size_t c = 0; ok && c < len; c++)
            ok = isalnum((unsigned char)b[i].name[c]) || b[i].name[c] == '_';
        ok = ok || strcmp(b[i].name, WEFT_EXPR_INDEX_BASE) == 0; /* no text can name it */
        RETURN_IF(!ok, WEFT_ERR_INVALID_ARG, "binding %zu: \"%.64s\" is not a valid name", i,
                  b[i].name);
        RETURN_IF((unsigned)b[i].dtype >= WEFT_DTYPE_COUNT, WEFT_ERR_DTYPE,
                  "binding \"%s\" has dtype %d", b[i].name, (int)b[i].dtype);
        for (size_t j = 0; j < i; j++)
            RETURN_IF(strcmp(b[i].name, b[j].name) == 0, WEFT_ERR_INVALID_ARG,
                      "name \"%s\" is bound twice", b[i].name);
    }
    return WEFT_OK;
}

void weft_expr_free_tree(weft_expr *e)
{
    if (!e) return;
    temp_names *names = names_of(e);
    if (names) {
        for (size_t s = 0; s < e->nstatements; s++)
            free(names->names[s]);
        free(names->names);
        free(names);
    }
    for (size_t b = 0; b < e->nbindings; b++)
        free((char *)e->bindings[b].name);
    free(e->bindings);
    free(e->statements);
    free(e->nodes);
    free(e->reads); /* writes lies in the same block */
    free(e->text);
    free(e);
}

weft_status weft_expr_parse(const char *text, const weft_expr_binding *bindings, size_t nbindings,
                            enum weft_expr_mode mode, weft_expr **out)
{
    RETURN_IF(!text || !out || (!bindings && nbindings), WEFT_ERR_NULL,
              "expression, bindings or output is NULL");
    *out = NULL;
    RETURN_IF(strlen(text) > WEFT_EXPR_MAX_TEXT, WEFT_ERR_EXPR,
              "expression longer than %d characters", WEFT_EXPR_MAX_TEXT);
    RETURN_ON_ERROR(weft_expr_check_bindings(bindings, nbindings));
    weft_status st = WEFT_OK;
    weft_expr *e = calloc(1, sizeof *e);
    temp_names *names = e ? calloc(1, sizeof *names) : NULL;
    if (e) e->vm_names = names;
    GOTO_ERROR_IF(!e || !names, WEFT_ERR_NOMEM, "cannot allocate an expression");
    e->text = strdup(text);
    e->bindings = calloc(nbindings + 1, sizeof *e->bindings);
    e->statements = calloc(MAX_STATEMENTS, sizeof *e->statements);
    names->names = calloc(MAX_STATEMENTS, sizeof *names->names);
    e->nodes = malloc(MAX_NODES * sizeof *e->nodes);
    e->node_capacity = MAX_NODES;
    e->reads = calloc(2 * (nbindings + 1), 1);
    if (e->reads) e->writes = e->reads + nbindings + 1;
    GOTO_ERROR_IF(!e->text || !e->bindings || !e->statements || !names->names || !e->nodes ||
                      !e->reads,
                  WEFT_ERR_NOMEM, "cannot allocate an expression");
    for (size_t b = 0; b < nbindings; b++) {
        e->bindings[b] = bindings[b];
        e->bindings[b].name = strdup(bindings[b].name);
        GOTO_ERROR_IF(!e->bindings[b].name, WEFT_ERR_NOMEM, "cannot copy names");
        e->nbindings++;
    }
    parser p = {.text = e->text, .e = e};
    st = parse_program(&p, mode);
    if (st == WEFT_OK && p.failed) st = WEFT_ERR_EXPR;
    GOTO_ERROR_ON(st);
    *out = e;
    return WEFT_OK;
error:
    weft_expr_free_tree(e);
    return st;
}
