/* libFuzzer target: any bytes through the number parsers (an exact-size copy, so a read past
 * the end trips the sanitizer), then against the C library: where weft reads a plain decimal,
 * strtod must read the same bits, and every double written reads back as itself. */
#include "../../src/text/number_format.h"
#include "../../src/text/number_parse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Digits, one point, an exponent: what strtod reads the same in the "C" locale. */
static int plain_decimal(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", s[i])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    double d;
    float f;
    int64_t s;
    uint64_t u;
    int ok = weft_parse_f64(text, text + size, &d);
    int ok32 = weft_parse_f32(text, text + size, &f);
    if (ok != ok32) abort();
    int ok_i = weft_parse_i64(text, text + size, &s);
    int ok_u = weft_parse_u64(text, text + size, &u);
    if (ok_i && !ok) abort(); /* every integer is a float too */
    if (ok && plain_decimal(text, size)) {
        char *z = malloc(size + 1);
        memcpy(z, text, size);
        z[size] = '\0';
        double ref = strtod(z, NULL);
        float ref32 = strtof(z, NULL);
        if (memcmp(&ref, &d, sizeof d) != 0 || memcmp(&ref32, &f, sizeof f) != 0) abort();
        if (ok_i && s != strtoll(z, NULL, 10)) abort();
        if (ok_u && u != strtoull(z, NULL, 10)) abort();
        free(z);
    }
    free(text);
    if (size >= 8) { /* the bytes as a double: written, read back */
        char out[WEFT_FORMAT_MAX];
        memcpy(&d, data, sizeof d);
        size_t n = weft_format_f64(d, out);
        double back;
        if (n > WEFT_FORMAT_MAX || !weft_parse_f64(out, out + n, &back)) abort();
        if (!isnan(d) && memcmp(&back, &d, sizeof d) != 0) abort();
    }
    return 0;
}
