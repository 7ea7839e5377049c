/* OpenCL C back end of expressions. The generated code spells out every
 * conversion and every integer rule the host VM follows (vm_ops.h), and turns
 * contraction off, so arithmetic gives the same bits on a device as on the
 * pool. */
#include "codegen_cl.h"
#include "../core/error.h"
#include "../core/kernels.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
    char *data;
    size_t len, cap;
    int failed;
    const weft_node *nodes; /* the expression's arena */
    unsigned char *hoisted; /* per node: declared as h<index> before its statement */
    int width;              /* elements per value: 1, or the vector width of MAP_VECTOR code */
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    if (t->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)(n > 0 ? n : 0);
        char *grown = realloc(t->data, cap);
        if (!grown || n < 0) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static const char *ctype(weft_dtype t)
{
    static const char *const names[] = {"float", "double", "int", "uint", "long", "ulong", "uchar"};
    return (unsigned)t < WEFT_DTYPE_COUNT ? names[t] : "?";
}

/* A value's type: "float", or "float8" in vector code. */
typedef struct type_name {
    char s[16];
} type_name;

static type_name vtype(const text *t, weft_dtype d)
{
    type_name n;
    if (t->width > 1)
        snprintf(n.s, sizeof n.s, "%s%d", ctype(d), t->width);
    else
        snprintf(n.s, sizeof n.s, "%s", ctype(d));
    return n;
}

static const char *utype(weft_dtype t)
{
    return (t == WEFT_I64 || t == WEFT_U64 || t == WEFT_F64) ? "ulong" : "uint";
}

static int bits(weft_dtype t)
{
    return (t == WEFT_I64 || t == WEFT_U64 || t == WEFT_F64) ? 64 : 32;
}

/* Helpers for the integer rules that C leaves undefined, one set per type. */
static const char prelude[] =
    "#pragma OPENCL FP_CONTRACT OFF\n"
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "#define W_INT_HELPERS(T, U)                                                       \\\n"
    "  inline T w_div_##T(T a, T b) { return b == 0 ? (T)0 : (b == (T)-1 && (T)-1 < 0) \\\n"
    "      ? (T)((U)0 - (U)a) : a / b; }                                                \\\n"
    "  inline T w_mod_##T(T a, T b) { return (b == 0 || (b == (T)-1 && (T)-1 < 0))     \\\n"
    "      ? (T)0 : a % b; }                                                            \\\n"
    "  inline T w_abs_##T(T a) { return ((T)-1 < 0 && a < 0) ? (T)((U)0 - (U)a) : a; }  \\\n"
    "  inline T w_min_##T(T a, T b) { return a < b ? a : b; }                          \\\n"
    "  inline T w_max_##T(T a, T b) { return a > b ? a : b; }                          \\\n"
    "  inline T w_clamp_##T(T a, T b, T c) { T lo = a > b ? a : b; return lo < c ? lo : c; }\n"
    "W_INT_HELPERS(int, uint)\n"
    "W_INT_HELPERS(uint, uint)\n"
    "W_INT_HELPERS(long, ulong)\n"
    "W_INT_HELPERS(ulong, ulong)\n"
    /* fmin/fmax spelled out (vm.c has the same): the builtins' answers for
     * signalling NaNs and signed zeros differ between libraries. */
    "#define W_FLOAT_HELPERS(T)                                                        \\\n"
    "  inline T w_fmin_##T(T a, T b) { return a != a ? b : b != b ? a                  \\\n"
    "      : (a < b || (a == b && signbit(a))) ? a : b; }                               \\\n"
    "  inline T w_fmax_##T(T a, T b) { return a != a ? b : b != b ? a                  \\\n"
    "      : (a > b || (a == b && !signbit(a))) ? a : b; }\n"
    "W_FLOAT_HELPERS(float)\n"
    "#ifdef cl_khr_fp64\n"
    "W_FLOAT_HELPERS(double)\n"
    "#endif\n"
    /* f32 sin, cos and tan through double where the device has it: PoCL's
     * vector float versions took the large-argument path for every lane
     * when one lane needed it (sin(1e-40) was 0.0079). */
    "#ifdef cl_khr_fp64\n"
    "#define W_WIDE(f, FT, DT, x) convert_##FT(f(convert_##DT(x)))\n"
    "#else\n"
    "#define W_WIDE(f, FT, DT, x) f(x)\n"
    "#endif\n";

static void gen(text *t, const weft_expr *e, const weft_node *n);

/* The node's three operands with the given text before, between and after
 * them: around[0], kid 0, around[1], kid 1, around[2], kid 2, around[3]. */
static void gen_between(text *t, const weft_expr *e, const weft_node *n,
                        const char *const around[4])
{
    for (int k = 0; k < 3; k++) {
        put(t, "%s", around[k]);
        gen(t, e, n->kid[k]);
    }
    put(t, "%s", around[3]);
}

static void gen_literal(text *t, const weft_node *n)
{
    switch (n->type) {
    case WEFT_F32: {
        float f = (float)n->lit.f;
        if (f != f)
            put(t, "NAN");
        else if (f == (float)1e300 * 10)
            put(t, "INFINITY");
        else if (-f == (float)1e300 * 10)
            put(t, "(-INFINITY)");
        else
            put(t, "%af", (double)f);
        return;
    }
    case WEFT_F64: {
        double d = n->lit.f;
        if (d != d)
            put(t, "((double)NAN)");
        else if (d == 1e300 * 1e300)
            put(t, "((double)INFINITY)");
        else if (-d == 1e300 * 1e300)
            put(t, "((double)-INFINITY)");
        else
            put(t, "%a", d);
        return;
    }
    case WEFT_I32:
        put(t, "((int)(%" PRId64 "L))", n->lit.i);
        return;
    case WEFT_U32:
        put(t, "((uint)%" PRIu64 "UL)", (uint64_t)(uint32_t)n->lit.i);
        return;
    case WEFT_I64:
        if (n->lit.i == INT64_MIN)
            put(t, "((long)(-9223372036854775807L - 1))");
        else
            put(t, "((long)%" PRId64 "L)", n->lit.i);
        return;
    default:
        put(t, "((ulong)%" PRIu64 "UL)", n->lit.u);
        return;
    }
}

static void gen_convert(text *t, const weft_expr *e, const weft_node *n)
{
    weft_dtype from = n->kid[0]->type, to = n->type;
    if (weft_dtype_is_float(to))
        put(t, "convert_%s(", ctype(to));
    else if (weft_dtype_is_float(from))
        put(t, "convert_%s_sat_rtz(", ctype(to)); /* truncate, saturate, NaN -> 0 */
    else
        put(t, "((%s)(", ctype(to)); /* integers wrap */
    gen(t, e, n->kid[0]);
    put(t, weft_dtype_is_float(to) || weft_dtype_is_float(from) ? ")" : "))");
}

/* C's spelling of each weft_operator, in its order */
static const char *const symbol[] = {
    "+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "&", "|", "&", "|", "^", "<<", ">>"};

static void gen_binary(text *t, const weft_expr *e, const weft_node *n)
{
    weft_dtype type = n->kid[0]->type;
    const weft_node *a = n->kid[0], *b = n->kid[1];
    int op = n->op;
    if (op == OP_AND || op == OP_OR) {
        put(t, "((int)((");
        gen(t, e, a);
        put(t, ") != 0 %s (", symbol[op]);
        gen(t, e, b);
        put(t, ") != 0))");
        return;
    }
    if (op >= OP_LT && op <= OP_NE) {
        put(t, "((int)((");
        gen(t, e, a);
        put(t, ") %s (", symbol[op]);
        gen(t, e, b);
        put(t, ")))");
        return;
    }
    if (!weft_dtype_is_float(type) && (op == OP_DIV || op == OP_MOD)) {
        put(t, "w_%s_%s(", op == OP_DIV ? "div" : "mod", ctype(type));
        gen(t, e, a);
        put(t, ", ");
        gen(t, e, b);
        put(t, ")");
        return;
    }
    if (!weft_dtype_is_float(type) &&
        (op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_SHL)) {
        /* in the unsigned twin: wrapping, never undefined */
        put(t, "((%s)((%s)(", ctype(type), utype(type));
        gen(t, e, a);
        if (op == OP_SHL) {
            put(t, ") << ((%s)(", utype(type));
            gen(t, e, b);
            put(t, ") & %d)))", bits(type) - 1);
        } else {
            put(t, ") %s (%s)(", symbol[op], utype(type));
            gen(t, e, b);
            put(t, ")))");
        }
        return;
    }
    if (op == OP_SHR) {
        put(t, "((");
        gen(t, e, a);
        put(t, ") >> ((%s)(", utype(type));
        gen(t, e, b);
        put(t, ") & %d))", bits(type) - 1);
        return;
    }
    put(t, "((");
    gen(t, e, a);
    put(t, ") %s (", symbol[op]);
    gen(t, e, b);
    put(t, "))");
}

/* Vector code calls the vector overloads of the same builtins, and the
 * vector twins of the helpers (w_div_int8 ...). */
static void gen_call(text *t, const weft_expr *e, const weft_node *n)
{
    int fn = n->op;
    type_name type_n = vtype(t, n->type);
    const char *type = type_n.s;
    if (!weft_dtype_is_float(n->type)) { /* abs, min, max, clamp on integers */
        static const char *const names[] = {
            [FN_ABS] = "abs", [FN_MIN] = "min", [FN_MAX] = "max", [FN_CLAMP] = "clamp"};
        put(t, "w_%s_%s(", names[fn], type);
    } else if (fn == FN_FMIN || fn == FN_FMAX) {
        put(t, "w_%s_%s(", fn == FN_FMIN ? "fmin" : "fmax", type);
    } else if (fn == FN_RSQRT) {
        put(t, "((%s)1 / sqrt(", type); /* as the host computes it */
        gen(t, e, n->kid[0]);
        put(t, "))");
        return;
    } else if (fn == FN_CLAMP) { /* defined even when lo > hi, as on the host */
        put(t, "w_fmin_%s(w_fmax_%s(", type, type);
        gen_between(t, e, n, (const char *const[]){"", ", ", "), ", ")"});
        return;
    } else if (n->type == WEFT_F32 && (fn == FN_SIN || fn == FN_COS || fn == FN_TAN)) {
        /* "float" or "floatN": the double of the same width */
        put(t, "W_WIDE(%s, %s, double%s, ", weft_fn_name((enum weft_fn)fn), type, type + 5);
    } else {
        put(t, "%s(", weft_fn_name((enum weft_fn)fn));
    }
    for (int k = 0; k < n->nkids; k++) {
        if (k) put(t, ", ");
        gen(t, e, n->kid[k]);
    }
    put(t, ")");
}

/* Vector code (MAP_VECTOR): every value is a vector of t->width elements, so
 * PoCL calls the vector overloads of its math library instead of one scalar
 * call per element. Each rule computes lane by lane what the scalar rule
 * computes: OpenCL's vector comparisons give -1 where the scalar ones give 1,
 * vector casts do not exist (convert_ wraps between integers as the casts do),
 * and the integer helpers run their scalar versions lane by lane. */
static void vgen_convert(text *t, const weft_expr *e, const weft_node *n)
{
    weft_dtype from = n->kid[0]->type, to = n->type;
    put(t, "convert_%s%s(", vtype(t, to).s,
        !weft_dtype_is_float(to) && weft_dtype_is_float(from) ? "_sat_rtz" : "");
    gen(t, e, n->kid[0]);
    put(t, ")");
}

/* before a after b end: the shape of every two-operand rule */
static void gen_pair(text *t, const weft_expr *e, const char *before, const weft_node *a,
                     const char *after, const weft_node *b, const char *end)
{
    put(t, "%s", before);
    gen(t, e, a);
    put(t, "%s", after);
    gen(t, e, b);
    put(t, "%s", end);
}

static void vgen_binary(text *t, const weft_expr *e, const weft_node *n)
{
    int op = n->op;
    weft_dtype type = n->kid[0]->type;
    type_name truth = vtype(t, WEFT_I32), vt = vtype(t, type),
              ut = vtype(t, bits(type) == 64 ? WEFT_U64 : WEFT_U32);
    char before[64], after[96], end[64];
    int mask = bits(type) - 1;
    if (op == OP_AND || op == OP_OR) { /* operands of any types: compare each to 0 */
        snprintf(before, sizeof before, "(-(convert_%s((", truth.s);
        snprintf(after, sizeof after, ") != 0) %s convert_%s((", symbol[op], truth.s);
        snprintf(end, sizeof end, ") != 0)))");
    } else if (op >= OP_LT && op <= OP_NE) {
        snprintf(before, sizeof before, "(-convert_%s((", truth.s);
        snprintf(after, sizeof after, ") %s (", symbol[op]);
        snprintf(end, sizeof end, ")))");
    } else if (!weft_dtype_is_float(type) && (op == OP_DIV || op == OP_MOD)) {
        snprintf(before, sizeof before, "w_%s_%s(", op == OP_DIV ? "div" : "mod", vt.s);
        snprintf(after, sizeof after, ", ");
        snprintf(end, sizeof end, ")");
    } else if (!weft_dtype_is_float(type) && op == OP_SHL) {
        snprintf(before, sizeof before, "convert_%s(convert_%s(", vt.s, ut.s);
        snprintf(after, sizeof after, ") << (convert_%s(", ut.s);
        snprintf(end, sizeof end, ") & (%s)%d))", ut.s, mask);
    } else if (!weft_dtype_is_float(type) && (op == OP_ADD || op == OP_SUB || op == OP_MUL)) {
        snprintf(before, sizeof before, "convert_%s(convert_%s(", vt.s, ut.s);
        snprintf(after, sizeof after, ") %s convert_%s(", symbol[op], ut.s);
        snprintf(end, sizeof end, "))");
    } else if (op == OP_SHR) {
        snprintf(before, sizeof before, "((");
        snprintf(after, sizeof after, ") >> convert_%s(convert_%s(", vt.s, ut.s);
        snprintf(end, sizeof end, ") & (%s)%d))", ut.s, mask);
    } else {
        snprintf(before, sizeof before, "((");
        snprintf(after, sizeof after, ") %s (", symbol[op]);
        snprintf(end, sizeof end, "))");
    }
    gen_pair(t, e, before, n->kid[0], after, n->kid[1], end);
}

static void vgen_unary(text *t, const weft_expr *e, const weft_node *n)
{
    if (n->op == OP_NOT) {
        put(t, "(-convert_%s((", vtype(t, WEFT_I32).s);
        gen(t, e, n->kid[0]);
        put(t, ") == 0))");
        return;
    }
    if (weft_dtype_is_float(n->type)) {
        put(t, "(-(");
        gen(t, e, n->kid[0]);
        put(t, "))");
        return;
    }
    type_name vt = vtype(t, n->type), ut = vtype(t, bits(n->type) == 64 ? WEFT_U64 : WEFT_U32);
    if (n->op == OP_NEG) /* in the unsigned twin: -MIN wraps to MIN */
        put(t, "convert_%s((%s)0 - convert_%s(", vt.s, ut.s, ut.s);
    else
        put(t, "convert_%s(~convert_%s(", vt.s, ut.s);
    gen(t, e, n->kid[0]);
    put(t, "))");
}

static void vgen_select(text *t, const weft_expr *e, const weft_node *n)
{
    /* select(no, yes, mask) takes a lane where the mask's top bit is set */
    put(t, "select((");
    gen(t, e, n->kid[2]);
    put(t, "), (");
    gen(t, e, n->kid[1]);
    put(t, "), convert_%s((", vtype(t, bits(n->type) == 64 ? WEFT_I64 : WEFT_I32).s);
    gen(t, e, n->kid[0]);
    put(t, ") != 0))");
}

static int vgen_inline(text *t, const weft_expr *e, const weft_node *n)
{
    switch (n->kind) {
    case NODE_LITERAL:
        put(t, "((%s)(", vtype(t, n->type).s);
        gen_literal(t, n);
        put(t, "))");
        return 1;
    case NODE_ARRAY: /* loaded once per group, in the binding's dtype */
        put(t, "convert_%s(v%d)", vtype(t, n->type).s, n->slot);
        return 1;
    case NODE_SCALAR: /* the scalar conversion, then a broadcast */
        put(t, "((%s)((%s)s%d))", vtype(t, n->type).s, ctype(n->type), n->slot);
        return 1;
    case NODE_CONVERT:
        vgen_convert(t, e, n);
        return 1;
    case NODE_BINARY:
        vgen_binary(t, e, n);
        return 1;
    case NODE_SELECT:
        vgen_select(t, e, n);
        return 1;
    case NODE_UNARY:
        vgen_unary(t, e, n);
        return 1;
    default: /* temporaries, the index and calls read the same in both */
        return 0;
    }
}

static void gen_inline(text *t, const weft_expr *e, const weft_node *n)
{
    if (t->width > 1 && vgen_inline(t, e, n)) return;
    switch (n->kind) {
    case NODE_LITERAL:
        gen_literal(t, n);
        return;
    case NODE_ARRAY:
        put(t, "((%s)a%d[j])", ctype(n->type), n->slot);
        return;
    case NODE_SCALAR:
        put(t, "((%s)s%d)", ctype(n->type), n->slot);
        return;
    case NODE_TEMP:
        put(t, "t%d", n->slot);
        return;
    case NODE_INDEX:
        put(t, "i");
        return;
    case NODE_CONVERT:
        gen_convert(t, e, n);
        return;
    case NODE_BINARY:
        gen_binary(t, e, n);
        return;
    case NODE_CALL:
        gen_call(t, e, n);
        return;
    case NODE_SELECT:
        gen_between(t, e, n, (const char *const[]){"((", ") != 0 ? (", ") : (", "))"});
        return;
    case NODE_UNARY:
        if (n->op == OP_NOT) {
            put(t, "((int)((");
            gen(t, e, n->kid[0]);
            put(t, ") == 0))");
        } else if (weft_dtype_is_float(n->type)) {
            put(t, "(-(");
            gen(t, e, n->kid[0]);
            put(t, "))");
        } else if (n->op == OP_NEG) { /* in the unsigned twin: -MIN wraps to MIN */
            put(t, "((%s)((%s)0 - (%s)(", ctype(n->type), utype(n->type), utype(n->type));
            gen(t, e, n->kid[0]);
            put(t, ")))");
        } else {
            put(t, "((%s)~(%s)(", ctype(n->type), utype(n->type));
            gen(t, e, n->kid[0]);
            put(t, "))");
        }
        return;
    }
}

static void gen(text *t, const weft_expr *e, const weft_node *n)
{
    if (t->hoisted && t->hoisted[n - t->nodes])
        put(t, "h%td", n - t->nodes);
    else
        gen_inline(t, e, n);
}

/* Deep trees (a chain of a thousand additions) would nest parentheses beyond
 * what OpenCL compilers accept (clang: 256), so every HOIST_HEIGHT levels a
 * subtree becomes a declaration of its own. Returns n's height above the
 * nearest hoisted node. */
enum { HOIST_HEIGHT = 16 };

static int mark_hoists(text *t, const weft_node *n)
{
    int height = 0;
    for (int k = 0; k < n->nkids; k++) {
        int h = mark_hoists(t, n->kid[k]);
        if (h > height) height = h;
    }
    if (++height < HOIST_HEIGHT || n->nkids == 0) return height;
    t->hoisted[n - t->nodes] = 1;
    return 1;
}

/* Declarations of n's hoisted subtrees, innermost first. */
static void gen_hoists(text *t, const weft_expr *e, const weft_node *n)
{
    if (!t->hoisted) return;
    for (int k = 0; k < n->nkids; k++)
        gen_hoists(t, e, n->kid[k]);
    if (!t->hoisted[n - t->nodes]) return;
    put(t, "        const %s h%td = ", vtype(t, n->type).s, n - t->nodes);
    gen_inline(t, e, n);
    put(t, ";\n");
}

/* Sets up hoisting for e's trees (no hoisting when memory is short: only
 * very deep trees need it). */
static void plan_hoists(text *t, const weft_expr *e)
{
    t->nodes = e->nodes;
    t->hoisted = calloc(e->nnodes + 1, 1);
    if (!t->hoisted) return;
    for (size_t s = 0; s < e->nstatements; s++)
        mark_hoists(t, e->statements[s].value);
    if (e->result) mark_hoists(t, e->result);
}

/* The value of a top-level tree, its hoisted subtrees declared first. */
static void gen_value(text *t, const weft_expr *e, const weft_node *n, const char *declare)
{
    gen_hoists(t, e, n);
    put(t, "%s", declare);
    gen(t, e, n);
    put(t, ";\n");
}

static void gen_params(text *t, const weft_expr *e)
{
    put(t, "const ulong n, const ulong base");
    for (size_t b = 0; b < e->nbindings; b++) {
        const weft_expr_binding *bind = &e->bindings[b];
        if (bind->is_array)
            put(t, ", __global %s%s *a%zu", e->writes[b] ? "" : "const ", ctype(bind->dtype), b);
        else
            put(t, ", const %s s%zu", ctype(bind->dtype), b);
    }
}

static void gen_statements(text *t, const weft_expr *e)
{
    if (t->width > 1) {
        put(t, "        const long%d i = (long)(base + j) + (long%d)(0", t->width, t->width);
        for (int k = 1; k < t->width; k++)
            put(t, ", %d", k);
        put(t, ");\n        (void)i;\n");
    } else {
        put(t, "        const long i = (long)(base + j);\n        (void)i;\n");
    }
    for (size_t s = 0; s < e->nstatements; s++) {
        char declare[64];
        snprintf(declare, sizeof declare,
                 "        const %s t%zu = ", vtype(t, e->statements[s].value->type).s, s);
        gen_value(t, e, e->statements[s].value, declare);
    }
}

static void gen_stores(text *t, const weft_expr *e)
{
    for (size_t s = 0; s < e->nstatements; s++) {
        int target = e->statements[s].target;
        if (target < 0) continue;
        int last = 1;
        for (size_t later = s + 1; later < e->nstatements; later++)
            if (e->statements[later].target == target) last = 0;
        if (!last) continue;
        if (t->width > 1) {
            type_name vt = vtype(t, e->bindings[target].dtype);
            put(t,
                "        if (valid == %d) vstore%d(convert_%s(t%zu), 0, a%d + j);\n"
                "        else w_store_tail_%s(convert_%s(t%zu), a%d + j, valid);\n",
                t->width, t->width, vt.s, s, target, vt.s, vt.s, s, target);
        } else {
            put(t, "        a%d[j] = (%s)t%zu;\n", target, ctype(e->bindings[target].dtype), s);
        }
    }
}

/* Each array the program reads, loaded once per group of t->width elements
 * (a short group at the end of a chunk is padded with zeros). */
static void gen_vector_loads(text *t, const weft_expr *e)
{
    put(t, "        const uint valid = (uint)min((ulong)%d, end - j);\n", t->width);
    for (size_t b = 0; b < e->nbindings; b++) {
        if (!e->bindings[b].is_array || !e->reads[b]) continue;
        type_name vt = vtype(t, e->bindings[b].dtype);
        put(t,
            "        const %s v%zu = valid == %d ? vload%d(0, a%zu + j) : w_load_tail_%s(a%zu + j, "
            "valid);\n",
            vt.s, b, t->width, t->width, b, vt.s, b);
    }
}

/* Vector twins of the helpers, lane by lane through the scalar ones, and
 * loads and stores of a short group. */
static const char vector_prelude[] =
    "#define W_VEC1(F, T, N) inline T##N F##_##T##N(T##N a) { T x[N], r[N];           \\\n"
    "  vstore##N(a, 0, x); for (int k = 0; k < N; k++) r[k] = F##_##T(x[k]);           \\\n"
    "  return vload##N(0, r); }\n"
    "#define W_VEC2(F, T, N) inline T##N F##_##T##N(T##N a, T##N b) { T x[N], y[N], r[N]; \\\n"
    "  vstore##N(a, 0, x); vstore##N(b, 0, y);                                          \\\n"
    "  for (int k = 0; k < N; k++) r[k] = F##_##T(x[k], y[k]); return vload##N(0, r); }\n"
    "#define W_VEC3(F, T, N) inline T##N F##_##T##N(T##N a, T##N b, T##N c) {          \\\n"
    "  T x[N], y[N], z[N], r[N]; vstore##N(a, 0, x); vstore##N(b, 0, y); vstore##N(c, 0, z); \\\n"
    "  for (int k = 0; k < N; k++) r[k] = F##_##T(x[k], y[k], z[k]); return vload##N(0, r); }\n"
    "#define W_VEC_INT(T, N) W_VEC2(w_div, T, N) W_VEC2(w_mod, T, N) W_VEC1(w_abs, T, N) \\\n"
    "  W_VEC2(w_min, T, N) W_VEC2(w_max, T, N) W_VEC3(w_clamp, T, N)\n"
    "#define W_TAIL(T, N)                                                              \\\n"
    "  inline T##N w_load_tail_##T##N(__global const T *p, uint valid) { T x[N];       \\\n"
    "    for (uint k = 0; k < N; k++) x[k] = k < valid ? p[k] : (T)0; return vload##N(0, x); } \\\n"
    "  inline void w_store_tail_##T##N(T##N v, __global T *p, uint valid) { T x[N];    \\\n"
    "    vstore##N(v, 0, x); for (uint k = 0; k < valid; k++) p[k] = x[k]; }\n";

static void gen_vector_helpers(text *t)
{
    static const char *const ints[] = {"int", "uint", "long", "ulong"};
    static const char *const all[] = {"float", "int", "uint", "long", "ulong", "uchar"};
    put(t, "%s", vector_prelude);
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++)
        put(t, "W_VEC_INT(%s, %d)\n", ints[k], t->width);
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        put(t, "W_TAIL(%s, %d)\n", all[k], t->width);
    put(t, "W_VEC2(w_fmin, float, %d) W_VEC2(w_fmax, float, %d)\n", t->width, t->width);
    put(t,
        "#ifdef cl_khr_fp64\nW_TAIL(double, %d) W_VEC2(w_fmin, double, %d) "
        "W_VEC2(w_fmax, double, %d)\n#endif\n",
        t->width, t->width, t->width);
}

/* float8 where every value has 32 bits or fewer (one AVX2 register), else
 * double4. */
static int vector_width(const weft_expr *e)
{
    for (size_t k = 0; k < e->nnodes; k++)
        if (bits(e->nodes[k].type) == 64) return 4;
    return 8;
}

static weft_status finish(text *t, char **source)
{
    free(t->hoisted);
    if (t->failed) free(t->data);
    RETURN_IF(t->failed, WEFT_ERR_NOMEM, "cannot generate the kernel source");
    *source = t->data;
    return WEFT_OK;
}

weft_status weft_codegen_map(const weft_expr *e, char **source)
{
    text t = {0};
    plan_hoists(&t, e);
    int width = vector_width(e);
    t.width = width;
    put(&t, "%s\n#if MAP_VECTOR\n", prelude);
    gen_vector_helpers(&t);
    t.width = 1;
    put(&t, "#endif\n__kernel void weft_map(");
    gen_params(&t, e);
    put(&t,
        ")\n{\n"
        "    const ulong begin = (ulong)get_global_id(0) * MAP_ITEMS;\n"
        "    const ulong end = min(begin + (ulong)MAP_ITEMS, n);\n"
        "#if MAP_VECTOR\n"
        "    for (ulong j = begin; j < end; j += %d) {\n",
        width);
    t.width = width;
    gen_vector_loads(&t, e);
    gen_statements(&t, e);
    gen_stores(&t, e);
    t.width = 1;
    put(&t, "    }\n#else\n"
            "    for (ulong j = begin; j < end; j++) {\n");
    gen_statements(&t, e);
    gen_stores(&t, e);
    put(&t, "    }\n#endif\n}\n");
    return finish(&t, source);
}

/* The knobs of kernels/reduce.cl for one reduction (its header says what
 * each means). */
static void put_reduce_knobs(text *t, weft_dtype rt, weft_reduce_op op, int gpu)
{
    int is_float = weft_dtype_is_float(rt);
    int kind = (op == WEFT_SUM && is_float) || op == WEFT_PROD ? 0
               : op == WEFT_SUM                                ? 1
               : op == WEFT_ANY || op == WEFT_ALL              ? 2
                                                               : 3;
    put(t,
        "#define REDUCE_T %s\n#define REDUCE_FLOAT %d\n#define REDUCE_DOUBLE %d\n"
        "#define REDUCE_SIGNED %d\n#define REDUCE_KIND %d\n#define REDUCE_PROD %d\n"
        "#define REDUCE_ALL %d\n#define REDUCE_LESS %d\n#define REDUCE_GPU %d\n",
        ctype(rt), is_float, rt == WEFT_F64, weft_dtype_is_signed(rt), kind, op == WEFT_PROD,
        op == WEFT_ALL, op == WEFT_MIN || op == WEFT_ARGMIN, gpu != 0);
}

/* REDUCE_ELEMENT: the statements that compute element j's value v, as one
 * macro (each line continued). */
static void put_reduce_element(text *t, const weft_expr *e)
{
    text element = {.nodes = t->nodes, .hoisted = t->hoisted, .width = 1};
    char declare_v[32];
    snprintf(declare_v, sizeof declare_v, "        const %s v = ", ctype(e->result->type));
    gen_statements(&element, e);
    gen_value(&element, e, e->result, declare_v);
    if (element.failed) {
        t->failed = 1;
    } else {
        put(t, "#define REDUCE_ELEMENT \\\n");
        for (char *line = element.data, *nl; (nl = strchr(line, '\n')); line = nl + 1)
            put(t, "%.*s%s\n", (int)(nl - line), line, nl[1] ? " \\" : "");
    }
    free(element.data);
}

/* How each reduction accumulates a block (kernels/reduce.cl, one skeleton for
 * both variants); the host mirrors it in ops/reduce.c. */
weft_status weft_codegen_reduce(const weft_expr *e, weft_reduce_op op, int gpu, char **source)
{
    text t = {0};
    plan_hoists(&t, e);
    put(&t, "%s\n", prelude);
    put_reduce_knobs(&t, e->result->type, op, gpu);
    put(&t, "#define REDUCE_PARAMS ");
    gen_params(&t, e);
    put(&t, "\n");
    put_reduce_element(&t, e);
    put(&t, "%s", weft_kernel_reduce);
    return finish(&t, source);
}
