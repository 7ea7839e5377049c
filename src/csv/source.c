/* The read-ahead thread: fills the free block with read() while the other
 * one is parsed, so reading overlaps everything else. */
#include "../core/error.h"
#include "../core/pool.h"
#include "handoff.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Waits until the input has bytes (or its end) to read: 0 when close() asked
 * the thread to stop instead. A read of a regular file never waits long. */
static int wait_readable(csv_source *s)
{
    if (!s->may_block) return 1;
    struct pollfd fds[2] = {{s->fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    for (;;) {
        int n = poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return 1; /* the read reports the error */
        if (fds[1].revents) return 0;
        if (fds[0].revents) return 1;
    }
}

/* Fills b; 0 when stopped before the block was complete. */
static int fill(csv_source *s, csv_block *b)
{
    char *data = b->mem + CSV_HEADROOM;
    size_t len = 0;
    int err = 0, eof = 0;
    while (len < s->block_bytes) {
        if (!wait_readable(s)) return 0;
        ssize_t got = read(s->fd, data + len, s->block_bytes - len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            err = errno;
            break;
        }
        if (got == 0) {
            eof = 1;
            break;
        }
        len += (size_t)got;
    }
    pthread_mutex_lock(&s->lock);
    b->len = len;
    b->eof = eof || err;
    b->filled = 1;
    if (err) s->err_no = err;
    if (b->eof) s->eof = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 1;
}

static void *source_main(void *arg)
{
    csv_source *s = arg;
    size_t next = 0;
    for (;;) {
        csv_block *b = &s->blocks[next];
        csv_handoff_wait(&s->lock, &s->cond, &b->filled, 1, &s->stop);
        int stop = s->stop || s->eof;
        pthread_mutex_unlock(&s->lock);
        if (stop || !fill(s, b)) break;
        next ^= 1;
    }
    return NULL;
}

/* A FIFO: waits, looking at the cancel flag every 20 ms, until a writer has
 * written or come and gone; then reads block again (the reader polls). */
static weft_status wait_for_writer(csv_source *s)
{
    struct stat st;
    if (fstat(s->fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        weft_pool_block_begin();
        while (!csv_cancel_asked(s->cancel) && poll(&p, 1, 20) <= 0 && p.revents == 0)
            ;
        weft_pool_block_end();
    }
    int flags = fcntl(s->fd, F_GETFL);
    if (flags >= 0) fcntl(s->fd, F_SETFL, flags & ~O_NONBLOCK);
    if (csv_cancel_asked(s->cancel)) {
        close(s->fd);
        s->fd = -1;
        return csv_cancelled();
    }
    return WEFT_OK;
}

weft_status csv_source_open(csv_source *s, const char *path, size_t block_bytes,
                            const volatile int *cancel)
{
    memset(s, 0, sizeof *s);
    s->block_bytes = block_bytes;
    s->cancel = cancel;
    s->wake[0] = s->wake[1] = -1;
    if (csv_cancel_asked(cancel)) return csv_cancelled();
    /* Opened without waiting: a blocking open of a FIFO waits for its writer,
     * and a signal meant to cancel it may go to any of the process's threads
     * (the pool's, the platform's) instead of interrupting the open. */
    /* "-" is standard input, as an output of "-" is standard output. */
    s->fd = open(strcmp(path, "-") == 0 ? "/dev/stdin" : path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int err = s->fd < 0 ? errno : 0;
    /* /dev/stdin of a closed descriptor 0 is "No such file or directory". */
    RETURN_IF(s->fd < 0 && strcmp(path, "-") == 0 && fcntl(STDIN_FILENO, F_GETFD) < 0, WEFT_ERR_IO,
              "-: standard input is closed");
    RETURN_IF(s->fd < 0, WEFT_ERR_IO, "%s: cannot open: %s", path, strerror(err));
    RETURN_ON_ERROR(wait_for_writer(s));
    struct stat st;
    if (fstat(s->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            close(s->fd);
            s->fd = -1;
            return weft_error_set(WEFT_ERR_IO, "%s: is a directory", path);
        }
        if (S_ISREG(st.st_mode)) s->file_bytes = (uint64_t)st.st_size;
        s->may_block = !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
    }
    if (s->may_block && pipe(s->wake) != 0) {
        err = errno;
        close(s->fd);
        s->fd = -1;
        return weft_error_set(WEFT_ERR_IO, "%s: cannot make a pipe: %s", path, strerror(err));
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    for (int i = 0; i < 2; i++) {
        s->blocks[i].mem = malloc(CSV_HEADROOM + block_bytes + 1);
        if (!s->blocks[i].mem) {
            csv_source_close(s);
            return weft_error_set(WEFT_ERR_NOMEM, "csv: cannot allocate a %zu-byte window",
                                  block_bytes);
        }
    }
    if (pthread_create(&s->thread, NULL, source_main, s) != 0) {
        csv_source_close(s);
        return weft_error_set(WEFT_ERR_THREAD, "csv: cannot start the reader thread");
    }
    s->started = 1;
    return WEFT_OK;
}

/* The cancel flag is set by a signal handler, which cannot signal the
 * condition: a waiting take looks at it this often. */
#define CANCEL_POLL_NS 20000000L

static void wait_a_little(csv_source *s)
{
    if (!s->cancel) {
        pthread_cond_wait(&s->cond, &s->lock);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += CANCEL_POLL_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->cond, &s->lock, &until);
}

weft_status csv_source_take(csv_source *s, const char *path, csv_block **block)
{
    csv_block *b = &s->blocks[s->take];
    pthread_mutex_lock(&s->lock);
    int waits = !b->filled, cancelled = 0;
    if (waits) weft_pool_block_begin(); /* the reader needs no slot: a task's serves others */
    while (!b->filled && !(cancelled = csv_cancel_asked(s->cancel)))
        wait_a_little(s);
    int err = s->err_no;
    pthread_mutex_unlock(&s->lock);
    if (waits) weft_pool_block_end();
    if (cancelled) return csv_cancelled();
    RETURN_IF(err, WEFT_ERR_IO, "%s: read failed: %s", path, strerror(err));
    s->take ^= 1;
    *block = b;
    return WEFT_OK;
}

void csv_source_release(csv_source *s, csv_block *b)
{
    csv_handoff_set(&s->lock, &s->cond, &b->filled, 0);
}

weft_status csv_source_detach(csv_source *s, csv_block *b, char **mem)
{
    if (!s->spare) s->spare = malloc(CSV_HEADROOM + s->block_bytes + 1);
    RETURN_IF(!s->spare, WEFT_ERR_NOMEM, "csv: cannot allocate a %zu-byte window", s->block_bytes);
    pthread_mutex_lock(&s->lock);
    *mem = b->mem;
    b->mem = s->spare;
    s->spare = NULL;
    pthread_mutex_unlock(&s->lock);
    csv_source_release(s, b);
    return WEFT_OK;
}

void csv_source_return(csv_source *s, char *mem)
{
    if (s->spare)
        free(mem);
    else
        s->spare = mem;
}

void csv_source_close(csv_source *s)
{
    if (s->started) {
        csv_handoff_set(&s->lock, &s->cond, &s->stop, 1);
        if (s->wake[1] >= 0) (void)!write(s->wake[1], "", 1);
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
    if (s->fd >= 0) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        close(s->fd);
    }
    free(s->spare);
    for (int i = 0; i < 2; i++) {
        free(s->blocks[i].mem);
        if (s->wake[i] >= 0) close(s->wake[i]);
    }
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->wake[0] = s->wake[1] = -1;
}

weft_status csv_cancelled(void)
{
    return weft_error_set(WEFT_ERR_CANCELLED,
                          "weft_csv_run: cancelled (job.cancel was set); no output was written");
}
