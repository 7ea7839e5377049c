/* A set of byte strings with linear probing at most half full, so a lookup
 * that misses (most fields: they are numbers) ends within a probe or two;
 * the lengths present reject most fields before any hashing. */
#include "na_set.h"
#include "../core/error.h"

#include <stdlib.h>
#include <string.h>

/* Word at a time: fields are short, and a byte loop would cost as much as
 * the number parse it precedes. */
static uint64_t hash_bytes(const char *b, size_t n)
{
    const uint64_t k = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    for (; n >= 8; b += 8, n -= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    if (n) {
        w = 0;
        memcpy(&w, b, n);
        h = (h ^ w) * k;
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t length_bit(size_t n)
{
    return 1ull << (n < 63 ? n : 63);
}

size_t csv_na_set_home(const csv_na_set *s, const char *b, size_t n)
{
    return (size_t)hash_bytes(b, n) & s->mask;
}

/* The slot holding [b, b + n), or the empty slot where it would go. */
static size_t find_slot(const csv_na_set *s, const char *b, size_t n)
{
    size_t i = csv_na_set_home(s, b, n);
    for (;; i = (i + 1) & s->mask) {
        uint32_t at = s->slots[i];
        if (!at) return i;
        const csv_na_entry *e = &s->entries[at - 1];
        if (e->len == n && memcmp(s->bytes + e->offset, b, n) == 0) return i;
    }
}

int csv_na_set_has(const csv_na_set *s, const char *b, size_t n)
{
    if (!(s->lengths & length_bit(n))) return 0;
    return s->slots[find_slot(s, b, n)] != 0;
}

weft_status csv_na_set_init(csv_na_set *s, const char *const *values, size_t n)
{
    memset(s, 0, sizeof *s);
    if (n == 0) return WEFT_OK;
    RETURN_IF(n >= UINT32_MAX / 4, WEFT_ERR_INVALID_ARG, "csv: %zu na_values (at most %u)", n,
              UINT32_MAX / 4 - 1);
    size_t total = 0, cap = 8;
    for (size_t i = 0; i < n; i++)
        total += strlen(values[i]);
    while (cap < 2 * n)
        cap *= 2;
    weft_status st = WEFT_OK;
    s->bytes = malloc(total ? total : 1);
    s->entries = malloc(n * sizeof *s->entries);
    s->slots = calloc(cap, sizeof *s->slots);
    GOTO_ERROR_IF(!s->bytes || !s->entries || !s->slots, WEFT_ERR_NOMEM,
                  "csv: out of memory for %zu na_values", n);
    s->mask = cap - 1;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(values[i]);
        size_t slot = find_slot(s, values[i], len);
        if (s->slots[slot]) continue; /* listed twice */
        memcpy(s->bytes + used, values[i], len);
        s->entries[s->nentries] = (csv_na_entry){used, len};
        s->slots[slot] = (uint32_t)++s->nentries;
        s->lengths |= length_bit(len);
        used += len;
    }
    return WEFT_OK;
error:
    csv_na_set_free(s);
    return st;
}

void csv_na_set_free(csv_na_set *s)
{
    free(s->bytes);
    free(s->entries);
    free(s->slots);
    memset(s, 0, sizeof *s);
}
