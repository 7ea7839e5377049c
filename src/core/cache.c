#include "cache.h"
#include "error.h"
#include "safe_file.h"
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

static weft_status file_path(char *path, size_t cap, const char *dir, const uint8_t key[32])
{
    char hex[65];
    weft_sha256_hex(key, hex);
    int n = snprintf(path, cap, "%s/%s.bin", dir, hex);
    RETURN_IF(n < 0 || (size_t)n >= cap, WEFT_ERR_CACHE, "cache path in %.64s... is too long", dir);
    return WEFT_OK;
}

void weft_cache_side_name(char *name, size_t cap, const char *final_path, const char *what)
{
    /* Unique to this process and call: concurrent writers of the same key
     * each finish their own file, and rename makes one of them win whole. */
    static _Atomic unsigned serial;
    snprintf(name, cap, "%s.%s.%ld.%u", final_path, what, (long)getpid(), serial++);
}

/* Reads and checks the file open on fd (path names it in errors). */
static weft_status read_checked(int fd, const struct stat *info, const char *path,
                                const uint8_t key[32], unsigned char **data, size_t *size)
{
    char why[128];
    RETURN_IF(!weft_file_trusted(info, why, sizeof why), WEFT_ERR_CACHE, "%s is not trusted: %s",
              path, why);
    RETURN_IF((uint64_t)info->st_size > WEFT_CACHE_MAX_PAYLOAD + HEADER_SIZE, WEFT_ERR_CACHE,
              "%s is too large to be a cache file", path);
    size_t file_size = (size_t)info->st_size;
    unsigned char *file = malloc(file_size ? file_size : 1);
    RETURN_IF(!file, WEFT_ERR_NOMEM, "cannot allocate %zu bytes for %s", file_size, path);
    weft_status st = weft_file_read_exact(fd, file, file_size);
    GOTO_ERROR_IF(st != WEFT_OK, WEFT_ERR_CACHE, "%s: %s", path, weft_last_error());
    const unsigned char *payload;
    size_t payload_size;
    st = weft_cache_parse(file, file_size, key, &payload, &payload_size);
    GOTO_ERROR_IF(st != WEFT_OK, WEFT_ERR_CACHE, "%s: %s", path, weft_last_error());
    memmove(file, payload, payload_size);
    *data = file;
    *size = payload_size;
    return WEFT_OK;
error:
    free(file);
    return st;
}

weft_status weft_cache_load(const char *dir, const uint8_t key[32], unsigned char **data,
                            size_t *size, char *quarantine, size_t cap)
{
    char path[WEFT_CACHE_PATH];
    RETURN_ON_ERROR(file_path(path, sizeof path, dir, key));
    int fd;
    struct stat info;
    weft_status st = weft_file_open_regular(path, WEFT_FILE_NOFOLLOW, &fd, &info);
    if (st == WEFT_ERR_IO) return st; /* a plain miss */
    RETURN_IF(st != WEFT_OK, WEFT_ERR_CACHE, "%s", weft_last_error());
    st = read_checked(fd, &info, path, key, data, size);
    close(fd);
    RETURN_ON_ERROR(st);
    /* Out of its name before anyone hands it to a driver (see cache.h). */
    weft_cache_side_name(quarantine, cap, path, "loading");
    if (rename(path, quarantine) != 0) {
        int err = errno;
        free(*data);
        *data = NULL;
        quarantine[0] = '\0';
        return weft_error_set(WEFT_ERR_IO, "cannot quarantine %s (%s): taken as a miss", path,
                              strerror(err));
    }
    return WEFT_OK;
}

void weft_cache_loaded(const char *quarantine, int accepted)
{
    if (!quarantine || !*quarantine) return;
    const char *suffix = strstr(quarantine, ".bin.loading.");
    char path[WEFT_CACHE_PATH];
    if (accepted && suffix && (size_t)(suffix - quarantine) + 5 <= sizeof path) {
        snprintf(path, sizeof path, "%.*s.bin", (int)(suffix - quarantine), quarantine);
        if (rename(quarantine, path) == 0) return;
    }
    unlink(quarantine);
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
    char path[WEFT_CACHE_PATH], temp[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    RETURN_ON_ERROR(file_path(path, sizeof path, dir, key));
    weft_cache_side_name(temp, sizeof temp, path, "tmp");
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
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
