/* CSV dialects beyond weft_csv_options: lines to skip before the header,
 * comment lines, rows of the wrong width, and how the output is written
 * (docs/csv.md, "Dialects"). Exported from the library; declared here until
 * it joins the public header. */
#ifndef WEFT_CSV_DIALECT_H
#define WEFT_CSV_DIALECT_H

#include "weft.h"

/* A record with more or fewer fields than the header. */
typedef enum weft_csv_bad_rows {
    WEFT_CSV_BAD_ERROR = 0, /* an error naming its line (default) */
    WEFT_CSV_BAD_SKIP,      /* left out of the output and the reductions */
    WEFT_CSV_BAD_PAD        /* a short row gets empty fields; a long one is an error */
} weft_csv_bad_rows;

/* How the output quotes its fields. */
typedef enum weft_csv_quoting {
    WEFT_CSV_QUOTE_KEEP = 0,  /* untouched fields exactly as read (default) */
    WEFT_CSV_QUOTE_MINIMAL,   /* quotes only where needed (csv.QUOTE_MINIMAL) */
    WEFT_CSV_QUOTE_ALL,       /* every field (csv.QUOTE_ALL) */
    WEFT_CSV_QUOTE_NONNUMERIC /* every field but numbers (csv.QUOTE_NONNUMERIC) */
} weft_csv_quoting;

typedef struct weft_csv_dialect {
    size_t skip_lines; /* physical lines dropped before anything is read (metadata) */
    char comment;      /* lines starting with it are skipped, before the header too; 0: none */
    weft_csv_bad_rows bad_rows;
    /* Output. Any choice but the defaults rewrites every field (unquoted, then
     * quoted as asked) and writes the header fresh from the names. */
    char out_delimiter; /* 0: the input's */
    weft_csv_quoting quoting;
    int crlf; /* 1: lines end in "\r\n"; 0: "\n" */
} weft_csv_dialect;

WEFT_API void weft_csv_dialect_init(weft_csv_dialect *dialect);

/* weft_csv_run with a dialect (NULL: the defaults, as weft_csv_run). */
WEFT_API weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                          const weft_csv_options *options,
                                          const weft_csv_dialect *dialect, weft_csv_job *job,
                                          weft_csv_stats *stats);

#endif
