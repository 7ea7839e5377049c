/* weft_launch: checks a user kernel launch, splits its range over the selected
 * OpenCL devices and reruns on the pool (through host_fn) what they cannot do. */
#include "../core/pool.h"
#include "../mem/alias.h"
#include "../mem/array.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "launch_call.h"
#include "launch_job.h"
#include "launch_check.h"
#include "kernel_source.h"
#include "launch_limits.h"
#include "join_text.h"
#include "../mem/residency.h"
#include "../exec/split.h"
#include "../core/clock.h"
#include "../core/sha256.h"
#include "../exec/placement.h"

#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const dtype_cl_names[WEFT_DTYPE_COUNT] = {"float", "double", "int",  "uint",
                                                             "long",  "ulong",  "uchar"};
static const char *const kind_names[] = {"slice", "halo slice", "whole", "scalar", "local"};

static weft_status check_range(const weft_range *r)
{
    RETURN_IF(!r, WEFT_ERR_NULL, "weft_launch: range is NULL");
    RETURN_IF(r->dims < 1 || r->dims > 3, WEFT_ERR_INVALID_ARG,
              "weft_launch: range has %u dimensions (1 to 3)", r->dims);
    int given = 0;
    for (unsigned d = 0; d < r->dims; d++) {
        RETURN_IF(r->size[d] == 0, WEFT_ERR_INVALID_ARG,
                  "weft_launch: range of 0 in dimension %u: nothing to run", d);
        given += r->local[d] != 0;
    }
    if (given == 0) return WEFT_OK;
    for (unsigned d = 0; d < r->dims; d++)
        RETURN_IF(r->local[d] == 0 || r->size[d] % r->local[d] != 0, WEFT_ERR_INVALID_ARG,
                  "weft_launch: local size %zu does not divide range %zu in dimension %u",
                  r->local[d], r->size[d], d);
    return WEFT_OK;
}

/* 1 when n elements are rows that outer indices round up to a multiple of
 * local (local <= outer), as public suites size their launches (the kernel
 * guards its index): some rows in (outer - local, outer) divide n. */
static int rows_rounded_up(size_t outer, size_t local, size_t n)
{
    for (size_t rows = outer - 1; local > 1 && rows > 0 && rows > outer - local; rows--)
        if (n % rows == 0) return 1;
    return 0;
}

/* rows_rounded_up for the range's split dimension and its local size. */
static int rounded_up(const weft_range *r, size_t n)
{
    unsigned dim = weft_range_split_dim(r);
    return rows_rounded_up(r->size[dim], r->local[dim], n);
}

/* For a range with no local size whose split dimension has outer indices
 * and an array of n elements that does not divide into them: the local
 * size (a power of two dividing outer) a suite rounding its range up past
 * the rows would have used, some rows in (outer - local, outer) dividing
 * n; 0 when none would (an interior range: fewer indices than rows). */
static size_t rounding_multiple(size_t outer, size_t n)
{
    for (size_t local = 2; local <= 1024 && local <= outer; local *= 2)
        if (outer % local == 0 && rows_rounded_up(outer, local, n)) return local;
    return 0;
}

static weft_status check_arg(weft_ctx *ctx, const weft_range *r, const weft_arg *a, size_t k)
{
    RETURN_IF((unsigned)a->kind > WEFT_ARG_LOCAL, WEFT_ERR_INVALID_ARG,
              "weft_launch: argument %zu has unknown kind %d", k, (int)a->kind);
    switch (a->kind) {
    case WEFT_ARG_SLICE:
    case WEFT_ARG_HALO:
    case WEFT_ARG_WHOLE: {
        RETURN_ON_ERROR(weft_array_check(a->array, "weft_launch"));
        RETURN_IF(a->array->ctx != ctx, WEFT_ERR_INVALID_ARG,
                  "weft_launch: argument %zu belongs to another context", k);
        size_t outer = weft_range_outer(r);
        unsigned dim = weft_range_split_dim(r);
        int fits = a->kind == WEFT_ARG_WHOLE ||
                   (a->array->n > 0 && (a->array->n % outer == 0 || rounded_up(r, a->array->n)));
        /* A range rounded up with no local size (Rodinia nn's local NULL):
         * the multiple it was rounded to is the caller's to give. */
        size_t multiple = !fits && r->local[dim] == 0 ? rounding_multiple(outer, a->array->n) : 0;
        RETURN_IF(multiple && a->array->n > 0, WEFT_ERR_SIZE,
                  "weft_launch: argument %zu (%s of %zu elements) does not split into the "
                  "range's %zu indices of dimension %u; a range rounded up past the rows (the "
                  "kernel checking its index) needs the multiple it was rounded to as its local "
                  "size (range.local[%u], e.g. %zu)",
                  k, kind_names[a->kind], a->array->n, outer, dim, dim, multiple);
        RETURN_IF(!fits, WEFT_ERR_SIZE,
                  "weft_launch: argument %zu (%s of %zu elements) does not split into the "
                  "range's %zu indices of dimension %u, nor into fewer rows that the range "
                  "rounds up to a multiple of its local size; a kernel that indexes it by a "
                  "rule of its own (an interior range, nz - 2 indices over nz planes) takes it "
                  "whole: weft_arg_whole",
                  k, kind_names[a->kind], a->array->n, outer, dim);
        return WEFT_OK;
    }
    case WEFT_ARG_SCALAR:
        RETURN_IF((unsigned)a->dtype >= WEFT_DTYPE_COUNT, WEFT_ERR_DTYPE,
                  "weft_launch: argument %zu has dtype %d", k, (int)a->dtype);
        return WEFT_OK;
    case WEFT_ARG_LOCAL:
        RETURN_IF(a->local_bytes == 0, WEFT_ERR_INVALID_ARG,
                  "weft_launch: argument %zu asks for 0 bytes of local memory", k);
        return WEFT_OK;
    }
    return WEFT_OK;
}

/* The element type's name without its vector width: "float4 *" -> "float". */
static int base_is(const char *type, const char *name)
{
    size_t len = strcspn(type, " *");
    while (len > 0 && type[len - 1] >= '0' && type[len - 1] <= '9')
        len--;
    return strlen(name) == len && strncmp(type, name, len) == 0;
}

/* Whether an element type is one weft has a dtype for. */
static int has_dtype(const char *type)
{
    for (size_t d = 0; d < WEFT_DTYPE_COUNT; d++)
        if (base_is(type, dtype_cl_names[d])) return 1;
    return 0;
}

/* "float4*" matches an f32 array; "float" an f32 scalar. Element types weft
 * has no dtype for travel as u8 bytes: a struct's records, and arrays of
 * char, short, ushort or half (Rodinia's bfs keeps its masks in char); a
 * char scalar takes a u8 one. type is resolved (typedefs and macros
 * followed) as the compiler sees it. */
static int type_matches(const char *type, weft_dtype dtype, int pointer)
{
    if (dtype == WEFT_U8 && (pointer ? !has_dtype(type) : strcmp(type, "char") == 0)) return 1;
    const char *base = dtype_cl_names[dtype];
    size_t len = strlen(base);
    if (strncmp(type, base, len) != 0) return 0;
    const char *rest = type + len;
    while (*rest >= '0' && *rest <= '9')
        rest++; /* vector width */
    while (*rest == ' ')
        rest++;
    return pointer ? *rest == '*' : *rest == '\0' && rest == type + len;
}

/* An array argument's access with no qualifiers to read (no device built
 * the program, or its driver keeps no argument info): slices are written;
 * a whole argument is read, the caller's word (on the pool alone there is
 * no other copy a write could miss). */
static unsigned char assumed_access(const weft_arg *a)
{
    /* A read-only wrap is taken at its word, as a whole argument is: no
     * qualifier says otherwise, and a host_fn is C code weft cannot see
     * into (docs/kernels.md). */
    if (a->kind <= WEFT_ARG_WHOLE && a->array && a->array->read_only) return WEFT_ACCESS_READ;
    return a->kind == WEFT_ARG_SLICE || a->kind == WEFT_ARG_HALO ? WEFT_ACCESS_WRITTEN
                                                                 : WEFT_ACCESS_READ;
}

/* 1 when pieces on more than one device would each write its own copy of
 * a whole argument the kernel may write: a copying device among them. What
 * such a kernel writes there can depend on the data (Rodinia bfs sets its
 * "frontier not empty" flag only when a node is found), so no check can
 * prove the split right for later data; on devices that share the host's
 * memory every piece writes the same copy. */
static int own_copies_written(const weft_launch_job *job, const size_t *devices, size_t count)
{
    int may_write = 0, copying = 0;
    for (size_t k = 0; k < job->nargs; k++)
        may_write |= job->writes[k] == WEFT_ACCESS_WHOLE_MAY_WRITE;
    for (size_t p = 0; p < count && may_write; p++)
        copying |= devices[p] != 0 && !job->program->ctx->devices[devices[p]].info.zero_copy;
    return may_write && copying && count > 1;
}

/* The device whose build of the program tells the kernel's signature: the
 * first piece's, or, for a launch on the pool, any that built it; 0 when
 * none did. */
static size_t signature_device(const weft_launch_job *job)
{
    return job->pieces[0].device != 0 ? job->pieces[0].device
                                      : weft_program_built_device(job->program);
}

/* An array must hold whole elements of the type the kernel's parameter
 * points to, and a slice at least one per index of the split dimension (each
 * index owns its rows' bytes): an f32 array of one float per work-item bound
 * to a float4* (or a two-float record) parameter let the kernel write past
 * its end, into the caller's heap. */
/* 1 when bytes make a whole number of rows of whole elements for some row
 * count in the last work-group of the split dimension (outer - local, outer):
 * the rows a range rounded up to work-groups covers. */
static int rounded_up_rows(const weft_range *r, size_t bytes, size_t element)
{
    size_t outer = weft_range_outer(r), local = r->local[weft_range_split_dim(r)];
    if (local == 0 || local > outer) return 0;
    for (size_t rows = outer - local + 1; rows < outer; rows++)
        if (bytes % rows == 0 && (bytes / rows) % element == 0) return 1;
    return 0;
}

static weft_status check_elements(const weft_launch_job *job, size_t k, const weft_param *p)
{
    const weft_arg *a = &job->args[k];
    size_t element = p->element;      /* worked out once per kernel (program.c) */
    if (element == 0) return WEFT_OK; /* a layout weft cannot tell: the caller's word */
    size_t bytes = a->array->n * a->array->elem_size;
    RETURN_IF(bytes % element, WEFT_ERR_SIZE,
              "weft_launch: argument %zu (%s %s) of kernel %s: %zu bytes are no whole number of "
              "its %zu-byte elements",
              k, p->type, p->name, job->name, bytes, element);
    size_t outer = weft_range_outer(&job->range), per_index = bytes / outer;
    /* A range rounded up past its rows (the kernel checks its bounds) has
     * no bytes per index to hold to. */
    if (a->kind == WEFT_ARG_WHOLE || bytes % outer) return WEFT_OK;
    /* Nor has one whose rows happen to divide the rounded-up size (64 floats
     * under a range of 256): where the parameter's elements are the array's
     * own, such rows are taken as rounded up (the launch runs whole). A
     * wider element (float4* over an f32 array) stays refused: the kernel
     * would write past the array. */
    if ((per_index < element || per_index % element) && element == a->array->elem_size &&
        rounded_up_rows(&job->range, bytes, element))
        return WEFT_OK;
    RETURN_IF(per_index < element || per_index % element, WEFT_ERR_SIZE,
              "weft_launch: argument %zu (%s %s) of kernel %s: each of the range's %zu indices "
              "of dimension %u owns %zu bytes of it, %s its %zu-byte elements",
              k, p->type, p->name, job->name, outer, weft_range_split_dim(&job->range), per_index,
              per_index < element ? "less than one of" : "no whole number of", element);
    return WEFT_OK;
}

/* A value parameter of a built-in vector type (uint2, float4) or of a
 * struct: no scalar argument fits it. */
static int passed_whole(const char *resolved)
{
    size_t len = strlen(resolved), size = weft_kernel_builtin_size(resolved);
    int vector = size > 0 && len > 0 && isdigit((unsigned char)resolved[len - 1]);
    int record = size == 0 && strcmp(resolved, "size_t") != 0 &&
                 strcmp(resolved, "ptrdiff_t") != 0 && strcmp(resolved, "intptr_t") != 0 &&
                 strcmp(resolved, "uintptr_t") != 0;
    return vector || record;
}

/* Parameter types no weft_arg can give: OpenCL's opaque objects. */
static const char *opaque_kind(const char *resolved)
{
    size_t len = strlen(resolved);
    if (strncmp(resolved, "image", 5) == 0 && len > 2 && strcmp(resolved + len - 2, "_t") == 0)
        return "an image";
    if (strcmp(resolved, "sampler_t") == 0) return "a sampler";
    if (strncmp(resolved, "pipe", 4) == 0 && (resolved[4] == ' ' || resolved[4] == '\0'))
        return "a pipe";
    if (strcmp(resolved, "queue_t") == 0 || strcmp(resolved, "clk_event_t") == 0 ||
        strcmp(resolved, "reserve_id_t") == 0 || strcmp(resolved, "event_t") == 0)
        return "an OpenCL object";
    return NULL;
}

/* Whether a pointer parameter's elements are unsigned (1) or signed (-1)
 * bytes, or anything else (0): uchar*, const uchar4*, bool*; char*. The
 * type's name must be the built-in's, not one that starts alike
 * (character, uchar_rec, boolean_t are records). */
static int byte_numbers(const char *type)
{
    static const char *const qualifiers[] = {"const ",    "__global ", "global ",   "__constant ",
                                             "constant ", "volatile ", "unsigned ", "signed "};
    int is_unsigned = 0;
    for (int again = 1; again;) {
        again = 0;
        for (size_t q = 0; q < sizeof qualifiers / sizeof qualifiers[0]; q++)
            if (strncmp(type, qualifiers[q], strlen(qualifiers[q])) == 0) {
                is_unsigned |= q == 6;
                type += strlen(qualifiers[q]);
                again = 1;
            }
    }
    size_t len = strcspn(type, " *");
    while (len > 0 && isdigit((unsigned char)type[len - 1])) /* uchar4, char16 */
        len--;
    if ((len == 5 && strncmp(type, "uchar", 5) == 0) || (len == 4 && strncmp(type, "bool", 4) == 0))
        return 1;
    if (len == 4 && strncmp(type, "char", 4) == 0) return is_unsigned ? 1 : -1; /* char is signed */
    return 0;
}

static weft_status check_signature(weft_launch_job *job, size_t dev)
{
    weft_param *params = calloc(job->nargs + 1, sizeof *params);
    RETURN_IF(!params, WEFT_ERR_NOMEM, "weft_launch: cannot allocate the signature");
    size_t count = 0;
    weft_status st =
        weft_program_params(job->program, dev, job->name, params, job->nargs + 1, &count);
    if (st == WEFT_ERR_UNSUPPORTED) { /* no argument info: assume every array is written */
        for (size_t k = 0; k < job->nargs; k++)
            job->writes[k] = assumed_access(&job->args[k]);
        free(params);
        return WEFT_OK;
    }
    GOTO_ERROR_ON(st);
    GOTO_ERROR_IF(count != job->nargs, WEFT_ERR_INVALID_ARG,
                  "weft_launch: kernel %s takes %zu arguments, %zu given", job->name, count,
                  job->nargs);
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        const weft_param *p = &params[k];
        int is_array = a->kind <= WEFT_ARG_WHOLE;
        const char *opaque = opaque_kind(p->resolved[0] ? p->resolved : p->type);
        GOTO_ERROR_IF(opaque, WEFT_ERR_UNSUPPORTED,
                      "weft_launch: argument %zu (%s %s) of kernel %s is %s, which weft does not "
                      "pass (arrays become buffers, scalars values): images, samplers and pipes "
                      "are not supported",
                      k, p->type, p->name, job->name, opaque);
        int want_address = is_array ? 1 : a->kind == WEFT_ARG_LOCAL ? 2 : 0;
        int address_ok =
            p->address == want_address || (a->kind == WEFT_ARG_WHOLE && p->address == 3);
        GOTO_ERROR_IF(!address_ok, WEFT_ERR_INVALID_ARG,
                      "weft_launch: argument %zu (%s %s) of kernel %s cannot take a %s", k, p->type,
                      p->name, job->name, kind_names[a->kind]);
        if (is_array || a->kind == WEFT_ARG_SCALAR) {
            weft_dtype dt = is_array ? a->array->dtype : a->dtype;
            const char *type = p->resolved; /* once per kernel (program.c) */
            GOTO_ERROR_IF(!is_array && !type_matches(type, dt, 0) && passed_whole(type),
                          WEFT_ERR_UNSUPPORTED,
                          "weft_launch: argument %zu (%s %s) of kernel %s is a vector or a "
                          "struct passed by value, which no weft_arg gives (scalars only): pass "
                          "its parts as scalar parameters, or the values in a __constant array",
                          k, p->type, p->name, job->name);
            GOTO_ERROR_IF(!is_array && !type_matches(type, dt, 0) &&
                              (strcmp(type, "short") == 0 || strcmp(type, "ushort") == 0 ||
                               strcmp(type, "half") == 0),
                          WEFT_ERR_UNSUPPORTED,
                          "weft_launch: argument %zu (%s %s) of kernel %s is a 16-bit value, "
                          "which no weft scalar gives (weft_arg_u8 gives char and uchar, "
                          "weft_arg_i32 int): declare the parameter int (or float) and convert "
                          "in the kernel",
                          k, p->type, p->name, job->name);
            GOTO_ERROR_IF(!type_matches(type, dt, is_array), WEFT_ERR_DTYPE,
                          "weft_launch: argument %zu (%s %s%s%s) of kernel %s does not take %s %s",
                          k, p->type, p->name, strcmp(type, p->type) ? ", that is " : "",
                          strcmp(type, p->type) ? type : "", job->name,
                          is_array ? "an array of" : "a scalar", weft_dtype_name(dt));
        }
        if (is_array) GOTO_ERROR_ON(check_elements(job, k, p));
        /* Only read by subscript: an argument that goes whole is read. */
        int whole = is_array && weft_launch_arg_whole(a);
        int writable = p->address == 1 && !p->is_const && !(whole && p->only_read);
        GOTO_ERROR_IF(writable && is_array && a->array->read_only, WEFT_ERR_INVALID_ARG,
                      "weft_launch: argument %zu (%s %s) of kernel %s may be written (it is not "
                      "const, and not only read): a read-only array (weft_array_wrap_read_only) "
                      "cannot be passed there; declare the parameter const if the kernel only "
                      "reads it",
                      k, p->type, p->name, job->name);
        if (is_array && p->only_stored && k < 64) job->stored_only |= (uint64_t)1 << k;
        int bytes = is_array && a->array->dtype == WEFT_U8 && k < 64
                        ? byte_numbers(p->resolved[0] ? p->resolved : p->type)
                        : 0;
        if (bytes) *(bytes > 0 ? &job->unsigned_bytes : &job->signed_bytes) |= (uint64_t)1 << k;
        job->writes[k] = !writable                   ? WEFT_ACCESS_READ
                         : a->kind == WEFT_ARG_WHOLE ? WEFT_ACCESS_WHOLE_MAY_WRITE
                                                     : WEFT_ACCESS_WRITTEN;
    }
error:
    free(params);
    return st;
}

/* Why the launch cannot be split, or NULL when it may be. */
static const char *whole_reason(const weft_launch_job *job, weft_split_mode mode, char *why,
                                size_t cap)
{
    size_t outer = weft_range_outer(&job->range);
    if (job->program->reads_geometry) {
        snprintf(why, cap,
                 "its program asks for the launch's geometry (get_global_size, get_num_groups, "
                 "get_group_id or get_global_offset), which a piece would see as its own");
        return why;
    }
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        if ((a->kind == WEFT_ARG_SLICE || a->kind == WEFT_ARG_HALO) && a->array->n % outer) {
            snprintf(why, cap,
                     "argument %zu has %zu elements, which do not divide into the %zu indices "
                     "of dimension %u",
                     k, a->array->n, outer, weft_range_split_dim(&job->range));
            return why;
        }
    }
    switch (mode) {
    case WEFT_RUN_DIFFERED:
        snprintf(why, cap, "a split launch of it gave other bits than one device");
        return why;
    case WEFT_RUN_NEW_VALUES:
        snprintf(why, cap,
                 "its sizes and scalar values are new, and %d other sets of them were "
                 "checked already",
                 WEFT_SPLIT_CHECKS);
        return why;
    default:
        return NULL;
    }
}

/* The selected device with the program and the largest weight; 0 (the pool)
 * when none has it. */
static size_t best_device(const weft_launch_job *job, const double *weights)
{
    weft_ctx *ctx = job->program->ctx;
    size_t best = 0;
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (weights[d] > 0 && (best == 0 || weights[d] > weights[best])) best = d;
    return best;
}

/* The split dimension's granule: a work-group when a local size is given. */
static size_t launch_granule(const weft_launch_job *job)
{
    unsigned dim = weft_range_split_dim(&job->range);
    return job->range.local[dim] ? job->range.local[dim] : 1;
}

/* One piece per selected device that has the program, sized by weight, on
 * work-group boundaries when a local size is given; one piece on one device
 * when the kernel cannot be split (whole_reason). A split whose verdict is
 * unknown, or any split under WEFT_VERIFY=1, is checked as it runs. */
static weft_status split_range(weft_launch_job *job)
{
    weft_ctx *ctx = job->program->ctx;
    enum { FEW = 8 }; /* devices whose weights need no allocation */
    double few_weights[FEW] = {0};
    size_t few_devices[FEW];
    double *weights = ctx->ndevices <= FEW ? few_weights : calloc(ctx->ndevices, sizeof *weights);
    size_t *devices = ctx->ndevices <= FEW ? few_devices : calloc(ctx->ndevices, sizeof *devices);
    job->pieces = calloc(ctx->ndevices, sizeof *job->pieces);
    weft_status st = WEFT_OK;
    GOTO_ERROR_IF(!weights || !devices || !job->pieces, WEFT_ERR_NOMEM,
                  "weft_launch: cannot allocate the split");
    size_t too_small = 0; /* a device whose buffers cannot hold an array */
    for (size_t d = 0; d < ctx->ndevices; d++) {
        devices[d] = d;
        if (d == 0 || !ctx->devices[d].info.selected || !job->program->per_device[d]) continue;
        if (weft_launch_check_buffers(job, d) != WEFT_OK) {
            weft_error_clear();
            too_small = too_small ? too_small : d;
            continue;
        }
        weights[d] = ctx->devices[d].info.weight > 0 ? ctx->devices[d].info.weight : 1;
    }
    /* No device can hold the arrays: the pool runs the launch, or the error
     * says why no device could. */
    if (too_small && !job->host_fn && best_device(job, weights) == 0)
        GOTO_ERROR_ON(weft_launch_check_buffers(job, too_small));
    char why[256];
    /* Asked once: each asking walks the program's verdicts twice under its lock. */
    weft_split_mode mode = weft_launch_split_mode(job);
    if (whole_reason(job, mode, why, sizeof why)) {
        job->pieces[job->npieces++] = (weft_piece){
            .device = best_device(job, weights), .begin = job->first, .end = job->last};
        goto error; /* done */
    }
    /* A window's pieces stay on work-groups of the whole range (it starts
     * on one); its last piece takes the rest. */
    weft_split split = {.first = job->first,
                        .last = job->last,
                        .granule = launch_granule(job),
                        .device = devices,
                        .share = weights,
                        .count = ctx->ndevices};
    job->npieces = weft_split_pieces(&split, job->pieces);
    if (job->npieces == 0)
        job->pieces[job->npieces++] =
            (weft_piece){.device = 0, .begin = job->first, .end = job->last};
    job->check_split = job->npieces > 1 && (ctx->verify_splits || mode == WEFT_RUN_CHECKED);
error:
    if (weights != few_weights) free(weights);
    if (devices != few_devices) free(devices);
    return st;
}

typedef struct host_chunk_args {
    const weft_launch_job *job;
    void **pointers;
    size_t offset; /* first outer index of the piece */
} host_chunk_args;

static void host_chunk(void *arg, size_t begin, size_t end)
{
    const host_chunk_args *h = arg;
    weft_host_call call = {&h->job->range, h->offset + begin, h->offset + end,
                           h->pointers,    h->job->nargs,     h->job->user};
    h->job->host_fn(&call);
}

/* Timing below this is mostly the clock itself: probe further. */
#define HOST_PROBE_SECONDS 1e-6
/* Work past this always goes to the pool. The pool's fork cost is how long
 * every worker takes to join, which on a loaded machine is its give-up time
 * (1 ms): a parallel_for's caller does not wait for that, it works on, and a
 * 3-point stencil over 10^5 elements (130 us alone) took 90 us shared. */
#define HOST_FORK_MAX_SECONDS 50e-6

/* count indices through host_fn: growing chunks on the calling thread,
 * timed, and the rest on the pool only when it outweighs a fork (measured
 * once per pool). Waking a worker costs more than a small piece itself (a
 * 3-point stencil over 1000 elements took 4-30 us forked, 1 us here); a
 * heavy kernel (n-body) leaves the probe after its first chunk. */
static void run_host_range(weft_pool *pool, const host_chunk_args *h, size_t count)
{
    size_t done = 0, chunk = 16;
    double t0 = weft_now(), spent = 0;
    while (done < count && spent < HOST_PROBE_SECONDS) {
        size_t end = count - done <= chunk ? count : done + chunk;
        host_chunk((void *)h, done, end);
        done = end;
        spent = weft_now() - t0;
        chunk *= 2;
    }
    if (done == count) return;
    host_chunk_args rest = *h;
    rest.offset += done;
    size_t left = count - done;
    double fork = 2 * weft_pool_fork_seconds(pool);
    if (spent / (double)done * (double)left <
        (fork < HOST_FORK_MAX_SECONDS ? fork : HOST_FORK_MAX_SECONDS)) {
        host_chunk(&rest, 0, left);
        return;
    }
    size_t grain = left / (8 * (size_t)weft_pool_threads(pool)) + 1;
    weft_pool_parallel_for(pool, left, grain, 0, host_chunk, &rest);
}

/* Reruns (or, without a device, runs) a piece through host_fn on the pool;
 * the pieces module marks what it wrote. */
static weft_status run_on_host(void *self, weft_piece *piece)
{
    weft_launch_job *job = self;
    weft_ctx *ctx = job->program->ctx;
    RETURN_IF(!job->host_fn, WEFT_ERR_DEVICE, "no host_fn was given to run kernel %s on the pool",
              job->name);
    void *few[16] = {0},
         **pointers = job->nargs < 16 ? few : calloc(job->nargs + 1, sizeof *pointers);
    RETURN_IF(!pointers, WEFT_ERR_NOMEM, "weft_launch: cannot allocate host arguments");
    weft_status st = WEFT_OK;
    for (size_t k = 0; k < job->nargs; k++) {
        weft_arg *a = &job->args[k];
        if (a->kind <= WEFT_ARG_WHOLE) {
            size_t begin, end;
            weft_launch_rows_read(job, k, piece, &begin, &end);
            GOTO_ERROR_ON(weft_mem_make_current(a->array, 0, begin, end));
            pointers[k] = a->array->host;
        } else if (a->kind == WEFT_ARG_SCALAR) {
            pointers[k] = &a->value;
        }
    }
    host_chunk_args h = {job, pointers, piece->begin};
    run_host_range(ctx->pool, &h, piece->end - piece->begin);
error:
    if (pointers != few) free(pointers);
    return st;
}

/* Every array argument as the device's buffer of the whole array, current
 * where the piece reads it (only what is stale moves). buffers: one per
 * argument, or NULL to only make them current. */
static weft_status bind_arrays(weft_launch_job *job, const weft_piece *piece, void **buffers)
{
    for (size_t k = 0; k < job->nargs; k++) {
        weft_arg *a = &job->args[k];
        if (buffers) buffers[k] = NULL;
        if (a->kind > WEFT_ARG_WHOLE) continue;
        size_t begin, end;
        weft_launch_rows_read(job, k, piece, &begin, &end);
        if (buffers) RETURN_ON_ERROR(weft_mem_whole(a->array, piece->device, &buffers[k]));
        RETURN_ON_ERROR(weft_mem_make_current(a->array, piece->device, begin, end));
    }
    return WEFT_OK;
}

static weft_status prepare_on_device(void *self, weft_piece *piece)
{
    return bind_arrays(self, piece, NULL);
}

static weft_status enqueue_on_device(void *self, weft_piece *piece)
{
    weft_launch_job *job = self;
    void *small[16], **buffers = small;
    weft_kernel_arg small_args[16], *args = small_args;
    if (job->nargs > 16) {
        buffers = calloc(job->nargs, sizeof *buffers);
        args = calloc(job->nargs, sizeof *args);
    }
    weft_status st =
        !buffers || !args
            ? weft_error_set(WEFT_ERR_NOMEM, "weft_launch: cannot allocate the arguments")
            : bind_arrays(job, piece, buffers);
    weft_kernel_call call;
    if (st == WEFT_OK) {
        weft_launch_describe(job, piece, args, buffers, &call);
        call.keep_event = atomic_load(&job->program->ctx->time_kernels);
        st = weft_program_kernel(job->program, piece->device, job->name, &call.kernel);
    }
    if (st == WEFT_OK) {
        weft_device *dev = &job->program->ctx->devices[piece->device];
        st = dev->ops.launch(dev, &call);
        piece->event = call.event;
    }
    if (buffers != small) free(buffers);
    if (args != small_args) free(args);
    return st;
}

/* The slowest piece's device time is the launch's kernel time. */
static void piece_done(void *self, weft_piece *piece)
{
    weft_launch_job *job = self;
    weft_device *dev = &job->program->ctx->devices[piece->device];
    if (!piece->event) return;
    if (piece->state == PIECE_DONE) {
        double seconds = dev->ops.event_seconds(dev, piece->event);
        if (seconds > job->kernel_seconds) job->kernel_seconds = seconds;
    }
    dev->ops.event_release(dev, piece->event);
    piece->event = NULL;
}

/* Placement of a launch by the cost model (exec/placement.h), under the
 * identity kernel:<program hash>:<name>. What split_range decided stays
 * binding: a launch kept whole runs on one device (the model only picks
 * which), a launch whose split is being checked (launch_check.c) runs as
 * split_range cut it, and the model splits a launch only once a split of
 * it was found to give the bits of one device. The pool is a candidate only
 * through host_fn: without one the launch is not placed. */

/* The hash of a program's source and options, cached per program: hashing
 * a source on every launch would cost more than the decision. A program
 * freed and another made at the same addresses would share a model (the
 * results stay right; only a decision may be worse). */
enum { HASH_CACHE = 8 };
static struct {
    const void *program, *source, *options;
    char hex[17];
} hash_cache[HASH_CACHE];
static unsigned hash_next;
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;

static void program_hash(const weft_program *p, char hex[17])
{
    pthread_mutex_lock(&hash_lock);
    for (size_t k = 0; k < HASH_CACHE; k++) {
        if (hash_cache[k].program == p && hash_cache[k].source == p->source &&
            hash_cache[k].options == p->options) {
            memcpy(hex, hash_cache[k].hex, 17);
            pthread_mutex_unlock(&hash_lock);
            return;
        }
    }
    pthread_mutex_unlock(&hash_lock);
    weft_sha256 h;
    uint8_t digest[32];
    char full[65];
    weft_sha256_init(&h);
    weft_sha256_field(&h, p->source ? p->source : "");
    weft_sha256_field(&h, p->options ? p->options : "");
    weft_sha256_final(&h, digest);
    weft_sha256_hex(digest, full);
    memcpy(hex, full, 16);
    hex[16] = '\0';
    pthread_mutex_lock(&hash_lock);
    unsigned k = hash_next++ % HASH_CACHE;
    hash_cache[k].program = p;
    hash_cache[k].source = p->source;
    hash_cache[k].options = p->options;
    memcpy(hash_cache[k].hex, hex, 17);
    pthread_mutex_unlock(&hash_lock);
}

static int launch_native(const weft_device *dev, void *op)
{
    const weft_launch_job *job = op;
    return job->program->per_device[dev->index] != NULL;
}

/* The plan's pieces on whole work-groups (one piece, on the device with the
 * largest share, when the launch must run whole); 0 when they break a
 * device's limits (the launch then runs as split_range cut it). */
static int plan_pieces(weft_launch_job *job, const weft_perf_plan *plan, int whole, weft_piece *out,
                       size_t *count)
{
    size_t largest = 0;
    for (size_t i = 1; i < plan->count; i++)
        if (plan->share[i] > plan->share[largest]) largest = i;
    weft_split split = {.first = job->first,
                        .last = job->last,
                        .granule = launch_granule(job),
                        .device = whole ? &plan->device[largest] : plan->device,
                        .share = whole ? &plan->share[largest] : plan->share,
                        .count = whole ? 1 : plan->count};
    size_t n = weft_split_pieces(&split, out);
    for (size_t i = 0; i < n; i++) {
        if (out[i].device == 0) continue;
        if (weft_launch_check_limits(job, out[i].device) != WEFT_OK) {
            weft_error_clear();
            return 0;
        }
    }
    *count = n;
    return n > 0;
}

static void place_launch(weft_launch_job *job, const weft_piece_run *run, weft_place_result *placed)
{
    *placed = (weft_place_result){0}; /* weft_place fills only what applies */
    /* A kernel whose math OpenCL rounds loosely (exp, log, pow) and its C
     * twin give other bits: the pool is then its fallback only, never a
     * choice for speed, so the same launch gives the same bits. */
    if (job->check_split || !job->host_fn || job->program->inexact_math) return;
    weft_ctx *ctx = job->program->ctx;
    char hex[17], why[256];
    program_hash(job->program, hex);
    size_t len = strlen(job->name) + 32;
    char stack[160], *identity = len <= sizeof stack ? stack : malloc(len);
    if (!identity) return;
    weft_join_text(identity, len, (const char *const[]){"kernel:", hex, ":", job->name}, 4);
    weft_place_request req = {.identity = identity,
                              .kind = "kernel",
                              .text = job->name,
                              .n = job->last - job->first,
                              .arrays = run->arrays,
                              .narrays = run->narrays,
                              .reads = run->reads,
                              .native = launch_native,
                              .op = job,
                              .async = weft_op_async(&job->base)};
    weft_place(ctx, &req, placed);
    if (identity != stack) free(identity);
    if (placed->plan.count == 0) return;
    weft_split_mode mode = weft_launch_split_mode(job);
    int whole = whole_reason(job, mode, why, sizeof why) != NULL || ctx->verify_splits ||
                own_copies_written(job, placed->plan.device, placed->plan.count) ||
                mode != WEFT_RUN_SPLIT;
    weft_piece pieces[WEFT_PERF_MAX_CANDIDATES];
    size_t count = 0;
    if (!plan_pieces(job, &placed->plan, whole, pieces, &count) || count > ctx->ndevices) {
        placed->plan.count = 0;
        return;
    }
    memcpy(job->pieces, pieces, count * sizeof *pieces);
    job->npieces = count;
}

static unsigned whole_arrays(const weft_launch_job *job)
{
    unsigned bits = 0;
    for (size_t k = 0, i = 0; k < job->nargs; k++) {
        if (job->args[k].kind > WEFT_ARG_WHOLE) continue;
        if (weft_launch_arg_whole(&job->args[k])) bits |= 1u << i;
        i++;
    }
    return bits;
}

/* What a check of these values found by the time the launch runs: launches
 * queued with futures were each marked for a check at submission, before
 * the first check had run, and each was checked (2,000 checks and as many
 * notes for one sort instead of 2 and 1). A verdict reached since stands:
 * split unchecked, or one device over the whole range. */
static void settle_check(weft_launch_job *job)
{
    if (!job->check_split) return;
    weft_split_mode mode = weft_launch_split_mode(job);
    if (job->npieces < 2 || (mode == WEFT_RUN_SPLIT && !job->program->ctx->verify_splits)) {
        job->check_split = 0;
    } else if (mode == WEFT_RUN_DIFFERED || mode == WEFT_RUN_NEW_VALUES) {
        job->pieces[0] =
            (weft_piece){.device = job->pieces[0].device, .begin = job->first, .end = job->last};
        job->npieces = 1;
        job->check_split = 0;
    }
}

static weft_status launch_run(weft_op *base)
{
    weft_launch_job *job = (weft_launch_job *)base;
    weft_ctx *ctx = job->program->ctx;
    char what[96];
    weft_join_text(what, sizeof what, (const char *const[]){"kernel ", job->name}, 2);
    weft_piece_run run = {.ctx = ctx,
                          .op = base,
                          .pieces = job->pieces,
                          .npieces = job->npieces,
                          .what = what,
                          .units = "outer indices",
                          .nunits = weft_range_outer(&job->range),
                          .self = job,
                          .prepare = prepare_on_device,
                          .enqueue = enqueue_on_device,
                          .run_host = run_on_host,
                          .done = piece_done};
    /* The array arguments in order, as submit_launch listed them. Whether a
     * kernel also reads what it writes is unknown: assume it does. */
    size_t outer = weft_range_outer(&job->range);
    run.arrays = base->arrays;
    run.narrays = base->narrays;
    run.reads = (1u << base->narrays) - 1;
    for (size_t i = 0; i < base->narrays; i++)
        run.scale[i] = base->arrays[i]->n / outer;
    weft_place_result placed;
    place_launch(job, &run, &placed);
    settle_check(job);
    run.pieces = job->pieces;
    run.npieces = job->npieces;
    run.writes = weft_launch_written_arrays(job, job->npieces == 1);
    run.whole = whole_arrays(job);
    weft_status st = job->check_split ? weft_launch_checked(job, &run) : weft_pieces_run(&run);
    if (placed.entry) {
        double seconds = st == WEFT_OK && !weft_op_async(base) ? weft_now() - placed.started : -1;
        weft_place_done(ctx, &placed, job->last - job->first, job->pieces, job->npieces, seconds);
    }
    RETURN_ON_ERROR(st);
    if (!weft_op_async(base)) { /* an asynchronous launch's kernels have not run yet */
        pthread_mutex_lock(&ctx->lock);
        ctx->last_kernel_seconds = job->kernel_seconds;
        pthread_mutex_unlock(&ctx->lock);
    }
    return WEFT_OK;
}

static void launch_destroy(weft_op *base)
{
    weft_launch_job *job = (weft_launch_job *)base;
    free(job->name);
    free(job->split_key);
    free(job->values_key);
    free(job->args); /* and the writes flags after them */
    free(job->pieces);
    free(job);
}

/* Indices [first, last) of the split dimension, on the range's work-groups. */
static weft_status check_window(const weft_range *r, size_t first, size_t last)
{
    size_t outer = weft_range_outer(r), granule = r->local[weft_range_split_dim(r)];
    RETURN_IF(first >= last || last > outer, WEFT_ERR_RANGE,
              "weft_launch_rows: rows [%zu, %zu) are not a non-empty part of the range's %zu",
              first, last, outer);
    RETURN_IF(granule && (first % granule || last % granule), WEFT_ERR_INVALID_ARG,
              "weft_launch_rows: rows [%zu, %zu) do not start and end on work-groups of %zu", first,
              last, granule);
    return WEFT_OK;
}

/* A kernel declared with reqd_work_group_size runs only in work-groups of
 * that size (OpenCL refuses any other, and none given): a range with no
 * local size takes it, as an SDK sample's host code would pass it; a local
 * size that contradicts it is refused here, before a device refuses the
 * launch and its pieces fall back to the pool. */
static weft_status required_group(weft_launch_job *job)
{
    weft_program *p = job->program;
    size_t dev = weft_program_built_device(p);
    if (dev == 0) return WEFT_OK; /* no device built it: the pool runs it */
    size_t need[3];
    RETURN_ON_ERROR(weft_program_required_group(p, dev, job->name, need));
    if (need[0] == 0) return WEFT_OK;
    weft_range *r = &job->range;
    int given = r->local[0] != 0;
    for (unsigned d = 0; d < 3; d++) {
        size_t want = d < r->dims ? need[d] : 1;
        RETURN_IF(d >= r->dims && need[d] != 1, WEFT_ERR_INVALID_ARG,
                  "weft_launch: kernel %s requires work-groups of %zu x %zu x %zu "
                  "(reqd_work_group_size), more dimensions than the range's %u",
                  job->name, need[0], need[1], need[2], r->dims);
        RETURN_IF(given && d < r->dims && r->local[d] != want, WEFT_ERR_INVALID_ARG,
                  "weft_launch: local size %zu in dimension %u, but kernel %s requires "
                  "work-groups of %zu x %zu x %zu (reqd_work_group_size)",
                  r->local[d], d, job->name, need[0], need[1], need[2]);
        RETURN_IF(!given && d < r->dims && r->size[d] % want != 0, WEFT_ERR_INVALID_ARG,
                  "weft_launch: kernel %s requires work-groups of %zu x %zu x %zu "
                  "(reqd_work_group_size), which do not divide the range's %zu indices in "
                  "dimension %u: round the range up to a multiple (the kernel checks its bounds)",
                  job->name, need[0], need[1], need[2], r->size[d], d);
        if (d < r->dims) r->local[d] = want;
    }
    return WEFT_OK;
}

/* A launch of rows [first, last) of the range's split dimension (all of it
 * for weft_launch), checked and submitted. */
static weft_status submit_launch(weft_program *program, const char *name, const weft_range *range,
                                 size_t first, size_t last, const weft_arg *args, size_t nargs,
                                 weft_host_fn host_fn, void *user, weft_future **future)
{
    weft_ctx *ctx = program->ctx;
    size_t arrays = 0;
    for (size_t k = 0; k < nargs; k++) {
        RETURN_ON_ERROR(check_arg(ctx, range, &args[k], k));
        arrays += args[k].kind <= WEFT_ARG_WHOLE;
    }
    RETURN_IF(arrays > WEFT_LAUNCH_MAX_ARRAYS, WEFT_ERR_INVALID_ARG,
              "weft_launch: %zu array arguments (at most %d)", arrays, WEFT_LAUNCH_MAX_ARRAYS);
    RETURN_ON_ERROR(weft_alias_check_args(args, nargs));

    weft_launch_job *job = calloc(1, sizeof *job);
    RETURN_IF(!job, WEFT_ERR_NOMEM, "weft_launch: cannot allocate the launch");
    weft_status st = WEFT_OK;
    job->base = (weft_op){
        .run = launch_run, .destroy = launch_destroy, .ctx = ctx, .holds = &program->pending};
    job->program = program;
    job->range = *range;
    job->first = first;
    job->last = last;
    job->host_fn = host_fn;
    job->user = user;
    job->nargs = nargs;
    job->name = strdup(name);
    /* the arguments, then a writes flag per argument: one block */
    job->args = malloc((nargs + 1) * sizeof *job->args + nargs + 1);
    GOTO_ERROR_IF(!job->name || !job->args, WEFT_ERR_NOMEM,
                  "weft_launch: cannot copy the arguments");
    job->writes = (unsigned char *)(job->args + nargs + 1);
    memset(job->writes, 0, nargs + 1);
    if (nargs) memcpy(job->args, args, nargs * sizeof *args);
    GOTO_ERROR_ON(required_group(job));
    GOTO_ERROR_ON(weft_launch_split_key(job));
    GOTO_ERROR_ON(split_range(job));
    /* A program no device built runs on the pool, which is the host_fn's
     * to do; the status and the note say why, not the devices. */
    int unbuilt = program->build_failed && weft_program_built_device(program) == 0;
    GOTO_ERROR_IF(unbuilt && !host_fn, WEFT_ERR_BUILD,
                  "weft_launch: kernel %s: its program did not build on any device "
                  "(weft_program_build_log says why), and no host_fn runs it on the pool",
                  name);
    if (unbuilt && atomic_exchange(&program->noted_unbuilt, 1) == 0)
        weft_ctx_note(ctx,
                      "kernel %s runs on the pool through its host_fn: its program did not build "
                      "on any device (weft_program_build_log says why)",
                      name);
    GOTO_ERROR_IF(job->pieces[0].device == 0 && !host_fn, WEFT_ERR_NO_DEVICE,
                  "weft_launch: no usable OpenCL device for kernel %s and no host_fn to run "
                  "it on the pool",
                  name);
    /* The signature first: the limits are asked of the kernel with the
     * arguments set, and a local size for a __global parameter failed
     * there with OpenCL's bare error. */
    if (signature_device(job)) {
        GOTO_ERROR_ON(check_signature(job, signature_device(job)));
    } else {
        for (size_t k = 0; k < nargs; k++)
            job->writes[k] = assumed_access(&args[k]);
    }
    for (size_t p = 0; p < job->npieces; p++)
        GOTO_ERROR_ON(weft_launch_check_limits(job, job->pieces[p].device));
    size_t devices[WEFT_PERF_MAX_CANDIDATES], ndevices = 0;
    for (size_t p = 0; p < job->npieces && ndevices < WEFT_PERF_MAX_CANDIDATES; p++)
        devices[ndevices++] = job->pieces[p].device;
    if (own_copies_written(job, devices, ndevices)) {
        job->pieces[0] = (weft_piece){.device = job->pieces[0].device, .begin = first, .end = last};
        job->npieces = 1;
        job->check_split = 0;
    }
    for (size_t k = 0; k < nargs; k++) {
        if (args[k].kind > WEFT_ARG_WHOLE) continue;
        /* The stream orders a launch after what reads an argument it may write. */
        if (job->writes[k] == WEFT_ACCESS_READ) job->base.read_only |= 1u << job->base.narrays;
        job->base.arrays[job->base.narrays++] = args[k].array;
    }
    return weft_stream_submit(ctx->stream, &job->base, future);
error:
    launch_destroy(&job->base);
    return st;
}

weft_status weft_program_scalar_dtype(weft_program *program, const char *name, size_t k,
                                      weft_dtype *dtype)
{
    RETURN_IF(!program || !name || !dtype, WEFT_ERR_NULL,
              "weft_program_scalar_dtype: an argument is NULL");
    RETURN_IF(!weft_handle_live(program, WEFT_HANDLE_PROGRAM), WEFT_ERR_STATE,
              "weft_program_scalar_dtype: not a live program");
    size_t dev = weft_program_built_device(program);
    RETURN_IF(dev == 0, WEFT_ERR_UNSUPPORTED,
              "weft_program_scalar_dtype: no device built the program");
    weft_param *params = calloc(k + 1, sizeof *params);
    RETURN_IF(!params, WEFT_ERR_NOMEM, "weft_program_scalar_dtype: out of memory");
    size_t count = 0;
    weft_status st = weft_program_params(program, dev, name, params, k + 1, &count);
    GOTO_ERROR_ON(st);
    GOTO_ERROR_IF(k >= count, WEFT_ERR_INVALID_ARG, "kernel %s takes %zu arguments, not %zu", name,
                  count, k + 1);
    st = WEFT_ERR_DTYPE;
    for (size_t d = 0; d < WEFT_DTYPE_COUNT && params[k].address == 0 && st != WEFT_OK; d++)
        if (type_matches(params[k].resolved, (weft_dtype)d, 0)) {
            *dtype = (weft_dtype)d;
            st = WEFT_OK;
        }
    GOTO_ERROR_IF(st != WEFT_OK, WEFT_ERR_DTYPE,
                  "argument %zu (%s %s) of kernel %s is no scalar of a weft dtype", k,
                  params[k].type, params[k].name, name);
error:
    free(params);
    return st;
}

weft_status weft_launch(weft_program *program, const char *name, const weft_range *range,
                        const weft_arg *args, size_t nargs, weft_host_fn host_fn, void *user,
                        weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!program || !name, WEFT_ERR_NULL, "weft_launch: program or kernel name is NULL");
    RETURN_IF(!weft_handle_live(program, WEFT_HANDLE_PROGRAM), WEFT_ERR_STATE,
              "weft_launch: not a live program");
    RETURN_IF(!args && nargs, WEFT_ERR_NULL, "weft_launch: %zu arguments but args is NULL", nargs);
    RETURN_ON_ERROR(check_range(range));
    return submit_launch(program, name, range, 0, weft_range_outer(range), args, nargs, host_fn,
                         user, future);
}

/* A window of rows cannot give a kernel the launch's geometry, and its split
 * is checked against one device running the same window. */
weft_status weft_launch_rows(weft_program *program, const char *name, const weft_range *range,
                             size_t first, size_t last, const weft_arg *args, size_t nargs,
                             weft_host_fn host_fn, void *user, weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!program || !name, WEFT_ERR_NULL, "weft_launch_rows: program or kernel is NULL");
    RETURN_IF(!weft_handle_live(program, WEFT_HANDLE_PROGRAM), WEFT_ERR_STATE,
              "weft_launch_rows: not a live program");
    RETURN_IF(!args && nargs, WEFT_ERR_NULL, "weft_launch_rows: %zu arguments, args NULL", nargs);
    RETURN_ON_ERROR(check_range(range));
    RETURN_ON_ERROR(check_window(range, first, last));
    RETURN_IF(program->reads_geometry, WEFT_ERR_UNSUPPORTED,
              "weft_launch_rows: kernel %s's program asks for the launch's geometry "
              "(get_global_size, get_num_groups, get_group_id or get_global_offset), which a "
              "window of rows would see as its own",
              name);
    /* A window's rows are outer indices times each slice's rows: a range
     * rounded up past its arrays has no such rows (run it whole instead). */
    size_t outer = weft_range_outer(range);
    for (size_t k = 0; k < nargs; k++)
        RETURN_IF((args[k].kind == WEFT_ARG_SLICE || args[k].kind == WEFT_ARG_HALO) &&
                      args[k].array && args[k].array->n % outer,
                  WEFT_ERR_SIZE,
                  "weft_launch_rows: argument %zu has %zu elements, which do not divide into the "
                  "%zu indices of the split dimension: a window needs whole rows",
                  k, args[k].array->n, outer);
    return submit_launch(program, name, range, first, last, args, nargs, host_fn, user, future);
}

weft_status weft_ctx_last_kernel_time(weft_ctx *ctx, double *seconds)
{
    RETURN_IF(!ctx || !seconds, WEFT_ERR_NULL, "weft_ctx_last_kernel_time: NULL argument");
    /* A profiled event per launch costs the platform a few microseconds: only
     * contexts whose caller reads kernel times pay it. */
    atomic_store(&ctx->time_kernels, 1);
    pthread_mutex_lock(&ctx->lock);
    *seconds = ctx->last_kernel_seconds;
    pthread_mutex_unlock(&ctx->lock);
    return WEFT_OK;
}
