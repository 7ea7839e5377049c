/* Calibration: how fast each selected device streams data, what one launch
 * costs, how fast data is written to it, and from that the size below which
 * work stays on the host. Measured
 * once per device and kept in the cache directory, so later contexts read a
 * line instead of timing anything. */
#include "../mem/array.h"
#include "../core/cache.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/safe_file.h"
#include "../core/sha256.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { STREAM_N = 1 << 22, TINY_N = 16, HOST_N = 1 << 14, COPY_BYTES = 64 << 20 };

typedef struct device_speed {
    double bytes_per_sec;
    double launch_seconds;
    double copy_bytes_per_sec; /* 0 for the host */
} device_speed;

/* Best of a few axpy runs over n f32 elements on dev through its backend. */
static weft_status time_axpy(weft_device *dev, size_t n, int reps, double *best)
{
    weft_status st = WEFT_OK;
    float *x = aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096);
    float *y = aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096);
    void *xb = NULL, *yb = NULL;
    GOTO_ERROR_IF(!x || !y, WEFT_ERR_NOMEM, "calibration buffers");
    for (size_t i = 0; i < n; i++)
        x[i] = y[i] = 1.0f;
    int zc = dev->info.zero_copy;
    GOTO_ERROR_ON(dev->ops.buffer_create(dev, n * sizeof(float), zc ? x : NULL, &xb));
    GOTO_ERROR_ON(dev->ops.buffer_create(dev, n * sizeof(float), zc ? y : NULL, &yb));
    if (!zc) {
        GOTO_ERROR_ON(dev->ops.write(dev, xb, 0, n * sizeof(float), x, NULL));
        GOTO_ERROR_ON(dev->ops.write(dev, yb, 0, n * sizeof(float), y, NULL));
    }
    weft_view xv = {x, xb}, yv = {y, yb};
    GOTO_ERROR_ON(dev->ops.axpy(dev, WEFT_F32, 0.5, xv, yv, n)); /* warm-up: builds, faults in */
    GOTO_ERROR_ON(dev->ops.finish(dev));
    *best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = weft_now();
        GOTO_ERROR_ON(dev->ops.axpy(dev, WEFT_F32, 0.5, xv, yv, n));
        GOTO_ERROR_ON(dev->ops.finish(dev));
        double t = weft_now() - t0;
        if (t < *best) *best = t;
    }
error:
    if (xb) dev->ops.buffer_release(dev, xb);
    if (yb) dev->ops.buffer_release(dev, yb);
    free(x);
    free(y);
    return st;
}

/* Best of a few writes of COPY_BYTES into a device buffer of its own. The
 * axpy above runs on data a cache of this size can hold (16 MiB arrays: 40-50
 * GB/s here), and a copy from memory runs at a fraction of that (a GPU's
 * PCIe link at a hundredth of its memory): placement needs the copy's own
 * rate to weigh moving data against running where it is. */
static weft_status time_copy(weft_device *dev, double *bytes_per_sec)
{
    weft_status st = WEFT_OK;
    unsigned char *host = aligned_alloc(4096, COPY_BYTES);
    void *buffer = NULL;
    GOTO_ERROR_IF(!host, WEFT_ERR_NOMEM, "calibration buffers");
    memset(host, 1, COPY_BYTES);
    GOTO_ERROR_ON(dev->ops.buffer_create(dev, COPY_BYTES, NULL, &buffer));
    double best = INFINITY;
    for (int r = 0; r < 4; r++) { /* the first write faults the buffer in */
        double t0 = weft_now();
        GOTO_ERROR_ON(dev->ops.write(dev, buffer, 0, COPY_BYTES, host, NULL));
        GOTO_ERROR_ON(dev->ops.finish(dev));
        double t = weft_now() - t0;
        if (r > 0 && t < best) best = t;
    }
    *bytes_per_sec = COPY_BYTES / best;
error:
    if (buffer) dev->ops.buffer_release(dev, buffer);
    free(host);
    return st;
}

static void record_path(const weft_device *dev, char *path, size_t cap)
{
    weft_sha256 h;
    uint8_t digest[32];
    char hex[65];
    weft_sha256_init(&h);
    weft_sha256_field(&h, dev->info.name);
    weft_sha256_field(&h, dev->info.vendor);
    weft_sha256_field(&h, dev->info.driver_version);
    weft_sha256_field(&h, WEFT_VERSION_STRING);
    weft_sha256_final(&h, digest);
    weft_sha256_hex(digest, hex);
    hex[16] = '\0';
    snprintf(path, cap, "%s/calibration-%s.txt", dev->services->cache_dir, hex);
}

/* A record that does not parse into sane numbers, is no regular file (a FIFO
 * would block) or is not trusted (safe_file.h) is ignored and re-measured. */
static int load_record(const weft_device *dev, device_speed *speed)
{
    if (!dev->services->cache_dir) return 0;
    char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    record_path(dev, path, sizeof path);
    int fd;
    struct stat info;
    if (weft_file_open_regular(path, WEFT_FILE_NOFOLLOW, &fd, &info) != WEFT_OK) return 0;
    char text[256] = {0}, why[128];
    ssize_t got = -1;
    if (weft_file_trusted(&info, why, sizeof why))
        got = read(fd, text, sizeof text - 1);
    else
        weft_log(dev->services->log, WEFT_LOG_WARN, "calibration record %s ignored: it is %s", path,
                 why);
    close(fd);
    /* Records from before the copy rate have two numbers: a device's is
     * measured again, the host's (no copies) stands. */
    int fields = got > 0 ? sscanf(text, "weft-calibration-1 %lf %lf %lf", &speed->bytes_per_sec,
                                  &speed->launch_seconds, &speed->copy_bytes_per_sec)
                         : 0;
    if (fields == 2 && weft_device_is_host(dev)) speed->copy_bytes_per_sec = 0, fields = 3;
    int copy_ok = weft_device_is_host(dev)
                      ? speed->copy_bytes_per_sec == 0
                      : isfinite(speed->copy_bytes_per_sec) && speed->copy_bytes_per_sec > 1e6;
    return fields == 3 && copy_ok && isfinite(speed->bytes_per_sec) && speed->bytes_per_sec > 1e6 &&
           isfinite(speed->launch_seconds) && speed->launch_seconds > 0 &&
           speed->launch_seconds < 1.0;
}

static void store_record(const weft_device *dev, const device_speed *speed)
{
    if (!dev->services->cache_dir) return;
    char path[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME], temp[sizeof path + WEFT_CACHE_MAX_NAME];
    record_path(dev, path, sizeof path);
    weft_cache_side_name(temp, sizeof temp, path, "tmp");
    /* A new file of our own: never through a link or a FIFO someone left there. */
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char text[512];
    int len = snprintf(text, sizeof text,
                       "weft-calibration-1 %.6g %.6g %.6g\n# bytes/s of f32 axpy, launch+finish "
                       "seconds, bytes/s written to the device (%s)\n",
                       speed->bytes_per_sec, speed->launch_seconds, speed->copy_bytes_per_sec,
                       dev->info.name);
    size_t size = len < 0 ? 0 : (size_t)len < sizeof text ? (size_t)len : sizeof text - 1;
    int ok = len > 0 && write(fd, text, size) == (ssize_t)size;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(temp, path) != 0) unlink(temp);
}

static weft_status measure(weft_device *dev, device_speed *speed)
{
    double stream_t = 0, tiny_t = 0;
    RETURN_ON_ERROR(time_axpy(dev, STREAM_N, 3, &stream_t));
    RETURN_ON_ERROR(time_axpy(dev, TINY_N, 20, &tiny_t));
    speed->bytes_per_sec = 3.0 * sizeof(float) * STREAM_N / stream_t;
    speed->launch_seconds = tiny_t;
    speed->copy_bytes_per_sec = 0;
    if (!weft_device_is_host(dev)) RETURN_ON_ERROR(time_copy(dev, &speed->copy_bytes_per_sec));
    return WEFT_OK;
}

/* Elements per second of the calling thread alone, on cache-resident data:
 * what the host does while a device would still be launching. */
static double host_single_rate(weft_ctx *ctx)
{
    float *x = calloc(2 * HOST_N, sizeof *x);
    if (!x) return 1e9;
    float *y = x + HOST_N;
    weft_device *host = &ctx->devices[0];
    weft_view xv = {x, NULL}, yv = {y, NULL};
    double best = INFINITY;
    for (int r = 0; r < 20; r++) {
        double t0 = weft_now();
        host->ops.axpy(host, WEFT_F32, 0.5, xv, yv, HOST_N); /* below pool_min: one thread */
        double t = weft_now() - t0;
        if (t < best) best = t;
    }
    free(x);
    return HOST_N / best;
}

static int any_opencl_selected(const weft_ctx *ctx)
{
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (ctx->devices[d].info.selected) return 1;
    return 0;
}

void weft_ctx_calibrate(weft_ctx *ctx)
{
    size_t selected = 0;
    for (size_t d = 0; d < ctx->ndevices; d++)
        selected += ctx->devices[d].info.selected;
    int need_weights = ctx->weights == WEFT_WEIGHTS_CALIBRATED && selected > 1;
    int need_threshold = ctx->small_elements < 0 && any_opencl_selected(ctx);
    double min_launch = INFINITY;
    for (size_t d = 0; d < ctx->ndevices && (need_weights || need_threshold); d++) {
        weft_device *dev = &ctx->devices[d];
        if (!dev->info.selected) continue;
        device_speed speed = {0};
        if (!load_record(dev, &speed)) {
            if (measure(dev, &speed) != WEFT_OK) {
                weft_log(&ctx->log, WEFT_LOG_WARN, "calibration of device %zu failed: %s", d,
                         weft_last_error());
                continue;
            }
            store_record(dev, &speed);
        }
        dev->bytes_per_sec = speed.bytes_per_sec;
        dev->launch_seconds = speed.launch_seconds;
        dev->copy_bytes_per_sec = speed.copy_bytes_per_sec;
        if (need_weights) dev->info.weight = speed.bytes_per_sec;
        if (d > 0 && speed.launch_seconds < min_launch) min_launch = speed.launch_seconds;
        weft_log(&ctx->log, WEFT_LOG_INFO,
                 "calibration: device %zu streams %.2f GB/s, launch %.1f us, written at %.2f GB/s",
                 d, speed.bytes_per_sec * 1e-9, speed.launch_seconds * 1e6,
                 speed.copy_bytes_per_sec * 1e-9);
    }
    if (ctx->small_elements < 0) {
        int64_t small = 0;
        if (need_threshold && isfinite(min_launch)) {
            double elements = min_launch * host_single_rate(ctx);
            small = (int64_t)(elements / WEFT_SUM_BLOCK + 1) * WEFT_SUM_BLOCK;
            if (small > (1 << 24)) small = 1 << 24;
        }
        ctx->small_elements = small;
        weft_log(&ctx->log, WEFT_LOG_INFO, "arrays under %lld elements stay on the host",
                 (long long)small);
    }
}
