/* Text from the file as an error message shows it: bytes a terminal would
 * hide or act on (a vertical tab, a no-break space, a byte-order mark, an
 * escape sequence) written as escapes, so the message says what is there. */
#ifndef WEFT_CSV_SHOW_H
#define WEFT_CSV_SHOW_H

#include "reader.h"

#include <stddef.h>

/* s[0, len) into out (cap bytes, cut with "..." to fit): printable ASCII
 * and UTF-8 letters as they are, \t \n \r \v \f, \uXXXX for invisible
 * Unicode blanks and marks, \xNN for other control or invalid bytes. */
void csv_show_bytes(const char *s, size_t len, char *out, size_t cap);
/* prefix, then "the header's columns: id (field 1), "id " (field 2), ..."
 * (quoted where blanks or escapes are in the name), for a name the job gave
 * that the header lacks. */
void csv_show_header(const csv_reader *r, const char *prefix, char *out, size_t cap);

#endif
