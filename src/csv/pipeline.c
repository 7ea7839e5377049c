/* weft_csv_run: read, parse, compute, reduce and write a CSV file window by
 * window. The reader thread reads ahead and the writer thread writes behind;
 * this thread parses, computes and formats each window on the pool, and
 * where the statements run off the pool's cores (csv_flight_overlaps) it
 * parses window k+1 while window k's statements run (a weft_map future) and
 * formats window k while k+1's run. Memory is a few windows whatever the
 * file's size. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "flight.h"
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
    RETURN_IF(o->header != 0 && o->header != 1, WEFT_ERR_INVALID_ARG,
              "csv: header %d is neither 1 (the first record names the columns) nor 0", o->header);
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
static weft_status advise_type(const csv_var *var, const csv_reader *r, const char *detail)
{
    const char *name = r->names[var->input_col], *status = weft_status_str(WEFT_ERR_DATA);
    size_t len = strlen(status); /* the status is said once, by this message */
    if (strncmp(detail, status, len) == 0 && strncmp(detail + len, ": ", 2) == 0) detail += len + 2;
    return weft_error_set(WEFT_ERR_DATA,
                          "%s; the first window typed column '%s' i64: give its type up front "
                          "(types \"%s=f64\", weft csv --type '%s=f64')",
                          detail, name, name, name);
}

weft_status csv_parse_inputs(csv_plan *p, const csv_reader *r, const csv_missing *m);
weft_status csv_parse_inputs(csv_plan *p, const csv_reader *r, const csv_missing *m)
{
    RETURN_ON_ERROR(reserve_vars(p, r->ix.rows));
    for (size_t v = 0; v < p->nvars; v++) {
        csv_var *var = &p->vars[v];
        if (var->input_col < 0 || (var->replaced && var->typed)) continue;
        if (var->replaced) { /* never read: it takes the statement's type */
            var->retyped = 1;
            var->typed = 1;
            continue;
        }
        if (var->typed) {
            weft_status st = csv_parse_column(r, (size_t)var->input_col, var->dtype, m, var->data);
            /* Typing up front helps an i64 column whose later window holds
             * floats; a field that is no number at all, no type helps. */
            if (st == WEFT_ERR_DATA && var->inferred && var->dtype == WEFT_I64) {
                char detail[1024];
                snprintf(detail, sizeof detail, "%s", weft_last_error());
                /* Failing, this names the field "not a number", as it is. */
                RETURN_ON_ERROR(
                    csv_parse_column(r, (size_t)var->input_col, WEFT_F64, m, var->data));
                return advise_type(var, r, detail);
            }
            RETURN_ON_ERROR(st);
        } else {
            RETURN_ON_ERROR(csv_infer_column(r, (size_t)var->input_col, m, &var->dtype, var->data));
            var->typed = 1;
            var->inferred = 1;
        }
    }
    return WEFT_OK;
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
    csv_window held;      /* the window formatted while the next one is parsed */
    csv_flight flight[2]; /* the statements of the held window and of the next */
    int have_reader, have_sink, holding;
} run_state;

/* Reads and parses the next window and starts its statements into *f;
 * *rows is 0 at the end of the file (the first window always goes on). */
static weft_status start_window(weft_ctx *ctx, run_state *rs, const weft_csv_job *job,
                                const weft_csv_dialect *d, int first, size_t *rows, csv_flight *f,
                                weft_csv_stats *sx)
{
    double t = now();
    RETURN_ON_ERROR(csv_reader_next(&rs->r));
    *rows = rs->r.ix.rows;
    sx->scan_seconds += now() - t;
    if (*rows == 0 && !first) return WEFT_OK;
    t = now();
    RETURN_ON_ERROR(csv_parse_inputs(&rs->p, &rs->r, &rs->missing));
    if (first) {
        RETURN_ON_ERROR(csv_plan_outputs(&rs->p, &rs->r, job));
        set_output_dialect(&rs->p, &rs->r, d);
        RETURN_ON_ERROR(reserve_vars(&rs->p, *rows));
    }
    sx->parse_seconds += now() - t;
    t = now();
    RETURN_ON_ERROR(csv_launch(ctx, &rs->p, *rows, rs->r.row, f));
    sx->compute_seconds += now() - t;
    return WEFT_OK;
}

/* Waits for a window's statements, folds its reductions and hands its
 * formatted bytes to the writer. w is the window (the reader, or a view of
 * the held window). */
static weft_status finish_window(weft_ctx *ctx, run_state *rs, const weft_csv_job *job, int header,
                                 const csv_reader *w, csv_flight *f, weft_csv_stats *sx)
{
    size_t rows = w->ix.rows;
    double t = now();
    RETURN_ON_ERROR(csv_land(&rs->p, f));
    for (size_t k = 0; k < rs->p.nreductions; k++)
        RETURN_ON_ERROR(csv_reduce_window(ctx, &rs->p, &rs->p.reductions[k], rows, w->row));
    sx->compute_seconds += now() - t;
    if (rs->have_sink) {
        t = now();
        csv_outbuf *b;
        RETURN_ON_ERROR(csv_sink_buffer(&rs->s, &b));
        sx->wait_seconds += now() - t;
        t = now();
        RETURN_ON_ERROR(csv_format_window(w, &rs->p, header, b));
        csv_sink_submit(&rs->s, b);
        sx->format_seconds += now() - t;
    }
    sx->rows += rows;
    sx->windows++;
    if (job->progress) job->progress(job->progress_user, w->bytes_done, rs->r.src->file_bytes);
    return WEFT_OK;
}

/* One window at a time: where the statements run on the cores that parse
 * and format (csv_flight_overlaps), overlapping them only makes the stages
 * take turns. */
static weft_status run_serial(weft_ctx *ctx, run_state *rs, const weft_csv_job *job,
                              const weft_csv_dialect *d, int header, weft_csv_stats *sx)
{
    for (int first = 1;; first = 0) {
        if (csv_cancel_asked(job->cancel)) return csv_cancelled();
        size_t rows;
        RETURN_ON_ERROR(start_window(ctx, rs, job, d, first, &rows, &rs->flight[0], sx));
        if (rows == 0 && !first) return WEFT_OK;
        RETURN_ON_ERROR(finish_window(ctx, rs, job, first && header, &rs->r, &rs->flight[0], sx));
        if (rows == 0) return WEFT_OK;
    }
}

/* Window k+1 is read and parsed, and its statements started, while window
 * k's statements run; then window k is formatted while k+1's run, and the
 * writer thread writes k-1. The vars' two storages hold k and k+1. */
static weft_status run_overlapped(weft_ctx *ctx, run_state *rs, const weft_csv_job *job,
                                  const weft_csv_dialect *d, int header, weft_csv_stats *sx)
{
    size_t rows, next_rows;
    int cur = 0;
    RETURN_ON_ERROR(start_window(ctx, rs, job, d, 1, &rows, &rs->flight[cur], sx));
    if (rows == 0) return finish_window(ctx, rs, job, header, &rs->r, &rs->flight[cur], sx);
    for (int first = 1; rows > 0; first = 0) {
        if (csv_cancel_asked(job->cancel)) return csv_cancelled();
        RETURN_ON_ERROR(csv_reader_hold(&rs->r, &rs->held));
        rs->holding = 1;
        csv_plan_swap(&rs->p);
        weft_status st = start_window(ctx, rs, job, d, 0, &next_rows, &rs->flight[!cur], sx);
        csv_plan_swap(&rs->p);
        RETURN_ON_ERROR(st);
        csv_reader view = csv_reader_view(&rs->r, &rs->held);
        RETURN_ON_ERROR(finish_window(ctx, rs, job, first && header, &view, &rs->flight[cur], sx));
        csv_reader_drop(&rs->r, &rs->held);
        rs->holding = 0;
        csv_plan_swap(&rs->p);
        cur = !cur;
        rows = next_rows;
    }
    return WEFT_OK;
}

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
    for (size_t k = 0; k < job->nselect; k++)
        RETURN_IF(!job->select[k], WEFT_ERR_NULL, "weft_csv_run: select[%zu] is NULL", k);
    for (size_t k = 0; k < job->ndrop; k++)
        RETURN_IF(!job->drop[k], WEFT_ERR_NULL, "weft_csv_run: drop[%zu] is NULL", k);
    for (size_t k = 0; k < job->nstatements; k++)
        RETURN_IF(job->statements[k] && !job->statements[k][strspn(job->statements[k], " \t\r\n")],
                  WEFT_ERR_EXPR, "weft_csv_run: statement %zu is empty", k);
    RETURN_IF(output && !*output, WEFT_ERR_INVALID_ARG,
              "weft_csv_run: the output path is empty (NULL writes no output)");
    size_t window = 0;
    RETURN_ON_ERROR(csv_check_options(o, &window));
    weft_csv_dialect plain;
    weft_csv_dialect_init(&plain);
    const weft_csv_dialect *d = dialect ? dialect : &plain;
    RETURN_ON_ERROR(csv_check_dialect(d, o->delimiter));
    weft_csv_stats st_local;
    weft_csv_stats *sx = stats ? stats : &st_local;
    memset(sx, 0, sizeof *sx);
    double t0 = now();
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
    GOTO_ERROR_ON(csv_flight_overlaps(ctx) ? run_overlapped(ctx, rs, job, d, o->header, sx)
                                           : run_serial(ctx, rs, job, d, o->header, sx));
    for (size_t k = 0; k < rs->p.nreductions; k++)
        GOTO_ERROR_ON(
            csv_reduce_finish(ctx, &rs->p, &rs->p.reductions[k], &job->reductions[k].result));
    sx->bytes_read = rs->r.bytes_done;
    sx->rows_skipped = rs->r.skipped;
    if (rs->have_sink) {
        rs->have_sink = 0;
        GOTO_ERROR_ON(csv_sink_commit(&rs->s, &sx->bytes_written));
    }
    sx->seconds = now() - t0;
error:
    for (int f = 0; f < 2; f++)
        csv_land(&rs->p, &rs->flight[f]); /* the data must outlive the statements */
    if (rs->holding) csv_reader_drop(&rs->r, &rs->held);
    csv_window_free(&rs->held);
    if (rs->have_sink) csv_sink_abort(&rs->s);
    csv_plan_free(&rs->p);
    if (rs->have_reader) csv_reader_close(&rs->r);
    csv_missing_free(&rs->missing);
    free(rs);
    return st;
}

/* Programs built against the header before rows_skipped: their stats end
 * where it begins. */
#define STATS_BEFORE_SKIPPED offsetof(weft_csv_stats, rows_skipped)

static void copy_old_stats(weft_csv_stats *old, const weft_csv_stats *whole)
{
    if (old) memcpy(old, whole, STATS_BEFORE_SKIPPED);
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
    weft_csv_stats all;
    weft_status st = weft_csv_run_dialect_skipped(ctx, input, output, options,
                                                  dialect ? &whole : NULL, job, &all);
    copy_old_stats(stats, &all);
    return st;
}

/* The entries of programs built against the header before rows_skipped
 * (weft_csv_run_dialect_na: after na_values). */
#undef weft_csv_run

WEFT_API weft_status weft_csv_run(weft_ctx *ctx, const char *input, const char *output,
                                  const weft_csv_options *options, weft_csv_job *job,
                                  weft_csv_stats *stats);
weft_status weft_csv_run(weft_ctx *ctx, const char *input, const char *output,
                         const weft_csv_options *options, weft_csv_job *job, weft_csv_stats *stats)
{
    weft_csv_stats whole;
    weft_status st = weft_csv_run_skipped(ctx, input, output, options, job, &whole);
    copy_old_stats(stats, &whole);
    return st;
}

WEFT_API weft_status weft_csv_run_dialect_na(weft_ctx *ctx, const char *input, const char *output,
                                             const weft_csv_options *options,
                                             const weft_csv_dialect *dialect, weft_csv_job *job,
                                             weft_csv_stats *stats);
weft_status weft_csv_run_dialect_na(weft_ctx *ctx, const char *input, const char *output,
                                    const weft_csv_options *options,
                                    const weft_csv_dialect *dialect, weft_csv_job *job,
                                    weft_csv_stats *stats)
{
    weft_csv_stats whole;
    weft_status st =
        weft_csv_run_dialect_skipped(ctx, input, output, options, dialect, job, &whole);
    copy_old_stats(stats, &whole);
    return st;
}
