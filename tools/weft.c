#define _POSIX_C_SOURCE 200809L
/* The weft command line tool: `weft info` lists devices and why any were set
 * aside; `weft demo` runs a partitioned map and reduce against a plain loop. */
#include <weft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_USAGE = 2, EXIT_WEFT = 3 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, weft_status st)
{
    fprintf(stderr, "weft: %s failed: %s\n", what, weft_last_error());
    (void)st;
    return EXIT_WEFT;
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static int cmd_info(int json)
{
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st != WEFT_OK) return fail("creating a context", st);
    size_t count;
    weft_device_count(ctx, &count);
    if (json) printf("{\"version\": \"%s\", \"devices\": [", weft_version_string());
    else printf("weft %s\n", weft_version_string());
    for (size_t d = 0; d < count; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        const char *axpy, *sum;
        weft_device_impl(ctx, d, "axpy", &axpy);
        weft_device_impl(ctx, d, "sum", &sum);
        if (json) {
            printf("%s{\"index\": %zu, \"name\": ", d ? ", " : "", d);
            print_json_string(info.name);
            printf(", \"kind\": \"%s\", \"vendor\": ", weft_device_kind_name(info.kind));
            print_json_string(info.vendor);
            printf(", \"driver\": ");
            print_json_string(info.driver_version);
            printf(", \"global_mem\": %llu, \"max_alloc\": %llu, \"compute_units\": %u, "
                   "\"usable\": %s, \"selected\": %s, \"zero_copy\": %s, \"weight\": %g, "
                   "\"axpy\": \"%s\", \"sum\": \"%s\", \"reason\": ",
                   (unsigned long long)info.global_mem_bytes,
                   (unsigned long long)(info.max_alloc_bytes == UINT64_MAX ? 0 : info.max_alloc_bytes),
                   info.compute_units, info.usable ? "true" : "false",
                   info.selected ? "true" : "false", info.zero_copy ? "true" : "false",
                   info.weight, axpy, sum);
            print_json_string(info.reason);
            printf("}");
        } else {
            printf("\ndevice %zu: %s\n  kind %s, vendor %s, driver %s\n", d, info.name,
                   weft_device_kind_name(info.kind), info.vendor, info.driver_version);
            if (info.kind != WEFT_DEVICE_HOST)
                printf("  memory %.1f GiB, max allocation %.1f GiB, %u compute units, zero-copy %s\n",
                       info.global_mem_bytes / 1073741824.0, info.max_alloc_bytes / 1073741824.0,
                       info.compute_units, info.zero_copy ? "yes" : "no");
            printf("  %s%s, weight %.3g; axpy: %s, sum: %s\n", info.usable ? "usable" : "SET ASIDE",
                   info.selected ? ", selected" : ", not selected", info.weight, axpy, sum);
            if (info.reason[0]) printf("  note: %s\n", info.reason);
        }
    }
    const char *notes = weft_ctx_notes(ctx);
    if (json) {
        printf("], \"notes\": ");
        print_json_string(notes);
        printf(", \"cache_dir\": ");
        print_json_string(weft_cache_dir(ctx));
        printf("}\n");
    } else {
        if (*notes) printf("\nnotes:\n%s", notes);
        printf("\ncache: %s\n", *weft_cache_dir(ctx) ? weft_cache_dir(ctx) : "(off)");
        static const char *const vars[] = {"WEFT_DEVICES", "WEFT_NUM_THREADS", "WEFT_CACHE_DIR",
                                           "OCL_ICD_VENDORS", "OCL_ICD_FILENAMES", "POCL_DEVICES",
                                           "POCL_MAX_PTHREAD_COUNT"};
        printf("environment:");
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            const char *v = getenv(vars[i]);
            if (v) printf(" %s=%s", vars[i], v);
        }
        printf("\n");
    }
    weft_ctx_free(ctx);
    return 0;
}

static double plain_sum(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* Median of `reps` timings of one weft call. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_demo(size_t n)
{
    enum { REPS = 7 };
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st != WEFT_OK) return fail("creating a context", st);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) return fail("allocating", WEFT_ERR_NOMEM);
    srand(42);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)rand() / (float)RAND_MAX;
        y[i] = (float)(i % 1000) * 0.001f;
    }
    weft_array *xa, *ya;
    if ((st = weft_array_from(ctx, WEFT_F32, n, x, &xa)) != WEFT_OK ||
        (st = weft_array_from(ctx, WEFT_F32, n, y, &ya)) != WEFT_OK)
        return fail("creating arrays", st);

    double t_weft[REPS], t_loop[REPS], total = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        if ((st = weft_axpy(ctx, 0.5, xa, ya, NULL)) != WEFT_OK) return fail("weft_axpy", st);
        t_weft[r] = now() - t0;
        t0 = now();
        for (size_t i = 0; i < n; i++)
            y[i] = 0.5f * x[i] + y[i];
        t_loop[r] = now() - t0;
    }
    weft_piece_report pieces[16];
    size_t npieces;
    weft_ctx_last_pieces(ctx, pieces, 16, &npieces);
    printf("map y = 0.5*x + y over %zu f32 elements:\n", n);
    for (size_t p = 0; p < npieces && p < 16; p++) {
        weft_device_info info;
        weft_device_get_info(ctx, pieces[p].device, &info);
        printf("  elements [%zu, %zu) ran on device %zu (%s)%s\n", pieces[p].begin, pieces[p].end,
               pieces[p].device, info.name, pieces[p].fell_back ? ", rerun on the host" : "");
    }
    qsort(t_weft, REPS, sizeof(double), cmp_double);
    qsort(t_loop, REPS, sizeof(double), cmp_double);
    double bytes = 3.0 * sizeof(float) * (double)n;
    printf("  weft %.2f GB/s, plain C loop %.2f GB/s (ratio %.2f; medians of %d)\n",
           bytes / t_weft[REPS / 2] * 1e-9, bytes / t_loop[REPS / 2] * 1e-9,
           t_loop[REPS / 2] / t_weft[REPS / 2], REPS);

    float *check = malloc(n * sizeof *check);
    if (!check || weft_array_read(ya, 0, n, check) != WEFT_OK) return fail("reading y", st);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += memcmp(&check[i], &y[i], sizeof(float)) != 0;
    printf("  result matches the plain loop bit for bit: %s\n", bad ? "NO" : "yes");

    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        if ((st = weft_sum(ctx, ya, &total, NULL)) != WEFT_OK) return fail("weft_sum", st);
        t_weft[r] = now() - t0;
        volatile double s;
        t0 = now();
        s = plain_sum(y, n);
        t_loop[r] = now() - t0;
        (void)s;
    }
    qsort(t_weft, REPS, sizeof(double), cmp_double);
    qsort(t_loop, REPS, sizeof(double), cmp_double);
    bytes = sizeof(float) * (double)n;
    double ref = plain_sum(y, n);
    printf("reduce sum(y) = %.6f (plain loop %.6f, relative difference %.1e):\n", total, ref,
           fabs(total - ref) / fabs(ref));
    weft_ctx_last_pieces(ctx, pieces, 16, &npieces);
    for (size_t p = 0; p < npieces && p < 16; p++)
        printf("  elements [%zu, %zu) ran on device %zu%s\n", pieces[p].begin, pieces[p].end,
               pieces[p].device, pieces[p].fell_back ? ", rerun on the host" : "");
    printf("  weft %.2f GB/s, plain C loop %.2f GB/s (ratio %.2f; medians of %d)\n",
           bytes / t_weft[REPS / 2] * 1e-9, bytes / t_loop[REPS / 2] * 1e-9,
           t_loop[REPS / 2] / t_weft[REPS / 2], REPS);
    weft_array_free(xa);
    weft_array_free(ya);
    weft_ctx_free(ctx);
    free(x);
    free(y);
    free(check);
    return bad ? 1 : 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: weft <command> [options]\n\n"
                 "commands:\n"
                 "  info [--json]     list devices, which are selected, and why any were set aside\n"
                 "  demo [N]          partitioned map and reduce over N generated floats\n"
                 "                    (default 2^25), timed against a plain C loop\n"
                 "  version           print the library version\n\n"
                 "exit codes: 0 ok, 1 a check failed, 2 bad usage, 3 a weft call failed\n"
                 "environment: WEFT_DEVICES, WEFT_NUM_THREADS, WEFT_CACHE_DIR, WEFT_LOG\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "info") == 0) {
        int json = argc > 2 && strcmp(argv[2], "--json") == 0;
        if (argc > 2 + json) {
            fprintf(stderr, "weft info: unexpected argument \"%s\"\n", argv[2 + json]);
            return EXIT_USAGE;
        }
        return cmd_info(json);
    }
    if (strcmp(argv[1], "demo") == 0) {
        size_t n = (size_t)1 << 25;
        if (argc > 2) {
            char *end;
            unsigned long long v = strtoull(argv[2], &end, 10);
            if (*end || v == 0 || v > ((size_t)1 << 32)) {
                fprintf(stderr, "weft demo: N must be a number from 1 to 2^32, not \"%s\"\n", argv[2]);
                return EXIT_USAGE;
            }
            n = (size_t)v;
        }
        return cmd_demo(n);
    }
    if (strcmp(argv[1], "version") == 0) {
        printf("%s\n", weft_version_string());
        return 0;
    }
    fprintf(stderr, "weft: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
