/* Calibration: weights and the small-work threshold are measured once per
 * device, kept in the cache directory, reused, and re-measured when the record
 * is damaged. */
#include "common.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int fresh_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-calibration-%ld", (long)getpid());
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    return remove_tree(dir);
}

static weft_ctx *calibrated_ctx(void)
{
    weft_options o;
    weft_options_init(&o); /* calibrated weights, measured threshold */
    o.cache_dir = dir;
    return test_ctx_with(&o);
}

static int count_records(void)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        count += strncmp(e->d_name, "calibration-", 12) == 0;
    closedir(d);
    return count;
}

static void damage_records(const char *text)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "calibration-", 12) != 0) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
    }
    closedir(d);
}

static void check_measured(weft_ctx *ctx)
{
    size_t n;
    weft_device_count(ctx, &n);
    size_t selected = 0;
    for (size_t d = 0; d < n; d++) {
        weft_device_info info;
        ASSERT_OK(weft_device_get_info(ctx, d, &info));
        if (!info.selected) continue;
        selected++;
        assert_true(info.weight > 1e6); /* bytes per second, measured */
    }
    int64_t small = -1;
    ASSERT_OK(weft_ctx_small_elements(ctx, &small));
    if (selected_opencl(ctx) > 0) {
        assert_true(small > 0 && small % WEFT_SUM_BLOCK == 0);
    } else {
        assert_int_equal(small, 0); /* nothing to launch, nothing to avoid */
    }
}

/* The write rate of each OpenCL device's record (third number; the host's
 * record has 0 there). Returns how many device records have one above
 * 1 MB/s, and counts records without a third number in *old. */
static int records_with_copy_rate(int *old)
{
    DIR *d = opendir(dir);
    int rated = 0;
    *old = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "calibration-", 12) != 0) continue;
        char path[600], text[256] = {0};
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        double bw, launch, copy;
        int fields = got ? sscanf(text, "weft-calibration-1 %lf %lf %lf", &bw, &launch, &copy) : 0;
        if (fields < 3) (*old)++;
        if (fields == 3 && copy > 1e6) rated++;
    }
    if (d) closedir(d);
    return rated;
}

/* A record written before the copy rate (two numbers) is measured again
 * on a device, so transfers are weighed at the device's own write rate. */
static void test_copy_rate_measured_and_old_records_redone(void **state)
{
    (void)state;
    weft_ctx *ctx = calibrated_ctx();
    size_t devices = selected_opencl(ctx);
    weft_ctx_free(ctx);
    int old;
    if (devices == 0) {
        assert_int_equal(records_with_copy_rate(&old), 0);
        return;
    }
    assert_true(records_with_copy_rate(&old) >= 1);
    assert_int_equal(old, 0);
    damage_records("weft-calibration-1 1e+10 1e-05\n");
    ctx = calibrated_ctx();
    if (devices > 1) check_measured(ctx);
    weft_ctx_free(ctx);
    assert_true(records_with_copy_rate(&old) >= 1);
    assert_int_equal(old, 0);
}

static void test_measured_then_reused(void **state)
{
    (void)state;
    weft_ctx *ctx = calibrated_ctx();
    size_t devices = selected_opencl(ctx);
    int64_t small;
    ASSERT_OK(weft_ctx_small_elements(ctx, &small));
    if (devices == 0) {
        assert_int_equal(small, 0);
        assert_int_equal(count_records(), 0);
        weft_ctx_free(ctx);
        return;
    }
    if (devices > 1) check_measured(ctx);
    assert_true(small > 0);
    int records = count_records();
    assert_true(records >= 1); /* identical devices share one record */
    weft_ctx_free(ctx);

    /* A record with absurd numbers is not trusted: measured again. */
    damage_records("weft-calibration-1 -5 nan\n");
    ctx = calibrated_ctx();
    ASSERT_OK(weft_ctx_small_elements(ctx, &small));
    assert_true(small > 0);
    if (devices > 1) check_measured(ctx);
    weft_ctx_free(ctx);
    damage_records("garbage");
    ctx = calibrated_ctx();
    if (devices > 1) check_measured(ctx);
    weft_ctx_free(ctx);
}

/* Replaces every record by a FIFO (or, with mode, by a file of that mode);
 * returns how many. */
static int replace_records(int fifo, mode_t mode)
{
    DIR *d = opendir(dir);
    int count = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "calibration-", 12) != 0) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (fifo) {
            assert_int_equal(unlink(path), 0);
            assert_int_equal(mkfifo(path, 0644), 0);
        } else {
            assert_int_equal(chmod(path, mode), 0);
        }
        count++;
    }
    if (d) closedir(d);
    return count;
}

static int records_regular(void)
{
    DIR *d = opendir(dir);
    int regular = 1;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "calibration-", 12) != 0) continue;
        char path[600];
        struct stat info;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        regular = regular && lstat(path, &info) == 0 && S_ISREG(info.st_mode);
    }
    if (d) closedir(d);
    return regular;
}

/* A FIFO in place of a record is ignored (not waited on) and replaced by a
 * new measurement; so is a record others could have written. */
static void test_fifo_or_untrusted_record_remeasured(void **state)
{
    (void)state;
    weft_ctx *ctx = calibrated_ctx();
    size_t devices = selected_opencl(ctx);
    weft_ctx_free(ctx);
    if (devices == 0) skip(); /* nothing measured, no record */
    fail_after(120);
    assert_true(replace_records(1, 0) >= 1);
    ctx = calibrated_ctx();
    int64_t small;
    ASSERT_OK(weft_ctx_small_elements(ctx, &small));
    assert_true(small > 0);
    weft_ctx_free(ctx);
    fail_after(0);
    assert_true(records_regular());
    /* world-writable: anyone could have chosen these numbers */
    assert_true(replace_records(0, 0666) >= 1);
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = dir;
    o.log_level = WEFT_LOG_WARN;
    ctx = test_ctx_with(&o);
    weft_ctx_free(ctx);
    assert_true(records_regular());
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "calibration-", 12) != 0) continue;
        char path[600];
        struct stat info;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &info), 0);
        assert_int_equal(info.st_mode & 022, 0); /* measured again, written anew */
    }
    closedir(d);
}

static void test_partition_follows_weights(void **state)
{
    (void)state;
    weft_ctx *probe = test_ctx();
    size_t n;
    weft_device_count(probe, &n);
    size_t devices = selected_opencl(probe);
    weft_ctx_free(probe);
    if (devices < 2) skip();
    double given[3] = {0, 1, 3}; /* device 2 gets three quarters */
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_GIVEN;
    o.given = given;
    o.given_count = 3;
    weft_ctx *ctx = test_ctx_with(&o);
    enum { N = 4096 * 100 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, NULL));
    weft_piece_report pieces[4];
    size_t count;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 4, &count));
    assert_int_equal(count, 2);
    assert_int_equal(pieces[0].device, 1);
    assert_int_equal(pieces[0].end, 4096 * 25);
    assert_int_equal(pieces[1].device, 2);
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_measured_then_reused, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_copy_rate_measured_and_old_records_redone, fresh_dir,
                                        remove_dir),
        cmocka_unit_test(test_partition_follows_weights),
        cmocka_unit_test_setup_teardown(test_fifo_or_untrusted_record_remeasured, fresh_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
