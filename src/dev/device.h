/* The device interface: one complete table of functions per device
 * (weft_backend), the device itself, and what the table's entries take.
 *
 * weft_backend_host_init fills the reference table: portable C on the thread
 * pool (src/dev/ref/, as BLIS's ref_kernels), the implementation every
 * primitive has. A driver starts from a copy of it and overrides what it does
 * natively (PoCL's pocl_device_ops: basic fills, pthread overrides); a
 * primitive it leaves alone still points at the reference, and the operation
 * runs that piece on the host instead (weft_device_native says which). Entries
 * a device cannot serve at all are NULL.
 *
 * Device-side calls enqueue and may return before the work is done;
 * `finish` waits and reports the first failure since the last finish. Data
 * written into host memory by an enqueued read is valid after finish.
 *
 * This header and the drivers under src/dev/ include nothing above core/ and
 * expr/ (tests/check_layers.cmake). */
#ifndef WEFT_DEV_DEVICE_H
#define WEFT_DEV_DEVICE_H

#include "../expr/expr.h"
#include "services.h"
#include "weft.h"

typedef struct weft_device weft_device;
typedef struct weft_expr_call weft_expr_call;
typedef struct weft_partial weft_partial;
typedef struct weft_compiled weft_compiled;
struct weft_sort_call;
struct weft_histogram_call;
struct weft_scatter_call;
struct weft_segment_call;

/* A stretch of an array as a primitive sees it. */
typedef struct weft_view {
    void *host;   /* first element in host memory */
    void *buffer; /* the device buffer holding it (cl_mem), NULL on the host */
} weft_view;

/* What a kernel's signature says of one argument (clGetKernelArgInfo). */
typedef struct weft_param {
    char name[64];
    char type[64];
    int address; /* 0 private (scalar), 1 global, 2 local, 3 constant */
    int is_const;
    /* Filled by the program layer from the source once per kernel, not by
     * the driver: type with its typedefs and macros followed, a global
     * pointer every use of which is a subscript read, or a subscript store
     * (ops/launch_scalars.c), and the bytes a pointer's element takes (0:
     * not known; ops/kernel_source.c). */
    char resolved[128];
    int only_read;
    int only_stored;
    size_t element;
} weft_param;

/* One kernel argument as a device takes it. */
typedef enum weft_kernel_arg_kind {
    WEFT_KERNEL_ARG_BUFFER, /* buffer: the device's buffer (cl_mem) */
    WEFT_KERNEL_ARG_VALUE,  /* value: bytes of a scalar */
    WEFT_KERNEL_ARG_LOCAL   /* bytes of work-group memory */
} weft_kernel_arg_kind;

typedef struct weft_kernel_arg {
    weft_kernel_arg_kind kind;
    void *buffer;
    const void *value;
    size_t bytes;
} weft_kernel_arg;

/* One kernel launch, as PoCL's command nodes are: what to run and where in
 * the index space, nothing of the operation it belongs to. */
typedef struct weft_kernel_call {
    void *kernel;     /* from kernel_create */
    const char *name; /* for messages */
    unsigned dims;
    size_t offset[3], global[3];
    size_t local[3]; /* local[0] == 0: the device chooses */
    const weft_kernel_arg *args;
    size_t nargs;
    int keep_event; /* the caller times the launch: keep its event */
    void *event;    /* out: the launch's event when kept; released with event_release */
} weft_kernel_call;

typedef struct weft_backend {
    const char *name;

    /* Releases what the driver holds for the device (its impl); NULL where
     * it holds nothing (the host). */
    void (*release)(weft_device *dev);

    /* User programs (ops/program.c): built through the binary cache; *log
     * (malloc'd) holds the build log on WEFT_ERR_BUILD. Kernels created from
     * programs (and from expressions) are released through kernel_release. */
    weft_status (*program_build)(weft_device *dev, const char *source, const char *options,
                                 void **program, char **log);
    void (*program_release)(weft_device *dev, void *program);
    void (*kernel_release)(weft_device *dev, void *kernel);

    /* User-kernel launches (ops/launch.c), through neutral calls: the
     * program layer keeps the kernels it created per device and their
     * signatures; a launch is a weft_kernel_call. NULL where the device runs
     * no OpenCL C (the host pool runs a kernel through its host_fn). */
    weft_status (*kernel_create)(weft_device *dev, void *program, const char *name, void **kernel);
    /* The kernel's signature (WEFT_ERR_UNSUPPORTED when the platform gives none). */
    weft_status (*kernel_params)(weft_device *dev, void *kernel, weft_param *params,
                                 size_t capacity, size_t *count);
    /* sizeof each of types[0, ntypes) as the device's compiler lays them
     * out at offset `at` of source (a kernel inserted there tells: right
     * after the kernel whose parameters they are, the names mean what they
     * mean in its parameter list). WEFT_ERR_BUILD when it does not build.
     * NULL where the device compiles no OpenCL C. */
    weft_status (*type_sizes)(weft_device *dev, const char *source, size_t at, const char *options,
                              const char *const *types, size_t ntypes, size_t *sizes);
    /* The work-group size the kernel's source requires
     * (reqd_work_group_size), all 0 when it requires none. */
    weft_status (*kernel_group_size)(weft_device *dev, void *kernel, size_t required[3]);
    /* WEFT_ERR_INVALID_ARG naming what of the call does not fit the device. */
    weft_status (*launch_limits)(weft_device *dev, const weft_kernel_call *call);
    /* Enqueues the call; call->event is set when call->keep_event asks. */
    weft_status (*launch)(weft_device *dev, weft_kernel_call *call);
    /* Seconds a finished launch's kept event ran on the device (0 if unknown). */
    double (*event_seconds)(weft_device *dev, void *event);

    /* Device memory (the residency module, src/mem/, is the only caller).
     * host non-NULL asks for a buffer that wraps that host memory
     * (zero-copy). read is blocking; offsets are in bytes. write is blocking
     * when done is NULL; else it only enqueues, and *done (NULL if nothing is
     * left running; released with event_release) completes once src may
     * change again. */
    weft_status (*buffer_create)(weft_device *dev, size_t bytes, void *host, void **buffer);
    void (*buffer_release)(weft_device *dev, void *buffer);
    /* A buffer aliasing bytes [offset, offset + bytes) of buffer. */
    weft_status (*sub_buffer)(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                              void **sub);
    weft_status (*write)(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                         const void *src, void **done);
    weft_status (*read)(weft_device *dev, void *buffer, size_t offset, size_t bytes, void *dst);
    /* Within one device: bytes from src at src_offset to dst at dst_offset. */
    weft_status (*copy)(weft_device *dev, void *src, size_t src_offset, void *dst,
                        size_t dst_offset, size_t bytes);
    /* Optional (NULL: write serves, and one queue orders everything). A
     * copy from the host into dev on a queue of its own, enqueued after the
     * event after (NULL: at once; what may still use that part of buffer),
     * *done as for write. Copies run beside dev's kernels: one that reads
     * the copy names it to depend first. */
    weft_status (*upload)(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                          const void *src, void *after, void **done);
    /* Optional (with upload). The calling thread's next command on dev (a
     * kernel, a copy within the device or from a peer, a marker) waits for
     * event: a copy it reads. */
    void (*depend)(weft_device *dev, void *event);
    /* 1 when dev can copy straight from other's buffers (peer_copy works). */
    int (*peer_reachable)(const weft_device *dev, const weft_device *other);
    /* From another device's buffer into dev's, without the host: after the
     * work already queued on src, and before src's later work (which may
     * overwrite what is being copied). Enqueued, not waited for. */
    weft_status (*peer_copy)(weft_device *dev, void *dst, size_t dst_offset, weft_device *src,
                             void *src_buffer, size_t src_offset, size_t bytes);

    /* Primitives over n elements. */
    weft_status (*axpy)(weft_device *dev, weft_dtype dtype, double a, weft_view x, weft_view y,
                        size_t n);

    /* Expressions (weft_expr_call below): views[k] is the k-th array of the call. */
    weft_status (*map_expr)(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                            size_t begin, size_t n);
    /* One weft_partial per WEFT_SUM_BLOCK elements from begin (a block boundary). */
    weft_status (*reduce_expr)(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                               size_t begin, size_t n, weft_partial *partials);
    /* Optional: builds the expression's kernel into compiled->kernels (or
     * marks it WEFT_KERNEL_FAILED) as its first map_expr / reduce_expr would,
     * from any thread, ahead of that call (ops/expr_build.c). */
    weft_status (*expr_build)(weft_device *dev, const weft_compiled *compiled);

    /* Scans (op SUM, MIN or MAX) in two passes over blocks of WEFT_SUM_BLOCK,
     * each of 16 sub-blocks of 256 (kernels/scan.cl): subtotals[16k + s] =
     * fold of sub-block s of block k; then each sub-block rescans from
     * carries[16k + s]. Accumulator bits: ops/scan_host.c. */
    weft_status (*scan_totals)(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                               size_t n, uint64_t *subtotals);
    weft_status (*scan_apply)(weft_device *dev, weft_reduce_op op, weft_dtype dtype, int exclusive,
                              weft_view x, weft_view y, size_t n, const uint64_t *carries);

    weft_status (*finish)(weft_device *dev);
    /* Events, so an operation need not finish a device: a marker completes
     * when everything enqueued on the device before it has; wait blocks until
     * it does and reports the device's failure, if any. The host's work is
     * done when its calls return: its marker is NULL. */
    weft_status (*marker)(weft_device *dev, void **event);
    weft_status (*wait)(weft_device *dev, void *event);
    void (*event_retain)(weft_device *dev, void *event);
    void (*event_release)(weft_device *dev, void *event);
    /* "reference", "opencl-cpu", ... for a primitive name. */
    const char *(*impl)(const weft_device *dev, const char *primitive);

    /* Data primitives (docs/primitives.md). Sort, histogram and scatter see
     * every element at once, in host memory (views' host pointers). */
    weft_status (*sort)(weft_device *dev, const struct weft_sort_call *call);
    weft_status (*histogram)(weft_device *dev, const struct weft_histogram_call *call);
    weft_status (*scatter_add)(weft_device *dev, const struct weft_scatter_call *call);
    /* Elements [first, first + n) of a random stream into y (a piece). */
    weft_status (*random)(weft_device *dev, weft_dtype dtype, int dist, uint64_t seed,
                          uint64_t first, weft_view y, size_t n);
    /* One result per run of equal keys (host memory). */
    weft_status (*reduce_by_key)(weft_device *dev, const struct weft_segment_call *call);
} weft_backend;

/* One device of a context: the host pool or an OpenCL device. */
struct weft_device {
    weft_device_info info;
    size_t index;
    const weft_dev_services *services;
    weft_backend ops;
    void *impl;                /* driver state; NULL for the host */
    double bytes_per_sec;      /* measured axpy throughput (calibration) */
    double launch_seconds;     /* measured launch + finish of a tiny kernel */
    double copy_bytes_per_sec; /* measured host-to-device write from memory; 0: not measured */
    /* What the device's OpenCL C compiler defines before reading a source,
     * as " -DNAME=VALUE" options (empty: it compiles no OpenCL C). */
    char compiler_macros[2048];
};

static inline int weft_device_is_host(const weft_device *dev)
{
    return dev->info.kind == WEFT_DEVICE_HOST;
}

/* The primitives a driver may run natively instead of the reference. */
typedef enum weft_prim {
    WEFT_PRIM_AXPY,
    WEFT_PRIM_MAP_EXPR,
    WEFT_PRIM_REDUCE_EXPR,
    WEFT_PRIM_SCAN_TOTALS,
    WEFT_PRIM_SCAN_APPLY,
    WEFT_PRIM_SORT,
    WEFT_PRIM_HISTOGRAM,
    WEFT_PRIM_SCATTER_ADD,
    WEFT_PRIM_RANDOM,
    WEFT_PRIM_REDUCE_BY_KEY
} weft_prim;

/* 1 when dev's table overrides the reference for prim (its own kernels run
 * it); 0 when a piece of it on dev would run the reference on the host. */
int weft_device_native(const weft_device *dev, weft_prim prim);

/* Arrays one primitive call sees at most. */
#define WEFT_PRIM_MAX_VIEWS 16

/* One block's partial result (ulong2 in the kernels): the accumulator's bits
 * and an index or overflow flag. */
typedef struct weft_partial {
    uint64_t bits, aux;
} weft_partial;

#define WEFT_KERNEL_FAILED ((void *)-1)

struct weft_compiled {
    weft_expr *expr;
    enum weft_expr_mode mode;
    weft_reduce_op op;
    char *source;     /* OpenCL C */
    char *source_gpu; /* reductions: the work-group-per-block variant */
    /* Per device index: cl_kernel, NULL until built, or WEFT_KERNEL_FAILED.
     * Atomic: the driver builds it on first use while other operations ask
     * whether the device runs the expression. */
    void *_Atomic *kernels;
    struct weft_compiled *next;
    char key[]; /* the cache's key (ops/expr_cache.c), allocated with the entry */
};

/* One call: the compiled expression and this call's bindings. */
typedef struct weft_expr_call {
    const weft_compiled *compiled;
    const weft_bind *binds;  /* per binding (scalars' values) */
    const int *view_of_bind; /* per binding: index into the dispatch views; -1 for scalars */
    size_t elem_of_view[WEFT_PRIM_MAX_VIEWS];
} weft_expr_call;

/* Where a reference primitive runs its chunks. ref/ sits below the pool and
 * the context, so it names neither: the driver that runs it (the host's)
 * passes the context's pool and its parallel_for. fn(arg, begin, end) over
 * [0, n) in chunks of grain, on up to width threads (<= 0: all). */
typedef struct weft_pool weft_pool;
typedef void (*weft_prim_range_fn)(void *arg, size_t begin, size_t end);
typedef struct weft_prim_threads {
    void (*parallel_for)(weft_pool *pool, size_t n, size_t grain, int width, weft_prim_range_fn fn,
                         void *arg);
    weft_pool *pool;
    size_t min_elements; /* fewer elements than this run on one thread */
    int width;           /* threads parallel_for may run at once (0: unknown) */
} weft_prim_threads;

/* The reference implementations (ref/), which the host driver's table runs
 * and every other driver matches bit for bit. */
weft_status weft_ref_map_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                              const weft_view *views, size_t begin, size_t n);
weft_status weft_ref_reduce_expr(const weft_prim_threads *threads, const weft_expr_call *call,
                                 const weft_view *views, size_t begin, size_t n,
                                 weft_partial *partials);

/* Scans (ref/scan_host.c). */
weft_status weft_ref_scan_totals(const weft_prim_threads *threads, weft_reduce_op op,
                                 weft_dtype dtype, weft_view x, size_t n, uint64_t *subtotals);
weft_status weft_ref_scan_apply(const weft_prim_threads *threads, weft_reduce_op op,
                                weft_dtype dtype, int exclusive, weft_view x, weft_view y, size_t n,
                                const uint64_t *carries);
/* The carry each sub-block starts from, from all sub-block totals in index
 * order: 16 per block (see kernels/scan.cl). */
void weft_scan_carries(weft_reduce_op op, weft_dtype dtype, const uint64_t *subtotals,
                       size_t blocks, uint64_t *carries);

/* ---- Data primitives (docs/primitives.md): what their entries take. ---- */

/* Sorts keys (and values with them) in place, ascending and stable; or, with
 * indices set, writes the permutation that sorts keys and leaves keys alone. */
typedef struct weft_sort_call {
    weft_dtype key_dtype;
    int descending;
    void *keys;
    size_t n;
    void *values; /* NULL: none */
    size_t value_size;
    void *indices; /* argsort: u32 or u64 out; NULL: sort in place */
    weft_dtype index_dtype;
} weft_sort_call;

/* Counts per bin. Histogram: equal-width bins over [lo, hi) of x (floats or
 * integers); bincount (x NULL): indices are bins (WEFT_ERR_RANGE naming the
 * first that is not; counts are then undefined, so the caller keeps them as
 * scratch until the call succeeds). */
typedef struct weft_histogram_call {
    weft_dtype dtype; /* of x or of indices */
    const void *x;    /* histogram input; NULL for bincount */
    double lo, hi;
    const void *indices; /* bincount input */
    size_t n;
    uint64_t *counts; /* nbins, zeroed by the caller */
    size_t nbins;
    const char *what; /* the public call, for messages */
} weft_histogram_call;

/* out[indices[i]] += values[i] (values NULL: += 1), for every i in index
 * order per element of out, so float sums are those of the plain loop. */
typedef struct weft_scatter_call {
    weft_dtype index_dtype, dtype;
    const void *indices;
    const void *values;
    size_t n;
    void *out;
    size_t nout;
    const char *what; /* the public call, for messages */
} weft_scatter_call;

/* The first index i with indices[i] outside [0, nout), or n when none. */
size_t weft_ref_first_out_of_range(const weft_prim_threads *threads, weft_dtype index_dtype,
                                   const void *indices, size_t n, size_t nout);
/* WEFT_ERR_RANGE naming the first such index ("what: indices[i] = v is
 * outside [0, nout)"), else WEFT_OK. Scatter and bincount check before writing. */
weft_status weft_ref_check_indices(const weft_prim_threads *threads, const char *what,
                                   weft_dtype index_dtype, const void *indices, size_t n,
                                   size_t nout);

/* Runs of equal keys (integers, compared by bits) reduced in index order:
 * op WEFT_SUM (floats in double, rounded once; integers wrap), WEFT_MIN,
 * WEFT_MAX (weft_reduce's rules) or WEFT_COUNT. WEFT_ERR_SIZE, nothing
 * written, when there are more runs than capacity. */
typedef struct weft_segment_call {
    int op;
    weft_dtype key_dtype, value_dtype, out_dtype;
    const void *keys, *values; /* values NULL for WEFT_COUNT */
    size_t n;
    void *out_keys, *out_values;
    size_t capacity;
    size_t *count; /* out: the number of runs */
    const char *what;
} weft_segment_call;

weft_status weft_ref_reduce_by_key(const weft_prim_threads *threads, const weft_segment_call *call);
weft_status weft_ref_sort(const weft_prim_threads *threads, const weft_sort_call *call);
weft_status weft_ref_histogram(const weft_prim_threads *threads, const weft_histogram_call *call);
weft_status weft_ref_scatter_add(const weft_prim_threads *threads, const weft_scatter_call *call);
weft_status weft_ref_random(const weft_prim_threads *threads, weft_dtype dtype, int dist,
                            uint64_t seed, uint64_t first, void *y, size_t n);

void weft_backend_host_init(weft_backend *ops);
const weft_backend *weft_backend_reference(void);

#endif
