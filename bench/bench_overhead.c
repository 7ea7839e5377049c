#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"
#include "bench_overhead.h"

#include "raw_launch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SYNC_LAUNCHES = 50, QUEUED = 1000, CHAIN = 10 };

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    return t[n / 2];
}

static void release_all(weft_future **f, int n)
{
    for (int i = 0; i < n; i++)
        weft_future_release(f[i]);
}

/* Waits for and releases n futures; 0 if any failed. */
static int wait_all(weft_future **f, int n)
{
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok = weft_future_wait(f[i]) == WEFT_OK && ok;
    release_all(f, n);
    return ok;
}

typedef struct overhead {
    double weft_sync_us, raw_sync_us, weft_queued_us, raw_queued_us;
    /* seconds for the whole chain: weft, the bench's chunked raw kernel, the
     * ordinary one-element-per-work-item raw kernel */
    double weft_chain_s, raw_chunked_chain_s, raw_each_chain_s;
    weft_stats chain_ledger; /* what one weft chain moved and launched */
} overhead;

static int weft_sync_us(weft_program *p, const weft_range *r, const weft_arg *args, double *us)
{
    double t[SYNC_LAUNCHES];
    for (int i = 0; i < SYNC_LAUNCHES; i++) {
        double t0 = bench_now();
        if (weft_launch(p, "nop", r, args, 1, NULL, NULL, NULL) != WEFT_OK) return 0;
        t[i] = bench_now() - t0;
    }
    *us = median(t, SYNC_LAUNCHES) * 1e6;
    return 1;
}

static int weft_queued_us(weft_program *p, const weft_range *r, const weft_arg *args, double *us)
{
    static weft_future *f[QUEUED];
    double t0 = bench_now();
    for (int i = 0; i < QUEUED; i++)
        if (weft_launch(p, "nop", r, args, 1, NULL, NULL, &f[i]) != WEFT_OK) {
            wait_all(f, i);
            return 0;
        }
    int ok = wait_all(f, QUEUED);
    *us = (bench_now() - t0) / QUEUED * 1e6;
    return ok;
}

static int weft_chain(weft_ctx *ctx, weft_array *x, weft_array *y, double *seconds)
{
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 1e-3f)};
    weft_future *f[CHAIN];
    double t0 = bench_now();
    for (int i = 0; i < CHAIN; i++)
        if (weft_map(ctx, "y = a * x + y", b, 3, &f[i]) != WEFT_OK) {
            wait_all(f, i);
            return 0;
        }
    int ok = wait_all(f, CHAIN);
    *seconds = bench_now() - t0;
    return ok;
}

/* Launch latency: rounds alternate weft and raw so drift hits both alike. */
static int launches(weft_ctx *ctx, int rounds, overhead *o)
{
    weft_program *p = NULL;
    weft_array *one = NULL;
    raw_launch *raw = raw_launch_create(0);
    int ok = weft_program_build(ctx, NOP_KERNEL_SOURCE, NULL, &p) == WEFT_OK &&
             weft_array_create(ctx, WEFT_I32, 1, &one) == WEFT_OK;
    weft_arg args[] = {weft_arg_slice(one)};
    weft_range r = {1, {1, 1, 1}, {0, 0, 0}};
    double ws[16], rs[16], wq[16], rq[16];
    ok = ok && weft_launch(p, "nop", &r, args, 1, NULL, NULL, NULL) == WEFT_OK; /* warm up */
    for (int k = 0; ok && k < rounds; k++) {
        ok = weft_sync_us(p, &r, args, &ws[k]) && weft_queued_us(p, &r, args, &wq[k]);
        rs[k] = raw ? raw_launch_sync_us(raw, SYNC_LAUNCHES) : NAN;
        rq[k] = raw ? raw_launch_pipelined_us(raw, QUEUED) : NAN;
    }
    if (ok) {
        o->weft_sync_us = median(ws, rounds);
        o->weft_queued_us = median(wq, rounds);
        o->raw_sync_us = raw ? median(rs, rounds) : NAN;
        o->raw_queued_us = raw ? median(rq, rounds) : NAN;
    }
    raw_launch_free(raw);
    weft_array_free(one);
    weft_program_free(p);
    return ok;
}

static int chain(weft_ctx *ctx, raw_cl *raw, int rounds, overhead *o)
{
    size_t n = (size_t)1 << 24, bytes = n * sizeof(float);
    float *xh = aligned_alloc(4096, bytes), *yh = aligned_alloc(4096, bytes);
    weft_array *x = NULL, *y = NULL;
    if (xh && yh) {
        memset(xh, 0, bytes);
        memset(yh, 0, bytes);
    }
    /* From host data like the raw side's: a created array reads the zero page. */
    int ok = xh && yh && weft_array_from(ctx, WEFT_F32, n, xh, &x) == WEFT_OK &&
             weft_array_from(ctx, WEFT_F32, n, yh, &y) == WEFT_OK;
    int bound = ok && raw && raw_cl_bind(raw, 0, xh, yh, n);
    double tw[16], tc[16], te[16], t = 0;
    weft_stats before, after;
    ok = ok && weft_chain(ctx, x, y, &t); /* warm up: compile, place the arrays */
    if (bound) bound = raw_cl_axpy_chain(raw, 1e-3, CHAIN) && raw_cl_axpy_each_chain(raw, 1e-3f, 1);
    for (int k = 0; ok && k < rounds; k++) {
        weft_ctx_stats(ctx, &before);
        ok = weft_chain(ctx, x, y, &tw[k]);
        weft_ctx_stats(ctx, &after);
        double t0 = bench_now();
        tc[k] = bound && raw_cl_axpy_chain(raw, 1e-3, CHAIN) ? bench_now() - t0 : NAN;
        t0 = bench_now();
        te[k] = bound && raw_cl_axpy_each_chain(raw, 1e-3f, CHAIN) ? bench_now() - t0 : NAN;
    }
    if (ok) {
        o->weft_chain_s = median(tw, rounds);
        o->raw_chunked_chain_s = bound ? median(tc, rounds) : NAN;
        o->raw_each_chain_s = bound ? median(te, rounds) : NAN;
        /* the ledger of the last chain alone: the context's own keeps counting */
        o->chain_ledger = after;
        o->chain_ledger.bytes_to_device -= before.bytes_to_device;
        o->chain_ledger.bytes_to_host -= before.bytes_to_host;
        o->chain_ledger.bytes_device_to_device -= before.bytes_device_to_device;
        o->chain_ledger.kernel_launches -= before.kernel_launches;
        o->chain_ledger.tasks -= before.tasks;
        o->chain_ledger.pieces_rerun -= before.pieces_rerun;
        o->chain_ledger.wait_seconds -= before.wait_seconds;
    }
    if (bound) raw_cl_unbind(raw);
    weft_array_free(x);
    weft_array_free(y);
    free(xh);
    free(yh);
    return ok;
}

void bench_print_ledger_json(const weft_stats *st)
{
    printf("{\"bytes_to_device\": %llu, \"bytes_to_host\": %llu, \"bytes_device_to_device\": %llu, "
           "\"kernel_launches\": %llu, \"tasks\": %llu, \"pieces_rerun\": %llu, \"wait_s\": %.6f}",
           (unsigned long long)st->bytes_to_device, (unsigned long long)st->bytes_to_host,
           (unsigned long long)st->bytes_device_to_device, (unsigned long long)st->kernel_launches,
           (unsigned long long)st->tasks, (unsigned long long)st->pieces_rerun, st->wait_seconds);
}

static void json_number(const char *name, double v, int last)
{
    printf("\"%s\": ", name);
    if (isnan(v))
        printf("null");
    else
        printf("%.3f", v);
    if (!last) printf(", ");
}

int bench_overhead(weft_ctx *ctx, raw_cl *raw, int quick, int json)
{
    overhead o;
    memset(&o, 0, sizeof o);
    int rounds = quick ? 3 : 7;
    if (!launches(ctx, rounds, &o) || !chain(ctx, raw, rounds, &o)) {
        fprintf(stderr, "bench: overhead: %s\n", weft_last_error());
        return 0;
    }
    double raw_chain_s = fmin(o.raw_chunked_chain_s, o.raw_each_chain_s);
    double per_op_us = (o.weft_chain_s - raw_chain_s) / CHAIN * 1e6;
    if (json) {
        printf("{");
        json_number("launch_sync_us", o.weft_sync_us, 0);
        json_number("raw_launch_sync_us", o.raw_sync_us, 0);
        json_number("launch_queued_us", o.weft_queued_us, 0);
        json_number("raw_launch_queued_us", o.raw_queued_us, 0);
        json_number("chain_ms_per_op", o.weft_chain_s / CHAIN * 1e3, 0);
        json_number("raw_chunked_chain_ms_per_op", o.raw_chunked_chain_s / CHAIN * 1e3, 0);
        json_number("raw_each_chain_ms_per_op", o.raw_each_chain_s / CHAIN * 1e3, 0);
        json_number("chain_overhead_us_per_op", per_op_us, 0);
        printf("\"chain_ledger\": ");
        bench_print_ledger_json(&o.chain_ledger);
        printf("}");
        return 1;
    }
    printf("\nOverhead against raw OpenCL on the first device (medians of %d rounds):\n\n"
           "| measurement | weft | raw OpenCL | weft - raw |\n|---|---:|---:|---:|\n",
           rounds);
    printf("| empty-kernel launch, synchronous (us) | %.1f | %.1f | %+.1f |\n", o.weft_sync_us,
           o.raw_sync_us, o.weft_sync_us - o.raw_sync_us);
    printf("| %d queued launches, one wait (us per launch) | %.1f | %.1f | %+.1f |\n", QUEUED,
           o.weft_queued_us, o.raw_queued_us, o.weft_queued_us - o.raw_queued_us);
    printf("| %d dependent y = a*x + y over 2^24 f32, futures (ms per op) | %.2f | %.2f "
           "(chunked %.2f, one element per item %.2f) | %+.1f us |\n",
           CHAIN, o.weft_chain_s / CHAIN * 1e3, raw_chain_s / CHAIN * 1e3,
           o.raw_chunked_chain_s / CHAIN * 1e3, o.raw_each_chain_s / CHAIN * 1e3, per_op_us);
    printf("\nweft: weft_launch (futures for the queued ones) and weft_map queued with futures; "
           "raw: clEnqueueNDRangeKernel on one in-order queue, clFinish; the chain's raw figure "
           "is the faster of two kernels. One weft chain moved %.1f MB to the device, %.1f MB "
           "back, in %llu launches.\n",
           (double)o.chain_ledger.bytes_to_device * 1e-6,
           (double)o.chain_ledger.bytes_to_host * 1e-6,
           (unsigned long long)o.chain_ledger.kernel_launches);
    return 1;
}
