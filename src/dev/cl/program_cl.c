/* Building OpenCL programs through the two caches: per context in memory,
 * and as device binaries on disk keyed by everything that changes them. */
#include "backend_cl.h"
#include "../../core/cache.h"
#include "cl_common.h"
#include "pocl_binary.h"
#include "../device.h"
#include "../../core/error.h"
#include "../../core/include_deps.h"
#include "../../core/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Disk binaries are shared by identical devices, but a cl_program belongs to
 * one cl_context: memory entries are per device. */
typedef struct cached_program {
    uint8_t key[32];
    size_t device;
    cl_program program;
    struct cached_program *next;
} cached_program;

struct weft_cl_programs {
    pthread_mutex_t lock;
    cached_program *head;
    pid_t pid; /* the process that made it: in a fork child its programs leak (weft_cl_forked) */
};

weft_status weft_cl_programs_create(const weft_dev_services *services, void **programs)
{
    (void)services;
    struct weft_cl_programs *cache = calloc(1, sizeof *cache);
    RETURN_IF(!cache, WEFT_ERR_NOMEM, "cannot allocate the program cache");
    pthread_mutex_init(&cache->lock, NULL);
    cache->pid = weft_process_id();
    *programs = cache;
    return WEFT_OK;
}

void weft_cl_programs_release(void *programs)
{
    struct weft_cl_programs *cache = programs;
    if (!cache) return;
    int forked = cache->pid != weft_process_id();
    for (cached_program *p = cache->head, *next; p; p = next) {
        next = p->next;
        if (!forked) clReleaseProgram(p->program);
        free(p);
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* Everything that changes the binary: the platform and device, weft, the
 * options, the source and every file it includes (include_deps.h). */
static weft_status program_key(const weft_device *dev, const char *source, const char *options,
                               uint8_t key[32])
{
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_field(&h, "weft program cache v2");
    weft_sha256_field(&h, weft_cl(dev)->platform_version);
    weft_sha256_field(&h, dev->info.name);
    weft_sha256_field(&h, dev->info.vendor);
    weft_sha256_field(&h, dev->info.driver_version);
    weft_sha256_field(&h, WEFT_VERSION_STRING);
    weft_sha256_field(&h, options);
    weft_sha256_field(&h, source);
    RETURN_ON_ERROR(weft_include_hash(&h, source, options));
    weft_sha256_final(&h, key);
    return WEFT_OK;
}

static char *build_log(const weft_device *dev, cl_program program)
{
    size_t size = 0;
    if (clGetProgramBuildInfo(program, weft_cl(dev)->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) !=
            CL_SUCCESS ||
        size == 0)
        return NULL;
    char *log = malloc(size + 1);
    if (!log) return NULL;
    if (clGetProgramBuildInfo(program, weft_cl(dev)->id, CL_PROGRAM_BUILD_LOG, size, log, NULL) !=
        CL_SUCCESS) {
        free(log);
        return NULL;
    }
    log[size] = '\0';
    return log;
}

/* A binary from disk is only a hint: if the driver refuses it, build from source. */
static cl_program from_binary(weft_device *dev, const unsigned char *bin, size_t size,
                              const char *options)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_int err, bin_status;
    cl_program program =
        clCreateProgramWithBinary(cl->context, 1, &cl->id, &size, &bin, &bin_status, &err);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (program) clReleaseProgram(program);
        return NULL;
    }
    if (clBuildProgram(program, 1, &cl->id, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

static void store_binary(weft_device *dev, cl_program program, const uint8_t key[32])
{
    const weft_dev_services *s = dev->services;
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin) return;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        if (weft_cache_store(s->cache_dir, key, bin, size) == WEFT_OK)
            s->count(s->owner, WEFT_COUNT_CACHE_WRITE, 1);
        else
            weft_log(s->log, WEFT_LOG_WARN, "program cache: %s", weft_last_error());
    }
    free(bin);
}

static cl_program from_disk(weft_device *dev, const uint8_t key[32], const char *options)
{
    const weft_dev_services *s = dev->services;
    unsigned char *bin = NULL;
    size_t size = 0;
    char quarantine[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    weft_status st = weft_cache_load(s->cache_dir, key, &bin, &size, quarantine, sizeof quarantine);
    if (st == WEFT_ERR_IO) return NULL; /* plain miss */
    if (st != WEFT_OK) {
        s->count(s->owner, WEFT_COUNT_CACHE_REJECT, 1);
        weft_log(s->log, WEFT_LOG_WARN, "program cache: rebuilding from source: %s",
                 weft_last_error());
        return NULL;
    }
    char why[160];
    if (!weft_pocl_binary_whole(bin, size, why, sizeof why)) {
        free(bin);
        weft_cache_loaded(quarantine, 0);
        s->count(s->owner, WEFT_COUNT_CACHE_REJECT, 1);
        weft_log(s->log, WEFT_LOG_WARN, "program cache: rebuilding from source: %s", why);
        return NULL;
    }
    cl_program program = from_binary(dev, bin, size, options);
    free(bin);
    weft_cache_loaded(quarantine, program != NULL);
    if (program) {
        s->count(s->owner, WEFT_COUNT_CACHE_DISK_HIT, 1);
    } else {
        s->count(s->owner, WEFT_COUNT_CACHE_REJECT, 1);
        weft_log(s->log, WEFT_LOG_WARN,
                 "program cache: device %zu refused a cached binary; rebuilding from source",
                 dev->index);
    }
    return program;
}

static weft_status from_source(weft_device *dev, const char *source, const char *options,
                               cl_program *out, char **log)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_int err;
    cl_program program = clCreateProgramWithSource(cl->context, 1, &source, NULL, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateProgramWithSource", err);
    err = clBuildProgram(program, 1, &cl->id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char *text = build_log(dev, program);
        clReleaseProgram(program);
        weft_status st = weft_error_set(
            WEFT_ERR_BUILD, "clBuildProgram: %s (%d) on device %zu (%s) with options \"%s\"\n%s",
            weft_cl_error_name(err), (int)err, dev->index, dev->info.name, options ? options : "",
            text ? text : "(no build log)");
        if (log)
            *log = text;
        else
            free(text);
        return st;
    }
    *out = program;
    return WEFT_OK;
}

weft_status weft_cl_program_get(weft_device *dev, const char *source, const char *options,
                                cl_program *out, char **log)
{
    const weft_dev_services *s = dev->services;
    if (log) *log = NULL;
    struct weft_cl_programs *cache = weft_cl(dev)->programs;
    RETURN_IF(s->faults & WEFT_FAULT_BUILD, WEFT_ERR_BUILD,
              "program build failed on purpose (WEFT_FAULT=build) on device %zu", dev->index);
    uint8_t key[32];
    RETURN_ON_ERROR(program_key(dev, source, options, key));

    /* The lock is held across the build: two threads asking for the same
     * program build it once, and builds are rare next to lookups. */
    pthread_mutex_lock(&cache->lock);
    for (cached_program *p = cache->head; p; p = p->next) {
        if (p->device == dev->index && memcmp(p->key, key, 32) == 0) {
            clRetainProgram(p->program);
            *out = p->program;
            pthread_mutex_unlock(&cache->lock);
            s->count(s->owner, WEFT_COUNT_CACHE_MEMORY_HIT, 1);
            return WEFT_OK;
        }
    }
    weft_status st = WEFT_OK;
    cl_program program = s->cache_dir ? from_disk(dev, key, options) : NULL;
    if (!program) {
        st = from_source(dev, source, options, &program, log);
        if (st == WEFT_OK) {
            s->count(s->owner, WEFT_COUNT_CACHE_MISS, 1);
            if (s->cache_dir) store_binary(dev, program, key);
        }
    }
    cached_program *entry = st == WEFT_OK ? malloc(sizeof *entry) : NULL;
    if (entry) {
        memcpy(entry->key, key, 32);
        entry->device = dev->index;
        entry->program = program;
        clRetainProgram(program);
        entry->next = cache->head;
        cache->head = entry;
    }
    pthread_mutex_unlock(&cache->lock);
    if (st == WEFT_OK) *out = program;
    return st;
}

weft_status weft_cl_program_build(weft_device *dev, const char *source, const char *options,
                                  void **handle, char **log)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_program program = NULL;
    RETURN_ON_ERROR(weft_cl_program_get(dev, source, options, &program, log));
    *handle = program;
    return WEFT_OK;
}

void weft_cl_program_release(weft_device *dev, void *handle)
{
    if (weft_cl_forked(dev)) return; /* leaked: see weft_cl_forked */
    if (handle) clReleaseProgram((cl_program)handle);
}

void weft_cl_kernel_release(weft_device *dev, void *kernel)
{
    if (weft_cl_forked(dev)) return; /* leaked: see weft_cl_forked */
    if (kernel && kernel != WEFT_KERNEL_FAILED) clReleaseKernel((cl_kernel)kernel);
}
