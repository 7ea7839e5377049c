/* Reading a CSV file as windows of complete records: a read-ahead thread
 * fills raw blocks, and each window is the previous window's unfinished
 * record followed by the next block. */
#ifndef WEFT_CSV_READER_H
#define WEFT_CSV_READER_H

#include "csv.h"

#include <pthread.h>

/* Room before a block's data for the record the previous window left over,
 * so it joins the block without copying the block. */
#define CSV_HEADROOM ((size_t)256 * 1024)

typedef struct csv_block {
    char *mem; /* CSV_HEADROOM + capacity + 1 (a final newline may be added) */
    size_t len;
    int eof; /* nothing follows this block */
    int filled;
} csv_block;

/* Two blocks: the reader thread fills one while the other is parsed. */
typedef struct csv_source {
    int fd;
    int wake[2];                /* a pipe: close() writes to it to stop a read waiting on a pipe */
    int may_block;              /* a pipe, FIFO or terminal: a read can wait for ever */
    const volatile int *cancel; /* polled while waiting; may be NULL */
    size_t block_bytes;
    uint64_t file_bytes; /* for progress; 0 when unknown */
    csv_block blocks[2];
    size_t take; /* next block to hand out */
    pthread_t thread;
    int started, stop, eof, err_no;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} csv_source;

/* Opens path (for a FIFO, waits for its writer until `cancel` is set and a
 * signal interrupts the wait) and starts the read-ahead thread. */
weft_status csv_source_open(csv_source *s, const char *path, size_t block_bytes,
                            const volatile int *cancel);
/* The next block in file order, waiting for the read; WEFT_ERR_IO if it
 * failed, csv_cancelled() when `cancel` was set while it waited. */
weft_status csv_source_take(csv_source *s, const char *path, csv_block **block);
/* Hands a taken block back for the next read. */
void csv_source_release(csv_source *s, csv_block *b);
void csv_source_close(csv_source *s);

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
    csv_source src;
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
    uint64_t line;   /* physical line of buf[0], 1-based */
    uint64_t row;    /* index of the window's first row in the file */
    uint64_t offset; /* file offset of buf[0] */
    uint64_t bytes_done;
    int eof; /* the current bytes end the file */
    int started, done;
} csv_reader;

/* Opens path and reads the header (or the first record's width). */
weft_status csv_reader_open(csv_reader *r, weft_pool *pool, const char *path, char delim,
                            int header, const weft_csv_dialect *d, size_t window_bytes, int align,
                            const volatile int *cancel);
/* The status of a run stopped through weft_csv_job.cancel. */
weft_status csv_cancelled(void);
void csv_reader_close(csv_reader *r);
/* Moves to the next window; r->ix.rows is 0 at the end of the file. */
weft_status csv_reader_next(csv_reader *r);
/* "path:line:column: " for byte pos of the current window, into out. */
void csv_reader_where(const csv_reader *r, size_t pos, char *out, size_t cap);
int csv_column_index(const csv_reader *r, const char *name);

#endif
