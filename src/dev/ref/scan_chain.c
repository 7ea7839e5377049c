/* The scan in one pass over x, when the pool runs all of it: chunks of
 * CHAIN_BLOCKS blocks are handed out in index order; each folds its blocks'
 * sub-totals while x is read into cache, the carries are folded in index
 * order as the sub-totals come in (decoupled look-back, without the
 * look-back: float carries must be folded in order to keep their bits), and
 * the chunk rescans its blocks from cache. The carries are the two-pass
 * scan's, folded in the same order, so are the bits. */
#define _POSIX_C_SOURCE 200809L
#include "scan_host.h"

#include "../../core/clock.h"
#include "../../core/error.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { CHAIN_BLOCKS = 4 };

/* How long a chunk waits for the carries of the chunks before it. */
#define WAIT_SECONDS 20e-6

/* Chunk states: sub-totals in, carries out, y written. */
enum { FOLDED = 1, CARRIED = 2 };

typedef struct chain_job {
    scan_job j; /* subtotals and carries: 16 per block, shared */
    size_t chunks, blocks;
    _Atomic unsigned char *state; /* per chunk */
    unsigned char *done;          /* per chunk: y written */
    atomic_flag carrying;         /* held by the one thread folding carries */
    atomic_size_t frontier;       /* chunks before it have their carries */
    uint64_t carry;               /* into chunk `frontier` (under `carrying`) */
    unsigned long generation;     /* tells this scan's kept chunks from another's */
    atomic_int deferred;          /* a chunk was left to the second sweep */
} chain_job;

static size_t chunk_blocks(const chain_job *c, size_t chunk)
{
    size_t first = chunk * CHAIN_BLOCKS;
    return c->blocks - first < CHAIN_BLOCKS ? c->blocks - first : CHAIN_BLOCKS;
}

/* Folds the carries of every chunk whose sub-totals are in, in index order,
 * from the frontier on. One thread at a time; one that finds another at it
 * leaves the chunk it just added to it. After letting go, the chunk at the
 * frontier is looked at again: its sub-totals may have come in meanwhile,
 * from a thread that found this one at it. */
static void carry_forward(chain_job *c)
{
    const scan_job *j = &c->j;
    for (;;) {
        if (atomic_flag_test_and_set(&c->carrying)) return;
        size_t f = atomic_load(&c->frontier);
        while (f < c->chunks && atomic_load(&c->state[f]) == FOLDED) {
            size_t b = f * CHAIN_BLOCKS;
            c->carry =
                weft_scan_carries_from(j->op, j->t, j->subtotals + b * SUBS, chunk_blocks(c, f),
                                       (uint64_t *)j->carries + b * SUBS, c->carry);
            atomic_store(&c->state[f], CARRIED);
            atomic_store(&c->frontier, ++f);
        }
        atomic_flag_clear(&c->carrying);
        if (f >= c->chunks || atomic_load(&c->state[f]) != FOLDED) return;
    }
}

static void apply_chunk(chain_job *c, size_t chunk)
{
    const scan_job *j = &c->j;
    size_t first = chunk * CHAIN_BLOCKS, end = first + chunk_blocks(c, chunk);
    for (size_t b = first; b < end; b++)
        weft_scan_apply_block(j, b, j->carries + b * SUBS);
    if (j->stream) weft_scan_stream_fence();
    c->done[chunk] = 1;
}

/* The chunks this thread left for later, in the scan `generation`: applied
 * as soon as their carries come, while their x may still be in cache. */
enum { KEPT = 8 };
static _Thread_local struct {
    unsigned long generation;
    size_t n, chunks[KEPT];
} kept;
static atomic_ulong generations;

static void apply_kept(chain_job *c)
{
    size_t frontier = atomic_load_explicit(&c->frontier, memory_order_acquire), left = 0;
    for (size_t i = 0; i < kept.n; i++)
        if (kept.chunks[i] < frontier)
            apply_chunk(c, kept.chunks[i]);
        else
            kept.chunks[left++] = kept.chunks[i];
    kept.n = left;
}

/* A chunk: sub-totals (x comes into cache), its carries once the chunks
 * before it have theirs, then y from cache. The wait is short while every
 * thread runs; a thread the system has paused would hold all the others up,
 * so past WAIT_SECONDS the chunk is kept for later (this thread's next
 * chunks, or else the second sweep, which reads its x again). */
static void chain_range(void *arg, size_t first, size_t end)
{
    chain_job *c = arg;
    const scan_job *j = &c->j;
    if (kept.generation != c->generation) kept.generation = c->generation, kept.n = 0;
    uint64_t start[SUBS];
    for (int s = 0; s < SUBS; s++)
        start[s] = weft_scan_identity(j->op, j->t);
    for (size_t b = first; b < end; b++)
        weft_scan_block(j, b, start, j->subtotals + b * SUBS, NULL);
    size_t chunk = first / CHAIN_BLOCKS;
    atomic_store(&c->state[chunk], FOLDED);
    carry_forward(c);
    double until = 0;
    for (unsigned spins = 0; atomic_load_explicit(&c->frontier, memory_order_acquire) <= chunk;
         spins++) {
        if (spins % 64 != 63) continue;
        double now = weft_now();
        if (until == 0) until = now + WAIT_SECONDS;
        if (now <= until) continue;
        if (kept.n < KEPT) {
            kept.chunks[kept.n++] = chunk;
            atomic_store(&c->deferred, 1);
            apply_kept(c);
            return;
        }
        sched_yield(); /* nothing left to do: the thread that holds us up may need the core */
    }
    apply_chunk(c, chunk);
    apply_kept(c);
}

static void sweep_range(void *arg, size_t first, size_t end)
{
    chain_job *c = arg;
    for (size_t chunk = first; chunk < end; chunk++)
        if (!c->done[chunk]) apply_chunk(c, chunk);
}

weft_status weft_ref_scan(const weft_prim_threads *threads, weft_reduce_op op, weft_dtype dtype,
                          int exclusive, weft_view x, weft_view y, size_t n, uint64_t *subtotals,
                          uint64_t *carries)
{
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    chain_job c = {.j = {op, dtype, exclusive, x.host, y.host, n, subtotals, carries,
                         weft_scan_streams(dtype, n)},
                   .chunks = (blocks + CHAIN_BLOCKS - 1) / CHAIN_BLOCKS,
                   .blocks = blocks,
                   .carrying = ATOMIC_FLAG_INIT,
                   .carry = weft_scan_identity(op, dtype),
                   .generation = atomic_fetch_add(&generations, 1) + 1};
    unsigned char *states = calloc(2 * c.chunks + 1, 1);
    RETURN_IF(!states, WEFT_ERR_NOMEM, "weft_scan: cannot allocate the state of %zu chunks",
              c.chunks);
    c.state = (_Atomic unsigned char *)states;
    c.done = states + c.chunks;
    atomic_init(&c.frontier, 0);
    atomic_init(&c.deferred, 0);
    int width = n < threads->min_elements ? 1 : 0;
    threads->parallel_for(threads->pool, blocks, CHAIN_BLOCKS, width, chain_range, &c);
    if (atomic_load(&c.deferred)) {
        carry_forward(&c); /* every chunk's sub-totals are in by now */
        threads->parallel_for(threads->pool, c.chunks, 1, width, sweep_range, &c);
    }
    free(states);
    return WEFT_OK;
}
