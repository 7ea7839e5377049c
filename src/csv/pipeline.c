/* weft_csv_run: read, parse, compute, reduce and write a CSV file window by
 * window. The reader thread reads window k+1 and the writer thread writes
 * window k-1 while this thread parses, computes and formats window k on the
 * pool, so memory is two input and two output windows whatever the file's size. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "sink.h"
#include "stream_reduce.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void weft_csv_options_init(weft_csv_options *options)
{
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->delimiter = ',';
    options->header = 1;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

weft_status csv_check_options(const weft_csv_options *o, size_t *window)
{
    char d = o->delimiter;
    RETURN_IF(d == '"' || d == '\n' || d == '\r' || d == 0, WEFT_ERR_INVALID_ARG,
              "csv: the delimiter cannot be a quote, a line end or NUL");
    *window = o->window_bytes ? o->window_bytes : (size_t)1 << 20;
    RETURN_IF(*window < 64 || *window > CSV_MAX_WINDOW / 2, WEFT_ERR_INVALID_ARG,
              "csv: window_bytes %zu is outside [64, %zu]", *window, CSV_MAX_WINDOW / 2);
    return WEFT_OK;
}

static weft_status reserve_vars(csv_plan *p, size_t rows)
{
    for (size_t v = 0; v < p->nvars; v++)
        RETURN_ON_ERROR(csv_var_reserve(&p->vars[v], rows));
    return WEFT_OK;
}

/* A later window that does not fit the type the first one chose: the
 * message says how to choose it instead. */
static weft_status advise_type(const csv_var *var, const csv_reader *r)
{
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", weft_last_error());
    const char *name = r->names[var->input_col];
    const char *want = var->dtype == WEFT_I64 ? "f64" : "i64";
    return weft_error_set(WEFT_ERR_DATA,
                          "%s; the first window typed column '%s' %s: give its type up front "
                          "(types \"%s=%s\", weft csv --type '%s=%s')",
                          detail, name, weft_dtype_name(var->dtype), name, want, name, want);
}

weft_status csv_parse_inputs(csv_plan *p, const csv_reader *r, const csv_missing *m);
weft_status csv_parse_inputs(csv_plan *p, const csv_reader *r, const csv_missing *m)
{
    RETURN_ON_ERROR(reserve_vars(p, r->ix.rows));
    for (size_t v = 0; v < p->nvars; v++) {
        csv_var *var = &p->vars[v];
        if (var->input_col < 0) continue;
        if (var->typed) {
            weft_status st = csv_parse_column(r, (size_t)var->input_col, var->dtype, m, var->data);
            if (st == WEFT_ERR_DATA && var->inferred) return advise_type(var, r);
            RETURN_ON_ERROR(st);
        } else {
            RETURN_ON_ERROR(csv_infer_column(r, (size_t)var->input_col, m, &var->dtype, var->data));
            var->typed = 1;
            var->inferred = 1;
        }
    }
    return WEFT_OK;
}

/* The statements over the window, through weft_map like any other map. */
static weft_status compute(weft_ctx *ctx, csv_plan *p, size_t rows)
{
    if (!p->program || rows == 0) return WEFT_OK;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS];
    weft_status st = WEFT_OK;
    size_t n = 0;
    for (; n < p->nvars && st == WEFT_OK; n++) {
        st = weft_array_wrap(ctx, p->vars[n].dtype, rows, p->vars[n].data, &p->vars[n].array);
        binds[n] = weft_bind_array(p->vars[n].name, p->vars[n].array);
    }
    if (st == WEFT_OK) st = weft_map(ctx, p->program, binds, n, NULL);
    for (size_t v = 0; v < n && st == WEFT_OK; v++)
        if (p->vars[v].written) st = weft_array_sync(p->vars[v].array);
    for (size_t v = 0; v < n; v++) {
        weft_array_free(p->vars[v].array);
        p->vars[v].array = NULL;
    }
    return st;
}

static void set_output_dialect(csv_plan *p, const csv_reader *r, const weft_csv_dialect *d)
{
    p->out_delim = d->out_delimiter ? d->out_delimiter : r->delim;
    p->crlf = d->crlf;
    p->quoting = (int)d->quoting;
    /* Another delimiter needs fields quoted anew: minimal quoting unless asked. */
    if (p->out_delim != r->delim && p->quoting == WEFT_CSV_QUOTE_KEEP)
        p->quoting = WEFT_CSV_QUOTE_MINIMAL;
    p->rewrite = p->quoting != WEFT_CSV_QUOTE_KEEP;
    if (p->rewrite) p->fast_copy = 0;
}

typedef struct run_state {
    csv_reader r;
    csv_plan p;
    csv_sink s;
    csv_missing missing;
    int have_reader, have_sink;
} run_state;

void weft_csv_dialect_init(weft_csv_dialect *dialect)
{
    if (dialect) memset(dialect, 0, sizeof *dialect);
}

weft_status csv_check_dialect(const weft_csv_dialect *d, char delim)
{
    char c = d->comment, o = d->out_delimiter;
    RETURN_IF(c && (c == '"' || c == '\n' || c == '\r' || c == delim), WEFT_ERR_INVALID_ARG,
              "csv: the comment character cannot be a quote, a line end or the delimiter");
    RETURN_IF((unsigned)d->bad_rows > WEFT_CSV_BAD_PAD, WEFT_ERR_INVALID_ARG,
              "csv: bad_rows %d is not a weft_csv_bad_rows", (int)d->bad_rows);
    RETURN_IF((unsigned)d->quoting > WEFT_CSV_QUOTE_NONNUMERIC, WEFT_ERR_INVALID_ARG,
              "csv: quoting %d is not a weft_csv_quoting", (int)d->quoting);
    RETURN_IF(o == '"' || o == '\n' || o == '\r', WEFT_ERR_INVALID_ARG,
              "csv: the output delimiter cannot be a quote or a line end");
    return WEFT_OK;
}

weft_status weft_csv_run(weft_ctx *ctx, const char *input, const char *output,
                         const weft_csv_options *options, weft_csv_job *job, weft_csv_stats *stats)
{
    return weft_csv_run_dialect(ctx, input, output, options, NULL, job, stats);
}

weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                 const weft_csv_options *options, const weft_csv_dialect *dialect,
                                 weft_csv_job *job, weft_csv_stats *stats)
{
    RETURN_IF(!ctx || !input, WEFT_ERR_NULL, "weft_csv_run: context or input is NULL");
    weft_csv_options defaults;
    weft_csv_options_init(&defaults);
    const weft_csv_options *o = options ? options : &defaults;
    weft_csv_job none = {0};
    if (!job) job = &none;
    RETURN_IF(job->nreductions && !job->reductions, WEFT_ERR_NULL,
              "weft_csv_run: reductions is NULL");
    RETURN_IF((job->nstatements && !job->statements) || (job->nselect && !job->select) ||
                  (job->ndrop && !job->drop),
              WEFT_ERR_NULL, "weft_csv_run: a list of the job is NULL");
    size_t window = 0;
    RETURN_ON_ERROR(csv_check_options(o, &window));
    weft_csv_dialect plain;
    weft_csv_dialect_init(&plain);
    const weft_csv_dialect *d = dialect ? dialect : &plain;
    RETURN_ON_ERROR(csv_check_dialect(d, o->delimiter));
    weft_csv_stats st_local;
    weft_csv_stats *sx = stats ? stats : &st_local;
    memset(sx, 0, sizeof *sx);
    double t0 = now(), t;
    run_state *rs = calloc(1, sizeof *rs);
    RETURN_IF(!rs, WEFT_ERR_NOMEM, "weft_csv_run: out of memory");
    weft_status st = csv_missing_init(&rs->missing, o, d);
    if (st != WEFT_OK) {
        free(rs);
        return st;
    }
    st = csv_reader_open(&rs->r, ctx->pool, input, o->delimiter, o->header, d, window,
                                     job->nreductions > 0, job->cancel);
    rs->have_reader = 1;
    if (st != WEFT_OK) goto error;
    GOTO_ERROR_ON(csv_plan_inputs(&rs->p, &rs->r, job, o->types));
    if (output) {
        rs->have_sink = 1;
        GOTO_ERROR_ON(csv_sink_open(&rs->s, output, o->fsync));
    }
    for (int first = 1;; first = 0) {
        if (job->cancel && *job->cancel) GOTO_ERROR_ON(csv_cancelled());
        t = now();
        GOTO_ERROR_ON(csv_reader_next(&rs->r));
        size_t rows = rs->r.ix.rows;
        if (rows == 0 && !first) break;
        sx->scan_seconds += now() - t;
        t = now();
        GOTO_ERROR_ON(csv_parse_inputs(&rs->p, &rs->r, &rs->missing));
        if (first) {
            GOTO_ERROR_ON(csv_plan_outputs(&rs->p, &rs->r, job));
            set_output_dialect(&rs->p, &rs->r, d);
            GOTO_ERROR_ON(reserve_vars(&rs->p, rows));
        }
        sx->parse_seconds += now() - t;
        t = now();
        GOTO_ERROR_ON(compute(ctx, &rs->p, rows));
        for (size_t k = 0; k < rs->p.nreductions; k++)
            GOTO_ERROR_ON(csv_reduce_window(ctx, &rs->p, &rs->p.reductions[k], rows, rs->r.row));
        sx->compute_seconds += now() - t;
        if (rs->have_sink) {
            t = now();
            csv_outbuf *b;
            GOTO_ERROR_ON(csv_sink_buffer(&rs->s, &b));
            sx->wait_seconds += now() - t;
            t = now();
            GOTO_ERROR_ON(csv_format_window(&rs->r, &rs->p, first && o->header, b));
            csv_sink_submit(&rs->s, b);
            sx->format_seconds += now() - t;
        }
        sx->rows += rows;
        sx->windows++;
        if (job->progress)
            job->progress(job->progress_user, rs->r.bytes_done, rs->r.src.file_bytes);
        if (rows == 0) break;
    }
    for (size_t k = 0; k < rs->p.nreductions; k++)
        GOTO_ERROR_ON(
            csv_reduce_finish(ctx, &rs->p, &rs->p.reductions[k], &job->reductions[k].result));
    sx->bytes_read = rs->r.bytes_done;
    if (rs->have_sink) {
        rs->have_sink = 0;
        GOTO_ERROR_ON(csv_sink_commit(&rs->s, &sx->bytes_written));
    }
    sx->seconds = now() - t0;
error:
    if (rs->have_sink) csv_sink_abort(&rs->s);
    csv_plan_free(&rs->p);
    if (rs->have_reader) csv_reader_close(&rs->r);
    csv_missing_free(&rs->missing);
    free(rs);
    return st;
}

/* The entries of programs built against the header before na_values: their
 * dialect ends where na_values begins. */
#undef weft_csv_dialect_init
#undef weft_csv_run_dialect
#define DIALECT_BEFORE_NA offsetof(weft_csv_dialect, na_values)

WEFT_API void weft_csv_dialect_init(weft_csv_dialect *dialect);
void weft_csv_dialect_init(weft_csv_dialect *dialect)
{
    if (dialect) memset(dialect, 0, DIALECT_BEFORE_NA);
}

WEFT_API weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                          const weft_csv_options *options,
                                          const weft_csv_dialect *dialect, weft_csv_job *job,
                                          weft_csv_stats *stats);
weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                 const weft_csv_options *options, const weft_csv_dialect *dialect,
                                 weft_csv_job *job, weft_csv_stats *stats)
{
    weft_csv_dialect whole = {0};
    if (dialect) memcpy(&whole, dialect, DIALECT_BEFORE_NA);
    return weft_csv_run_dialect_na(ctx, input, output, options, dialect ? &whole : NULL, job,
                                   stats);
}
