#include "../dev/device.h"
#include "partition.h"

#include <math.h>
#include <stdlib.h>

/* A weight as a fraction of the largest, so that the total cannot overflow
 * (it is at most the count) and DBL_MAX against DBL_MAX splits evenly. NaN
 * and negative weights take nothing; infinite ones (never given: contexts
 * refuse them) share what finite ones would. */
static double scaled(double w, double largest)
{
    if (!(w > 0)) return 0;
    if (isinf(largest)) return isinf(w) ? 1 : 0;
    return w / largest;
}

void weft_split_units(size_t units, const double *weights, size_t count, size_t *shares)
{
    double largest = 0, total = 0;
    for (size_t i = 0; i < count; i++)
        if (weights[i] > largest) largest = weights[i];
    for (size_t i = 0; i < count; i++)
        total += scaled(weights[i], largest);
    if (total <= 0) { /* nobody takes a share: the caller runs it elsewhere */
        for (size_t i = 0; i < count; i++)
            shares[i] = 0;
        return;
    }
    size_t given = 0;
    for (size_t i = 0; i < count; i++) {
        shares[i] = (size_t)floor((double)units * (scaled(weights[i], largest) / total));
        given += shares[i];
    }
    /* Hand out what rounding left (less than one unit per weight, so at most
     * count rounds), one unit at a time, to the largest remainders; ties go
     * to the lower index so the split is deterministic. */
    while (given < units) {
        size_t best = 0;
        double best_rem = -1;
        for (size_t i = 0; i < count; i++) {
            double w = scaled(weights[i], largest);
            if (w <= 0) continue;
            double exact = (double)units * (w / total);
            double rem = exact - (double)shares[i];
            if (rem > best_rem) {
                best_rem = rem;
                best = i;
            }
        }
        shares[best]++;
        given++;
    }
}

size_t weft_partition(weft_ctx *ctx, size_t n, weft_span *spans)
{
    if (n == 0 || (ctx->small_elements > 0 && (int64_t)n < ctx->small_elements)) {
        spans[0] = (weft_span){0, 0, n};
        return 1;
    }
    double *weights = calloc(ctx->ndevices, sizeof *weights);
    size_t *shares = calloc(ctx->ndevices, sizeof *shares);
    if (!weights || !shares) { /* degrade to the host rather than fail */
        free(weights);
        free(shares);
        spans[0] = (weft_span){0, 0, n};
        return 1;
    }
    for (size_t d = 0; d < ctx->ndevices; d++)
        weights[d] = ctx->devices[d].info.selected ? ctx->devices[d].info.weight : 0;
    size_t units = (n + WEFT_GRANULE - 1) / WEFT_GRANULE;
    weft_split_units(units, weights, ctx->ndevices, shares);
    size_t count = 0, begin = 0;
    for (size_t d = 0; d < ctx->ndevices; d++) {
        if (shares[d] == 0) continue;
        size_t end = begin + shares[d] * WEFT_GRANULE;
        if (end > n) end = n;
        spans[count++] = (weft_span){d, begin, end};
        begin = end;
    }
    free(weights);
    free(shares);
    if (count == 0) spans[count++] = (weft_span){0, 0, n};
    return count;
}
