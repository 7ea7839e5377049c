/* The data-primitive examples against their plain C references on every
 * setup: k-means (scatter-add and bincount) to the bit, Monte Carlo pi
 * (random and a counting reduction) to the hit. */
#define WEFT_EXAMPLE_NO_MAIN
#include "common.h"

#include "../examples/kmeans.c"
#include "../examples/monte_carlo.c"

static void check_kmeans(size_t n, size_t k, int iterations)
{
    weft_ctx *ctx = test_ctx();
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint32_t *labels = malloc(n * sizeof *labels), *ref_labels = malloc(n * sizeof *ref_labels);
    double cx[16], cy[16], ref_cx[16], ref_cy[16];
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(labels);
    assert_non_null(ref_labels);
    kmeans_points(n, k, x, y);
    for (size_t c = 0; c < k; c++) { /* k consecutive points: several of one cluster */
        cx[c] = ref_cx[c] = x[c * 3 % n];
        cy[c] = ref_cy[c] = y[c * 3 % n];
    }
    ASSERT_OK(kmeans_run(ctx, n, x, y, k, iterations, cx, cy, labels));
    kmeans_reference(n, x, y, k, iterations, ref_cx, ref_cy, ref_labels);
    for (size_t c = 0; c < k; c++)
        if (memcmp(&cx[c], &ref_cx[c], sizeof cx[c]) || memcmp(&cy[c], &ref_cy[c], sizeof cy[c]))
            fail_msg("n=%zu centre %zu: (%.17g, %.17g), want (%.17g, %.17g)", n, c, cx[c], cy[c],
                     ref_cx[c], ref_cy[c]);
    assert_memory_equal(labels, ref_labels, n * sizeof *labels);
    free(x);
    free(y);
    free(labels);
    free(ref_labels);
    weft_ctx_free(ctx);
}

static void test_kmeans_matches_c(void **state)
{
    (void)state;
    check_kmeans(1, 1, 2);
    check_kmeans(1000, 3, 5);
    check_kmeans(300007, 8, 6); /* several blocks and threads, odd tail */
}

static void test_monte_carlo_matches_c(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    static const size_t samples[] = {1, 4099, 250001};
    for (size_t s = 0; s < 3; s++) {
        uint64_t hits = 0, want = monte_carlo_reference(7, samples[s]);
        ASSERT_OK(monte_carlo_hits(ctx, 7, samples[s], 65536, &hits));
        assert_int_equal(hits, want);
        /* The batch size only cuts the stream into pieces. */
        ASSERT_OK(monte_carlo_hits(ctx, 7, samples[s], 1000, &hits));
        assert_int_equal(hits, want);
    }
    uint64_t hits = 0;
    ASSERT_OK(monte_carlo_hits(ctx, 11, 250001, 65536, &hits));
    double pi = 4.0 * (double)hits / 250001.0;
    /* Binomial deviation of 4 * hits / n: 4 sqrt(p (1 - p) / n) ~ 0.0033; six of them. */
    assert_true(fabs(pi - 3.141592653589793) < 0.02);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans_matches_c),
        cmocka_unit_test(test_monte_carlo_matches_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
