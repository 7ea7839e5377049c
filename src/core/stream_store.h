/* Stores that go around the cache (non-temporal): for outputs much larger
 * than the last-level cache, an ordinary store first reads each line it
 * writes and evicts inputs still to be read; a streaming store does neither.
 * Plain copies where the target has no such stores. */
#ifndef WEFT_STREAM_STORE_H
#define WEFT_STREAM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Copies bytes from src (any alignment) to dst by streaming stores. */
static inline void weft_stream_copy(void *dst, const void *src, size_t bytes)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
#if defined(__SSE2__)
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    d += head, s += head, bytes -= head;
    for (; bytes >= 16; d += 16, s += 16, bytes -= 16)
        _mm_stream_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)s));
#endif
    memcpy(d, s, bytes);
}

/* Orders this thread's streaming stores before its later stores: call it
 * before another thread may read what they wrote. */
static inline void weft_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
