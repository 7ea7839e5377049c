/* The values a checked split reads outside its rows on a copying device
 * (launch_check.c): each element of an array passed by rows is replaced by
 * its poison there, so that a piece reading outside its rows gives another
 * answer than one device, and a write there leaves no poison behind.
 *
 * One pass of small changes (WEFT_POISON_NEAR) misses a read that only feeds
 * a comparison: odd-even sort's boundary pair keeps its order when a key
 * moves by 2. So arrays of numbers are checked in two passes: every element
 * above the array's largest (WEFT_POISON_ABOVE), then every element below
 * its least (WEFT_POISON_BELOW). An ordering comparison (<, >, <=, >=) with
 * a value read across the split comes out one way in one pass and the other
 * way in the other, so one of them differs from one device. An equality
 * test has passes of its own (weft_poison_edges). Both stay near the array's own values
 * (an integer index read from them is at most one past the largest index there, or one below the
 * least), and NaNs stay NaNs. An unsigned array whose least is 0 has no room below: its second pass
 * is at 0. Bytes that are numbers (char, uchar, bool parameters) take the two passes in their
 * type's order; records (bytes of a struct) are left as they are: a change to every byte makes a
 * record's index field wild, and their checks are never conclusive. */
#ifndef WEFT_LAUNCH_POISON_H
#define WEFT_LAUNCH_POISON_H

#include "../core/values.h"

#include <stddef.h>

typedef enum weft_poison_pass {
    WEFT_POISON_NEAR,  /* integers with bit 1 flipped, floats doubled or halved */
    WEFT_POISON_ABOVE, /* above every element */
    WEFT_POISON_BELOW, /* below the least element (at it where there is no room) */
    WEFT_POISON_KEEP   /* records: left as they are (a wild index field crashed the check) */
} weft_poison_pass;

typedef struct weft_poison {
    weft_poison_pass pass; /* NEAR where the asked one cannot be made */
    /* 0 where an ordering comparison with a value read across the split may
     * come out the same in both passes: records (KEEP), NEAR (no room above
     * the largest: +inf, INT_MAX, 255), all NaN, or no room below a least
     * that two elements or more hold (zeros of unsigned keys); 1 otherwise. */
    int strict;
    weft_dtype dtype;
    size_t elem_size;
    weft_acc64 value; /* ABOVE, BELOW: every element's poison (NaNs apart) */
} weft_poison;

/* What the bytes of a u8 array are to the kernel: records (structs of
 * mixed fields, poisoned a little: NEAR), or numbers its parameter type
 * orders (uchar, char). */
typedef enum weft_poison_bytes {
    WEFT_BYTES_RECORDS,
    WEFT_BYTES_UNSIGNED,
    WEFT_BYTES_SIGNED
} weft_poison_bytes;

/* The passes a check runs for an array of dtype t: 2 (ABOVE, BELOW) for
 * numbers, 1 (NEAR) for records. */
int weft_poison_passes(weft_dtype t, weft_poison_bytes bytes);
/* The poison of pass (0 or 1 of weft_poison_passes) for an array whose
 * contents are saved[0..n); bytes: what a u8 array holds. */
weft_poison weft_poison_for(const unsigned char *saved, size_t n, weft_dtype t, size_t elem_size,
                            weft_poison_bytes bytes, int pass);
/* The edge passes, which see an equality test (key[i] != key[i - 1]) that
 * both ordered passes pass by, every poison differing from a key as the
 * real neighbour does: outside the rows a device reads, its copy holds
 * values of the nearest rows it owns, so a neighbour read across the split
 * equals the piece's own edge where the real one differs. Two kinds, as a
 * kernel may compare across the split in the same column (label[y][x] ==
 * label[y - 1][x], x > 0) or in another (an 8-connected neighbour, two keys
 * per work-item): ROWS copies the element in the same column of the nearest
 * own row, ELEMENTS the nearest own element (the first own element below
 * the piece, the last above it). From the rows a piece owns, not its halo:
 * a read past the halo must meet the piece's edge. The values are the
 * array's own, so an index read from them is one it holds. */
typedef enum weft_edge_kind {
    WEFT_EDGE_ROWS,
    WEFT_EDGE_ELEMENTS,
    /* Where a piece reads a halo: the same column of the nearest row it
     * reads, its halo's, which a read past the halo compared with the halo
     * (key[i - 1] != key[i - 2] with a halo of 1) meets. */
    WEFT_EDGE_HALO_ROWS
} weft_edge_kind;

/* A piece's elements: those it reads (with its halo) and those it owns. */
typedef struct weft_edge_range {
    size_t read_begin, read_end, own_begin, own_end;
} weft_edge_range;

/* out = real, except every element outside the ranges' read elements
 * (nranges of them, in order, overlaps allowed), which takes the value of
 * kind of the nearer range; rows are inner elements long. */
void weft_poison_edges(unsigned char *out, const unsigned char *real, size_t n, size_t elem_size,
                       size_t inner, const weft_edge_range *ranges, size_t nranges,
                       weft_edge_kind kind);

/* out[i] = the poison of real[i], for n elements. */
void weft_poison_fill(const weft_poison *p, unsigned char *out, const unsigned char *real,
                      size_t n);
/* 1 when now holds the poison of real (one element). */
int weft_poison_is(const weft_poison *p, const unsigned char *now, const unsigned char *real);

#endif
