/* Big scratch buffers (src/core/big_alloc.c): every byte asked for is usable
 * and aligned, a kept buffer comes back for the next request of its size and
 * never for a different one, and trimming returns them. */
#include "common.h"
#include "../src/core/big_alloc.h"

#include <stdint.h>
#include <string.h>

enum { MIB = 1 << 20 };

static void fill_and_check(unsigned char *p, size_t bytes, unsigned char v)
{
    memset(p, v, bytes);
    assert_int_equal(p[0], v);
    assert_int_equal(p[bytes - 1], v);
}

static void test_sizes_are_usable_and_aligned(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 63, 64, 4095, 2 * MIB - 1, 2 * MIB, 2 * MIB + 1, 9 * MIB + 4097};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = weft_big_alloc(sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        if (sizes[i] >= 2 * MIB) assert_int_equal((uintptr_t)p % (2 * MIB), 0);
        fill_and_check(p, sizes[i], (unsigned char)(i + 1));
        weft_big_free(p, sizes[i]);
    }
    assert_null(weft_big_alloc(0));
    weft_big_free(NULL, 123);
}

static void test_a_kept_buffer_serves_only_its_size(void **state)
{
    (void)state;
    weft_big_trim();
    size_t bytes = 6 * MIB;
    void *a = weft_big_alloc(bytes);
    assert_non_null(a);
    weft_big_free(a, bytes);
    void *b = weft_big_alloc(bytes); /* kept: the same mapping */
    assert_ptr_equal(a, b);
    fill_and_check(b, bytes, 7);
    void *c = weft_big_alloc(bytes); /* the kept one is in use: a new one */
    assert_ptr_not_equal(b, c);
    fill_and_check(c, bytes, 9);
    weft_big_free(b, bytes);
    weft_big_free(c, bytes);
    /* A different size never gets a kept buffer too small or too big. */
    unsigned char *d = weft_big_alloc(bytes + 3 * MIB);
    assert_ptr_not_equal(d, b);
    assert_ptr_not_equal(d, c);
    fill_and_check(d, bytes + 3 * MIB, 5);
    weft_big_free(d, bytes + 3 * MIB);
    weft_big_trim();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_are_usable_and_aligned),
        cmocka_unit_test(test_a_kept_buffer_serves_only_its_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
