/* Cache directories: where the cache lives, whether weft may use and trust
 * it, and which of the files in it weft wrote (so that cleaning up removes
 * those and nothing else). */
#include "cache.h"
#include "error.h"
#include "safe_file.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A temporary or quarantined file is stale once its process is gone (after a
 * grace period: a pid from another pid namespace sharing the directory looks
 * gone from here) or, whatever its pid says, when no writer or loader could
 * still be at work on it. */
enum { STALE_GONE_SECONDS = 60, STALE_ANY_SECONDS = 3600 };

static const char binary_magic[8] = {'W', 'E', 'F', 'T', 'B', 'I', 'N', '1'};
static const char calibration_magic[] = "weft-calibration-1 ";
static const char model_magic[] = "weft-model-1\n";

char *weft_cache_default_dir(void)
{
    const char *env = getenv("WEFT_CACHE_DIR");
    if (env && *env) return strdup(env);
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char path[WEFT_CACHE_PATH];
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/weft", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.cache/weft", home);
    else
        return NULL;
    return strdup(path);
}

weft_status weft_cache_default_dir_get(char *buf, size_t cap)
{
    RETURN_IF(!buf, WEFT_ERR_NULL, "weft_cache_default_dir_get: buf is NULL");
    char *dir = weft_cache_default_dir();
    RETURN_IF(!dir, WEFT_ERR_IO,
              "no cache directory: WEFT_CACHE_DIR, XDG_CACHE_HOME and HOME "
              "are all unset");
    size_t len = strlen(dir);
    if (len >= cap) {
        free(dir);
        return weft_error_set(WEFT_ERR_SIZE, "the cache directory needs %zu bytes, got %zu",
                              len + 1, cap);
    }
    memcpy(buf, dir, len + 1);
    free(dir);
    return WEFT_OK;
}

static int hex_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static int decimal(const char *s, const char *end, long *value)
{
    if (s == end || end - s > 10) return 0;
    long v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (*s - '0');
    }
    *value = v;
    return 1;
}

/* What weft would have written under this name. */
typedef struct cache_name {
    int kind;      /* WEFT_CACHE_BINARY, _CALIBRATION, _TEMPORARY or 0 */
    int of_binary; /* a temporary: of a binary (else of a calibration record or model) */
    int of_model;  /* a cost model (exec/perf_store.c), or a temporary of one */
    int loading;   /* a temporary in quarantine */
    long pid;      /* a temporary: its process */
} cache_name;

static cache_name classify(const char *name)
{
    cache_name c = {0};
    size_t base = 0;
    if (hex_digits(name, 64) && strncmp(name + 64, ".bin", 4) == 0) {
        base = 68;
        c.of_binary = 1;
    } else if (strncmp(name, "calibration-", 12) == 0 && hex_digits(name + 12, 16) &&
               strncmp(name + 28, ".txt", 4) == 0) {
        base = 32;
    } else if (strncmp(name, "model-", 6) == 0 && hex_digits(name + 6, 16) &&
               strncmp(name + 22, ".txt", 4) == 0) {
        base = 26;
        c.of_model = 1;
    } else {
        return c;
    }
    const char *rest = name + base;
    if (*rest == '\0') {
        c.kind = c.of_binary  ? WEFT_CACHE_BINARY
                 : c.of_model ? WEFT_CACHE_MODEL
                              : WEFT_CACHE_CALIBRATION;
        return c;
    }
    if (strncmp(rest, ".tmp.", 5) == 0)
        rest += 5;
    else if (c.of_binary && strncmp(rest, ".loading.", 9) == 0)
        rest += 9, c.loading = 1;
    else
        return c;
    const char *dot = strchr(rest, '.');
    long serial;
    if (!dot || !decimal(rest, dot, &c.pid) ||
        !decimal(dot + 1, dot + 1 + strlen(dot + 1), &serial))
        return c;
    c.kind = WEFT_CACHE_TEMPORARY;
    return c;
}

/* The first bytes weft writes into a file of this name. */
static size_t expected_start(const char *name, const cache_name *c, unsigned char *out)
{
    if (c->of_model) {
        memcpy(out, model_magic, sizeof model_magic - 1);
        return sizeof model_magic - 1;
    }
    if (!c->of_binary) {
        memcpy(out, calibration_magic, sizeof calibration_magic - 1);
        return sizeof calibration_magic - 1;
    }
    memcpy(out, binary_magic, 8);
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(name + 2 * i, "%2x", &v);
        out[8 + i] = (unsigned char)v;
    }
    return 40;
}

/* Does the file prove by its contents that weft wrote it? A finished file
 * starts with weft's header for its name; a temporary one may have been cut
 * short anywhere, so it holds a prefix of that header (or all of it). */
static int proven(const char *dir, const char *name, const cache_name *c, struct stat *info)
{
    char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd;
    if (weft_file_open_regular(path, WEFT_FILE_NOFOLLOW, &fd, info) != WEFT_OK) return 0;
    unsigned char want[40], got[40];
    size_t need = expected_start(name, c, want);
    size_t have = (uint64_t)info->st_size < need ? (size_t)info->st_size : need;
    if (c->kind != WEFT_CACHE_TEMPORARY && have < need) have = 0, need = 1; /* too short */
    int ok = have == need || c->kind == WEFT_CACHE_TEMPORARY;
    ok = ok && weft_file_read_exact(fd, got, have) == WEFT_OK && memcmp(got, want, have) == 0;
    close(fd);
    return ok;
}

static int stale(const cache_name *c, const struct stat *info)
{
    double age = difftime(time(NULL), info->st_mtime);
    int gone = c->pid <= 0 || (kill((pid_t)c->pid, 0) != 0 && errno == ESRCH);
    return (gone && age >= STALE_GONE_SECONDS) || age >= STALE_ANY_SECONDS;
}

enum scan_mode { SCAN_COUNT, SCAN_STALE, SCAN_CLEAR };

typedef struct scan_result {
    weft_cache_usage usage;
    size_t removed;
    size_t dead_loaders; /* quarantined binaries of processes gone */
} scan_result;

static weft_status scan(const char *dir, enum scan_mode mode, scan_result *r)
{
    memset(r, 0, sizeof *r);
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT) return WEFT_OK; /* nothing there: nothing of weft's */
    RETURN_IF(!d, WEFT_ERR_IO, "cannot read the cache directory %s: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(d));) {
        cache_name c = classify(e->d_name);
        /* Opening every binary at each context creation would cost; stale
         * files are always temporaries. */
        if (!c.kind || (mode == SCAN_STALE && c.kind != WEFT_CACHE_TEMPORARY)) continue;
        struct stat info;
        if (!proven(dir, e->d_name, &c, &info)) continue;
        int remove = mode == SCAN_CLEAR && c.kind != WEFT_CACHE_TEMPORARY;
        remove =
            remove || (mode != SCAN_COUNT && c.kind == WEFT_CACHE_TEMPORARY && stale(&c, &info));
        if (c.kind == WEFT_CACHE_BINARY) {
            r->usage.binaries++;
            r->usage.bytes += (uint64_t)info.st_size;
        } else if (c.kind == WEFT_CACHE_CALIBRATION) {
            r->usage.calibrations++;
        } else if (c.kind == WEFT_CACHE_MODEL) {
            r->usage.models++;
        } else {
            r->usage.temporaries++;
        }
        if (!remove) continue;
        char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0) continue;
        r->removed++;
        r->dead_loaders += c.loading;
    }
    closedir(d);
    return WEFT_OK;
}

weft_status weft_cache_open(const char *dir, size_t *dead_loaders)
{
    if (dead_loaders) *dead_loaders = 0;
    size_t len = strlen(dir);
    RETURN_IF(len == 0, WEFT_ERR_IO, "the cache directory is \"\"");
    RETURN_IF(len + 1 + WEFT_CACHE_MAX_NAME >= WEFT_CACHE_PATH, WEFT_ERR_IO,
              "the cache directory path is %zu characters long: with the names of the files in "
              "it, longer than the system allows (%d)",
              len, WEFT_CACHE_PATH);
    char path[WEFT_CACHE_PATH];
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return weft_error_set(WEFT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return weft_error_set(WEFT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    struct stat info;
    RETURN_IF(stat(path, &info) != 0, WEFT_ERR_IO, "cannot use %s: %s", path, strerror(errno));
    RETURN_IF(!S_ISDIR(info.st_mode), WEFT_ERR_IO, "%s is not a directory", path);
    char why[128];
    RETURN_IF(!weft_file_trusted(&info, why, sizeof why), WEFT_ERR_IO,
              "the cache directory %s is not trusted: it is %s", path, why);
    RETURN_IF(access(path, W_OK | X_OK) != 0, WEFT_ERR_IO, "cache directory %s is not writable",
              path);
    scan_result r;
    RETURN_ON_ERROR(scan(path, SCAN_STALE, &r));
    if (dead_loaders) *dead_loaders = r.dead_loaders;
    return WEFT_OK;
}

/* The directory the public calls name: dir, or the default one. */
static weft_status resolve(const char *dir, char **out)
{
    *out = dir ? strdup(dir) : weft_cache_default_dir();
    RETURN_IF(!*out && dir, WEFT_ERR_NOMEM, "cannot copy the cache directory");
    RETURN_IF(!*out, WEFT_ERR_IO,
              "no cache directory: WEFT_CACHE_DIR, XDG_CACHE_HOME and HOME "
              "are all unset");
    if (!**out) {
        free(*out);
        return weft_error_set(WEFT_ERR_INVALID_ARG, "the cache directory is \"\"");
    }
    return WEFT_OK;
}

weft_status weft_cache_usage_get(const char *dir, weft_cache_usage *usage)
{
    RETURN_IF(!usage, WEFT_ERR_NULL, "weft_cache_usage_get: usage is NULL");
    char *path;
    RETURN_ON_ERROR(resolve(dir, &path));
    scan_result r;
    weft_status st = scan(path, SCAN_COUNT, &r);
    free(path);
    if (st == WEFT_OK) *usage = r.usage;
    return st;
}

weft_status weft_cache_clear(const char *dir, size_t *removed)
{
    char *path;
    RETURN_ON_ERROR(resolve(dir, &path));
    scan_result r;
    weft_status st = scan(path, SCAN_CLEAR, &r);
    free(path);
    if (st == WEFT_OK && removed) *removed = r.removed;
    return st;
}
