/* Text to numbers for the CSV reader: exact, locale independent, bounded by
 * [begin, end) with no NUL needed. Internal. */
#ifndef WEFT_TEXT_NUMBER_PARSE_H
#define WEFT_TEXT_NUMBER_PARSE_H

#include <stdint.h>

/* Parse the whole of [begin, end) (no surrounding spaces); return 1 on success,
 * 0 if malformed or (ints) out of range. Floats: correctly rounded like strtod (accept what
 * Python's float() and pandas accept: "1", "-1.5", "1e5", "1E-5", ".5", "5.", "inf", "-inf",
 * "nan", "NaN", "Infinity"), never reads past end, needs no NUL terminator, locale independent.
 * Out-of-range floats read as +-inf or +-0, as strtod and float() do. Ints take an optional
 * '+' (and '-' for i64) before at least one digit. */
int weft_parse_f64(const char *begin, const char *end, double *out);
int weft_parse_f32(const char *begin, const char *end, float *out);
int weft_parse_i64(const char *begin, const char *end, int64_t *out);
int weft_parse_u64(const char *begin, const char *end, uint64_t *out);

#endif
