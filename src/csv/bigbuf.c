#include "bigbuf.h"

#include <sys/mman.h>

int csv_bigbuf_reserve(csv_bigbuf *b, size_t bytes)
{
    if (b->p && b->bytes >= bytes) return 1;
    csv_bigbuf_free(b);
    size_t want = bytes + bytes / 4 + 4096;
    void *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    b->p = p;
    b->bytes = want;
    return 1;
}

void csv_bigbuf_free(csv_bigbuf *b)
{
    if (b->p) munmap(b->p, b->bytes);
    b->p = NULL;
    b->bytes = 0;
}
