/* The received runs of the sample sort, one per source rank and each sorted,
 * merged into one: pairs of neighbouring runs at a time, equal keys from the
 * left (lower) run first, so equal keys stay in source-rank order and, inside
 * a run, in the source's order: the global input order. Serial, O(n log p),
 * where a second radix sort would read and write every element once per key
 * byte. */
#include "dist_sort_keys.h"
#include "dist_sort_merge.h"

typedef struct merge_bufs {
    weft_dtype t;
    int desc;
    size_t ks, vs;     /* key and value sizes (vs 0: no values) */
    const char *k, *v; /* from */
    char *tk, *tv;     /* to */
} merge_bufs;

static void copy_range(const merge_bufs *b, size_t to, size_t from, size_t count)
{
    memcpy(b->tk + to * b->ks, b->k + from * b->ks, count * b->ks);
    if (b->vs) memcpy(b->tv + to * b->vs, b->v + from * b->vs, count * b->vs);
}

static uint64_t key_at(const merge_bufs *b, size_t i)
{
    return weft_sort_ordered(b->k + i * b->ks, b->t, b->desc);
}

/* The merge loop for one key dtype t, which the switch below makes a
 * constant: the key's order and size fold into the loop, and the choice of
 * run is a select, not a branch the data decides. */
static inline __attribute__((always_inline)) void merge_loop(const merge_bufs *b, weft_dtype t,
                                                             size_t *pi, size_t mid, size_t *pj,
                                                             size_t hi, size_t *po)
{
    const size_t ks = weft_sort_key_size(t), vs = b->vs;
    size_t i = *pi, j = *pj, o = *po;
    while (i < mid && j < hi) {
        uint64_t left = weft_sort_ordered(b->k + i * ks, t, b->desc);
        uint64_t right = weft_sort_ordered(b->k + j * ks, t, b->desc);
        size_t take_right = right < left; /* a tie takes the left */
        size_t from = take_right ? j : i;
        memcpy(b->tk + o * ks, b->k + from * ks, ks);
        if (vs) memcpy(b->tv + o * vs, b->v + from * vs, vs);
        o++;
        j += take_right;
        i += 1 - take_right;
    }
    *pi = i;
    *pj = j;
    *po = o;
}

/* [lo, mid) and [mid, hi) of the source into [lo, hi) of the destination. */
static void merge_two(const merge_bufs *b, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, o = lo;
    if (i < mid && j < hi && key_at(b, j) < key_at(b, mid - 1)) {
        switch (b->t) {
        case WEFT_F32:
            merge_loop(b, WEFT_F32, &i, mid, &j, hi, &o);
            break;
        case WEFT_F64:
            merge_loop(b, WEFT_F64, &i, mid, &j, hi, &o);
            break;
        case WEFT_I32:
            merge_loop(b, WEFT_I32, &i, mid, &j, hi, &o);
            break;
        case WEFT_U32:
            merge_loop(b, WEFT_U32, &i, mid, &j, hi, &o);
            break;
        case WEFT_I64:
            merge_loop(b, WEFT_I64, &i, mid, &j, hi, &o);
            break;
        case WEFT_U64:
            merge_loop(b, WEFT_U64, &i, mid, &j, hi, &o);
            break;
        default:
            merge_loop(b, WEFT_U8, &i, mid, &j, hi, &o);
            break;
        }
    }
    /* What is left of one run (all of both when they were in order). */
    copy_range(b, o, i, mid - i);
    o += mid - i;
    copy_range(b, o, j, hi - j);
}

int weft_sort_merge_runs(weft_dtype t, int desc, void *kbuf, void *tk, size_t vsize, void *vbuf,
                         void *tv, size_t *starts, int nruns)
{
    /* Empty runs merge with nothing: leave them out. */
    size_t end = starts[nruns];
    int runs = 0;
    for (int q = 0; q < nruns; q++)
        if (starts[q] < starts[q + 1]) starts[runs++] = starts[q];
    starts[runs] = end;
    merge_bufs b = {t, desc, weft_sort_key_size(t), vbuf ? vsize : 0, kbuf, vbuf, tk, tv};
    int in_scratch = 0;
    while (runs > 1) {
        int next = 0;
        for (int q = 0; q < runs; q += 2) {
            if (q + 1 < runs)
                merge_two(&b, starts[q], starts[q + 1], starts[q + 2]);
            else
                copy_range(&b, starts[q], starts[q], starts[q + 1] - starts[q]);
            starts[next++] = starts[q];
        }
        starts[next] = end;
        runs = next;
        /* The other way round for the next pass. */
        const char *k = b.k, *v = b.v;
        b.k = b.tk;
        b.v = b.tv;
        b.tk = (char *)k;
        b.tv = (char *)v;
        in_scratch = !in_scratch;
    }
    return in_scratch;
}
