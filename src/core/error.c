/* Status names and the per-thread error detail behind weft_last_error(). */
#include "error.h"
#include "fork_registry.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct error_slot {
    char *text;
    size_t capacity;
    struct error_slot *prev, *next; /* every live thread's slot */
} error_slot;

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
/* The slots are also kept on a list: a fork child has only the forking
 * thread, and the slots of the threads it lost must stay reachable memory
 * rather than leak. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static error_slot *slots;

static void slot_destroy(void *p)
{
    error_slot *slot = p;
    pthread_mutex_lock(&slots_lock);
    if (slot->prev)
        slot->prev->next = slot->next;
    else
        slots = slot->next;
    if (slot->next) slot->next->prev = slot->prev;
    pthread_mutex_unlock(&slots_lock);
    free(slot->text);
    free(slot);
}

static weft_fork_member slots_fork_member = {.lock = &slots_lock, .level = WEFT_FORK_TABLES};

static void slot_key_create(void)
{
    (void)pthread_key_create(&slot_key, slot_destroy);
    weft_fork_add(&slots_fork_member);
}

void weft_error_install_fork_handlers(void)
{
    pthread_once(&slot_once, slot_key_create);
}

/* A heap slot per thread (freed at thread exit) because build logs can be far
 * longer than any fixed thread-local buffer. */
static error_slot *slot_get(void)
{
    pthread_once(&slot_once, slot_key_create);
    error_slot *slot = pthread_getspecific(slot_key);
    if (!slot) {
        slot = calloc(1, sizeof *slot);
        if (!slot || pthread_setspecific(slot_key, slot) != 0) {
            free(slot);
            return NULL;
        }
        pthread_mutex_lock(&slots_lock);
        slot->next = slots;
        if (slots) slots->prev = slot;
        slots = slot;
        pthread_mutex_unlock(&slots_lock);
    }
    return slot;
}

static int slot_reserve(error_slot *slot, size_t need)
{
    if (need <= slot->capacity) return 1;
    char *grown = realloc(slot->text, need);
    if (!grown) return 0;
    slot->text = grown;
    slot->capacity = need;
    return 1;
}

weft_status weft_error_set(weft_status status, const char *fmt, ...)
{
    error_slot *slot = slot_get();
    if (!slot) return status;
    /* Format into a new buffer: the arguments may point into the old detail
     * ("%s: %s", path, weft_last_error()). */
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) len = 0;
    const char *name = weft_status_str(status);
    size_t need = strlen(name) + 2 + (size_t)len + 1;
    char *text = malloc(need);
    if (!text) {
        /* Keep at least the status name when the detail does not fit. */
        if (slot->capacity > 0) snprintf(slot->text, slot->capacity, "%s", name);
        return status;
    }
    int head = snprintf(text, need, "%s: ", name);
    va_start(ap, fmt);
    vsnprintf(text + head, need - (size_t)head, fmt, ap);
    va_end(ap);
    free(slot->text);
    slot->text = text;
    slot->capacity = need;
    return status;
}

void weft_error_copy(const char *detail)
{
    error_slot *slot = slot_get();
    if (!slot || !detail) return;
    size_t need = strlen(detail) + 1;
    if (slot_reserve(slot, need)) memcpy(slot->text, detail, need);
}

void weft_error_clear(void)
{
    error_slot *slot = slot_get();
    if (slot && slot->text) slot->text[0] = '\0';
}

const char *weft_last_error(void)
{
    error_slot *slot = slot_get();
    return (slot && slot->text) ? slot->text : "";
}

const char *weft_status_str(weft_status status)
{
    switch (status) {
#define WEFT_STATUS_CASE_(name, value, msg)                                                        \
    case WEFT_##name:                                                                              \
        return "WEFT_" #name " (" msg ")";
        WEFT_STATUS_MAP(WEFT_STATUS_CASE_)
#undef WEFT_STATUS_CASE_
    }
    return "WEFT_? (unknown status)";
}

unsigned weft_version_number(void)
{
    return WEFT_VERSION_NUMBER;
}

const char *weft_version_string(void)
{
    return WEFT_VERSION_STRING;
}
