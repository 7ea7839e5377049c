/* libFuzzer target: any bytes as an on-disk program cache file. The parser
 * must refuse everything that is not a whole, matching file, without reading
 * out of bounds; a file it accepts must round-trip through store and load. */
#include "../../src/cache.h"
#include "../../src/sha256.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[32];
    /* The key the file claims (if long enough), so the checksum path is reached. */
    if (size >= 40)
        memcpy(key, data + 8, 32);
    else
        memset(key, 0, 32);
    const unsigned char *payload = NULL;
    size_t payload_size = 0;
    if (weft_cache_parse(data, size, key, &payload, &payload_size) == WEFT_OK) {
        /* accepted: the payload lies inside the file */
        if (payload < data || payload + payload_size > data + size) abort();
    }
    return 0;
}
