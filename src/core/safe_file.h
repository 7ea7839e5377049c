/* Reading files that someone else may have put in our way: only regular
 * files are read, they are opened without blocking (a FIFO or a device would
 * otherwise hang the process in open or read) and their size is bounded. */
#ifndef WEFT_SAFE_FILE_H
#define WEFT_SAFE_FILE_H

#include "weft.h"

#include <stddef.h>
#include <sys/stat.h>

enum { WEFT_FILE_NOFOLLOW = 1 }; /* refuse a symbolic link in the last component */

/* Opens path for reading. WEFT_ERR_IO: it does not exist (a plain miss);
 * WEFT_ERR_INVALID_ARG: it exists but is no regular file or cannot be opened
 * (the detail says which). On success *fd is open and *info describes it. */
weft_status weft_file_open_regular(const char *path, int flags, int *fd, struct stat *info);
/* Reads exactly size bytes from fd (WEFT_ERR_IO on a short read). */
weft_status weft_file_read_exact(int fd, void *buf, size_t size);
/* The whole file, NUL-terminated, if it is regular and at most max bytes;
 * statuses as weft_file_open_regular, WEFT_ERR_RANGE when it is larger. */
weft_status weft_file_read_regular(const char *path, int flags, size_t max, char **data,
                                   size_t *size);
/* A file or directory this process may trust with what it loads: owned by
 * the effective user and writable by nobody else (as ssh and ccache require).
 * On refusal writes the reason to why. */
int weft_file_trusted(const struct stat *info, char *why, size_t cap);

#endif
