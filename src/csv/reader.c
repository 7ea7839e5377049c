/* Windows of complete records over the read-ahead blocks. */
#include "../core/error.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file in another encoding (Latin-1, Windows-1252: a quarter of one
 * corpus of public CSV files) is converted, as pandas' encoding= would. */
#define NOT_UTF8_HINT " (weft reads UTF-8: convert the file, e.g. iconv -f cp1252 -t utf-8)"

void csv_reader_where(const csv_reader *r, size_t pos, char *out, size_t cap)
{
    uint64_t line = r->line;
    size_t line_start = 0;
    const char eol = r->eol ? r->eol : '\n';
    for (size_t i = 0; i < pos && i < r->len; i++)
        if (r->buf[i] == eol) {
            line++;
            line_start = i + 1;
        }
    snprintf(out, cap, "%s:%llu:%zu: ", r->path, (unsigned long long)line, pos - line_start + 1);
}

int csv_column_index(const csv_reader *r, const char *name)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (strcmp(r->names[c], name) == 0) return (int)c;
    return -1;
}

static void release_window(csv_reader *r)
{
    if (r->block >= 0) csv_source_release(r->src, &r->src->blocks[r->block]);
    r->block = -1;
}

/* The last line of a file may lack its line end: it gets one, so that every
 * record ends the same way (the blocks keep a byte free for it). */
static void end_last_line(const csv_reader *r, char *data, size_t *len)
{
    /* A file of CR lines whose last one ends in LF or CRLF (csv_detect_eol):
     * that line end is a CR. */
    if (r->eol == '\r' && *len > 0 && data[*len - 1] == '\n') {
        if (*len > 1 && data[*len - 2] == '\r')
            (*len)--;
        else
            data[*len - 1] = '\r';
    }
    if (r->eol && *len > 0 && data[*len - 1] != r->eol) data[(*len)++] = r->eol;
}

/* Joins the bytes of the window being built with the next block, in `own`,
 * which keeps room for twice the window: a window that must keep growing
 * (a record longer than a window, 4096 wide rows for a reduction, a run of
 * blank lines) is copied a few times in all, not once per block. */
static weft_status append_block(csv_reader *r, char **data, size_t *len, int *eof)
{
    size_t block = r->src->block_bytes, limit = r->max_window + block + 1;
    size_t want = *len + block + 1;
    if (want > limit) {
        char where[512];
        csv_reader_where(r, 0, where, sizeof where);
        if (r->align && r->ix.rows > 0)
            return weft_error_set(WEFT_ERR_DATA,
                                  "%s%d rows (the block a whole-file reduction sums at once) do "
                                  "not fit in %zu bytes: raise the window size (--window, "
                                  "window_bytes)",
                                  where, WEFT_SUM_BLOCK, r->max_window);
        return weft_error_set(WEFT_ERR_DATA,
                              "%sa record (or %d records) does not fit in %zu bytes: an "
                              "unterminated quote, or raise the window size",
                              where, r->align ? WEFT_SUM_BLOCK : 1, r->max_window);
    }
    if (*data != r->own || r->own_cap < want) {
        size_t cap = 2 * *len + block + 1;
        if (cap > limit) cap = limit;
        if (cap < want) cap = want;
        char *joined = malloc(cap);
        RETURN_IF(!joined, WEFT_ERR_NOMEM, "csv: cannot allocate a %zu-byte window", cap);
        memcpy(joined, *data, *len);
        release_window(r);
        free(r->own);
        r->own = joined;
        r->own_cap = cap;
        *data = joined;
    }
    csv_block *b;
    RETURN_ON_ERROR(csv_source_take(r->src, r->path, &b));
    memcpy(*data + *len, b->mem + CSV_HEADROOM, b->len);
    *len += b->len;
    *eof = b->eof;
    if (*eof) end_last_line(r, *data, len);
    csv_source_release(r->src, b);
    r->buf = *data;
    r->len = *len;
    return WEFT_OK;
}

static weft_status line_end_error(const csv_reader *r, size_t pos)
{
    char where[512];
    csv_reader_where(r, pos, where, sizeof where);
    if (r->eol == '\r')
        return weft_error_set(WEFT_ERR_DATA,
                              "%sa line feed (LF) outside quotes: the file's lines end in a bare "
                              "CR, so it would be read as data (quote the field)",
                              where);
    return weft_error_set(WEFT_ERR_DATA,
                          "%sa carriage return (CR) outside quotes that does not end a CRLF line: "
                          "the file's lines end in LF, so it would be read as data (quote the "
                          "field, or end every line the same way)",
                          where);
}

/* Length of the line at buf[0] with its line end: at `eol`, or for eol 0 at
 * LF, CRLF or a bare CR; 0 when more bytes are needed to tell. */
static size_t line_length(const char *buf, size_t len, char eol, int eof)
{
    for (size_t i = 0; i < len; i++) {
        if (eol ? buf[i] == eol : buf[i] == '\n') return i + 1;
        if (!eol && buf[i] == '\r') {
            if (i + 1 < len) return buf[i + 1] == '\n' ? i + 2 : i + 1;
            return eof ? i + 1 : 0;
        }
    }
    return eof ? len : 0;
}

/* Drops one line before the header (quotes are not looked at: metadata). */
static weft_status skip_line(csv_reader *r, char **data, size_t *len, int *eof, char eol)
{
    size_t n;
    while ((n = line_length(*data, *len, eol, *eof)) == 0 && !*eof)
        RETURN_ON_ERROR(append_block(r, data, len, eof));
    *data += n;
    *len -= n;
    r->offset += n;
    r->line++;
    return WEFT_OK;
}

/* The first window: a byte-order mark, then the header or the first record's width. */
static weft_status read_header(csv_reader *r, char **data, size_t *len, int *eof)
{
    if (*len >= 3 && memcmp(*data, "\xEF\xBB\xBF", 3) == 0) {
        *data += 3;
        *len -= 3;
        r->offset += 3;
    }
    /* Up to the end of the input, however many were asked for. */
    size_t skipped = 0;
    for (; skipped < r->skip_lines; skipped++) {
        while (*len == 0 && !*eof)
            RETURN_ON_ERROR(append_block(r, data, len, eof));
        if (*len == 0) break;
        RETURN_ON_ERROR(skip_line(r, data, len, eof, 0));
    }
    RETURN_IF(skipped < r->skip_lines && r->header, WEFT_ERR_DATA,
              "%s: skipping %zu lines before the header passes the end of the file (%zu lines)",
              r->path, r->skip_lines, skipped);
    while ((r->eol = csv_detect_eol(*data, *len, *eof)) == 0 && !*eof)
        RETURN_ON_ERROR(append_block(r, data, len, eof));
    if (!r->eol) r->eol = '\n'; /* a file of one line without a line end */
    if (*eof) end_last_line(r, *data, len);
    /* Blank lines and comment lines before the header, as pandas skips them. */
    for (;;) {
        if (*len == 0 && *eof) break;
        if (*len == 0) {
            RETURN_ON_ERROR(append_block(r, data, len, eof));
            continue;
        }
        const char *d = *data;
        int blank = d[0] == r->eol || (r->eol == '\n' && d[0] == '\r' && *len > 1 && d[1] == '\n');
        if (!blank && !(r->comment && d[0] == r->comment)) break;
        RETURN_ON_ERROR(skip_line(r, data, len, eof, r->eol));
    }
    size_t hdr;
    while ((hdr = csv_record_length(*data, *len, r->eol)) == 0 && !*eof)
        RETURN_ON_ERROR(append_block(r, data, len, eof));
    if (hdr == 0 && *len == 0) {
        RETURN_IF(r->header, WEFT_ERR_DATA, "%s: empty file: no header line", r->path);
        r->ncols = 0;
        return WEFT_OK;
    }
    r->buf = *data;
    r->len = *len;
    if (hdr == 0) {
        char where[512];
        csv_reader_where(r, 0, where, sizeof where);
        return weft_error_set(WEFT_ERR_DATA, "%sunterminated quoted field in the first record",
                              where);
    }
    size_t bad;
    if (!csv_utf8_valid(*data, hdr, hdr, &bad)) {
        char where[512];
        csv_reader_where(r, bad, where, sizeof where);
        const unsigned char *u = (const unsigned char *)*data;
        const char *what =
            hdr >= 2 && u[0] == 0x1f && u[1] == 0x8b
                ? ": a gzip file (weft reads plain CSV: gunzip it, or pipe zcat "
                  "into weft csv /dev/stdin)"
            : hdr >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))
                ? ": a UTF-16 file (weft reads UTF-8: iconv -f utf-16 -t utf-8)"
                : NOT_UTF8_HINT;
        return weft_error_set(WEFT_ERR_DATA, "%sinvalid UTF-8 (byte 0x%02X) in the first record%s",
                              where, (unsigned)(unsigned char)(*data)[bad], what);
    }
    size_t raw = hdr - 1;
    if (r->eol == '\n' && raw > 0 && (*data)[raw - 1] == '\r') raw--;
    size_t stray = csv_stray_line_end(*data, raw, r->eol);
    if (stray != (size_t)-1) {
        r->buf = *data;
        r->len = *len;
        return line_end_error(r, stray);
    }
    size_t n = csv_split_record(*data, raw, r->delim, &r->names);
    RETURN_IF(n == (size_t)-1, WEFT_ERR_NOMEM, "csv: cannot allocate the column names");
    r->ncols = n;
    r->header_raw = malloc(raw + 1);
    RETURN_IF(!r->header_raw, WEFT_ERR_NOMEM, "csv: cannot allocate the header");
    memcpy(r->header_raw, *data, raw);
    r->header_raw[raw] = 0;
    r->header_len = raw;
    if (!r->header) {
        for (size_t c = 0; c < n; c++) {
            char name[32];
            snprintf(name, sizeof name, "c%zu", c + 1);
            free(r->names[c]);
            r->names[c] = strdup(name);
            RETURN_IF(!r->names[c], WEFT_ERR_NOMEM, "csv: cannot allocate the column names");
        }
        return WEFT_OK;
    }
    for (size_t i = 0; i < hdr; i++)
        r->line += (*data)[i] == r->eol;
    *data += hdr;
    *len -= hdr;
    r->offset += hdr;
    return WEFT_OK;
}

weft_status csv_reader_open(csv_reader *r, weft_pool *pool, const char *path, char delim,
                            int header, const weft_csv_dialect *d, size_t window_bytes, int align,
                            const volatile int *cancel)
{
    memset(r, 0, sizeof *r);
    r->block = -1;
    r->src = calloc(1, sizeof *r->src);
    RETURN_IF(!r->src, WEFT_ERR_NOMEM, "csv: out of memory");
    r->src->fd = r->src->wake[0] = r->src->wake[1] = -1; /* nothing to close yet */
    r->pool = pool;
    r->delim = delim;
    r->header = header;
    if (d) {
        r->skip_lines = d->skip_lines;
        r->comment = d->comment;
        r->bad_rows = (int)d->bad_rows;
    }
    r->align = align;
    r->line = 1;
    r->path = strdup(path);
    RETURN_IF(!r->path, WEFT_ERR_NOMEM, "csv: out of memory");
    r->max_window =
        window_bytes * 16 > ((size_t)256 << 20) ? window_bytes * 16 : ((size_t)256 << 20);
    if (r->max_window > CSV_MAX_WINDOW) r->max_window = CSV_MAX_WINDOW;
    RETURN_ON_ERROR(csv_source_open(r->src, path, window_bytes, cancel));
    /* The header is read with the first window, so open reports a bad one. */
    csv_block *b;
    RETURN_ON_ERROR(csv_source_take(r->src, r->path, &b));
    r->block = (int)(b - r->src->blocks);
    char *data = b->mem + CSV_HEADROOM;
    size_t len = b->len;
    int eof = b->eof;
    r->buf = data;
    r->len = len;
    RETURN_ON_ERROR(read_header(r, &data, &len, &eof));
    r->buf = data;
    r->len = len;
    r->eof = eof;
    r->done = r->ncols == 0;
    return WEFT_OK;
}

void csv_reader_close(csv_reader *r)
{
    release_window(r);
    if (r->src) csv_source_close(r->src);
    free(r->src);
    csv_index_free(&r->ix);
    csv_strings_free(r->names, r->ncols);
    free(r->header_raw);
    free(r->own);
    free(r->path);
    memset(r, 0, sizeof *r);
    r->block = -1;
}

weft_status csv_reader_hold(csv_reader *r, csv_window *w)
{
    char *mem = NULL;
    if (r->block >= 0) RETURN_ON_ERROR(csv_source_detach(r->src, &r->src->blocks[r->block], &mem));
    csv_index spare = w->ix;
    *w = (csv_window){r->buf, r->len, mem, r->own, r->ix, r->row, r->bytes_done};
    r->block = -1;
    r->own = NULL;
    /* The next csv_reader_next reads the held window's tail (from w's bytes,
     * still there) and its counts, then scans into the spare buffers. */
    r->ix = spare;
    r->ix.rows = w->ix.rows;
    r->ix.consumed = w->ix.consumed;
    r->ix.lines = w->ix.lines;
    r->ix.skipped = w->ix.skipped;
    return WEFT_OK;
}

void csv_reader_drop(csv_reader *r, csv_window *w)
{
    if (w->mem) csv_source_return(r->src, w->mem);
    free(w->own);
    w->mem = NULL;
    w->own = NULL;
    w->buf = NULL;
    w->len = 0;
}

void csv_window_free(csv_window *w)
{
    csv_index_free(&w->ix);
    memset(w, 0, sizeof *w);
}

csv_reader csv_reader_view(const csv_reader *r, const csv_window *w)
{
    csv_reader v = *r;
    v.buf = w->buf;
    v.len = w->len;
    v.ix = w->ix;
    v.row = w->row;
    v.bytes_done = w->bytes_done;
    return v;
}

/* What to do about a record of the wrong width. When it is the first after
 * the header, the header is more likely the problem than the rows (a title
 * or comment lines above it, another delimiter, pandas' unnamed index
 * column), and skipping rows of the wrong width would skip them all. */
static void fields_hint(const csv_reader *r, const csv_fault *f, char *hint, size_t cap)
{
    const char *skip = "rows of the wrong width can be skipped, or short ones padded: bad_rows, "
                       "--bad-rows";
    int first = r->row == 0 && r->header && !memchr(r->buf, r->eol ? r->eol : '\n', f->pos);
    const char *h = r->header_raw && r->header ? r->header_raw : "";
    const char *other = NULL; /* a delimiter the one-field header holds */
    for (const char *d = ";\t|,"; *d && r->ncols == 1; d++)
        if (*d != r->delim && strchr(h, *d)) {
            other = *d == '\t' ? "'\\t'" : *d == ';' ? "';'" : *d == '|' ? "'|'" : "','";
            break;
        }
    if (h[0] && strchr("#%!", h[0]) && h[0] != r->delim)
        snprintf(hint, cap,
                 "the header line starts with '%c': if it and other lines are comments, skip "
                 "them (comment, --comment '%c'; skip_lines, --skip-rows N)",
                 h[0], h[0]);
    else if (other)
        snprintf(hint, cap, "the header has one field, holding %s: the delimiter? (--delimiter %s)",
                 other, other);
    else if (!first)
        snprintf(hint, cap, "%s", skip);
    else if (r->ncols == 1)
        snprintf(hint, cap,
                 "the header has one field: a title line above it (skip_lines, --skip-rows N), "
                 "or another delimiter (--delimiter)");
    else if (f->found == r->ncols + 1)
        snprintf(hint, cap,
                 "the first row already has one field more than the header: a first column "
                 "with no name in the header (an index, as pandas writes), to be named there");
    else
        snprintf(hint, cap,
                 "the first row already differs from the header: check the delimiter "
                 "(--delimiter) and the lines above the header (--skip-rows, --comment); %s",
                 skip);
}

static weft_status fault_error(const csv_reader *r, const csv_fault *f)
{
    char where[512];
    csv_reader_where(r, f->pos, where, sizeof where);
    if (f->kind == CSV_FAULT_LINE_END) return line_end_error(r, f->pos);
    if (f->kind == CSV_FAULT_COMMENT)
        return weft_error_set(WEFT_ERR_DATA,
                              "%sa comment line holding a quote (it is not read as a quoted "
                              "field; remove the quote or the comment)",
                              where);
    if (f->kind == CSV_FAULT_FIELDS) {
        char hint[256];
        fields_hint(r, f, hint, sizeof hint);
        return weft_error_set(WEFT_ERR_DATA, "%sexpected %zu fields, found %zu (%s)", where,
                              r->ncols, f->found, hint);
    }
    return weft_error_set(WEFT_ERR_DATA, "%sinvalid UTF-8 (byte 0x%02X)%s", where,
                          (unsigned)(unsigned char)r->buf[f->pos], NOT_UTF8_HINT);
}

static weft_status unterminated(const csv_reader *r)
{
    size_t open = r->ix.consumed;
    int inq = 0;
    for (size_t i = r->ix.consumed; i < r->len; i++)
        if (r->buf[i] == '"') {
            if (!inq) open = i;
            inq ^= 1;
        }
    char where[512];
    size_t line_start = open;
    while (line_start > r->ix.consumed && r->buf[line_start - 1] != r->eol)
        line_start--;
    if (r->comment && r->buf[line_start] == r->comment) {
        csv_fault f = {CSV_FAULT_COMMENT, line_start, 0};
        return fault_error(r, &f);
    }
    csv_reader_where(r, open, where, sizeof where);
    return weft_error_set(WEFT_ERR_DATA, "%sunterminated quoted field (the file ends inside it)",
                          where);
}

/* The tail of the finished window joins the next block. */
static weft_status next_candidate(csv_reader *r)
{
    const char *tail = r->buf + r->ix.consumed;
    size_t tail_len = r->len - r->ix.consumed;
    csv_block *b;
    RETURN_ON_ERROR(csv_source_take(r->src, r->path, &b));
    /* Read before the block may go back to the read-ahead thread, which
     * refills it: its eof then was the next block's (the file's tail lost). */
    int eof = b->eof;
    char *data;
    size_t len = tail_len + b->len;
    if (tail_len <= CSV_HEADROOM) {
        data = b->mem + CSV_HEADROOM - tail_len;
        memcpy(data, tail, tail_len);
        release_window(r);
        r->block = (int)(b - r->src->blocks);
    } else {
        data = malloc(len + 1);
        if (!data) {
            csv_source_release(r->src, b);
            return weft_error_set(WEFT_ERR_NOMEM, "csv: cannot allocate a %zu-byte window", len);
        }
        memcpy(data, tail, tail_len);
        memcpy(data + tail_len, b->mem + CSV_HEADROOM, b->len);
        csv_source_release(r->src, b);
        release_window(r);
        free(r->own);
        r->own = data;
        r->own_cap = len + 1;
    }
    r->eof = eof;
    if (r->eof) end_last_line(r, data, &len);
    r->buf = data;
    r->len = len;
    return WEFT_OK;
}

/* Whole-file reductions need windows of whole WEFT_SUM_BLOCK blocks: the rest
 * goes to the next window. */
static void trim_to_blocks(csv_reader *r)
{
    size_t keep = r->ix.rows / WEFT_SUM_BLOCK * WEFT_SUM_BLOCK;
    size_t consumed = r->ix.cells[keep * (r->ncols + 1)];
    for (size_t i = consumed; i < r->ix.consumed; i++)
        r->ix.lines -= r->buf[i] == r->eol;
    r->ix.rows = keep;
    r->ix.consumed = consumed;
    r->ix.skipped = csv_index_skipped(&r->ix, consumed);
}

weft_status csv_reader_next(csv_reader *r)
{
    if (r->started && !r->done) {
        r->line += r->ix.lines;
        r->row += r->ix.rows;
        r->skipped += r->ix.skipped;
        r->offset += r->ix.consumed;
        if (r->eof)
            r->done = 1;
        else
            RETURN_ON_ERROR(next_candidate(r));
    }
    r->started = 1;
    if (r->done) {
        r->ix.rows = 0;
        r->ix.consumed = 0;
        r->ix.lines = 0;
        r->ix.skipped = 0;
        return WEFT_OK;
    }
    for (;;) {
        csv_fault fault;
        csv_syntax syn = {r->delim, r->eol, r->comment, r->bad_rows};
        RETURN_ON_ERROR(csv_scan(r->pool, r->buf, r->len, &syn, r->ncols, &r->ix, &fault));
        if (fault.kind != CSV_FAULT_NONE) return fault_error(r, &fault);
        if (r->eof || (r->ix.rows > 0 && (!r->align || r->ix.rows >= WEFT_SUM_BLOCK))) break;
        if (csv_cancel_asked(r->src->cancel)) return csv_cancelled();
        if (r->ix.rows == 0 && r->ix.consumed > 0) {
            /* Blank or comment lines only, so far: passed over as a finished
             * window is, not held (50 MB of blank lines held 900 MB). */
            r->line += r->ix.lines;
            r->skipped += r->ix.skipped; /* a window of rows all left out */
            r->offset += r->ix.consumed;
            RETURN_ON_ERROR(next_candidate(r));
            continue;
        }
        /* Scanned again only once it has doubled: a window grown a block at
         * a time was scanned whole after each (a 100 MB field at a 64 KiB
         * window took three minutes). */
        char *data = r->buf;
        size_t len = r->len, target = 2 * len;
        do
            RETURN_ON_ERROR(append_block(r, &data, &len, &r->eof));
        while (!r->eof && len < target && len <= r->max_window);
    }
    if (r->eof && r->ix.consumed < r->len) return unterminated(r);
    if (r->align && !r->eof && r->ix.rows % WEFT_SUM_BLOCK) trim_to_blocks(r);
    r->bytes_done = r->offset + r->ix.consumed;
    return WEFT_OK;
}
