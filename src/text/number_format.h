/* Numbers as text, the way Python's repr(float) writes them: what pandas'
 * to_csv and Polars write, so a CSV round trip keeps every byte. Internal. */
#ifndef WEFT_TEXT_NUMBER_FORMAT_H
#define WEFT_TEXT_NUMBER_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define WEFT_FORMAT_MAX 32 /* bytes a formatted number may need, no NUL written */

/* Every writer needs out to have room for WEFT_FORMAT_MAX bytes: it stores whole words and may
 * leave scratch bytes after the returned length (never past out + WEFT_FORMAT_MAX). */

/* Shortest text that reads back to the same double, written as Python's repr(float) does
 * (what pandas' to_csv and Polars write): "2.0", "0.1", "1e+16", "1.5e-05", "-0.0", "inf",
 * "-inf", "nan"; scientific when the decimal exponent < -4 or >= 16, as repr. Returns the length.
 */
size_t weft_format_f64(double v, char *out);
/* Same for float32 values (shortest that reads back to the same float). */
size_t weft_format_f32(float v, char *out);
size_t weft_format_i64(int64_t v, char *out);
size_t weft_format_u64(uint64_t v, char *out);

#endif
