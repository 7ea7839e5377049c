/* weft precompile and weft cache: fill the binary cache ahead of time (so CI
 * jobs keep WEFT_CACHE_DIR as an artifact and never compile), and inspect or
 * empty it. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_precompile(int argc, char **argv)
{
    const char *options = NULL, *devices = NULL;
    int files = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: weft precompile [--options \"BUILD OPTIONS\"] [--device D] FILE.cl ...\n"
                   "Builds each file for every selected OpenCL device into the binary cache\n"
                   "(WEFT_CACHE_DIR), so later runs load binaries instead of compiling.\n");
            return 0;
        }
        if ((strcmp(argv[i], "--options") == 0 || strcmp(argv[i], "--device") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "weft precompile: %s needs a value\n", argv[i]);
                return EXIT_USAGE;
            }
            *(argv[i][2] == 'o' ? &options : &devices) = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "weft precompile: unknown option %s\n", argv[i]);
            return EXIT_USAGE;
        } else {
            files++;
        }
    }
    if (files == 0) {
        fprintf(stderr, "weft precompile: no .cl files given\n");
        return EXIT_USAGE;
    }
    weft_ctx *ctx = cli_ctx(devices);
    if (!ctx) return EXIT_WEFT;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        if (argv[i][0] == '-') {
            i++;
            continue;
        }
        char *source = cli_read_file(argv[i], NULL);
        if (!source) {
            rc = EXIT_USAGE;
            break;
        }
        weft_cache_stats before, after;
        weft_cache_stats_get(ctx, &before);
        double t0 = cli_now();
        const char *list[] = {source};
        weft_status st = weft_program_precompile(ctx, list, 1, options);
        weft_cache_stats_get(ctx, &after);
        if (st != WEFT_OK) {
            fprintf(stderr, "weft precompile: %s: %s\n", argv[i], weft_last_error());
            rc = EXIT_WEFT;
        } else {
            printf("%s: %llu compiled, %llu already cached, %.0f ms\n", argv[i],
                   (unsigned long long)(after.misses - before.misses),
                   (unsigned long long)(after.disk_hits - before.disk_hits + after.memory_hits -
                                        before.memory_hits),
                   (cli_now() - t0) * 1e3);
        }
        free(source);
    }
    if (rc == 0 && !*weft_cache_dir(ctx))
        fprintf(stderr, "weft precompile: note: the disk cache is off (%s)", weft_ctx_notes(ctx));
    weft_ctx_free(ctx);
    return rc;
}

/* One model file: its operation, device and measured sizes, as
 * exec/perf_store.c writes them. Files of another format are skipped. */
static void list_model(const char *dir, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512], op[512] = "?", device[512] = "?", sizes[2048] = "";
    size_t len = 0;
    int ok = fgets(line, sizeof line, f) && strcmp(line, "weft-model-1\n") == 0;
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        int k;
        double samples, n, s;
        if (strncmp(line, "# op: ", 6) == 0)
            snprintf(op, sizeof op, "%s", line + 6);
        else if (strncmp(line, "# device: ", 10) == 0)
            snprintf(device, sizeof device, "%s", line + 10);
        else if (line[0] != '#' && sscanf(line, "%d %lf %lf %lf", &k, &samples, &n, &s) == 4 &&
                 len < sizeof sizes) {
            int w = snprintf(sizes + len, sizeof sizes - len,
                             "\n    %10.0f elements: %9.3f ms "
                             "(%.3g ns/element, %.0f samples)",
                             n, s * 1e3, s / n * 1e9, samples);
            if (w > 0) len += (size_t)w;
        }
    }
    fclose(f);
    if (ok) printf("%s\n  %s on %s%s\n", name, op, device, sizes);
}

static int list_models(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: no cost models\n", dir);
        return 0;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "model-", 6) == 0 && strlen(e->d_name) == 26 &&
            strcmp(e->d_name + 22, ".txt") == 0)
            list_model(dir, e->d_name);
    closedir(d);
    return 0;
}

int cmd_cache(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
        (strcmp(argv[0], "stats") != 0 && strcmp(argv[0], "clear") != 0 &&
         strcmp(argv[0], "models") != 0)) {
        FILE *out = argc >= 1 && argv[0][0] == '-' ? stdout : stderr;
        fprintf(out, "usage: weft cache stats [--json] [DIR] | weft cache models [DIR] |\n"
                     "       weft cache clear [DIR]\n"
                     "DIR: the cache directory to act on (default: the one contexts use,\n"
                     "       WEFT_CACHE_DIR, $XDG_CACHE_HOME/weft or ~/.cache/weft).\n"
                     "stats: the cache directory, its program binaries and their size\n"
                     "       (changes nothing).\n"
                     "models: the cost models placement learned: per operation and device,\n"
                     "       the time measured per size.\n"
                     "clear: removes the files weft wrote there, as proven by their names and\n"
                     "       contents (binaries, calibrations, cost models), and temporary files\n"
                     "       of killed processes (nothing else).\n");
        return out == stdout ? 0 : EXIT_USAGE;
    }
    int json = 0;
    const char *named = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && strcmp(argv[0], "stats") == 0 && !json) {
            json = 1;
        } else if (argv[i][0] != '-' && !named) {
            named = argv[i];
        } else {
            /* A stray word must not leave a destructive command acting on
             * the default directory instead of the one meant. */
            fprintf(stderr, "weft cache %s: unexpected argument \"%s\" (weft cache --help)\n",
                    argv[0], argv[i]);
            return EXIT_USAGE;
        }
    }
    char dir[4096];
    if (named) {
        if (strlen(named) >= sizeof dir) {
            fprintf(stderr, "weft cache %s: the directory's name is too long\n", argv[0]);
            return EXIT_USAGE;
        }
        snprintf(dir, sizeof dir, "%s", named);
    } else if (weft_cache_default_dir_get(dir, sizeof dir) != WEFT_OK) {
        return cli_fail("finding the cache directory");
    }
    if (strcmp(argv[0], "models") == 0) return list_models(dir);
    if (strcmp(argv[0], "clear") == 0) {
        size_t removed = 0;
        if (weft_cache_clear(dir, &removed) != WEFT_OK) return cli_fail("clearing the cache");
        printf("removed %zu files from %s\n", removed, dir);
        return 0;
    }
    weft_cache_usage usage;
    if (weft_cache_usage_get(dir, &usage) != WEFT_OK) return cli_fail("reading the cache");
    if (json) {
        printf("{\"dir\": ");
        cli_json_string(dir);
        printf(", \"binaries\": %zu, \"bytes\": %llu, \"calibrations\": %zu, "
               "\"models\": %zu, \"temporaries\": %zu}\n",
               usage.binaries, (unsigned long long)usage.bytes, usage.calibrations, usage.models,
               usage.temporaries);
    } else {
        printf("%s: %zu program binaries (%.1f MiB), %zu calibration records, %zu cost models, "
               "%zu temporary files\n",
               dir, usage.binaries, (double)usage.bytes / 1048576.0, usage.calibrations,
               usage.models, usage.temporaries);
    }
    return 0;
}
