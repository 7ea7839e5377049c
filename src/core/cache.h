/* The on-disk program binary cache: one file per key, written atomically
 * (temp file + rename) and read defensively (anything malformed, foreign or
 * not a regular file is reported as a reject, never trusted). Knows nothing
 * about OpenCL. */
#ifndef WEFT_CACHE_H
#define WEFT_CACHE_H

#include "weft.h"

#include <stddef.h>
#include <stdint.h>

#define WEFT_CACHE_MAX_PAYLOAD ((size_t)1 << 30)
/* Longest name weft writes in a cache directory ("<64 hex>.bin.loading.<pid>.<n>"). */
#define WEFT_CACHE_MAX_NAME 120
#define WEFT_CACHE_PATH 4096

/* Checks a whole file image against key. On success points *payload into
 * file. On failure returns WEFT_ERR_CACHE with the reason as the detail. */
weft_status weft_cache_parse(const void *file, size_t file_size, const uint8_t key[32],
                             const unsigned char **payload, size_t *payload_size);
/* *data is malloc'd. WEFT_ERR_IO: no such file (a plain miss, or another
 * process is loading it); WEFT_ERR_CACHE: a file was there but is corrupt,
 * truncated, for another key, not a regular file or not trusted
 * (weft_file_trusted); the next store replaces it.
 * On WEFT_OK the file is in quarantine: moved from its name to *quarantine
 * ("<key>.bin.loading.<pid>.<n>", cap >= WEFT_CACHE_PATH) until
 * weft_cache_loaded says how the platform took it. A process that dies while
 * its driver loads a bad binary so leaves no binary under the key: the next
 * process rebuilds from source instead of dying the same way, and removes the
 * quarantined file (weft_cache_open). */
weft_status weft_cache_load(const char *dir, const uint8_t key[32], unsigned char **data,
                            size_t *size, char *quarantine, size_t cap);
/* Ends a quarantine: accepted puts the file back under its name, else it is
 * deleted. */
void weft_cache_loaded(const char *quarantine, int accepted);
weft_status weft_cache_store(const char *dir, const uint8_t key[32], const void *data, size_t size);

/* Cache directories (cache_dir.c). */

/* WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else $HOME/.cache/weft; malloc'd. */
char *weft_cache_default_dir(void);
/* mkdir -p, then checks the directory is one weft can use and trust: a
 * directory, writable, owned by this user and writable by nobody else, with a
 * path short enough for the names weft writes in it. WEFT_ERR_IO with the
 * reason otherwise. Removes stale temporary and quarantined files; *stale
 * (may be NULL) counts the quarantined ones, left by processes that died
 * while loading a binary. */
weft_status weft_cache_open(const char *dir, size_t *stale);
/* What kind of file weft wrote a name is, or 0 when none (cache_dir.c). */
enum { WEFT_CACHE_BINARY = 1, WEFT_CACHE_CALIBRATION, WEFT_CACHE_TEMPORARY, WEFT_CACHE_MODEL };
/* Names of files on their way in ("tmp") or in quarantine ("loading"):
 * "<final path>.<what>.<pid>.<n>", unique per process and call. */
void weft_cache_side_name(char *name, size_t cap, const char *final_path, const char *what);

#endif
