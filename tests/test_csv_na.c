/* Long na_values lists: the set they are kept in against a linear scan of the
 * list, and whole CSV runs against a plain parse of every field. */
#include "common.h"
#include "../src/csv/na_set.h"

#include <sys/stat.h>

static char dir[256];
static weft_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-csv-na-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    ctx = test_ctx();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    return remove_tree(dir);
}

/* The reference: the list scanned in order. */
static int listed(char *const *values, size_t n, const char *b, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(values[i]) == len && memcmp(values[i], b, len) == 0) return 1;
    return 0;
}

/* A list of n strings: the empty one, chains of prefixes ("7", "77", ...),
 * numbers' text, long strings, duplicates, and random bytes (NUL excepted). */
static char **make_list(size_t n, uint64_t *rng)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        size_t kind = i % 6, len;
        if (i == 0) {
            buf[0] = 0;
        } else if (kind == 1) { /* a prefix chain: i % 60 + 1 sevens */
            len = i % 60 + 1;
            memset(buf, '7', len);
            buf[len] = 0;
        } else if (kind == 2) {
            snprintf(buf, sizeof buf, "-%llu", (unsigned long long)(test_rng(rng) % 100000));
        } else if (kind == 3 && i > 6) { /* a duplicate */
            snprintf(buf, sizeof buf, "%s", v[test_rng(rng) % i]);
        } else {
            len = test_rng(rng) % (kind == 4 ? 100 : 12);
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)(1 + test_rng(rng) % 255);
            buf[len] = 0;
        }
        v[i] = strdup(buf);
    }
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Every value, each of its prefixes and one-byte extensions, and random
 * strings: the set answers as the scan does. */
static void test_set_against_a_linear_scan(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 7, 64, 1000, 5000};
    uint64_t rng = 24;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        char **v = make_list(n, &rng);
        csv_na_set set;
        ASSERT_OK(csv_na_set_init(&set, (const char *const *)v, n));
        size_t hits = 0, asked = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(v[i]);
            char ext[130];
            memcpy(ext, v[i], len);
            ext[len] = (char)(1 + test_rng(&rng) % 255);
            for (size_t k = 0; k <= len + 1; k++, asked++) {
                int want = listed(v, n, ext, k), got = csv_na_set_has(&set, ext, k);
                if (got != want)
                    fail_msg("list of %zu: \"%.*s\" (%zu bytes): set %d, scan %d", n, (int)k, ext,
                             k, got, want);
                hits += (size_t)got;
            }
        }
        for (int r = 0; r < 20000; r++, asked++) {
            char buf[16];
            size_t len = test_rng(&rng) % sizeof buf;
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)("-79.e0 "[test_rng(&rng) % 7]);
            assert_int_equal(csv_na_set_has(&set, buf, len), listed(v, n, buf, len));
        }
        /* The checks above must have seen both answers, and values that
         * start their probe at one slot: else they test nothing. */
        if (n >= 7) {
            assert_true(hits >= n / 2 && hits < asked);
            size_t shared = 0;
            for (size_t i = 1; i < n && i < 200; i++)
                for (size_t j = 0; j < i; j++)
                    shared +=
                        strcmp(v[i], v[j]) != 0 && csv_na_set_home(&set, v[i], strlen(v[i])) ==
                                                       csv_na_set_home(&set, v[j], strlen(v[j]));
            assert_true(shared > 0);
        }
        csv_na_set_free(&set);
        free_list(v, n);
    }
}

/* A plain parse of one field, as docs/csv.md defines it: quotes removed
 * (a quoted field holding "" is no number), the list matched whole, then
 * pandas' spellings, then a number with spaces around it. 1: a value. */
static int reference_value(const char *field, char *const *na, size_t nna, double *out)
{
    static const char *const tokens[] = {"",        "NA",       "N/A",    "NaN",    "nan",
                                         "NULL",    "null",     "None",   "n/a",    "<NA>",
                                         "#NA",     "#N/A",     "-NaN",   "-nan",   "#N/A N/A",
                                         "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN"};
    size_t len = strlen(field);
    const char *b = field;
    if (len >= 2 && b[0] == '"') {
        if (b[len - 1] != '"' || memchr(b + 1, '"', len - 2)) return -1;
        b++;
        len -= 2;
    }
    if (listed(na, nna, b, len)) return 0;
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strlen(tokens[i]) == len && memcmp(tokens[i], b, len) == 0) return 0;
    char buf[256];
    memcpy(buf, b, len);
    buf[len] = 0;
    char *end;
    *out = strtod(buf, &end);
    while (*end == ' ')
        end++;
    return end != buf && *end == 0 && buf[0] != 0 ? 1 : -1;
}

/* Fields: list values (quoted or not), numbers that are prefixes or
 * extensions of them, numbers the list does not hold, empty fields. */
static void write_field(FILE *f, char *const *na, size_t nna, uint64_t *rng)
{
    uint64_t k = test_rng(rng) % 8, i = test_rng(rng) % nna;
    switch (k) {
    case 0:
        fprintf(f, "%s", na[i]);
        break;
    case 1:
        fprintf(f, "\"%s\"", na[i]);
        break;
    case 2:
        fprintf(f, "%s5", na[i]);
        break; /* one longer */
    case 3:
        fprintf(f, "%.*s", (int)strlen(na[i]) / 2, na[i]);
        break;
    case 4:
        fprintf(f, "\"%lld\"", (long long)(test_rng(rng) % 2000) - 1000);
        break;
    case 5:
        fprintf(f, " %lld.5", (long long)(test_rng(rng) % 2000) - 1000);
        break;
    case 6:
        fputs("", f);
        break;
    default:
        fprintf(f, "%lld.25", (long long)(test_rng(rng) % 200000) - 100000);
        break;
    }
}

/* na values that a CSV field can hold unquoted: numbers' text (some
 * prefixes of others, "-7" ... "-7777"), words, the empty string, and
 * numbers' text with a trailing space. */
static char **field_list(size_t n, uint64_t *rng)
{
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        if (i == 0)
            buf[0] = 0;
        else if (i < 6)
            snprintf(buf, sizeof buf, "-%.*s", (int)i, "77777");
        else if (i % 3 == 0)
            snprintf(buf, sizeof buf, "%lld.25", (long long)(test_rng(rng) % 200000) - 100000);
        else if (i % 3 == 1)
            snprintf(buf, sizeof buf, "miss%zu", i);
        else
            snprintf(buf, sizeof buf, "%lld ", (long long)(test_rng(rng) % 2000) - 1000);
        v[i] = strdup(buf);
    }
    return v;
}

/* A file of ROWS fields against the reference, through the window reader at
 * two window sizes and through a whole run (its `y = x * 2` column). */
static void test_long_lists_against_a_plain_parse(void **state)
{
    (void)state;
    enum { ROWS = 20000, NNA = 1500 };
    uint64_t rng = 2424;
    char **na = field_list(NNA, &rng);
    char path[512], out_path[512];
    snprintf(path, sizeof path, "%s/na.csv", dir);
    snprintf(out_path, sizeof out_path, "%s/out.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("x\n", f);
    double *want = malloc(ROWS * sizeof *want);
    char field[256];
    for (int i = 0; i < ROWS; i++) {
        FILE *m = fmemopen(field, sizeof field, "w");
        write_field(m, na, NNA, &rng);
        fclose(m);
        double v = 0;
        int kind = reference_value(field, na, NNA, &v);
        if (kind < 0) { /* not a number: the reference says it would fail; use NA instead */
            snprintf(field, sizeof field, "NA");
            kind = 0;
        }
        want[i] = kind ? v : NAN;
        fprintf(f, "%s\n", field);
    }
    fclose(f);
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    d.na_values = (const char *const *)na;
    d.n_na_values = NNA;
    static const size_t windows[] = {4096, 0};
    double *v = malloc(ROWS * sizeof *v);
    size_t missing = 0;
    for (size_t w = 0; w < 2; w++) {
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = windows[w];
        weft_csv_reader *r;
        ASSERT_OK(weft_csv_open_dialect(ctx, path, &o, &d, &r));
        size_t rows, total = 0;
        uint64_t first;
        for (;;) {
            ASSERT_OK(weft_csv_next(r, &rows, &first));
            if (rows == 0) break;
            weft_array *a;
            ASSERT_OK(weft_csv_column(r, 0, &a));
            ASSERT_OK(weft_array_read(a, 0, rows, v));
            for (size_t i = 0; i < rows; i++) {
                double x = want[first + i];
                if (isnan(x) ? !isnan(v[i]) : v[i] != x)
                    fail_msg("window %zu, row %llu: %g, want %g", windows[w],
                             (unsigned long long)(first + i), v[i], x);
                missing += isnan(x) && !w;
            }
            total += rows;
        }
        assert_int_equal(total, ROWS);
        ASSERT_OK(weft_csv_close(r));
    }
    /* Both kinds of field, in numbers worth the name. */
    assert_true(missing > ROWS / 10 && missing < ROWS * 9 / 10);
    const char *set[] = {"y = x * 2"};
    weft_csv_job job = {.statements = set, .nstatements = 1};
    ASSERT_OK(weft_csv_run_dialect(ctx, path, out_path, NULL, &d, &job, NULL));
    f = fopen(out_path, "rb");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "x,y\n");
    for (int i = 0; i < ROWS; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        char *y = strrchr(line, ',') + 1;
        if (isnan(want[i])) {
            if (*y != '\n') fail_msg("row %d: y is %s, want missing", i, y);
        } else if (strtod(y, NULL) != want[i] * 2) {
            fail_msg("row %d: y is %s, want %.17g", i, y, want[i] * 2);
        }
    }
    fclose(f);
    free(v);
    free(want);
    free_list(na, NNA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_against_a_linear_scan),
        cmocka_unit_test(test_long_lists_against_a_plain_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
