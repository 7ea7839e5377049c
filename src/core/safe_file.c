#include "safe_file.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

weft_status weft_file_open_regular(const char *path, int flags, int *fd, struct stat *info)
{
    int mode = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    if (flags & WEFT_FILE_NOFOLLOW) mode |= O_NOFOLLOW;
    *fd = open(path, mode);
    if (*fd < 0) {
        int err = errno;
        RETURN_IF(err == ENOENT || err == ENOTDIR, WEFT_ERR_IO, "no file %s", path);
        return weft_error_set(WEFT_ERR_INVALID_ARG, "cannot open %s: %s", path,
                              err == ELOOP ? "it is a symbolic link" : strerror(err));
    }
    if (fstat(*fd, info) != 0 || !S_ISREG(info->st_mode)) {
        close(*fd);
        *fd = -1;
        return weft_error_set(WEFT_ERR_INVALID_ARG, "%s is not a regular file", path);
    }
    return WEFT_OK;
}

weft_status weft_file_read_exact(int fd, void *buf, size_t size)
{
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t r = read(fd, p, size);
        if (r < 0 && errno == EINTR) continue;
        RETURN_IF(r <= 0, WEFT_ERR_IO, "short read (%s)", r < 0 ? strerror(errno) : "end of file");
        p += r;
        size -= (size_t)r;
    }
    return WEFT_OK;
}

weft_status weft_file_read_regular(const char *path, int flags, size_t max, char **data,
                                   size_t *size)
{
    int fd;
    struct stat info;
    RETURN_ON_ERROR(weft_file_open_regular(path, flags, &fd, &info));
    weft_status st = WEFT_OK;
    char *text = NULL;
    GOTO_ERROR_IF((uint64_t)info.st_size > max, WEFT_ERR_RANGE,
                  "%s is %lld bytes, more than the %zu allowed", path, (long long)info.st_size,
                  max);
    size_t n = (size_t)info.st_size;
    text = malloc(n + 1);
    GOTO_ERROR_IF(!text, WEFT_ERR_NOMEM, "cannot allocate %zu bytes for %s", n + 1, path);
    st = weft_file_read_exact(fd, text, n);
    GOTO_ERROR_IF(st != WEFT_OK, WEFT_ERR_IO, "cannot read %s: %s", path, weft_last_error());
    text[n] = '\0';
    *data = text;
    *size = n;
    close(fd);
    return WEFT_OK;
error:
    free(text);
    close(fd);
    return st;
}

int weft_file_trusted(const struct stat *info, char *why, size_t cap)
{
    if (info->st_uid != geteuid()) {
        snprintf(why, cap, "owned by uid %ld, not by this user (uid %ld)", (long)info->st_uid,
                 (long)geteuid());
        return 0;
    }
    if (info->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, cap, "writable by %s (mode %04o)",
                 info->st_mode & S_IWOTH ? "every user" : "its group",
                 (unsigned)(info->st_mode & 07777));
        return 0;
    }
    return 1;
}
