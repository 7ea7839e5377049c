#include "pieces.h"
#include "../core/ctx.h"
#include "../dev/device.h"
#include "../core/error.h"
#include "../mem/device_work.h"
#include "../mem/residency.h"

#include <stdlib.h>
#include <string.h>

/* The elements of array i that a piece covers. */
static void elements(const weft_piece_run *run, size_t i, const weft_piece *p, size_t *begin,
                     size_t *end)
{
    if (run->whole & (1u << i)) {
        *begin = 0;
        *end = run->arrays[i]->n;
        return;
    }
    *begin = p->begin * run->scale[i];
    *end = run->nunits && p->end >= run->nunits ? run->arrays[i]->n : p->end * run->scale[i];
    if (*begin > *end) *begin = *end;
}

static weft_status wrote(const weft_piece_run *run, const weft_piece *p, size_t dev)
{
    for (size_t i = 0; i < run->narrays; i++) {
        if (!(run->writes & (1u << i))) continue;
        size_t begin, end;
        elements(run, i, p, &begin, &end);
        RETURN_ON_ERROR(weft_mem_wrote(run->arrays[i], dev, begin, end));
    }
    return WEFT_OK;
}

/* What dev's work on the run's arrays reads (reading: what its pieces made
 * current there, or NULL: all), for the accounting of mem/device_work.c. */
static weft_mem_device_work device_work(const weft_piece_run *run, size_t dev,
                                        const weft_mem_span *reading)
{
    return (weft_mem_device_work){run->arrays, run->narrays, run->reads, dev, reading};
}

/* The piece's device failed after its work may have run: its copies of what
 * the piece writes are lost. The host can redo the piece only if no array it
 * both reads and writes was written in the host's own storage (zero-copy);
 * every other input is re-read from wherever it is still current. */
static weft_piece_state lose(const weft_piece_run *run, const weft_piece *p)
{
    weft_mem_span writing[WEFT_OP_MAX_ARRAYS] = {{0, 0}};
    for (size_t i = 0; i < run->narrays; i++)
        if (run->writes & (1u << i)) elements(run, i, p, &writing[i].begin, &writing[i].end);
    weft_mem_device_work work = device_work(run, p->device, NULL);
    return weft_mem_device_failed(&work, writing) & run->reads ? PIECE_FAILED_LATE
                                                               : PIECE_FAILED_EARLY;
}

static void settle(const weft_piece_run *run, weft_piece *p)
{
    if (run->done) run->done(run->self, p);
}

static weft_status run_on_host(const weft_piece_run *run, weft_piece *p)
{
    weft_stat_add(run->ctx, WEFT_STAT_TASKS, 1);
    RETURN_ON_ERROR(run->run_host(run->self, p));
    return wrote(run, p, 0);
}

/* The failed copies into dev so far of the arrays the pieces read. */
static unsigned read_failures(const weft_piece_run *run, size_t dev)
{
    weft_mem_device_work work = device_work(run, dev, NULL);
    return weft_mem_copy_mark(&work);
}

/* The failed copies into dev before its pieces' inputs were copied: the
 * lowest mark of its pieces. */
static unsigned copy_mark(const weft_piece_run *run, size_t dev)
{
    unsigned mark = 0;
    int first = 1;
    for (size_t k = 0; k < run->npieces; k++) {
        const weft_piece *p = &run->pieces[k];
        if (p->device != dev) continue;
        if (first || p->copy_mark < mark) mark = p->copy_mark;
        first = 0;
    }
    return mark;
}

/* Records in wait what dev reads and writes of each array (reads: what its
 * pieces made current there; writes: the hull of its pieces' elements), in
 * the op's own array order (the run may name a subset), and the mark its
 * copies are checked against. */
static void note_access(const weft_piece_run *run, size_t dev, const weft_mem_span *reading,
                        weft_op_wait *wait)
{
    wait->copy_mark = copy_mark(run, dev);
    for (size_t i = 0; i < run->narrays; i++) {
        for (size_t j = 0; j < run->op->narrays; j++)
            if (run->op->arrays[j] == run->arrays[i] && (run->reads & (1u << i))) {
                wait->reads |= 1u << j;
                weft_mem_span_widen(&wait->reading[j], reading[i]);
            }
        if (!(run->writes & (1u << i))) continue;
        for (size_t j = 0; j < run->op->narrays; j++) {
            if (run->op->arrays[j] != run->arrays[i]) continue;
            for (size_t k = 0; k < run->npieces; k++) {
                const weft_piece *p = &run->pieces[k];
                if (p->device != dev || p->state != PIECE_PENDING) continue;
                weft_mem_span piece;
                elements(run, i, p, &piece.begin, &piece.end);
                weft_mem_span_widen(&wait->writing[j], piece);
            }
        }
    }
}

/* 1 when a piece still waits on dev's work: the device did not refuse it. */
static int pending_on(const weft_piece_run *run, size_t dev)
{
    for (size_t k = 0; k < run->npieces; k++)
        if (run->pieces[k].device == dev && run->pieces[k].state == PIECE_PENDING) return 1;
    return 0;
}

/* An asynchronous operation leaves dev's work running: the stream's completer
 * waits for a marker, and the pieces' writes are current there from now on
 * (later work on the same queue runs after them; anyone else waits for the
 * marker, which residency keeps for the arrays that dev uses in place). */
static weft_status leave_running(const weft_piece_run *run, weft_device *dev,
                                 const weft_mem_span *reading)
{
    weft_op *op = run->op;
    size_t before = op->nwaits;
    if (!pending_on(run, dev->index)) return WEFT_OK; /* refused: none of its work is ours */
    RETURN_ON_ERROR(weft_op_wait_for(op, dev, run->ctx->ndevices));
    if (op->nwaits > before) { /* else the device had nothing left to do */
        note_access(run, dev->index, reading, &op->waits[before]);
        for (size_t i = 0; i < run->narrays; i++)
            weft_mem_busy(run->arrays[i], dev->index, op->waits[before].event);
    }
    for (size_t k = 0; k < run->npieces; k++) {
        weft_piece *p = &run->pieces[k];
        if (p->device != dev->index || p->state != PIECE_PENDING) continue;
        p->state = PIECE_DONE;
        RETURN_ON_ERROR(wrote(run, p, dev->index));
    }
    return WEFT_OK;
}

/* Waits for dev; a failure condemns every piece it was running. */
static weft_status finish_device(const weft_piece_run *run, weft_device *dev,
                                 const weft_mem_span *reading)
{
    weft_mem_device_work work = device_work(run, dev->index, reading);
    int ok = dev->ops.finish(dev) == WEFT_OK &&
             weft_mem_check_copies(&work, copy_mark(run, dev->index)) == WEFT_OK;
    if (!ok) {
        weft_log(&run->ctx->log, WEFT_LOG_WARN,
                 "device %zu failed on %s: %s; rerunning its pieces on the host pool", dev->index,
                 run->what, weft_last_error());
        weft_mem_device_failed(&work, NULL); /* lose() adds what each piece wrote */
    }
    for (size_t k = 0; k < run->npieces; k++) {
        weft_piece *p = &run->pieces[k];
        if (p->device != dev->index || p->state != PIECE_PENDING) continue;
        if (ok) {
            p->state = PIECE_DONE;
            RETURN_ON_ERROR(wrote(run, p, dev->index));
        } else {
            p->state = lose(run, p);
        }
        settle(run, p);
    }
    return WEFT_OK;
}

static int device_used(const weft_piece_run *run, size_t dev)
{
    for (size_t k = 0; k < run->npieces; k++)
        if (run->pieces[k].device == dev) return 1;
    return 0;
}

static weft_status rerun(const weft_piece_run *run, weft_piece *p)
{
    RETURN_IF(p->state == PIECE_FAILED_LATE, WEFT_ERR_DEVICE,
              "device %zu failed after %s may have updated %s [%zu, %zu) in place; their "
              "previous values are gone, so the host cannot redo them",
              p->device, run->what, run->units, p->begin, p->end);
    weft_stat_add(run->ctx, WEFT_STAT_RERUNS, 1);
    weft_status st = run_on_host(run, p);
    RETURN_IF(st != WEFT_OK, WEFT_ERR_DEVICE,
              "device %zu failed on %s, and rerunning %s [%zu, %zu) on the host pool failed too: "
              "%s",
              p->device, run->what, run->units, p->begin, p->end, weft_last_error());
    return WEFT_OK; /* its state still says what its device did, for the report */
}

/* In the operation's units; adjacent pieces of one device and fate read as one. */
static void report(const weft_piece_run *run)
{
    weft_piece_report small[8], *reports = small;
    if (run->npieces > 8 && !(reports = malloc(run->npieces * sizeof *reports))) return;
    size_t count = 0;
    for (size_t k = 0; k < run->npieces; k++) {
        const weft_piece *p = &run->pieces[k];
        int fell_back = p->device != 0 && p->state != PIECE_DONE;
        weft_piece_report *last = count ? &reports[count - 1] : NULL;
        if (last && last->device == p->device && last->fell_back == fell_back &&
            last->end == p->begin) {
            last->end = p->end;
            continue;
        }
        reports[count++] = (weft_piece_report){p->device, p->begin, p->end, fell_back};
    }
    weft_ctx_set_pieces(run->ctx, reports, count);
    if (reports != small) free(reports);
}

/* Even a refused piece may have queued work: its device is waited for
 * either way. */
static void refused(const weft_piece_run *run, weft_piece *p)
{
    p->state = PIECE_FAILED_EARLY;
    weft_log(&run->ctx->log, WEFT_LOG_WARN,
             "device %zu failed on %s, %s [%zu, %zu): %s; rerunning on the host pool", p->device,
             run->what, run->units, p->begin, p->end, weft_last_error());
}

/* Calls prepare or enqueue for a device piece, noting in reading (per
 * device, then per array) what it makes current there: what a failed copy
 * blames it for. */
static weft_status logged(const weft_piece_run *run, weft_piece *p, weft_mem_span *reading,
                          weft_status (*step)(void *self, weft_piece *piece))
{
    weft_mem_log_reads(run->arrays, run->narrays, p->device, &reading[p->device * run->narrays]);
    weft_status st = step(run->self, p);
    weft_mem_log_reads(NULL, 0, 0, NULL);
    return st;
}

weft_status weft_pieces_run(const weft_piece_run *run)
{
    weft_ctx *ctx = run->ctx;
    weft_status st = WEFT_OK;
    weft_mem_span small[4 * WEFT_OP_MAX_ARRAYS], *reading = small;
    size_t spans = ctx->ndevices * run->narrays;
    if (spans > sizeof small / sizeof *small && !(reading = malloc(spans * sizeof *reading)))
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate the pieces' read ranges");
    memset(reading, 0, spans * sizeof *reading);
    /* 1. Every device piece first, so devices work while the host does:
     * inputs everywhere, then the work. */
    size_t on_devices = 0;
    for (size_t k = 0; k < run->npieces; k++) {
        weft_piece *p = &run->pieces[k];
        on_devices += p->device != 0;
        if (p->device != 0) p->copy_mark = read_failures(run, p->device);
    }
    for (size_t k = 0; k < run->npieces && on_devices > 1; k++) { /* enqueue prepares one */
        weft_piece *p = &run->pieces[k];
        if (p->device != 0 && logged(run, p, reading, run->prepare) != WEFT_OK) refused(run, p);
    }
    weft_stat_add(ctx, WEFT_STAT_TASKS, on_devices);
    for (size_t k = 0; k < run->npieces; k++) {
        weft_piece *p = &run->pieces[k];
        if (p->device == 0 || p->state != PIECE_PENDING) continue;
        if (logged(run, p, reading, run->enqueue) != WEFT_OK) refused(run, p);
    }
    /* 2. The host's own pieces. */
    char *host_failure = NULL;
    for (size_t k = 0; k < run->npieces && st == WEFT_OK; k++) {
        weft_piece *p = &run->pieces[k];
        if (p->device != 0) continue;
        if ((st = run_on_host(run, p)) == WEFT_OK) p->state = PIECE_DONE;
    }
    if (st != WEFT_OK) host_failure = strdup(weft_last_error());
    /* 3. Each device: left running for the completer, or waited for, even
     * after a host piece failed: the devices' pieces run all the same, and
     * residency must hear what they wrote before the caller goes on. */
    int async = !run->wait && run->op && weft_op_async(run->op);
    for (size_t d = 1; d < ctx->ndevices; d++) {
        if (!device_used(run, d)) continue;
        weft_device *dev = &ctx->devices[d];
        const weft_mem_span *read_there = &reading[d * run->narrays];
        if (async && leave_running(run, dev, read_there) == WEFT_OK) continue;
        weft_status finished = finish_device(run, dev, read_there);
        if (st == WEFT_OK) st = finished;
    }
    if (host_failure) weft_error_copy(host_failure);
    free(host_failure);
    if (st != WEFT_OK) goto error;
    /* 4. What the devices could not do. */
    for (size_t k = 0; k < run->npieces; k++) {
        weft_piece *p = &run->pieces[k];
        settle(run, p);
        if (p->state == PIECE_FAILED_EARLY || p->state == PIECE_FAILED_LATE)
            GOTO_ERROR_ON(rerun(run, p));
    }
    report(run);
error:
    for (size_t k = 0; k < run->npieces; k++)
        settle(run, &run->pieces[k]);
    if (reading != small) free(reading);
    return st;
}
