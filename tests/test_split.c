/* Cutting a range into pieces (src/exec/split.c), against a plain reference
 * of its contract on random shares, granules and capacities: the pieces
 * tile the range in the candidates' order, begin on granules counted from
 * its start, fit their device's capacity, and give each candidate the whole
 * granules of its largest-remainder share. */
#include "common.h"
#include "../src/exec/split.h"
#include "../src/mem/partition.h"

#include <float.h>
#include <stdint.h>

enum { MAX_CAND = 6, MAX_PIECES = 4096 };

typedef struct caps {
    size_t cap[MAX_CAND];
} caps;

static size_t cap_of(const void *self, size_t dev)
{
    return ((const caps *)self)->cap[dev];
}

static uint64_t rng_state = 61;

static uint64_t next(void)
{
    return test_rng(&rng_state);
}

/* The reference: candidate i's units, in whole granules, before capacity cuts. */
static void expected_units(const weft_split *s, size_t *units)
{
    size_t granules = (s->last - s->first + s->granule - 1) / s->granule, shares[MAX_CAND];
    weft_split_units(granules, s->share, s->count, shares);
    size_t begin = s->first;
    for (size_t i = 0; i < s->count; i++) {
        size_t end = begin + shares[i] * s->granule;
        if (end > s->last) end = s->last;
        units[i] = end - begin;
        begin = end;
    }
}

static void check_split(const weft_split *s, const caps *c)
{
    static weft_piece pieces[MAX_PIECES];
    size_t count = weft_split_pieces(s, NULL);
    assert_true(count <= MAX_PIECES);
    assert_int_equal(weft_split_pieces(s, pieces), count);
    size_t units[MAX_CAND], got[MAX_CAND] = {0};
    expected_units(s, units);
    size_t at = s->first, cand = 0;
    for (size_t k = 0; k < count; k++) {
        const weft_piece *p = &pieces[k];
        assert_int_equal(p->begin, at);
        assert_true(p->end > p->begin);
        assert_int_equal((p->begin - s->first) % s->granule, 0);
        while (cand < s->count && s->device[cand] != p->device)
            cand++;
        assert_true(cand < s->count); /* candidates in order */
        size_t cap = c->cap[p->device] < s->granule ? s->granule
                                                    : c->cap[p->device] / s->granule * s->granule;
        assert_true(p->end - p->begin <= cap);
        got[cand] += p->end - p->begin;
        at = p->end;
    }
    assert_int_equal(at, s->last);
    for (size_t i = 0; i < s->count; i++)
        assert_int_equal(got[i], units[i]);
}

static void test_random_splits_keep_the_contract(void **state)
{
    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t devices[MAX_CAND];
        double shares[MAX_CAND];
        caps c;
        size_t count = 1 + next() % MAX_CAND;
        for (size_t i = 0; i < MAX_CAND; i++) {
            devices[i] = i;
            c.cap[i] = next() % 4 ? SIZE_MAX : 100 + next() % 5000;
        }
        for (size_t i = 0; i < count; i++)
            shares[i] = next() % 5 == 0 ? 0 : (double)(next() % 1000) / 7.0;
        shares[next() % count] = 1 + (double)(next() % 100); /* someone takes a share */
        size_t granule = (size_t[]){1, 3, 64, 4096}[next() % 4];
        size_t first = granule * (next() % 50), length = 1 + next() % 200000;
        weft_split s = {.first = first,
                        .last = first + length,
                        .granule = granule,
                        .device = devices,
                        .share = shares,
                        .count = count,
                        .capacity = cap_of,
                        .self = &c};
        check_split(&s, &c);
    }
}

static void test_empty_range_is_one_empty_piece(void **state)
{
    (void)state;
    size_t devices[] = {3, 1};
    double shares[] = {0, 1};
    weft_split s = {
        .first = 7, .last = 7, .granule = 4, .device = devices, .share = shares, .count = 2};
    weft_piece p;
    assert_int_equal(weft_split_pieces(&s, &p), 1);
    assert_int_equal(p.device, 3);
    assert_int_equal(p.begin, 7);
    assert_int_equal(p.end, 7);
}

static void test_no_share_makes_no_piece(void **state)
{
    (void)state;
    size_t devices[] = {1, 2};
    double shares[] = {0, -1};
    weft_split s = {
        .first = 0, .last = 100, .granule = 1, .device = devices, .share = shares, .count = 2};
    assert_int_equal(weft_split_pieces(&s, NULL), 0);
}

/* Weights are relative sizes: any finite ones split by their ratio, even
 * where their sum overflows or their quotients underflow. */
static void test_huge_and_tiny_weights_split_by_ratio(void **state)
{
    (void)state;
    const struct {
        double w[3];
        size_t units, want[3];
    } cases[] = {
        {{0, DBL_MAX, DBL_MAX}, 1000, {0, 500, 500}},
        {{DBL_MAX, DBL_MAX, DBL_MAX}, 999, {333, 333, 333}},
        {{1e300, 3e300, 0}, 1000, {250, 750, 0}},
        {{DBL_MAX / 2, DBL_MAX, 0}, 999, {333, 666, 0}},
        {{5e-324, 1.5e-323, 0}, 1000, {250, 750, 0}},
        {{DBL_MAX, 1, 0}, 1000, {1000, 0, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t got[3];
        weft_split_units(cases[c].units, cases[c].w, 3, got);
        for (int i = 0; i < 3; i++)
            if (got[i] != cases[c].want[i])
                fail_msg("case %zu: weight %g got %zu units, want %zu", c, cases[c].w[i], got[i],
                         cases[c].want[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_splits_keep_the_contract),
        cmocka_unit_test(test_empty_range_is_one_empty_piece),
        cmocka_unit_test(test_no_share_makes_no_piece),
        cmocka_unit_test(test_huge_and_tiny_weights_split_by_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
