/* libFuzzer target: any text as a device list (WEFT_DEVICES, options.devices)
 * and as WEFT_NUM_THREADS, any int as options.num_threads. A device list is
 * accepted by weft_ctx_create exactly when the parser accepts it; cl:N never
 * picks a device above WEFT_MAX_CL_INDEX; the pool width always lies in
 * [1, WEFT_MAX_THREADS] and a changed value always comes with a note. */
#define _POSIX_C_SOURCE 200809L
#include "../../src/dev/device_spec.h"
#include "../../src/core/thread_count.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_thread_count(int requested, const char *text)
{
    char note[256];
    memset(note, 'x', sizeof note);
    int threads = weft_thread_count(requested, text, note, sizeof note);
    if (threads < 1 || threads > WEFT_MAX_THREADS) abort();
    if (!memchr(note, '\0', sizeof note)) abort();
    if (requested > 0 && requested <= WEFT_MAX_THREADS && (threads != requested || note[0]))
        abort(); /* a valid request is used as given, silently */
    if (requested < 0 || requested > WEFT_MAX_THREADS) {
        if (!note[0]) abort(); /* ignored or capped: said so */
    }
}

static void check_device_list(const char *text)
{
    weft_status parsed = weft_device_spec_check(text);
    if (parsed != WEFT_OK && parsed != WEFT_ERR_INVALID_ARG) abort();
    if (parsed == WEFT_OK) { /* no accepted token picks an index past the bound */
        weft_device far;
        memset(&far, 0, sizeof far);
        far.index = (size_t)WEFT_MAX_CL_INDEX + 2;
        far.info.kind = WEFT_DEVICE_OTHER;
        char copy[512];
        if (strlen(text) < sizeof copy) {
            strcpy(copy, text);
            char *save = NULL;
            for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
                if (strcasecmp(tok, "all") != 0 && weft_device_token_matches(tok, &far)) abort();
        }
    }
    weft_options o;
    weft_options_init(&o);
    o.devices = text;
    o.disk_cache = 0;
    weft_ctx *ctx = NULL;
    weft_status created = weft_ctx_create(&o, &ctx);
    if (*text && strlen(text) < 512 && (created == WEFT_ERR_INVALID_ARG) != (parsed != WEFT_OK))
        abort();
    if ((created == WEFT_OK) != (ctx != NULL)) abort();
    weft_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int requested = 0;
    if (size >= sizeof requested) {
        memcpy(&requested, data, sizeof requested);
        data += sizeof requested;
        size -= sizeof requested;
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_thread_count(requested, text);
    check_thread_count(0, text);
    check_device_list(text);
    free(text);
    return 0;
}
