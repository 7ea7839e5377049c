/* The raw side of reading a CSV file: blocks read ahead by a thread of
 * their own, from a file, a pipe or a FIFO, stopping when cancelled. */
#ifndef WEFT_CSV_SOURCE_H
#define WEFT_CSV_SOURCE_H

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
    char *spare; /* block memory outside the two: swapped in for a detached block's */
    size_t take; /* next block to hand out */
    pthread_t thread;
    int started, stop, eof, err_no;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} csv_source;

/* Opens path (for a FIFO, waits for its writer, polling `cancel`) and
 * starts the read-ahead thread. */
weft_status csv_source_open(csv_source *s, const char *path, size_t block_bytes,
                            const volatile int *cancel);
/* The next block in file order, waiting for the read; WEFT_ERR_IO if it
 * failed, csv_cancelled() when `cancel` was set while it waited. */
weft_status csv_source_take(csv_source *s, const char *path, csv_block **block);
/* Hands a taken block back for the next read. */
void csv_source_release(csv_source *s, csv_block *b);
/* Keeps a taken block's bytes out of the read-ahead: *mem gets its memory
 * (free it with csv_source_return), the block gets spare memory and is
 * handed back for the next read. WEFT_ERR_NOMEM when no spare can be made. */
weft_status csv_source_detach(csv_source *s, csv_block *b, char **mem);
/* Gives memory from csv_source_detach back as the next spare. */
void csv_source_return(csv_source *s, char *mem);
void csv_source_close(csv_source *s);

/* Whether *cancel (weft_csv_job.cancel, may be NULL) asks to stop: read
 * atomically, since a thread other than a signal handler may set it. */
static inline int csv_cancel_asked(const volatile int *cancel)
{
    return cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED);
}

/* WEFT_ERR_CANCELLED, with the detail a cancelled wait gives. */
weft_status csv_cancelled(void);

#endif
