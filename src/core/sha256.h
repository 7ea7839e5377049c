/* SHA-256, for program cache keys and cache file integrity. */
#ifndef WEFT_SHA256_H
#define WEFT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct weft_sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t block[64];
    size_t used;
} weft_sha256;

void weft_sha256_init(weft_sha256 *h);
void weft_sha256_update(weft_sha256 *h, const void *data, size_t size);
/* Hashes a NUL-terminated string including its terminator, so that
 * consecutive fields cannot run into each other ("ab"+"c" != "a"+"bc"). */
void weft_sha256_field(weft_sha256 *h, const char *text);
void weft_sha256_final(weft_sha256 *h, uint8_t digest[32]);
void weft_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
