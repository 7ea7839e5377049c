#include "services.h"

#include <stdarg.h>
#include <stdio.h>

void weft_dev_note(const weft_dev_services *services, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    services->note(services->owner, text);
}
