/* Errors that point at the text: "message at column N", the line and a caret. */
#include "../core/error.h"
#include "expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void weft_expr_format_at(const char *text, size_t pos, const char *message, char *out, size_t size)
{
    size_t line_start = pos, line_end = pos;
    while (line_start > 0 && text[line_start - 1] != '\n')
        line_start--;
    while (text[line_end] && text[line_end] != '\n')
        line_end++;
    int column = (int)(pos - line_start) + 1;
    /* At most 200 characters of the line, the error among them: a long
     * line shows the part around it, the caret under the error. */
    size_t from = pos - line_start > 150 ? pos - 150 : line_start;
    int shown = (int)(line_end - from) > 200 ? 200 : (int)(line_end - from);
    int caret = (int)(pos - from) < shown ? (int)(pos - from) : shown;
    const char *cut = from > line_start ? "..." : "";
    snprintf(out, size, "%s at column %d\n  %s%.*s\n  %*s^", message, column, cut, shown,
             text + from, caret + (int)strlen(cut), "");
}

/* "message at column N" plus the offending line and a caret under it. */
weft_status weft_expr_error_at(const char *text, size_t pos, const char *message)
{
    char shown[1024];
    weft_expr_format_at(text, pos, message, shown, sizeof shown);
    return weft_error_set(WEFT_ERR_EXPR, "%s", shown);
}

weft_status weft_expr_fail_at(const weft_expr *e, int column, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    size_t pos = column > 0 ? (size_t)column - 1 : 0;
    return weft_expr_error_at(e->text, pos, message);
}
