/* The streaming CSV pipeline: exact output, quoting across window edges,
 * every kind of bad input, atomic output, and whole-file reductions that are
 * bit-identical to the in-memory ones. */
#include "common.h"
#include "test_dir.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

static weft_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-csv-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    ctx = test_ctx();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs `statements` over input text with a given window; returns the status. */
static weft_status run_with(const char *input, size_t window, const char *const *statements,
                            size_t n, char **output)
{
    write_text("in.csv", input);
    unlink(path_of("out.csv"));
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = window;
    weft_csv_job job = {0};
    job.statements = statements;
    job.nstatements = n;
    weft_status st = weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL);
    *output = read_all("out.csv", NULL);
    return st;
}

static void expect_output(const char *input, const char *statement, const char *want)
{
    size_t windows[] = {0, 64, 97, 200};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        char *out = NULL;
        const char *st[] = {statement};
        weft_status s = run_with(input, windows[w], st, statement ? 1 : 0, &out);
        if (s != WEFT_OK) fail_msg("window %zu: %s", windows[w], weft_last_error());
        assert_non_null(out);
        if (strcmp(out, want) != 0)
            fail_msg("window %zu:\n--- got\n%s--- want\n%s", windows[w], out, want);
        free(out);
    }
}

static void test_seed_pipeline(void **state)
{
    (void)state;
    expect_output("id,old_column,label\n1,1.5,a\n2,0.1,b\n3,-2,c\n4,1e-5,d\n5,1e22,e\n",
                  "new_column = old_column * 2",
                  "id,old_column,label,new_column\n1,1.5,a,3.0\n2,0.1,b,0.2\n3,-2,c,-4.0\n"
                  "4,1e-5,d,2e-05\n5,1e22,e,2e+22\n");
}

static void test_quoting_across_windows(void **state)
{
    (void)state;
    /* Delimiters, escaped quotes and newlines inside quoted fields, at every
     * offset of small windows. */
    char in[4096] = "x,label\n", want[8192] = "x,label,y\n";
    for (int i = 0; i < 40; i++) {
        char row[256], out[256];
        snprintf(row, sizeof row, "%d,\"a,%d \"\"q\"\"\n line %d\"\n", i, i, i);
        snprintf(out, sizeof out, "%d,\"a,%d \"\"q\"\"\n line %d\",%d\n", i, i, i, i + 1);
        strcat(in, row);
        strcat(want, out);
    }
    expect_output(in, "y = x + 1", want);
}

static void test_empty_header_only_one_row(void **state)
{
    (void)state;
    char *out;
    const char *st[] = {"y = x * 2"};
    write_text("in.csv", "");
    assert_int_equal(run_with("", 0, st, 1, &out), WEFT_ERR_DATA);
    assert_non_null(strstr(weft_last_error(), "empty file"));
    assert_null(out);
    expect_output("x\n", "y = x * 2", "x,y\n");
    expect_output("x,z", "y = x * 2", "x,z,y\n");
    expect_output("x\n7\n", "y = x * 2", "x,y\n7,14\n");
    expect_output("x\n7", "y = x * 2", "x,y\n7,14\n");
}

static void test_line_ends_bom_blank_lines(void **state)
{
    (void)state;
    expect_output("\xEF\xBB\xBFx,s\r\n1,\"a\r\nb\"\r\n\r\n2,c\r\n", "y = x * 2",
                  "x,s,y\n1,\"a\r\nb\",2\n2,c,4\n");
    expect_output("x,s\n1,a\n\n\n2,b", "y = x + 0.5", "x,s,y\n1,a,1.5\n2,b,2.5\n");
}

/* Fails with WEFT_ERR_DATA naming the file and `where`; an existing output
 * is left as it was. */
static const char *error_types; /* weft_csv_options.types of expect_error */

static void expect_error(const char *input, const char *statement, const char *where,
                         const char *what)
{
    size_t windows[] = {0, 64};
    for (size_t w = 0; w < 2; w++) {
        write_text("out.csv", "precious\n");
        write_text("in.csv", input);
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = windows[w];
        o.types = error_types;
        const char *st[] = {statement};
        weft_csv_job job = {0};
        job.statements = st;
        job.nstatements = 1;
        weft_status s = weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL);
        if (s != WEFT_ERR_DATA) fail_msg("%s: status %d, not WEFT_ERR_DATA", input, (int)s);
        const char *msg = weft_last_error();
        if (!strstr(msg, "in.csv:") || !strstr(msg, where) || !strstr(msg, what))
            fail_msg("window %zu: \"%s\" lacks \"%s\" or \"%s\"", windows[w], msg, where, what);
        char *kept = read_all("out.csv", NULL);
        assert_string_equal(kept, "precious\n");
        free(kept);
    }
    /* No temporary file is left behind. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_error("x,s\n1,a\n2x,b\n", "y = x * 2", ":3:1:", "column 'x' (field 1)");
    expect_error("x,s\n1,a\n2,\"b\n3,c\n", "y = x * 2", ":3:3:", "unterminated quoted field");
    expect_error("x,s\n1,a\n2,b,c\n", "y = x * 2", ":3:1:", "expected 2 fields, found 3");
    expect_error("x,s\n1,a\n2\n", "y = x * 2", ":3:1:", "expected 2 fields, found 1");
    expect_error("x,s\n1,a\n2,b\xff\n", "y = x * 2", ":3:4:", "invalid UTF-8");
    expect_error("x,s\n1,a\n2,\xe3o\n", "y = x * 2", ":3:3:", "iconv -f cp1252 -t utf-8");
    /* The header, not the rows, is the likely problem when the first row
     * differs from it already: what to do about it is said. */
    expect_error("# title\na,b\n1,2\n", "y = a", ":2:1:", "--comment '#'");
    expect_error("Title\na,b\n1,2\n", "y = a", ":2:1:", "--skip-rows");
    expect_error("a;b\n1,5;2\n", "y = a", ":2:1:", "--delimiter ';'");
    expect_error("a,b\n0,1,2\n", "y = a", ":2:1:", "no name in the header");
    expect_error("a,b\n1,2\n1,2,3\n", "y = a", ":3:1:", "--bad-rows");
    expect_error("x,s\n1,a\n2,b\xc3\n", "y = x * 2", ":3:4:", "invalid UTF-8");
    error_types = "x=i64"; /* else the first window types it f64, as pandas does */
    expect_error("x,s\n1,a\n,b\n", "y = x * 2", ":3:1:", "missing integer");
    error_types = NULL;
    expect_error("x,s\n1.5,a\nabc,b\n", "y = x * 2", ":3:1:", "\"abc\" is not a number");
    expect_error("x\xe9,s\n1,a\n", "y = s", ":1:2:", "invalid UTF-8 (byte 0xE9) in the first");
    /* Valid UTF-8 passes through. */
    expect_output("x,s\n1,h\xc3\xa9llo \xe2\x82\xac\n", "y = x",
                  "x,s,y\n1,h\xc3\xa9llo \xe2\x82\xac,1\n");
}

/* A window of 256 KiB or more is scanned in chunks of at least 128 KiB, in
 * parallel; each chunk checks the UTF-8 of the characters that start in it.
 * The tail of a character begun in the chunk before was skipped by the
 * count of its bytes *before* the edge: a chunk starting right after a lead
 * byte began on a continuation byte (valid files refused: "invalid UTF-8
 * (byte 0xA9)"), and one starting after a whole character skipped bytes of
 * the next, unchecked (0xFF passed). Every edge position, 2- to 4-byte
 * characters. */
static void test_utf8_checked_across_scan_chunks(void **state)
{
    (void)state;
    const char *chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x83"};
    for (size_t c = 0; c < 3; c++) {
        size_t w = strlen(chars[c]) + 1;
        for (size_t more = 0; more < 2 * w; more++) {
            /* Valid: every row a character; two chunks, meeting in the
             * middle of the rows (the header is read apart). */
            int rows = (int)(300000 / w + more);
            char *in = malloc(16 + (size_t)rows * w), *want = malloc(16 + (size_t)rows * (w + 2));
            assert_true(in && want);
            size_t len = (size_t)sprintf(in, "t\n");
            size_t wlen = (size_t)sprintf(want, "t,y\n");
            for (int r = 0; r < rows; r++) {
                len += (size_t)sprintf(in + len, "%s\n", chars[c]);
                wlen += (size_t)sprintf(want + wlen, "%s,1\n", chars[c]);
            }
            write_file("in.csv", in, len);
            const char *st[] = {"y = 1"};
            weft_csv_options o;
            weft_csv_options_init(&o);
            weft_csv_job job = {.statements = st, .nstatements = 1};
            weft_status s =
                weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL);
            if (s != WEFT_OK)
                fail_msg("%zu-byte characters, %d rows: %s", w - 1, rows, weft_last_error());
            size_t got_len;
            char *got = read_all("out.csv", &got_len);
            assert_true(got_len == wlen && memcmp(got, want, wlen) == 0);
            free(got);
            /* Invalid: a 0xFF after a character, at each position near the
             * middle, where two chunks meet. */
            for (size_t at = len / 2 - 8; at < len / 2 + 8; at++) {
                if (in[at] != '\n') continue;
                char *bad = malloc(len + 1);
                assert_non_null(bad);
                memcpy(bad, in, at);
                bad[at] = (char)0xFF;
                memcpy(bad + at + 1, in + at, len - at);
                write_file("in.csv", bad, len + 1);
                free(bad);
                s = weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL);
                if (s != WEFT_ERR_DATA || !strstr(weft_last_error(), "invalid UTF-8 (byte 0xFF)"))
                    fail_msg("%zu-byte characters, 0xFF at %zu of %zu: status %d (%s)", w - 1, at,
                             len + 1, (int)s, weft_last_error());
            }
            free(in);
            free(want);
        }
    }
}

static void test_missing_values(void **state)
{
    (void)state;
    expect_output("x,s\n1.5,a\n,b\nNA,c\n", "y = x * 2", "x,s,y\n1.5,a,3.0\n,b,\nNA,c,\n");
    write_text("in.csv", "x\n1\n\n2\n");
    /* An integer column with a missing value: filled when asked. */
    write_text("in.csv", "x,s\n1,a\n,b\n");
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.int_missing_fill = 1;
    o.int_missing_value = -1;
    const char *st[] = {"y = x * 2"};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 1;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    char *out = read_all("out.csv", NULL);
    assert_string_equal(out, "x,s,y\n1,a,2\n,b,-2\n");
    free(out);
    /* A name holding a comma (real headers: "Avg TP, $") is backquoted in
     * the types string; bare, the error says how to write it. */
    write_text("in.csv", "\"p, $\",s\n1,a\n2,b\n");
    weft_csv_options_init(&o);
    o.types = "`p, $`=f64";
    const char *st2[] = {"y = `p, $` / 4"};
    job.statements = st2;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "\"p, $\",s,y\n1,a,0.25\n2,b,0.5\n");
    free(out);
    o.types = "p, $=f64";
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "goes in backquotes"));
    write_text("in.csv", "\"p, $\",`q\n1,5\n2,6\n");
    o.types = "```q`=f64";                 /* `` in backquotes is one backquote */
    const char *st3[] = {"y = ```q` / 2"}; /* 2 and 3 in integers */
    job.statements = st3;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "\"p, $\",`q,y\n1,5,2.5\n2,6,3.0\n");
    free(out);
    job.statements = st2;
    o.types = "`p, $`=f64,`p, $`=i64";
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "typed twice"));
    write_text("in.csv", "x,s\n1,a\n,b\n");
    job.statements = st;
    /* Or typed f64 up front: NaN, written as an empty field. */
    weft_csv_options_init(&o);
    o.types = "x=f64";
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "x,s,y\n1,a,2.0\n,b,\n");
    free(out);
}

static void test_columns_select_drop(void **state)
{
    (void)state;
    write_text("in.csv", "a;b;c\n1;x;2.5\n3;\"y;z\";-1\n");
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.delimiter = ';';
    const char *st[] = {"t = a * c", "a = a + 1; u = t > 0"};
    const char *drop[] = {"c"};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 2;
    job.drop = drop;
    job.ndrop = 1;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    char *out = read_all("out.csv", NULL);
    assert_string_equal(out, "a;b;t;u\n2;x;2.5;1\n4;\"y;z\";-3.0;0\n");
    free(out);
    const char *sel[] = {"u", "b"};
    job.drop = NULL;
    job.ndrop = 0;
    job.select = sel;
    job.nselect = 2;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL));
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "u;b\n1;x\n0;\"y;z\"\n");
    free(out);
    const char *bad[] = {"nope"};
    job.select = bad;
    job.nselect = 1;
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "nope"));
    /* No header: columns are c1, c2, ...; none is written. */
    write_text("in.csv", "1\tq\n2\tr\n");
    weft_csv_options_init(&o);
    o.delimiter = '\t';
    o.header = 0;
    const char *st2[] = {"c3 = c1 * 10"};
    weft_csv_job job2 = {0};
    job2.statements = st2;
    job2.nstatements = 1;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job2, NULL));
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "1\tq\t10\n2\tr\t20\n");
    free(out);
    /* A statement naming no column is an expression error with its column. */
    const char *st3[] = {"y = nothere * 2"};
    job2.statements = st3;
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job2, NULL),
                     WEFT_ERR_EXPR);
}

/* A file of random values, its in-memory columns, and every reduction over
 * it streamed through small windows: the same bits. */
/* A statement's i counts rows from the file's start in every window (it
 * restarted at 0 in each). */
/* First-use mistakes in the job and options, each named as itself. */
static void test_job_mistakes_named(void **state)
{
    (void)state;
    write_text("m.csv", "a,b,name\n1,2.5,x\n3,,y\n");
    const char *set[] = {"c = a * 2"}, *nul[] = {NULL}, *empty[] = {" "};
    weft_csv_options o;
    weft_csv_options_init(&o);
    weft_csv_job job = {0};
    job.statements = set;
    job.nstatements = 1;
    job.select = nul;
    job.nselect = 1;
    assert_int_equal(weft_csv_run(ctx, path_of("m.csv"), NULL, &o, &job, NULL), WEFT_ERR_NULL);
    assert_non_null(strstr(weft_last_error(), "select[0] is NULL"));
    job.nselect = 0;
    job.statements = empty;
    assert_int_equal(weft_csv_run(ctx, path_of("m.csv"), NULL, &o, &job, NULL), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "statement 0 is empty"));
    job.statements = set;
    o.types = "a=i64,,b=f64";
    assert_int_equal(weft_csv_run(ctx, path_of("m.csv"), NULL, &o, &job, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "an empty item"));
    o.types = NULL;
    o.header = 2;
    assert_int_equal(weft_csv_run(ctx, path_of("m.csv"), NULL, &o, &job, NULL),
                     WEFT_ERR_INVALID_ARG);
    o.header = 1;
    assert_int_equal(weft_csv_run(ctx, path_of("m.csv"), "", &o, &job, NULL), WEFT_ERR_INVALID_ARG);
    ASSERT_OK(weft_csv_run(ctx, path_of("m.csv"), NULL, &o, &job, NULL));
}

static void test_row_index_counts_from_the_file_start(void **state)
{
    (void)state;
    enum { ROWS = 3000 };
    size_t cap = ROWS * 40 + 64, in_len = 0, want_len = 0;
    char *in = malloc(cap), *want = malloc(cap);
    in_len += (size_t)sprintf(in, "x\n");
    want_len += (size_t)sprintf(want, "x,row,d\n");
    for (int k = 0; k < ROWS; k++) {
        in_len += (size_t)sprintf(in + in_len, "%d\n", 5 * k);
        want_len += (size_t)sprintf(want + want_len, "%d,%d,%d\n", 5 * k, k, 4 * k);
    }
    const char *st[] = {"row = i", "d = x - i"};
    const size_t windows[] = {0, 64, 97, 1000};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        char *out = NULL;
        weft_status s = run_with(in, windows[w], st, 2, &out);
        if (s != WEFT_OK) fail_msg("window %zu: %s", windows[w], weft_last_error());
        if (strcmp(out, want) != 0) fail_msg("window %zu: the rows' i differ", windows[w]);
        free(out);
    }
    free(in);
    free(want);
}

static void test_reductions_match_memory(void **state)
{
    (void)state;
    const size_t rows[] = {0, 1, 4095, 4096, 4097, 70001};
    for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
        size_t n = rows[t];
        double *x = malloc((n + 1) * sizeof *x);
        int64_t *k = malloc((n + 1) * sizeof *k);
        FILE *f = fopen(path_of("r.csv"), "wb");
        fprintf(f, "k,x,s\n");
        srand(7 + (unsigned)n);
        for (size_t i = 0; i < n; i++) {
            x[i] = ((double)rand() / RAND_MAX - 0.3) * pow(10, rand() % 12 - 6);
            k[i] = rand() % 2000001 - 1000000;
            fprintf(f, "%lld,%.17g,\"s,%zu\"\n", (long long)k[i], x[i], i);
        }
        fclose(f);
        weft_array *ax, *ak;
        ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, x, &ax));
        ASSERT_OK(weft_array_from(ctx, WEFT_I64, n, k, &ak));
        weft_bind b[] = {weft_bind_array("x", ax), weft_bind_array("k", ak)};
        struct {
            weft_reduce_op op;
            const char *expr;
        } cases[] = {{WEFT_SUM, "x"},
                     {WEFT_SUM, "x * x + k"},
                     {WEFT_SUM, "k"},
                     {WEFT_PROD, "1 + x"},
                     {WEFT_MIN, "x"},
                     {WEFT_ARGMAX, "x * k"},
                     {WEFT_ANY, "x > 1e5"},
                     {WEFT_ALL, "k > -2000000"},
                     /* i is the row's index in the file, not in its window */
                     {WEFT_SUM, "x * i"},
                     {WEFT_ARGMAX, "k - i"},
                     {WEFT_SUM, "k * 0 + i"},
                     /* reading no column at all: the rows still count */
                     {WEFT_MAX, "i"},
                     {WEFT_SUM, "i * 2"}};
        const size_t nc = sizeof cases / sizeof cases[0];
        for (size_t c = 0; c < nc; c++) {
            weft_csv_reduction red = {cases[c].op, cases[c].expr, {0, {0}, 0}};
            weft_csv_options o;
            weft_csv_options_init(&o);
            o.window_bytes = 100000; /* several windows, cut inside blocks */
            o.types = "k=i64,x=f64"; /* an empty file types nothing */
            weft_csv_job job = {0};
            job.reductions = &red;
            job.nreductions = 1;
            weft_status st = weft_csv_run(ctx, path_of("r.csv"), NULL, &o, &job, NULL);
            weft_scalar want;
            weft_status ws = weft_reduce_expr(ctx, cases[c].op, cases[c].expr, b, 2, &want, NULL);
            assert_int_equal(st, ws); /* MIN and ARGMAX of nothing fail alike */
            if (ws != WEFT_OK) continue;
            if (red.result.dtype != want.dtype ||
                memcmp(&red.result.value, &want.value, sizeof want.value) != 0 ||
                red.result.index != want.index)
                fail_msg("%zu rows, %s: streamed %.17g (index %llu), memory %.17g (index %llu)", n,
                         cases[c].expr, weft_scalar_as_double(&red.result),
                         (unsigned long long)red.result.index, weft_scalar_as_double(&want),
                         (unsigned long long)want.index);
        }
        weft_array_free(ax);
        weft_array_free(ak);
        free(x);
        free(k);
    }
}

/* A whole-file reduction over rows long enough that a window carries more
 * than the reader's headroom into the next (up to 4095 rows of 600 bytes):
 * the reader took a block's end-of-file mark after handing the block back
 * to the read-ahead thread, which may have refilled it with the file's
 * last block; the run stopped a window early, the last record cut, the sum
 * short, with WEFT_OK (a run in three on a 34 MB file; ThreadSanitizer
 * sees the race on every run). */
static void test_reduction_reads_to_the_end(void **state)
{
    (void)state;
    enum { ROWS = 16000 };
    FILE *f = fopen(path_of("long.csv"), "w");
    assert_non_null(f);
    fputs("k,text\n", f);
    long long want = 0;
    for (int i = 0; i < ROWS; i++) {
        fprintf(f, "%d,\"%0590d\"\n", i % 1000, i);
        want += i % 1000;
    }
    fclose(f);
    for (int run = 0; run < 8; run++) {
        weft_csv_reduction red[] = {{WEFT_SUM, "k", {0, {0}, 0}}, {WEFT_MAX, "i", {0, {0}, 0}}};
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = 64 << 10;
        weft_csv_job job = {0};
        job.reductions = red;
        job.nreductions = 2;
        ASSERT_OK(weft_csv_run(ctx, path_of("long.csv"), NULL, &o, &job, NULL));
        if (red[0].result.value.i64 != want || red[1].result.value.i64 != ROWS - 1)
            fail_msg("run %d: sum %lld of %lld, last row %lld of %d", run,
                     (long long)red[0].result.value.i64, want, (long long)red[1].result.value.i64,
                     ROWS - 1);
    }
}

static void test_window_reader(void **state)
{
    (void)state;
    FILE *f = fopen(path_of("w.csv"), "wb");
    fprintf(f, "n,v,label\n");
    const size_t n = 30000;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%zu,%zu.5,\"l\n%zu\"\n", i, i, i % 10);
    fclose(f);
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = 50000;
    weft_csv_reader *r;
    ASSERT_OK(weft_csv_open(ctx, path_of("w.csv"), &o, &r));
    size_t cols;
    ASSERT_OK(weft_csv_column_count(r, &cols));
    assert_int_equal(cols, 3);
    assert_string_equal(weft_csv_column_name(r, 1), "v");
    assert_null(weft_csv_column_name(r, 3));
    size_t rows, total = 0, windows = 0;
    uint64_t first;
    for (;;) {
        ASSERT_OK(weft_csv_next(r, &rows, &first));
        if (rows == 0) break;
        assert_int_equal(first, total);
        weft_array *a;
        ASSERT_OK(weft_csv_column(r, 1, &a));
        weft_dtype dt;
        weft_array_dtype(a, &dt);
        assert_int_equal(dt, WEFT_F64);
        double *v = malloc(rows * sizeof *v);
        ASSERT_OK(weft_array_read(a, 0, rows, v));
        for (size_t i = 0; i < rows; i++)
            assert_true(v[i] == (double)(first + i) + 0.5);
        free(v);
        /* The reader's array is the reader's to free: freeing it left the
         * reader handing out the dead handle with WEFT_OK. */
        assert_int_equal(weft_array_free(a), WEFT_ERR_STATE);
        assert_non_null(strstr(weft_last_error(), "belongs to a CSV reader"));
        weft_array *again;
        ASSERT_OK(weft_csv_column(r, 1, &again));
        double sum = 0;
        ASSERT_OK(weft_sum(ctx, again, &sum, NULL));
        assert_true(sum > 0);
        const char *text;
        size_t len;
        ASSERT_OK(weft_csv_field(r, rows - 1, 2, &text, &len));
        char want[32];
        snprintf(want, sizeof want, "\"l\n%llu\"", (unsigned long long)((first + rows - 1) % 10));
        assert_int_equal(len, strlen(want));
        assert_memory_equal(text, want, len);
        assert_int_equal(weft_csv_field(r, rows, 0, &text, &len), WEFT_ERR_RANGE);
        total += rows;
        windows++;
    }
    assert_int_equal(total, n);
    assert_true(windows > 3);
    ASSERT_OK(weft_csv_close(r));
    assert_int_equal(weft_csv_open(ctx, path_of("missing.csv"), NULL, &r), WEFT_ERR_IO);
    assert_non_null(strstr(weft_last_error(), "missing.csv"));
    assert_int_equal(weft_csv_open(NULL, path_of("w.csv"), NULL, &r), WEFT_ERR_NULL);
    /* A closed reader, as any freed handle: WEFT_ERR_STATE, never memory
     * freed twice (a second close aborted the process) or read after. */
    ASSERT_OK(weft_csv_open(ctx, path_of("w.csv"), NULL, &r));
    ASSERT_OK(weft_csv_close(r));
    size_t closed_rows, count;
    const char *text;
    size_t len;
    weft_array *a;
    assert_int_equal(weft_csv_close(r), WEFT_ERR_STATE);
    assert_non_null(strstr(weft_last_error(), "not a live CSV reader"));
    assert_int_equal(weft_csv_next(r, &closed_rows, NULL), WEFT_ERR_STATE);
    assert_int_equal(weft_csv_column(r, 0, &a), WEFT_ERR_STATE);
    assert_int_equal(weft_csv_field(r, 0, 0, &text, &len), WEFT_ERR_STATE);
    assert_int_equal(weft_csv_column_count(r, &count), WEFT_ERR_STATE);
    assert_null(weft_csv_column_name(r, 0));
    assert_int_equal(weft_csv_close((weft_csv_reader *)ctx), WEFT_ERR_STATE); /* another kind */
}

/* A later window that does not fit the type the first chose: the advice to
 * type the column up front comes only where it helps (floats after
 * integers); a field that is no number is named as such (the advice to
 * declare it f64 led to a second error). The status is said once. */
static void test_later_window_misfits(void **state)
{
    (void)state;
    static const struct {
        const char *last, *has, *lacks;
    } cases[] = {{"2.5", "give its type up front (types \"a=f64\"", NULL},
                 {"x", "\"x\" is not a number", "give its type"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t cap = 8 + 2 * 20000 + 16, len = 0;
        char *input = malloc(cap);
        len += (size_t)snprintf(input + len, cap - len, "a\n");
        for (int i = 0; i < 20000; i++)
            len += (size_t)snprintf(input + len, cap - len, "1\n");
        snprintf(input + len, cap - len, "%s\n", cases[k].last);
        const char *st[] = {"b = a * 2"};
        char *out = NULL;
        assert_int_equal(run_with(input, 4096, st, 1, &out), WEFT_ERR_DATA);
        free(out);
        const char *msg = weft_last_error();
        if (!strstr(msg, cases[k].has) || (cases[k].lacks && strstr(msg, cases[k].lacks)))
            fail_msg("\"%s\": %s", cases[k].last, msg);
        const char *status = weft_status_str(WEFT_ERR_DATA);
        assert_null(strstr(strstr(msg, status) + strlen(status), status));
        free(input);
    }
}

/* A wide file: any column can be read, however far right (columns past the
 * 32nd were refused as "at most 32 numeric columns"), with the types the
 * options give it; a column typed twice is an error. */
static void test_window_reader_wide_file(void **state)
{
    (void)state;
    enum { COLS = 300, ROWS = 50 };
    FILE *f = fopen(path_of("wide.csv"), "wb");
    for (int c = 0; c < COLS; c++)
        fprintf(f, "%sc%d", c ? "," : "", c);
    fprintf(f, "\n");
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++)
            fprintf(f, "%d%s", r * 1000 + c, c + 1 < COLS ? "," : "\n");
    fclose(f);
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.types = "c299=i64,c40=f64";
    weft_csv_reader *r;
    ASSERT_OK(weft_csv_open(ctx, path_of("wide.csv"), &o, &r));
    size_t rows;
    uint64_t first;
    ASSERT_OK(weft_csv_next(r, &rows, &first));
    assert_int_equal(rows, ROWS);
    static const size_t columns[] = {299, 40, 31, 32, 0};
    for (size_t k = 0; k < sizeof columns / sizeof *columns; k++) {
        weft_array *a;
        ASSERT_OK(weft_csv_column(r, columns[k], &a));
        weft_dtype dt;
        weft_array_dtype(a, &dt);
        assert_int_equal(dt, columns[k] == 40 ? WEFT_F64 : WEFT_I64);
        double v[ROWS], sum = 0;
        if (dt == WEFT_I64) {
            int64_t iv[ROWS];
            ASSERT_OK(weft_array_read(a, 0, ROWS, iv));
            for (int i = 0; i < ROWS; i++)
                v[i] = (double)iv[i];
        } else {
            ASSERT_OK(weft_array_read(a, 0, ROWS, v));
        }
        for (int i = 0; i < ROWS; i++)
            sum += v[i];
        assert_true(sum == (double)(ROWS * (ROWS - 1) / 2 * 1000 + ROWS * (int)columns[k]));
    }
    weft_array *a;
    assert_int_equal(weft_csv_column(r, COLS, &a), WEFT_ERR_RANGE);
    ASSERT_OK(weft_csv_close(r));
    o.types = "c5=i64,c5=f64";
    assert_int_equal(weft_csv_open(ctx, path_of("wide.csv"), &o, &r), WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "typed twice"));
}

static void cancel_after_first(void *user, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    *(int *)user = 1;
}

static void test_cancel_and_arguments(void **state)
{
    (void)state;
    char big[20000] = "x\n";
    for (int i = 0; i < 3000; i++)
        strcat(big, "12345\n");
    write_text("in.csv", big);
    write_text("out.csv", "old\n");
    int flag = 0;
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = 1000;
    const char *st[] = {"y = x"};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 1;
    job.progress = cancel_after_first;
    job.progress_user = &flag;
    job.cancel = &flag;
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), &o, &job, NULL),
                     WEFT_ERR_CANCELLED);
    char *out = read_all("out.csv", NULL);
    assert_string_equal(out, "old\n");
    free(out);
    job.cancel = NULL; /* a cancelled run may stop before it checks its arguments */
    assert_int_equal(weft_csv_run(NULL, "a", "b", NULL, NULL, NULL), WEFT_ERR_NULL);
    o.delimiter = '"';
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), NULL, &o, NULL, NULL),
                     WEFT_ERR_INVALID_ARG);
    weft_csv_options_init(&o);
    o.types = "x=f16";
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), NULL, &o, &job, NULL), WEFT_ERR_DTYPE);
    /* An output in a directory that does not exist. */
    weft_csv_options_init(&o);
    job.cancel = NULL;
    job.progress = NULL;
    assert_int_equal(
        weft_csv_run(ctx, path_of("in.csv"), path_of("no/such/dir.csv"), &o, &job, NULL),
        WEFT_ERR_IO);
}

/* Windows of several chunks (128 KiB and more each): quoted fields holding
 * newlines, delimiters and quotes fall on chunk and window edges, so the
 * quote parity carried from chunk to chunk decides every record. */
static void test_parallel_chunks_quotes(void **state)
{
    (void)state;
    const size_t n = 60000;
    size_t cap = n * 96 + 64, in_len = 0, want_len = 0;
    char *in = malloc(cap), *want = malloc(cap + n * 16);
    in_len += (size_t)sprintf(in, "x,s,t\n");
    want_len += (size_t)sprintf(want, "x,s,t,y\n");
    for (size_t i = 0; i < n; i++) {
        char s[64];
        switch (i % 5) {
        case 0:
            snprintf(s, sizeof s, "\"a\n%zu,\"\"q\"\"\n\"", i);
            break;
        case 1:
            snprintf(s, sizeof s, "plain%zu", i);
            break;
        case 2:
            snprintf(s, sizeof s, "\"\"");
            break;
        case 3:
            snprintf(s, sizeof s, "\",,\r\n%zu\"", i);
            break;
        default:
            snprintf(s, sizeof s, "\"\"\"\"\"\"");
        }
        in_len += (size_t)sprintf(in + in_len, "%zu,%s,%s\n", i, s, i % 7 ? "t" : "\"u,v\"");
        want_len += (size_t)sprintf(want + want_len, "%zu,%s,%s,%zu\n", i, s,
                                    i % 7 ? "t" : "\"u,v\"", 3 * i);
    }
    write_file("p.csv", in, in_len);
    size_t windows[] = {0, (size_t)300 << 10, (size_t)1 << 20, (size_t)3 << 20};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = windows[w];
        const char *st[] = {"y = x * 3"};
        weft_csv_job job = {0};
        job.statements = st;
        job.nstatements = 1;
        weft_csv_stats stats;
        ASSERT_OK(weft_csv_run(ctx, path_of("p.csv"), path_of("p_out.csv"), &o, &job, &stats));
        assert_int_equal(stats.rows, n);
        size_t got_len;
        char *got = read_all("p_out.csv", &got_len);
        if (got_len != want_len || memcmp(got, want, want_len) != 0)
            fail_msg("window %zu: the output differs", windows[w]);
        free(got);
    }
    free(in);
    free(want);
}

/* Many rows through the default window against a plain C reference. */
static void test_many_rows(void **state)
{
    (void)state;
    const size_t n = 300000;
    FILE *f = fopen(path_of("m.csv"), "wb");
    size_t cap = n * 64 + 64, len = 0;
    char *want = malloc(cap);
    fprintf(f, "id,v\n");
    len += (size_t)snprintf(want, cap, "id,v,w\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu,%zu\n", i, i * 7);
        len += (size_t)snprintf(want + len, cap - len, "%zu,%zu,%zu\n", i, i * 7, i * 7 + i);
    }
    fclose(f);
    const char *st[] = {"w = v + id"};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 1;
    weft_csv_stats stats;
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = 1 << 20;
    ASSERT_OK(weft_csv_run(ctx, path_of("m.csv"), path_of("m_out.csv"), &o, &job, &stats));
    assert_int_equal(stats.rows, n);
    assert_true(stats.windows > 2);
    size_t got_len;
    char *got = read_all("m_out.csv", &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    assert_int_equal(stats.bytes_written, len);
    free(got);
    free(want);
}

/* Issue 17: window k is formatted while window k+1 is parsed and its
 * statements run. Random rows (quoted labels holding delimiters, quotes and
 * line ends, some longer than a window, so a record spans blocks while the
 * window before is held), with and without a whole-file reduction (windows
 * of whole blocks), overlapped and one at a time (WEFT_CSV_OVERLAP), against
 * plain C; then a bad field in a later window while the statements of the
 * one before are in flight. */
static void test_pipelined_windows(void **state)
{
    (void)state;
    const size_t n = 9000;
    size_t cap = n * 200 + 64, in_len = 0, want_len = 0;
    char *in = malloc(cap), *want = malloc(cap + n * 24);
    in_len += (size_t)sprintf(in, "id,v,label\r\n");
    want_len += (size_t)sprintf(want, "id,v,label,w\n");
    srand(17);
    long long sum = 0;
    for (size_t i = 0; i < n; i++) {
        char label[160];
        int kind = rand() % 8;
        size_t ln = kind == 0 ? 120 + (size_t)(rand() % 30) : (size_t)(rand() % 12);
        size_t k = 0;
        if (kind == 1) k += (size_t)sprintf(label, "\"a,\"\"b\"\"\n");
        for (; k < ln; k++)
            label[k] = (char)('a' + rand() % 26);
        if (kind == 1) label[k++] = '"';
        label[k] = 0;
        long long v = rand() % 20001 - 10000;
        in_len += (size_t)sprintf(in + in_len, "%zu,%lld,%s\r\n", i, v, label);
        want_len += (size_t)sprintf(want + want_len, "%zu,%lld,%s,%lld\n", i, v, label,
                                    v * 3 + (long long)i);
        sum += v * 3 + (long long)i;
    }
    write_text("p.csv", in);
    const char *st[] = {"w = v * 3 + id"};
    weft_csv_reduction red = {WEFT_SUM, "w", {0, {0}, 0}};
    size_t windows[] = {64, 200, 1000, 20000, 0};
    for (int overlap = 0; overlap < 2; overlap++)
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
            for (int reduce = 0; reduce < 2; reduce++) {
                setenv("WEFT_CSV_OVERLAP", overlap ? "1" : "0", 1);
                weft_csv_options o;
                weft_csv_options_init(&o);
                o.window_bytes = windows[w];
                weft_csv_job job = {0};
                job.statements = st;
                job.nstatements = 1;
                job.reductions = &red;
                job.nreductions = (size_t)reduce;
                weft_csv_stats stats;
                ASSERT_OK(
                    weft_csv_run(ctx, path_of("p.csv"), path_of("p_out.csv"), &o, &job, &stats));
                assert_int_equal(stats.rows, n);
                size_t got_len;
                char *got = read_all("p_out.csv", &got_len);
                if (got_len != want_len || memcmp(got, want, want_len) != 0)
                    fail_msg("overlap %d, window %zu, reduce %d: output differs", overlap,
                             windows[w], reduce);
                free(got);
                if (reduce) assert_true(weft_scalar_as_double(&red.result) == (double)sum);
            }
    /* A field that is no number far into the file: the run fails naming it,
     * after the windows before it were formatted, and writes nothing. */
    char *bad = strstr(in + in_len / 2, "\r\n8");
    assert_non_null(bad);
    size_t line = 1;
    for (const char *c = in; c <= bad + 1; c++)
        line += *c == '\n';
    char *comma = strchr(bad + 2, ',');
    comma[1] = 'x';
    write_text("p.csv", in);
    unlink(path_of("p_out.csv"));
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = 1000;
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 1;
    assert_int_equal(weft_csv_run(ctx, path_of("p.csv"), path_of("p_out.csv"), &o, &job, NULL),
                     WEFT_ERR_DATA);
    unsetenv("WEFT_CSV_OVERLAP");
    char where[64];
    snprintf(where, sizeof where, "p.csv:%zu:", line);
    if (!strstr(weft_last_error(), where)) fail_msg("%s lacks %s", weft_last_error(), where);
    assert_null(read_all("p_out.csv", NULL));
    free(in);
    free(want);
}

/* A run inside a task that waits for its input (here a FIFO nothing has
 * written yet) gives its pool slot to other tasks meanwhile: with one slot,
 * the second task below runs only if the first lends it. */
typedef struct fifo_run {
    weft_ctx *ctx;
    char in[512], out[512];
    atomic_int started;
} fifo_run;

static weft_status fifo_run_task(void *user)
{
    fifo_run *r = user;
    atomic_store(&r->started, 1);
    const char *statements[] = {"b = a * 2"};
    weft_csv_job job = {0};
    job.statements = statements;
    job.nstatements = 1;
    return weft_csv_run(r->ctx, r->in, r->out, NULL, &job, NULL);
}

static weft_status flag_task(void *user)
{
    atomic_store((atomic_int *)user, 1);
    return WEFT_OK;
}

static void test_waiting_for_input_lends_the_pool_slot(void **state)
{
    (void)state;
    fail_after(60);
    weft_options o = test_options();
    o.devices = "host";
    o.num_threads = 1;
    fifo_run r = {.ctx = test_ctx_with(&o)};
    snprintf(r.in, sizeof r.in, "%s", path_of("slow.csv"));
    snprintf(r.out, sizeof r.out, "%s", path_of("slow_out.csv"));
    unlink(r.in);
    assert_int_equal(mkfifo(r.in, 0600), 0);
    int writer = open(r.in, O_RDWR); /* a writer exists: the run's open does not block */
    assert_true(writer >= 0);
    weft_future *run, *other;
    ASSERT_OK(weft_submit(r.ctx, fifo_run_task, &r, NULL, 0, &run));
    while (!atomic_load(&r.started))
        usleep(1000);
    usleep(50000); /* it waits for the input now */
    atomic_int ran = 0;
    ASSERT_OK(weft_submit(r.ctx, flag_task, &ran, NULL, 0, &other));
    for (int i = 0; i < 5000 && !atomic_load(&ran); i++)
        usleep(1000);
    int lent = atomic_load(&ran);
    const char input[] = "a\n1\n2.5\n";
    assert_int_equal(write(writer, input, sizeof input - 1), (ssize_t)(sizeof input - 1));
    close(writer);
    ASSERT_OK(weft_future_wait(run));
    ASSERT_OK(weft_future_wait(other));
    weft_future_release(run);
    weft_future_release(other);
    assert_true(lent);
    char *out = read_all("slow_out.csv", NULL);
    assert_non_null(out);
    assert_string_equal(out, "a,b\n1,2.0\n2.5,5.0\n");
    free(out);
    unlink(r.in);
    ASSERT_OK(weft_ctx_free(r.ctx));
    fail_after(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_pipeline),
        cmocka_unit_test(test_quoting_across_windows),
        cmocka_unit_test(test_empty_header_only_one_row),
        cmocka_unit_test(test_line_ends_bom_blank_lines),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_utf8_checked_across_scan_chunks),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_columns_select_drop),
        cmocka_unit_test(test_reductions_match_memory),
        cmocka_unit_test(test_row_index_counts_from_the_file_start),
        cmocka_unit_test(test_job_mistakes_named),
        cmocka_unit_test(test_reduction_reads_to_the_end),
        cmocka_unit_test(test_window_reader),
        cmocka_unit_test(test_window_reader_wide_file),
        cmocka_unit_test(test_later_window_misfits),
        cmocka_unit_test(test_cancel_and_arguments),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_pipelined_windows),
        cmocka_unit_test(test_parallel_chunks_quotes),
        cmocka_unit_test(test_waiting_for_input_lends_the_pool_slot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
