/* The group-by's table path (src/dev/ref/group_dense.c), called directly for
 * every (key dtype, value dtype, op) its loops are built for, against plain
 * C: the distinct keys sorted, each group's values folded in input order.
 * Also that it takes the inputs it should (a range of at most half the keys
 * and 2^20; every u8 key) and gives the others back untouched. */
#include "common.h"
#include "../src/dev/ref/segment_host.h"

#define SIGN64 ((uint64_t)1 << 63)

static const weft_dtype key_types[] = {WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64, WEFT_U8};
static const weft_dtype value_types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32,
                                         WEFT_I64, WEFT_U64, WEFT_U8};
static const int ops[] = {WEFT_SUM, WEFT_MIN, WEFT_MAX, WEFT_COUNT};
static const size_t sizes[] = {0, 1, 2, 31, 4095, 4097, 16385};
enum { PATTERNS = 11 };

static int is_signed(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64;
}

static int is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

/* Ordered key (sign bit flipped when signed) of row i of pattern p:
 * 0 narrow random, 1 all equal, 2 ascending, 3 descending, 4 at the dtype's
 * lowest keys, 5 at its highest, 6 narrow with -0.0 values, 7 narrow but the
 * last key far away, 8 wide, 9 at the highest keys but the last at the lowest
 * (a table near the top must not wrap round to it), 10 up then down (a table
 * grown with room to spare is too wide, the keys are not). */
static uint64_t pattern_key_any(weft_dtype kt, int p, size_t i, size_t n, uint64_t r)
{
    uint64_t lowest = 0, highest = kt == WEFT_U8 ? 255 : kt == WEFT_U32 ? UINT32_MAX : UINT64_MAX;
    if (kt == WEFT_I32) lowest = SIGN64 - ((uint64_t)1 << 31), highest = SIGN64 + INT32_MAX;
    uint64_t mid = kt == WEFT_U8 ? 100 : lowest + (highest - lowest) / 2 - 20;
    switch (p) {
    case 1:
        return mid;
    case 2:
        return mid - 1000 + i / 3;
    case 3:
        return kt == WEFT_U8 ? 255 - (n - i) % 256 : mid + (n - i) / 5;
    case 4:
        return lowest + r % 50;
    case 5:
        return highest - r % 50;
    case 9:
        return i + 1 == n && n > 1 ? lowest : highest - r % 50;
    case 10:
        return i < n / 2 ? mid + i / 2 : mid - 1 - (i - n / 2) / 2;
    case 7:
        return i + 1 == n ? (kt == WEFT_U8 ? 255 : mid + (1u << 30)) : mid + r % 37;
    case 8:
        return kt == WEFT_U8 ? r % 256 : mid + (r % 1000) * 1000003;
    default:
        return mid + r % 37;
    }
}

static uint64_t pattern_key(weft_dtype kt, int p, size_t i, size_t n, uint64_t r)
{
    uint64_t k = pattern_key_any(kt, p, i, n, r);
    return kt == WEFT_U8 ? k & 255 : k;
}

static void put_key(void *keys, weft_dtype kt, size_t i, uint64_t ordered)
{
    uint64_t bits = is_signed(kt) ? ordered ^ SIGN64 : ordered;
    memcpy((char *)keys + i * weft_dtype_size(kt), &bits, weft_dtype_size(kt));
}

/* A value with NaN, -0.0, infinities and each dtype's extremes among them. */
static void put_value(void *values, weft_dtype vt, size_t i, int p, uint64_t r)
{
    double f = ((double)(r >> 11) / 9007199254740992.0 - 0.3) * 1e6 * (i % 7 ? 1 : 1e-7);
    if (r % 97 == 0) f = NAN;
    if (r % 89 == 0 || p == 6) f = -0.0;
    if (r % 83 == 0) f = 0.0;
    if (r % 101 == 0) f = r % 2 ? INFINITY : -INFINITY;
    uint64_t u = r * 0x9e3779b97f4a7c15ull;
    if (r % 53 == 0) u = vt == WEFT_I32 ? INT32_MAX : vt == WEFT_I64 ? INT64_MAX : UINT64_MAX;
    if (r % 59 == 0) u = vt == WEFT_I32 ? (uint64_t)INT32_MIN : vt == WEFT_I64 ? SIGN64 : 0;
    if (vt == WEFT_F32) ((float *)values)[i] = (float)f;
    if (vt == WEFT_F64) ((double *)values)[i] = f;
    if (!is_float(vt)) memcpy((char *)values + i * weft_dtype_size(vt), &u, weft_dtype_size(vt));
}

static double value_f(const void *values, weft_dtype vt, size_t i)
{
    return vt == WEFT_F32 ? ((const float *)values)[i] : ((const double *)values)[i];
}

/* Integers widened: signed ones sign-extended. */
static uint64_t value_u(const void *values, weft_dtype vt, size_t i)
{
    switch (vt) {
    case WEFT_I32:
        return (uint64_t)(int64_t)((const int32_t *)values)[i];
    case WEFT_U32:
        return ((const uint32_t *)values)[i];
    case WEFT_U8:
        return ((const uint8_t *)values)[i];
    default:
        return ((const uint64_t *)values)[i];
    }
}

/* NaN below everything, -0.0 below 0.0: whether a comes before b. */
static int before_f(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && !isnan(b);
    return a < b || (a == b && signbit(a) && !signbit(b));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct group_ref {
    double f;
    uint64_t u;
    int seen;
} group_ref;

static void fold(group_ref *g, int op, weft_dtype vt, const void *values, size_t i)
{
    int first = !g->seen;
    g->seen = 1;
    if (op == WEFT_COUNT) {
        g->u++;
    } else if (is_float(vt)) {
        double v = value_f(values, vt, i);
        if (op == WEFT_SUM)
            g->f = (first ? 0.0 : g->f) + v;
        else if (first || (op == WEFT_MIN
                               ? before_f(v, g->f) && !isnan(g->f)
                               : (isnan(v) && !isnan(g->f)) || (!isnan(g->f) && before_f(g->f, v))))
            g->f = v;
    } else {
        uint64_t v = value_u(values, vt, i);
        int less = is_signed(vt) ? (int64_t)v < (int64_t)g->u : v < g->u;
        int more = is_signed(vt) ? (int64_t)v > (int64_t)g->u : v > g->u;
        if (op == WEFT_SUM)
            g->u = (first ? 0 : g->u) + v;
        else if (first || (op == WEFT_MIN ? less : more))
            g->u = v;
    }
}

static void check(weft_dtype kt, weft_dtype vt, int op, int p, size_t n)
{
    size_t ks = weft_dtype_size(kt), vs = weft_dtype_size(vt);
    weft_dtype ot = op == WEFT_COUNT ? WEFT_U64 : vt;
    size_t os = weft_dtype_size(ot);
    void *keys = malloc(n * ks + 8), *values = malloc(n * vs + 8);
    uint64_t *ordered = malloc(n * 8 + 8), *distinct = malloc(n * 8 + 8);
    uint64_t seed = n * 131 + (uint64_t)p * 7 + kt;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rng(&seed);
        ordered[i] = pattern_key(kt, p, i, n, r);
        put_key(keys, kt, i, ordered[i]);
        put_value(values, vt, i, p, test_rng(&seed));
    }
    memcpy(distinct, ordered, n * 8);
    qsort(distinct, n, 8, cmp_u64);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || distinct[i] != distinct[i - 1]) distinct[groups++] = distinct[i];
    group_ref *ref = calloc(groups + 1, sizeof *ref);
    for (size_t i = 0; i < n; i++) {
        uint64_t *at = bsearch(&ordered[i], distinct, groups, 8, cmp_u64);
        fold(&ref[at - distinct], op, vt, values, i);
    }
    size_t limit = n / 2 + 1 < ((size_t)1 << 20) ? n / 2 + 1 : (size_t)1 << 20;
    int dense = n > 0 && (kt == WEFT_U8 || distinct[groups - 1] - distinct[0] < limit);

    unsigned char *out_keys = malloc(n * ks + 8), *out_values = malloc(n * os + 8);
    memset(out_keys, 0xab, n * ks + 8);
    memset(out_values, 0xab, n * os + 8);
    size_t count = 12345;
    int done = -1;
    weft_segment_call c = {.op = op,
                           .key_dtype = kt,
                           .value_dtype = op == WEFT_COUNT ? ot : vt,
                           .out_dtype = ot,
                           .keys = keys,
                           .values = op == WEFT_COUNT ? NULL : values,
                           .n = n,
                           .out_keys = out_keys,
                           .out_values = out_values,
                           .capacity = n,
                           .count = &count,
                           .what = "test"};
    ASSERT_OK(weft_ref_group_dense(&c, &done));
    const char *kn = weft_dtype_name(kt), *vn = weft_dtype_name(vt);
    if (done != dense)
        fail_msg("%s->%s op %d pattern %d n=%zu: done %d, want %d", kn, vn, op, p, n, done, dense);
    if (!dense) {
        if (count != 12345 || out_keys[0] != 0xab || out_values[0] != 0xab)
            fail_msg("%s->%s op %d pattern %d n=%zu: wrote though not done", kn, vn, op, p, n);
    } else if (count != groups) {
        fail_msg("%s->%s op %d pattern %d n=%zu: %zu groups, want %zu", kn, vn, op, p, n, count,
                 groups);
    }
    for (size_t g = 0; dense && g < groups; g++) {
        unsigned char want_k[8];
        _Alignas(8) unsigned char want_v[8];
        put_key(want_k, kt, 0, distinct[g]);
        if (ot == WEFT_F32)
            memcpy(want_v, &(float){(float)ref[g].f}, 4);
        else if (ot == WEFT_F64)
            memcpy(want_v, &ref[g].f, 8);
        else
            memcpy(want_v, &ref[g].u, os); /* the low bytes: wrapped in the dtype's width */
        /* NaN payloads are the compiler's choice (a + b may run as b + a) */
        int nans = ot == WEFT_F32
                       ? isnan(*(float *)(void *)want_v) && isnan(((float *)(void *)out_values)[g])
                   : ot == WEFT_F64 ? isnan(*(double *)(void *)want_v) &&
                                          isnan(((double *)(void *)out_values)[g])
                                    : 0;
        if (memcmp(out_keys + g * ks, want_k, ks) ||
            (!nans && memcmp(out_values + g * os, want_v, os)))
            fail_msg("%s->%s op %d pattern %d n=%zu: group %zu differs", kn, vn, op, p, n, g);
    }
    if (dense && groups > 1) { /* too little room: an error, no groups */
        c.capacity = groups - 1;
        assert_int_equal(weft_ref_group_dense(&c, &done), WEFT_ERR_SIZE);
        assert_int_equal(count, 0);
    }
    free(keys);
    free(values);
    free(ordered);
    free(distinct);
    free(ref);
    free(out_keys);
    free(out_values);
}

static void test_every_loop(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof key_types / sizeof *key_types; k++)
        for (size_t v = 0; v < sizeof value_types / sizeof *value_types; v++)
            for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
                for (int p = 0; p < PATTERNS; p++)
                    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
                        check(key_types[k], value_types[v], ops[o], p, sizes[s]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
