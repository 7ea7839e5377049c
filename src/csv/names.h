/* Column names that are not identifiers (`1960`, `cpi `, `STS.M.I7`), written
 * in backquotes in statements and reductions, as in Polars and pandas' query,
 * and the identifiers that stand for them in the expression language. */
#ifndef WEFT_CSV_NAMES_H
#define WEFT_CSV_NAMES_H

#include "reader.h"

typedef struct csv_alias {
    char *name, *alias; /* the column's name, and the identifier made up for it */
} csv_alias;

typedef struct csv_names {
    csv_alias *aliases;
    size_t n;
} csv_names;

/* text with each `name` replaced by the identifier standing for it (`` inside
 * is one backquote). A bare number that is also a column's name is
 * WEFT_ERR_EXPR: which one was meant cannot be told. *out is malloc'd. */
weft_status csv_names_rewrite(csv_names *names, const csv_reader *r, const char *text, char **out);
/* The column name a made-up identifier stands for, or NULL for any other. */
const char *csv_names_column(const csv_names *names, const char *id, size_t len);
/* text (a compiler message) into out, each made-up identifier written back
 * as `name`; cut to fit size. */
void csv_names_restore(const csv_names *names, const char *text, char *out, size_t size);
/* The offset in text (what the user wrote) of byte pos of its rewrite,
 * rewritten: the start of the backquoted name an identifier stands for. */
size_t csv_names_original_offset(const char *text, const char *rewritten, size_t pos);
/* detail, a compiler message on rewritten ("message at column N", the line
 * and a caret), into out as if on text: the column, line and caret of what
 * the user wrote, names written back, and a hint where a name that needs
 * backquotes was written without them. Restored only (csv_names_restore)
 * when it does not point into rewritten. */
void csv_names_point(const csv_names *names, const csv_reader *r, const char *text,
                     const char *rewritten, const char *detail, char *out, size_t size);
void csv_names_free(csv_names *names);

#endif
