/* The writer thread and the output file: a regular file (new, or replacing
 * one) is written to a temporary file beside it and renamed into place, so a
 * failed run leaves it as it was; a symlink is followed, so the link stays and
 * its target is replaced; anything else that exists (a device such as
 * /dev/null, a FIFO, a socket) and "-" (standard output) are written
 * directly, since they cannot be replaced. */
#include "../core/error.h"
#include "../core/pool.h"
#include "handoff.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static int write_pieces(int fd, struct iovec *iov, size_t n)
{
    while (n > 0) {
        int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        size_t done = (size_t)w;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

static void *sink_main(void *arg)
{
    csv_sink *s = arg;
    size_t next = 0;
    for (;;) {
        csv_outbuf *b = &s->bufs[next];
        csv_handoff_wait(&s->lock, &s->cond, &b->full, 0, &s->stop);
        if (!b->full) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        int failed = s->err_no != 0;
        pthread_mutex_unlock(&s->lock);
        int err = failed ? 0 : write_pieces(s->fd, b->pieces, b->npieces);
        pthread_mutex_lock(&s->lock);
        if (err && !s->err_no) s->err_no = err;
        if (!err && !failed) s->written += b->bytes;
        b->full = 0;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        next = (next + 1) % CSV_OUTBUFS;
    }
    return NULL;
}

/* Opens what cannot be replaced: written in place, never renamed. */
static weft_status open_direct(csv_sink *s, const char *path)
{
    s->direct = 1;
    s->fd = strcmp(path, "-") == 0 ? dup(STDOUT_FILENO) : open(path, O_WRONLY | O_CLOEXEC);
    RETURN_IF(s->fd < 0, WEFT_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
    return WEFT_OK;
}

/* The file a symlink names, followed through links (existing or not): a
 * dangling link's target is created by the rename, as `>` would create it.
 * NULL when it cannot be read or the chain is too long. */
static char *link_target(const char *path)
{
    char *at = strdup(path);
    for (int hops = 0; at && hops < 40; hops++) {
        struct stat st;
        if (lstat(at, &st) != 0 || !S_ISLNK(st.st_mode)) return at;
        char to[PATH_MAX];
        ssize_t len = readlink(at, to, sizeof to - 1);
        if (len < 0) break;
        to[len] = 0;
        const char *slash = strrchr(at, '/');
        size_t dir = to[0] == '/' || !slash ? 0 : (size_t)(slash - at) + 1;
        char *next = malloc(dir + (size_t)len + 1);
        if (next) {
            memcpy(next, at, dir);
            memcpy(next + dir, to, (size_t)len + 1);
        }
        free(at);
        at = next;
    }
    free(at);
    return NULL;
}

/* A temporary file beside `path` (the file a symlink names, when it is one),
 * with the mode and owner of the file it replaces (old: its status, NULL when
 * there is none), or a new file's mode. */
static weft_status open_temporary(csv_sink *s, const char *path, const struct stat *old)
{
    char *target = link_target(path); /* path itself when it is no symlink */
    RETURN_IF(!target, WEFT_ERR_IO, "%s: cannot follow the symlink", path);
    free(s->path); /* the path written from here on */
    s->path = target;
    const char *dest = s->path;
    size_t n = strlen(dest) + 16;
    s->tmp_path = malloc(n);
    RETURN_IF(!s->tmp_path, WEFT_ERR_NOMEM, "csv: out of memory");
    snprintf(s->tmp_path, n, "%s.tmp-XXXXXX", dest);
    s->fd = mkstemp(s->tmp_path);
    RETURN_IF(s->fd < 0, WEFT_ERR_IO, "%s: cannot create a temporary file beside it: %s", dest,
              strerror(errno));
    if (old) {
        /* What it replaces keeps its mode (a private file stays private). */
        (void)fchmod(s->fd, old->st_mode & 07777);
        if (old->st_uid != geteuid() || old->st_gid != getegid())
            (void)fchown(s->fd, old->st_uid, old->st_gid);
    } else { /* mkstemp makes the file private; give it the mode a new file gets */
        mode_t mask = umask(0);
        umask(mask);
        (void)fchmod(s->fd, 0666 & ~mask);
    }
    return WEFT_OK;
}

weft_status csv_sink_open(csv_sink *s, const char *path, int do_fsync)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->do_fsync = do_fsync;
    s->path = strdup(path);
    RETURN_IF(!s->path, WEFT_ERR_NOMEM, "csv: out of memory");
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (strcmp(path, "-") == 0 || (exists && !S_ISREG(st.st_mode)))
        RETURN_ON_ERROR(open_direct(s, path));
    else
        RETURN_ON_ERROR(open_temporary(s, path, exists ? &st : NULL));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->locks = 1;
    if (pthread_create(&s->thread, NULL, sink_main, s) != 0) {
        csv_sink_abort(s);
        return weft_error_set(WEFT_ERR_THREAD, "csv: cannot start the writer thread");
    }
    s->started = 1;
    return WEFT_OK;
}

weft_status csv_sink_buffer(csv_sink *s, csv_outbuf **out)
{
    csv_outbuf *b = &s->bufs[s->next];
    pthread_mutex_lock(&s->lock);
    int waits = b->full;
    if (waits) weft_pool_block_begin(); /* the writer needs no slot: a task's serves others */
    while (b->full)
        pthread_cond_wait(&s->cond, &s->lock);
    int err = s->err_no;
    pthread_mutex_unlock(&s->lock);
    if (waits) weft_pool_block_end();
    RETURN_IF(err, WEFT_ERR_IO, "%s: write failed: %s", s->path, strerror(err));
    b->npieces = 0;
    b->bytes = 0;
    *out = b;
    return WEFT_OK;
}

void csv_sink_submit(csv_sink *s, csv_outbuf *b)
{
    csv_handoff_set(&s->lock, &s->cond, &b->full, 1);
    s->next = (s->next + 1) % CSV_OUTBUFS;
}

static void stop_thread(csv_sink *s)
{
    if (!s->started) return;
    csv_handoff_set(&s->lock, &s->cond, &s->stop, 1);
    weft_pool_block_begin(); /* it may still be writing the last buffers */
    pthread_join(s->thread, NULL);
    weft_pool_block_end();
    s->started = 0;
}

static void release(csv_sink *s)
{
    if (s->locks) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
    }
    if (s->fd >= 0) close(s->fd);
    for (int i = 0; i < CSV_OUTBUFS; i++) {
        csv_bigbuf_free(&s->bufs[i].mem);
        free(s->bufs[i].pieces);
    }
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

weft_status csv_sink_commit(csv_sink *s, uint64_t *written)
{
    stop_thread(s); /* the thread writes every full buffer before it stops */
    *written = s->written;
    weft_status st = WEFT_OK;
    if (s->err_no)
        st = weft_error_set(WEFT_ERR_IO, "%s: write failed: %s", s->path, strerror(s->err_no));
    /* A pipe or a device may not sync (EINVAL): only files must. */
    if (st == WEFT_OK && s->do_fsync && fsync(s->fd) != 0 &&
        !(s->direct && (errno == EINVAL || errno == EROFS)))
        st = weft_error_set(WEFT_ERR_IO, "%s: fsync failed: %s", s->path, strerror(errno));
    if (st == WEFT_OK && close(s->fd) != 0)
        st = weft_error_set(WEFT_ERR_IO, "%s: close failed: %s", s->path, strerror(errno));
    else if (st != WEFT_OK)
        close(s->fd);
    s->fd = -1;
    if (!s->direct) {
        if (st == WEFT_OK && rename(s->tmp_path, s->path) != 0)
            st = weft_error_set(WEFT_ERR_IO, "%s: cannot rename the finished output into place: %s",
                                s->path, strerror(errno));
        if (st != WEFT_OK) unlink(s->tmp_path);
    }
    release(s);
    return st;
}

void csv_sink_abort(csv_sink *s)
{
    stop_thread(s);
    if (!s->direct && s->tmp_path && s->fd >= 0) unlink(s->tmp_path);
    release(s);
}
