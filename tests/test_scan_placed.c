/* weft_scan placed on each device in turn gives the pool's bits (which
 * test_reduce checks against the documented order): every dtype and
 * operation, whole blocks (the vector code) and a tail, in place or not. */
#include "common.h"

static void fill_any(void *x, weft_dtype t, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15u + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double f = (double)(int64_t)(s >> 11) / 9007199254740992.0 * 1e3; /* rounds when summed */
        switch (t) {
        case WEFT_F32:
            ((float *)x)[i] = (float)f;
            break;
        case WEFT_F64:
            ((double *)x)[i] = f;
            break;
        case WEFT_I32:
            ((int32_t *)x)[i] = (int32_t)(uint32_t)s;
            break;
        case WEFT_U32:
            ((uint32_t *)x)[i] = (uint32_t)(s >> 7);
            break;
        case WEFT_U8:
            ((uint8_t *)x)[i] = (uint8_t)s;
            break;
        default:
            ((uint64_t *)x)[i] = s;
            break;
        }
    }
}

/* x scanned on device d (0: the pool) into y, read into out; then in place,
 * read into in_place. */
static void scan_on(weft_ctx *ctx, size_t d, weft_reduce_op op, int exclusive, weft_array *xa,
                    weft_array *ya, size_t n, const void *x, void *out, void *in_place)
{
    uint64_t mask = d == 0 ? WEFT_PLACE_HOST : WEFT_PLACE_DEVICE(d);
    ASSERT_OK(weft_ctx_place(ctx, "scan totals", mask));
    ASSERT_OK(weft_ctx_place(ctx, "scan apply", mask));
    ASSERT_OK(weft_array_write(xa, 0, n, x));
    ASSERT_OK(weft_scan(ctx, op, exclusive, xa, ya, NULL));
    ASSERT_OK(weft_array_read(ya, 0, n, out));
    ASSERT_OK(weft_scan(ctx, op, exclusive, xa, xa, NULL));
    ASSERT_OK(weft_array_read(xa, 0, n, in_place));
}

static void test_scan_bits_on_every_device(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    size_t ndev = 0;
    ASSERT_OK(weft_device_count(ctx, &ndev));
    enum { N = 3 * 4096 + 77 };
    static const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32,
                                       WEFT_I64, WEFT_U64, WEFT_U8};
    static const weft_reduce_op ops[] = {WEFT_SUM, WEFT_MIN, WEFT_MAX};
    unsigned char *x = malloc(4 * (size_t)N * 8), *want = x + N * 8, *got = want + N * 8;
    unsigned char *got_in_place = got + N * 8;
    for (size_t ti = 0; ti < 7; ti++) {
        weft_dtype t = types[ti];
        size_t size = weft_dtype_size(t);
        fill_any(x, t, N, ti);
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_create(ctx, t, N, &xa));
        ASSERT_OK(weft_array_create(ctx, t, N, &ya));
        for (size_t oi = 0; oi < 3; oi++)
            for (int exclusive = 0; exclusive < 2; exclusive++)
                for (size_t d = 0; d < ndev; d++) {
                    scan_on(ctx, d, ops[oi], exclusive, xa, ya, N, x, d == 0 ? want : got,
                            got_in_place);
                    if (d > 0 && memcmp(got, want, N * size))
                        fail_msg("scan %s op %d excl %d: device %zu differs from the pool",
                                 weft_dtype_name(t), ops[oi], exclusive, d);
                    if (memcmp(got_in_place, want, N * size))
                        fail_msg("in-place scan %s op %d excl %d on device %zu differs",
                                 weft_dtype_name(t), ops[oi], exclusive, d);
                }
        weft_array_free(xa);
        weft_array_free(ya);
    }
    free(x);
    weft_ctx_free(ctx);
}

/* The documented order for sums, written from its description: blocks of
 * 4096 in 16 sub-blocks of 256; sub-block s starts from the block's carry
 * plus the fold of sub-blocks before it; floats in double, integers wrap. */
static void reference_sum_scan(const void *x, void *y, weft_dtype t, size_t n, int exclusive)
{
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    double carry_f = 0;
    uint64_t carry_u = 0;
    for (size_t lo = 0; lo < n; lo += 4096) {
        double prefix_f = 0;
        uint64_t prefix_u = 0;
        for (size_t from = lo; from < lo + 4096 && from < n; from += 256) {
            double a_f = carry_f + prefix_f, sub_f = 0;
            uint64_t a_u = carry_u + prefix_u, sub_u = 0;
            for (size_t k = from; k < from + 256 && k < n; k++) {
                double v_f = t == WEFT_F32 ? ((const float *)x)[k] : ((const double *)x)[k];
                uint64_t v_u = t == WEFT_I32 ? (uint64_t)(int64_t)((const int32_t *)x)[k]
                                             : ((const uint64_t *)x)[k];
                double next_f = a_f + v_f;
                uint64_t next_u = a_u + (is_float ? 0 : v_u);
                double out_f = exclusive ? a_f : next_f;
                uint64_t out_u = exclusive ? a_u : next_u;
                if (t == WEFT_F32) ((float *)y)[k] = (float)out_f;
                if (t == WEFT_F64) ((double *)y)[k] = out_f;
                if (t == WEFT_I32) ((int32_t *)y)[k] = (int32_t)(uint32_t)out_u;
                if (t == WEFT_I64) ((uint64_t *)y)[k] = out_u;
                a_f = next_f, a_u = next_u;
                sub_f += v_f, sub_u += is_float ? 0 : v_u;
            }
            prefix_f += sub_f, prefix_u += sub_u;
        }
        carry_f += prefix_f, carry_u += prefix_u;
    }
}

/* Large enough that the pool scans in one pass over many chunks on every
 * thread, storing y around the cache (past 8 MiB): the documented bits, in
 * place or not, and the same as on each device. */
static void test_one_pass_scan_on_the_pool(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    size_t ndev = 0;
    ASSERT_OK(weft_device_count(ctx, &ndev));
    enum { N = (1 << 21) + 4096 * 3 + 77 };
    static const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_I64};
    unsigned char *x = malloc(4 * (size_t)N * 8), *want = x + N * 8, *got = want + N * 8;
    unsigned char *got_in_place = got + N * 8;
    for (size_t ti = 0; ti < 4; ti++) {
        weft_dtype t = types[ti];
        size_t size = weft_dtype_size(t);
        fill_any(x, t, N, 40 + ti);
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_create(ctx, t, N, &xa));
        ASSERT_OK(weft_array_create(ctx, t, N, &ya));
        for (int exclusive = 0; exclusive < 2; exclusive++) {
            reference_sum_scan(x, want, t, N, exclusive);
            for (size_t d = 0; d < ndev; d++) {
                scan_on(ctx, d, WEFT_SUM, exclusive, xa, ya, N, x, got, got_in_place);
                if (memcmp(got, want, N * size))
                    fail_msg("scan %s excl %d on device %zu is not the documented order",
                             weft_dtype_name(t), exclusive, d);
                if (memcmp(got_in_place, want, N * size))
                    fail_msg("in-place scan %s excl %d on device %zu differs", weft_dtype_name(t),
                             exclusive, d);
            }
        }
        weft_array_free(xa);
        weft_array_free(ya);
    }
    free(x);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_bits_on_every_device),
        cmocka_unit_test(test_one_pass_scan_on_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
