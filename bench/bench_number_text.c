/* Number <-> text throughput of src/text against the C library, one thread:
 * weft_format_f64 vs snprintf("%.17g") (the shortest-free way to write a double that reads
 * back; "%.17g" is also longer text), weft_parse_f64 vs strtod, the same for float32 and
 * int64. Prints the median of the runs in millions of values per second.
 *
 *   bench_number_text [--n N] [--runs R]
 */
#define _GNU_SOURCE
#include "../src/text/number_format.h"
#include "../src/text/number_parse.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* the machine is shared: count our CPU time */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct {
    size_t n;
    double *f64;
    float *f32;
    int64_t *i64;
    char *text;     /* n values, each ended by '\n' */
    size_t *starts; /* n + 1 offsets into text */
    volatile double sink;
} bench_data;

enum { KIND_F64, KIND_F32, KIND_I64 };

/* Writes every value as text with the chosen writer; returns the bytes written. */
static size_t write_all(bench_data *b, int kind, int use_libc)
{
    char *o = b->text;
    for (size_t i = 0; i < b->n; i++) {
        b->starts[i] = (size_t)(o - b->text);
        if (kind == KIND_F64)
            o += use_libc ? (size_t)sprintf(o, "%.17g", b->f64[i]) : weft_format_f64(b->f64[i], o);
        else if (kind == KIND_F32)
            o += use_libc ? (size_t)sprintf(o, "%.9g", (double)b->f32[i])
                          : weft_format_f32(b->f32[i], o);
        else
            o += use_libc ? (size_t)sprintf(o, "%" PRId64, b->i64[i])
                          : weft_format_i64(b->i64[i], o);
        *o++ = '\n';
    }
    b->starts[b->n] = (size_t)(o - b->text);
    return (size_t)(o - b->text);
}

/* Reads every value back; returns the number that failed (0 expected). */
static size_t read_all(bench_data *b, int kind, int use_libc)
{
    size_t bad = 0;
    double acc = 0;
    for (size_t i = 0; i < b->n; i++) {
        const char *s = b->text + b->starts[i], *e = b->text + b->starts[i + 1] - 1;
        if (kind == KIND_F64) {
            double v;
            if (use_libc)
                v = strtod(s, NULL); /* stops at the '\n' */
            else if (!weft_parse_f64(s, e, &v))
                bad++;
            acc += v;
        } else if (kind == KIND_F32) {
            float v;
            if (use_libc)
                v = strtof(s, NULL);
            else if (!weft_parse_f32(s, e, &v))
                bad++;
            acc += v;
        } else {
            int64_t v;
            if (use_libc)
                v = strtoll(s, NULL, 10);
            else if (!weft_parse_i64(s, e, &v))
                bad++;
            acc += (double)v;
        }
    }
    b->sink = acc;
    return bad;
}

static double median_rate(bench_data *b, int runs, int kind, int use_libc, int parse, size_t *bytes)
{
    double *rates = malloc((size_t)runs * sizeof *rates);
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        if (parse) {
            if (read_all(b, kind, use_libc)) {
                fprintf(stderr, "parse failed\n");
                exit(1);
            }
        } else {
            *bytes = write_all(b, kind, use_libc);
        }
        rates[r] = (double)b->n / (now() - t0) / 1e6;
    }
    qsort(rates, (size_t)runs, sizeof *rates, cmp_double);
    double m = rates[runs / 2];
    free(rates);
    return m;
}

static void fill(bench_data *b, const char *set, uint64_t seed)
{
    for (size_t i = 0; i < b->n; i++) {
        uint64_t r = rng(&seed);
        double v;
        if (!strcmp(set, "uniform")) /* like a generated CSV column: 16-17 digits */
            v = (double)(r >> 11) * 0x1p-53 * 1000.0;
        else if (!strcmp(set, "short")) /* prices, counts: a few digits */
            v = (double)(int64_t)(r % 1000000) / 100.0;
        else { /* random bit patterns: every exponent */
            memcpy(&v, &r, sizeof v);
            if (!isfinite(v)) v = (double)r;
        }
        b->f64[i] = v;
        b->f32[i] =
            (float)(!strcmp(set, "bits") ? ldexp(v / ldexp(1.0, ilogb(v)), (int)(r % 250) - 125)
                                         : v);
        if (!isfinite(b->f32[i])) b->f32[i] = 1.5f;
        b->i64[i] = !strcmp(set, "short") ? (int64_t)(r % 1000000) : (int64_t)r;
    }
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int runs = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--n N] [--runs R]\n", argv[0]);
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    bench_data b = {.n = n};
    b.f64 = malloc(n * sizeof *b.f64);
    b.f32 = malloc(n * sizeof *b.f32);
    b.i64 = malloc(n * sizeof *b.i64);
    b.text = malloc(n * (WEFT_FORMAT_MAX + 2));
    b.starts = malloc((n + 1) * sizeof *b.starts);
    if (!b.f64 || !b.f32 || !b.i64 || !b.text || !b.starts) return 1;
    printf("%zu values, median of %d runs, one thread, M values/s\n\n", n, runs);
    printf("| data | type | format weft | format libc | x | parse weft | parse libc | x |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    const char *sets[] = {"uniform", "short", "bits"};
    const char *kinds[] = {"f64", "f32", "i64"};
    for (int s = 0; s < 3; s++) {
        fill(&b, sets[s], 42 + (uint64_t)s);
        for (int k = 0; k < 3; k++) {
            if (k == KIND_I64 && s == 2) continue;
            size_t bytes_libc = 0, bytes_weft = 0;
            double fl = median_rate(&b, runs, k, 1, 0, &bytes_libc);
            /* libc reads the text libc wrote (17 digits), weft the text weft wrote */
            double pl = median_rate(&b, runs, k, 1, 1, NULL);
            double fw = median_rate(&b, runs, k, 0, 0, &bytes_weft);
            double pw = median_rate(&b, runs, k, 0, 1, NULL);
            double pl_same = median_rate(&b, runs, k, 1, 1, NULL);
            printf(
                "| %s | %s | %.1f | %.1f | %.1fx | %.1f | %.1f (%.1f on weft's text) | %.1fx |\n",
                sets[s], kinds[k], fw, fl, fw / fl, pw, pl, pl_same, pw / pl_same);
            (void)bytes_libc;
            (void)bytes_weft;
        }
    }
    free(b.f64);
    free(b.f32);
    free(b.i64);
    free(b.text);
    free(b.starts);
    return 0;
}
