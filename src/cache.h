/* The on-disk program binary cache: one file per key, written atomically
 * (temp file + rename) and read defensively (anything malformed is reported
 * as a miss, never trusted). Knows nothing about OpenCL. */
#ifndef WEFT_CACHE_H
#define WEFT_CACHE_H

#include "weft.h"

#include <stddef.h>
#include <stdint.h>

#define WEFT_CACHE_MAX_PAYLOAD ((size_t)1 << 30)

/* Checks a whole file image against key. On success points *payload into
 * file. On failure returns WEFT_ERR_CACHE with the reason as the detail. */
weft_status weft_cache_parse(const void *file, size_t file_size, const uint8_t key[32],
                             const unsigned char **payload, size_t *payload_size);
/* *data is malloc'd. WEFT_ERR_IO: no such file (a plain miss); WEFT_ERR_CACHE:
 * a file was there but is corrupt, truncated or for another key. */
weft_status weft_cache_load(const char *dir, const uint8_t key[32], unsigned char **data,
                            size_t *size);
weft_status weft_cache_store(const char *dir, const uint8_t key[32], const void *data, size_t size);
/* WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else $HOME/.cache/weft; malloc'd. */
char *weft_cache_default_dir(void);
/* mkdir -p; WEFT_ERR_IO if it cannot be made or written. */
weft_status weft_cache_prepare_dir(const char *dir);

#endif
