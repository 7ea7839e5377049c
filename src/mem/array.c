#include "array.h"
#include "wraps.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "residency.h"
#include "partition.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Host storage alignment: a page, so pieces start on page boundaries and any
 * device's CL_DEVICE_MEM_BASE_ADDR_ALIGN is met for zero-copy. */
#define HOST_ALIGN 4096
/* What weft_array_wrap needs of a user pointer for zero-copy (PoCL asks for
 * 128 bytes; a page would be safer but rules out most malloc'd data);
 * src/mem/residency.c checks it. */
#define WRAP_ALIGN 128

size_t weft_array_wrap_alignment(void)
{
    return WRAP_ALIGN;
}

static size_t chunk_capacity(const weft_device *dev, size_t elem_size)
{
    uint64_t max_bytes = dev->info.max_alloc_bytes;
    size_t elems = (size_t)(max_bytes / elem_size) / WEFT_GRANULE * WEFT_GRANULE;
    return elems > 0 ? elems : WEFT_GRANULE;
}

static weft_status build_chunks(weft_array *a)
{
    weft_ctx *ctx = a->ctx;
    weft_span *spans = calloc(ctx->ndevices, sizeof *spans);
    RETURN_IF(!spans, WEFT_ERR_NOMEM, "cannot allocate the partition");
    size_t nspans = weft_partition(ctx, a->n, spans);
    size_t total = 0;
    for (size_t s = 0; s < nspans; s++) {
        size_t len = spans[s].end - spans[s].begin;
        size_t cap = spans[s].device == 0
                         ? len + 1
                         : chunk_capacity(&ctx->devices[spans[s].device], a->elem_size);
        total += len == 0 ? 1 : (len + cap - 1) / cap;
    }
    a->chunks = calloc(total, sizeof *a->chunks);
    if (!a->chunks) {
        free(spans);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate %zu array chunks", total);
    }
    for (size_t s = 0; s < nspans; s++) {
        const weft_device *dev = &ctx->devices[spans[s].device];
        size_t cap = spans[s].device == 0 ? spans[s].end - spans[s].begin + 1
                                          : chunk_capacity(dev, a->elem_size);
        size_t begin = spans[s].begin;
        do {
            size_t count = spans[s].end - begin < cap ? spans[s].end - begin : cap;
            a->chunks[a->nchunks++] = (weft_chunk){begin, count, spans[s].device};
            begin += count;
        } while (begin < spans[s].end);
    }
    free(spans);
    return WEFT_OK;
}

/* Arrays of up to this many bytes take their storage from the heap: a
 * mapping of their own cost a system call each way (5-7 us to create and
 * free a 4 KB array, most of a small operation's time). */
#define SMALL_HOST_BYTES ((size_t)64 << 10)

/* Storage of host_bytes bytes came from the heap (else from mmap): the
 * choice is made from the size alone, so freeing makes it the same way. */
static int host_on_heap(size_t host_bytes)
{
    return host_bytes <= SMALL_HOST_BYTES;
}

/* Small arrays: heap storage aligned for zero-copy (WRAP_ALIGN), zeroed as a
 * fresh mapping is. */
static weft_status small_host_storage(weft_array *a, size_t bytes)
{
    bytes = bytes == 0 ? WRAP_ALIGN : (bytes + WRAP_ALIGN - 1) / WRAP_ALIGN * WRAP_ALIGN;
    void *p = aligned_alloc(WRAP_ALIGN, bytes);
    RETURN_IF(!p, WEFT_ERR_NOMEM, "cannot allocate %zu bytes for %zu %s elements", bytes, a->n,
              weft_dtype_name(a->dtype));
    memset(p, 0, bytes);
    a->host = p;
    a->host_bytes = bytes;
    return WEFT_OK;
}

/* Our own host storage: page-aligned, and zero pages the kernel maps only
 * when touched, so an array used only by devices costs no host memory. */
static weft_status host_storage(weft_array *a)
{
    if (a->n * a->elem_size <= SMALL_HOST_BYTES) return small_host_storage(a, a->n * a->elem_size);
    size_t bytes = (a->n * a->elem_size + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    RETURN_IF(p == MAP_FAILED, WEFT_ERR_NOMEM, "cannot allocate %zu bytes for %zu %s elements",
              bytes, a->n, weft_dtype_name(a->dtype));
    /* Huge pages fault in far faster than 4 KiB ones for big arrays. */
    if (bytes >= (2u << 20)) (void)madvise(p, bytes, MADV_HUGEPAGE);
    a->host = p;
    a->host_bytes = bytes;
    return WEFT_OK;
}

void weft_array_destroy(weft_array *a)
{
    if (!a->host_bytes && a->host) weft_wraps_remove(a);
    weft_mem_release(a);
    if (a->host_bytes && host_on_heap(a->host_bytes))
        free(a->host);
    else if (a->host_bytes)
        munmap(a->host, a->host_bytes);
    free(a->chunks);
    free(a);
}

static weft_status array_new(weft_ctx *ctx, weft_dtype dtype, size_t n, void *wrap,
                             weft_array **out)
{
    RETURN_IF(!ctx || !out, WEFT_ERR_NULL, "context or output handle is NULL");
    *out = NULL;
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE, "not a live context");
    RETURN_IF((unsigned)dtype >= WEFT_DTYPE_COUNT, WEFT_ERR_DTYPE, "dtype %d is not a weft dtype",
              (int)dtype);
    size_t elem = weft_dtype_size(dtype);
    RETURN_IF(n > SIZE_MAX / elem - HOST_ALIGN, WEFT_ERR_SIZE, "%zu elements of %s overflow size_t",
              n, weft_dtype_name(dtype));
    weft_status st = WEFT_OK;
    weft_array *a = calloc(1, sizeof *a);
    RETURN_IF(!a, WEFT_ERR_NOMEM, "cannot allocate an array handle");
    *a = (weft_array){.ctx = ctx, .dtype = dtype, .n = n, .elem_size = elem};
    if (wrap)
        a->host = wrap;
    else
        GOTO_ERROR_ON(host_storage(a));
    GOTO_ERROR_ON(build_chunks(a));
    GOTO_ERROR_ON(weft_mem_init(a));
    GOTO_ERROR_ON(weft_handle_add(a, WEFT_HANDLE_ARRAY));
    if (wrap) weft_wraps_add(a);
    weft_ctx_count_handles(ctx, +1);
    *out = a;
    return WEFT_OK;
error:
    weft_array_destroy(a);
    return st;
}

weft_status weft_array_create(weft_ctx *ctx, weft_dtype dtype, size_t n, weft_array **array)
{
    return array_new(ctx, dtype, n, NULL, array);
}

weft_status weft_array_from(weft_ctx *ctx, weft_dtype dtype, size_t n, const void *data,
                            weft_array **array)
{
    RETURN_IF(!data && n > 0, WEFT_ERR_NULL, "weft_array_from: data is NULL");
    RETURN_ON_ERROR(array_new(ctx, dtype, n, NULL, array));
    if (n > 0) memcpy((*array)->host, data, n * (*array)->elem_size);
    return WEFT_OK;
}

weft_status weft_array_wrap(weft_ctx *ctx, weft_dtype dtype, size_t n, void *data,
                            weft_array **array)
{
    RETURN_IF(!data, WEFT_ERR_NULL, "weft_array_wrap: data is NULL");
    return array_new(ctx, dtype, n, data, array);
}

weft_status weft_array_wrap_read_only(weft_ctx *ctx, weft_dtype dtype, size_t n, const void *data,
                                      weft_array **array)
{
    RETURN_IF(!data, WEFT_ERR_NULL, "weft_array_wrap_read_only: data is NULL");
    /* Never written through: every operation that would write it is
     * refused before it runs (weft_stream_submit), weft_array_write too. */
    RETURN_ON_ERROR(array_new(ctx, dtype, n, (void *)(uintptr_t)data, array));
    (*array)->read_only = 1;
    return WEFT_OK;
}

weft_status weft_array_check(const weft_array *a, const char *what)
{
    RETURN_IF(!a, WEFT_ERR_NULL, "%s: array is NULL", what);
    RETURN_IF(!weft_handle_live(a, WEFT_HANDLE_ARRAY), WEFT_ERR_STATE,
              "%s: %p is not a live array (freed already?)", what, (const void *)a);
    return WEFT_OK;
}

weft_status weft_array_size(const weft_array *a, size_t *n)
{
    RETURN_IF(!a || !n, WEFT_ERR_NULL, "weft_array_size: NULL argument");
    RETURN_ON_ERROR(weft_array_check(a, "weft_array_size"));
    *n = a->n;
    return WEFT_OK;
}

weft_status weft_array_dtype(const weft_array *a, weft_dtype *dtype)
{
    RETURN_IF(!a || !dtype, WEFT_ERR_NULL, "weft_array_dtype: NULL argument");
    RETURN_ON_ERROR(weft_array_check(a, "weft_array_dtype"));
    *dtype = a->dtype;
    return WEFT_OK;
}
