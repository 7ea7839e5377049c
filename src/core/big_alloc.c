#include "big_alloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2u << 20, CACHED_BUFFERS = 2 };

typedef struct kept {
    void *p;
    size_t bytes; /* as mapped: whole pages */
} kept;

/* Only ever tried, never waited for: a busy cache is skipped, so a fork
 * child whose parent held the lock at fork() still allocates. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kept cache[CACHED_BUFFERS];

static size_t whole_pages(size_t bytes)
{
    return (bytes + 4095) / 4096 * 4096;
}

/* A kept buffer that holds `bytes` without wasting more than half of it. */
static void *take_kept(size_t bytes)
{
    void *p = NULL;
    if (pthread_mutex_trylock(&lock) != 0) return NULL;
    for (int i = 0; i < CACHED_BUFFERS && !p; i++)
        if (cache[i].p && cache[i].bytes == bytes) {
            p = cache[i].p;
            cache[i].p = NULL;
        }
    pthread_mutex_unlock(&lock);
    return p;
}

static void *map_huge(size_t bytes)
{
    /* A huge page more than asked, trimmed at both ends, so the buffer
     * starts on a huge page whatever address the kernel picked. */
    size_t span = bytes + HUGE_PAGE;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *start = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    char *end = start + bytes;
    if (start > p) munmap(p, (size_t)(start - p));
    if (p + span > end) munmap(end, (size_t)(p + span - end));
    (void)madvise(start, bytes, MADV_HUGEPAGE);
    return start;
}

void *weft_big_alloc(size_t bytes)
{
    if (bytes == 0) return NULL;
    if (bytes < HUGE_PAGE) return aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (bytes > SIZE_MAX - 2 * HUGE_PAGE) return NULL;
    bytes = whole_pages(bytes);
    void *p = take_kept(bytes);
    return p ? p : map_huge(bytes);
}

void weft_big_free(void *p, size_t bytes)
{
    if (!p) return;
    if (bytes < HUGE_PAGE) {
        free(p);
        return;
    }
    bytes = whole_pages(bytes);
    (void)madvise(p, bytes, MADV_FREE); /* the kernel may take it back before reuse */
    kept out = {p, bytes};
    if (pthread_mutex_trylock(&lock) != 0) {
        munmap(p, bytes);
        return;
    }
    /* Keep it in place of an empty or the smallest slot. */
    int slot = 0;
    for (int i = 1; i < CACHED_BUFFERS; i++)
        if (!cache[slot].p)
            break;
        else if (!cache[i].p || cache[i].bytes < cache[slot].bytes)
            slot = i;
    if (!cache[slot].p || cache[slot].bytes < bytes) {
        kept old = cache[slot];
        cache[slot] = out;
        out = old;
    }
    pthread_mutex_unlock(&lock);
    if (out.p) munmap(out.p, out.bytes);
}

void weft_big_trim(void)
{
    kept all[CACHED_BUFFERS];
    if (pthread_mutex_trylock(&lock) != 0) return;
    for (int i = 0; i < CACHED_BUFFERS; i++) {
        all[i] = cache[i];
        cache[i].p = NULL;
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < CACHED_BUFFERS; i++)
        if (all[i].p) munmap(all[i].p, all[i].bytes);
}
