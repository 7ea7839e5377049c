/* The weft command line tool. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: weft <command> [options]   (weft <command> --help for more)\n\n"
        "commands:\n"
        "  info [--json]            devices, which are selected, and why any were set aside\n"
        "  demo [N]                 partitioned map and reduce over N floats vs a C loop\n"
        "  peak [--json] [--device D]   bandwidth, launch latency, arithmetic, build time\n"
        "  bench [--quick] [--json] [--plot FILE.svg]   primitives vs C, OpenMP, raw OpenCL\n"
        "  bench csv [--rows N]     the CSV pipeline on a generated file\n"
        "  bench placement [--json] where operations run: each device, the pool, weft's choice\n"
        "  bench prims [--json]     sort, histograms, group-by, scan ... vs plain C loops\n"
        "  run FILE.cl --kernel K --range N ...   benchmark / cross-check a user kernel\n"
        "  precompile FILE.cl ...   fill the binary cache\n"
        "  cache stats|models|clear inspect or empty the cache (binaries, cost models)\n"
        "  csv IN --set \"c = a*2\" -o OUT   a CSV file through expressions, in bounded memory\n"
        "  version, --version       the library version\n"
        "  help [COMMAND]           this text, or a command's\n\n"
        "exit codes: 0 ok, 1 a check failed (run --check), 2 bad usage, 3 a weft call\n"
        "failed (the message says which), 4 the command needs OpenCL and there is none\n"
        "environment: WEFT_DEVICES, WEFT_NUM_THREADS, WEFT_CACHE_DIR, WEFT_LOG, OCL_ICD_VENDORS\n");
}

/* `weft bench` is the benchmark program installed beside the tool: its
 * baselines (OpenMP, raw OpenCL) run in its own process, as they must. */
static int cmd_bench(int argc, char **argv, const char *self)
{
    if (argc > 0 && strcmp(argv[0], "csv") == 0) return cmd_bench_csv(argc - 1, argv + 1, self);
    if (argc > 0 && strcmp(argv[0], "placement") == 0)
        return cmd_bench_placement(argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "prims") == 0) return cmd_bench_prims(argc - 1, argv + 1);
    char path[4096];
    const char *slash = strrchr(self, '/');
    const char *candidates[] = {"weft-bench", "bench/weft-bench"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - self + 1) : 0, self,
                 candidates[i]);
        if (access(path, X_OK) == 0) {
            argv[-1] = path;
            execv(path, argv - 1);
        }
    }
    (void)argc;
    fprintf(stderr, "weft bench: the benchmark program (weft-bench) is not installed beside %s\n",
            self);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
        argv[1] = "version";
    if (argc >= 2 && strcmp(argv[1], "help") == 0) {
        if (argc > 2) { /* weft help CMD: as weft CMD --help */
            argv[1] = argv[2];
            argv[2] = "--help";
        } else {
            argv[1] = "--help";
        }
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "info") == 0) {
        if (argc > 2 && strcmp(argv[2], "--help") == 0) {
            printf(
                "usage: weft info [--json]\nLists platforms and devices (kind, vendor, driver, "
                "memory, max allocation,\ncompute units, implementation of each primitive), which "
                "are selected, why any\nwere set aside, and the environment that matters.\n");
            return 0;
        }
        int json = argc > 2 && strcmp(argv[2], "--json") == 0;
        if (argc > 2 + json) {
            fprintf(stderr, "weft info: unexpected argument \"%s\"\n", argv[2 + json]);
            return EXIT_USAGE;
        }
        return cmd_info(json);
    }
    if (strcmp(cmd, "demo") == 0) {
        size_t n = (size_t)1 << 25;
        if (argc > 2) {
            char *end;
            unsigned long long v = strtoull(argv[2], &end, 10);
            if (*end || v == 0 || v > ((size_t)1 << 32)) {
                fprintf(stderr, "weft demo: N must be a number from 1 to 2^32, not \"%s\"\n",
                        argv[2]);
                return EXIT_USAGE;
            }
            n = (size_t)v;
        }
        return cmd_demo(n);
    }
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "precompile") == 0) return cmd_precompile(argc - 2, argv + 2);
    if (strcmp(cmd, "cache") == 0) return cmd_cache(argc - 2, argv + 2);
    if (strcmp(cmd, "peak") == 0) return cmd_peak(argc - 2, argv + 2);
    if (strcmp(cmd, "csv") == 0) return cmd_csv(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 2, argv + 2, argv[0]);
    if (strcmp(cmd, "version") == 0) {
        printf("%s\n", weft_version_string());
        return 0;
    }
    fprintf(stderr, "weft: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
