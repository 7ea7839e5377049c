/* Running an operation's pieces: the one split-fallback-rerun path that
 * built-in primitives (ops/dispatch.c) and user kernels (ops/launch.c) share.
 *
 * An operation hands over its pieces, each owned by a device (0: the host
 * pool), and two callbacks: enqueue a piece on its device, run a piece on the
 * host. This module enqueues every device piece first, so devices work while
 * the host runs its own; then, for each device used, either leaves its work
 * running for the stream's completer (an asynchronous operation) or waits for
 * it; a piece its device refused or failed is rerun on the host when its
 * inputs survived. Residency hears here of every write and of every loss a
 * piece's own work caused; the stream's completer (stream.c) tells it of
 * copies into a device that failed after the operation ran. */
#ifndef WEFT_PIECES_H
#define WEFT_PIECES_H

#include "stream.h"

typedef enum weft_piece_state {
    PIECE_PENDING,
    PIECE_DONE,
    PIECE_FAILED_EARLY, /* the device refused it before its work ran */
    PIECE_FAILED_LATE   /* the device failed after its work may have run */
} weft_piece_state;

typedef struct weft_piece {
    size_t device;     /* where it runs first; the host pool reruns it if that fails */
    size_t begin, end; /* in the operation's units (elements, or a launch's outer indices) */
    weft_piece_state state;
    void *event;        /* the device's completion of its work, when it keeps one (kernel times) */
    unsigned copy_mark; /* failed copies found before its inputs were copied (weft_mem_copy_mark) */
} weft_piece;

typedef struct weft_piece_run {
    weft_ctx *ctx;
    weft_op *op;               /* the operation: may leave device work running when asynchronous */
    weft_array *const *arrays; /* the operation's own list (op->arrays), not a copy */
    size_t narrays;
    /* Elements of arrays[i] per unit of a piece's range (1 for elements). */
    size_t scale[WEFT_OP_MAX_ARRAYS];
    unsigned reads, writes; /* bit i: the pieces read / write arrays[i] */
    unsigned whole; /* bit i: every piece covers all of arrays[i] (a kernel's whole argument) */
    weft_piece *pieces;
    size_t npieces;
    /* The units of the whole operation: a piece ending there covers its
     * arrays to their end, whether or not they divide into units evenly (a
     * launch run whole over a range rounded up past its arrays). */
    size_t nunits;
    /* Wait for every device before returning, even for an asynchronous
     * operation (a launch whose split is being checked). */
    int wait;
    const char *what;  /* for messages: "kernel heat", "weft_map" */
    const char *units; /* for messages: "elements", "outer indices" */
    void *self;        /* the operation's own state, passed to the callbacks */
    /* Makes the piece's inputs current on its device. Every device piece is
     * prepared before any is enqueued: a piece that reads rows another device
     * holds (a halo) must not queue behind that device's new work. */
    weft_status (*prepare)(void *self, weft_piece *piece);
    /* Makes the inputs current too (nothing moves when prepare did), then
     * enqueues the piece's work on its device. */
    weft_status (*enqueue)(void *self, weft_piece *piece);
    /* Makes the piece's inputs current on the host and runs it on the pool. */
    weft_status (*run_host)(void *self, weft_piece *piece);
    /* Optional: the piece is settled; release what its device kept for it. */
    void (*done)(void *self, weft_piece *piece);
} weft_piece_run;

/* Runs every piece; reports them (weft_ctx_set_pieces). */
weft_status weft_pieces_run(const weft_piece_run *run);

#endif
