/* The stable merge of the sample sort's received runs (dist_sort_merge.c). */
#ifndef WEFT_MPI_DIST_SORT_MERGE_H
#define WEFT_MPI_DIST_SORT_MERGE_H

#include "weft.h"

#include <stddef.h>

/* Merges the sorted runs [starts[q], starts[q + 1]) (q < nruns) of keys at
 * kbuf (dtype t), with values of vsize bytes at vbuf (NULL: none), into one
 * sorted sequence, stably: equal keys from earlier runs first. tk and tv are
 * scratch as large; starts is overwritten. Returns 1 when the result is in
 * tk/tv, 0 when in kbuf/vbuf. */
int weft_sort_merge_runs(weft_dtype t, int desc, void *kbuf, void *tk, size_t vsize, void *vbuf,
                         void *tv, size_t *starts, int nruns);

#endif
