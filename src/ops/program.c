/* User programs: OpenCL C built for every selected OpenCL device. */
#include "../core/ctx.h"
#include "../dev/device.h"
#include "../exec/stream.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "kernel_source.h"
#include "launch_scalars.h"
#include "program.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* A size a device's compiler gave for a type name (0: it could not say). */
typedef struct weft_type_size {
    size_t device, size;
    struct weft_type_size *next;
    char name[64];
} weft_type_size;

static void program_destroy(weft_program *p)
{
    for (weft_kernel_entry *k = p->kernels, *next; k; k = next) {
        next = k->next;
        p->ctx->devices[k->device].ops.kernel_release(&p->ctx->devices[k->device], k->kernel);
        free(k->params);
        free(k->name);
        free(k);
    }
    for (weft_split_entry *s = p->splits, *next; s; s = next) {
        next = s->next;
        free(s); /* its key with it */
    }
    for (struct weft_type_size *t = p->type_sizes, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    pthread_mutex_destroy(&p->lock);
    for (size_t d = 0; d < p->ctx->ndevices; d++)
        if (p->per_device[d])
            p->ctx->devices[d].ops.program_release(&p->ctx->devices[d], p->per_device[d]);
    free(p->per_device);
    free(p->log);
    free(p->source);
    free(p->options);
    free(p);
}

weft_status weft_program_free(weft_program *p)
{
    if (!p) return WEFT_OK;
    RETURN_ON_ERROR(weft_handle_check_free(p, WEFT_HANDLE_PROGRAM, "weft_program_free"));
    /* Launches still queued use the program's kernels: wait for them. */
    RETURN_ON_ERROR(weft_stream_wait_held(p->ctx->stream, &p->pending, "weft_program_free"));
    if (!weft_handle_remove(p))
        return weft_error_set(WEFT_ERR_STATE, "weft_program_free: %p freed twice", (void *)p);
    weft_ctx_count_handles(p->ctx, -1);
    program_destroy(p);
    return WEFT_OK;
}

static int any_gpu_selected(const weft_ctx *ctx)
{
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (ctx->devices[d].info.selected && ctx->devices[d].info.kind == WEFT_DEVICE_GPU) return 1;
    return 0;
}

weft_status weft_program_build(weft_ctx *ctx, const char *source, const char *options,
                               weft_program **out)
{
    RETURN_IF(!ctx || !source || !out, WEFT_ERR_NULL,
              "weft_program_build: context, source or output is NULL");
    *out = NULL;
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE,
              "weft_program_build: not a live context");
    weft_program *p = calloc(1, sizeof *p);
    RETURN_IF(!p, WEFT_ERR_NOMEM, "cannot allocate a program");
    p->ctx = ctx;
    pthread_mutex_init(&p->lock, NULL);
    p->per_device = calloc(ctx->ndevices, sizeof *p->per_device);
    if (!p->per_device) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate a program");
    }
    /* Argument info lets launches check arguments against the signature. */
    char *full_options = NULL, *full_source = NULL;
    weft_status st = weft_user_options(options, &full_options);
    if (st == WEFT_OK) st = weft_user_source(source, full_options, &full_source);
    for (size_t d = 1; d < ctx->ndevices && st == WEFT_OK; d++) {
        if (!ctx->devices[d].info.selected || !ctx->devices[d].ops.program_build) continue;
        st = ctx->devices[d].ops.program_build(&ctx->devices[d], full_source, full_options,
                                               &p->per_device[d], &p->log);
        p->build_failed |= st == WEFT_ERR_BUILD;
    }
    p->source = full_source;
    p->options = full_options;
    p->reads_geometry =
        full_source ? weft_kernel_source_reads_geometry(full_source, full_options) : 1;
    /* The caller's options: weft's own -weft-fp-contract is gone from the
     * full ones. Division and sqrt in single precision are correctly
     * rounded on CPU devices; a GPU needs the option that asks it. */
    p->inexact_math = !full_source || weft_kernel_source_inexact_math(full_source, options) ||
                      (any_gpu_selected(ctx) &&
                       !(options && strstr(options, "-cl-fp32-correctly-rounded-divide-sqrt")));
    /* A failed build still hands back the program: it carries the log. */
    if (weft_handle_add(p, WEFT_HANDLE_PROGRAM) != WEFT_OK) {
        program_destroy(p);
        return WEFT_ERR_NOMEM;
    }
    weft_ctx_count_handles(ctx, +1);
    *out = p;
    return st;
}

/* With p->lock held. */
static weft_status find_entry(weft_program *p, size_t dev, const char *name,
                              weft_kernel_entry **found)
{
    for (weft_kernel_entry *k = p->kernels; k; k = k->next) {
        if (k->device == dev && strcmp(k->name, name) == 0) {
            *found = k;
            return WEFT_OK;
        }
    }
    weft_device *device = &p->ctx->devices[dev];
    RETURN_IF(!device->ops.kernel_create || !p->per_device[dev], WEFT_ERR_UNSUPPORTED,
              "device %zu runs no OpenCL C kernels", dev);
    void *kernel = NULL;
    RETURN_ON_ERROR(device->ops.kernel_create(device, p->per_device[dev], name, &kernel));
    weft_kernel_entry *e = calloc(1, sizeof *e);
    if (e) e->name = strdup(name);
    if (!e || !e->name) {
        free(e);
        device->ops.kernel_release(device, kernel);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot keep kernel %s", name);
    }
    e->device = dev;
    e->kernel = kernel;
    e->next = p->kernels;
    p->kernels = e;
    *found = e;
    return WEFT_OK;
}

weft_status weft_program_kernel(weft_program *p, size_t dev, const char *name, void **kernel)
{
    weft_kernel_entry *e = NULL;
    pthread_mutex_lock(&p->lock);
    weft_status st = find_entry(p, dev, name, &e);
    if (st == WEFT_OK) *kernel = e->kernel;
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* The options the source is read with on device dev: the macros the
 * device's compiler defines, what the program's options imply (-cl-std,
 * -cl-fast-relaxed-math), then the program's own (the last -D of a name
 * wins, as in the compiler). NULL without memory. */
static char *reading_options(const weft_program *p, size_t dev)
{
    const char *options = p->options ? p->options : "";
    const char *std = strstr(options, "-cl-std=CL");
    int major = 0, minor = 0;
    char implied[96] = "";
    if (std && sscanf(std + 10, "%d.%d", &major, &minor) == 2)
        snprintf(implied, sizeof implied, " -D__OPENCL_C_VERSION__=%d", major * 100 + minor * 10);
    if (strstr(options, "-cl-fast-relaxed-math"))
        strncat(implied, " -D__FAST_RELAXED_MATH__=1", sizeof implied - strlen(implied) - 1);
    const char *macros = p->ctx->devices[dev].compiler_macros;
    size_t bytes = strlen(options) + strlen(implied) + strlen(macros) + 2;
    char *all = malloc(bytes);
    if (all) snprintf(all, bytes, "%s%s %s", macros, implied, options);
    return all;
}

/* The sizes of the types of a kernel's parameters, asked of the device's
 * compiler (a value's type, what a pointer points to; built-in types need no
 * asking): the element a pointer steps over is the compiler's, and a type
 * weft resolved to a built-in of another size was a misreading of the
 * source (a typedef under an #if weft cannot evaluate). Left as read when
 * the compiler cannot say. */

/* With p->lock held: the size kept for name on dev; 1 when there is one. */
static int kept_size(const weft_program *p, size_t dev, const char *name, size_t *size)
{
    for (const weft_type_size *t = p->type_sizes; t; t = t->next)
        if (t->device == dev && strcmp(t->name, name) == 0) {
            *size = t->size;
            return 1;
        }
    return 0;
}

static void keep_size(weft_program *p, size_t dev, const char *name, size_t size)
{
    weft_type_size *t = calloc(1, sizeof *t);
    if (!t) return; /* asked again next time */
    *t = (weft_type_size){.device = dev, .size = size, .next = p->type_sizes};
    snprintf(t->name, sizeof t->name, "%s", name);
    p->type_sizes = t;
}

static void ask_compiler_sizes(weft_program *p, weft_device *device, const char *kernel,
                               const char *options, weft_param *all, size_t n)
{
    enum { MAX_TYPES = 64 };
    char names[MAX_TYPES][64];
    const char *list[MAX_TYPES];
    size_t of[MAX_TYPES], sizes[MAX_TYPES], count = 0;
    if (!device->ops.type_sizes || !p->source) return;
    for (size_t i = 0; i < n && i < MAX_TYPES; i++) {
        of[i] = MAX_TYPES;
        char name[64];
        if (all[i].address == 2 || !weft_kernel_type_to_size(all[i].type, name, sizeof name))
            continue;
        size_t k = 0;
        while (k < count && strcmp(names[k], name) != 0)
            k++;
        if (k == count) {
            strcpy(names[count], name);
            list[count] = names[count];
            count++;
        }
        of[i] = k;
    }
    /* Right after the kernel the names mean what its parameter list meant
     * (a #define further down may make them something else); where weft
     * cannot find the kernel's end, its own reading stands. */
    size_t at = weft_launch_kernel_end(p->source, options, kernel);
    /* Each question is a build of the whole source (a second or more on
     * PoCL with cold caches): asked only where weft's reading may differ
     * from the compiler's, or where it could not lay out what a parameter
     * points to (a union, pointers in a struct): an unknown size let any
     * array through, and the kernel wrote past it. */
    int unsized = 0;
    for (size_t i = 0; i < n && i < MAX_TYPES; i++)
        unsized |=
            of[i] < count && (all[i].address == 1 || all[i].address == 3) && all[i].element == 0;
    if (at > 0 && !unsized && weft_kernel_source_types_certain(p->source, p->options, at)) return;
    /* Kernels that share a type (a program's typedef real) ask once: each
     * question is a build of the whole source. A failed question is kept
     * as "cannot say" too, and its error is not the caller's. */
    const char *ask[MAX_TYPES];
    size_t nask = 0, answers[MAX_TYPES];
    for (size_t k = 0; k < count; k++)
        if (!kept_size(p, device->index, list[k], &sizes[k])) ask[nask++] = list[k];
    if (nask > 0 && at > 0) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", weft_last_error());
        int known = device->ops.type_sizes(device, p->source, at, p->options, ask, nask, answers) ==
                    WEFT_OK;
        weft_error_copy(detail);
        for (size_t k = 0; k < nask; k++)
            keep_size(p, device->index, ask[k], known ? answers[k] : 0);
        for (size_t k = 0; k < count; k++)
            kept_size(p, device->index, list[k], &sizes[k]);
    } else if (nask > 0) {
        return;
    }
    for (size_t i = 0; i < n && i < MAX_TYPES; i++) {
        size_t size = of[i] < count ? sizes[of[i]] : 0;
        if (size == 0) continue;
        int pointer = all[i].address == 1 || all[i].address == 3;
        size_t read = pointer ? all[i].element : weft_kernel_builtin_size(all[i].resolved);
        /* A record weft laid out as its fields' type keeps that type. */
        /* No number of that size: weft's name for it was wrong (a macro
         * defined later, say), and the type travels as its bytes. */
        if (read != size && (read == 0 || read == weft_kernel_builtin_size(all[i].resolved)) &&
            !weft_kernel_type_resize(all[i].resolved, sizeof all[i].resolved, size))
            snprintf(all[i].resolved, sizeof all[i].resolved, "%s", all[i].type);
        if (pointer) all[i].element = size;
    }
}

/* With p->lock held: asks the device for e's signature. */
static weft_status learn_params(weft_program *p, size_t dev, weft_kernel_entry *e)
{
    weft_device *device = &p->ctx->devices[dev];
    size_t n = 0;
    weft_status st = device->ops.kernel_params(device, e->kernel, NULL, 0, &n);
    if (st == WEFT_ERR_UNSUPPORTED || (st == WEFT_OK && n == 0)) {
        e->params_known = st == WEFT_OK ? 1 : -1;
        return WEFT_OK;
    }
    RETURN_ON_ERROR(st);
    weft_param *all = calloc(n, sizeof *all);
    RETURN_IF(!all, WEFT_ERR_NOMEM, "cannot keep the signature of kernel %s", e->name);
    st = device->ops.kernel_params(device, e->kernel, all, n, &n);
    if (st != WEFT_OK) {
        free(all);
        if (st != WEFT_ERR_UNSUPPORTED) return st;
        e->params_known = -1;
        return WEFT_OK;
    }
    char *options = reading_options(p, dev);
    if (!options) {
        free(all);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot read the source of kernel %s", e->name);
    }
    for (size_t i = 0; i < n; i++) {
        weft_kernel_type_resolve(p->source, options, all[i].type, all[i].resolved,
                                 sizeof all[i].resolved);
        all[i].only_read = all[i].address == 1 && !all[i].is_const &&
                           weft_launch_param_only_read(p->source, options, e->name, all[i].name);
        all[i].only_stored =
            all[i].address == 1 && !all[i].is_const &&
            weft_launch_param_only_stored(p->source, options, e->name, all[i].name);
        all[i].element = all[i].address == 1 || all[i].address == 3
                             ? weft_kernel_pointee_size(p->source, options, all[i].type)
                             : 0;
    }
    ask_compiler_sizes(p, device, e->name, options, all, n);
    free(options);
    e->params = all;
    e->nparams = n;
    e->params_known = 1;
    return WEFT_OK;
}

weft_status weft_program_params(weft_program *p, size_t dev, const char *name, weft_param *params,
                                size_t capacity, size_t *count)
{
    weft_kernel_entry *e = NULL;
    pthread_mutex_lock(&p->lock);
    weft_status st = find_entry(p, dev, name, &e);
    if (st == WEFT_OK && !e->params_known) st = learn_params(p, dev, e);
    if (st == WEFT_OK && e->params_known < 0)
        st = weft_error_set(WEFT_ERR_UNSUPPORTED, "no kernel argument info");
    if (st == WEFT_OK) {
        *count = e->nparams;
        if (e->nparams)
            memcpy(params, e->params,
                   (e->nparams < capacity ? e->nparams : capacity) * sizeof *params);
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

size_t weft_program_built_device(const weft_program *p)
{
    for (size_t d = 1; d < p->ctx->ndevices; d++)
        if (p->per_device[d]) return d;
    return 0;
}

weft_status weft_program_required_group(weft_program *p, size_t dev, const char *name,
                                        size_t required[3])
{
    weft_kernel_entry *e = NULL;
    weft_device *device = &p->ctx->devices[dev];
    pthread_mutex_lock(&p->lock);
    weft_status st = find_entry(p, dev, name, &e);
    if (st == WEFT_OK && !e->group_known && device->ops.kernel_group_size) {
        st = device->ops.kernel_group_size(device, e->kernel, e->required_group);
        e->group_known = st == WEFT_OK;
    }
    if (st == WEFT_OK)
        for (int d = 0; d < 3; d++)
            required[d] = e->group_known ? e->required_group[d] : 0;
    pthread_mutex_unlock(&p->lock);
    return st;
}

weft_split_verdict weft_program_split_verdict(weft_program *p, const char *key, unsigned *checks)
{
    weft_split_verdict verdict = WEFT_SPLIT_UNKNOWN;
    unsigned count = 0;
    pthread_mutex_lock(&p->lock);
    for (weft_split_entry *s = p->splits; s; s = s->next)
        if (strcmp(s->key, key) == 0) {
            verdict = s->verdict;
            count = s->checks;
        }
    pthread_mutex_unlock(&p->lock);
    if (checks) *checks = count;
    return verdict;
}

/* The entry of key, made when missing; NULL without memory. Under p->lock. */
static weft_split_entry *split_entry(weft_program *p, const char *key)
{
    weft_split_entry *s = p->splits;
    while (s && strcmp(s->key, key) != 0)
        s = s->next;
    size_t key_size = strlen(key) + 1;
    if (!s && (s = calloc(1, sizeof *s + key_size)) != NULL) {
        memcpy(s->key, key, key_size);
        s->next = p->splits;
        p->splits = s;
    }
    return s;
}

weft_status weft_program_set_split_verdict(weft_program *p, const char *key,
                                           weft_split_verdict verdict, unsigned *checks)
{
    weft_status st = WEFT_OK;
    pthread_mutex_lock(&p->lock);
    weft_split_entry *s = split_entry(p, key);
    if (s && verdict == WEFT_SPLIT_SAFE) {
        s->checks++;
        /* A launch checked beside one that differed does not undo it. */
        if (s->verdict == WEFT_SPLIT_UNKNOWN) s->verdict = verdict;
    } else if (s) {
        s->verdict = verdict;
    } else {
        st = weft_error_set(WEFT_ERR_NOMEM, "cannot record how kernel %s splits", key);
    }
    if (checks) *checks = s ? s->checks : 0;
    pthread_mutex_unlock(&p->lock);
    return st;
}

unsigned weft_program_split_inconclusive(weft_program *p, const char *key)
{
    pthread_mutex_lock(&p->lock);
    weft_split_entry *s = split_entry(p, key);
    unsigned count = s ? ++s->inconclusive : 0;
    pthread_mutex_unlock(&p->lock);
    return count;
}

/* The scalars that steer rows as any device that built the program reads
 * the source (its compiler's macros may choose other lines). */
static uint64_t steering_on_every_device(const weft_program *p, const char *name, size_t nparams)
{
    uint64_t mask = 0;
    const char *read_with = NULL;
    for (size_t d = 1; d < p->ctx->ndevices; d++) {
        const char *macros = p->ctx->devices[d].compiler_macros;
        if (!p->per_device[d] || (read_with && strcmp(read_with, macros) == 0)) continue;
        read_with = macros;
        char *options = reading_options(p, d);
        if (!options) return ~(uint64_t)0;
        mask |= weft_launch_steering_scalars(p->source, options, name, nparams);
        free(options);
    }
    return read_with ? mask : weft_launch_steering_scalars(p->source, p->options, name, nparams);
}

uint64_t weft_program_split_steering(weft_program *p, const char *key, const char *name,
                                     size_t nparams)
{
    pthread_mutex_lock(&p->lock);
    weft_split_entry *s = split_entry(p, key);
    int known = s && s->steering_known;
    uint64_t mask = known ? s->steering : ~(uint64_t)0;
    pthread_mutex_unlock(&p->lock);
    if (known || !s) return mask; /* without memory: every scalar steers */
    mask = steering_on_every_device(p, name, nparams);
    pthread_mutex_lock(&p->lock);
    s->steering = mask;
    s->steering_known = 1;
    pthread_mutex_unlock(&p->lock);
    return mask;
}

const char *weft_program_build_log(const weft_program *p)
{
    return p && p->log ? p->log : "";
}

/* A device and the host fallback agree bit for bit only if neither contracts
 * a*b+c into fma: PoCL does by default, so user sources say FP_CONTRACT OFF
 * unless the options ask for contraction (-weft-fp-contract, which is taken
 * out before the compiler sees the options). #line keeps the build log's line
 * numbers the user's. */
#define CONTRACT_FLAG "-weft-fp-contract"

weft_status weft_user_source(const char *source, char *options, char **full)
{
    char *flag = strstr(options, CONTRACT_FLAG);
    int contract = flag && (flag == options || flag[-1] == ' ') &&
                   (flag[strlen(CONTRACT_FLAG)] == '\0' || flag[strlen(CONTRACT_FLAG)] == ' ');
    if (contract) memset(flag, ' ', strlen(CONTRACT_FLAG));
    /* A byte-order mark (as Windows editors save files) is skipped by the
     * compiler only at the very start: after the prefix it is an error at
     * 1:1 of a line that looks fine. */
    if (strncmp(source, "\xEF\xBB\xBF", 3) == 0) source += 3;
    const char *prefix = contract ? "" : "#pragma OPENCL FP_CONTRACT OFF\n#line 1\n";
    size_t len = strlen(prefix) + strlen(source) + 1;
    *full = malloc(len);
    RETURN_IF(!*full, WEFT_ERR_NOMEM, "cannot copy the program source");
    /* Line ends as CR LF (files saved on Windows) become LF: the compiler
     * reads both alike, a backslash before CR LF splices lines included,
     * and every reader of the source in weft then sees the lines it sees. */
    char *to = *full + strlen(prefix);
    memcpy(*full, prefix, strlen(prefix));
    for (const char *c = source; *c; c++)
        if (!(c[0] == '\r' && c[1] == '\n')) *to++ = *c;
    *to = '\0';
    return WEFT_OK;
}

/* User options plus -cl-kernel-arg-info; -I directories are hashed into the
 * cache key by the build (their headers change the program). */
weft_status weft_user_options(const char *options, char **full)
{
    const char *extra = "-cl-kernel-arg-info";
    size_t len = (options ? strlen(options) : 0) + strlen(extra) + 2;
    *full = malloc(len);
    RETURN_IF(!*full, WEFT_ERR_NOMEM, "cannot copy build options");
    snprintf(*full, len, "%s %s", options ? options : "", extra);
    return WEFT_OK;
}

weft_status weft_program_precompile(weft_ctx *ctx, const char *const *sources, size_t count,
                                    const char *options)
{
    RETURN_IF(!ctx || (!sources && count), WEFT_ERR_NULL, "weft_program_precompile: NULL argument");
    for (size_t i = 0; i < count; i++) {
        RETURN_IF(!sources[i], WEFT_ERR_NULL, "weft_program_precompile: source %zu is NULL", i);
        weft_program *p = NULL;
        weft_status st = weft_program_build(ctx, sources[i], options, &p);
        weft_program_free(p);
        if (st != WEFT_OK) return st;
    }
    return WEFT_OK;
}
