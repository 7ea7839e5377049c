/* CSV dialects beyond RFC 4180's: line ends in a bare CR, cancelling a run
 * that waits on an idle pipe, column names that are not identifiers, the
 * spellings pandas reads by default, na_values (long lists too), and the
 * choices of the output side. */
#include "common.h"

#include <unistd.h>
#include "test_dir.h"
#include "../src/csv/na_set.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

static weft_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-csv-dialects-XXXXXX");
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

static const weft_csv_dialect *dialect; /* of run(); NULL: the defaults */
static char in_delimiter;               /* of run() without options; 0: ',' */

static weft_status run(const char *input, size_t window, const char *statement,
                       const weft_csv_options *base, char **output)
{
    write_text("in.csv", input);
    unlink(path_of("out.csv"));
    weft_csv_options o;
    if (base)
        o = *base;
    else
        weft_csv_options_init(&o);
    if (!base && in_delimiter) o.delimiter = in_delimiter;
    o.window_bytes = window;
    const char *st[] = {statement};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = statement ? 1 : 0;
    weft_status s =
        weft_csv_run_dialect(ctx, path_of("in.csv"), path_of("out.csv"), &o, dialect, &job, NULL);
    *output = read_all("out.csv", NULL);
    return s;
}

static const size_t windows[] = {0, 64, 97, 200};
#define NWINDOWS (sizeof windows / sizeof windows[0])

static void expect_output(const char *input, const char *statement, const char *want)
{
    for (size_t w = 0; w < NWINDOWS; w++) {
        char *out = NULL;
        weft_status s = run(input, windows[w], statement, NULL, &out);
        if (s != WEFT_OK) fail_msg("window %zu: %s", windows[w], weft_last_error());
        assert_non_null(out);
        if (strcmp(out, want) != 0)
            fail_msg("window %zu:\n--- got\n%s--- want\n%s", windows[w], out, want);
        free(out);
    }
}

/* WEFT_ERR_DATA with `where` and `what` in the message, and no output. */
static void expect_error(const char *input, const char *statement, const char *where,
                         const char *what)
{
    for (size_t w = 0; w < 2; w++) {
        char *out = NULL;
        weft_status s = run(input, windows[w], statement, NULL, &out);
        if (s != WEFT_ERR_DATA) fail_msg("%s: status %d, not WEFT_ERR_DATA", input, (int)s);
        const char *msg = weft_last_error();
        if (!strstr(msg, "in.csv:") || !strstr(msg, where) || !strstr(msg, what))
            fail_msg("window %zu: \"%s\" lacks \"%s\" or \"%s\"", windows[w], msg, where, what);
        assert_null(out);
    }
}

/* Issue 21.1: a file whose lines end in a bare CR was read as one header. */
static void test_lines_ending_in_cr(void **state)
{
    (void)state;
    expect_output("a,b\r1,2\r3,4\r", "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    expect_output("a,b\r1,2\r3,4", "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    /* Quoted fields keep their CR and LF; blank lines are skipped. */
    expect_output("a,s\r1,\"x\ry\nz\"\r\r2,w\r", "c = a * 2", "a,s,c\n1,\"x\ry\nz\",2\n2,w,4\n");
    /* The last line ended by an LF (or a CRLF), as an editor or a script
     * leaves it after old CR lines: it hides no record, and Python's csv
     * and pandas read it as the last line end. It was refused, blaming line
     * 1 or the last line by the window. */
    expect_output("a,b\r1,2\r3,4\n", "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    expect_output("a,b\r1,2\r3,4\r\n", "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    /* Many rows, so windows end at every kind of place. */
    char in[8192] = "x,y\r", want[8192] = "x,y,z\n";
    for (int i = 0; i < 200; i++) {
        char row[64];
        snprintf(row, sizeof row, "%d,%d\r", i, 3 * i);
        strcat(in, row);
        snprintf(row, sizeof row, "%d,%d,%d\n", i, 3 * i, 4 * i);
        strcat(want, row);
    }
    expect_output(in, "z = x + y", want);
    in[strlen(in) - 1] = '\n';
    expect_output(in, "z = x + y", want);
    /* The same, the file exactly one window long: its last byte was read
     * before the end of the file was known, and the file taken for LF. */
    size_t len = strlen(in);
    for (size_t window = len - 1; window <= len + 1; window++) {
        char *out = NULL;
        if (run(in, window, "z = x + y", NULL, &out) != WEFT_OK)
            fail_msg("window %zu of a %zu-byte file: %s", window, len, weft_last_error());
        assert_string_equal(out, want);
        free(out);
    }
}

/* A CR that ends nothing is never read as data: the docs promise an unquoted
 * field holds no CR. */
static void test_stray_line_ends_are_errors(void **state)
{
    (void)state;
    expect_error("x,s\n1,a\n2,b\rc\n", "y = x", ":3:4:", "carriage return");
    expect_error("x,s\r\n1,a\r\n2,b\rc\r\n", "y = x", ":3:4:", "carriage return");
    /* Mixed line ends: any LF outside quotes in the first window makes it an
     * LF file, so the CRs are the ones reported. */
    expect_error("x,s\r1,a\r2,b\nc\r", "y = x", ":1:4:", "carriage return");
    expect_error("x,s\ry\n1,a\n", "y = x", ":1:4:", "carriage return");
    /* An LF after a first window of CR lines. */
    char in[512] = "x,s\r";
    for (int i = 0; i < 30; i++)
        strcat(in, "1,a\r");
    strcat(in, "2,b\nc\r");
    char *out = NULL;
    assert_int_equal(run(in, 64, "y = x", NULL, &out), WEFT_ERR_DATA);
    if (!strstr(weft_last_error(), "in.csv:32:4: a line feed (LF) outside quotes"))
        fail_msg("%s", weft_last_error());
    assert_null(out);
}

/* Issue 21.2: a run reading an idle pipe stops when cancelled. */
typedef struct pipe_run {
    char in[512], out[512];
    volatile int cancel;
    weft_status status;
    char message[512];
    atomic_int done;
} pipe_run;

static void *pipe_run_main(void *arg)
{
    pipe_run *r = arg;
    const char *statements[] = {"b = a * 2"};
    weft_csv_job job = {0};
    job.statements = statements;
    job.nstatements = 1;
    job.cancel = &r->cancel;
    r->status = weft_csv_run(ctx, r->in, r->out, NULL, &job, NULL);
    snprintf(r->message, sizeof r->message, "%s", weft_last_error());
    atomic_store(&r->done, 1);
    return NULL;
}

static void on_wake(int sig)
{
    (void)sig;
}

/* Starts a run on a FIFO, cancels it after `idle_ms`, and checks that it
 * returns within a second with no output. `writer_data` (may be NULL) is
 * written first and the FIFO is then left open and idle. */
static void cancel_idle_fifo(int open_writer, const char *writer_data)
{
    pipe_run r = {0};
    snprintf(r.in, sizeof r.in, "%s", path_of("idle.fifo"));
    snprintf(r.out, sizeof r.out, "%s", path_of("idle_out.csv"));
    unlink(r.in);
    unlink(r.out);
    assert_int_equal(mkfifo(r.in, 0600), 0);
    int writer = open_writer ? open(r.in, O_RDWR) : -1;
    if (open_writer) assert_true(writer >= 0);
    if (writer_data)
        assert_int_equal(write(writer, writer_data, strlen(writer_data)),
                         (ssize_t)strlen(writer_data));
    /* A signal without SA_RESTART interrupts an open() waiting for a writer,
     * as weft csv's handler does. */
    struct sigaction sa = {0};
    sa.sa_handler = on_wake;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pipe_run_main, &r), 0);
    usleep(200000);
    assert_false(atomic_load(&r.done));
    __atomic_store_n(&r.cancel, 1, __ATOMIC_RELAXED); /* as another thread may set it */
    pthread_kill(t, SIGUSR1);
    for (int i = 0; i < 100 && !atomic_load(&r.done); i++)
        usleep(10000);
    if (!atomic_load(&r.done)) fail_msg("the cancelled run still waits on the idle FIFO");
    pthread_join(t, NULL);
    assert_int_equal(r.status, WEFT_ERR_CANCELLED);
    assert_non_null(strstr(r.message, "cancelled"));
    assert_int_equal(access(r.out, F_OK), -1);
    if (writer >= 0) close(writer);
    unlink(r.in);
}

static void test_cancel_while_the_input_is_idle(void **state)
{
    (void)state;
    fail_after(60);
    cancel_idle_fifo(1, NULL);        /* nothing written yet */
    cancel_idle_fifo(1, "a\n1\n2\n"); /* rows came, then nothing */
    cancel_idle_fifo(0, NULL);        /* open() waits for a writer */
    fail_after(0);
}

/* Issue 21.3: names that are not identifiers, in backquotes. */
static void test_backquoted_names(void **state)
{
    (void)state;
    const char *in = "'popul',STS.M.I7, cpi,1960,\n1,2,3,4,5\n6,7,8,9,10\n";
    expect_output(in, "new_column = `1960` * 2",
                  "'popul',STS.M.I7, cpi,1960,,new_column\n1,2,3,4,5,8\n6,7,8,9,10,18\n");
    expect_output(in, "`new col` = `'popul'` + `STS.M.I7` + ` cpi` + ``; `1960` = `1960` - 1",
                  "'popul',STS.M.I7, cpi,1960,,new col\n1,2,3,3,5,11\n6,7,8,8,10,31\n");
    /* A backquote in a name is written twice; a plain identifier may be quoted. */
    expect_output("a`b,x\n1,2\n", "y = `a``b` + `x`", "a`b,x,y\n1,2,3\n");
    /* The number 1960 is not the column 1960: refused rather than guessed. */
    char *out = NULL;
    assert_int_equal(run(in, 0, "new_column = 1960 * 2", NULL, &out), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "write `1960` for the column"));
    assert_null(out);
    assert_int_equal(run(in, 0, "y = `1960 * 2", NULL, &out), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "closing backquote"));
    /* A compile error names the column as it was written. */
    assert_int_equal(run(in, 0, "y = `STS.M.I7` +", NULL, &out), WEFT_ERR_EXPR);
    assert_null(strstr(weft_last_error(), "__weft"));
    /* Reductions and select see the same names. */
    write_text("in.csv", in);
    weft_csv_reduction red = {WEFT_MAX, "`1960` * `STS.M.I7`", {0}};
    const char *st[] = {"`a b` = ` cpi` * 2"};
    const char *sel[] = {"a b", "1960"};
    weft_csv_job job = {0};
    job.statements = st;
    job.nstatements = 1;
    job.reductions = &red;
    job.nreductions = 1;
    job.select = sel;
    job.nselect = 2;
    ASSERT_OK(weft_csv_run(ctx, path_of("in.csv"), path_of("out.csv"), NULL, &job, NULL));
    assert_int_equal(red.result.value.i64, 63);
    out = read_all("out.csv", NULL);
    assert_string_equal(out, "a b,1960\n6,4\n16,9\n");
    free(out);
}

/* An expression error points at what the user wrote, not at the text with
 * backquoted names replaced (the column and caret were off by the names'
 * length differences), and a name written without the backquotes it needs
 * is told how to write it. */
static void test_errors_point_at_what_was_written(void **state)
{
    (void)state;
    const char *in = "Total (USD),old column,tip\n1,2,3\n";
    char *out = NULL;
    char caret[64];
    assert_int_equal(run(in, 0, "y = `Total (USD)` * `old column` + tipx / 2.0", NULL, &out),
                     WEFT_ERR_EXPR);
    snprintf(caret, sizeof caret, "tipx / 2.0\n  %*s^", 35, "");
    assert_non_null(strstr(weft_last_error(), "unknown name \"tipx\" at column 36"));
    assert_non_null(strstr(weft_last_error(), caret));
    assert_int_equal(run(in, 0, "z = tip; y = `Total (USD)` * (`old column` + 2", NULL, &out),
                     WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "the '(' at column 30 at column 47"));
    /* A statement cut short at its line's end (its message held a raw line
     * end, and was left in the rewritten text's columns). */
    assert_int_equal(run(in, 0, "z = `Total (USD)` * (", NULL, &out), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "(at the end of the line) at column 22"));
    /* A backquoted name and letters right after it are two tokens: `tip`2
     * read as the identifier tip2 (another column, where there is one). */
    assert_int_equal(run("tip,tip2\n1,5\n", 0, "y = `tip`2", NULL, &out), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "found \"2\" at column 10"));
    const struct {
        const char *statement, *hint;
    } bare[] = {{"y = \"old column\" * 2", "`old column`"},
                {"y = Total (USD) * 2", "`Total (USD)`"},
                {"y = 2 * old column", "`old column`"}};
    for (size_t k = 0; k < sizeof bare / sizeof bare[0]; k++) {
        assert_int_equal(run(in, 0, bare[k].statement, NULL, &out), WEFT_ERR_EXPR);
        assert_non_null(strstr(weft_last_error(), "goes in backquotes"));
        assert_non_null(strstr(weft_last_error(), bare[k].hint));
    }
    assert_null(out);
    /* A reduction's message quotes it as written, and points there too. */
    write_text("in.csv", in);
    weft_csv_reduction red = {WEFT_MAX, "`tip` == `tip` ? `tip` : -tips", {0}};
    weft_csv_job job = {0};
    job.reductions = &red;
    job.nreductions = 1;
    assert_int_equal(weft_csv_run(ctx, path_of("in.csv"), NULL, NULL, &job, NULL), WEFT_ERR_EXPR);
    snprintf(caret, sizeof caret, "-tips\n  %*s^", 26, "");
    assert_non_null(strstr(weft_last_error(), "\"tips\" at column 27"));
    assert_non_null(strstr(weft_last_error(), caret));
}

/* Issue 21.4: what pandas reads by default. */
static void test_spaces_and_missing_spellings(void **state)
{
    (void)state;
    expect_output("a,b\n\"           0 \", 1.5 \n  2,3\t\n", "c = a + b",
                  "a,b,c\n\"           0 \", 1.5 ,1.5\n  2,3\t,5.0\n");
    expect_output("x\n1.5\n#N/A N/A\n-1.#IND\n1.#QNAN\n-1.#QNAN\n1.#IND\nnull\n", "y = x * 2",
                  "x,y\n1.5,3.0\n#N/A N/A,\n-1.#IND,\n1.#QNAN,\n-1.#QNAN,\n1.#IND,\nnull,\n");
    /* Spaces only: text to pandas, so no number here. */
    expect_error("x\n1.5\n   \n", "y = x * 2", ":3:1:", "is not a number");
}

static void test_lines_before_the_header_and_comments(void **state)
{
    (void)state;
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    dialect = NULL;
    d.skip_lines = 2;
    d.comment = '#';
    dialect = &d;
    expect_output("title: \"odd quote\nsource, 2024\r\n#c\n\na,b\n1,2\n#x,y,z\n3,4\n# end",
                  "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    expect_output("t\rmeta\ra,b\r1,2\r#x\r3,4\r", "c = a + b", "a,b,c\n1,2,3\n3,4,7\n");
    /* A quote in a comment line would open a quoted field: refused. */
    d.skip_lines = 0;
    expect_error("a,b\n1,2\n# it's \"odd\n3,4\n", "c = a + b", ":3:1:", "comment line");
    /* Errors count the skipped lines. */
    d.skip_lines = 1;
    expect_error("meta\na,b\n1,2\n#\n3,x\n", "c = a + b", ":5:3:", "column 'b'");
    /* More lines than the file has: refused at its end, however many were
     * asked for (it spun once per line asked, forever for SIZE_MAX). */
    dialect = NULL;
    /* A gzip file is named as one. */
    d.skip_lines = 0;
    expect_error("\x1f\x8b\x08\x00,b\n1,2\n", "c = b + 1", "", "a gzip file");
    dialect = &d;
    alarm(20);
    d.skip_lines = SIZE_MAX;
    expect_error("a,b\n1,2\n", "c = a + b", "", "passes the end of the file (2 lines)");
    d.skip_lines = 3;
    expect_error("a,b\n1,2\n", "c = a + b", "", "passes the end of the file (2 lines)");
    alarm(0);
    dialect = NULL;
}

static void test_rows_of_the_wrong_width(void **state)
{
    (void)state;
    const char *in = "a,b\n1,2\n3\n4,5,6\n7,8\n";
    dialect = NULL;
    expect_error(in, "c = a + b", ":3:1:", "expected 2 fields, found 1");
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    dialect = &d;
    d.bad_rows = WEFT_CSV_BAD_SKIP;
    expect_output(in, "c = a + b", "a,b,c\n1,2,3\n7,8,15\n");
    d.bad_rows = WEFT_CSV_BAD_PAD;
    expect_error(in, "c = a + b", ":4:1:", "expected 2 fields, found 3");
    expect_output("a,b,s\n1,2,x\n3\r\n4,5\n", "c = a + b", "a,b,s,c\n1,2,x,3.0\n3,,,\n4,5,,9.0\n");
    expect_output("a,b,s\n1,2,x\n3\n", NULL, "a,b,s\n1,2,x\n3,,\n");
    dialect = NULL;
}

/* Rows left out for their width are counted (a header mistake leaves them
 * all out: never silently), over windows of any size, with a reduction's
 * windows of whole blocks too. */
static void test_rows_left_out_are_counted(void **state)
{
    (void)state;
    FILE *f = fopen(path_of("in.csv"), "w");
    assert_non_null(f);
    fputs("a,b\n", f);
    uint64_t kept = 0, left_out = 0;
    for (int i = 0; i < 20000; i++)
        if (i % 7 == 3) {
            fprintf(f, "%d\n", i);
            left_out++;
        } else {
            fprintf(f, "%d,%d\n", i, i % 5);
            kept++;
        }
    fclose(f);
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    d.bad_rows = WEFT_CSV_BAD_SKIP;
    for (size_t w = 0; w < NWINDOWS; w++)
        for (int reduce = 0; reduce <= 1; reduce++) {
            weft_csv_options o;
            weft_csv_options_init(&o);
            o.window_bytes = windows[w] ? windows[w] * 16 : 0;
            weft_csv_reduction red = {WEFT_SUM, "b", {0, {0}, 0}};
            weft_csv_job job = {0};
            job.reductions = reduce ? &red : NULL;
            job.nreductions = reduce ? 1 : 0;
            weft_csv_stats stats;
            ASSERT_OK(weft_csv_run_dialect(
                ctx, path_of("in.csv"), reduce ? NULL : path_of("out.csv"), &o, &d, &job, &stats));
            if (stats.rows != kept || stats.rows_skipped != left_out)
                fail_msg("window %zu, reduce %d: %llu rows, %llu left out; want %llu, %llu",
                         windows[w], reduce, (unsigned long long)stats.rows,
                         (unsigned long long)stats.rows_skipped, (unsigned long long)kept,
                         (unsigned long long)left_out);
        }
}

/* The first window types a column; a later misfit says how to type it. */
static void test_type_change_advice(void **state)
{
    (void)state;
    char in[512] = "x\n";
    for (int i = 0; i < 40; i++)
        strcat(in, "12\n");
    strcat(in, "1.5\n");
    char *out = NULL;
    assert_int_equal(run(in, 64, "y = x * 2", NULL, &out), WEFT_ERR_DATA);
    assert_non_null(strstr(weft_last_error(), "in.csv:42:1:"));
    assert_non_null(strstr(weft_last_error(), "--type 'x=f64'"));
    assert_null(out);
}

/* Issue 21.5: converting to another dialect, as pandas' to_csv does. */
static void test_output_dialects(void **state)
{
    (void)state;
    const char *in = "id,label,x\n1,\"a,b\",1.5\n2,\"say \"\"hi\"\"\",\n3,plain,2\n";
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    dialect = &d;
    d.out_delimiter = ';'; /* minimal quoting: "a,b" needs none now */
    expect_output(in, "y = x * 2",
                  "id;label;x;y\n1;a,b;1.5;3.0\n2;\"say \"\"hi\"\"\";;\n3;plain;2;4.0\n");
    d.quoting = WEFT_CSV_QUOTE_ALL;
    expect_output(in, "y = x * 2",
                  "\"id\";\"label\";\"x\";\"y\"\n\"1\";\"a,b\";\"1.5\";\"3.0\"\n"
                  "\"2\";\"say \"\"hi\"\"\";\"\";\"\"\n\"3\";\"plain\";\"2\";\"4.0\"\n");
    d.quoting = WEFT_CSV_QUOTE_NONNUMERIC;
    expect_output(in, "y = x * 2",
                  "\"id\";\"label\";\"x\";\"y\"\n1;\"a,b\";1.5;3.0\n"
                  "2;\"say \"\"hi\"\"\";\"\";\"\"\n3;\"plain\";2;4.0\n");
    /* Numbers with spaces around them are numbers, as the columns read
     * them; a field of spaces only is text. */
    d.out_delimiter = ',';
    expect_output("a,b\n 17 ,x\n5.3  ,y\n  ,z\n", NULL,
                  "\"a\",\"b\"\n 17 ,\"x\"\n5.3  ,\"y\"\n\"  \",\"z\"\n");
    d.out_delimiter = ';';
    /* A field holding the new delimiter gets quotes. */
    in_delimiter = ';';
    d.out_delimiter = 0;
    d.quoting = WEFT_CSV_QUOTE_MINIMAL;
    expect_output("a;b\n1;x,y\n", NULL, "a;b\n1;x,y\n");
    d.out_delimiter = ',';
    d.quoting = WEFT_CSV_QUOTE_KEEP;
    expect_output("a;b\n1;x,y\n\"2\";z\n", NULL, "a,b\n1,\"x,y\"\n2,z\n");
    in_delimiter = 0;
    /* CRLF line ends, fields kept as read. */
    weft_csv_dialect_init(&d);
    d.crlf = 1;
    expect_output("a,b\n1,\"x\"\n", "c = a + 1", "a,b,c\r\n1,\"x\",2\r\n");
    expect_output("a,b\n1,\"x\"\n", NULL, "a,b\r\n1,\"x\"\r\n");
    dialect = NULL;
}

/* Issue 24: na_values, at the first and last row, quoted, numeric, in CRLF
 * files and filling a whole column, through every window size. */
static void test_na_values(void **state)
{
    (void)state;
    const char *na[] = {"-999", "missing"};
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    d.na_values = na;
    d.n_na_values = 2;
    dialect = &d;
    expect_output("x,s\nmissing,a\n1.5,\"b\"\n\"-999\",c\n2,d\n-999,e\n", "y = x * 2",
                  "x,s,y\nmissing,a,\n1.5,\"b\",3.0\n\"-999\",c,\n2,d,4.0\n-999,e,\n");
    expect_output("x\r\n-999\r\nmissing\r\n\r\n", "y = x + 1", "x,y\n-999,\nmissing,\n");
    /* An integer column with one is f64, as pandas reads it; the text is
     * matched whole, and spaces are part of it. */
    expect_output("i\n3\n-999\n", "j = i * 2", "i,j\n3,6.0\n-999,\n");
    expect_output("i\n3\n -999\n", "j = i * 2", "i,j\n3,6\n -999,-1998\n");
    /* Without the list, "-999" is a number and "missing" text. */
    dialect = NULL;
    expect_output("i\n3\n-999\n", "j = i * 2", "i,j\n3,6\n-999,-1998\n");
    expect_error("x\nmissing\n", "y = x * 2", ":2:1:", "is not a number");
    /* In an i64 column: an error naming the field, or int_missing's value. */
    dialect = &d;
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.types = "i=i64";
    char *out = NULL;
    assert_int_equal(run("i\n3\n4\n-999\n", 0, "j = i * 2", &o, &out), WEFT_ERR_DATA);
    assert_non_null(strstr(weft_last_error(), "in.csv:4:1:"));
    assert_non_null(strstr(weft_last_error(), "missing integer"));
    assert_null(out);
    o.int_missing_fill = 1;
    o.int_missing_value = 7;
    ASSERT_OK(run("i\n3\nmissing\n", 0, "j = i * 2", &o, &out));
    assert_string_equal(out, "i,j\n3,6\nmissing,14\n");
    free(out);
    /* A NULL list, or a NULL string in it, is refused. */
    d.na_values = NULL;
    assert_int_equal(run("x\n1\n", 0, NULL, NULL, &out), WEFT_ERR_NULL);
    const char *holes[] = {"a", NULL};
    d.na_values = holes;
    assert_int_equal(run("x\n1\n", 0, NULL, NULL, &out), WEFT_ERR_NULL);
    dialect = NULL;
}

/* The reader with na_values against a plain parse of random fields. */
static void test_na_values_reader_random(void **state)
{
    (void)state;
    static const char *const tokens[] = {"-999", "\"-999\"", "missing", "NA", "", "\"missing\""};
    enum { ROWS = 3000 };
    double *want = malloc(ROWS * sizeof *want);
    srand(24);
    FILE *f = fopen(path_of("na.csv"), "wb");
    assert_non_null(f);
    fputs("id,x\r\n", f);
    for (int i = 0; i < ROWS; i++) {
        /* Missing at the first and the last row, and in runs. */
        int missing = i == 0 || i == ROWS - 1 || (i / 500) % 3 == 1 || rand() % 4 == 0;
        if (missing) {
            fprintf(f, "%d,%s\r\n", i, tokens[rand() % 6]);
            want[i] = NAN;
        } else {
            int v = rand() % 1001 - 500;
            fprintf(f, "%d,%.2f\r\n", i, v + 0.25);
            want[i] = v + 0.25;
        }
    }
    fclose(f);
    const char *na[] = {"-999", "missing"};
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    d.na_values = na;
    d.n_na_values = 2;
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.window_bytes = 4096;
    weft_csv_reader *r;
    ASSERT_OK(weft_csv_open_dialect(ctx, path_of("na.csv"), &o, &d, &r));
    size_t rows, total = 0;
    uint64_t first;
    double *v = malloc(ROWS * sizeof *v);
    for (;;) {
        ASSERT_OK(weft_csv_next(r, &rows, &first));
        if (rows == 0) break;
        weft_array *a;
        ASSERT_OK(weft_csv_column(r, 1, &a));
        ASSERT_OK(weft_array_read(a, 0, rows, v));
        for (size_t i = 0; i < rows; i++) {
            double w = want[first + i];
            if (isnan(w) ? !isnan(v[i]) : v[i] != w)
                fail_msg("row %llu: %g, want %g", (unsigned long long)(first + i), v[i], w);
        }
        total += rows;
    }
    assert_int_equal(total, ROWS);
    ASSERT_OK(weft_csv_close(r));
    /* The same file without the list: "-999" is a number, "missing" no number. */
    ASSERT_OK(weft_csv_open_dialect(ctx, path_of("na.csv"), &o, NULL, &r));
    ASSERT_OK(weft_csv_next(r, &rows, &first));
    weft_array *a;
    assert_int_equal(weft_csv_column(r, 1, &a), WEFT_ERR_DATA);
    ASSERT_OK(weft_csv_close(r));
    free(v);
    free(want);
}

/* A reader refused for its dialect closes nothing it did not open: the
 * standard input (descriptor 0, what a zeroed reader would hold) stays open. */
static void test_refused_reader_leaves_stdin_open(void **state)
{
    (void)state;
    FILE *f = fopen(path_of("refused.csv"), "w");
    assert_non_null(f);
    fputs("a,b\n1,2\n", f);
    fclose(f);
    int had_stdin = fcntl(0, F_GETFD) != -1;
    const char *na[] = {"-999", NULL};
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    d.na_values = na;
    d.n_na_values = 2;
    weft_csv_reader *r = NULL;
    assert_int_equal(weft_csv_open_dialect(ctx, path_of("refused.csv"), NULL, &d, &r),
                     WEFT_ERR_NULL);
    assert_null(r);
    if (had_stdin) assert_true(fcntl(0, F_GETFD) != -1);
}

/* ---- Long na_values lists: the set against a linear scan, runs against a
 * plain parse of every field ---- */

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
    snprintf(path, sizeof path, "%s/na_long.csv", dir);
    snprintf(out_path, sizeof out_path, "%s/out_long.csv", dir);
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
    static const size_t sizes[] = {4096, 0};
    double *v = malloc(ROWS * sizeof *v);
    size_t missing = 0;
    for (size_t w = 0; w < 2; w++) {
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = sizes[w];
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
                    fail_msg("window %zu, row %llu: %g, want %g", sizes[w],
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

/* Programs built against the header before na_values call the symbols
 * without the suffix with the shorter struct: nothing past it is touched. */
#undef weft_csv_dialect_init
#undef weft_csv_run_dialect
WEFT_API void weft_csv_dialect_init(weft_csv_dialect *dialect);
WEFT_API weft_status weft_csv_run_dialect(weft_ctx *ctx, const char *input, const char *output,
                                          const weft_csv_options *options,
                                          const weft_csv_dialect *dialect, weft_csv_job *job,
                                          weft_csv_stats *stats);

static void test_dialect_before_na_values(void **state)
{
    (void)state;
    size_t old = offsetof(weft_csv_dialect, na_values);
    unsigned char *mem = malloc(sizeof(weft_csv_dialect));
    memset(mem, 0xA5, sizeof(weft_csv_dialect));
    weft_csv_dialect_init((weft_csv_dialect *)mem);
    for (size_t i = old; i < sizeof(weft_csv_dialect); i++)
        assert_int_equal(mem[i], 0xA5);
    /* The old entry reads no na_values from the bytes after the old struct. */
    ((weft_csv_dialect *)mem)->crlf = 1;
    write_text("in.csv", "x\n-999\n");
    ASSERT_OK(weft_csv_run_dialect(ctx, path_of("in.csv"), path_of("out.csv"), NULL,
                                   (weft_csv_dialect *)mem, NULL, NULL));
    char *out = read_all("out.csv", NULL);
    assert_string_equal(out, "x\r\n-999\r\n");
    free(out);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_ending_in_cr),
        cmocka_unit_test(test_stray_line_ends_are_errors),
        cmocka_unit_test(test_cancel_while_the_input_is_idle),
        cmocka_unit_test(test_backquoted_names),
        cmocka_unit_test(test_errors_point_at_what_was_written),
        cmocka_unit_test(test_spaces_and_missing_spellings),
        cmocka_unit_test(test_lines_before_the_header_and_comments),
        cmocka_unit_test(test_rows_of_the_wrong_width),
        cmocka_unit_test(test_rows_left_out_are_counted),
        cmocka_unit_test(test_type_change_advice),
        cmocka_unit_test(test_output_dialects),
        cmocka_unit_test(test_na_values),
        cmocka_unit_test(test_refused_reader_leaves_stdin_open),
        cmocka_unit_test(test_na_values_reader_random),
        cmocka_unit_test(test_dialect_before_na_values),
        cmocka_unit_test(test_set_against_a_linear_scan),
        cmocka_unit_test(test_long_lists_against_a_plain_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
