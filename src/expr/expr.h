/* The expression language: parsed and type-checked once into a tree, which
 * two back ends compile: OpenCL C (codegen_cl.c) and a block bytecode that the
 * host pool runs (vm.c). Specified in docs/expressions.md. */
#ifndef WEFT_EXPR_H
#define WEFT_EXPR_H

#include "weft.h"

#include <stdint.h>

#define WEFT_EXPR_MAX_TEXT 65536
#define WEFT_EXPR_MAX_BINDINGS 32

/* What a name in the text is bound to. */
typedef struct weft_expr_binding {
    const char *name;
    int is_array;
    weft_dtype dtype;
} weft_expr_binding;

enum weft_node_kind {
    NODE_LITERAL,
    NODE_ARRAY,  /* load binding `slot` (an array input) */
    NODE_SCALAR, /* binding `slot` (a scalar) */
    NODE_TEMP,   /* value of statement `slot` */
    NODE_INDEX,  /* the element index i */
    NODE_UNARY,
    NODE_BINARY,
    NODE_SELECT, /* c ? a : b */
    NODE_CALL,
    NODE_CONVERT
};

/* Operators, named by what they do; tokens map onto them in parse.c. */
enum weft_operator {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND,
    OP_OR,
    OP_BITAND,
    OP_BITOR,
    OP_BITXOR,
    OP_SHL,
    OP_SHR,
    OP_NEG,
    OP_NOT,
    OP_BITNOT
};

/* Built-in functions, by name (parse.c holds the table). */
enum weft_fn {
    FN_SQRT,
    FN_RSQRT,
    FN_CBRT,
    FN_EXP,
    FN_EXP2,
    FN_EXPM1,
    FN_LOG,
    FN_LOG2,
    FN_LOG10,
    FN_LOG1P,
    FN_SIN,
    FN_COS,
    FN_TAN,
    FN_ASIN,
    FN_ACOS,
    FN_ATAN,
    FN_SINH,
    FN_COSH,
    FN_TANH,
    FN_ERF,
    FN_ERFC,
    FN_FABS,
    FN_FLOOR,
    FN_CEIL,
    FN_ROUND,
    FN_TRUNC,
    FN_POW,
    FN_ATAN2,
    FN_HYPOT,
    FN_FMOD,
    FN_FMIN,
    FN_FMAX,
    FN_COPYSIGN,
    FN_FMA,
    FN_CLAMP,
    FN_ABS,
    FN_MIN,
    FN_MAX,
    FN_COUNT
};

typedef struct weft_node {
    enum weft_node_kind kind;
    int op;          /* weft_operator or weft_fn */
    weft_dtype type; /* of the value: f32 f64 i32 u32 i64 u64 (u8 only inside loads) */
    int weak;        /* a literal that still adapts to its neighbour's type */
    int slot;        /* binding or statement index */
    int column;      /* 1-based, for errors */
    int nkids;
    struct weft_node *kid[3];
    union {
        double f;
        int64_t i;
        uint64_t u;
    } lit; /* LITERAL, already of `type` */
} weft_node;

typedef struct weft_statement {
    int target;          /* binding index of an output array, or -1 for a temporary */
    weft_node *value;    /* converted to the target's dtype when it is an output */
    int column;          /* 1-based column of the name assigned, for errors */
    weft_dtype computed; /* the value's type before that conversion */
} weft_statement;

typedef struct weft_expr {
    char *text;
    weft_expr_binding *bindings;
    size_t nbindings;
    weft_statement *statements;
    size_t nstatements;
    weft_node *result; /* reduce mode: the value reduced; NULL in map mode */
    weft_node *nodes;  /* arena */
    size_t nnodes, node_capacity;
    unsigned char *reads;  /* per binding: an array the expression loads */
    unsigned char *writes; /* per binding: an array it stores (in reads' block) */
    struct weft_vm_program *vm;
    void *vm_names; /* names of temporaries (parse.c) */
} weft_expr;

/* MAP: statements with at least one output. REDUCE: statements, then the
 * expression reduced (no store to bound arrays). STATEMENTS: only checks and
 * types statements, names not bound being temporaries (the CSV planner types
 * new columns this way before they exist as arrays). */
enum weft_expr_mode { WEFT_EXPR_MAP, WEFT_EXPR_REDUCE, WEFT_EXPR_STATEMENTS };

/* Parses and type-checks. On failure returns WEFT_ERR_EXPR with a message,
 * the column and a caret line in weft_last_error(). */
weft_status weft_expr_compile(const char *text, const weft_expr_binding *bindings, size_t nbindings,
                              enum weft_expr_mode mode, weft_expr **out);
void weft_expr_free(weft_expr *e);
/* The two halves of weft_expr_compile (compile.c): the tree alone (no
 * bytecode), and freeing what the parser made. */
/* A scalar binding of this name (an i64) is where the element index i
 * starts: the first index of the piece of the data an operation runs on. */
#define WEFT_EXPR_INDEX_BASE "weft.index_base"
/* 1 when text may use the element index i (a word "i" outside comments):
 * only then need a caller bind WEFT_EXPR_INDEX_BASE. Exported from libweft
 * for weft::mpi; not public API. */
WEFT_API int weft_expr_text_uses_index(const char *text);

weft_status weft_expr_parse(const char *text, const weft_expr_binding *bindings, size_t nbindings,
                            enum weft_expr_mode mode, weft_expr **out);
void weft_expr_free_tree(weft_expr *e);
/* The error of weft_expr_fail_at, for a position in text. */
weft_status weft_expr_error_at(const char *text, size_t pos, const char *message);
/* Its text, "message at column N", the line and a caret, into out (cut to
 * size), for callers that show an error in other words (the CSV pipeline
 * points it at what the user wrote). */
void weft_expr_format_at(const char *text, size_t pos, const char *message, char *out, size_t size);
/* Names are identifiers (under 64 characters), bound once; dtypes valid.
 * WEFT_ERR_INVALID_ARG (or WEFT_ERR_DTYPE) naming the binding otherwise. */
weft_status weft_expr_check_bindings(const weft_expr_binding *bindings, size_t nbindings);
/* WEFT_ERR_EXPR "message at column N" with the line and a caret, for errors
 * found after parsing (node columns). */
weft_status weft_expr_fail_at(const weft_expr *e, int column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The name statement s assigns (an output's binding, or a temporary). */
const char *weft_expr_statement_name(const weft_expr *e, size_t s);

int weft_dtype_is_float(weft_dtype t);
int weft_dtype_is_signed(weft_dtype t);
/* 64-bit integers to f32 with one rounding (to nearest even), in integer
 * arithmetic: what C's conversion does, on every platform and emulator. */
float weft_i64_to_f32(int64_t i);
float weft_u64_to_f32(uint64_t u);
/* C's usual arithmetic conversions of two (promoted) types. */
weft_dtype weft_dtype_common(weft_dtype a, weft_dtype b);
const char *weft_fn_name(enum weft_fn fn);

#endif
