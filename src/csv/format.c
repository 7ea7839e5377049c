/* Formatting a window: rows in parallel chunks, each into its own part of the
 * output buffer (sized for the worst case), written out as pieces in order.
 * Untouched fields are copied from the input bytes. */
#include "../core/error.h"
#include "../text/number_format.h"
#include "../text/number_parse.h"
#include "sink.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_ROWS 8192 /* rows per parallel chunk */

static size_t format_value(const csv_var *v, size_t row, char *out)
{
    switch (v->dtype) {
    case WEFT_F64: {
        double d = ((const double *)v->data)[row];
        return isnan(d) ? 0 : weft_format_f64(d, out); /* pandas writes NaN as "" */
    }
    case WEFT_F32: {
        float f = ((const float *)v->data)[row];
        return isnan(f) ? 0 : weft_format_f32(f, out);
    }
    case WEFT_I32:
        return weft_format_i64(((const int32_t *)v->data)[row], out);
    case WEFT_U32:
        return weft_format_u64(((const uint32_t *)v->data)[row], out);
    case WEFT_I64:
        return weft_format_i64(((const int64_t *)v->data)[row], out);
    case WEFT_U64:
        return weft_format_u64(((const uint64_t *)v->data)[row], out);
    default:
        return weft_format_u64(((const uint8_t *)v->data)[row], out);
    }
}

/* Rewriting a field for another dialect: its value (quotes removed, ""
 * read as ") written again, in quotes when the quoting asks for them. */
static int value_needs_quotes(const char *b, const char *e, char delim)
{
    int inq = 0;
    for (const char *c = b; c < e; c++) {
        if (*c == '"') {
            if (inq && c + 1 < e && c[1] == '"') return 1; /* the value holds a quote */
            inq ^= 1;
        } else if (*c == delim || *c == '\n' || *c == '\r') {
            return 1;
        }
    }
    return 0;
}

/* A number as the columns read one: spaces around it read past ("  0 "),
 * so QUOTE_NONNUMERIC leaves it unquoted, as pandas writes the value. */
static int is_number_text(const char *b, const char *e)
{
    double d;
    if (b == e || !csv_unquote_simple(&b, &e)) return 0;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return b != e && weft_parse_f64(b, e, &d);
}

static char *put_field(char *w, const char *b, const char *e, const csv_plan *p)
{
    int quote = p->quoting == WEFT_CSV_QUOTE_ALL ||
                (p->quoting == WEFT_CSV_QUOTE_NONNUMERIC && !is_number_text(b, e)) ||
                value_needs_quotes(b, e, p->out_delim);
    int plain = !memchr(b, '"', (size_t)(e - b));
    if (plain && !quote) {
        memcpy(w, b, (size_t)(e - b));
        return w + (e - b);
    }
    if (quote) *w++ = '"';
    int inq = 0;
    for (const char *c = b; c < e; c++) {
        if (*c == '"' && inq && c + 1 < e && c[1] == '"') {
            c++;
        } else if (*c == '"') {
            inq ^= 1;
            continue;
        }
        if (*c == '"' && quote) *w++ = '"';
        *w++ = *c;
    }
    if (quote) *w++ = '"';
    return w;
}

/* A computed value: quoted by QUOTE_ALL; NaN (written empty) is text to
 * QUOTE_NONNUMERIC too, as pandas writes it. */
static char *put_value(char *w, const csv_var *v, size_t row, const csv_plan *p)
{
    char *open = w;
    if (p->quoting == WEFT_CSV_QUOTE_ALL || p->quoting == WEFT_CSV_QUOTE_NONNUMERIC) *w++ = '"';
    size_t n = format_value(v, row, w);
    if (p->quoting == WEFT_CSV_QUOTE_NONNUMERIC && n > 0) {
        memmove(open, w, n); /* a number: no quotes */
        return open + n;
    }
    w += n;
    if (w > open && *open == '"') *w++ = '"';
    return w;
}

static char *put_line_end(char *w, const csv_plan *p)
{
    if (p->crlf) *w++ = '\r';
    *w++ = '\n';
    return w;
}

typedef struct format_job {
    const csv_reader *r;
    const csv_plan *p;
    csv_outbuf *b;
    size_t rows, first_piece;
    size_t *offsets; /* per chunk: where its bytes start in b->mem */
    size_t ncomputed;
} format_job;

static size_t row_span(const csv_reader *r, size_t row)
{
    const size_t stride = r->ncols + 1;
    return row < r->ix.rows ? r->ix.cells[row * stride] : r->ix.consumed;
}

static void format_chunks(void *arg, size_t begin, size_t end)
{
    format_job *j = arg;
    const csv_reader *r = j->r;
    const csv_plan *p = j->p;
    const size_t stride = r->ncols + 1;
    const char delim = r->delim;
    for (size_t k = begin; k < end; k++) {
        size_t r0 = k * FORMAT_ROWS, r1 = r0 + FORMAT_ROWS < j->rows ? r0 + FORMAT_ROWS : j->rows;
        char *w = (char *)j->b->mem.p + j->offsets[k], *start = w;
        for (size_t row = r0; row < r1; row++) {
            const uint32_t *cell = r->ix.cells + row * stride;
            if (p->rewrite) {
                for (size_t o = 0; o < p->nout; o++) {
                    const csv_out_col *c = &p->out[o];
                    if (o > 0) *w++ = p->out_delim;
                    if (c->var >= 0) {
                        w = put_value(w, &p->vars[c->var], row, p);
                    } else {
                        size_t fb, fe;
                        csv_field(&r->ix, r->ncols, row, (size_t)c->input_col, &fb, &fe);
                        w = put_field(w, r->buf + fb, r->buf + fe, p);
                    }
                }
            } else if (p->fast_copy && !r->ix.padded) {
                size_t n = cell[r->ncols] - cell[0];
                memcpy(w, r->buf + cell[0], n);
                w += n;
                for (size_t o = r->ncols; o < p->nout; o++) {
                    *w++ = delim;
                    w += format_value(&p->vars[p->out[o].var], row, w);
                }
            } else {
                for (size_t o = 0; o < p->nout; o++) {
                    const csv_out_col *c = &p->out[o];
                    if (o > 0) *w++ = delim;
                    if (c->var >= 0) {
                        w += format_value(&p->vars[c->var], row, w);
                    } else {
                        size_t fb, fe;
                        csv_field(&r->ix, r->ncols, row, (size_t)c->input_col, &fb, &fe);
                        memcpy(w, r->buf + fb, fe - fb);
                        w += fe - fb;
                    }
                }
            }
            w = put_line_end(w, p);
        }
        j->b->pieces[j->first_piece + k] = (struct iovec){start, (size_t)(w - start)};
    }
}

static int needs_quotes(const char *s, char delim)
{
    for (; *s; s++)
        if (*s == delim || *s == '"' || *s == '\n' || *s == '\r') return 1;
    return 0;
}

static char *put_name(char *w, const char *name, char delim, int all)
{
    if (!all && !needs_quotes(name, delim)) {
        size_t n = strlen(name);
        memcpy(w, name, n);
        return w + n;
    }
    *w++ = '"';
    for (; *name; name++) {
        if (*name == '"') *w++ = '"';
        *w++ = *name;
    }
    *w++ = '"';
    return w;
}

static int reserve(csv_outbuf *b, size_t bytes, size_t pieces)
{
    if (!csv_bigbuf_reserve(&b->mem, bytes)) return 0;
    if (b->pieces_cap < pieces) {
        free(b->pieces);
        b->pieces = malloc(pieces * sizeof *b->pieces);
        b->pieces_cap = b->pieces ? pieces : 0;
        if (!b->pieces) return 0;
    }
    return 1;
}

weft_status csv_format_window(const csv_reader *r, const csv_plan *p, int header, csv_outbuf *b)
{
    size_t rows = r->ix.rows;
    size_t nchunks = (rows + FORMAT_ROWS - 1) / FORMAT_ROWS;
    size_t ncomputed = 0;
    for (size_t o = 0; o < p->nout; o++)
        ncomputed += p->out[o].var >= 0;
    /* Worst case per chunk: its input bytes, plus every computed value at its
     * longest, plus delimiters and newlines. */
    size_t per_row = ncomputed * (WEFT_FORMAT_MAX + 2) + p->nout * (p->rewrite ? 3 : 1) + 2;
    size_t header_bytes = 0;
    if (header) {
        header_bytes = r->header_len + 2;
        for (size_t o = 0; o < p->nout; o++) {
            const char *name = csv_out_name(p, r, &p->out[o]);
            header_bytes += 2 * strlen(name) + 3;
        }
    }
    size_t offsets_bytes = (nchunks + 1) * sizeof(size_t);
    size_t *offsets = malloc(offsets_bytes);
    RETURN_IF(!offsets, WEFT_ERR_NOMEM, "csv: out of memory");
    size_t total = header_bytes;
    for (size_t k = 0; k < nchunks; k++) {
        size_t r0 = k * FORMAT_ROWS, r1 = r0 + FORMAT_ROWS < rows ? r0 + FORMAT_ROWS : rows;
        offsets[k] = total;
        size_t in = row_span(r, r1) - row_span(r, r0);
        total += (p->rewrite ? 2 * in : in) + (r1 - r0) * per_row; /* "" for each quote */
    }
    if (!reserve(b, total ? total : 1, nchunks + 1)) {
        free(offsets);
        return weft_error_set(WEFT_ERR_NOMEM, "csv: cannot allocate %zu bytes of output", total);
    }
    b->npieces = 0;
    if (header) {
        char *w = b->mem.p;
        /* Names are text: quoted by QUOTE_ALL and QUOTE_NONNUMERIC, as pandas does. */
        int all = p->quoting == WEFT_CSV_QUOTE_ALL || p->quoting == WEFT_CSV_QUOTE_NONNUMERIC;
        if (p->fast_copy) {
            memcpy(w, r->header_raw, r->header_len);
            w += r->header_len;
            for (size_t o = r->ncols; o < p->nout; o++) {
                *w++ = r->delim;
                w = put_name(w, csv_out_name(p, r, &p->out[o]), r->delim, 0);
            }
        } else {
            for (size_t o = 0; o < p->nout; o++) {
                if (o > 0) *w++ = p->out_delim;
                w = put_name(w, csv_out_name(p, r, &p->out[o]), p->out_delim, all);
            }
        }
        w = put_line_end(w, p);
        b->pieces[b->npieces++] = (struct iovec){b->mem.p, (size_t)(w - (char *)b->mem.p)};
    }
    format_job j = {r, p, b, rows, b->npieces, offsets, ncomputed};
    weft_pool_parallel_for(r->pool, nchunks, 1, 0, format_chunks, &j);
    b->npieces += nchunks;
    b->bytes = 0;
    for (size_t i = 0; i < b->npieces; i++)
        b->bytes += b->pieces[i].iov_len;
    free(offsets);
    return WEFT_OK;
}
