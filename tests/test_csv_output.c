/* Where weft_csv_run's output goes: a regular file is replaced whole and keeps
 * its mode; a symlink stays a symlink and its target gets the output; what
 * cannot be replaced (a FIFO, standing in for /dev/null and other devices,
 * and "-" for standard output) is written in place and stays what it was.
 * And which file columns a job reads: a column the statements replace is not
 * parsed (text can become numbers, as in pandas), and a name the header gives
 * twice is refused where the job uses it. */
#include "common.h"
#include "test_dir.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static weft_ctx *ctx;

static const char input[] = "a,b\n1,2.5\n3,-4\n5,6e3\n";
static const char expected[] = "a,b,c\n1,2.5,3.5\n3,-4,-1.0\n5,6e3,6005.0\n";

/* By whole path: the targets and links of the tests are paths already. */
static void write_at(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* The bytes of what fd reads until its end, NUL-terminated. */
static char *read_fd(int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    ssize_t r;
    while ((r = read(fd, b + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    b[len] = 0;
    return b;
}

static char *read_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    char *b = read_fd(fd);
    close(fd);
    return b;
}

static weft_status run_job(const char *in, const char *out, const char *statement, const char *drop)
{
    const char *set[] = {statement}, *drops[] = {drop, drop};
    weft_csv_job job = {.statements = set, .nstatements = 1};
    if (drop) {
        job.drop = drops;
        job.ndrop = 2;
    }
    return weft_csv_run(ctx, in, out, NULL, &job, NULL);
}

static weft_status run_to(const char *output)
{
    return run_job(path_of("in.csv"), output, "c = a + b", NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-csv-output-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    ctx = test_ctx();
    write_at(path_of("in.csv"), input);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    return remove_tree(dir);
}

static void test_a_replaced_file_keeps_its_mode(void **state)
{
    (void)state;
    const char *out = path_of("private.csv");
    write_at(out, "old\n");
    assert_int_equal(chmod(out, 0640), 0);
    ASSERT_OK(run_to(out));
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    char *got = read_path(out);
    assert_string_equal(got, expected);
    free(got);
}

static void test_a_symlink_stays_and_its_target_gets_the_output(void **state)
{
    (void)state;
    const char *target = path_of("target.csv"), *link = path_of("link.csv");
    write_at(target, "old\n");
    assert_int_equal(symlink(target, link), 0);
    ASSERT_OK(run_to(link));
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *got = read_path(target);
    assert_string_equal(got, expected);
    free(got);
}

/* A symlink to nothing yet: its target is created whole, and a failed run
 * creates nothing. */
static void test_a_dangling_symlink_gets_a_whole_target_or_none(void **state)
{
    (void)state;
    const char *target = path_of("later.csv"), *link = path_of("dangling.csv");
    assert_int_equal(symlink("later.csv", link), 0); /* relative, as ln -s makes it */
    const char *bad = path_of("bad.csv");
    write_at(bad, "a,b\n1,2\nx,3\n");
    assert_int_equal(run_job(bad, link, "c = a * 2", NULL), WEFT_ERR_DATA);
    assert_int_equal(access(target, F_OK), -1); /* no partial file */
    ASSERT_OK(run_to(link));
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *got = read_path(target);
    assert_string_equal(got, expected);
    free(got);
}

static void *drain(void *path)
{
    int fd = open(path, O_RDONLY);
    char *b = fd >= 0 ? read_fd(fd) : NULL;
    if (fd >= 0) close(fd);
    return b;
}

static void test_a_fifo_is_written_in_place(void **state)
{
    (void)state;
    fail_after(60);
    const char *fifo = path_of("out.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, drain, (void *)fifo), 0);
    ASSERT_OK(run_to(fifo));
    void *got;
    pthread_join(reader, &got);
    assert_non_null(got);
    assert_string_equal(got, expected);
    free(got);
    struct stat st;
    assert_int_equal(stat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode)); /* not replaced by a regular file */
    alarm(0);
}

static void test_dash_is_standard_output(void **state)
{
    (void)state;
    const char *file = path_of("stdout.csv");
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    weft_status st = run_to("-");
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    ASSERT_OK(st);
    char *got = read_path(file);
    assert_string_equal(got, expected);
    free(got);
    assert_int_equal(access(path_of("-"), F_OK), -1); /* no file named "-" */
}

/* An input of "-" is standard input, in the library as in the tool. */
static void test_dash_is_standard_input(void **state)
{
    (void)state;
    write_at(path_of("stdin.csv"), input);
    int fd = open(path_of("stdin.csv"), O_RDONLY);
    assert_true(fd >= 0);
    int saved = dup(STDIN_FILENO);
    dup2(fd, STDIN_FILENO);
    weft_status st = run_job("-", path_of("from_stdin.csv"), "c = a + b", NULL);
    dup2(saved, STDIN_FILENO);
    close(saved);
    close(fd);
    ASSERT_OK(st);
    char *got = read_path(path_of("from_stdin.csv"));
    assert_string_equal(got, expected);
    free(got);
}

static void test_a_replaced_text_column_is_not_parsed(void **state)
{
    (void)state;
    const char *in = path_of("text.csv"), *out = path_of("text_out.csv");
    write_at(in, "x,label\n1,cat\n2,dog\n-3,\"a,b\"\n");
    ASSERT_OK(run_job(in, out, "label = x * 2", NULL));
    char *got = read_path(out);
    assert_string_equal(got, "x,label\n1,2\n2,4\n-3,-6\n");
    free(got);
    /* Read before it is written: parsed, and refused as text. */
    assert_int_equal(run_job(in, out, "label = label * 2", NULL), WEFT_ERR_DATA);
    assert_non_null(strstr(weft_last_error(), "\"cat\" is not a number"));
}

/* A numeric column a statement replaces without reading takes the
 * statement's type, as df["x"] = df["a"] * 0.5 does in pandas: its old
 * contents are never read, so neither their type nor the window can change
 * the output (an i64 column took 0.75 as 0, and a column of integers then
 * text wrote integers or floats by --window). --type still holds. A column
 * read and assigned keeps its first window's dtype, and a float stored
 * into an integer one is refused rather than truncated. */
static void test_a_replaced_numeric_column_keeps_its_dtype(void **state)
{
    (void)state;
    const char *f = path_of("f.csv"), *i = path_of("i.csv"), *out = path_of("kept.csv");
    write_at(f, "a,x\n1,2.5\n3,4.5\n");
    write_at(i, "a,x\n1,2\n3,4\n");
    ASSERT_OK(run_job(f, out, "x = a * 2", NULL));
    char *got = read_path(out);
    assert_string_equal(got, "a,x\n1,2\n3,6\n"); /* the statement's i64 */
    free(got);
    ASSERT_OK(run_job(i, out, "x = a * 0.5", NULL));
    got = read_path(out);
    assert_string_equal(got, "a,x\n1,0.5\n3,1.5\n"); /* the statement's f64 */
    free(got);
    /* Integers in the first window, text after: the same output whatever
     * the window (no window reads the old values). */
    char *mixed = malloc(20 * 10000 + 16), *w = mixed;
    w += sprintf(w, "x,y\n");
    for (int r = 0; r < 10000; r++)
        w += sprintf(w, r < 5000 ? "%d,0.5\n" : "t%d,0.5\n", r);
    const char *mixed_csv = out; /* path_of keeps four names: f, i and out stay */
    char kept_out[512];
    snprintf(kept_out, sizeof kept_out, "%s.w", out);
    out = kept_out;
    write_at(mixed_csv, mixed);
    free(mixed);
    char *outputs[2];
    for (int k = 0; k < 2; k++) {
        const char *set[] = {"x = y * 1.5"};
        weft_csv_job job = {.statements = set, .nstatements = 1};
        weft_csv_options o;
        weft_csv_options_init(&o);
        o.window_bytes = k == 0 ? 4096 : 1 << 20;
        ASSERT_OK(weft_csv_run(ctx, mixed_csv, out, &o, &job, NULL));
        outputs[k] = read_path(out);
    }
    assert_string_equal(outputs[0], outputs[1]);
    assert_non_null(strstr(outputs[0], "x,y\n0.75,0.5\n"));
    free(outputs[0]);
    free(outputs[1]);
    assert_int_equal(run_job(i, out, "a = a * 0.5", NULL), WEFT_ERR_DTYPE);
    assert_non_null(strstr(weft_last_error(), "would be truncated"));
    assert_non_null(strstr(weft_last_error(), "a=f64"));
    const char *set[] = {"x = a * 2"};
    weft_csv_job job = {.statements = set, .nstatements = 1};
    weft_csv_options o;
    weft_csv_options_init(&o);
    o.types = "x=f64";
    ASSERT_OK(weft_csv_run(ctx, i, out, &o, &job, NULL));
    got = read_path(out);
    assert_string_equal(got, "a,x\n1,2.0\n3,6.0\n"); /* as --type says */
    free(got);
    /* Typed i64 by the option, read or replaced: fractions are refused as
     * well (4.5 and 7.5 were written 4 and 7), a cast truncates on purpose. */
    const struct {
        const char *statement, *types, *want;
    } typed[] = {
        {"a = a * 1.5", "a=i64", NULL},
        {"x = a * 1.5", "x=i64", NULL},
        {"x = (long)(a * 1.5)", "x=i64", "a,x\n1,1\n3,4\n"},
        {"a = (long)(a * 1.5)", "a=i64", "a,x\n1,2\n4,4\n"},
    };
    for (size_t k = 0; k < sizeof typed / sizeof typed[0]; k++) {
        set[0] = typed[k].statement;
        o.types = typed[k].types;
        weft_status st = weft_csv_run(ctx, i, out, &o, &job, NULL);
        if (!typed[k].want) {
            if (st != WEFT_ERR_DTYPE || !strstr(weft_last_error(), "would be truncated") ||
                !strstr(weft_last_error(), "(long)"))
                fail_msg("%s with %s: status %d (%s)", typed[k].statement, typed[k].types, (int)st,
                         weft_last_error());
            continue;
        }
        ASSERT_OK(st);
        got = read_path(out);
        assert_string_equal(got, typed[k].want);
        free(got);
    }
}

static void test_a_name_given_twice_is_refused_where_used(void **state)
{
    (void)state;
    const char *in = path_of("dup.csv"), *out = path_of("dup_out.csv");
    write_at(in, "a,a,b\n1,100,2\n");
    assert_int_equal(run_job(in, out, "c = a * 2", NULL), WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "\"a\" is in the header twice (fields 1 and 2)"));
    ASSERT_OK(run_job(in, out, "c = b * 2", NULL)); /* the job does not use a */
    char *got = read_path(out);
    assert_string_equal(got, "a,a,b,c\n1,100,2,4\n");
    free(got);
    assert_int_equal(run_job(path_of("in.csv"), out, "c = a + b", "a"), WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "drop: \"a\" is named twice"));
    /* select, drop and types name it too: each refused (--drop a left the
     * other a in the output, --select a took the first silently). */
    const char *set[] = {"c = b * 2"}, *a_only[] = {"a"};
    weft_csv_options o;
    weft_csv_options_init(&o);
    weft_csv_job by_select = {.statements = set, .nstatements = 1, .select = a_only, .nselect = 1};
    weft_csv_job by_drop = {.statements = set, .nstatements = 1, .drop = a_only, .ndrop = 1};
    weft_csv_job typed = {.statements = set, .nstatements = 1};
    weft_csv_job *jobs[] = {&by_select, &by_drop, &typed};
    for (int k = 0; k < 3; k++) {
        o.types = k == 2 ? "a=f64" : NULL;
        assert_int_equal(weft_csv_run(ctx, in, out, &o, jobs[k], NULL), WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "\"a\" is in the header twice (fields 1 and 2)"));
    }
}

/* Names the header lacks, and fields that are not numbers, are shown as the
 * file holds them: a trailing blank, a second byte-order mark, a vertical
 * tab. The messages printed them raw ("1" for "1\v") and never showed the
 * header. */
static void test_messages_show_what_the_file_holds(void **state)
{
    (void)state;
    const char *in = path_of("quirks.csv"), *out = path_of("quirks_out.csv");
    write_at(in, "\xef\xbb\xbf\xef\xbb\xbfid,x \n1,2\v\n");
    assert_int_equal(run_job(in, out, "y = id * 2", NULL), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "\"\\ufeffid\" (field 1), \"x \" (field 2)"));
    const char *set[] = {"y = `\xef\xbb\xbfid` * 2"}, *x[] = {"x"};
    weft_csv_job job = {.statements = set, .nstatements = 1, .select = x, .nselect = 1};
    assert_int_equal(weft_csv_run(ctx, in, out, NULL, &job, NULL), WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "select: no column named \"x\"; the header's"));
    const char *read_x[] = {"y = `x ` * 2"};
    weft_csv_job vt = {.statements = read_x, .nstatements = 1};
    assert_int_equal(weft_csv_run(ctx, in, out, NULL, &vt, NULL), WEFT_ERR_DATA);
    assert_non_null(strstr(weft_last_error(), "\"2\\v\" is not a number"));
    /* Isolates, C1 controls, tag characters: invisible too */
    write_at(in, "a\xe2\x81\xa6,\xc2\x9b,\xf3\xa0\x80\x81"
                 "b\n1,2,3\n");
    assert_int_equal(run_job(in, out, "y = a * 2", NULL), WEFT_ERR_EXPR);
    assert_non_null(strstr(weft_last_error(), "\"a\\u2066\" (field 1), \"\\u009b\" (field 2), "
                                              "\"\\ue0001b\" (field 3)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_replaced_file_keeps_its_mode),
        cmocka_unit_test(test_a_symlink_stays_and_its_target_gets_the_output),
        cmocka_unit_test(test_a_dangling_symlink_gets_a_whole_target_or_none),
        cmocka_unit_test(test_a_fifo_is_written_in_place),
        cmocka_unit_test(test_dash_is_standard_output),
        cmocka_unit_test(test_dash_is_standard_input),
        cmocka_unit_test(test_a_replaced_text_column_is_not_parsed),
        cmocka_unit_test(test_messages_show_what_the_file_holds),
        cmocka_unit_test(test_a_replaced_numeric_column_keeps_its_dtype),
        cmocka_unit_test(test_a_name_given_twice_is_refused_where_used),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
