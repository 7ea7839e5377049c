/* The dialect's na_values as a hash set: each parsed field is looked up in
 * constant time, whatever the list's length (a linear scan made 1,000 values
 * cost 20x the parse of a 31 MB file). */
#ifndef WEFT_CSV_NA_SET_H
#define WEFT_CSV_NA_SET_H

#include "weft.h"

#include <stddef.h>
#include <stdint.h>

typedef struct csv_na_entry {
    size_t offset; /* into bytes */
    size_t len;
} csv_na_entry;

typedef struct csv_na_set {
    char *bytes;           /* the values, end to end */
    csv_na_entry *entries; /* distinct values */
    uint32_t *slots;       /* open addressing: 0 empty, else 1 + an entry's index */
    size_t nentries, mask;
    uint64_t lengths; /* bit L: a value of L bytes (bit 63: 63 or more) */
} csv_na_set;

/* From values[0, n) (none NULL; duplicates are kept once). An empty set
 * (n == 0) allocates nothing. Free with csv_na_set_free. */
weft_status csv_na_set_init(csv_na_set *s, const char *const *values, size_t n);
void csv_na_set_free(csv_na_set *s);

/* 1 when [b, b + n) is one of the values, byte for byte. */
int csv_na_set_has(const csv_na_set *s, const char *b, size_t n);

/* The slot a value's probe starts at: for tests that need values sharing it. */
size_t csv_na_set_home(const csv_na_set *s, const char *b, size_t n);

#endif
