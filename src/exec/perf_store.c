#include "perf_store.h"
#include "../core/cache.h"
#include "../core/error.h"
#include "../core/safe_file.h"
#include "../core/sha256.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Format 1: the magic line, comment lines, then one line per measured size
 * class: "<class> <samples> <mean elements> <mean seconds>". */
static const char magic[] = "weft-model-1\n";
enum { MAX_FILE = 16384 };

void weft_perf_path(const char *dir, const weft_device_info *device, const char *identity,
                    char *path, size_t cap)
{
    weft_sha256 h;
    uint8_t digest[32];
    char hex[65];
    weft_sha256_init(&h);
    weft_sha256_field(&h, "model-1");
    weft_sha256_field(&h, device->name);
    weft_sha256_field(&h, device->vendor);
    weft_sha256_field(&h, device->driver_version);
    weft_sha256_field(&h, WEFT_VERSION_STRING);
    weft_sha256_field(&h, identity);
    weft_sha256_final(&h, digest);
    weft_sha256_hex(digest, hex);
    hex[16] = '\0';
    snprintf(path, cap, "%s/model-%s.txt", dir, hex);
}

static int parse(const char *text, weft_perf_history *out)
{
    if (strncmp(text, magic, sizeof magic - 1) != 0) return 0;
    weft_perf_history h;
    memset(&h, 0, sizeof h);
    for (const char *line = text + sizeof magic - 1; *line;) {
        const char *end = strchr(line, '\n');
        if (!end) return 0; /* cut short: a writer died (rename makes this rare) */
        if (*line != '#') {
            int k, used = 0;
            double samples, n, s;
            if (sscanf(line, "%d %lf %lf %lf%n", &k, &samples, &n, &s, &used) != 4 ||
                line + used != end)
                return 0;
            if (k < 0 || k >= WEFT_PERF_CLASSES || !(samples > 0) || samples > WEFT_PERF_WINDOW ||
                !(n >= ldexp(1, k) * 0.999) || !(n < ldexp(1, k + 1)) || !(s >= 0) || !(s < 1e6))
                return 0;
            h.cls[k] = (weft_perf_class){samples, n, s};
            h.measured |= (uint64_t)1 << k;
        }
        line = end + 1;
    }
    *out = h;
    return 1;
}

int weft_perf_load(const char *path, weft_perf_history *h)
{
    int fd;
    struct stat info;
    if (weft_file_open_regular(path, WEFT_FILE_NOFOLLOW, &fd, &info) != WEFT_OK) return 0;
    char why[128];
    char *text = NULL;
    int ok = weft_file_trusted(&info, why, sizeof why) && info.st_size > 0 &&
             info.st_size < MAX_FILE && (text = malloc((size_t)info.st_size + 1)) &&
             weft_file_read_exact(fd, text, (size_t)info.st_size) == WEFT_OK;
    close(fd);
    if (ok) {
        text[info.st_size] = '\0';
        ok = parse(text, h);
    }
    free(text);
    return ok;
}

/* A comment line of printable characters only, whatever the label holds. */
static void comment(FILE *f, const char *what, const char *text)
{
    fprintf(f, "# %s: ", what);
    for (size_t i = 0; text[i] && i < 200; i++)
        fputc((unsigned char)text[i] < 32 || text[i] == 127 ? ' ' : text[i], f);
    fputc('\n', f);
}

weft_status weft_perf_save(const char *path, const char *label, const char *device,
                           const weft_perf_history *fresh)
{
    /* Our new samples join the file as they would have joined its history
     * had they been recorded there; what the file holds is never counted
     * again (it was, once, when it was loaded). */
    weft_perf_history merged;
    if (!weft_perf_load(path, &merged)) memset(&merged, 0, sizeof merged);
    weft_perf_merge(&merged, fresh);
    char temp[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    weft_cache_side_name(temp, sizeof temp, path, "tmp");
    /* A new file of our own: never through a link or a FIFO someone left there. */
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    RETURN_IF(fd < 0, WEFT_ERR_IO, "cannot create %s", temp);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(temp);
        return weft_error_set(WEFT_ERR_IO, "cannot write %s", temp);
    }
    fputs(magic, f);
    comment(f, "op", label);
    comment(f, "device", device);
    fputs("# class samples elements seconds\n", f);
    for (int k = 0; k < WEFT_PERF_CLASSES; k++) {
        const weft_perf_class *c = &merged.cls[k];
        if (c->samples > 0)
            fprintf(f, "%d %.17g %.17g %.17g\n", k, c->samples, c->mean_n, c->mean_s);
    }
    int ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(temp, path) != 0) {
        unlink(temp);
        return weft_error_set(WEFT_ERR_IO, "cannot write the model %s", path);
    }
    return WEFT_OK;
}
