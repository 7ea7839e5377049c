/* Planning a job over a file's columns: names in the expressions decide
 * which columns are parsed; the expression compiler types the new ones. */
#include "../core/error.h"
#include "plan.h"
#include "show.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int csv_plan_var(const csv_plan *p, const char *name)
{
    for (size_t v = 0; v < p->nvars; v++)
        if (strcmp(p->vars[v].name, name) == 0) return (int)v;
    return -1;
}

static weft_status add_var(csv_plan *p, const char *name, size_t len, int input_col)
{
    RETURN_IF(p->nvars == WEFT_EXPR_MAX_BINDINGS, WEFT_ERR_INVALID_ARG,
              "csv: the job uses more than %d numeric columns", WEFT_EXPR_MAX_BINDINGS);
    csv_var *v = &p->vars[p->nvars];
    memset(v, 0, sizeof *v);
    v->name = strndup(name, len);
    RETURN_IF(!v->name, WEFT_ERR_NOMEM, "csv: out of memory");
    const char *label = csv_names_column(&p->names, name, len);
    v->label = label ? strdup(label) : NULL;
    if (label && !v->label) {
        free(v->name);
        return weft_error_set(WEFT_ERR_NOMEM, "csv: out of memory");
    }
    v->input_col = input_col;
    v->dtype = WEFT_F64;
    p->nvars++;
    return WEFT_OK;
}

/* Calls fn for each identifier of an expression text (comments skipped). */
typedef weft_status (*ident_fn)(void *ctx, const char *name, size_t len);
static weft_status each_identifier(const char *text, ident_fn fn, void *ctx)
{
    const char *s = text;
    while (*s) {
        if (*s == '#') {
            while (*s && *s != '\n')
                s++;
            continue;
        }
        if (isalpha((unsigned char)*s) || *s == '_') {
            const char *b = s;
            while (isalnum((unsigned char)*s) || *s == '_')
                s++;
            RETURN_ON_ERROR(fn(ctx, b, (size_t)(s - b)));
            continue;
        }
        if (isdigit((unsigned char)*s) || *s == '.') { /* 1e5, 0x1f, 2.5f: not names */
            while (isalnum((unsigned char)*s) || *s == '.')
                s++;
            continue;
        }
        s++;
    }
    return WEFT_OK;
}

typedef struct ident_ctx {
    csv_plan *p;
    const csv_reader *r;
    int *vars; /* reduction: the vars it reads */
    size_t *nvars;
} ident_ctx;

static int names_column(const char *n, const char *label, const char *name, size_t len)
{
    return label ? strcmp(n, label) == 0 : strlen(n) == len && memcmp(n, name, len) == 0;
}

/* A name the header gives twice cannot say which column it means. */
static weft_status check_named_once(const csv_reader *r, size_t col, const char *label,
                                    const char *name, size_t len)
{
    for (size_t other = col + 1; other < r->ncols; other++)
        RETURN_IF(names_column(r->names[other], label, name, len), WEFT_ERR_INVALID_ARG,
                  "csv: column \"%s\" is in the header twice (fields %zu and %zu): the job "
                  "cannot tell which it means; rename one",
                  r->names[col], col + 1, other + 1);
    return WEFT_OK;
}

static weft_status input_ident(void *arg, const char *name, size_t len)
{
    ident_ctx *c = arg;
    const char *label = csv_names_column(&c->p->names, name, len);
    for (size_t col = 0; col < c->r->ncols; col++) {
        if (!names_column(c->r->names[col], label, name, len)) continue;
        RETURN_ON_ERROR(check_named_once(c->r, col, label, name, len));
        for (size_t v = 0; v < c->p->nvars; v++)
            if (c->p->vars[v].input_col == (int)col) return WEFT_OK;
        return add_var(c->p, name, len, (int)col);
    }
    return WEFT_OK;
}

static weft_status reduce_ident(void *arg, const char *name, size_t len)
{
    ident_ctx *c = arg;
    for (size_t v = 0; v < c->p->nvars; v++) {
        const char *n = c->p->vars[v].name;
        if (strlen(n) != len || memcmp(n, name, len) != 0) continue;
        for (size_t k = 0; k < *c->nvars; k++)
            if (c->vars[k] == (int)v) return WEFT_OK;
        c->vars[(*c->nvars)++] = (int)v;
    }
    return WEFT_OK;
}

/* A name select, drop or types gives that the file lacks (NULL: a NULL
 * entry), with the header shown as it is. */
static weft_status no_column(const csv_reader *r, const char *what, const char *name)
{
    char shown[512], header[1024];
    csv_show_bytes(name ? name : "(null)", name ? strlen(name) : 6, shown, sizeof shown);
    csv_show_header(r, "; ", header, sizeof header);
    return weft_error_set(WEFT_ERR_INVALID_ARG, "csv: %s: no column named \"%s\"%s", what, shown,
                          header);
}

/* The name of the types item at s: backquoted (`Avg TP, $`, which may hold
 * commas and '='), or up to its '='; *after: its '='. */
static weft_status type_item_name(const char *types, const char *s, const char **name, size_t *nlen,
                                  const char **after)
{
    if (*s == '`') { /* `` inside is one backquote, as in expressions */
        const char *close = s + 1;
        while (*close && !(close[0] == '`' && close[1] != '`'))
            close += close[0] == '`' ? 2 : 1;
        RETURN_IF(!*close || close[1] != '=', WEFT_ERR_INVALID_ARG,
                  "csv: types \"%s\": a backquoted name is closed by a backquote and then "
                  "=DTYPE (`Avg TP, $`=f64)",
                  types);
        *name = s + 1;
        *nlen = (size_t)(close - s - 1);
        *after = close + 1;
        return WEFT_OK;
    }
    const char *eq = strchr(s, '='), *comma = strchr(s, ',');
    RETURN_IF(comma == s, WEFT_ERR_INVALID_ARG, "csv: types \"%s\": an empty item", types);
    RETURN_IF(!eq || (comma && comma < eq), WEFT_ERR_INVALID_ARG,
              "csv: types \"%s\": \"%.*s\" is no NAME=DTYPE (a name holding a comma or '=' "
              "goes in backquotes: `Avg TP, $`=f64)",
              types, (int)(comma ? comma - s : (long)strlen(s)), s);
    *name = s;
    *nlen = (size_t)(eq - s);
    *after = eq;
    return WEFT_OK;
}

/* 1 when header name `column` is the types item's name[0, len), its
 * doubled backquotes read as one where the name was backquoted. */
static int types_name_is(const char *column, const char *name, size_t len, int backquoted)
{
    size_t i = 0;
    for (; i < len; i++, column++) {
        if (*column != name[i]) return 0;
        if (backquoted && name[i] == '`') i++; /* `` is one */
    }
    return *column == '\0';
}

/* 1 when an item of types before the one at `at` names column col. */
static int typed_before(const char *types, const char *at, size_t col, const csv_reader *r)
{
    for (const char *t = types; t < at;) {
        const char *name = t, *eq = t;
        size_t nlen = 0;
        if (type_item_name(types, t, &name, &nlen, &eq) != WEFT_OK) return 0;
        if (types_name_is(r->names[col], name, nlen, *t == '`')) return 1;
        const char *end = strchr(eq, ',');
        if (!end) return 0;
        t = end + 1;
    }
    return 0;
}

/* Sets the dtype of each var of a column that types names ("x=i64,y=f64",
 * "`a, b`=f64"); a column named twice is an error, as in select and drop. */
static weft_status apply_types_to(csv_var *vars, size_t nvars, const csv_reader *r,
                                  const char *types)
{
    const char *s = types;
    while (s && *s) {
        const char *name = s, *eq = s;
        size_t nlen = 0;
        RETURN_ON_ERROR(type_item_name(types, s, &name, &nlen, &eq));
        const char *end = strchr(eq, ',');
        if (!end) end = eq + strlen(eq);
        size_t dlen = (size_t)(end - eq - 1);
        weft_dtype dt;
        if (dlen == 3 && memcmp(eq + 1, "i64", 3) == 0)
            dt = WEFT_I64;
        else if (dlen == 3 && memcmp(eq + 1, "f64", 3) == 0)
            dt = WEFT_F64;
        else
            return weft_error_set(WEFT_ERR_DTYPE, "csv: types: \"%.*s\" is not i64 or f64",
                                  (int)dlen, eq + 1);
        int col = -1;
        for (size_t c = 0; c < r->ncols; c++) {
            if (!types_name_is(r->names[c], name, nlen, *s == '`')) continue;
            RETURN_IF(col >= 0, WEFT_ERR_INVALID_ARG,
                      "csv: types: column \"%.*s\" is in the header twice (fields %d and %zu): "
                      "the job cannot tell which it means; rename one",
                      (int)nlen, name, col + 1, c + 1);
            col = (int)c;
        }
        if (col < 0) {
            char shown[512];
            snprintf(shown, sizeof shown, "%.*s", (int)nlen, name);
            return no_column(r, "types", shown);
        }
        RETURN_IF(typed_before(types, s, (size_t)col, r), WEFT_ERR_INVALID_ARG,
                  "csv: types: \"%.*s\" is typed twice", (int)nlen, name);
        for (size_t v = 0; v < nvars; v++)
            if (vars[v].input_col == col) {
                vars[v].dtype = dt;
                vars[v].typed = 1;
            }
        s = *end ? end + 1 : end;
    }
    return WEFT_OK;
}

static weft_status apply_types(csv_plan *p, const csv_reader *r, const char *types)
{
    return apply_types_to(p->vars, p->nvars, r, types);
}

weft_status csv_columns_all(const csv_reader *r, const char *types, csv_var **vars)
{
    *vars = calloc(r->ncols ? r->ncols : 1, sizeof **vars);
    RETURN_IF(!*vars, WEFT_ERR_NOMEM, "csv: out of memory");
    for (size_t c = 0; c < r->ncols; c++) {
        (*vars)[c].input_col = (int)c;
        (*vars)[c].dtype = WEFT_F64;
    }
    return apply_types_to(*vars, r->ncols, r, types);
}

void csv_columns_free(csv_var *vars, size_t n)
{
    for (size_t v = 0; vars && v < n; v++) {
        csv_bigbuf_free(&vars[v].storage);
        csv_bigbuf_free(&vars[v].other);
        weft_array_free(vars[v].array);
    }
    free(vars);
}

/* The statements and reduction expressions, rewritten once for the job. */
static weft_status rewrite_job(csv_plan *p, const csv_reader *r, const weft_csv_job *job)
{
    size_t n = job->nstatements + job->nreductions;
    p->statements = calloc(n ? n : 1, sizeof *p->statements);
    RETURN_IF(!p->statements, WEFT_ERR_NOMEM, "csv: out of memory");
    p->ntexts = n;
    for (size_t s = 0; s < job->nstatements; s++) {
        RETURN_IF(!job->statements[s], WEFT_ERR_NULL, "csv: statement %zu is NULL", s);
        RETURN_ON_ERROR(csv_names_rewrite(&p->names, r, job->statements[s], &p->statements[s]));
    }
    for (size_t k = 0; k < job->nreductions; k++) {
        RETURN_IF(!job->reductions[k].expr, WEFT_ERR_NULL, "csv: reduction %zu has no expression",
                  k);
        RETURN_ON_ERROR(csv_names_rewrite(&p->names, r, job->reductions[k].expr,
                                          &p->statements[job->nstatements + k]));
    }
    return WEFT_OK;
}

/* The statements as one map program (p->program), made once. */
/* The statements as one program, a line (or more) each; NULL without memory. */
static char *join_lines(const char *const *statements, size_t n)
{
    size_t len = 1;
    for (size_t s = 0; s < n; s++)
        len += strlen(statements[s]) + 1;
    char *joined = malloc(len), *w = joined;
    if (!joined) return NULL;
    *w = 0;
    for (size_t s = 0; s < n; s++)
        w += sprintf(w, "%s\n", statements[s]);
    return joined;
}

static weft_status join_statements(csv_plan *p, const weft_csv_job *job)
{
    if (p->program) return WEFT_OK;
    p->program = join_lines((const char *const *)p->statements, job->nstatements);
    RETURN_IF(!p->program, WEFT_ERR_NOMEM, "csv: out of memory");
    return WEFT_OK;
}

/* File columns the statements assign before they (or a reduction) read them:
 * their fields are looked at only to type them from the first window (a
 * numeric column keeps its dtype, a --type holds), never parsed after; a
 * text column can be replaced by numbers and takes the statement's type. */
static void find_replaced(csv_plan *p, const weft_csv_job *job)
{
    /* Without memory for the program they are parsed, as before; the real
     * compile reports it. */
    if (job->nstatements == 0 || join_statements(p, job) != WEFT_OK) return;
    weft_expr_binding b[WEFT_EXPR_MAX_BINDINGS];
    for (size_t v = 0; v < p->nvars; v++)
        b[v] = (weft_expr_binding){p->vars[v].name, 1, WEFT_F64};
    weft_expr *e = NULL;
    /* A job that does not compile is reported by the real compile later. */
    if (weft_expr_compile(p->program, b, p->nvars, WEFT_EXPR_STATEMENTS, &e) == WEFT_OK) {
        /* Reductions read after the statements: a replaced column's new values. */
        for (size_t v = 0; v < p->nvars; v++)
            p->vars[v].replaced = p->vars[v].input_col >= 0 && e->writes[v] && !e->reads[v];
    }
    weft_expr_free(e);
}

weft_status csv_plan_inputs(csv_plan *p, const csv_reader *r, const weft_csv_job *job,
                            const char *types)
{
    memset(p, 0, sizeof *p);
    RETURN_ON_ERROR(rewrite_job(p, r, job));
    ident_ctx c = {p, r, NULL, NULL};
    for (size_t s = 0; s < job->nstatements; s++)
        RETURN_ON_ERROR(each_identifier(p->statements[s], input_ident, &c));
    for (size_t k = 0; k < job->nreductions; k++) {
        RETURN_IF((unsigned)job->reductions[k].op > WEFT_ALL, WEFT_ERR_INVALID_ARG,
                  "csv: reduction %zu: unknown operation %d", k, (int)job->reductions[k].op);
        RETURN_ON_ERROR(each_identifier(p->statements[job->nstatements + k], input_ident, &c));
    }
    find_replaced(p, job);
    return apply_types(p, r, types);
}

const char *csv_error_detail(weft_status st, char *buf, size_t size)
{
    snprintf(buf, size, "%s", weft_last_error());
    const char *status = weft_status_str(st);
    size_t status_len = strlen(status);
    if (strncmp(buf, status, status_len) == 0 && strncmp(buf + status_len, ": ", 2) == 0)
        return buf + status_len + 2;
    return buf;
}

/* The compiler's message, in the names the user wrote. */
static weft_status compile_error(const csv_plan *p, const csv_reader *r, weft_status st,
                                 const char *what, const char *text, const char *rewritten)
{
    char detail[1024], named[2048], header[1024] = "";
    const char *start = csv_error_detail(st, detail, sizeof detail);
    csv_names_point(&p->names, r, text, rewritten, start, named, sizeof named);
    /* A name the header lacks: show the header, invisible bytes and all. */
    if (strstr(named, "unknown name")) csv_show_header(r, "\n", header, sizeof header);
    return weft_error_set(st, "csv: %s: %s%s", what, named, header);
}

/* A column read and assigned keeps the dtype its first window gave it; a
 * fraction stored there would be cut off silently. */
static weft_status truncating_store(const csv_plan *p, size_t s, weft_dtype t, const csv_var *var)
{
    char detail[1024], named[2048];
    snprintf(detail, sizeof detail,
             "statement %zu stores %s values into column %s, which %s %s: they would be "
             "truncated; give it another type (types \"%s=f64\", weft csv --type '%s=f64'), or "
             "truncate on purpose with a cast: %s = (long)(...)",
             s + 1, weft_dtype_name(t), var->name,
             var->inferred ? "its first window typed" : "the types option makes",
             weft_dtype_name(var->dtype), var->name, var->name, var->name);
    csv_names_restore(&p->names, detail, named, sizeof named);
    return weft_error_set(WEFT_ERR_DTYPE, "csv: %s", named);
}

/* The statements are type-checked as one map program: names not bound yet
 * become temporaries, whose types are the new columns'. */
static weft_status type_new_columns(csv_plan *p, const csv_reader *r, const weft_csv_job *job)
{
    RETURN_ON_ERROR(join_statements(p, job));
    /* Replaced text columns are left unbound, so they take their statement's
     * type as new columns do; a replaced numeric one keeps its dtype. */
    weft_expr_binding b[WEFT_EXPR_MAX_BINDINGS];
    int var_of[WEFT_EXPR_MAX_BINDINGS];
    size_t nb = 0;
    for (size_t v = 0; v < p->nvars; v++)
        if (!p->vars[v].retyped) {
            var_of[nb] = (int)v;
            b[nb++] = (weft_expr_binding){p->vars[v].name, 1, p->vars[v].dtype};
        }
    weft_expr *e = NULL;
    weft_status st = weft_expr_compile(p->program, b, nb, WEFT_EXPR_STATEMENTS, &e);
    if (st != WEFT_OK) {
        char *text = join_lines(job->statements, job->nstatements); /* as the user wrote it */
        st = compile_error(p, r, st, "statements", text ? text : p->program, p->program);
        free(text);
        return st;
    }
    for (size_t s = 0; s < e->nstatements && st == WEFT_OK; s++) {
        int target = e->statements[s].target;
        if (target >= 0) {
            csv_var *var = &p->vars[var_of[target]];
            var->written = 1;
            /* A column read and assigned keeps the dtype its first window
             * or the types option gave it, and a replaced one typed by the
             * option takes that: a fraction stored in an integer column
             * would be cut off silently. */
            weft_dtype t = e->statements[s].computed;
            if (!weft_dtype_is_float(var->dtype) && weft_dtype_is_float(t))
                st = truncating_store(p, s, t, var);
            continue;
        }
        const char *name = weft_expr_statement_name(e, s);
        int v = csv_plan_var(p, name);
        if (v < 0) {
            st = add_var(p, name, strlen(name), -1);
            v = (int)p->nvars - 1;
        }
        if (st == WEFT_OK) {
            p->vars[v].dtype = e->statements[s].value->type;
            p->vars[v].typed = 1;
            p->vars[v].written = 1;
        }
    }
    weft_expr_free(e);
    return st;
}

const char *csv_out_name(const csv_plan *p, const csv_reader *r, const csv_out_col *o)
{
    if (o->input_col >= 0) return r->names[o->input_col];
    const csv_var *v = &p->vars[o->var];
    return v->label ? v->label : v->name;
}

static int find_out(const csv_plan *p, const csv_reader *r, const csv_out_col *cols, size_t n,
                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(csv_out_name(p, r, &cols[i]), name) == 0) return (int)i;
    return -1;
}

/* 1 when name is a column of the file or one the statements make. */
static int named_anywhere(const csv_plan *p, const csv_reader *r, const char *name)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (strcmp(r->names[c], name) == 0) return 1;
    return csv_plan_var(p, name) >= 0;
}

/* A name select or drop gives: one the header gives twice cannot say which
 * column it means (--drop a left the other "a" in the output). */
static weft_status check_out_once(const csv_plan *p, const csv_reader *r, const csv_out_col *cols,
                                  size_t n, const char *name, const char *what)
{
    int first = find_out(p, r, cols, n, name);
    for (size_t i = first >= 0 ? (size_t)first + 1 : n; i < n; i++)
        RETURN_IF(strcmp(csv_out_name(p, r, &cols[i]), name) == 0, WEFT_ERR_INVALID_ARG,
                  "csv: %s: column \"%s\" is in the header twice (fields %d and %d): the job "
                  "cannot tell which it means; rename one",
                  what, name, cols[first].input_col + 1, cols[i].input_col + 1);
    return WEFT_OK;
}

/* One run binds every numeric column it uses to one weft_map, and a
 * reduction's to one weft_reduce_expr: past WEFT_MAX_ARRAYS those refuse too,
 * but only at the first window and naming an internal binding, so the job is
 * refused here in the terms of its columns. */
static weft_status check_array_count(size_t n, const char *what)
{
    RETURN_IF(n > WEFT_MAX_ARRAYS, WEFT_ERR_INVALID_ARG,
              "csv: %s use %zu numeric columns; at most %d can take part in one run", what, n,
              WEFT_MAX_ARRAYS);
    return WEFT_OK;
}

/* A reduction is compiled only at the first window, with the columns it
 * reads bound: checked here first, so that a name the file lacks is reported
 * as such, in the user's words ("sum(total): unknown name"), rather than as
 * whatever weft_reduce_expr makes of the columns left (none: "no array"). */
const char *csv_reduce_op_name(weft_reduce_op op)
{
    static const char *const names[] = {"sum",    "prod",   "min", "max",
                                        "argmin", "argmax", "any", "all"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "reduce";
}

static weft_status check_reduction(const csv_plan *p, const csv_reader *r,
                                   const csv_reduce_state *rs, const char *text)
{
    weft_expr_binding b[WEFT_EXPR_MAX_BINDINGS];
    for (size_t k = 0; k < rs->nvars; k++) {
        const csv_var *v = &p->vars[rs->vars[k]];
        b[k] = (weft_expr_binding){v->name, 1, v->dtype};
    }
    weft_expr *e = NULL;
    weft_status st = weft_expr_compile(rs->expr, b, rs->nvars, WEFT_EXPR_REDUCE, &e);
    weft_expr_free(e);
    if (st == WEFT_OK) return WEFT_OK;
    char what[160];
    snprintf(what, sizeof what, "%s(%.120s)", csv_reduce_op_name(rs->op), text);
    return compile_error(p, r, st, what, text, rs->expr);
}

weft_status csv_plan_outputs(csv_plan *p, const csv_reader *r, const weft_csv_job *job)
{
    if (job->nstatements > 0) RETURN_ON_ERROR(type_new_columns(p, r, job));
    if (job->nstatements > 0) RETURN_ON_ERROR(check_array_count(p->nvars, "the statements"));
    p->reductions = calloc(job->nreductions ? job->nreductions : 1, sizeof *p->reductions);
    RETURN_IF(!p->reductions, WEFT_ERR_NOMEM, "csv: out of memory");
    p->nreductions = job->nreductions;
    for (size_t k = 0; k < job->nreductions; k++) {
        csv_reduce_state *rs = &p->reductions[k];
        rs->op = job->reductions[k].op;
        rs->text = job->reductions[k].expr;
        rs->expr = strdup(p->statements[job->nstatements + k]);
        RETURN_IF(!rs->expr, WEFT_ERR_NOMEM, "csv: out of memory");
        ident_ctx c = {p, r, rs->vars, &rs->nvars};
        RETURN_ON_ERROR(each_identifier(rs->expr, reduce_ident, &c));
        RETURN_ON_ERROR(check_array_count(rs->nvars, "a reduction's expression and the job"));
        RETURN_ON_ERROR(check_reduction(p, r, rs, job->reductions[k].expr));
    }
    size_t all = r->ncols + p->nvars;
    csv_out_col *cols = calloc(all ? all : 1, sizeof *cols);
    RETURN_IF(!cols, WEFT_ERR_NOMEM, "csv: out of memory");
    size_t n = 0;
    int fast = 1;
    for (size_t c = 0; c < r->ncols; c++) {
        cols[n] = (csv_out_col){(int)c, -1};
        for (size_t v = 0; v < p->nvars; v++)
            if (p->vars[v].input_col == (int)c && p->vars[v].written) {
                cols[n].var = (int)v;
                fast = 0;
            }
        n++;
    }
    for (size_t v = 0; v < p->nvars; v++)
        if (p->vars[v].input_col < 0) cols[n++] = (csv_out_col){-1, (int)v};
    p->out = cols;
    p->nout = n;
    if (job->nselect > 0) {
        csv_out_col *sel = calloc(job->nselect, sizeof *sel);
        RETURN_IF(!sel, WEFT_ERR_NOMEM, "csv: out of memory");
        for (size_t i = 0; i < job->nselect; i++) {
            weft_status st =
                job->select[i] ? check_out_once(p, r, cols, n, job->select[i], "select") : WEFT_OK;
            if (st != WEFT_OK) {
                free(sel);
                return st;
            }
            int at = job->select[i] ? find_out(p, r, cols, n, job->select[i]) : -1;
            if (at < 0 || find_out(p, r, sel, i, job->select[i]) >= 0) {
                free(sel);
                if (at < 0) return no_column(r, "select", job->select[i]);
                return weft_error_set(WEFT_ERR_INVALID_ARG, "csv: select: \"%s\" is named twice",
                                      job->select[i]);
            }
            sel[i] = cols[at];
        }
        free(cols);
        p->out = cols = sel;
        p->nout = n = job->nselect;
        fast = 0;
    }
    for (size_t i = 0; i < job->ndrop; i++) {
        for (size_t j = 0; j < i && job->drop[i]; j++)
            RETURN_IF(job->drop[j] && strcmp(job->drop[j], job->drop[i]) == 0, WEFT_ERR_INVALID_ARG,
                      "csv: drop: \"%s\" is named twice", job->drop[i]);
        if (job->drop[i]) RETURN_ON_ERROR(check_out_once(p, r, cols, n, job->drop[i], "drop"));
        int at = job->drop[i] ? find_out(p, r, cols, n, job->drop[i]) : -1;
        if (at < 0 && job->drop[i] && job->nselect > 0 && named_anywhere(p, r, job->drop[i]))
            return weft_error_set(WEFT_ERR_INVALID_ARG,
                                  "csv: drop: \"%s\" is not among the columns select keeps: "
                                  "leave it out of select instead (drop applies after select)",
                                  job->drop[i]);
        if (at < 0) return no_column(r, "drop", job->drop[i]);
        memmove(cols + at, cols + at + 1, (n - (size_t)at - 1) * sizeof *cols);
        p->nout = --n;
        fast = 0;
    }
    p->fast_copy = fast && r->ncols > 0;
    return WEFT_OK;
}

weft_status csv_var_reserve(csv_var *v, size_t rows)
{
    RETURN_IF(!csv_bigbuf_reserve(&v->storage, (rows ? rows : 1) * 8), WEFT_ERR_NOMEM,
              "csv: cannot allocate column %s for %zu rows", v->name, rows);
    v->data = v->storage.p;
    return WEFT_OK;
}

void csv_plan_swap(csv_plan *p)
{
    for (size_t v = 0; v < p->nvars; v++) {
        csv_var *x = &p->vars[v];
        csv_bigbuf t = x->storage;
        x->storage = x->other;
        x->other = t;
        x->data = x->storage.p;
    }
}

void csv_plan_free(csv_plan *p)
{
    for (size_t v = 0; v < p->nvars; v++) {
        free(p->vars[v].name);
        free(p->vars[v].label);
        csv_bigbuf_free(&p->vars[v].storage);
        csv_bigbuf_free(&p->vars[v].other);
        weft_array_free(p->vars[v].array);
    }
    for (size_t k = 0; k < p->nreductions; k++)
        free(p->reductions[k].expr);
    free(p->reductions);
    csv_names_free(&p->names);
    csv_strings_free(p->statements, p->ntexts);
    free(p->program);
    free(p->out);
    memset(p, 0, sizeof *p);
}
