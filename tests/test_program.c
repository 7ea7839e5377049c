/* Program build and the binary cache: hits and misses, build errors with
 * their log, damaged cache files rebuilt, processes racing to build. */
#include "common.h"

#include "../src/core/sha256.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
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

/* The boilerplate around kernels: a file, ranges, argument counts. */
static void test_build_file_and_helpers(void **state)
{
    (void)state;
    char path[4200], source[512];
    unique_source(source, sizeof source);
    weft_ctx *ctx = ctx_in(dir); /* makes the directory */
    snprintf(path, sizeof path, "%s/kernel.cl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(source, f);
    fclose(f);
    weft_program *p = NULL;
    ASSERT_OK(weft_program_build_file(ctx, path, NULL, &p));
    ASSERT_OK(weft_program_free(p));
    /* A header beside the file is found from any working directory (the
     * test runs elsewhere): a C compiler looks next to the including file. */
    char header[4200];
    snprintf(header, sizeof header, "%s/beside.h", dir);
    f = fopen(header, "w");
    assert_non_null(f);
    fputs("#define SCALE 3.0f\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/with_header.cl", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "#include \"beside.h\"\n__kernel void scale(__global float *y) "
            "{ y[get_global_id(0)] *= SCALE; }\n// %s\n",
            dir);
    fclose(f);
    ASSERT_OK(weft_program_build_file(ctx, path, NULL, &p));
    ASSERT_OK(weft_program_free(p));
    snprintf(path, sizeof path, "%s/missing.cl", dir);
    assert_int_equal(weft_program_build_file(ctx, path, NULL, &p), WEFT_ERR_IO);
    assert_non_null(strstr(weft_last_error(), "missing.cl"));
    assert_null(p);
    assert_int_equal(weft_program_build_file(ctx, NULL, NULL, &p), WEFT_ERR_NULL);
    ASSERT_OK(weft_ctx_free(ctx));

    weft_range r = weft_range_2d(640, 480);
    assert_int_equal(r.dims, 2);
    assert_int_equal(r.size[0], 640);
    assert_int_equal(r.size[1], 480);
    assert_int_equal(r.size[2], 1);
    assert_int_equal(r.local[0], 0);
    assert_int_equal(weft_range_1d(7).size[0], 7);
    assert_int_equal(weft_range_3d(2, 3, 4).size[2], 4);
    weft_arg args[3] = {weft_arg_f32(1), weft_arg_i32(2), weft_arg_local(8)};
    assert_int_equal(WEFT_COUNTOF(args), 3);
    int value = 5;
    void *pointers[1] = {&value};
    weft_host_call call = {&r, 0, 1, pointers, 1, NULL};
    assert_ptr_equal(weft_host_arg(&call, 0), &value);
    assert_null(weft_host_arg(&call, 1));
    /* weft_scan's flag keeps its int ABI, with names for its values. */
    assert_int_equal(WEFT_SCAN_INCLUSIVE, 0);
    assert_int_equal(WEFT_SCAN_EXCLUSIVE, 1);
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

static void seven_host(const weft_host_call *call)
{
    float *x = call->args[0];
    for (size_t i = call->begin; i < call->end; i++)
        x[i] = 7.0f;
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
        /* Its launches say the build failed, not that no device is usable;
         * with a host_fn it runs on the pool, and a note says why. */
        weft_array *x;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, 64, &x));
        weft_range r = weft_range_1d(64);
        weft_arg args[] = {weft_arg_slice(x)};
        assert_int_equal(weft_launch(p, "broken", &r, args, 1, NULL, NULL, NULL), WEFT_ERR_BUILD);
        assert_non_null(strstr(weft_last_error(), "did not build"));
        assert_non_null(strstr(weft_last_error(), "weft_program_build_log"));
        ASSERT_OK(weft_launch(p, "broken", &r, args, 1, seven_host, NULL, NULL));
        assert_non_null(strstr(weft_ctx_notes(ctx), "kernel broken runs on the pool"));
        float got[64];
        ASSERT_OK(weft_array_read(x, 0, 64, got));
        for (int i = 0; i < 64; i++)
            assert_true(got[i] == 7.0f);
        weft_array_free(x);
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

/* -I directories: their headers are part of the cache key, so editing one
 * rebuilds the program instead of loading a stale binary. */
/* What kernel k (`out[i] = VALUE`) writes, launched over 4 ints. */
static int value_of_k(weft_ctx *ctx, weft_program *p)
{
    weft_array *out;
    int got[4];
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 4, &out));
    weft_arg args[] = {weft_arg_slice(out)};
    weft_range r = {1, {4, 1, 1}, {0, 0, 0}};
    ASSERT_OK(weft_launch(p, "k", &r, args, 1, NULL, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, 4, got));
    weft_array_free(out);
    return got[3];
}

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
        if (devices) assert_int_equal(value_of_k(ctx, p), version);
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

/* A header found in the working directory, with no -I (the compiler looks
 * there for the program's own quoted includes): editing it gave the old
 * binary from the cache. */
static void test_working_directory_header_in_cache_key(void **state)
{
    (void)state;
    char work[300], old_cwd[4096];
    snprintf(work, sizeof work, "%s-work", dir);
    assert_non_null(getcwd(old_cwd, sizeof old_cwd));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", work);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chdir(work), 0);
    const char *source = "#include \"cwd_value.h\"\n"
                         "__kernel void k(__global int *out) { out[get_global_id(0)] = VALUE; }\n";
    for (int version = 5; version <= 6; version++) {
        FILE *f = fopen("cwd_value.h", "w");
        assert_non_null(f);
        fprintf(f, "#define VALUE %d\n", version);
        fclose(f);
        weft_ctx *ctx = ctx_in(dir);
        weft_program *p;
        ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
        if (selected_opencl(ctx)) assert_int_equal(value_of_k(ctx, p), version);
        weft_program_free(p);
        weft_ctx_free(ctx);
    }
    assert_int_equal(chdir(old_cwd), 0);
    remove_tree(work);
}

/* A source that starts with a UTF-8 byte-order mark builds, as it does
 * with clBuildProgram: the mark ended up after weft's prefix, an error. */
static void test_byte_order_mark_skipped(void **state)
{
    (void)state;
    weft_ctx *ctx = ctx_in(dir);
    weft_program *p = NULL;
    const char *source = "\xEF\xBB\xBF__kernel void k(__global int *out) { out[0] = 7; }\n";
    weft_status st = weft_program_build(ctx, source, NULL, &p);
    if (st != WEFT_OK) fail_msg("%s\n%s", weft_last_error(), weft_program_build_log(p));
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* The dtype each scalar parameter takes, as bindings ask it to convert an
 * untyped number; pointers, vectors and missing parameters are refused. */
static void test_scalar_parameter_dtypes(void **state)
{
    (void)state;
    weft_ctx *ctx = ctx_in(dir);
    weft_program *p = NULL;
    const char *source =
        "typedef long count_t;\n"
        "__kernel void k(__global float *y, count_t n, double d, uint u, float4 v,\n"
        "                uchar c) { y[0] = n + d + u + v.x + c; }\n";
    ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
    weft_dtype dt;
    if (selected_opencl(ctx) == 0) {
        assert_int_equal(weft_program_scalar_dtype(p, "k", 1, &dt), WEFT_ERR_UNSUPPORTED);
    } else {
        static const struct {
            size_t k;
            weft_status st;
            weft_dtype dtype;
        } want[] = {{0, WEFT_ERR_DTYPE, 0},      {1, WEFT_OK, WEFT_I64}, {2, WEFT_OK, WEFT_F64},
                    {3, WEFT_OK, WEFT_U32},      {4, WEFT_ERR_DTYPE, 0}, {5, WEFT_OK, WEFT_U8},
                    {6, WEFT_ERR_INVALID_ARG, 0}};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            assert_int_equal(weft_program_scalar_dtype(p, "k", want[i].k, &dt), want[i].st);
            if (want[i].st == WEFT_OK) assert_int_equal(dt, want[i].dtype);
        }
    }
    assert_int_equal(weft_program_scalar_dtype(NULL, "k", 0, &dt), WEFT_ERR_NULL);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* Writes text to path (creating its directory first). */
static void write_text(const char *path, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Builds source with options in a fresh context on dir, runs kernel k on 4
 * items and returns out[3]; *compiled says whether it was compiled. */
static int build_and_run(const char *source, const char *options, int *compiled)
{
    weft_ctx *ctx = ctx_in(dir);
    size_t devices = selected_opencl(ctx);
    weft_cache_stats before, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, source, options, &p));
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    *compiled = after.misses > before.misses;
    int got[4] = {0, 0, 0, -1};
    if (devices) {
        weft_array *out;
        ASSERT_OK(weft_array_create(ctx, WEFT_I32, 4, &out));
        weft_arg args[] = {weft_arg_slice(out)};
        weft_range r = {1, {4, 1, 1}, {0, 0, 0}};
        ASSERT_OK(weft_launch(p, "k", &r, args, 1, NULL, NULL, NULL));
        ASSERT_OK(weft_array_read(out, 0, 4, got));
        weft_array_free(out);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    return devices ? got[3] : -1;
}

/* Headers below an -I directory (#include "sub/v.h"), included by included
 * headers relative to themselves, and absolute includes are all part of the
 * key: editing any of them rebuilds instead of loading a stale binary. */
static void test_nested_and_absolute_includes_in_cache_key(void **state)
{
    (void)state;
    char inc[300], sub[400], leaf[400], absolute[400], options[400], source[1200];
    snprintf(inc, sizeof inc, "%s-include", dir);
    snprintf(sub, sizeof sub, "%s/sub/v.h", inc);
    snprintf(leaf, sizeof leaf, "%s/sub/leaf.h", inc);
    snprintf(absolute, sizeof absolute, "%s-abs/a.h", dir);
    snprintf(options, sizeof options, "-I %s", inc);
    snprintf(source, sizeof source,
             "#include \"sub/v.h\"\n#include \"%s\"\n__kernel void k(__global int *out) { "
             "out[get_global_id(0)] = LEAF * 100 + ABS; } // %s\n",
             absolute, dir);
    write_text(sub, "#include \"leaf.h\"\n");
    write_text(leaf, "#define LEAF 1\n");
    write_text(absolute, "#define ABS 1\n");
    int compiled;
    int first = build_and_run(source, options, &compiled);
    int devices = first != -1;
    assert_true(!devices || (first == 101 && compiled));
    assert_int_equal(build_and_run(source, options, &compiled), devices ? 101 : -1);
    assert_false(compiled); /* unchanged: from disk (or nothing to build) */
    write_text(leaf, "#define LEAF 2\n");
    assert_int_equal(build_and_run(source, options, &compiled), devices ? 201 : -1);
    assert_int_equal(compiled, devices);
    write_text(absolute, "#define ABS 3\n");
    assert_int_equal(build_and_run(source, options, &compiled), devices ? 203 : -1);
    assert_int_equal(compiled, devices);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-abs'", inc, dir);
    assert_int_equal(system(cmd), 0);
}

/* A FIFO where an included header should be is an error, not a hang; an -I
 * directory full of devices (/dev) is no reason to read any of them. */
static void test_fifo_include_is_an_error(void **state)
{
    (void)state;
    fail_after(120);
    char inc[300], fifo[400], options[800], source[600];
    snprintf(inc, sizeof inc, "%s-include", dir);
    snprintf(fifo, sizeof fifo, "%s/f.h", inc);
    write_text(fifo, "");
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    snprintf(options, sizeof options, "-I/dev -I %s", inc);
    snprintf(source, sizeof source,
             "#include \"f.h\"\n__kernel void k(__global int *out) { out[0] = 1; } // %s\n", dir);
    weft_ctx *ctx = ctx_in(dir);
    weft_program *p = NULL;
    weft_status st = weft_program_build(ctx, source, options, &p);
    if (selected_opencl(ctx)) {
        assert_int_equal(st, WEFT_ERR_IO);
        assert_non_null(strstr(weft_last_error(), "not a regular file"));
    }
    weft_program_free(p);
    p = NULL;
    /* -I/dev alone: nothing included from it, nothing read from it */
    ASSERT_OK(weft_program_build(ctx, good_source, "-I/dev", &p));
    weft_program_free(p);
    weft_ctx_free(ctx);
    fail_after(0);
    remove_tree(inc);
}

static void capture_warnings(void *user, weft_log_level level, const char *message)
{
    if (level <= WEFT_LOG_WARN && strstr(message, "disk cache off")) (*(int *)user)++;
}

/* A cache dir that cannot serve (unwritable, a regular file, a path too long
 * for the names in it) is said once, in the log (a warning) and the notes,
 * and not used; everything works from memory. "" is memory-only caching as
 * documented: a note, no warning. */
static void check_memory_only(const char *cache_dir, const char *why, int warnings_expected)
{
    int warnings = 0;
    weft_options o = test_options();
    o.cache_dir = cache_dir;
    o.log = capture_warnings;
    o.log_user = &warnings;
    weft_ctx *ctx = test_ctx_with(&o);
    assert_string_equal(weft_cache_dir(ctx), "");
    if (!strstr(weft_ctx_notes(ctx), why)) fail_msg("notes: %s", weft_ctx_notes(ctx));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, good_source, NULL, &p));
    weft_program_free(p);
    weft_cache_stats stats;
    ASSERT_OK(weft_cache_stats_get(ctx, &stats));
    assert_int_equal(stats.disk_rejects, 0);
    assert_int_equal(warnings, warnings_expected);
    weft_ctx_free(ctx);
}

static void test_unwritable_cache_dir_still_works(void **state)
{
    (void)state;
    check_memory_only("/proc/weft-no-cache-here", "disk cache off", 1);
}

static void test_empty_cache_dir_is_memory_only(void **state)
{
    (void)state;
    check_memory_only("", "cache_dir is \"\"", 0);
}

static void test_unusable_cache_dirs_said_once(void **state)
{
    (void)state;
    write_text(dir, "a regular file\n");
    check_memory_only(dir, "is not a directory", 1);
    assert_int_equal(unlink(dir), 0);
    char *longer = malloc(4095);
    assert_non_null(longer);
    memset(longer, 'd', 4094);
    longer[4094] = '\0';
    memcpy(longer, "/tmp/", 5);
    for (size_t i = 100; i < 4094; i += 100)
        longer[i] = '/';
    check_memory_only(longer, "longer than the system allows", 1);
    free(longer);
}

/* Replaces a cache file by one with a valid header and checksum whose
 * payload is the first half of the real binary. */
static void halve_payload(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char file[1 << 24];
    size_t size = fread(file, 1, sizeof file, f);
    fclose(f);
    assert_true(size > 80 && size < sizeof file);
    uint64_t half = (size - 80) / 2;
    for (int i = 0; i < 8; i++)
        file[40 + i] = (unsigned char)(half >> (8 * i));
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_update(&h, file + 80, (size_t)half);
    weft_sha256_final(&h, file + 48);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(file, 1, 80 + (size_t)half, f), 80 + (size_t)half);
    fclose(f);
}

/* One process of the crash loop: builds and runs the kernel. Exit 0: loaded
 * from disk, 1: compiled, 2: failed or wrong, 3: no OpenCL device. */
static int crash_child(const char *cache_dir, const char *source)
{
    weft_options o = test_options();
    o.cache_dir = cache_dir;
    o.smoke_test = 0;              /* no other program than ours in the cache */
    o.weights = WEFT_WEIGHTS_EVEN; /* and no calibration */
    weft_ctx *ctx = NULL;
    weft_program *p = NULL;
    weft_array *out = NULL;
    int got[4] = {0}, rc = 2;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return 2;
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        return 3;
    }
    weft_cache_stats stats;
    weft_range r = {1, {4, 1, 1}, {0, 0, 0}};
    if (weft_program_build(ctx, source, NULL, &p) == WEFT_OK &&
        weft_array_create(ctx, WEFT_I32, 4, &out) == WEFT_OK) {
        weft_arg args[] = {weft_arg_slice(out)};
        if (weft_launch(p, "k", &r, args, 1, NULL, NULL, NULL) == WEFT_OK &&
            weft_array_read(out, 0, 4, got) == WEFT_OK && got[3] == 41 &&
            weft_cache_stats_get(ctx, &stats) == WEFT_OK)
            rc = stats.misses > 0;
    }
    weft_array_free(out);
    weft_program_free(p);
    weft_ctx_free(ctx);
    return rc;
}

static int run_crash_child(const char *source, int quiet)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* the driver's (or a sanitizer's) report of its own crash is expected */
        if (quiet && !freopen("/dev/null", "w", stderr)) _exit(126);
        execl(self_path, "test_program", "crash-child", dir, source, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A crafted cache file (valid weft header and checksum, half a real binary)
 * is refused before the driver sees it (PoCL read past the end of such a
 * binary, under AddressSanitizer a heap-buffer-overflow): the process given
 * it rebuilds from source, and the one after loads the new binary. Were a
 * driver to die on a binary all the same, only that process would. */
static void test_crafted_binary_kills_no_later_process(void **state)
{
    (void)state;
    char source[512];
    snprintf(source, sizeof source,
             "__kernel void k(__global int *out) { out[get_global_id(0)] = 41; } // %s\n", dir);
    int rc = run_crash_child(source, 0);
    if (rc == 3) skip(); /* no OpenCL: no binaries */
    assert_int_equal(rc, 1);
    damage_all(halve_payload);
    assert_int_equal(run_crash_child(source, 0), 1); /* refused, rebuilt */
    assert_int_equal(run_crash_child(source, 0), 0); /* and loaded again */
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
    if (argc == 4 && strcmp(argv[1], "crash-child") == 0) return crash_child(argv[2], argv[3]);
    if (argc > 0 && strchr(argv[0], '/')) self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_then_hits, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_build_error_reaches_caller, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_corrupt_cache_file_rebuilt, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_truncated_cache_file_rebuilt, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_processes_race_to_build, fresh_dir, remove_dir),
        cmocka_unit_test(test_unwritable_cache_dir_still_works),
        cmocka_unit_test_setup_teardown(test_include_dirs_in_cache_key, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_byte_order_mark_skipped, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_scalar_parameter_dtypes, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_working_directory_header_in_cache_key, fresh_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_nested_and_absolute_includes_in_cache_key, fresh_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_fifo_include_is_an_error, fresh_dir, remove_dir),
        cmocka_unit_test(test_empty_cache_dir_is_memory_only),
        cmocka_unit_test_setup_teardown(test_unusable_cache_dirs_said_once, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_build_file_and_helpers, fresh_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_crafted_binary_kills_no_later_process, fresh_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
