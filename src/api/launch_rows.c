/* weft_launch_rows: a user kernel over a window [first, last) of its range's
 * split dimension, for layers that split one launch over processes
 * (src/mpi): each process runs its own rows with the same source, host_fn
 * and global indices, on arrays of the whole range's size of which it keeps
 * only its rows (and their halos) current. It reuses the ops layer's launch
 * job, device calls and piece runner; only the window is new. */
#include "../core/ctx.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../core/pool.h"
#include "../mem/alias.h"
#include "../mem/array.h"
#include "../mem/partition.h"
#include "../mem/residency.h"
#include "../ops/launch.h"
#include "../ops/launch_check.h"
#include "../ops/launch_limits.h"

#include <stdlib.h>
#include <string.h>

static weft_status check_window(const weft_range *r, size_t first, size_t last)
{
    RETURN_IF(!r, WEFT_ERR_NULL, "weft_launch_rows: range is NULL");
    RETURN_IF(r->dims < 1 || r->dims > 3, WEFT_ERR_INVALID_ARG,
              "weft_launch_rows: range has %u dimensions (1 to 3)", r->dims);
    for (unsigned d = 0; d < r->dims; d++) {
        RETURN_IF(r->size[d] == 0, WEFT_ERR_INVALID_ARG,
                  "weft_launch_rows: range of 0 in dimension %u", d);
        RETURN_IF(r->local[d] && r->size[d] % r->local[d], WEFT_ERR_INVALID_ARG,
                  "weft_launch_rows: local size %zu does not divide range %zu in dimension %u",
                  r->local[d], r->size[d], d);
    }
    size_t outer = weft_range_outer(r), granule = r->local[weft_range_split_dim(r)];
    RETURN_IF(first >= last || last > outer, WEFT_ERR_RANGE,
              "weft_launch_rows: rows [%zu, %zu) are not a non-empty part of the range's %zu",
              first, last, outer);
    RETURN_IF(granule && (first % granule || (last % granule && last != outer)),
              WEFT_ERR_INVALID_ARG,
              "weft_launch_rows: rows [%zu, %zu) do not start and end on work-groups of %zu", first,
              last, granule);
    return WEFT_OK;
}

static weft_status check_args(weft_ctx *ctx, const weft_range *r, const weft_arg *args,
                              size_t nargs)
{
    size_t outer = weft_range_outer(r), arrays = 0;
    for (size_t k = 0; k < nargs; k++) {
        const weft_arg *a = &args[k];
        RETURN_IF((unsigned)a->kind > WEFT_ARG_LOCAL, WEFT_ERR_INVALID_ARG,
                  "weft_launch_rows: argument %zu has unknown kind %d", k, (int)a->kind);
        if (a->kind == WEFT_ARG_SCALAR)
            RETURN_IF((unsigned)a->dtype >= WEFT_DTYPE_COUNT, WEFT_ERR_DTYPE,
                      "weft_launch_rows: argument %zu has dtype %d", k, (int)a->dtype);
        if (a->kind == WEFT_ARG_LOCAL)
            RETURN_IF(a->local_bytes == 0, WEFT_ERR_INVALID_ARG,
                      "weft_launch_rows: argument %zu asks for 0 bytes of local memory", k);
        if (a->kind > WEFT_ARG_WHOLE) continue;
        arrays++;
        RETURN_ON_ERROR(weft_array_check(a->array, "weft_launch_rows"));
        RETURN_IF(a->array->ctx != ctx, WEFT_ERR_INVALID_ARG,
                  "weft_launch_rows: argument %zu belongs to another context", k);
        RETURN_IF(a->kind != WEFT_ARG_WHOLE && (a->array->n == 0 || a->array->n % outer),
                  WEFT_ERR_SIZE,
                  "weft_launch_rows: argument %zu (%zu elements) does not split into the range's "
                  "%zu rows",
                  k, a->array->n, outer);
    }
    RETURN_IF(arrays > WEFT_LAUNCH_MAX_ARRAYS, WEFT_ERR_INVALID_ARG,
              "weft_launch_rows: %zu array arguments (at most %d)", arrays, WEFT_LAUNCH_MAX_ARRAYS);
    return weft_alias_check_args(args, nargs);
}

/* The window over the selected devices that have the program, by weight; the
 * pool alone when none has it. A kernel whose split is known to change its
 * answer runs its window on one device. */
static weft_status split_window(weft_launch_job *job, size_t first, size_t last)
{
    weft_ctx *ctx = job->program->ctx;
    unsigned dim = weft_range_split_dim(&job->range);
    size_t granule = job->range.local[dim] ? job->range.local[dim] : 1;
    double *weights = calloc(ctx->ndevices, sizeof *weights);
    size_t *shares = calloc(ctx->ndevices, sizeof *shares);
    job->pieces = calloc(ctx->ndevices + 1, sizeof *job->pieces);
    weft_status st = WEFT_OK;
    GOTO_ERROR_IF(!weights || !shares || !job->pieces, WEFT_ERR_NOMEM,
                  "weft_launch_rows: cannot allocate the split");
    size_t best = 0;
    for (size_t d = 1; d < ctx->ndevices; d++)
        if (ctx->devices[d].info.selected && job->program->per_device[d]) {
            weights[d] = ctx->devices[d].info.weight > 0 ? ctx->devices[d].info.weight : 1;
            if (best == 0 || weights[d] > weights[best]) best = d;
        }
    int one_device = weft_program_split_verdict(job->program, job->split_key) == WEFT_SPLIT_WHOLE;
    size_t units = (last - first + granule - 1) / granule;
    if (!one_device) weft_split_units(units, weights, ctx->ndevices, shares);
    size_t begin = first;
    for (size_t d = 1; d < ctx->ndevices && !one_device; d++) {
        if (shares[d] == 0 || weights[d] <= 0) continue;
        size_t end = begin + shares[d] * granule;
        if (end > last) end = last;
        job->pieces[job->npieces++] = (weft_piece){.device = d, .begin = begin, .end = end};
        begin = end;
    }
    if (job->npieces == 0)
        job->pieces[job->npieces++] = (weft_piece){.device = best, .begin = first, .end = last};
error:
    free(weights);
    free(shares);
    return st;
}

/* Which arguments the kernel may write (its signature on the first piece's
 * device; without one, every slice and halo argument). */
static weft_status find_writes(weft_launch_job *job)
{
    size_t dev = job->pieces[0].device;
    for (size_t k = 0; k < job->nargs; k++)
        job->writes[k] = job->args[k].kind <= WEFT_ARG_HALO;
    if (dev == 0) return WEFT_OK;
    weft_param *params = calloc(job->nargs + 1, sizeof *params);
    RETURN_IF(!params, WEFT_ERR_NOMEM, "weft_launch_rows: cannot allocate the signature");
    size_t count = 0;
    weft_status st =
        weft_program_params(job->program, dev, job->name, params, job->nargs + 1, &count);
    if (st == WEFT_ERR_UNSUPPORTED)
        st = WEFT_OK;
    else if (st == WEFT_OK && count != job->nargs)
        st = weft_error_set(WEFT_ERR_INVALID_ARG,
                            "weft_launch_rows: kernel %s takes %zu arguments, %zu given", job->name,
                            count, job->nargs);
    else if (st == WEFT_OK)
        for (size_t k = 0; k < job->nargs; k++)
            job->writes[k] =
                job->args[k].kind <= WEFT_ARG_HALO && params[k].address == 1 && !params[k].is_const;
    free(params);
    return st;
}

/* Elements of array argument k a piece reads: its rows and halos, clipped. */
static void rows_read(const weft_launch_job *job, size_t k, const weft_piece *piece, size_t *begin,
                      size_t *end)
{
    const weft_arg *a = &job->args[k];
    size_t outer = weft_range_outer(&job->range), inner = a->array->n / outer;
    if (a->kind == WEFT_ARG_WHOLE) {
        *begin = 0;
        *end = a->array->n;
        return;
    }
    size_t h = a->kind == WEFT_ARG_HALO ? a->halo : 0;
    size_t lo = piece->begin > h ? piece->begin - h : 0;
    size_t hi = outer - piece->end > h ? piece->end + h : outer;
    *begin = lo * inner;
    *end = hi * inner;
}

typedef struct host_chunk_args {
    const weft_launch_job *job;
    void **pointers;
    size_t offset;
} host_chunk_args;

static void host_chunk(void *arg, size_t begin, size_t end)
{
    const host_chunk_args *h = arg;
    weft_host_call call = {&h->job->range, h->offset + begin, h->offset + end,
                           h->pointers,    h->job->nargs,     h->job->user};
    h->job->host_fn(&call);
}

static weft_status run_on_host(void *self, weft_piece *piece)
{
    weft_launch_job *job = self;
    weft_ctx *ctx = job->program->ctx;
    RETURN_IF(!job->host_fn, WEFT_ERR_DEVICE, "no host_fn was given to run kernel %s on the pool",
              job->name);
    void **pointers = calloc(job->nargs + 1, sizeof *pointers);
    RETURN_IF(!pointers, WEFT_ERR_NOMEM, "weft_launch_rows: cannot allocate host arguments");
    weft_status st = WEFT_OK;
    for (size_t k = 0; k < job->nargs; k++) {
        weft_arg *a = &job->args[k];
        if (a->kind <= WEFT_ARG_WHOLE) {
            size_t begin, end;
            rows_read(job, k, piece, &begin, &end);
            GOTO_ERROR_ON(weft_mem_make_current(a->array, 0, begin, end));
            pointers[k] = a->array->host;
        } else if (a->kind == WEFT_ARG_SCALAR) {
            pointers[k] = &a->value;
        }
    }
    host_chunk_args h = {job, pointers, piece->begin};
    size_t count = piece->end - piece->begin;
    size_t grain = count / (8 * (size_t)weft_pool_threads(ctx->pool)) + 1;
    weft_pool_parallel_for(ctx->pool, count, grain, 0, host_chunk, &h);
error:
    free(pointers);
    return st;
}

static weft_status bind_arrays(weft_launch_job *job, const weft_piece *piece, void **buffers)
{
    for (size_t k = 0; k < job->nargs; k++) {
        weft_arg *a = &job->args[k];
        if (buffers) buffers[k] = NULL;
        if (a->kind > WEFT_ARG_WHOLE) continue;
        size_t begin, end;
        rows_read(job, k, piece, &begin, &end);
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
    void *buffers[WEFT_LAUNCH_MAX_ARRAYS + 1];
    weft_kernel_arg small_args[16], *args = small_args;
    void **all = job->nargs > 16 ? calloc(job->nargs, sizeof *all) : NULL;
    if (job->nargs > 16) args = calloc(job->nargs, sizeof *args);
    void **bufs = job->nargs > 16 ? all : buffers;
    weft_status st =
        !bufs || !args ? weft_error_set(WEFT_ERR_NOMEM, "weft_launch_rows: no memory for arguments")
                       : bind_arrays(job, piece, bufs);
    weft_kernel_call call;
    if (st == WEFT_OK) {
        weft_launch_describe(job, piece, args, bufs, &call);
        st = weft_program_kernel(job->program, piece->device, job->name, &call.kernel);
    }
    if (st == WEFT_OK) {
        weft_device *dev = &job->program->ctx->devices[piece->device];
        st = dev->ops.launch(dev, &call);
        piece->event = call.event;
    }
    free(all);
    if (args != small_args) free(args);
    return st;
}

static void piece_done(void *self, weft_piece *piece)
{
    weft_launch_job *job = self;
    weft_device *dev = &job->program->ctx->devices[piece->device];
    if (piece->event) dev->ops.event_release(dev, piece->event);
    piece->event = NULL;
}

static weft_status rows_run(weft_op *base)
{
    weft_launch_job *job = (weft_launch_job *)base;
    weft_piece_run run = {.ctx = job->program->ctx,
                          .op = base,
                          .pieces = job->pieces,
                          .npieces = job->npieces,
                          .what = job->name,
                          .units = "outer indices",
                          .nunits = weft_range_outer(&job->range),
                          .self = job,
                          .prepare = prepare_on_device,
                          .enqueue = enqueue_on_device,
                          .run_host = run_on_host,
                          .done = piece_done};
    size_t outer = weft_range_outer(&job->range);
    for (size_t k = 0; k < job->nargs; k++) {
        if (job->args[k].kind > WEFT_ARG_WHOLE) continue;
        size_t i = run.narrays++;
        run.arrays[i] = job->args[k].array;
        run.scale[i] = job->args[k].array->n / outer;
        run.reads |= 1u << i;
        if (job->writes[k]) run.writes |= 1u << i;
    }
    return weft_pieces_run(&run);
}

static void rows_destroy(weft_op *base)
{
    weft_launch_job *job = (weft_launch_job *)base;
    free(job->name);
    free(job->split_key);
    free(job->args);
    free(job->writes);
    free(job->pieces);
    free(job);
}

weft_status weft_launch_rows(weft_program *program, const char *name, const weft_range *range,
                             size_t first, size_t last, const weft_arg *args, size_t nargs,
                             weft_host_fn host_fn, void *user, weft_future **future)
{
    RETURN_IF(!program || !name, WEFT_ERR_NULL, "weft_launch_rows: program or kernel is NULL");
    RETURN_IF(!weft_handle_live(program), WEFT_ERR_STATE, "weft_launch_rows: not a live program");
    RETURN_IF(!args && nargs, WEFT_ERR_NULL, "weft_launch_rows: %zu arguments, args NULL", nargs);
    RETURN_ON_ERROR(check_window(range, first, last));
    RETURN_IF(program->reads_geometry, WEFT_ERR_UNSUPPORTED,
              "weft_launch_rows: kernel %s's program asks for the launch's geometry "
              "(get_global_size, get_num_groups, get_group_id or get_global_offset), which a "
              "window of rows would see as its own",
              name);
    weft_ctx *ctx = program->ctx;
    RETURN_ON_ERROR(check_args(ctx, range, args, nargs));

    weft_launch_job *job = calloc(1, sizeof *job);
    RETURN_IF(!job, WEFT_ERR_NOMEM, "weft_launch_rows: cannot allocate the launch");
    weft_status st = WEFT_OK;
    job->base =
        (weft_op){.run = rows_run, .destroy = rows_destroy, .ctx = ctx, .holds = &program->pending};
    job->program = program;
    job->range = *range;
    job->host_fn = host_fn;
    job->user = user;
    job->nargs = nargs;
    job->name = strdup(name);
    job->args = malloc((nargs + 1) * sizeof *job->args);
    job->writes = calloc(nargs + 1, 1);
    GOTO_ERROR_IF(!job->name || !job->args || !job->writes, WEFT_ERR_NOMEM,
                  "weft_launch_rows: cannot copy the arguments");
    if (nargs) memcpy(job->args, args, nargs * sizeof *args);
    GOTO_ERROR_ON(weft_launch_split_key(job));
    GOTO_ERROR_ON(split_window(job, first, last));
    for (size_t p = 0; p < job->npieces; p++)
        GOTO_ERROR_ON(weft_launch_check_limits(job, job->pieces[p].device));
    GOTO_ERROR_IF(job->pieces[0].device == 0 && !host_fn, WEFT_ERR_NO_DEVICE,
                  "weft_launch_rows: no usable OpenCL device for kernel %s and no host_fn", name);
    GOTO_ERROR_ON(find_writes(job));
    for (size_t k = 0; k < nargs; k++) {
        if (args[k].kind > WEFT_ARG_WHOLE) continue;
        if (!job->writes[k]) job->base.read_only |= 1u << job->base.narrays;
        job->base.arrays[job->base.narrays++] = args[k].array;
    }
    return weft_stream_submit(ctx->stream, &job->base, future);
error:
    rows_destroy(&job->base);
    return st;
}
