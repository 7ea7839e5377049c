#include "ranges.h"
#include "../core/error.h"

#include <stdlib.h>
#include <string.h>

void weft_ranges_free(weft_ranges *r)
{
    free(r->v);
    *r = (weft_ranges){0};
}

static weft_status reserve(weft_ranges *r, size_t need)
{
    if (need <= r->cap) return WEFT_OK;
    size_t cap = r->cap ? 2 * r->cap : 4;
    while (cap < need)
        cap *= 2;
    weft_interval *v = realloc(r->v, cap * sizeof *v);
    RETURN_IF(!v, WEFT_ERR_NOMEM, "cannot grow a range set to %zu intervals", cap);
    r->v = v;
    r->cap = cap;
    return WEFT_OK;
}

weft_status weft_ranges_add(weft_ranges *r, size_t begin, size_t end)
{
    if (begin >= end) return WEFT_OK;
    /* [first, last) are the intervals that touch or overlap [begin, end). */
    size_t first = 0;
    while (first < r->n && r->v[first].end < begin)
        first++;
    size_t last = first;
    while (last < r->n && r->v[last].begin <= end)
        last++;
    if (first < last) {
        if (r->v[first].begin < begin) begin = r->v[first].begin;
        if (r->v[last - 1].end > end) end = r->v[last - 1].end;
        r->v[first] = (weft_interval){begin, end};
        memmove(&r->v[first + 1], &r->v[last], (r->n - last) * sizeof *r->v);
        r->n -= last - first - 1;
        return WEFT_OK;
    }
    RETURN_ON_ERROR(reserve(r, r->n + 1));
    memmove(&r->v[first + 1], &r->v[first], (r->n - first) * sizeof *r->v);
    r->v[first] = (weft_interval){begin, end};
    r->n++;
    return WEFT_OK;
}

weft_status weft_ranges_remove(weft_ranges *r, size_t begin, size_t end)
{
    if (begin >= end) return WEFT_OK;
    for (size_t i = 0; i < r->n; i++) {
        weft_interval *iv = &r->v[i];
        if (iv->end <= begin || iv->begin >= end) continue;
        if (iv->begin < begin && iv->end > end) { /* split in two */
            RETURN_ON_ERROR(reserve(r, r->n + 1));
            iv = &r->v[i];
            memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
            r->n++;
            r->v[i].end = begin;
            r->v[i + 1].begin = end;
            return WEFT_OK;
        }
        if (iv->begin < begin) {
            iv->end = begin;
        } else if (iv->end > end) {
            iv->begin = end;
        } else { /* wholly inside: drop it */
            memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
            r->n--;
            i--;
        }
    }
    return WEFT_OK;
}

int weft_ranges_covers(const weft_ranges *r, size_t begin, size_t end)
{
    if (begin >= end) return 1;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].begin <= begin && r->v[i].end >= end) return 1;
    return 0;
}

int weft_ranges_first_gap(const weft_ranges *r, size_t begin, size_t end, size_t *gap_begin,
                          size_t *gap_end)
{
    size_t at = begin;
    for (size_t i = 0; i < r->n && at < end; i++) {
        if (r->v[i].end <= at) continue;
        if (r->v[i].begin > at) break;
        at = r->v[i].end;
    }
    if (at >= end) return 0;
    *gap_begin = at;
    *gap_end = end;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].begin > at && r->v[i].begin < *gap_end) *gap_end = r->v[i].begin;
    return 1;
}

int weft_ranges_first_hit(const weft_ranges *r, size_t begin, size_t end, size_t *hit_begin,
                          size_t *hit_end)
{
    for (size_t i = 0; i < r->n; i++) {
        size_t b = r->v[i].begin > begin ? r->v[i].begin : begin;
        size_t e = r->v[i].end < end ? r->v[i].end : end;
        if (b < e) {
            *hit_begin = b;
            *hit_end = e;
            return 1;
        }
    }
    return 0;
}
