/* The interval set behind the wrap registry, against a brute-force list:
 * random intervals (empty ones, shared starts, nested and disjoint) added
 * and removed in random order, every overlap query answered alike. */
#include "common.h"
#include "../src/core/interval_set.h"

enum { MAX_LIVE = 600, SPACE = 4000 };

typedef struct brute {
    uintptr_t lo[MAX_LIVE], hi[MAX_LIVE];
    int item[MAX_LIVE];
    size_t n;
} brute;

static int items[MAX_LIVE * 4]; /* distinct addresses as items */

typedef struct seen {
    unsigned char hit[MAX_LIVE * 4];
    size_t count, stop_after;
    uintptr_t last_lo;
    int ordered;
} seen;

static int note(void *item, void *arg)
{
    seen *s = arg;
    size_t k = (size_t)((int *)item - items);
    s->hit[k]++;
    s->count++;
    return s->stop_after && s->count == s->stop_after;
}

static uint64_t next(uint64_t *z)
{
    *z ^= *z << 13, *z ^= *z >> 7, *z ^= *z << 17;
    return *z;
}

static void check_query(const weft_interval_set *set, const brute *b, uintptr_t lo, uintptr_t hi)
{
    seen s = {0};
    assert_int_equal(weft_interval_visit(set, lo, hi, note, &s), 0);
    size_t want = 0;
    for (size_t k = 0; k < b->n; k++) {
        int overlaps = b->lo[k] < hi && lo < b->hi[k];
        want += overlaps;
        assert_int_equal(s.hit[b->item[k]], overlaps);
    }
    assert_int_equal(s.count, want);
    if (want > 1) { /* a visit that asks to stop, stops */
        seen first = {.stop_after = 1};
        assert_int_equal(weft_interval_visit(set, lo, hi, note, &first), 1);
        assert_int_equal(first.count, 1);
    }
}

static void test_overlaps_match_brute_force(void **state)
{
    (void)state;
    uint64_t z = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 4; round++) {
        weft_interval_set set = {0};
        brute b = {.n = 0};
        int next_item = 0;
        for (int step = 0; step < 3000; step++) {
            if (b.n < MAX_LIVE && (b.n == 0 || next(&z) % 3 != 0) && next_item < MAX_LIVE * 4) {
                uintptr_t lo = 1 + next(&z) % SPACE;
                if (b.n && next(&z) % 5 == 0) lo = b.lo[next(&z) % b.n]; /* a shared start */
                uintptr_t len = next(&z) % 4 == 0 ? 0 : next(&z) % (round ? 40 : SPACE);
                int it = next_item++;
                assert_int_equal(weft_interval_add(&set, lo, lo + len, &items[it]), 1);
                b.lo[b.n] = lo, b.hi[b.n] = lo + len, b.item[b.n] = it, b.n++;
            } else {
                size_t k = next(&z) % b.n;
                weft_interval_remove(&set, b.lo[k], &items[b.item[k]]);
                b.n--;
                b.lo[k] = b.lo[b.n], b.hi[k] = b.hi[b.n], b.item[k] = b.item[b.n];
            }
            uintptr_t lo = next(&z) % (SPACE + 50);
            uintptr_t len = next(&z) % 3 == 0 ? 0 : next(&z) % 200;
            check_query(&set, &b, lo, lo + len);
        }
        check_query(&set, &b, 0, UINTPTR_MAX);
        while (b.n) { /* removing what is not there changes nothing */
            b.n--;
            weft_interval_remove(&set, b.lo[b.n] + 1, &items[b.item[b.n]]);
            weft_interval_remove(&set, b.lo[b.n], &items[b.item[b.n]]);
            check_query(&set, &b, 0, UINTPTR_MAX);
        }
        assert_null(set.root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlaps_match_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
