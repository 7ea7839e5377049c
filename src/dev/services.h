/* What a driver may use of the rest of weft. A driver sees the context only
 * through these: the options it was created with, its log, notes and
 * counters, the fault hooks of the tests, and a way to add a device. The
 * context (api/context.c) fills them; nothing under src/dev/ names weft_ctx. */
#ifndef WEFT_DEV_SERVICES_H
#define WEFT_DEV_SERVICES_H

#include "../core/log.h"
#include "weft.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Test hooks from WEFT_FAULT (comma list): make the OpenCL driver fail on purpose. */
enum weft_fault {
    WEFT_FAULT_LAUNCH = 1 << 0, /* every kernel enqueue fails */
    WEFT_FAULT_FINISH = 1 << 1, /* every clFinish reports failure */
    WEFT_FAULT_WRITE = 1 << 2,  /* host-to-device transfers fail */
    WEFT_FAULT_SMOKE = 1 << 3,  /* the discovery smoke kernel fails */
    WEFT_FAULT_BUILD = 1 << 4,  /* program builds fail */
    WEFT_FAULT_UPLOAD = 1 << 5  /* host-to-device copies fail as they run (not when enqueued) */
};

/* What a driver counts into the context's ledger (weft_ctx_stats) and cache
 * statistics (weft_cache_stats_get). */
typedef enum weft_dev_counter {
    WEFT_COUNT_LAUNCHES,
    WEFT_COUNT_CACHE_MEMORY_HIT,
    WEFT_COUNT_CACHE_DISK_HIT,
    WEFT_COUNT_CACHE_MISS,
    WEFT_COUNT_CACHE_REJECT,
    WEFT_COUNT_CACHE_WRITE
} weft_dev_counter;

typedef struct weft_device weft_device;
typedef struct weft_pool weft_pool;

typedef struct weft_dev_services {
    /* What the context was asked for (options and environment). */
    const char *cache_dir;   /* program binaries on disk; NULL: memory only */
    int zero_copy;           /* devices may work on host memory in place */
    int peer_copies;         /* devices of one platform may share a context */
    int smoke_test;          /* run a smoke kernel before trusting a device */
    uint64_t max_alloc;      /* cap on a device's largest allocation; 0: none */
    size_t wrap_alignment;   /* what a wrapped host pointer is aligned to, at least */
    _Atomic unsigned faults; /* enum weft_fault; the tests change them as operations run */
    /* The pool the reference primitives run on (the host driver). */
    weft_pool *pool;
    size_t pool_min_elements; /* fewer run on the calling thread */
    weft_logger *log;

    void *owner; /* the context, opaque here: passed back to the calls below */
    /* 1 when WEFT_FAULT=call:K says this OpenCL call site fails. */
    int (*fault_tick)(void *owner);
    /* A line for weft_ctx_notes (and the log at info). */
    void (*note)(void *owner, const char *text);
    void (*count)(void *owner, weft_dev_counter which, uint64_t amount);
    /* A new, zeroed device appended to the context's table (index set), or
     * NULL when out of memory. Earlier device pointers may move. */
    weft_device *(*add_device)(void *owner);
} weft_dev_services;

/* A formatted note (services->note). */
void weft_dev_note(const weft_dev_services *services, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 when a call site guarded by the fault `which` (0: none, only the counted
 * WEFT_FAULT=call:K) must fail. */
static inline int weft_dev_fault(const weft_dev_services *services, unsigned which)
{
    return (atomic_load_explicit(&services->faults, memory_order_relaxed) & which) ||
           services->fault_tick(services->owner);
}

#endif
