/* weft csv: a CSV file through column expressions and reductions, in bounded
 * memory, to a new CSV file written atomically. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "csv_ranks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CSV_MAX_ARGS 64
/* Copies of list options (--select, --drop, --na-values): one per option given. */
#define CSV_MAX_COPIES (3 * CSV_MAX_ARGS)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weft csv INPUT [-o OUTPUT] [options]\n"
            "Reads INPUT window by window (memory stays a few windows whatever its size),\n"
            "runs the statements on every window, prints the reductions and writes OUTPUT\n"
            "through a temporary file renamed into place only on success.\n\n"
            "  -o, --output FILE        where to write the result (none: reductions only;\n"
            "                           -: standard output, the reductions then go to stderr)\n"
            "  --set \"c = a * 2\"        statements of the expression language (repeatable);\n"
            "                           every name assigned becomes a column\n"
            "  --sum EXPR               print the sum over the whole file (repeatable)\n"
            "  --reduce \"OP: EXPR\"      OP: sum prod min max argmin argmax any all\n"
            "  --select a,b             output only these columns, in this order\n"
            "  --drop a,b               output every column but these\n"
            "  --delimiter C            field delimiter (default ','; \\t for a tab)\n"
            "  --no-header              the first line is data; columns are c1, c2, ...\n"
            "  --type NAME=i64|f64      a column's dtype (default: the first window decides)\n"
            "  --int-missing N          read missing integer fields as N (default: an error)\n"
            "  --na-values A,B          fields also read as missing (besides empty, NA, NaN,\n"
            "                           NULL, ... as pandas); NaN in float columns\n"
            "  --skip-rows N            drop N lines before the header (metadata)\n"
            "  --comment C              skip lines that start with C (before the header too)\n"
            "  --bad-rows error|skip|pad  rows of the wrong width: an error (default), left\n"
            "                           out, or (short ones) padded with empty fields\n"
            "  --out-delimiter C        the output's delimiter (default: the input's)\n"
            "  --quoting keep|minimal|all|nonnumeric  output quoting (default keep: fields\n"
            "                           as read); any other rewrites every field\n"
            "  --crlf                   output lines end in CRLF\n"
            "  --window BYTES           bytes read per window (default 1M; K, M suffixes)\n"
            "  --fsync                  fsync the output before renaming it into place\n"
            "  --device D               devices for the statements (as WEFT_DEVICES)\n"
            "  --progress               a progress bar on stderr when it is a terminal\n"
            "  --json                   figures and reductions as JSON on stdout\n\n"
            "Fields the statements do not assign are written exactly as they were read;\n"
            "computed floats in the shortest form that reads back the same (Python's repr),\n"
            "NaN as an empty field. Exit codes: 0 ok, 2 bad usage, 3 bad input or a failed\n"
            "call (stderr names FILE:LINE:COLUMN), 130 interrupted.\n");
}

static volatile sig_atomic_t cancel_flag;

static void on_signal(int sig)
{
    (void)sig;
    cancel_flag = 1;
}

static const char *const reduce_names[] = {"sum",    "prod",   "min", "max",
                                           "argmin", "argmax", "any", "all"};

static int parse_reduce(const char *text, weft_csv_reduction *r)
{
    const char *colon = strchr(text, ':');
    if (!colon) return 0;
    for (int op = 0; op <= WEFT_ALL; op++)
        if (strlen(reduce_names[op]) == (size_t)(colon - text) &&
            strncmp(reduce_names[op], text, (size_t)(colon - text)) == 0) {
            r->op = (weft_reduce_op)op;
            r->expr = colon + 1;
            while (*r->expr == ' ')
                r->expr++;
            return *r->expr != 0;
        }
    return 0;
}

/* "a,b,c" into list (pointers into a copy the caller frees). */
/* Splits a comma list into list. keep_empty: an empty item is an item (a
 * column may be named "": `--select ,a` names it, as `a,b,` headers make
 * one); else empty items are skipped. */
static int split_list(const char *text, const char **list, size_t *n, char **copy, int keep_empty)
{
    *copy = strdup(text);
    if (!*copy) return 0;
    for (char *s = *copy;;) {
        /* A backquoted item (`Avg TP, $`) may hold commas: the quotes go. */
        char *close = *s == '`' ? strchr(s + 1, '`') : NULL;
        if (close && (close[1] == ',' || close[1] == '\0')) {
            *close = '\0';
            s++;
        }
        char *comma = strchr(close ? close + 1 : s, ',');
        if (comma) *comma = '\0';
        if (*s || keep_empty) {
            if (*n == CSV_MAX_ARGS) return 0;
            list[(*n)++] = s;
        }
        if (!comma) return 1;
        s = comma + 1;
    }
}

/* 1 when text is a list NAME=DTYPE,NAME=DTYPE... of i64 and f64. */
static int type_list(const char *text)
{
    for (const char *s = text;;) {
        const char *end = strchr(s, ','), *eq = strchr(s, '=');
        if (!end) end = s + strlen(s);
        if (!eq || eq == s || eq > end || end - eq != 4 ||
            (strncmp(eq + 1, "i64", 3) != 0 && strncmp(eq + 1, "f64", 3) != 0))
            return 0;
        if (!*end) return 1;
        s = end + 1;
    }
}

/* Appends one --type to types: a list of NAME=DTYPE as it is, else one
 * column's NAME=DTYPE (split at the last '='), the name backquoted when it
 * holds a comma or '=', as the C string wants. */
static int append_type(char *types, size_t cap, const char *item)
{
    const char *eq = strrchr(item, '=');
    size_t name = eq ? (size_t)(eq - item) : strlen(item), len = strlen(types);
    /* Written as the C string takes it (`a, b`=f64, `a`=i64,b=f64): as is. */
    const char *close = item + 1;
    while (item[0] == '`' && *close && !(close[0] == '`' && close[1] != '`'))
        close += close[0] == '`' ? 2 : 1;
    int backquoted = item[0] == '`' && close[0] == '`' && close[1] == '=';
    int quote = eq && !backquoted &&
                (memchr(item, '`', name) ||
                 (!type_list(item) && (memchr(item, ',', name) || memchr(item, '=', name))));
    if (len + 2 * name + 8 + strlen(item + name) >= cap) return 0;
    char *w = types + len;
    if (len) *w++ = ',';
    if (quote) *w++ = '`';
    for (size_t i = 0; i < name; i++) { /* a backquote in a quoted name is doubled */
        if (quote && item[i] == '`') *w++ = '`';
        *w++ = item[i];
    }
    if (quote) *w++ = '`';
    strcpy(w, item + name);
    return 1;
}

static int parse_bytes(const char *text, size_t *out)
{
    char digits[32];
    size_t len = strlen(text), shift = 0;
    if (len > 0 && strchr("Kk", text[len - 1])) shift = 10;
    if (len > 0 && strchr("Mm", text[len - 1])) shift = 20;
    if (shift) len--;
    if (len == 0 || len >= sizeof digits) return 0;
    memcpy(digits, text, len);
    digits[len] = '\0';
    unsigned long long v;
    /* "-5" was 2^64-5 and 99999999999999999999 2^64-1: refused here. */
    if (!cli_parse_count(digits, 1, ~0ull >> shift, &v)) return 0;
    *out = (size_t)(v << shift);
    return 1;
}

typedef struct progress_state {
    double start, last;
} progress_state;

static void show_progress(void *user, uint64_t done, uint64_t total)
{
    progress_state *p = user;
    double t = cli_now();
    if (t - p->last < 0.1 && done < total) return;
    p->last = t;
    double frac = total ? (double)done / (double)total : 0;
    if (frac > 1) frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    double mbs = t > p->start ? (double)done / 1e6 / (t - p->start) : 0;
    fprintf(stderr, "\r[%s] %3.0f%%  %.0f MB  %.0f MB/s", bar, 100 * frac, (double)done / 1e6, mbs);
    fflush(stderr);
}

/* The fewest significant digits that read back to v (as the CSV output's
 * computed fields and Python's repr are written): 0.9000000000000001, not
 * 0.90000000000000013. */
static void print_shortest(double v, int is_f32)
{
    if (v != v) { /* C writes "-nan" for some: the sign of a NaN is no value */
        printf("nan");
        return;
    }
    if (v - v != 0) {
        printf(v < 0 ? "-inf" : "inf");
        return;
    }
    char text[40];
    for (int digits = is_f32 ? 6 : 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (is_f32 ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v) break;
    }
    /* A whole number is a float still, as Python writes it: 4.0, not 4. */
    printf("%s%s", text, strpbrk(text, ".e") ? "" : ".0");
}

static void print_scalar(const weft_scalar *s, int json)
{
    switch (s->dtype) {
    case WEFT_F32:
        print_shortest((double)s->value.f32, 1);
        break;
    case WEFT_F64:
        if (json && (s->value.f64 != s->value.f64 || s->value.f64 - s->value.f64 != 0)) {
            printf("\"");
            print_shortest(s->value.f64, 0);
            printf("\"");
        } else {
            print_shortest(s->value.f64, 0);
        }
        break;
    case WEFT_I32:
        printf("%d", (int)s->value.i32);
        break;
    case WEFT_U32:
        printf("%u", (unsigned)s->value.u32);
        break;
    case WEFT_I64:
        printf("%lld", (long long)s->value.i64);
        break;
    default:
        printf("%llu", (unsigned long long)s->value.u64);
        break;
    }
}

static const char *const bad_rows_names[] = {"error", "skip", "pad"};
static const char *const quoting_names[] = {"keep", "minimal", "all", "nonnumeric"};

static int parse_choice(const char *text, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return 1;
        }
    return 0;
}

static int is_arg(const char *have, const char *a, const char *b)
{
    return strcmp(have, a) == 0 || (b && strcmp(have, b) == 0);
}

int cmd_csv(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *devices = NULL;
    const char *statements[CSV_MAX_ARGS], *select[CSV_MAX_ARGS], *drop[CSV_MAX_ARGS];
    const char *na_values[CSV_MAX_ARGS];
    weft_csv_reduction reductions[CSV_MAX_ARGS];
    char *copies[CSV_MAX_COPIES] = {0}, types[4096] = "";
    size_t nstatements = 0, nselect = 0, ndrop = 0, nreductions = 0, ncopies = 0, nna = 0;
    int json = 0, progress = 0, rc = 0;
    weft_csv_options o;
    weft_csv_options_init(&o);
    weft_csv_dialect d;
    weft_csv_dialect_init(&d);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (is_arg(a, "--help", "-h")) {
            usage(stdout);
            goto done;
        }
        if (is_arg(a, "--json", NULL))
            json = 1;
        else if (is_arg(a, "--progress", NULL))
            progress = 1;
        else if (is_arg(a, "--no-header", NULL))
            o.header = 0;
        else if (is_arg(a, "--fsync", NULL))
            o.fsync = 1;
        else if (is_arg(a, "--crlf", NULL))
            d.crlf = 1;
        else if (a[0] == '-' && a[1] != 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "weft csv: %s needs a value\n", a);
                rc = EXIT_USAGE;
                goto done;
            }
            const char *v = argv[++i];
            int ok = 1;
            if (is_arg(a, "-o", "--output"))
                output = v;
            else if (is_arg(a, "--device", NULL))
                devices = v;
            else if ((is_arg(a, "--set", NULL) && nstatements == CSV_MAX_ARGS) ||
                     ((is_arg(a, "--sum", NULL) || is_arg(a, "--reduce", NULL)) &&
                      nreductions == CSV_MAX_ARGS)) {
                fprintf(stderr, "weft csv: at most %d %s\n", CSV_MAX_ARGS,
                        is_arg(a, "--set", NULL) ? "statements (--set)"
                                                 : "reductions (--sum, --reduce)");
                rc = EXIT_USAGE;
                goto done;
            } else if (is_arg(a, "--set", NULL))
                statements[nstatements++] = v;
            else if (is_arg(a, "--sum", NULL))
                reductions[nreductions++] = (weft_csv_reduction){WEFT_SUM, v, {0, {0}, 0}};
            else if (is_arg(a, "--reduce", NULL)) {
                if (!parse_reduce(v, &reductions[nreductions++])) {
                    fprintf(stderr,
                            "weft csv: bad value for --reduce: \"%s\": write OP: EXPR, OP one of "
                            "sum prod min max argmin argmax any all (a count is \"sum: x == x\", "
                            "a mean the sum over the rows printed)\n",
                            v);
                    rc = EXIT_USAGE;
                    goto done;
                }
            } else if (is_arg(a, "--select", NULL))
                ok = ncopies < CSV_MAX_COPIES &&
                     split_list(v, select, &nselect, &copies[ncopies++], 1);
            else if (is_arg(a, "--drop", NULL))
                ok = ncopies < CSV_MAX_COPIES && split_list(v, drop, &ndrop, &copies[ncopies++], 1);
            else if (is_arg(a, "--na-values", NULL))
                ok = ncopies < CSV_MAX_COPIES &&
                     split_list(v, na_values, &nna, &copies[ncopies++], 0);
            else if (is_arg(a, "--delimiter", NULL)) {
                ok = strlen(v) == 1 || strcmp(v, "\\t") == 0;
                o.delimiter = strcmp(v, "\\t") == 0 ? '\t' : v[0];
            } else if (is_arg(a, "--type", NULL)) {
                ok = append_type(types, sizeof types, v);
            } else if (is_arg(a, "--int-missing", NULL)) {
                long long fill = 0;
                ok = cli_parse_int64(v, &fill); /* out of range: refused, not saturated */
                o.int_missing_value = fill;
                o.int_missing_fill = 1;
            } else if (is_arg(a, "--skip-rows", NULL)) {
                unsigned long long lines = 0;
                ok = cli_parse_count(v, 0, SIZE_MAX, &lines);
                d.skip_lines = (size_t)lines;
            } else if (is_arg(a, "--comment", NULL)) {
                ok = strlen(v) == 1;
                d.comment = v[0];
            } else if (is_arg(a, "--bad-rows", NULL)) {
                ok = parse_choice(v, bad_rows_names, 3, (int *)&d.bad_rows);
            } else if (is_arg(a, "--quoting", NULL)) {
                ok = parse_choice(v, quoting_names, 4, (int *)&d.quoting);
            } else if (is_arg(a, "--out-delimiter", NULL)) {
                ok = strlen(v) == 1 || strcmp(v, "\\t") == 0;
                d.out_delimiter = strcmp(v, "\\t") == 0 ? '\t' : v[0];
            } else if (is_arg(a, "--window", NULL))
                ok = parse_bytes(v, &o.window_bytes);
            else {
                fprintf(stderr, "weft csv: unknown option %s (weft csv --help)\n", a);
                rc = EXIT_USAGE;
                goto done;
            }
            if (!ok) {
                fprintf(stderr, "weft csv: bad value for %s: \"%s\"\n", a, v);
                rc = EXIT_USAGE;
                goto done;
            }
        } else if (!input) {
            input = a;
        } else {
            fprintf(stderr, "weft csv: unexpected argument \"%s\"\n", a);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (!input) {
        fprintf(stderr, "weft csv: no INPUT file (weft csv --help)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    if (types[0]) o.types = types;
    if (nna) { /* else the dialect stays the default one (MPI ranks take only that) */
        d.na_values = na_values;
        d.n_na_values = nna;
    }
    /* No SA_RESTART: the signal interrupts an open() waiting for a FIFO's
     * writer, so the run sees the flag there too. Installed before the
     * context: PoCL's LLVM installs its own SIGTERM handler as it starts,
     * chained to the one it finds, which must already be this one. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    weft_ctx *ctx = cli_ctx(devices);
    if (!ctx) {
        rc = EXIT_WEFT;
        goto done;
    }
    progress_state ps = {cli_now(), 0};
    weft_csv_job job = {statements, nstatements, select, nselect, drop,        ndrop,
                        reductions, nreductions, NULL,   NULL,    &cancel_flag};
    if (progress && isatty(2)) {
        job.progress = show_progress;
        job.progress_user = &ps;
    }
    weft_csv_stats stats;
    char why[256];
    weft_status st = csv_ranks_run(ctx, input, output, &o, &d, &job, &stats, why, sizeof why);
    if (job.progress) fputc('\n', stderr);
    if (st != WEFT_OK) {
        if (!csv_ranks_says_failure())
            ; /* another rank says why */
        else if (why[0])
            fprintf(stderr, "weft csv: %s\n", why);
        else if (cancel_flag)
            fprintf(stderr, "weft csv: interrupted by a signal%s%s%s\n", output ? "; " : "",
                    output ? output : "",
                    output ? " was not written (an existing file is left as it was)" : "");
        else
            fprintf(stderr, "weft csv: %s\n", weft_last_error());
        rc = cancel_flag ? 130 : EXIT_WEFT;
        weft_ctx_free(ctx);
        goto done;
    }
    if (!csv_ranks_reports()) { /* rank 0 reports for every rank */
        rc = weft_ctx_free(ctx) == WEFT_OK ? rc : cli_fail("freeing the context");
        goto done;
    }
    /* The CSV went to standard output and is whole: the figures follow it
     * on standard error, so a pipe reads a valid CSV. */
    if (output && strcmp(output, "-") == 0) {
        fflush(stdout);
        dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mb = (double)stats.bytes_read / 1e6;
    if (json) {
        printf("{\"input\": ");
        cli_json_string(input);
        printf(", \"rows\": %llu, \"windows\": %llu, \"bytes_read\": %llu, \"bytes_written\": "
               "%llu, \"seconds\": %.6f, \"mb_per_s\": %.1f, \"peak_rss_mib\": %.1f,\n"
               " \"stages_s\": {\"scan\": %.4f, \"parse\": %.4f, \"compute\": %.4f, \"format\": "
               "%.4f, \"wait_writer\": %.4f}, \"rows_skipped\": %llu,\n \"reductions\": [",
               (unsigned long long)stats.rows, (unsigned long long)stats.windows,
               (unsigned long long)stats.bytes_read, (unsigned long long)stats.bytes_written,
               stats.seconds, stats.seconds > 0 ? mb / stats.seconds : 0,
               (double)ru.ru_maxrss / 1024.0, stats.scan_seconds, stats.parse_seconds,
               stats.compute_seconds, stats.format_seconds, stats.wait_seconds,
               (unsigned long long)stats.rows_skipped);
        for (size_t k = 0; k < nreductions; k++) {
            printf("%s{\"op\": \"%s\", \"expr\": ", k ? ", " : "", reduce_names[reductions[k].op]);
            cli_json_string(reductions[k].expr);
            printf(", \"dtype\": \"%s\", \"value\": ", weft_dtype_name(reductions[k].result.dtype));
            print_scalar(&reductions[k].result, 1);
            if (reductions[k].op == WEFT_ARGMIN || reductions[k].op == WEFT_ARGMAX)
                printf(", \"row\": %llu", (unsigned long long)reductions[k].result.index);
            printf("}");
        }
        printf("]}\n");
    } else {
        for (size_t k = 0; k < nreductions; k++) {
            printf("%s(%s) = ", reduce_names[reductions[k].op], reductions[k].expr);
            print_scalar(&reductions[k].result, 0);
            if (reductions[k].op == WEFT_ARGMIN || reductions[k].op == WEFT_ARGMAX)
                printf(" at row %llu", (unsigned long long)reductions[k].result.index);
            printf("\n");
        }
    }
    /* Leaving rows out is never silent: a header mistake skips them all. */
    if (stats.rows_skipped > 0)
        fprintf(stderr,
                "weft csv: %llu rows of the wrong width left out (--bad-rows skip), %llu kept\n",
                (unsigned long long)stats.rows_skipped, (unsigned long long)stats.rows);
    if (weft_ctx_free(ctx) != WEFT_OK) rc = cli_fail("freeing the context");
done:
    for (size_t k = 0; k < ncopies; k++)
        free(copies[k]);
    return rc;
}
