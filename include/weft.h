/*
 * weft: data-parallel arrays over OpenCL devices and a host thread pool.
 *
 * The whole public API. Conventions:
 *  - Every call returns a weft_status; WEFT_OK is 0. On failure,
 *    weft_last_error() holds a human-readable detail for the calling thread.
 *  - Handles are opaque. Every *_create has a *_free that accepts NULL.
 *  - Operations take a last `weft_future **` argument. NULL means "wait until
 *    done"; otherwise the operation is queued behind every earlier operation of
 *    the same context (stream order) and a future is handed back. On failure
 *    *future is NULL (a list of futures collected in a loop never holds a
 *    stale pointer). Future calls refuse a handle that is not a live future
 *    (an array or a context cast to one) with WEFT_ERR_STATE.
 *  - The library never prints, aborts or exits on its own. Logging goes to the
 *    hook set with weft_ctx_set_log(), or to stderr when WEFT_LOG is set.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_NUMBER                                                                        \
    (WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH)
#define WEFT_VERSION_STRING "0.1.0"

#if defined(WEFT_STATIC_DEFINE)
#define WEFT_API
#elif defined(_WIN32)
#ifdef WEFT_BUILDING
#define WEFT_API __declspec(dllexport)
#else
#define WEFT_API __declspec(dllimport)
#endif
#else
#define WEFT_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Status codes: one X-macro list gives the enum, the names and the messages. */

#define WEFT_STATUS_MAP(X)                                                                         \
    X(OK, 0, "success")                                                                            \
    X(ERR_INVALID_ARG, 1, "invalid argument")                                                      \
    X(ERR_NULL, 2, "NULL pointer or handle")                                                       \
    X(ERR_DTYPE, 3, "unsupported or mismatched dtype")                                             \
    X(ERR_SIZE, 4, "size mismatch")                                                                \
    X(ERR_RANGE, 5, "out of range (an index or size past a limit, or an integer overflow)")        \
    X(ERR_NOMEM, 6, "out of memory")                                                               \
    X(ERR_OPENCL, 7, "OpenCL call failed")                                                         \
    X(ERR_BUILD, 8, "program build failed")                                                        \
    X(ERR_NO_DEVICE, 9, "no usable device")                                                        \
    X(ERR_DEVICE, 10, "device failed and the work could not be recovered")                         \
    X(ERR_CACHE, 11, "program cache error")                                                        \
    X(ERR_IO, 12, "file input/output error")                                                       \
    X(ERR_THREAD, 13, "thread error")                                                              \
    X(ERR_STATE, 14, "handle in the wrong state (freed twice, or still in use)")                   \
    X(ERR_UNSUPPORTED, 15, "not supported in this build or on this device")                        \
    X(ERR_EXPR, 16, "malformed expression")                                                        \
    X(ERR_DATA, 17, "malformed input data")                                                        \
    X(ERR_DEPENDENCY, 18, "a future the task depends on failed; the task did not run")             \
    X(ERR_CANCELLED, 19, "cancelled by the caller")

typedef enum weft_status {
#define WEFT_STATUS_ENUM_(name, value, msg) WEFT_##name = value,
    WEFT_STATUS_MAP(WEFT_STATUS_ENUM_)
#undef WEFT_STATUS_ENUM_
} weft_status;

/* "WEFT_ERR_SIZE: size mismatch"-style short name of a status. Never NULL. */
WEFT_API const char *weft_status_str(weft_status status);
/* Detail of the last failure on the calling thread ("" if none). Valid until
 * the next weft call on this thread. */
WEFT_API const char *weft_last_error(void);

WEFT_API unsigned weft_version_number(void);
WEFT_API const char *weft_version_string(void);

/* ------------------------------------------------------------------------ */
/* Types */

typedef enum weft_dtype {
    WEFT_F32 = 0,
    WEFT_F64,
    WEFT_I32,
    WEFT_U32,
    WEFT_I64,
    WEFT_U64,
    WEFT_U8,
    WEFT_DTYPE_COUNT
} weft_dtype;

/* Size of one element in bytes, or 0 for an invalid dtype. */
WEFT_API size_t weft_dtype_size(weft_dtype dtype);
/* "f32", "f64", ... or "invalid". */
WEFT_API const char *weft_dtype_name(weft_dtype dtype);

typedef enum weft_log_level {
    WEFT_LOG_ERROR = 0,
    WEFT_LOG_WARN,
    WEFT_LOG_INFO,
    WEFT_LOG_DEBUG
} weft_log_level;

/* Called from whichever thread hit the event, possibly with a device's
 * internal lock held: it must not call weft on the same context. */
typedef void (*weft_log_fn)(void *user, weft_log_level level, const char *message);

typedef enum weft_device_kind {
    WEFT_DEVICE_HOST = 0, /* the thread pool */
    WEFT_DEVICE_CPU,
    WEFT_DEVICE_GPU,
    WEFT_DEVICE_ACCELERATOR,
    WEFT_DEVICE_OTHER
} weft_device_kind;

typedef enum weft_weights {
    WEFT_WEIGHTS_CALIBRATED = 0, /* measured once per device, kept in the cache dir */
    WEFT_WEIGHTS_EVEN,           /* every selected device gets the same share */
    WEFT_WEIGHTS_GIVEN           /* weft_options.weights[] */
} weft_weights;

typedef struct weft_ctx weft_ctx;
typedef struct weft_array weft_array;
typedef struct weft_future weft_future;
typedef struct weft_program weft_program;

/* When a device's code for an expression (weft_map, weft_reduce_expr ...)
 * is built. In the background (the default): a call whose device code is
 * not built yet runs on the pool at once while one thread per context
 * builds it; later calls may use the device once it is built. Sync: the
 * first call that the device runs builds it, and waits (reproducible
 * timings, tests). A hint (weft_ctx_place) that leaves the pool out waits
 * for the build too. */
typedef enum weft_compile {
    WEFT_COMPILE_DEFAULT = 0, /* WEFT_COMPILE=sync or background; unset: background */
    WEFT_COMPILE_BACKGROUND,
    WEFT_COMPILE_SYNC
} weft_compile;

/* Context options. Initialise with weft_options_init(); the environment
 * (WEFT_DEVICES, WEFT_NUM_THREADS, ...) overrides what is left at defaults. */
typedef struct weft_options {
    const char *devices;    /* "all" (default), "cpu", "gpu", "host", "cl:0,cl:1,host";
                               cl:N takes N from 0 to 65535; any other token:
                               WEFT_ERR_INVALID_ARG from weft_ctx_create */
    int num_threads;        /* pool width, at most 1024; 0: WEFT_NUM_THREADS (the
                               same cap), else online cores. A value ignored
                               (negative, malformed) or capped leaves a note */
    const char *cache_dir;  /* NULL: WEFT_CACHE_DIR, $XDG_CACHE_HOME/weft, ~/.cache/weft;
                               "": no disk cache (memory-only caching, as disk_cache = 0).
                               A directory that is not one, is not owned by this user, is
                               writable by others or has too long a path is not used
                               (memory-only caching; the reason is in weft_ctx_notes and the
                               log). See docs/RELIABILITY.md, "trust". */
    int disk_cache;         /* 1 (default): keep program binaries on disk; 0: memory only */
    int zero_copy;          /* 1 (default): wrap host memory where the device shares it */
    weft_weights weights;   /* how pieces are sized */
    const double *given;    /* with WEFT_WEIGHTS_GIVEN: one weight per device index, a
                               relative size: finite and >= 0 (else weft_ctx_create fails
                               with WEFT_ERR_INVALID_ARG); any finite ones split by ratio */
    size_t given_count;     /* number of entries in given[] */
    int64_t small_elements; /* -1 (default): measured; else arrays below this many
                               elements live and run on the host, without a launch
                               (0: always partition over the selected devices) */
    uint64_t max_alloc;     /* 0: the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE; else a
                               smaller cap per device buffer (for tests) */
    int smoke_test;         /* 1 (default): run a tiny kernel before trusting a device */
    weft_log_fn log;        /* NULL: WEFT_LOG to stderr, else silent */
    void *log_user;
    weft_log_level log_level;
    weft_compile compile; /* when device code for an expression is built (weft_compile) */
} weft_options;

WEFT_API void weft_options_init(weft_options *options);

/* ------------------------------------------------------------------------ */
/* Context */

WEFT_API weft_status weft_ctx_create(const weft_options *options, weft_ctx **ctx);
/* Waits for every queued operation, then frees. NULL: WEFT_OK. A handle that
 * is not live (freed twice): WEFT_ERR_STATE. Arrays and programs of the
 * context must be freed first. Futures need not be: one the caller still
 * holds outlives its context, done, and waits on it return its final status
 * (a wait in another thread ends normally). Release it before or after; a
 * failure that nobody waited for is then reported nowhere. */
WEFT_API weft_status weft_ctx_free(weft_ctx *ctx);
/* Block until every operation submitted so far has finished; returns the
 * first failure among them not yet reported through a future. */
WEFT_API weft_status weft_ctx_finish(weft_ctx *ctx);
/* SYCL's depends_on, pyopencl's wait_for=, cudaStreamWaitEvent: every
 * operation submitted to ctx after this call (weft_map, weft_reduce,
 * weft_reduce_expr, weft_scan, weft_axpy, weft_sum, weft_launch), until the
 * next call, runs only once all n futures are done. They may be futures of
 * tasks, of operations, of this or any other context of the process, and may
 * be released once this returns. The call does not block: operations are
 * held, in order, and a blocking operation blocks its caller until it ran.
 * If one of the futures failed, those operations do not run: each reports
 * WEFT_ERR_DEPENDENCY with the first failure's status and detail (see
 * weft_future_first_cause), through its future or its return value. n == 0
 * ends the previous call's scope. Held operations use no array yet: a task
 * the context waits for may read and write the arrays they use, while
 * weft_array_read, _write, _sync and _free outside tasks wait for them. */
WEFT_API weft_status weft_ctx_wait_for(weft_ctx *ctx, weft_future *const *futures, size_t n);
WEFT_API weft_status weft_ctx_set_log(weft_ctx *ctx, weft_log_fn fn, void *user,
                                      weft_log_level level);
/* Why OpenCL devices are missing or were set aside, one reason per line
 * ("" when every device came up). Valid for the context's lifetime. */
WEFT_API const char *weft_ctx_notes(const weft_ctx *ctx);
WEFT_API weft_status weft_ctx_num_threads(const weft_ctx *ctx, int *num_threads);
/* Arrays below this many elements live and run on the host, without a launch. */
WEFT_API weft_status weft_ctx_small_elements(weft_ctx *ctx, int64_t *elements);

/* ------------------------------------------------------------------------ */
/* Devices. Index 0 is always the host pool; OpenCL devices follow, including
 * ones set aside (usable == 0, with the reason). */

typedef struct weft_device_info {
    char name[128];
    char vendor[128];
    char driver_version[64];
    char platform[128];
    weft_device_kind kind;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes; /* after the max_alloc option */
    unsigned compute_units;
    int usable;       /* passed discovery and the smoke kernel */
    int selected;     /* gets pieces of partitioned work */
    int zero_copy;    /* arrays wrap host memory on this device */
    double weight;    /* relative size of this device's pieces of partitioned work,
                         compared with other selected devices' weights (not a share
                         summing to 1): the given weight, 1 before calibration, else
                         the measured throughput in bytes per second; 0 if not
                         selected */
    char reason[256]; /* why not usable / not selected; "" otherwise */
} weft_device_info;

WEFT_API weft_status weft_device_count(const weft_ctx *ctx, size_t *count);
WEFT_API weft_status weft_device_get_info(weft_ctx *ctx, size_t index, weft_device_info *info);
/* Which implementation of a primitive ("axpy", "sum") runs on a device:
 * "reference" (portable C on the pool) or "opencl-cpu" / "opencl-gpu". */
WEFT_API weft_status weft_device_impl(const weft_ctx *ctx, size_t index, const char *primitive,
                                      const char **impl);
WEFT_API const char *weft_device_kind_name(weft_device_kind kind);

/* What ran where in the last operation the context completed. */
typedef struct weft_piece_report {
    size_t device; /* device index */
    size_t begin;  /* element range [begin, end) */
    size_t end;
    int fell_back; /* 1: the device failed and the host pool reran the piece */
} weft_piece_report;

WEFT_API weft_status weft_ctx_last_pieces(weft_ctx *ctx, weft_piece_report *pieces, size_t capacity,
                                          size_t *count);

/* ------------------------------------------------------------------------ */
/* Arrays: n elements of one dtype, split into one piece per selected device. */

WEFT_API weft_status weft_array_create(weft_ctx *ctx, weft_dtype dtype, size_t n,
                                       weft_array **array);
/* Copies n elements from data. */
WEFT_API weft_status weft_array_from(weft_ctx *ctx, weft_dtype dtype, size_t n, const void *data,
                                     weft_array **array);
/* Uses data as the host storage without copying. Devices that share host
 * memory (PoCL) work on it directly when data is aligned to
 * weft_array_wrap_alignment(); otherwise weft copies pieces to the device.
 * data must outlive the array. Its contents are current after weft_array_read
 * or weft_array_sync; writing it directly needs a weft_array_write instead.
 * Two wrapped arrays whose memory overlaps may not appear in one operation
 * (weft_map, weft_reduce_expr, weft_scan, weft_axpy, weft_launch):
 * WEFT_ERR_INVALID_ARG naming both. One array bound twice is in-place work
 * and allowed (docs/expressions.md, "Aliasing"). Across operations, live
 * wraps of one context over overlapping memory keep their order as one
 * array (wraps in two contexts are two streams: nothing orders them) and each
 * operation on one starts from the host memory they share (their device
 * copies are brought back first): what one wrote, another reads, on any
 * devices. */
WEFT_API weft_status weft_array_wrap(weft_ctx *ctx, weft_dtype dtype, size_t n, void *data,
                                     weft_array **array);
/* weft_array_wrap of memory weft must never write (a const table, a
 * read-only mapping, a Python bytes object): an operation that would write
 * the array (an output, a sort's keys, a kernel parameter that is not const,
 * weft_array_write) fails with WEFT_ERR_INVALID_ARG before anything runs;
 * reading it works as for any wrap. */
WEFT_API weft_status weft_array_wrap_read_only(weft_ctx *ctx, weft_dtype dtype, size_t n,
                                               const void *data, weft_array **array);
WEFT_API size_t weft_array_wrap_alignment(void);
/* Waits for queued operations on the array, then frees. NULL: WEFT_OK; an
 * array freed twice: WEFT_ERR_STATE. */
WEFT_API weft_status weft_array_free(weft_array *array);

WEFT_API weft_status weft_array_size(const weft_array *array, size_t *n);
WEFT_API weft_status weft_array_dtype(const weft_array *array, weft_dtype *dtype);
/* Copy elements [offset, offset + count) out of / into the array. Each takes
 * its turn like an operation: it waits for earlier operations that touch the
 * array, and an operation on the array submitted meanwhile (from another
 * thread) waits for it, so a read never sees an operation half done. */
WEFT_API weft_status weft_array_read(weft_array *array, size_t offset, size_t count, void *dst);
WEFT_API weft_status weft_array_write(weft_array *array, size_t offset, size_t count,
                                      const void *src);
/* Make the host storage (a wrapped pointer) current. */
WEFT_API weft_status weft_array_sync(weft_array *array);

/* ------------------------------------------------------------------------ */
/* Futures */

typedef enum weft_future_state { WEFT_FUTURE_PENDING = 0, WEFT_FUTURE_DONE } weft_future_state;

/* Wait; returns the operation's status and sets weft_last_error() to its detail.
 * WEFT_ERR_STATE, without waiting, for the future of the task the calling
 * thread runs (or of a task it runs while waiting): that wait could never
 * end; likewise from a host_fn (on any thread running its launch's pieces)
 * for an operation queued behind that launch. weft_future_wait_all
 * likewise; weft_future_wait_any when every future is such a one. */
WEFT_API weft_status weft_future_wait(weft_future *future);
/* Non-blocking: *state is PENDING or DONE; *result (may be NULL) the status once DONE. */
WEFT_API weft_status weft_future_status(weft_future *future, weft_future_state *state,
                                        weft_status *result);
/* The first failure down a chain of dependencies: for a future that failed
 * with WEFT_ERR_DEPENDENCY (its work did not run because a future it waited
 * for failed), the status of the failure that started the chain, however
 * many dependants down (as concurrent.futures re-raises the original
 * exception); for another failure, its own status; WEFT_OK when it
 * succeeded. weft_last_error() after a wait holds that first failure's
 * detail as well. WEFT_ERR_STATE while the future is pending. */
WEFT_API weft_status weft_future_first_cause(weft_future *future, weft_status *cause);
/* Drops the caller's reference. The operation still completes. NULL: WEFT_OK;
 * released twice: WEFT_ERR_STATE. Safe after its context was freed. */
WEFT_API weft_status weft_future_release(weft_future *future);

/* Futures of operations and of tasks mix freely in the calls below. A task
 * that waits (any of the waits) hands its share of the pool to another worker
 * meanwhile, so waiting inside tasks never deadlocks the pool nor makes more
 * threads run than its width. Every entry must be a live future the caller has not released:
 * WEFT_ERR_NULL for a NULL entry (or futures NULL with n > 0), WEFT_ERR_STATE
 * for a released one; nothing is waited for then. */

/* concurrent.futures.wait(ALL_COMPLETED): waits for all n (n == 0: WEFT_OK).
 * Returns WEFT_OK, or the status of the first future (lowest index) that
 * failed, with its detail in weft_last_error(). */
WEFT_API weft_status weft_future_wait_all(weft_future *const *futures, size_t n);
/* FIRST_COMPLETED / as_completed: waits until one of the n futures is done,
 * sets *index to it (the lowest index among those already done) and returns
 * its status, as weft_future_wait would. *index is (size_t)-1 when the call
 * itself failed (n == 0: WEFT_ERR_INVALID_ARG). To go through futures as they
 * complete, remove the one returned and call again. */
WEFT_API weft_status weft_future_wait_any(weft_future *const *futures, size_t n, size_t *index);

/* ------------------------------------------------------------------------ */
/* Plain C functions on the pool: Pool.map and concurrent.futures.
 *
 * Both run on the context's thread pool, never through the order of
 * operations: independent tasks run side by side, and beside operations. The
 * pool's width (weft_ctx_num_threads) bounds the threads running pool work,
 * nested calls included; while an OpenCL CPU device of the context may be
 * computing (an operation is queued, running or has device work in flight),
 * tasks and loops run one thread at a time, so they never add threads on the
 * cores that device uses. weft_ctx_finish waits for tasks too; weft_ctx_free
 * waits for them, and refuses (WEFT_ERR_STATE) from inside one of its own. */

/* fn(user, begin, end) over disjoint ranges covering [0, n), on the calling
 * thread and the pool, in chunks of at least `grain` elements (the last may
 * be shorter). A grain given sends its chunks to the pool at once (a few
 * heavy items start together, as Pool.map's). grain 0: weft times the first
 * chunks on the calling thread and chooses from what they cost; work too
 * small to gain from the pool (what a fork of the pool costs is measured once
 * per context) never leaves the calling thread. fn must be safe to call from several threads at
 * once on disjoint ranges. future NULL: returns when every range ran; else the loop runs as a task
 * and *future completes after it. Called from inside a range (a nested loop) it runs on that
 * thread. n == 0: fn is not called. */
typedef void (*weft_range_fn)(void *user, size_t begin, size_t end);
WEFT_API weft_status weft_parallel_for(weft_ctx *ctx, size_t n, size_t grain, weft_range_fn fn,
                                       void *user, weft_future **future);

/* OpenMP's reduction(+:s), oneTBB's and Kokkos' parallel_reduce: a value of
 * value_size bytes folded over [0, n). The range is cut into chunks of grain
 * elements (0: 4096), the same whatever the thread count; each chunk starts
 * from a copy of *identity and fn(user, begin, end, partial) folds its range
 * into it, chunks running in parallel on the pool as weft_parallel_for's do
 * (a grain given: every chunk goes to the pool at once);
 * then combine(user, acc, partial) folds the partials into *result in index
 * order on the calling thread. So the result is bit-identical on any number
 * of threads (floating-point sums included), as weft_sum's. Waits; fn must
 * be safe to call from several threads at once. n == 0: *result = *identity.
 * One partial is kept per chunk until the end (n / grain values of value_size
 * bytes, unlike OpenMP's one per thread): a grain of 1 over 10^8 elements
 * keeps 10^8 partials; chunks of thousands of elements cost little more
 * than one. */
typedef void (*weft_reduce_range_fn)(void *user, size_t begin, size_t end, void *partial);
typedef void (*weft_combine_fn)(void *user, void *acc, const void *partial);
WEFT_API weft_status weft_parallel_reduce(weft_ctx *ctx, size_t n, size_t grain, size_t value_size,
                                          const void *identity, weft_reduce_range_fn fn,
                                          weft_combine_fn combine, void *user, void *result);

/* concurrent.futures.submit: runs fn(user) on the pool once every future in
 * after[0..nafter) is done; its return value is the future's status (and
 * weft_last_error() on the task's thread, its detail). If a dependency
 * failed, fn does not run and the future reports WEFT_ERR_DEPENDENCY naming
 * it and the first failure of the chain (status and detail; see
 * weft_future_first_cause); dependents of that future fail the same way,
 * independent tasks are not affected. after[] may hold futures of operations
 * and of tasks of any context of the process, and may be released once this
 * returns. future NULL: waits and returns the task's status. A task may
 * submit, wait, and call weft_parallel_for. */
typedef weft_status (*weft_task_fn)(void *user);
WEFT_API weft_status weft_submit(weft_ctx *ctx, weft_task_fn fn, void *user,
                                 weft_future *const *after, size_t nafter, weft_future **future);

/* ------------------------------------------------------------------------ */
/* First primitives (the expression language generalises them). */

/* y = a*x + y, element-wise, for f32 and f64 arrays of the same size.
 * No contraction into fma: the same bits on every device and on the pool. */
WEFT_API weft_status weft_axpy(weft_ctx *ctx, double a, weft_array *x, weft_array *y,
                               weft_future **future);
/* *result = sum of x (f32 or f64), accumulated in double over fixed blocks of
 * WEFT_SUM_BLOCK elements combined in index order: bit-identical on any mix of
 * devices and thread counts, and to weft_reduce(WEFT_SUM). *result is written
 * when the operation completes. */
#define WEFT_SUM_BLOCK 4096
WEFT_API weft_status weft_sum(weft_ctx *ctx, weft_array *x, double *result, weft_future **future);
/* *mean = the sum of x (any dtype; integers summed exactly, as weft_reduce's
 * WEFT_SUM) divided by its element count once, at the end: reproducible as
 * weft_sum, and the same bits as that division done by the caller. 64-bit
 * integers whose sum leaves 64 bits (nanosecond timestamps) are summed in
 * 128 bits and that exact sum rounded to double once. An empty x is
 * WEFT_ERR_SIZE. *mean is written when the operation completes. */
WEFT_API weft_status weft_mean(weft_ctx *ctx, weft_array *x, double *mean, weft_future **future);

/* ------------------------------------------------------------------------ */
/* Programs and the binary cache */

/* Builds for every selected OpenCL device through the in-memory and on-disk
 * caches. On WEFT_ERR_BUILD, *program is still set (free it): it carries the
 * build log; weft_last_error() has the log, the device and the options too. */
WEFT_API weft_status weft_program_build(weft_ctx *ctx, const char *source, const char *options,
                                        weft_program **program);
/* weft_program_build of the OpenCL C in a file (up to 16 MiB), with the
 * file's directory searched first for its quoted includes (-I before
 * options), as a C compiler searches beside the including file: WEFT_ERR_IO
 * naming the file when it cannot be read. */
WEFT_API weft_status weft_program_build_file(weft_ctx *ctx, const char *path, const char *options,
                                             weft_program **program);
WEFT_API const char *weft_program_build_log(const weft_program *program);
WEFT_API weft_status weft_program_free(weft_program *program);
/* The dtype scalar parameter k of kernel `name` takes, as its signature says
 * on a device that built the program: for bindings that convert an untyped
 * number to it (a Python int for a `long n`). WEFT_ERR_UNSUPPORTED when no
 * device built the program or gives argument info; WEFT_ERR_INVALID_ARG
 * when the kernel has no parameter k; WEFT_ERR_DTYPE when it is no scalar
 * of a weft dtype (a pointer, a struct, a short). */
WEFT_API weft_status weft_program_scalar_dtype(weft_program *program, const char *name, size_t k,
                                               weft_dtype *dtype);

typedef struct weft_cache_stats {
    uint64_t memory_hits;  /* found built in this context */
    uint64_t disk_hits;    /* loaded from a binary on disk */
    uint64_t misses;       /* compiled from source */
    uint64_t disk_rejects; /* disk files found corrupt, truncated or foreign, rebuilt */
    uint64_t disk_writes;
} weft_cache_stats;

WEFT_API weft_status weft_cache_stats_get(const weft_ctx *ctx, weft_cache_stats *stats);
/* The directory in use ("" when the disk cache is off). */
WEFT_API const char *weft_cache_dir(const weft_ctx *ctx);

/* The files weft keeps in a cache directory. */
typedef struct weft_cache_usage {
    size_t binaries;     /* program binaries */
    uint64_t bytes;      /* their size on disk */
    size_t calibrations; /* device calibration records */
    size_t temporaries;  /* files of writers and loaders at work, or killed */
    size_t models;       /* cost models of operations on devices (placement) */
} weft_cache_usage;

/* Counts weft's files in dir (NULL: the default directory, as for
 * weft_options.cache_dir). Only files whose name and contents prove weft wrote
 * them count; a directory that does not exist holds none. Creates and changes
 * nothing. */
WEFT_API weft_status weft_cache_usage_get(const char *dir, weft_cache_usage *usage);
/* Removes weft's files (as counted by weft_cache_usage_get) from dir (NULL:
 * the default), except temporaries of processes still at work, and nothing
 * else. *removed (may be NULL) is how many. */
WEFT_API weft_status weft_cache_clear(const char *dir, size_t *removed);
/* The default cache directory (WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else
 * $HOME/.cache/weft) into buf. WEFT_ERR_IO when there is none; WEFT_ERR_SIZE
 * when it does not fit in cap bytes. */
WEFT_API weft_status weft_cache_default_dir_get(char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* User kernels */

/* A value of any dtype (scalar arguments, bindings, reduction results). */
typedef union weft_value {
    float f32;
    double f64;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    uint8_t u8;
} weft_value;

/* How a kernel argument is distributed over the devices a launch runs on. */
typedef enum weft_arg_kind {
    WEFT_ARG_SLICE = 0, /* partitioned with the range: each device gets its piece */
    WEFT_ARG_HALO,      /* a slice plus `halo` outer indices on each side (read-only
                           neighbours); writes reach only the owned part */
    WEFT_ARG_WHOLE,     /* every device gets all of it, read-only (whatever the
                           parameter's qualifiers; WEFT_VERIFY=1 checks it) */
    WEFT_ARG_SCALAR,    /* a value of `dtype` */
    WEFT_ARG_LOCAL      /* `local_bytes` of work-group (__local) memory */
} weft_arg_kind;

typedef struct weft_arg {
    weft_arg_kind kind;
    weft_array *array;  /* SLICE, HALO, WHOLE */
    size_t halo;        /* HALO: outer indices on each side */
    weft_dtype dtype;   /* SCALAR */
    weft_value value;   /* SCALAR */
    size_t local_bytes; /* LOCAL */
} weft_arg;

static inline weft_arg weft_arg_slice(weft_array *a)
{
    weft_arg g = {WEFT_ARG_SLICE, a, 0, WEFT_F32, {0}, 0};
    return g;
}
static inline weft_arg weft_arg_halo(weft_array *a, size_t halo)
{
    weft_arg g = {WEFT_ARG_HALO, a, halo, WEFT_F32, {0}, 0};
    return g;
}
static inline weft_arg weft_arg_whole(weft_array *a)
{
    weft_arg g = {WEFT_ARG_WHOLE, a, 0, WEFT_F32, {0}, 0};
    return g;
}
static inline weft_arg weft_arg_local(size_t bytes)
{
    weft_arg g = {WEFT_ARG_LOCAL, NULL, 0, WEFT_F32, {0}, bytes};
    return g;
}
#define WEFT_ARG_SCALAR_FN_(suffix, type, dt)                                                      \
    static inline weft_arg weft_arg_##suffix(type v)                                               \
    {                                                                                              \
        weft_arg g = {WEFT_ARG_SCALAR, NULL, 0, dt, {0}, 0};                                       \
        g.value.suffix = v;                                                                        \
        return g;                                                                                  \
    }
WEFT_ARG_SCALAR_FN_(f32, float, WEFT_F32)
WEFT_ARG_SCALAR_FN_(f64, double, WEFT_F64)
WEFT_ARG_SCALAR_FN_(i32, int32_t, WEFT_I32)
WEFT_ARG_SCALAR_FN_(u32, uint32_t, WEFT_U32)
WEFT_ARG_SCALAR_FN_(i64, int64_t, WEFT_I64)
WEFT_ARG_SCALAR_FN_(u64, uint64_t, WEFT_U64)
WEFT_ARG_SCALAR_FN_(u8, uint8_t, WEFT_U8)
#undef WEFT_ARG_SCALAR_FN_

/* A 1D, 2D or 3D index space. size[0] varies fastest; the range is split over
 * devices along its outermost dimension with more than one index ({N, 1}
 * splits along N). local all 0: chosen per device; else the work-group size,
 * which must divide size. A kernel whose split would change its answer runs
 * whole on one device (docs/kernels.md). */
typedef struct weft_range {
    unsigned dims;
    size_t size[3];
    size_t local[3];
} weft_range;

/* Ranges: weft_range_2d(nx, ny) is {2, {nx, ny, 1}, {0}} (local sizes chosen
 * per device). */
static inline weft_range weft_range_1d(size_t n)
{
    weft_range r = {1, {n, 1, 1}, {0, 0, 0}};
    return r;
}
static inline weft_range weft_range_2d(size_t nx, size_t ny)
{
    weft_range r = {2, {nx, ny, 1}, {0, 0, 0}};
    return r;
}
static inline weft_range weft_range_3d(size_t nx, size_t ny, size_t nz)
{
    weft_range r = {3, {nx, ny, nz}, {0, 0, 0}};
    return r;
}
/* The element count of an array (of weft_arg or weft_bind), for nargs and
 * nbinds: weft_launch(p, "k", &r, args, WEFT_COUNTOF(args), ...). */
#define WEFT_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* What a host fallback sees: the launch's arguments, with array arguments as
 * pointers to element 0 of the whole array (index globally, as the kernel's
 * get_global_id does), scalars as pointers to their value, local as NULL.
 * Run for indices [begin, end) of the split dimension (the outermost with more
 * than one index), possibly in parallel chunks. */
typedef struct weft_host_call {
    const weft_range *range;
    size_t begin, end;
    void *const *args;
    size_t nargs;
    void *user;
} weft_host_call;
typedef void (*weft_host_fn)(const weft_host_call *call);
/* Argument i of a host call, NULL when i is past nargs (a local argument is
 * NULL too): `const float *x = weft_host_arg(call, 1);` instead of a cast of
 * call->args[1] with nothing to check it. */
static inline void *weft_host_arg(const weft_host_call *call, size_t i)
{
    return call && i < call->nargs ? call->args[i] : NULL;
}

/* Runs kernel `name` of program over range, split over the selected OpenCL
 * devices along the outermost dimension. Kernels are written the ordinary
 * way: every array argument is the whole array (element (outer index o,
 * inner offset k) at o * inner + k, where inner = array size / outer size)
 * and get_global_id is global (a piece's start is the global work offset).
 * What a piece may rely on: SLICE, its own rows are current and its writes
 * to them are kept; HALO, also `halo` rows on each side (clipped to the
 * array; any halo works, neighbours' rows are brought from the device that
 * holds them, and only when stale); WHOLE, every element, read-only. Data
 * stays on the device that wrote it until something else reads it. A kernel
 * reads stale values outside those rows and its writes there are dropped; it
 * can never write outside the arrays it was given into host memory.
 * host_fn (optional) runs pieces no device can: without it, and without a
 * usable device, the launch fails with WEFT_ERR_NO_DEVICE. Arguments are
 * checked against the kernel's signature first, with an error naming the
 * argument. A launch no selected device can take (local arguments above
 * CL_DEVICE_LOCAL_MEM_SIZE, a local size above the device's or the kernel's
 * maximum work-group size) or whose work-item count overflows a size_t is
 * WEFT_ERR_INVALID_ARG before anything runs; host_fn reruns pieces of
 * devices that fail, never refused launches. A device whose largest
 * allocation cannot hold an array argument whole (a kernel indexes the whole
 * array) is left out: the other devices, or host_fn, run the launch; with
 * neither it is WEFT_ERR_INVALID_ARG naming the argument, its bytes and the
 * limit. */
WEFT_API weft_status weft_launch(weft_program *program, const char *name, const weft_range *range,
                                 const weft_arg *args, size_t nargs, weft_host_fn host_fn,
                                 void *user, weft_future **future);

/* The ledger: what a context moved and ran since it was created (or reset). */
typedef struct weft_stats {
    uint64_t bytes_to_device;        /* host memory to device memory */
    uint64_t bytes_to_host;          /* device memory to host memory, for the host */
    uint64_t bytes_device_to_device; /* one device's copy to another's (through the host) */
    uint64_t kernel_launches;        /* OpenCL kernel enqueues: built-in and user kernels */
    uint64_t tasks;                  /* pieces of operations run, on devices and the pool */
    uint64_t pieces_rerun;           /* pieces a failing device handed back to the pool */
    double wait_seconds;             /* time callers spent blocked in waits for operations */
    uint64_t splits_checked;         /* split launches checked against one device (kernels.md) */
    uint64_t kernels_kept_whole;     /* kernels whose split differed: run on one device since */
} weft_stats;

WEFT_API weft_status weft_ctx_stats(weft_ctx *ctx, weft_stats *stats);
WEFT_API weft_status weft_ctx_stats_reset(weft_ctx *ctx);

/* Placement (docs/architecture.md, "How placement is decided"). weft times
 * every operation on the devices it ran on and keeps, per operation (an
 * expression with its dtypes, a primitive and its dtype) and device, a model
 * of its time by size, in the cache directory; each call goes where the
 * models predict it finishes first, the pool included, counting copies of
 * data not yet there. A device with no history at a size is measured by
 * running a call there. Applies with the default options; weights given or
 * even, a small_elements given, or WEFT_PLACEMENT=weights keep the static
 * split by weight (then only hinted operations are placed). */
#define WEFT_PLACE_AUTO ((uint64_t)0)             /* the models decide */
#define WEFT_PLACE_HOST ((uint64_t)1)             /* the pool only */
#define WEFT_PLACE_DEVICES (~(uint64_t)1)         /* OpenCL devices only (the pool if none can) */
#define WEFT_PLACE_DEVICE(i) ((uint64_t)1 << (i)) /* device index i (or these together) */

/* Restricts where `operation` runs, from its next call on: the expression's
 * text as given to weft_map / weft_reduce_expr ("x" for weft_sum and
 * weft_reduce; blanks and whether statements end with ';' or a line end do
 * not matter), or "axpy", "scan totals", "scan apply". devices is a mask of
 * device indices (WEFT_PLACE_*); WEFT_PLACE_AUTO removes the hint. A mask
 * naming an index the context has no device for, or an empty text, is
 * WEFT_ERR_INVALID_ARG. Results
 * are bit-identical wherever an operation runs, except the last bits of
 * builtins such as exp, sin or pow, which may differ between the pool and an
 * OpenCL device (docs/expressions.md, "Floating point"). */
WEFT_API weft_status weft_ctx_place(weft_ctx *ctx, const char *operation, uint64_t devices);

#define WEFT_OP_STATS_DEVICES 16

typedef struct weft_op_device_stats {
    uint64_t pieces;                  /* pieces run there */
    uint64_t elements;                /* elements of those pieces */
    double seconds_per_element;       /* measured, over calls it ran alone (0: none) */
    double model_seconds_per_element; /* the model's prediction at 10^6 elements (0: no model) */
} weft_op_device_stats;

typedef struct weft_op_stats {
    char operation[160]; /* "map \"y = a*x + y\"", "axpy:f32", ... */
    uint64_t calls;
    size_t ndevices; /* entries of device[] in use: the context's devices, up to 16 */
    weft_op_device_stats device[WEFT_OP_STATS_DEVICES];
} weft_op_stats;

/* Per operation since the context was created, in the order first called:
 * fills up to capacity entries, *count is how many there are. */
WEFT_API weft_status weft_ctx_op_stats(weft_ctx *ctx, weft_op_stats *stats, size_t capacity,
                                       size_t *count);

/* Device time (OpenCL profiling) of the last synchronous user-kernel launch:
 * the slowest device's piece; 0 when it ran on the pool. Launches are timed
 * only after the first call on the context (timing costs each launch a few
 * microseconds): call it once before the launches to time. */
WEFT_API weft_status weft_ctx_last_kernel_time(weft_ctx *ctx, double *seconds);

/* Builds each source for every selected device into the binary cache, so later
 * processes load binaries instead of compiling (CI can keep the cache dir). */
WEFT_API weft_status weft_program_precompile(weft_ctx *ctx, const char *const *sources,
                                             size_t count, const char *options);

/* ------------------------------------------------------------------------ */
/* Expressions, reductions and scans (the language: docs/expressions.md) */

/* A name in an expression bound to an array or to a scalar value. Names are
 * identifiers (letters, digits, '_', not starting with a digit, under 64
 * characters), each bound once: anything else is WEFT_ERR_INVALID_ARG. */
typedef struct weft_bind {
    const char *name;
    weft_array *array; /* NULL for a scalar */
    weft_dtype dtype;  /* the scalar's dtype (ignored for arrays) */
    weft_value value;
} weft_bind;

static inline weft_bind weft_bind_array(const char *name, weft_array *array)
{
    weft_bind b = {name, array, WEFT_F32, {0}};
    return b;
}
#define WEFT_BIND_SCALAR_FN_(suffix, type, dt)                                                     \
    static inline weft_bind weft_bind_##suffix(const char *name, type v)                           \
    {                                                                                              \
        weft_bind b = {name, NULL, dt, {0}};                                                       \
        b.value.suffix = v;                                                                        \
        return b;                                                                                  \
    }
WEFT_BIND_SCALAR_FN_(f32, float, WEFT_F32)
WEFT_BIND_SCALAR_FN_(f64, double, WEFT_F64)
WEFT_BIND_SCALAR_FN_(i32, int32_t, WEFT_I32)
WEFT_BIND_SCALAR_FN_(u32, uint32_t, WEFT_U32)
WEFT_BIND_SCALAR_FN_(i64, int64_t, WEFT_I64)
WEFT_BIND_SCALAR_FN_(u64, uint64_t, WEFT_U64)
WEFT_BIND_SCALAR_FN_(u8, uint8_t, WEFT_U8)
#undef WEFT_BIND_SCALAR_FN_

/* One weft_map, weft_reduce_expr or weft_filter takes at most
 * WEFT_MAX_BINDINGS bindings, of which at most WEFT_MAX_ARRAYS distinct arrays
 * (scalars fill the rest); more is WEFT_ERR_INVALID_ARG before anything runs. */
#define WEFT_MAX_BINDINGS 32
#define WEFT_MAX_ARRAYS 16

/* Element-wise statements over arrays of one size: "y = a * x + y",
 * "t = x * x; y = t + 1". Arrays assigned to are outputs (they may also be
 * inputs); every element's inputs are read before its outputs are written.
 * Compiled once per (text, names, dtypes) for the devices and the pool. */
WEFT_API weft_status weft_map(weft_ctx *ctx, const char *expr, const weft_bind *binds,
                              size_t nbinds, weft_future **future);

typedef enum weft_reduce_op {
    WEFT_SUM =
        0,     /* floats: f64 result; signed ints: i64; unsigned: u64 (overflow: WEFT_ERR_RANGE) */
    WEFT_PROD, /* f64 result for every dtype */
    WEFT_MIN,  /* result in the value's (promoted) dtype; NaN wins; -0.0 < +0.0 */
    WEFT_MAX,
    WEFT_ARGMIN, /* as MIN, plus the index of its first occurrence */
    WEFT_ARGMAX,
    WEFT_ANY, /* i32 0 or 1: any element non-zero (NaN counts as non-zero) */
    WEFT_ALL
} weft_reduce_op;

/* A reduction's result: its dtype, value and (ARGMIN/ARGMAX) index. */
typedef struct weft_scalar {
    weft_dtype dtype;
    weft_value value;
    uint64_t index;
} weft_scalar;

/* The value of a weft_scalar as a double (exact for f32, f64 and |ints| < 2^53). */
WEFT_API double weft_scalar_as_double(const weft_scalar *s);

/* Reduces array x. Empty arrays: SUM 0, PROD 1, ANY 0, ALL 1; MIN, MAX and the
 * ARG forms return WEFT_ERR_SIZE. Bit-identical on any mix of devices and any
 * thread count: blocks of WEFT_SUM_BLOCK combined in index order. *out is
 * written when the operation completes. */
WEFT_API weft_status weft_reduce(weft_ctx *ctx, weft_reduce_op op, weft_array *x, weft_scalar *out,
                                 weft_future **future);
/* Reduces an expression evaluated per element, in one pass: "x * y" with
 * WEFT_SUM is a dot product, "x > 0" a count. Temporaries may come first
 * ("t = x - 1; t * t"); assigning to a bound array is WEFT_ERR_EXPR. */
WEFT_API weft_status weft_reduce_expr(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                      const weft_bind *binds, size_t nbinds, weft_scalar *out,
                                      weft_future **future);

/* Prefix scan of x into y (y may be x): op WEFT_SUM, WEFT_MIN or WEFT_MAX;
 * inclusive (y[i] covers x[0..i]) or exclusive (x[0..i-1]; y[0] is the
 * identity: 0, or the dtype's largest / smallest value, infinities for floats).
 * An inclusive float sum keeps -0.0 while only -0.0 was added (numpy's
 * cumsum([-0.0]) is [-0.0]); an exclusive one starts from +0.0, as CUB's.
 * Float sums accumulate in double and integer sums wrap in the dtype; blocks
 * of WEFT_SUM_BLOCK carry into each other in index order, so the bits do not
 * depend on the devices or threads. */
/* The `exclusive` argument of weft_scan (an int, as it always was). */
enum weft_scan_kind { WEFT_SCAN_INCLUSIVE = 0, WEFT_SCAN_EXCLUSIVE = 1 };
WEFT_API weft_status weft_scan(weft_ctx *ctx, weft_reduce_op op, int exclusive, weft_array *x,
                               weft_array *y, weft_future **future);

/* ------------------------------------------------------------------------ */
/* Data primitives: sorting, histograms, scatter-add, random numbers,
 * grouping and filtering (docs/primitives.md). Each runs over whole arrays on
 * the host pool (wherever the arrays' elements were), except weft_random,
 * which is split over devices as weft_map is. Results are bit-identical
 * whatever the devices, their partition and the thread count. */

#define WEFT_SORT_DESCENDING 1u

/* Sorts keys in place, stably: ascending (flags 0) or descending
 * (WEFT_SORT_DESCENDING; equal keys still keep their input order). values
 * (NULL, or an array of any dtype with as many elements) is permuted with
 * keys. Floats order as numpy's: -0.0 and 0.0 are equal (they keep their
 * input order) and every NaN is greater than everything else and equal to
 * every other NaN; descending keeps NaNs last too. */
WEFT_API weft_status weft_sort(weft_ctx *ctx, weft_array *keys, weft_array *values, unsigned flags,
                               weft_future **future);
/* The permutation weft_sort would apply, into indices (u32, or u64; as many
 * elements as keys): keys[indices[0]], keys[indices[1]], ... is sorted. keys
 * is not changed. */
WEFT_API weft_status weft_argsort(weft_ctx *ctx, weft_array *keys, weft_array *indices,
                                  unsigned flags, weft_future **future);

/* Counts of x (any dtype, read as double) in nbins equal-width bins over
 * [lo, hi), nbins being the length of counts (u32 or u64), which is
 * overwritten. Values outside [lo, hi) and NaN are not counted. Bin edges are
 * numpy's: edge k is lo + k * ((hi - lo) / nbins), and a value goes in the
 * bin whose edges surround it. lo < hi, both finite: else WEFT_ERR_INVALID_ARG. */
WEFT_API weft_status weft_histogram(weft_ctx *ctx, weft_array *x, double lo, double hi,
                                    weft_array *counts, weft_future **future);
/* out[k] = number of i with indices[i] == k (weights NULL; out u32, u64, i32,
 * i64, f32 or f64), or the sum of weights[i] over them (weights of out's
 * dtype), for k below out's length; out is overwritten. indices: i32, u32,
 * i64, u64 or u8; one outside [0, length of out) is WEFT_ERR_RANGE naming
 * its position, and out is left unchanged. */
WEFT_API weft_status weft_bincount(weft_ctx *ctx, weft_array *indices, weft_array *weights,
                                   weft_array *out, weft_future **future);
/* out[indices[i]] += values[i] for every i, as the plain loop in index order
 * does it (so float sums have its bits, whatever the threads): values and out
 * of one dtype; indices and errors as weft_bincount (out unchanged). */
WEFT_API weft_status weft_scatter_add(weft_ctx *ctx, weft_array *indices, weft_array *values,
                                      weft_array *out, weft_future **future);

/* Random numbers from a counter-based generator (Philox4x32-10): element i of
 * a gets element offset + i of the stream of seed, and depends on nothing
 * else (not the devices, the split or the threads). dist WEFT_UNIFORM: floats
 * in [0, 1), integers over their whole range; WEFT_NORMAL: floats, mean 0,
 * deviation 1. The streams are defined in include/weft_random.h, which user
 * kernels may include (C or OpenCL C) to draw the same numbers. */
enum { WEFT_UNIFORM = 0, WEFT_NORMAL = 1 };
WEFT_API weft_status weft_random(weft_ctx *ctx, weft_array *a, int dist, uint64_t seed,
                                 uint64_t offset, weft_future **future);

/* Grouped reductions. keys: an integer dtype (i32, u32, i64, u64, u8).
 * op: WEFT_SUM, WEFT_MIN, WEFT_MAX (out_values of values' dtype; float sums
 * accumulate in double in index order and round once, integer sums wrap;
 * MIN/MAX as weft_reduce: NaN wins, -0.0 < +0.0) or WEFT_COUNT (values may be
 * NULL; out_values u32, u64, i32, i64 or f64). Group g's key goes to
 * out_keys[g] (keys' dtype) and its result to out_values[g]; *count, written
 * when the operation completes, is the number of groups. out_keys and
 * out_values need at least that many elements (WEFT_ERR_SIZE, nothing
 * written, otherwise); elements past it are left alone. */
#define WEFT_COUNT ((weft_reduce_op)64)
/* One group per run of equal adjacent keys (sorted keys: one per key). */
WEFT_API weft_status weft_reduce_by_key(weft_ctx *ctx, weft_reduce_op op, weft_array *keys,
                                        weft_array *values, weft_array *out_keys,
                                        weft_array *out_values, size_t *count,
                                        weft_future **future);
/* One group per distinct key, in ascending key order, whatever the order of
 * keys: a stable sort, then weft_reduce_by_key, so each group's values are
 * reduced in their input order (reproducible). keys and values unchanged. */
WEFT_API weft_status weft_group_by(weft_ctx *ctx, weft_reduce_op op, weft_array *keys,
                                   weft_array *values, weft_array *out_keys, weft_array *out_values,
                                   size_t *count, weft_future **future);

/* Stream compaction: keeps, in order, the elements where cond is non-zero.
 * cond is one expression of the language (docs/expressions.md) over binds,
 * as in weft_map ("x > 0 && y != 3"); NaN counts as non-zero. For each k <
 * n_out, the elements of inputs[k] (as long as the bound arrays) at the kept
 * positions go to outputs[k] (same dtype, at least *count elements:
 * WEFT_ERR_SIZE and nothing written otherwise; the rest are left alone).
 * *count, written when the operation completes, is how many were kept.
 * Outputs may be neither inputs nor bound arrays. */
WEFT_API weft_status weft_filter(weft_ctx *ctx, const char *cond, const weft_bind *binds,
                                 size_t nbinds, weft_array *const *inputs,
                                 weft_array *const *outputs, size_t n_out, size_t *count,
                                 weft_future **future);

/* ------------------------------------------------------------------------ */
/* CSV files larger than memory (docs/csv.md)
 *
 * A CSV file is read as windows of complete records, a few MiB each. Only the
 * columns an expression reads are parsed (integers to i64, other numbers to
 * f64, typed by the first window unless `types` says otherwise); every other
 * field stays a byte range and is written back byte for byte. Parsing and
 * formatting run in parallel on the pool; a reader thread reads ahead and a
 * writer thread writes behind (and, on a copying or non-CPU device, a
 * window's statements run while the next window is parsed), so memory is a
 * few windows whatever the file's size. Malformed input fails with WEFT_ERR_DATA and a message
 * "FILE:LINE:COLUMN: what" in weft_last_error(). */

typedef struct weft_csv_options {
    char delimiter;       /* ',' (default) */
    int header;           /* 1 (default): the first record names the columns; 0: c1, c2, ... */
    size_t window_bytes;  /* bytes read per window; 0: 1 MiB (a window grows to hold a record) */
    const char *types;    /* "id=f64,price=i64": column dtypes (i64, f64); NULL: the first
                             window decides (i64 if every field is an integer, else f64) */
    int int_missing_fill; /* 0 (default): an empty or NA field in an i64 column is an error;
                             1: it reads as int_missing_value. Float columns read them as NaN. */
    int64_t int_missing_value;
    int fsync; /* 1: fsync the output before renaming it into place (default 0) */
} weft_csv_options;

WEFT_API void weft_csv_options_init(weft_csv_options *options);

/* A reduction over a whole file: `expr` over the columns (after the job's
 * statements), as weft_reduce_expr; the result is bit-identical to
 * weft_reduce_expr over the whole columns in memory. */
typedef struct weft_csv_reduction {
    weft_reduce_op op;
    const char *expr;
    weft_scalar result; /* out */
} weft_csv_reduction;

typedef struct weft_csv_job {
    /* Statements of the expression language run on every window in order
     * ("new_column = old_column * 2"); every name assigned becomes a column:
     * a file column keeps its place and dtype, a new one is appended with the
     * dtype of its value. */
    const char *const *statements;
    size_t nstatements;
    const char *const *select; /* output columns in this order (NULL: all) */
    size_t nselect;
    const char *const *drop; /* columns left out of the output */
    size_t ndrop;
    weft_csv_reduction *reductions;
    size_t nreductions;
    /* Called after each window with the input bytes done and the file's size. */
    void (*progress)(void *user, uint64_t bytes_done, uint64_t bytes_total);
    void *progress_user;
    /* Checked between windows: non-zero stops the run (WEFT_ERR_CANCELLED).
     * Set it from a signal handler, or from another thread with an atomic
     * store (__atomic_store_n(&flag, 1, __ATOMIC_RELAXED)): weft reads it
     * atomically. */
    const volatile int *cancel;
} weft_csv_job;

typedef struct weft_csv_stats {
    uint64_t rows, windows, bytes_read, bytes_written;
    double seconds;                     /* wall time of the run */
    double scan_seconds, parse_seconds; /* of the calling thread, by stage */
    double compute_seconds, format_seconds, wait_seconds;
    uint64_t rows_skipped; /* rows of the wrong width left out (bad_rows WEFT_CSV_BAD_SKIP) */
} weft_csv_stats;

/* The struct grew by rows_skipped: programs built against this header call
 * weft_csv_run (and weft_csv_run_dialect, below) by these names, and the
 * symbols without the suffix, which fill the struct without its last field,
 * stay for programs built against an earlier header. */
#define weft_csv_run weft_csv_run_skipped

/* Reads `input` ("-": standard input), runs the job's statements on every window, reduces, and
 * writes the result to `output` (NULL: no output, reductions only; "-":
 * standard output). A regular file's output goes to a temporary file beside
 * it, renamed into place only when the whole run succeeded: a failed or
 * cancelled run leaves an existing `output` untouched and no partial file;
 * a replaced file keeps its mode, and a symlink stays, its target replaced.
 * What cannot be replaced (a device such as /dev/null, a FIFO) is written in
 * place. Untouched fields are written as they are in
 * the input; computed floats in the shortest form that reads back to the same
 * value (Python's repr; NaN as an empty field), integers exactly; lines end
 * with "\n". options NULL: defaults; stats may be NULL. */
WEFT_API weft_status weft_csv_run(weft_ctx *ctx, const char *input, const char *output,
                                  const weft_csv_options *options, weft_csv_job *job,
                                  weft_csv_stats *stats);

/* CSV dialects beyond weft_csv_options (docs/csv.md, "Dialects"): lines to
 * skip before the header, comment lines, rows of the wrong width, and how the
 * output is written. */
/* A record with more or fewer fields than the header. */
typedef enum weft_csv_bad_rows {
    WEFT_CSV_BAD_ERROR = 0, /* an error naming its line (default) */
    WEFT_CSV_BAD_SKIP,      /* left out of the output and the reductions */
    WEFT_CSV_BAD_PAD        /* a short row gets empty fields; a long one is an error */
} weft_csv_bad_rows;

/* How the output quotes its fields. */
typedef enum weft_csv_quoting {
    WEFT_CSV_QUOTE_KEEP = 0,  /* untouched fields exactly as read (default) */
    WEFT_CSV_QUOTE_MINIMAL,   /* quotes only where needed (csv.QUOTE_MINIMAL) */
    WEFT_CSV_QUOTE_ALL,       /* every field (csv.QUOTE_ALL) */
    WEFT_CSV_QUOTE_NONNUMERIC /* every field but numbers (csv.QUOTE_NONNUMERIC) */
} weft_csv_quoting;

typedef struct weft_csv_dialect {
    size_t skip_lines; /* physical lines dropped before anything is read (metadata) */
    char comment;      /* lines starting with it are skipped, before the header too; 0: none */
    weft_csv_bad_rows bad_rows;
    /* Output. Any choice but the defaults rewrites every field (unquoted, then
     * quoted as asked) and writes the header fresh from the names. */
    char out_delimiter; /* 0: the input's */
    weft_csv_quoting quoting;
    int crlf; /* 1: lines end in "\r\n"; 0: "\n" */
    /* Input. Fields read as missing besides the empty field and pandas'
     * defaults ("NA", "NaN", "NULL", ...; docs/csv.md), matched to the whole
     * field after its quotes are removed, before it is read as a number (so
     * "-999" can be one). Missing reads as NaN in a float column; a column
     * typed by the first window holding one is f64, as pandas reads it; in an
     * i64 column (typed so, or by an earlier window) it is the error naming
     * the field that int_missing_fill avoids. The strings are copied. */
    const char *const *na_values;
    size_t n_na_values;
} weft_csv_dialect;

/* The struct grew by na_values: programs built against this header call the
 * entries below by these names, and the symbols without the suffix, which
 * read the struct without its last two fields, stay for programs built
 * against an earlier header (weft_csv_run_dialect_na, for those built
 * before weft_csv_stats grew). */
#define weft_csv_dialect_init weft_csv_dialect_init_na
#define weft_csv_run_dialect weft_csv_run_dialect_skipped

/* The defaults, which read and write as weft_csv_run does. */
WEFT_API void weft_csv_dialect_init(weft_csv_dialect *dialect);

/* weft_csv_run with a dialect (NULL: the defaults, as weft_csv_run). */
WEFT_API weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                          const weft_csv_options *options,
                                          const weft_csv_dialect *dialect, weft_csv_job *job,
                                          weft_csv_stats *stats);

/* Reading window by window, for programs that do their own work on the rows. */
typedef struct weft_csv_reader weft_csv_reader;

WEFT_API weft_status weft_csv_open(weft_ctx *ctx, const char *path, const weft_csv_options *options,
                                   weft_csv_reader **reader);
/* weft_csv_open with a dialect's input fields (skip_lines, comment,
 * bad_rows, na_values; the output fields are not looked at; NULL: the
 * defaults, as weft_csv_open). */
WEFT_API weft_status weft_csv_open_dialect(weft_ctx *ctx, const char *path,
                                           const weft_csv_options *options,
                                           const weft_csv_dialect *dialect,
                                           weft_csv_reader **reader);
WEFT_API weft_status weft_csv_close(weft_csv_reader *reader);
WEFT_API weft_status weft_csv_column_count(const weft_csv_reader *reader, size_t *count);
/* The column's name (from the header, or "c1", "c2", ...); NULL out of range. */
WEFT_API const char *weft_csv_column_name(const weft_csv_reader *reader, size_t column);
/* Moves to the next window: *rows is 0 at the end of the file; *first_row
 * (may be NULL) is the index in the file of the window's first row. */
WEFT_API weft_status weft_csv_next(weft_csv_reader *reader, size_t *rows, uint64_t *first_row);
/* The column of the current window as an array of i64 or f64 (typed as in
 * weft_csv_options), parsed on the first call in each window: WEFT_ERR_DATA
 * names a field that is not a number. The reader owns the array; it is valid
 * until the next weft_csv_next (weft_array_free of it: WEFT_ERR_STATE). Any
 * column can be parsed. */
WEFT_API weft_status weft_csv_column(weft_csv_reader *reader, size_t column, weft_array **array);
/* The bytes of one field as they are in the file (quotes included, no line end). */
WEFT_API weft_status weft_csv_field(const weft_csv_reader *reader, size_t row, size_t column,
                                    const char **text, size_t *length);

/* ------------------------------------------------------------------------ */
/* Launches split over processes (weft_mpi's distributed launch) */

/* As weft_launch, but only indices [first, last) of the split dimension run:
 * get_global_id stays global, array arguments are the whole range's arrays
 * (a process keeps current only the rows it runs and their halos), host_fn
 * sees those rows. The window is split over the selected devices as a launch
 * is, and its first split is checked against one device running the same
 * window (docs/kernels.md).
 * A program that reads the launch's geometry (get_global_size and kin) is
 * WEFT_ERR_UNSUPPORTED; [first, last) out of the range WEFT_ERR_RANGE. */
WEFT_API weft_status weft_launch_rows(weft_program *program, const char *name,
                                      const weft_range *range, size_t first, size_t last,
                                      const weft_arg *args, size_t nargs, weft_host_fn host_fn,
                                      void *user, weft_future **future);

/* ------------------------------------------------------------------------ */
/* Completion callbacks */

/* Called once with the status the future completed with. */
typedef void (*weft_future_done_fn)(void *user, weft_status status);
/* concurrent.futures' add_done_callback: fn(user, status) runs once the
 * future is done (at once, if it is done already), on one thread weft keeps
 * for callbacks, process-wide, that runs them one at a time in the order
 * their futures completed, with no weft lock held (a future completes under
 * its context's internal lock; the callback does not). So fn may call weft,
 * weft_future_wait of this future (it returns at once) included, and may take
 * its own locks (a binding's interpreter lock); while it runs, later
 * callbacks wait, so it must not wait for another callback. fn runs even when
 * the future was released meanwhile. WEFT_ERR_NULL, WEFT_ERR_STATE (a released
 * future) or WEFT_ERR_THREAD, and fn is never called; in a fork child,
 * callbacks of the parent's futures do not run. */
WEFT_API weft_status weft_future_on_done(weft_future *future, weft_future_done_fn fn, void *user);
/* Takes back a callback registered by weft_future_on_done with this fn and
 * user while the future is not done yet: *cancelled = 1 and fn will not run.
 * *cancelled = 0 when the future is done (fn runs or ran: it was handed to
 * the callback thread) or no such callback is registered. For a waiter that
 * completes what the callback would have (a binding's result()), so that the
 * callback thread is not woken for nothing. WEFT_ERR_NULL, WEFT_ERR_STATE (a
 * released future). */
WEFT_API weft_status weft_future_on_done_cancel(weft_future *future, weft_future_done_fn fn,
                                                void *user, int *cancelled);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_H */
