/* weft bench csv: the seed pipeline (read_csv -> new_column = old_column * 2
 * -> to_csv) and parsing alone, on a file written by weft-csv-gen (as pandas
 * writes it), timed in this process. bench/csv_peers.py times the Python
 * peers on the same file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int generate(const char *self, unsigned long long rows, const char *path)
{
    char gen[4096];
    const char *slash = strrchr(self, '/');
    const char *names[] = {"weft-csv-gen", "bench/weft-csv-gen"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(gen, sizeof gen, "%.*s%s", slash ? (int)(slash - self + 1) : 0, self, names[i]);
        if (access(gen, X_OK) != 0) continue;
        char count[32];
        snprintf(count, sizeof count, "%llu", rows);
        pid_t pid = fork();
        if (pid == 0) {
            execl(gen, gen, count, path, (char *)NULL);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "weft bench csv: %s failed\n", gen);
            return 0;
        }
        return 1;
    }
    fprintf(stderr, "weft bench csv: weft-csv-gen is not installed beside %s (or pass --file)\n",
            self);
    return 0;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cli_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int cmd_bench_csv(int argc, char **argv, const char *self)
{
    unsigned long long rows = 10000000;
    const char *file = NULL;
    int repeat = 5, json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: weft bench csv [--rows N | --file FILE] [--repeat K] [--json]\n"
                   "The seed pipeline (new_column = old_column * 2, written to a new file) and\n"
                   "parsing alone (the sum of old_column) on a pandas-style file of N rows\n"
                   "(default 10^7, written to a temporary directory), medians of K runs.\n"
                   "bench/csv_peers.py times Polars, DuckDB, pandas and Dask on the same file.\n");
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0) {
            unsigned long long v = 0;
            if (!cli_parse_count(argv[++i], 1, SIZE_MAX, &v)) {
                fprintf(stderr, "weft bench csv: bad value for --rows: %s\n", argv[i]);
                return EXIT_USAGE;
            }
            rows = (size_t)v;
        } else if (i + 1 < argc && strcmp(argv[i], "--file") == 0) {
            file = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--repeat") == 0) {
            unsigned long long v = 0;
            if (!cli_parse_count(argv[++i], 1, 100, &v)) {
                fprintf(stderr, "weft bench csv: bad value for --repeat: %s\n", argv[i]);
                return EXIT_USAGE;
            }
            repeat = (int)v;
        } else {
            fprintf(stderr, "weft bench csv: unknown or incomplete option %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (repeat < 1 || repeat > 100 || rows == 0) {
        fprintf(stderr, "weft bench csv: --repeat 1..100 and --rows > 0\n");
        return EXIT_USAGE;
    }
    char dir[] = "/tmp/weft-bench-csv-XXXXXX", in[64], out[64];
    if (!mkdtemp(dir)) {
        perror("weft bench csv: mkdtemp");
        return EXIT_WEFT;
    }
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    int rc = 0;
    if (!file) {
        if (!generate(self, rows, in)) {
            rmdir(dir);
            return EXIT_USAGE;
        }
        file = in;
    }
    weft_ctx *ctx = cli_ctx(NULL);
    if (!ctx) rc = EXIT_WEFT;
    double pipe_s[100], parse_s[100], format_s[100];
    weft_csv_stats stats = {0};
    const char *set[] = {"new_column = old_column * 2"};
    for (int k = 0; k < repeat && rc == 0; k++) {
        weft_csv_job job = {0};
        job.statements = set;
        job.nstatements = 1;
        if (weft_csv_run(ctx, file, out, NULL, &job, &stats) != WEFT_OK) {
            rc = cli_fail("weft_csv_run");
            break;
        }
        pipe_s[k] = stats.seconds;
        format_s[k] = stats.format_seconds;
        unlink(out);
        weft_csv_reduction sum = {WEFT_SUM, "old_column", {0, {0}, 0}};
        weft_csv_job parse = {0};
        parse.reductions = &sum;
        parse.nreductions = 1;
        weft_csv_stats ps;
        if (weft_csv_run(ctx, file, NULL, NULL, &parse, &ps) != WEFT_OK) {
            rc = cli_fail("weft_csv_run (parse only)");
            break;
        }
        parse_s[k] = ps.seconds;
    }
    if (rc == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double mb = (double)stats.bytes_read / 1e6;
        double p = median(pipe_s, (size_t)repeat), q = median(parse_s, (size_t)repeat);
        double f = median(format_s, (size_t)repeat);
        if (json)
            printf("{\"csv\": {\"rows\": %llu, \"mb\": %.1f, \"repeat\": %d, \"pipeline_s\": %.4f, "
                   "\"pipeline_mb_per_s\": %.1f, \"parse_s\": %.4f, \"parse_mb_per_s\": %.1f, "
                   "\"format_stage_s\": %.4f, \"peak_rss_mib\": %.1f}}\n",
                   (unsigned long long)stats.rows, mb, repeat, p, mb / p, q, mb / q, f,
                   (double)ru.ru_maxrss / 1024.0);
        else
            printf("csv, %llu rows (%.0f MB), medians of %d:\n"
                   "  pipeline (parse, x * 2, format, write)  %.3f s  %6.1f MB/s\n"
                   "  parsing alone (sum of old_column)       %.3f s  %6.1f MB/s\n"
                   "  format stage of the pipeline            %.3f s\n"
                   "  peak RSS of this process                %.1f MiB\n",
                   (unsigned long long)stats.rows, mb, repeat, p, mb / p, q, mb / q, f,
                   (double)ru.ru_maxrss / 1024.0);
    }
    if (ctx) weft_ctx_free(ctx);
    unlink(in);
    unlink(out);
    rmdir(dir);
    return rc;
}
