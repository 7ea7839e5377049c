/* The value of a preprocessor #if or #elif condition, as far as weft can
 * tell from the source before it and the -D options. */
#ifndef WEFT_KERNEL_IF_H
#define WEFT_KERNEL_IF_H

#include <stddef.h>

/* 1 true, 0 false, -1 unknown. condition: the text after "#if" / "#elif"
 * up to the line's end; text[0, upto): the source before the directive
 * (its active #defines count). A name no -D or #define defines is 0, as
 * the preprocessor takes it, unless the source includes a file (which may
 * define it): then unknown. */
int weft_kernel_if_value(const char *text, size_t upto, const char *condition, size_t len,
                         const char *options);

#endif
