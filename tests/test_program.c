/* Program build and the binary cache: hits and misses, build errors with
 * their log, damaged cache files rebuilt, processes racing to build. */
#include "common.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

static const char good_source[] =
    "__kernel void scale(__global float *x, const float a) { x[get_global_id(0)] *= a; }\n";
static const char broken_source[] =
    "__kernel void broken(__global float *x) { x[get_global_id(0)] = undeclared_thing; }\n";

static char dir[256];
static const char *self_path = "/proc/self/exe"; /* argv[0] when known: valgrind runs us */

static int fresh_dir(void **state)
{
    (void)state;
    static int serial;
    snprintf(dir, sizeof dir, "/tmp/weft-test-program-%ld-%d", (long)getpid(), serial++);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    return remove_tree(dir);
}

static weft_ctx *ctx_in(const char *cache_dir)
{
    weft_options o = test_options();
    o.cache_dir = cache_dir;
    return test_ctx_with(&o);
}

/* A unique source per test run, so PoCL's and weft's caches start cold. */
static void unique_source(char *out, size_t cap)
{
    snprintf(out, cap, "%s// %s\n", good_source, dir);
}

static void test_build_then_hits(void **state)
{
    (void)state;
    char source[512];
    unique_source(source, sizeof source);
    weft_ctx *ctx = ctx_in(dir);
    size_t devices = selected_opencl(ctx);
    assert_string_equal(weft_cache_dir(ctx), dir);
    weft_cache_stats before, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, source, "-DUNUSED=1", &p));
    assert_string_equal(weft_program_build_log(p), "");
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    /* Identical devices share one binary: the first compiles, the rest load it. */
    assert_int_equal(after.misses - before.misses, devices ? 1 : 0);
    assert_int_equal(after.disk_hits - before.disk_hits, devices ? devices - 1 : 0);
    assert_int_equal(after.disk_writes - before.disk_writes, devices ? 1 : 0);
    ASSERT_OK(weft_program_build(ctx, source, "-DUNUSED=1", &p));
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    assert_int_equal(before.memory_hits - after.memory_hits, devices);
    weft_ctx_free(ctx);

    /* A second context (as a second process would) loads the binary. */
    ctx = ctx_in(dir);
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    ASSERT_OK(weft_program_build(ctx, source, "-DUNUSED=1", &p));
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    assert_int_equal(after.disk_hits - before.disk_hits, devices);
    assert_int_equal(after.misses - before.misses, 0);
    /* Other options are another program. */
    ASSERT_OK(weft_program_build(ctx, source, "-DUNUSED=2", &p));
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    assert_int_equal(before.misses - after.misses, devices ? 1 : 0);
    weft_ctx_free(ctx);
}

static void test_build_error_reaches_caller(void **state)
{
    (void)state;
    weft_ctx *ctx = ctx_in(dir);
    weft_program *p = NULL;
    size_t devices = selected_opencl(ctx);
    weft_status st = weft_program_build(ctx, broken_source, "-DMARKER=1", &p);
    if (devices == 0) {
        /* No compiler to ask: nothing is built, nothing fails. */
        assert_int_equal(st, WEFT_OK);
    } else {
        assert_int_equal(st, WEFT_ERR_BUILD);
        const char *detail = weft_last_error();
        assert_non_null(strstr(detail, "undeclared_thing")); /* the build log */
        assert_non_null(strstr(detail, "-DMARKER=1"));       /* the options */
        assert_non_null(strstr(detail, "device 1"));         /* the device */
        assert_non_null(p);
        assert_non_null(strstr(weft_program_build_log(p), "undeclared_thing"));
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* Damages every cached binary in dir with f. */
static void damage_all(void (*f)(const char *path))
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".bin")) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f(path);
    }
    closedir(d);
}

static void corrupt(const char *path)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET);
    fputs("garbage garbage garbage", f);
    fclose(f);
}

static void chop(const char *path)
{
    assert_int_equal(truncate(path, 90), 0);
}

static void check_rebuilt_after(void (*damage)(const char *path))
{
    char source[512];
    unique_source(source, sizeof source);
    weft_ctx *ctx = ctx_in(dir);
    size_t devices = selected_opencl(ctx);
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
    weft_program_free(p);
    weft_ctx_free(ctx);
    damage_all(damage);
    ctx = ctx_in(dir);
    weft_cache_stats stats;
    ASSERT_OK(weft_cache_stats_get(ctx, &stats));
    uint64_t rejects = stats.disk_rejects, misses = stats.misses;
    ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &stats));
    /* The first device finds the damage and rebuilds; its twin loads the new file. */
    assert_int_equal(stats.disk_rejects - rejects, devices ? 1 : 0);
    assert_int_equal(stats.misses - misses, devices ? 1 : 0);
    /* The built-in kernels rebuilt too and still compute the right thing. */
    float x[4] = {1, 2, 3, 4};
    weft_array *a;
    double sum;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 4, x, &a));
    ASSERT_OK(weft_sum(ctx, a, &sum, NULL));
    assert_true(sum == 10.0);
    weft_array_free(a);
    weft_ctx_free(ctx);
}

static void test_corrupt_cache_file_rebuilt(void **state)
{
    (void)state;
    check_rebuilt_after(corrupt);
}

static void test_truncated_cache_file_rebuilt(void **state)
{
    (void)state;
    check_rebuilt_after(chop);
}

static void test_processes_race_to_build(void **state)
{
    (void)state;
    char source[512];
    unique_source(source, sizeof source);
    enum { PROCS = 3 };
    pid_t pids[PROCS];
    /* Fresh processes (fork + exec): OpenCL is not fork-safe once started. */
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            execl(self_path, "test_program", "race-child", dir, source, (char *)NULL);
            _exit(127);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Whoever won the rename left a whole file that loads. */
    weft_ctx *ctx = ctx_in(dir);
    weft_cache_stats before, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
    weft_program_free(p);
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    assert_int_equal(after.disk_hits - before.disk_hits, selected_opencl(ctx));
    assert_int_equal(after.disk_rejects, before.disk_rejects);
    weft_ctx_free(ctx);
}

static void test_unwritable_cache_dir_still_works(void **state)
{
    (void)state;
    weft_ctx *ctx = ctx_in("/proc/weft-no-cache-here");
    assert_string_equal(weft_cache_dir(ctx), "");
    assert_non_null(strstr(weft_ctx_notes(ctx), "disk cache off"));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, good_source, NULL, &p));
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* -I directories: their headers are part of the cache key, so editing one
 * rebuilds the program instead of loading a stale binary. */
static void test_include_dirs_in_cache_key(void **state)
{
    (void)state;
    char inc[300], header[400], options[400], source[600];
    snprintf(inc, sizeof inc, "%s-include", dir);
    snprintf(header, sizeof header, "%s/value.h", inc);
    snprintf(options, sizeof options, "-I %s", inc);
    snprintf(source, sizeof source,
             "#include \"value.h\"\n__kernel void k(__global int *out) { out[get_global_id(0)] = "
             "VALUE; } // %s\n",
             dir);
    assert_int_equal(system(NULL) != 0, 1);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && echo '#define VALUE 3' > %s", inc, header);
    assert_int_equal(system(cmd), 0);
    for (int version = 3; version <= 4; version++) {
        if (version == 4) {
            snprintf(cmd, sizeof cmd, "echo '#define VALUE 4' > %s", header);
            assert_int_equal(system(cmd), 0);
        }
        weft_ctx *ctx = ctx_in(dir);
        size_t devices = selected_opencl(ctx);
        weft_cache_stats before, after;
        ASSERT_OK(weft_cache_stats_get(ctx, &before));
        weft_program *p;
        ASSERT_OK(weft_program_build(ctx, source, options, &p));
        ASSERT_OK(weft_cache_stats_get(ctx, &after));
        /* each version compiles once: the edited header is a new key */
        assert_int_equal(after.misses - before.misses, devices ? 1 : 0);
        if (devices) {
            weft_array *out;
            int got[4];
            ASSERT_OK(weft_array_create(ctx, WEFT_I32, 4, &out));
            weft_arg args[] = {weft_arg_slice(out)};
            weft_range r = {1, {4, 1, 1}, {0, 0, 0}};
            ASSERT_OK(weft_launch(p, "k", &r, args, 1, NULL, NULL, NULL));
            ASSERT_OK(weft_array_read(out, 0, 4, got));
            assert_int_equal(got[3], version);
            weft_array_free(out);
        }
        weft_program_free(p);
        weft_ctx_free(ctx);
    }
    /* the same header again: loaded from disk, not compiled */
    weft_ctx *ctx = ctx_in(dir);
    weft_cache_stats before, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, source, options, &p));
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    assert_int_equal(after.misses, before.misses);
    weft_program_free(p);
    weft_ctx_free(ctx);
    remove_tree(inc);
}

/* One racer: build the same program into the shared cache directory. */
static int race_child(const char *cache_dir, const char *source)
{
    weft_options o = test_options();
    o.cache_dir = cache_dir;
    weft_ctx *ctx = NULL;
    weft_program *p = NULL;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return 1;
    if (weft_program_build(ctx, source, NULL, &p) != WEFT_OK) return 2;
    weft_program_free(p);
    weft_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "race-child") == 0) return race_child(argv[2], argv[3]);
    if (argc > 0 && strchr(argv[0], '/')) self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_then_hits, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_build_error_reaches_caller, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_corrupt_cache_file_rebuilt, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_truncated_cache_file_rebuilt, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_processes_race_to_build, fresh_dir, remove_dir),
        cmocka_unit_test(test_unwritable_cache_dir_still_works),
        cmocka_unit_test_setup_teardown(test_include_dirs_in_cache_key, fresh_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
