/* libFuzzer target: any bytes as an on-disk program cache file. The parser
 * must refuse everything that is not a whole, matching file, without reading
 * out of bounds; the loader must agree with it through a real file and its
 * quarantine.
 *
 * The first byte picks how the rest is used:
 *   bit 0 clear: the rest is a whole file image, as found on disk;
 *   bit 0 set:   the rest is a size field (8 bytes, little-endian) and a
 *                payload, sealed with weft's magic, a key and the payload's
 *                true checksum, so that crafted headers with valid checksums
 *                and wrong lengths are reached at once;
 *   bit 1 set:   the image is also written to a cache directory and loaded
 *                with weft_cache_load (bit 2: the platform accepts it). */
#include "../../src/core/cache.h"
#include "../../src/core/sha256.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEADER = 8 + 32 + 8 + 32 };

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir); /* empty: each input's file is removed after it */
}

static const char *cache_dir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/weft-fuzz-cache-%ld", (long)getpid());
        if (weft_cache_open(dir, NULL) != WEFT_OK) abort();
        atexit(remove_dir);
    }
    return dir;
}

/* Seals payload behind a header claiming size_field; malloc'd image. */
static unsigned char *seal(const uint8_t key[32], uint64_t size_field, const uint8_t *payload,
                           size_t payload_size, size_t *image_size)
{
    unsigned char *image = malloc(HEADER + payload_size);
    if (!image) abort();
    memcpy(image, "WEFTBIN1", 8);
    memcpy(image + 8, key, 32);
    for (int i = 0; i < 8; i++)
        image[40 + i] = (unsigned char)(size_field >> (8 * i));
    weft_sha256 h;
    weft_sha256_init(&h);
    weft_sha256_update(&h, payload, payload_size);
    weft_sha256_final(&h, image + 48);
    if (payload_size) memcpy(image + HEADER, payload, payload_size);
    *image_size = HEADER + payload_size;
    return image;
}

static void through_disk(const uint8_t key[32], const unsigned char *image, size_t image_size,
                         int parsed_ok, size_t parsed_size, int accepted)
{
    cache_dir();
    char hex[65], path[256];
    weft_sha256_hex(key, hex);
    snprintf(path, sizeof path, "%s/%s.bin", dir, hex);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (image_size && fwrite(image, 1, image_size, f) != image_size) abort();
    fclose(f);
    unsigned char *payload = NULL;
    size_t payload_size = 0;
    char quarantine[WEFT_CACHE_PATH + WEFT_CACHE_MAX_NAME];
    weft_status st =
        weft_cache_load(dir, key, &payload, &payload_size, quarantine, sizeof quarantine);
    if ((st == WEFT_OK) != parsed_ok) abort(); /* the loader and the parser disagree */
    if (st == WEFT_OK) {
        if (payload_size != parsed_size) abort();
        if (access(path, F_OK) == 0) abort(); /* not in quarantine while loading */
        weft_cache_loaded(quarantine, accepted);
        if ((access(path, F_OK) == 0) != accepted) abort();
    }
    free(payload);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    unsigned mode = data[0];
    data++, size--;
    uint8_t key[32];
    unsigned char *owned = NULL;
    const unsigned char *image = data;
    size_t image_size = size;
    uint64_t size_field = 0;
    if (mode & 1) {
        memset(key, 0x5a, 32);
        for (size_t i = 0; i < 8 && i < size; i++)
            size_field |= (uint64_t)data[i] << (8 * i);
        size_t skip = size < 8 ? size : 8;
        owned = seal(key, size_field, data + skip, size - skip, &image_size);
        image = owned;
    } else if (size >= 40) {
        memcpy(key, data + 8, 32); /* the key the file claims: reaches the checksum */
    } else {
        memset(key, 0, 32);
    }
    const unsigned char *payload = NULL;
    size_t payload_size = 0;
    int ok = weft_cache_parse(image, image_size, key, &payload, &payload_size) == WEFT_OK;
    if (ok && (payload < image || payload + payload_size > image + image_size)) abort();
    /* a sealed image is whole exactly when its size field tells the truth */
    if ((mode & 1) && ok != (size_field == image_size - HEADER)) abort();
    if (mode & 2) through_disk(key, image, image_size, ok, payload_size, (mode & 4) != 0);
    free(owned);
    return 0;
}
