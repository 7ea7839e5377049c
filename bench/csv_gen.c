/* weft-csv-gen ROWS FILE [floats]: the benchmark's input, as pandas'
 * to_csv(index=False) writes a frame of (id int64, old_column float64, label
 * str): floats in Python's repr, one in a thousand missing (an empty field),
 * labels quoted where they hold a comma or a quote. `floats` writes the other
 * shape, four float columns (old_column, a, b, c), where number text is all
 * there is to read and copy. Deterministic: the same arguments give the same
 * bytes. */
#include "../src/text/number_format.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    int floats = argc == 4 && strcmp(argv[3], "floats") == 0;
    if (argc != 3 && !floats) {
        fprintf(stderr, "usage: weft-csv-gen ROWS FILE [floats]\n");
        return 2;
    }
    char *end;
    unsigned long long rows = strtoull(argv[1], &end, 10);
    if (*end || end == argv[1]) {
        fprintf(stderr, "weft-csv-gen: ROWS must be a number\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    static const char *const labels[] = {
        "alpha", "beta",       "gamma delta",        "\"eps, zeta\"",
        "eta",   "theta iota", "\"say \"\"hi\"\"\"", "kappa"};
    static const double scales[] = {1e-7, 1e-3, 0.1, 1, 10, 1000, 1e6, 1e17};
    const size_t cap = 1 << 20;
    char *buf = malloc(cap + 256);
    if (!buf) return 1;
    size_t n = 0;
    uint64_t seed = 42;
    n += (size_t)sprintf(buf, floats ? "old_column,a,b,c\n" : "id,old_column,label\n");
    for (unsigned long long i = 0; i < rows; i++) {
        uint64_t r = splitmix(&seed);
        if (floats) {
            for (int c = 0; c < 4; c++, r = splitmix(&seed)) {
                if (c > 0) buf[n++] = ',';
                if (r % 1000 == 7) continue;
                double u = (double)(splitmix(&seed) >> 11) * 0x1.0p-53;
                n += weft_format_f64((u - 0.25) * scales[(r >> 10) % 8], buf + n);
            }
            buf[n++] = '\n';
            if (n >= cap) {
                if (fwrite(buf, 1, n, f) != n) return 1;
                n = 0;
            }
            continue;
        }
        n += weft_format_u64(i, buf + n);
        buf[n++] = ',';
        if (r % 1000 != 7) {
            double u = (double)(splitmix(&seed) >> 11) * 0x1.0p-53;
            double v = (u - 0.25) * scales[(r >> 10) % 8];
            n += weft_format_f64(v, buf + n);
        }
        buf[n++] = ',';
        const char *l = labels[(r >> 20) % 8];
        size_t ln = strlen(l);
        memcpy(buf + n, l, ln);
        n += ln;
        buf[n++] = '\n';
        if (n >= cap) {
            if (fwrite(buf, 1, n, f) != n) return 1;
            n = 0;
        }
    }
    if (fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    free(buf);
    return 0;
}
