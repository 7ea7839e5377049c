/* The output side: windows formatted in parallel into a buffer of pieces, and
 * a writer thread that writes the previous window's pieces to a temporary
 * file, renamed into place only when the whole run succeeded (or, for what
 * cannot be replaced, such as /dev/null, a FIFO or "-", straight to it). */
#ifndef WEFT_CSV_SINK_H
#define WEFT_CSV_SINK_H

#include "bigbuf.h"
#include "plan.h"

#include <pthread.h>
#include <sys/uio.h>

typedef struct csv_outbuf {
    csv_bigbuf mem;
    struct iovec *pieces;
    size_t npieces, pieces_cap;
    size_t bytes;
    int full; /* handed to the writer thread */
} csv_outbuf;

/* Output buffers: one being formatted, the others queued for the writer, so a
 * slow write does not stall the next window at once. */
#define CSV_OUTBUFS 3

typedef struct csv_sink {
    char *path, *tmp_path; /* tmp_path: NULL when written directly */
    int fd, do_fsync;
    int direct; /* a device, FIFO or standard output: written in place */
    int locks;  /* lock and cond initialised */
    csv_outbuf bufs[CSV_OUTBUFS];
    size_t next; /* buffer the next window formats into */
    pthread_t thread;
    int started, stop, err_no;
    uint64_t written;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} csv_sink;

weft_status csv_sink_open(csv_sink *s, const char *path, int do_fsync);
/* The buffer to format the next window into, once the writer is done with it. */
weft_status csv_sink_buffer(csv_sink *s, csv_outbuf **out);
void csv_sink_submit(csv_sink *s, csv_outbuf *b);
/* Waits for every write, then renames the temporary file onto path. Path "-"
 * is standard output. */
weft_status csv_sink_commit(csv_sink *s, uint64_t *written);
/* Stops and removes the temporary file; path is left as it was. */
void csv_sink_abort(csv_sink *s);

/* Formats the window's rows (and the header first when `header`) into b. */
weft_status csv_format_window(const csv_reader *r, const csv_plan *p, int header, csv_outbuf *b);

#endif
