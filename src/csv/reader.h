/* Reading a CSV file as windows of complete records: a read-ahead thread
 * fills raw blocks, and each window is the previous window's unfinished
 * record followed by the next block. */
#ifndef WEFT_CSV_READER_H
#define WEFT_CSV_READER_H

#include "source.h"

#include <pthread.h>

typedef struct csv_reader {
    weft_pool *pool;
    char *path;
    char delim;
    char eol; /* the file's line end ('\n' or '\r'); 0 until the first line is read */
    int header;
    size_t skip_lines;
    char comment;
    int bad_rows;
    int align; /* windows hold a multiple of WEFT_SUM_BLOCK rows (whole-file reductions) */
    size_t max_window;
    /* Its own allocation: a view (csv_reader_view) shares it, where a copy
     * would read it while the read-ahead thread writes it. */
    csv_source *src;
    size_t ncols;
    char **names;
    char *header_raw; /* the header record as written, line end removed */
    size_t header_len;
    /* the current window */
    char *buf;
    size_t len;
    int block; /* index of the block buf lives in, or -1 for `own` */
    char *own;
    size_t own_cap;
    csv_index ix;
    uint64_t line;    /* physical line of buf[0], 1-based */
    uint64_t row;     /* index of the window's first row in the file */
    uint64_t skipped; /* rows of the wrong width left out before the window */
    uint64_t offset;  /* file offset of buf[0] */
    uint64_t bytes_done;
    int eof; /* the current bytes end the file */
    int started, done;
} csv_reader;

/* A window the pipeline keeps after the reader has moved on: it is formatted
 * while the next one is parsed. Zero-initialised before the first hold. */
typedef struct csv_window {
    char *buf;
    size_t len;
    char *mem; /* the source block memory buf lives in (detached), or NULL */
    char *own; /* the reader's joined buffer, when it was one */
    csv_index ix;
    uint64_t row, bytes_done;
} csv_window;

/* Moves the current window into *w, which must have been dropped since its
 * last hold; the reader scans the next window into w's old index. Its block
 * leaves the read-ahead (csv_source_detach), which goes on reading. */
weft_status csv_reader_hold(csv_reader *r, csv_window *w);
/* Frees w's bytes (its block memory back to the source); keeps its index. */
void csv_reader_drop(csv_reader *r, csv_window *w);
void csv_window_free(csv_window *w);
/* A reader whose current window is w, for code that formats a window: the
 * copy shares everything else with r and is only read. */
csv_reader csv_reader_view(const csv_reader *r, const csv_window *w);

/* The checks of the public options and dialect: WEFT_ERR_INVALID_ARG naming
 * the field; *window is the window size the options ask for. */
weft_status csv_check_options(const weft_csv_options *o, size_t *window);
weft_status csv_check_dialect(const weft_csv_dialect *d, char delim);

/* Opens path and reads the header (or the first record's width). */
weft_status csv_reader_open(csv_reader *r, weft_pool *pool, const char *path, char delim,
                            int header, const weft_csv_dialect *d, size_t window_bytes, int align,
                            const volatile int *cancel);
/* The status of a run stopped through weft_csv_job.cancel. */
void csv_reader_close(csv_reader *r);
/* Moves to the next window; r->ix.rows is 0 at the end of the file. */
weft_status csv_reader_next(csv_reader *r);
/* "path:line:column: " for byte pos of the current window, into out. */
void csv_reader_where(const csv_reader *r, size_t pos, char *out, size_t cap);
int csv_column_index(const csv_reader *r, const char *name);

#endif
