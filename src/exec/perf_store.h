/* Cost models on disk: one small text file per operation and device in the
 * cache directory ("model-<16 hex>.txt", the hex a hash of the device's name,
 * vendor and driver version, weft's version and the operation's identity, as
 * binaries are keyed), so a new process starts from what earlier ones
 * measured. Written atomically (temp file + rename) after merging with what
 * another process may have written meanwhile; read defensively: a file that
 * is damaged, of another format or not trusted is ignored and rewritten. */
#ifndef WEFT_PERF_STORE_H
#define WEFT_PERF_STORE_H

#include "perf_model.h"

#include "weft.h"

/* The model file of identity on a device into path (cap >= WEFT_CACHE_PATH
 * + WEFT_CACHE_MAX_NAME). */
void weft_perf_path(const char *dir, const weft_device_info *device, const char *identity,
                    char *path, size_t cap);
/* 1 and *h filled when path holds a sound model; else 0 and *h untouched. */
int weft_perf_load(const char *path, weft_perf_history *h);
/* Adds fresh, the samples recorded since the last save, to the file's
 * current contents (what other processes saved meanwhile included) and
 * writes the result. A history that was loaded from the file and then
 * recorded into must not be passed whole: its file part would count twice.
 * label and device are comments for people reading the file and
 * `weft cache models`. */
weft_status weft_perf_save(const char *path, const char *label, const char *device,
                           const weft_perf_history *fresh);

#endif
