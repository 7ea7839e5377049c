/* weft run: benchmark (and cross-check) a user kernel with no host code.
 * Each selected OpenCL device runs the whole range on its own, so devices can
 * be compared; --check compares every run's buffers with a reference run (the
 * kernel built with -cl-opt-disable on the first device), the devices split
 * together as weft runs them, and golden files given with --expect. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "run_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 32, MAX_DEVICES = 16, MAX_SAVES = 8 };

typedef struct run_opts {
    const char *file, *kernel, *devices, *options;
    size_t range[3], local[3];
    unsigned dims, local_dims;
    cli_argspec args[MAX_ARGS];
    size_t nargs;
    int repeat, warmup, json, check;
    double bytes_per_item, flops_per_item, rtol, atol;
    int save_arg[MAX_SAVES], expect_arg[MAX_SAVES];
    const char *save_path[MAX_SAVES], *expect_path[MAX_SAVES];
    int nsaves, nexpects;
} run_opts;

typedef struct device_result {
    size_t device; /* 0: the split run over every selected device */
    char name[128];
    double build_seconds;
    int cache_hit;
    double kernel[4], wall[4]; /* median, min, max, spread (max/min - 1) */
    void *outputs[MAX_ARGS];   /* array contents after one run from the inputs */
    weft_stats ledger;         /* what the context moved and launched, all runs */
    size_t pieces, on_device;  /* the first run's pieces, and the device of its first */
} device_result;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weft run FILE.cl --kernel NAME --range N[,M[,K]] [--arg SPEC ...]\n"
            "                [--local A[,B[,C]]] [--device D] [--options \"BUILD OPTIONS\"]\n"
            "                [--repeat R] [--warmup W] [--bytes B] [--flops F]\n"
            "                [--check [--rtol X] [--atol Y]] [--expect K:FILE] [--save K:FILE]\n"
            "                [--json]\n\n"
            "Runs kernel NAME of FILE.cl over the range on each selected OpenCL device and\n"
            "reports compile time, whether the binary cache hit, and the median, min, max and\n"
            "spread of kernel time (OpenCL profiling) and wall time.\n\n"
            "--arg SPEC, one per kernel argument, in order:\n"
            "  f32:1.5                a scalar of a dtype (f32 f64 i32 u32 i64 u64 u8)\n"
            "  f32[1024]=random       a buffer, split with the range (a slice)\n"
            "  f32[*]=ramp            as many elements as the range has items\n"
            "  whole:f64[100]=3.5     every device gets all of it (declare it const)\n"
            "  halo:1:f32[*]=file:in.bin  a slice with 1 neighbour row on each side\n"
            "  local:4096             bytes of __local memory\n"
            "  fills: zeros (default), random, ramp, a number, file:PATH (raw binary)\n"
            "--bytes/--flops: per work-item, to report GB/s and GFLOP/s\n"
            "--check: run the kernel once more built with -cl-opt-disable on the first\n"
            "         device (the reference) and, with several devices, once split over\n"
            "         all of them; compare every run's slice and halo buffers with the\n"
            "         reference, print each comparison, exit 1 if any differs (integers\n"
            "         bitwise, floats within rtol 1e-5 / atol 1e-6 unless given)\n"
            "--expect K:FILE: also compare argument K's final contents in every run\n"
            "         with FILE (raw binary, as --save writes); implies --check\n"
            "--save K:FILE: write argument K's buffer (after one run) to FILE\n"
            "--device: as WEFT_DEVICES (all, cpu, gpu, cl:0, ...)\n");
}

static int parse_number(const char *flag, const char *text, double *out)
{
    char *end;
    *out = strtod(text, &end);
    if (end == text || *end || !isfinite(*out) || *out < 0) {
        fprintf(stderr, "weft run: %s needs a non-negative number, not \"%s\"\n", flag, text);
        return 0;
    }
    return 1;
}

/* "K:FILE" of --save and --expect, appended to the flag's list. */
static int parse_arg_file(const char *flag, const char *v, int *arg, const char **path, int *count)
{
    const char *colon = strchr(v, ':');
    char *end;
    long k = strtol(v, &end, 10);
    if (!colon || end != colon || k < 0 || k >= MAX_ARGS || !colon[1] || *count == MAX_SAVES) {
        fprintf(stderr, "weft run: %s needs K:FILE, not \"%s\"\n", flag, v);
        return 0;
    }
    arg[*count] = (int)k;
    path[(*count)++] = colon + 1;
    return 1;
}

static int is_buffer(const run_opts *o, int k)
{
    return k >= 0 && (size_t)k < o->nargs && o->args[k].kind <= WEFT_ARG_WHOLE;
}

static int parse_opts(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->repeat = 10;
    o->warmup = 2;
    o->rtol = 1e-5;
    o->atol = 1e-6;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            takes = 0;
        } else if (strcmp(a, "--check") == 0) {
            o->check = 1;
            takes = 0;
        } else if (a[0] == '-' && a[1] == '-' && !v) {
            fprintf(stderr, "weft run: %s needs a value\n", a);
            return 0;
        } else if (strcmp(a, "--kernel") == 0) {
            o->kernel = v;
        } else if (strcmp(a, "--device") == 0) {
            o->devices = v;
        } else if (strcmp(a, "--options") == 0) {
            o->options = v;
        } else if (strcmp(a, "--range") == 0) {
            if (!cli_parse_range(v, o->range, &o->dims)) {
                fprintf(stderr,
                        "weft run: --range must be N[,M[,K]] of positive sizes, not \"%s\"\n", v);
                return 0;
            }
        } else if (strcmp(a, "--local") == 0) {
            if (!cli_parse_range(v, o->local, &o->local_dims)) {
                fprintf(stderr, "weft run: --local must be A[,B[,C]], not \"%s\"\n", v);
                return 0;
            }
        } else if (strcmp(a, "--arg") == 0) {
            char err[256];
            if (o->nargs == MAX_ARGS) {
                fprintf(stderr, "weft run: at most %d arguments\n", MAX_ARGS);
                return 0;
            }
            if (!cli_parse_argspec(v, &o->args[o->nargs], err, sizeof err)) {
                fprintf(stderr, "weft run: --arg %s\n", err);
                return 0;
            }
            o->nargs++;
        } else if (strcmp(a, "--repeat") == 0 || strcmp(a, "--warmup") == 0) {
            double n;
            if (!parse_number(a, v, &n) || n > 1e6 || (a[2] == 'r' && n < 1)) {
                fprintf(stderr, "weft run: %s must be a count%s\n", a, a[2] == 'r' ? " >= 1" : "");
                return 0;
            }
            *(a[2] == 'r' ? &o->repeat : &o->warmup) = (int)n;
        } else if (strcmp(a, "--bytes") == 0) {
            if (!parse_number(a, v, &o->bytes_per_item)) return 0;
        } else if (strcmp(a, "--flops") == 0) {
            if (!parse_number(a, v, &o->flops_per_item)) return 0;
        } else if (strcmp(a, "--rtol") == 0) {
            if (!parse_number(a, v, &o->rtol)) return 0;
        } else if (strcmp(a, "--atol") == 0) {
            if (!parse_number(a, v, &o->atol)) return 0;
        } else if (strcmp(a, "--save") == 0) {
            if (!parse_arg_file(a, v, o->save_arg, o->save_path, &o->nsaves)) return 0;
        } else if (strcmp(a, "--expect") == 0) {
            if (!parse_arg_file(a, v, o->expect_arg, o->expect_path, &o->nexpects)) return 0;
            o->check = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "weft run: unknown option %s (see weft run --help)\n", a);
            return 0;
        } else if (!o->file) {
            o->file = a;
            takes = 0;
        } else {
            fprintf(stderr, "weft run: unexpected argument \"%s\"\n", a);
            return 0;
        }
        i += takes;
    }
    if (!o->file || !o->kernel || !o->dims) {
        fprintf(stderr,
                "weft run: FILE.cl, --kernel and --range are required (see weft run --help)\n");
        return 0;
    }
    size_t items;
    if (!cli_range_items(o->range, o->dims, &items)) {
        fprintf(
            stderr, "weft run: --range overflows: %zu x %zu x %zu work-items is more than %zu\n",
            o->range[0], o->dims > 1 ? o->range[1] : 1, o->dims > 2 ? o->range[2] : 1, SIZE_MAX);
        return 0;
    }
    if (o->local_dims && o->local_dims != o->dims) {
        fprintf(stderr, "weft run: --local has %u sizes, --range %u\n", o->local_dims, o->dims);
        return 0;
    }
    for (int s = 0; s < o->nsaves; s++)
        if (!is_buffer(o, o->save_arg[s])) {
            fprintf(stderr, "weft run: --save %d: argument %d is not a buffer\n", o->save_arg[s],
                    o->save_arg[s]);
            return 0;
        }
    for (int s = 0; s < o->nexpects; s++)
        if (!is_buffer(o, o->expect_arg[s])) {
            fprintf(stderr, "weft run: --expect %d: argument %d is not a buffer\n",
                    o->expect_arg[s], o->expect_arg[s]);
            return 0;
        }
    return 1;
}

static size_t range_items(const run_opts *o)
{
    size_t n = 0;
    cli_range_items(o->range, o->dims, &n); /* checked in parse_opts */
    return n;
}

/* Deterministic contents, the same on every device so outputs compare. */
static int fill_buffer(const cli_argspec *s, void *data, size_t n)
{
    size_t elem = weft_dtype_size(s->dtype);
    if (s->fill == FILL_FILE) {
        size_t size = 0;
        char *bytes = cli_read_file(s->path, &size);
        if (!bytes) return 0;
        if (size != n * elem) {
            fprintf(stderr, "weft run: %s has %zu bytes, the argument needs %zu\n", s->path, size,
                    n * elem);
            free(bytes);
            return 0;
        }
        memcpy(data, bytes, size);
        free(bytes);
        return 1;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = (unsigned char *)data + i * elem;
        if (s->fill == FILL_CONST) { /* every member of the value starts at its first byte */
            memcpy(p, &s->value, elem);
            continue;
        }
        /* Ramps and random integers wrap in the dtype (converting a double
         * out of an integer's range would be undefined). */
        uint64_t whole = (uint64_t)i;
        double v = (double)i;
        if (s->fill == FILL_RANDOM) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            v = (double)(seed >> 11) / 9007199254740992.0;
            whole = seed >> 40;
        }
        if (s->fill == FILL_ZEROS) v = 0, whole = 0;
        weft_value value;
        if (s->dtype == WEFT_F32) value.f32 = (float)v;
        if (s->dtype == WEFT_F64) value.f64 = v;
        if (s->dtype == WEFT_I32 || s->dtype == WEFT_U32) value.u32 = (uint32_t)whole;
        if (s->dtype == WEFT_I64 || s->dtype == WEFT_U64) value.u64 = whole;
        if (s->dtype == WEFT_U8) value.u8 = (uint8_t)whole;
        memcpy(p, &value, elem);
    }
    return 1;
}

static void stats(double *t, int n, double out[4])
{
    qsort(t, (size_t)n, sizeof *t, cli_cmp_double);
    out[0] = t[n / 2];
    out[1] = t[0];
    out[2] = t[n - 1];
    out[3] = t[0] > 0 ? t[n - 1] / t[0] - 1 : 0;
}

/* Builds (with extra_options after the user's), fills, runs once for the
 * outputs, then, when timed, times warmup + repeat runs. `devices` is a
 * WEFT_DEVICES spec; r->device says which selected device it is (0: all). */
/* Whether the source names a built-in that keeps its kernels whole
 * (docs/kernels.md): for the label of a run on one device only. */
static int asks_geometry(const char *source)
{
    static const char *const names[] = {"get_global_size", "get_num_groups", "get_group_id",
                                        "get_global_offset"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strstr(source, names[i])) return 1;
    return 0;
}

/* What run_on does after the first launch: nothing more, the timed
 * launches, or the launch again from the same inputs (the first launch of
 * a kernel over several devices is a checked one, which keeps one device's
 * answer: the second is the split the check allowed, or the whole kernel). */
enum run_mode { RUN_ONCE, RUN_TIMED, RUN_AGAIN };

static int run_on(const run_opts *o, const char *source, const char *devices,
                  const char *extra_options, enum run_mode mode, device_result *r)
{
    int timed = mode == RUN_TIMED;
    weft_ctx *ctx = cli_ctx(devices);
    if (!ctx) return EXIT_WEFT;
    int rc = 0;
    weft_program *prog = NULL;
    weft_array *arrays[MAX_ARGS] = {0};
    void *inputs[MAX_ARGS] = {0}; /* RUN_AGAIN: each array as it was filled */
    weft_arg args[MAX_ARGS];
    char *options = NULL;
    double *kt = calloc((size_t)o->repeat, sizeof *kt), *wt = calloc((size_t)o->repeat, sizeof *wt);
    if (r->device) {
        weft_device_info info;
        weft_device_get_info(ctx, r->device, &info);
        snprintf(r->name, sizeof r->name, "%s", info.name);
    }
    const char *user_options = o->options ? o->options : "";
    extra_options = extra_options ? extra_options : "";
    options = malloc(strlen(user_options) + strlen(extra_options) + 1);
    if (!options || !kt || !wt) {
        rc = cli_fail("allocating");
        goto done;
    }
    strcat(strcpy(options, user_options), extra_options);
    weft_cache_stats before, after;
    weft_cache_stats_get(ctx, &before);
    double t0 = cli_now();
    weft_status st = weft_program_build(ctx, source, options, &prog);
    r->build_seconds = cli_now() - t0;
    weft_cache_stats_get(ctx, &after);
    r->cache_hit = after.misses == before.misses;
    if (st != WEFT_OK) {
        fprintf(stderr, "weft run: %s does not build on %s with \"%s\":\n%s\n", o->file,
                devices ? devices : "the default devices", options, weft_program_build_log(prog));
        rc = EXIT_WEFT;
        goto done;
    }
    size_t items = range_items(o);
    for (size_t k = 0; k < o->nargs; k++) {
        const cli_argspec *s = &o->args[k];
        if (s->kind == WEFT_ARG_LOCAL) {
            args[k] = weft_arg_local(s->local_bytes);
            continue;
        }
        if (s->kind == WEFT_ARG_SCALAR) {
            weft_arg a = {WEFT_ARG_SCALAR, NULL, 0, s->dtype, {0}, 0};
            a.value = s->value; /* parsed in the dtype, checked to fit */
            args[k] = a;
            continue;
        }
        size_t n = s->count_is_range ? items : s->count;
        void *data = calloc(n ? n : 1, weft_dtype_size(s->dtype));
        if (!data) { /* weft_last_error() holds an earlier call's detail, not this */
            fprintf(stderr,
                    "weft run: cannot allocate argument %zu: %zu %s elements of %zu bytes\n", k, n,
                    weft_dtype_name(s->dtype), weft_dtype_size(s->dtype));
            rc = EXIT_WEFT;
            goto done;
        }
        if (!fill_buffer(s, data, n)) { /* it said why */
            free(data);
            rc = EXIT_USAGE;
            goto done;
        }
        weft_status made = weft_array_from(ctx, s->dtype, n, data, &arrays[k]);
        if (mode == RUN_AGAIN)
            inputs[k] = data;
        else
            free(data);
        if (made != WEFT_OK) {
            rc = cli_fail("making an argument's array");
            goto done;
        }
        args[k] = s->kind == WEFT_ARG_WHOLE  ? weft_arg_whole(arrays[k])
                  : s->kind == WEFT_ARG_HALO ? weft_arg_halo(arrays[k], s->halo)
                                             : weft_arg_slice(arrays[k]);
    }
    weft_range range = {
        o->dims, {o->range[0], o->range[1], o->range[2]}, {o->local[0], o->local[1], o->local[2]}};
    if (weft_launch(prog, o->kernel, &range, args, o->nargs, NULL, NULL, NULL) != WEFT_OK) {
        rc = cli_fail("launching the kernel");
        goto done;
    }
    for (size_t k = 0; mode == RUN_AGAIN && k < o->nargs; k++) {
        size_t n;
        if (arrays[k] && (weft_array_size(arrays[k], &n) != WEFT_OK ||
                          weft_array_write(arrays[k], 0, n, inputs[k]) != WEFT_OK)) {
            rc = cli_fail("restoring the inputs");
            goto done;
        }
    }
    if (mode == RUN_AGAIN &&
        weft_launch(prog, o->kernel, &range, args, o->nargs, NULL, NULL, NULL) != WEFT_OK) {
        rc = cli_fail("launching the kernel again");
        goto done;
    }
    weft_piece_report first;
    if (weft_ctx_last_pieces(ctx, &first, 1, &r->pieces) == WEFT_OK && r->pieces)
        r->on_device = first.device;
    for (size_t k = 0; k < o->nargs; k++) {
        if (!arrays[k]) continue;
        size_t n;
        weft_array_size(arrays[k], &n);
        r->outputs[k] = malloc((n ? n : 1) * weft_dtype_size(o->args[k].dtype));
        if (!r->outputs[k] || weft_array_read(arrays[k], 0, n, r->outputs[k]) != WEFT_OK) {
            rc = cli_fail("reading results");
            goto done;
        }
    }
    double untimed;
    weft_ctx_last_kernel_time(ctx, &untimed); /* from here on, launches are timed */
    for (int i = 0; timed && i < o->warmup + o->repeat; i++) {
        double w0 = cli_now();
        if (weft_launch(prog, o->kernel, &range, args, o->nargs, NULL, NULL, NULL) != WEFT_OK) {
            rc = cli_fail("launching the kernel");
            goto done;
        }
        double wall = cli_now() - w0, kernel = 0;
        weft_ctx_last_kernel_time(ctx, &kernel);
        if (i >= o->warmup) {
            wt[i - o->warmup] = wall;
            kt[i - o->warmup] = kernel;
        }
    }
    if (timed) {
        stats(kt, o->repeat, r->kernel);
        stats(wt, o->repeat, r->wall);
    }
done:
    weft_ctx_stats(ctx, &r->ledger);
    for (size_t k = 0; k < o->nargs; k++) {
        weft_array_free(arrays[k]);
        free(inputs[k]);
    }
    weft_program_free(prog);
    weft_ctx_free(ctx);
    free(options);
    free(kt);
    free(wt);
    return rc;
}

static void print_result(const run_opts *o, const device_result *r, int first)
{
    double items = (double)range_items(o);
    double t = r->kernel[0] > 0 ? r->kernel[0] : r->wall[0];
    if (o->json) {
        printf("%s{\"device\": %zu, \"name\": ", first ? "" : ", ", r->device);
        cli_json_string(r->name);
        printf(", \"build_s\": %.6f, \"cache_hit\": %s, \"kernel_s\": {\"median\": %.9f, \"min\": "
               "%.9f, \"max\": %.9f, \"spread\": %.4f}, \"wall_s\": {\"median\": %.9f, \"min\": "
               "%.9f, \"max\": %.9f, \"spread\": %.4f}",
               r->build_seconds, r->cache_hit ? "true" : "false", r->kernel[0], r->kernel[1],
               r->kernel[2], r->kernel[3], r->wall[0], r->wall[1], r->wall[2], r->wall[3]);
        if (o->bytes_per_item > 0)
            printf(", \"gb_per_s\": %.3f", o->bytes_per_item * items / t * 1e-9);
        if (o->flops_per_item > 0)
            printf(", \"gflop_per_s\": %.3f", o->flops_per_item * items / t * 1e-9);
        printf(", \"ledger\": {\"bytes_to_device\": %llu, \"bytes_to_host\": %llu, "
               "\"bytes_device_to_device\": %llu, \"kernel_launches\": %llu, \"tasks\": %llu, "
               "\"pieces_rerun\": %llu, \"wait_s\": %.6f}}",
               (unsigned long long)r->ledger.bytes_to_device,
               (unsigned long long)r->ledger.bytes_to_host,
               (unsigned long long)r->ledger.bytes_device_to_device,
               (unsigned long long)r->ledger.kernel_launches, (unsigned long long)r->ledger.tasks,
               (unsigned long long)r->ledger.pieces_rerun, r->ledger.wait_seconds);
        return;
    }
    printf("device %zu: %s\n  build %.1f ms (%s)\n", r->device, r->name, r->build_seconds * 1e3,
           r->cache_hit ? "binary cache hit" : "compiled");
    printf("  kernel median %.1f us, min %.1f, max %.1f, spread %.1f%%\n", r->kernel[0] * 1e6,
           r->kernel[1] * 1e6, r->kernel[2] * 1e6, r->kernel[3] * 100);
    printf("  wall   median %.1f us, min %.1f, max %.1f, spread %.1f%%\n", r->wall[0] * 1e6,
           r->wall[1] * 1e6, r->wall[2] * 1e6, r->wall[3] * 100);
    if (o->bytes_per_item > 0) printf("  %.2f GB/s\n", o->bytes_per_item * items / t * 1e-9);
    if (o->flops_per_item > 0) printf("  %.2f GFLOP/s\n", o->flops_per_item * items / t * 1e-9);
    printf("  moved %.3f MB to the device, %.3f MB back, %.3f MB between devices; %llu launches\n",
           (double)r->ledger.bytes_to_device * 1e-6, (double)r->ledger.bytes_to_host * 1e-6,
           (double)r->ledger.bytes_device_to_device * 1e-6,
           (unsigned long long)r->ledger.kernel_launches);
}

static void free_outputs(device_result *r)
{
    for (size_t k = 0; k < MAX_ARGS; k++) {
        free(r->outputs[k]);
        r->outputs[k] = NULL;
    }
}

static size_t arg_elements(const run_opts *o, size_t k)
{
    return o->args[k].count_is_range ? range_items(o) : o->args[k].count;
}

/* Compares the buffers of `run` with `want` (NULL entries are skipped),
 * printing one line per argument; counts the arguments that differ. */
static void compare_run(const run_opts *o, const char *run, const char *against, void *const *got,
                        void *const *want, int *entries, int *mismatches)
{
    for (size_t k = 0; k < o->nargs; k++) {
        if (!got[k] || !want[k]) continue;
        run_check_diff d;
        size_t n = arg_elements(o, k);
        run_check_compare(o->args[k].dtype, got[k], want[k], n, o->rtol, o->atol, &d);
        run_check_print(o->json, *entries == 0, run, against, k, o->args[k].dtype, n, &d);
        ++*entries;
        *mismatches += d.differ > 0;
    }
}

/* The golden files of --expect, by argument; NULL where none was given. */
static int load_expected(const run_opts *o, void **expected)
{
    for (int s = 0; s < o->nexpects; s++) {
        int k = o->expect_arg[s];
        size_t size = 0, want = arg_elements(o, (size_t)k) * weft_dtype_size(o->args[k].dtype);
        free(expected[k]);
        expected[k] = cli_read_file(o->expect_path[s], &size);
        if (!expected[k]) return 0;
        if (size != want) {
            fprintf(stderr, "weft run: --expect %d:%s has %zu bytes, argument %d holds %zu\n", k,
                    o->expect_path[s], size, k, want);
            return 0;
        }
    }
    return 1;
}

/* --check: every device's run, and the devices split together, against the
 * reference build on the first device and against the golden files. A read-only
 * whole argument is compared only with a golden file. */
static int check(const run_opts *o, const char *source, const size_t *devices, size_t ndev,
                 device_result *results, int *mismatches)
{
    static device_result reference, split;
    void *expected[MAX_ARGS] = {0}, *compared[MAX_ARGS] = {0};
    char spec[32], name[1100];
    int rc = load_expected(o, expected) ? 0 : EXIT_USAGE, entries = 0;
    snprintf(spec, sizeof spec, "cl:%zu", devices[0] - 1);
    reference.device = devices[0];
    if (rc == 0) rc = run_on(o, source, spec, " -cl-opt-disable", RUN_ONCE, &reference);
    if (ndev > 1 && rc == 0) {
        split.device = 0;
        rc = run_on(o, source, o->devices, NULL, RUN_AGAIN, &split);
    }
    for (size_t k = 0; k < o->nargs && rc == 0; k++)
        if (o->args[k].kind != WEFT_ARG_WHOLE) compared[k] = reference.outputs[k];
    const char *ref_name = "reference (-cl-opt-disable)";
    for (size_t i = 0; i < ndev && rc == 0; i++) {
        snprintf(name, sizeof name, "device %zu", results[i].device);
        compare_run(o, name, ref_name, results[i].outputs, compared, &entries, mismatches);
    }
    /* A kernel weft keeps whole (docs/kernels.md) is said to be. */
    if (ndev > 1 && rc == 0) {
        if (split.pieces > 1)
            snprintf(name, sizeof name, "devices split (%zu)", ndev);
        else if (split.ledger.kernels_kept_whole > 0 || asks_geometry(source))
            snprintf(name, sizeof name, "devices (%zu, the kernel kept whole on device %zu)", ndev,
                     split.on_device);
        else if (split.ledger.splits_checked > 1) /* the second launch was checked again */
            snprintf(name, sizeof name,
                     "devices (%zu, checked again: the split check could not decide on this "
                     "data; one device's answer, from device %zu)",
                     ndev, split.on_device);
        else /* it may split: the cost model ran it on one device */
            snprintf(name, sizeof name, "devices (%zu, the launch placed on device %zu)", ndev,
                     split.on_device);
        compare_run(o, name, ref_name, split.outputs, compared, &entries, mismatches);
    }
    for (int s = 0; s < o->nexpects && rc == 0; s++) {
        int k = o->expect_arg[s];
        void *only[MAX_ARGS] = {0};
        only[k] = expected[k];
        snprintf(name, sizeof name, "expected %s", o->expect_path[s]);
        compare_run(o, "reference", name, reference.outputs, only, &entries, mismatches);
        for (size_t i = 0; i < ndev; i++) {
            char run[32];
            snprintf(run, sizeof run, "device %zu", results[i].device);
            compare_run(o, run, name, results[i].outputs, only, &entries, mismatches);
        }
        if (ndev > 1)
            compare_run(o, "devices split", name, split.outputs, only, &entries, mismatches);
    }
    if (rc == 0 && !o->json)
        printf("check: %d comparison%s of %zu device%s%s with the reference%s: %s\n", entries,
               entries == 1 ? "" : "s", ndev, ndev == 1 ? "" : "s",
               ndev > 1 ? " and their split run" : " (one device: nothing was split)",
               o->nexpects ? " and golden files" : "",
               *mismatches ? "some DIFFER"
               : entries   ? "all agree"
                           : "nothing to compare");
    for (size_t k = 0; k < MAX_ARGS; k++)
        free(expected[k]);
    free_outputs(&reference);
    free_outputs(&split);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    static run_opts o;
    if (!parse_opts(argc, argv, &o)) return EXIT_USAGE;
    char *source = cli_read_file(o.file, NULL);
    if (!source) return EXIT_USAGE;
    weft_ctx *probe = cli_ctx(o.devices);
    if (!probe) {
        free(source);
        return EXIT_WEFT;
    }
    size_t count = 0, devices[MAX_DEVICES], ndev = 0;
    weft_device_count(probe, &count);
    for (size_t d = 1; d < count && ndev < MAX_DEVICES; d++) {
        weft_device_info info;
        weft_device_get_info(probe, d, &info);
        if (info.selected) devices[ndev++] = d;
    }
    if (ndev == 0) {
        fprintf(stderr, "weft run: no OpenCL device is selected, and a kernel needs one.\n%s",
                weft_ctx_notes(probe));
        weft_ctx_free(probe);
        free(source);
        return EXIT_NO_OPENCL;
    }
    weft_ctx_free(probe);
    static device_result results[MAX_DEVICES];
    int rc = 0;
    if (o.json) printf("{\"file\": \"%s\", \"kernel\": \"%s\", \"devices\": [", o.file, o.kernel);
    for (size_t i = 0; i < ndev && rc == 0; i++) {
        char spec[32];
        snprintf(spec, sizeof spec, "cl:%zu", devices[i] - 1);
        results[i].device = devices[i];
        rc = run_on(&o, source, spec, NULL, RUN_TIMED, &results[i]);
        if (rc == 0) print_result(&o, &results[i], i == 0);
    }
    int mismatches = 0;
    if (rc == 0 && o.check) {
        if (o.json) printf("], \"check\": [");
        rc = check(&o, source, devices, ndev, results, &mismatches);
    }
    if (o.json)
        printf("]%s}\n",
               rc == 0 && o.check ? (mismatches ? ", \"agree\": false" : ", \"agree\": true") : "");
    for (int s = 0; s < o.nsaves && rc == 0; s++) {
        int k = o.save_arg[s];
        size_t n = o.args[k].count_is_range ? range_items(&o) : o.args[k].count;
        FILE *f = fopen(o.save_path[s], "wb");
        if (!f || fwrite(results[0].outputs[k], weft_dtype_size(o.args[k].dtype), n, f) != n) {
            perror(o.save_path[s]);
            rc = EXIT_USAGE;
        }
        if (f) fclose(f);
    }
    for (size_t i = 0; i < ndev; i++)
        free_outputs(&results[i]);
    free(source);
    if (rc) return rc;
    return mismatches ? EXIT_CHECK : 0;
}
