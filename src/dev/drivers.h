/* The device drivers a build has: each finds its devices and fills their
 * tables (weft_backend). The host pool is always device 0 and needs no entry
 * here; a kind of device is one driver plus one line in drivers.c. */
#ifndef WEFT_DRIVERS_H
#define WEFT_DRIVERS_H

#include "services.h"

typedef struct weft_driver {
    const char *name;
    /* State the driver keeps for the whole context (a program cache). */
    weft_status (*open)(const weft_dev_services *services, void **state);
    /* Adds the driver's devices (services->add_device), usable or set aside
     * with a reason; problems become notes, never a failed context. Runs
     * under the process-wide platform lock. */
    void (*discover)(const weft_dev_services *services, void *state);
    /* After every device of the context was released. */
    void (*close)(void *state);
} weft_driver;

/* NULL-terminated, in discovery order. */
extern const weft_driver *const weft_drivers[];

#endif
