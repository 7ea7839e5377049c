/* What a job does to each window: which columns are parsed, which the
 * statements compute, what is reduced, and which columns are written. */
#ifndef WEFT_CSV_PLAN_H
#define WEFT_CSV_PLAN_H

#include "../expr/expr.h"
#include "bigbuf.h"
#include "columns.h"
#include "names.h"

/* A numeric column of the window: parsed from the file or computed. */
typedef struct csv_var {
    char *name;    /* the name the expressions bind: an identifier */
    char *label;   /* the column's name when it is not one (`1960`); else NULL */
    int input_col; /* column of the file, or -1 for a new column */
    int written;   /* the statements assign it */
    int replaced;  /* a file column the statements assign before any read: typed by its
                      first window, never parsed after it */
    int retyped;   /* replaced without a --type: the statement's type */
    int typed;     /* dtype is settled (a --type, or the first window) */
    int inferred;  /* by the first window: a later misfit gets the advice to type it */
    weft_dtype dtype;
    unsigned char *data; /* rows * 8 bytes in `storage`, aligned for weft_array_wrap */
    csv_bigbuf storage;
    csv_bigbuf other;  /* the storage of the other window in flight (csv_plan_swap) */
    weft_array *array; /* wraps data during a window */
} csv_var;

/* An output column: a file column copied byte for byte, or a var formatted. */
typedef struct csv_out_col {
    int input_col; /* -1 for a new column */
    int var;       /* >= 0: formatted from vars[var] */
} csv_out_col;

typedef struct csv_reduce_state {
    weft_reduce_op op;
    char *expr;       /* with backquoted names replaced */
    const char *text; /* as the user wrote it (the job's), for messages */
    int vars[WEFT_EXPR_MAX_BINDINGS];
    size_t nvars;
    int blocks; /* blocks combined so far */
    weft_scalar acc;
} csv_reduce_state;

/* weft_last_error() into buf, without the "WEFT_ERR_...: " of status st:
 * the status is said once, by the message that quotes it. */
const char *csv_error_detail(weft_status st, char *buf, size_t size);
/* "sum", "argmax" ...: the names --reduce takes. */
const char *csv_reduce_op_name(weft_reduce_op op);

typedef struct csv_plan {
    csv_var vars[WEFT_EXPR_MAX_BINDINGS];
    size_t nvars;
    csv_names names;   /* backquoted column names in the statements */
    char **statements; /* the job's statements, then its reductions' expressions,
                          with backquoted names replaced by identifiers */
    size_t ntexts;
    char *program; /* the statements, one per line; NULL when none */
    csv_reduce_state *reductions;
    size_t nreductions;
    csv_out_col *out;
    size_t nout;
    int fast_copy; /* out = the file's columns in order, then new ones: copy rows whole */
    /* The output's dialect: with `rewrite`, every field is unquoted and quoted
     * again as `quoting` says, and the header is written from the names. */
    char out_delim;
    int quoting; /* a weft_csv_quoting */
    int rewrite;
    int crlf;
} csv_plan;

/* Before the first window: the file columns that statements and reductions read. */
weft_status csv_plan_inputs(csv_plan *p, const csv_reader *r, const weft_csv_job *job,
                            const char *types);
/* After the first window typed the inputs: new columns, their dtypes, the output. */
weft_status csv_plan_outputs(csv_plan *p, const csv_reader *r, const weft_csv_job *job);
/* One var per file column (any number of them), typed by types as the
 * pipeline types them, for the window reader; freed by csv_columns_free. */
weft_status csv_columns_all(const csv_reader *r, const char *types, csv_var **vars);
void csv_columns_free(csv_var *vars, size_t n);
void csv_plan_free(csv_plan *p);
/* Room for `rows` values in var->data. */
weft_status csv_var_reserve(csv_var *v, size_t rows);
/* Every var's storage and `other` trade places: the pipeline parses one
 * window while the statements run on the other. */
void csv_plan_swap(csv_plan *p);
/* Var of that (bound) name, or -1. */
int csv_plan_var(const csv_plan *p, const char *name);
/* The name an output column has in the header. */
const char *csv_out_name(const csv_plan *p, const csv_reader *r, const csv_out_col *o);

#endif
