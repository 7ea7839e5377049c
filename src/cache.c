#include "cache.h"
#include "error.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* File layout, all integers little-endian:
 *   magic "WEFTBIN1" | key[32] | payload size u64 | sha256(payload)[32] | payload */
static const char magic[8] = {'W', 'E', 'F', 'T', 'B', 'I', 'N', '1'};
enum { HEADER_SIZE = 8 + 32 + 8 + 32 };

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

weft_status weft_cache_parse(const void *file, size_t file_size, const uint8_t key[32],
                             const unsigned char **payload, size_t *payload_size)
{
    const unsigned char *p = file;
    RETURN_IF(!p || file_size < HEADER_SIZE, WEFT_ERR_CACHE, "truncated header (%zu bytes)",
              file_size);
    RETURN_IF(memcmp(p, magic, 8) != 0, WEFT_ERR_CACHE, "not a weft cache file (bad magic)");
    RETURN_IF(memcmp(p + 8, key, 32) != 0, WEFT_ERR_CACHE, "file belongs to another key");
    uint64_t size = get_u64(p + 40);
    RETURN_IF(size > WEFT_CACHE_MAX_PAYLOAD || size != file_size - HEADER_SIZE, WEFT_ERR_CACHE,
              "payload size %llu does not match the file (%zu bytes)", (unsigned long long)size,
              file_size);
    uint8_t digest[32];
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_update(&h, p + HEADER_SIZE, (size_t)size);
    weft_sha256_final(&h, digest);
    RETURN_IF(memcmp(digest, p + 48, 32) != 0, WEFT_ERR_CACHE, "payload checksum mismatch");
    *payload = p + HEADER_SIZE;
    *payload_size = (size_t)size;
    return WEFT_OK;
}

static void file_path(char *path, size_t cap, const char *dir, const uint8_t key[32])
{
    char hex[65];
    weft_sha256_hex(key, hex);
    snprintf(path, cap, "%s/%s.bin", dir, hex);
}

weft_status weft_cache_load(const char *dir, const uint8_t key[32], unsigned char **data,
                            size_t *size)
{
    char path[4096];
    file_path(path, sizeof path, dir, key);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    RETURN_IF(fd < 0, WEFT_ERR_IO, "no cache file %s", path);
    struct stat info;
    weft_status st = WEFT_OK;
    unsigned char *file = NULL;
    GOTO_ERROR_IF(fstat(fd, &info) != 0 || !S_ISREG(info.st_mode), WEFT_ERR_CACHE,
                  "%s is not a regular file", path);
    GOTO_ERROR_IF((uint64_t)info.st_size > WEFT_CACHE_MAX_PAYLOAD + HEADER_SIZE, WEFT_ERR_CACHE,
                  "%s is too large to be a cache file", path);
    size_t file_size = (size_t)info.st_size;
    file = malloc(file_size ? file_size : 1);
    GOTO_ERROR_IF(!file, WEFT_ERR_NOMEM, "cannot allocate %zu bytes for %s", file_size, path);
    size_t got = 0;
    while (got < file_size) {
        ssize_t r = read(fd, file + got, file_size - got);
        if (r < 0 && errno == EINTR) continue;
        GOTO_ERROR_IF(r <= 0, WEFT_ERR_CACHE, "short read of %s", path);
        got += (size_t)r;
    }
    const unsigned char *payload;
    size_t payload_size;
    st = weft_cache_parse(file, file_size, key, &payload, &payload_size);
    GOTO_ERROR_IF(st != WEFT_OK, WEFT_ERR_CACHE, "%s: %s", path, weft_last_error());
    memmove(file, payload, payload_size);
    *data = file;
    *size = payload_size;
    close(fd);
    return WEFT_OK;
error:
    free(file);
    close(fd);
    return st;
}

static int write_all(int fd, const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        size -= (size_t)w;
    }
    return 1;
}

weft_status weft_cache_store(const char *dir, const uint8_t key[32], const void *data, size_t size)
{
    RETURN_IF(size > WEFT_CACHE_MAX_PAYLOAD, WEFT_ERR_CACHE, "binary of %zu bytes is too large",
              size);
    char path[4096], temp[4200];
    file_path(path, sizeof path, dir, key);
    /* A name unique to this process and call: concurrent writers of the same
     * key each finish their own file, and rename makes one of them win whole. */
    static _Atomic unsigned serial;
    snprintf(temp, sizeof temp, "%s.tmp.%ld.%u", path, (long)getpid(), serial++);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    RETURN_IF(fd < 0, WEFT_ERR_IO, "cannot create %s: %s", temp, strerror(errno));
    unsigned char header[HEADER_SIZE];
    memcpy(header, magic, 8);
    memcpy(header + 8, key, 32);
    put_u64(header + 40, size);
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_update(&h, data, size);
    weft_sha256_final(&h, header + 48);
    int ok = write_all(fd, header, sizeof header) && write_all(fd, data, size);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(temp, path) != 0) {
        int err = errno;
        unlink(temp);
        return weft_error_set(WEFT_ERR_IO, "cannot write %s: %s", path, strerror(err));
    }
    return WEFT_OK;
}

char *weft_cache_default_dir(void)
{
    const char *env = getenv("WEFT_CACHE_DIR");
    if (env && *env) return strdup(env);
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char path[4096];
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/weft", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.cache/weft", home);
    else
        return NULL;
    return strdup(path);
}

weft_status weft_cache_prepare_dir(const char *dir)
{
    char path[4096];
    RETURN_IF(strlen(dir) >= sizeof path, WEFT_ERR_IO, "cache path too long");
    strcpy(path, dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return weft_error_set(WEFT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return weft_error_set(WEFT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    RETURN_IF(access(path, W_OK) != 0, WEFT_ERR_IO, "cache directory %s is not writable", path);
    return WEFT_OK;
}
