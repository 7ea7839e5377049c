/* The streaming CSV reader and writer: shared types of src/csv/.
 *
 * A window is a run of complete records in one buffer. Its structural index
 * holds, per row, the row's first byte and the end of each of its fields, so a
 * field is a byte range of the buffer: untouched fields are copied out byte for
 * byte, and only the columns an expression reads are parsed into arrays. */
#ifndef WEFT_CSV_H
#define WEFT_CSV_H

#include "../core/pool.h"
#include "bigbuf.h"
#include "weft.h"

#include <stddef.h>
#include <stdint.h>

/* Why a window is malformed; the reader turns it into "file:line: ..." text. */
typedef enum csv_fault_kind {
    CSV_FAULT_NONE = 0,
    CSV_FAULT_FIELDS,   /* a record with the wrong number of fields */
    CSV_FAULT_UTF8,     /* invalid UTF-8 */
    CSV_FAULT_LINE_END, /* a CR or LF outside quotes that is not the file's line end */
    CSV_FAULT_COMMENT   /* a comment line holding a quote (it would open a quoted field) */
} csv_fault_kind;

/* How the records of a file are written. */
typedef struct csv_syntax {
    char delim;
    /* The byte that ends a line: '\n' (an LF, or CRLF: the CR is dropped), or
     * '\r' for files whose lines end in a bare CR. The other one may appear
     * only in quotes: read as data it would hide a line end. */
    char eol;
    char comment; /* lines starting with it are skipped; 0: none */
    int bad_rows; /* a weft_csv_bad_rows */
} csv_syntax;

typedef struct csv_fault {
    csv_fault_kind kind;
    size_t pos;   /* byte of the buffer: the record's start, or the bad byte */
    size_t found; /* CSV_FAULT_FIELDS: fields in that record */
} csv_fault;

/* Per-chunk bookkeeping of a scan, kept between windows to avoid reallocation. */
typedef struct csv_chunk {
    size_t begin, end;       /* bytes of the buffer */
    size_t quotes, specials; /* '"' bytes; delimiters and newlines (an upper bound) */
    size_t newlines;         /* line-end bytes, in or out of quotes */
    size_t slot;             /* first entry of this chunk in csv_scan.entries */
    size_t count, records;   /* entries emitted; of which record ends */
    int in_quote;            /* parity at the chunk's start */
    csv_fault fault;         /* the chunk's first fault */
} csv_chunk;

/* The structural index of one window. */
typedef struct csv_index {
    uint32_t *cells; /* (ncols + 1) per row: the row's start, then each field's end */
    size_t rows;
    size_t consumed;   /* bytes of the buffer that belong to complete records */
    size_t lines;      /* line-end bytes in [0, consumed): physical lines the window spans */
    int ends_in_quote; /* the bytes after `consumed` open a quoted field */
    int padded;        /* a short row got empty fields: rows cannot be copied whole */
    /* Rows of the wrong width left out (bad_rows skip): where each starts,
     * in order, and how many start before `consumed`. */
    uint32_t *skipped_at;
    size_t nskipped, skipped_cap, skipped;
    uint32_t *entries; /* scratch: delimiter / newline positions, per chunk
                          (newline entries carry CSV_NEWLINE_BIT) */
    csv_bigbuf cells_buf, entries_buf;
    csv_chunk *chunks;
    size_t nchunks, chunks_cap;
} csv_index;

#define CSV_NEWLINE_BIT 0x80000000u
#define CSV_MAX_WINDOW ((size_t)1 << 30)

void csv_index_free(csv_index *ix);
/* The rows of the wrong width left out that start before `consumed`. */
size_t csv_index_skipped(const csv_index *ix, size_t consumed);
/* Finds the complete records of buf[0, len) with `ncols` fields each, in
 * parallel over chunks (quote parity carried across chunk edges). Blank lines
 * are skipped. On a malformed record or invalid UTF-8 within the complete
 * records, *fault says where; WEFT_ERR_NOMEM is the only failure status. */
weft_status csv_scan(weft_pool *pool, const char *buf, size_t len, const csv_syntax *syn,
                     size_t ncols, csv_index *ix, csv_fault *fault);

/* Field `col` of row `row`: [*begin, *end) of the buffer, line end removed. */
static inline void csv_field(const csv_index *ix, size_t ncols, size_t row, size_t col,
                             size_t *begin, size_t *end)
{
    const uint32_t *r = ix->cells + row * (ncols + 1);
    *begin = col == 0 ? r[0] : r[col] + 1;
    *end = r[col + 1];
    if (*begin > *end) *begin = *end; /* a field a short row was padded with */
}

/* The value of a quoted field without its quotes, when it holds no escaped
 * quote (numbers never do): 0 when [b, e) is quoted and has one. */
int csv_unquote_simple(const char **b, const char **e);

/* Length of the record that starts at buf[0] (its line end included), or 0
 * when buf[0, len) holds no complete record. Sequential: for the header. */
size_t csv_record_length(const char *buf, size_t len, char eol);
/* The line end of a file that starts with buf[0, len): '\r' when its first
 * line end outside quotes is a bare CR and no LF is outside quotes, else '\n';
 * 0 when buf holds no line end yet (or ends in its first CR and more is to
 * come). */
char csv_detect_eol(const char *buf, size_t len, int at_eof);
/* Offset of the first CR or LF outside quotes in rec[0, len) that is not the
 * line end `eol` (a CR before an LF is part of a CRLF), or (size_t)-1. */
size_t csv_stray_line_end(const char *rec, size_t len, char eol);
/* Splits one record (its line end removed) into unquoted field values:
 * names[i] are malloc'ed; returns the count, or (size_t)-1 on out of memory. */
size_t csv_split_record(const char *rec, size_t len, char delim, char ***names);
/* Frees strings[0, n) and the array (NULL: nothing). */
void csv_strings_free(char **strings, size_t n);

/* 1 when buf[0, len) is valid UTF-8; *bad is the offset of the first bad byte.
 * A sequence cut by `len` counts as valid (the next window completes it). */
int csv_utf8_valid(const char *buf, size_t len, size_t limit, size_t *bad);

#endif
