#include "split.h"
#include "../mem/partition.h"

#include <stdint.h>
#include <stdlib.h>

static size_t capacity_of(const weft_split *s, size_t dev)
{
    size_t cap = s->capacity ? s->capacity(s->self, dev) : SIZE_MAX;
    return cap < s->granule ? s->granule : cap / s->granule * s->granule;
}

size_t weft_split_pieces(const weft_split *s, weft_piece *pieces)
{
    if (s->count == 0) return 0;
    if (s->first >= s->last) {
        if (pieces)
            pieces[0] = (weft_piece){.device = s->device[0], .begin = s->first, .end = s->first};
        return 1;
    }
    size_t granules = (s->last - s->first + s->granule - 1) / s->granule;
    size_t small[16], *shares = s->count <= 16 ? small : calloc(s->count, sizeof *shares);
    if (!shares) { /* no memory for the shares: one piece on the first candidate with one */
        size_t i = 0;
        while (i + 1 < s->count && s->share[i] <= 0)
            i++;
        if (s->share[i] <= 0) return 0;
        if (pieces)
            pieces[0] = (weft_piece){.device = s->device[i], .begin = s->first, .end = s->last};
        return 1;
    }
    weft_split_units(granules, s->share, s->count, shares);
    size_t count = 0, begin = s->first;
    for (size_t i = 0; i < s->count && begin < s->last; i++) {
        if (shares[i] == 0) continue;
        size_t end =
            shares[i] > (s->last - begin) / s->granule ? s->last : begin + shares[i] * s->granule;
        size_t cap = capacity_of(s, s->device[i]);
        while (begin < end) {
            size_t stop = end - begin > cap ? begin + cap : end;
            if (pieces)
                pieces[count] = (weft_piece){.device = s->device[i], .begin = begin, .end = stop};
            count++;
            begin = stop;
        }
    }
    if (shares != small) free(shares);
    return count;
}
