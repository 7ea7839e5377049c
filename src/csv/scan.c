/* Record and field boundaries of a window, in three parallel passes over
 * chunks: count quotes and separators; emit the separators outside quotes
 * (each chunk starts with the quote parity of everything before it); lay the
 * separators out as rows of fields. Only the parity crosses chunk edges, so
 * a quoted field may hold delimiters, quotes and newlines anywhere. */
#include "../core/error.h"
#include "csv.h"

#include <stdlib.h>
#include <string.h>

/* cell[0] of a row left out for its width (bad_rows skip); UINT32_MAX marks
 * a blank line. Windows are under 1 GiB, so no row starts at either. */
#define SKIPPED_ROW (UINT32_MAX - 1)

#if defined(__SSE2__)
#include <emmintrin.h>
#define CSV_SIMD 1
#else
#define CSV_SIMD 0
#endif

typedef struct scan_job {
    const char *buf;
    size_t len;
    char delim, eol, comment;
    int bad_rows;
    size_t ncols;
    csv_index *ix;
    size_t total_records;
    int blank_rows; /* set by any chunk that found a blank line (or one to drop) */
    int padded;     /* set by any chunk that padded a short row */
} scan_job;

void csv_index_free(csv_index *ix)
{
    csv_bigbuf_free(&ix->cells_buf);
    csv_bigbuf_free(&ix->entries_buf);
    free(ix->chunks);
    free(ix->skipped_at);
    memset(ix, 0, sizeof *ix);
}

size_t csv_index_skipped(const csv_index *ix, size_t consumed)
{
    size_t n = 0;
    while (n < ix->nskipped && ix->skipped_at[n] < consumed)
        n++;
    return n;
}

static int grow(void **p, size_t *cap, size_t want, size_t elem)
{
    if (*cap >= want) return 1;
    size_t n = want + want / 4 + 64;
    void *q = realloc(*p, n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}

#if CSV_SIMD
static size_t sum_bytes(__m128i counts)
{
    __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si64(sums) +
           (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
}
#endif

static void count_range(const char *buf, size_t i, size_t end, char delim, char eol, csv_chunk *c,
                        unsigned *any_high)
{
    size_t q = 0, s = 0, nl = 0;
    unsigned hi = 0;
#if CSV_SIMD
    /* Byte-wide counters, summed every 255 blocks before they wrap. */
    const __m128i vq = _mm_set1_epi8('"'), vn = _mm_set1_epi8(eol), vd = _mm_set1_epi8(delim);
    const __m128i zero = _mm_setzero_si128();
    __m128i high_bits = zero;
    while (i + 16 <= end) {
        __m128i cq = zero, cn = zero, cs = zero;
        for (int blocks = 0; blocks < 255 && i + 16 <= end; blocks++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
            __m128i en = _mm_cmpeq_epi8(v, vn);
            cq = _mm_sub_epi8(cq, _mm_cmpeq_epi8(v, vq));
            cn = _mm_sub_epi8(cn, en);
            cs = _mm_sub_epi8(cs, _mm_or_si128(en, _mm_cmpeq_epi8(v, vd)));
            high_bits = _mm_or_si128(high_bits, v);
        }
        q += sum_bytes(cq);
        nl += sum_bytes(cn);
        s += sum_bytes(cs);
    }
    hi = (unsigned)_mm_movemask_epi8(high_bits);
#endif
    for (; i < end; i++) {
        char ch = buf[i];
        q += ch == '"';
        nl += ch == eol;
        s += ch == eol || ch == delim;
        hi |= (unsigned char)ch & 0x80u;
    }
    c->quotes = q;
    c->specials = s;
    c->newlines = nl;
    *any_high = hi;
}

/* Pass 1: counts, and UTF-8 of every character that starts in the chunk. */
static void pass_count(void *arg, size_t begin, size_t end)
{
    scan_job *j = arg;
    for (size_t k = begin; k < end; k++) {
        csv_chunk *c = &j->ix->chunks[k];
        unsigned high;
        count_range(j->buf, c->begin, c->end, j->delim, j->eol, c, &high);
        c->fault.kind = CSV_FAULT_NONE;
        if (!high) continue;
        /* Skip the tail of a character that started in the chunk before
         * (that chunk checks it whole): of the `need` continuation bytes its
         * lead asks for, `back` lie before the edge, the rest after it. A
         * lead asking for fewer than lie there leaves nothing to skip: the
         * chunk before reports the stray ones. */
        size_t from = c->begin, back = 0;
        while (back < 3 && from > back && ((unsigned char)j->buf[from - back - 1] & 0xC0) == 0x80)
            back++;
        if (from > back) {
            unsigned char lead = (unsigned char)j->buf[from - back - 1];
            size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
            if (need > back) from += need - back;
        }
        size_t bad;
        if (from < c->end && !csv_utf8_valid(j->buf + from, c->end - from, j->len - from, &bad)) {
            c->fault.kind = CSV_FAULT_UTF8;
            c->fault.pos = from + bad;
        }
    }
}

#define EMIT(pos, is_nl)                                                                           \
    do {                                                                                           \
        out[n++] = (uint32_t)(pos) | ((is_nl) ? CSV_NEWLINE_BIT : 0u);                             \
        records += (is_nl);                                                                        \
    } while (0)

static void set_fault(csv_chunk *c, csv_fault_kind kind, size_t pos, size_t found)
{
    if (c->fault.kind != CSV_FAULT_NONE && c->fault.pos <= pos) return;
    c->fault.kind = kind;
    c->fault.pos = pos;
    c->fault.found = found;
}

/* A CR or LF outside quotes that does not end a line would be read as data
 * and hide a record: the other line-end byte of the file (for LF files, a CR
 * not followed by LF) is a fault. */
static inline int is_stray(const scan_job *j, size_t i)
{
    char ch = j->buf[i];
    if (j->eol == '\r') return ch == '\n';
    return ch == '\r' && !(i + 1 < j->len && j->buf[i + 1] == '\n');
}

/* Pass 2: the positions of delimiters and newlines outside quotes. */
static void pass_emit(void *arg, size_t begin, size_t end)
{
    scan_job *j = arg;
    const char *buf = j->buf;
    const char stray = j->eol == '\n' ? '\r' : '\n';
    for (size_t k = begin; k < end; k++) {
        csv_chunk *c = &j->ix->chunks[k];
        uint32_t *out = j->ix->entries + c->slot;
        size_t n = 0, records = 0, i = c->begin;
        int inq = c->in_quote;
#if CSV_SIMD
        const __m128i vq = _mm_set1_epi8('"'), vn = _mm_set1_epi8(j->eol),
                      vd = _mm_set1_epi8(j->delim), vs = _mm_set1_epi8(stray);
        for (; i + 16 <= c->end; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
            unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq));
            unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn));
            unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd));
            unsigned ms = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vs));
            if (ms && j->eol == '\n') {
                ms &= ~(mn >> 1); /* the CR of a CRLF */
                if ((ms & 0x8000u) && !is_stray(j, i + 15)) ms &= ~0x8000u;
            }
            if (!mq && !ms) {
                if (inq) continue;
                for (unsigned m = mn | md; m; m &= m - 1) {
                    unsigned b = (unsigned)__builtin_ctz(m);
                    EMIT(i + b, (mn >> b) & 1u);
                }
                continue;
            }
            for (unsigned m = mq | mn | md | ms; m; m &= m - 1) {
                unsigned b = (unsigned)__builtin_ctz(m);
                if ((mq >> b) & 1u)
                    inq ^= 1;
                else if (inq)
                    continue;
                else if ((ms >> b) & 1u)
                    set_fault(c, CSV_FAULT_LINE_END, i + b, 0);
                else
                    EMIT(i + b, (mn >> b) & 1u);
            }
        }
#endif
        for (; i < c->end; i++) {
            char ch = buf[i];
            if (ch == '"')
                inq ^= 1;
            else if (!inq && (ch == j->eol || ch == j->delim))
                EMIT(i, ch == j->eol);
            else if (!inq && ch == stray && is_stray(j, i))
                set_fault(c, CSV_FAULT_LINE_END, i, 0);
        }
        c->count = n;
        c->records = records;
    }
}
#undef EMIT

typedef struct cursor {
    const csv_chunk *chunks;
    const uint32_t *entries;
    size_t k, i;
} cursor;

/* Rows below the record count are complete, so a next entry always exists. */
static inline uint32_t cursor_next(cursor *cur)
{
    while (cur->i >= cur->chunks[cur->k].count) {
        cur->k++;
        cur->i = 0;
    }
    return cur->entries[cur->chunks[cur->k].slot + cur->i++];
}

/* The common row, laid out without the per-field checks below: its ncols
 * entries lie in the current chunk, only the last is a newline, and it is
 * no comment (a blank line has a newline first, so it never gets here).
 * Returns where the next row starts, or 0 when the row needs the full path. */
static inline size_t whole_row(const scan_job *j, cursor *cur, size_t start, uint32_t *cell)
{
    const size_t ncols = j->ncols;
    const csv_chunk *c = &cur->chunks[cur->k];
    if (cur->i + ncols > c->count || ncols < 2) return 0;
    if (j->comment && j->buf[start] == j->comment) return 0;
    const uint32_t *e = cur->entries + c->slot + cur->i;
    uint32_t inner = 0;
    for (size_t f = 0; f + 1 < ncols; f++)
        inner |= e[f];
    uint32_t last = e[ncols - 1];
    if ((inner & CSV_NEWLINE_BIT) || !(last & CSV_NEWLINE_BIT)) return 0;
    for (size_t f = 0; f + 1 < ncols; f++)
        cell[f + 1] = e[f];
    size_t pos = last & ~CSV_NEWLINE_BIT, fe = pos;
    if (fe > (size_t)e[ncols - 2] + 1 && j->buf[fe - 1] == '\r') fe--;
    cell[ncols] = (uint32_t)fe;
    cur->i += ncols;
    return pos + 1;
}

/* Pass 3: the rows that start in each chunk, as start and field ends. */
static void pass_rows(void *arg, size_t begin, size_t end)
{
    scan_job *j = arg;
    csv_index *ix = j->ix;
    const size_t ncols = j->ncols, stride = ncols + 1;
    for (size_t k = begin; k < end; k++) {
        csv_chunk *c = &ix->chunks[k];
        size_t first_row = 0, nrows = c->records + (k == 0);
        for (size_t p = 0; p < k; p++)
            first_row += ix->chunks[p].records;
        cursor cur = {ix->chunks, ix->entries, k, 0};
        size_t start = 0;
        if (k > 0) {
            first_row += 1;
            size_t f = 0;
            while (f < c->count && !(ix->entries[c->slot + f] & CSV_NEWLINE_BIT))
                f++;
            if (f == c->count) continue; /* no record starts here */
            start = (ix->entries[c->slot + f] & ~CSV_NEWLINE_BIT) + 1;
            cur.i = f + 1;
        }
        if (first_row >= j->total_records) continue;
        if (first_row + nrows > j->total_records) nrows = j->total_records - first_row;
        for (size_t r = first_row; r < first_row + nrows; r++) {
            uint32_t *cell = ix->cells + r * stride;
            cell[0] = (uint32_t)start;
            size_t next = whole_row(j, &cur, start, cell);
            if (next) {
                start = next;
                continue;
            }
            size_t field_begin = start;
            for (size_t f = 0; f < ncols; f++) {
                uint32_t e = cursor_next(&cur);
                size_t pos = e & ~CSV_NEWLINE_BIT;
                int nl = (e & CSV_NEWLINE_BIT) != 0;
                if (nl && f == 0 && (pos == start || (pos == start + 1 && j->buf[start] == '\r'))) {
                    cell[0] = UINT32_MAX; /* a blank line: dropped below */
                    j->blank_rows = 1;
                    break;
                }
                if (f == 0 && j->comment && j->buf[start] == j->comment) {
                    while (!nl) {
                        e = cursor_next(&cur);
                        nl = (e & CSV_NEWLINE_BIT) != 0;
                    }
                    pos = e & ~CSV_NEWLINE_BIT;
                    if (memchr(j->buf + start, '"', pos - start)) {
                        set_fault(c, CSV_FAULT_COMMENT, start, 0);
                        goto next_chunk;
                    }
                    cell[0] = UINT32_MAX;
                    j->blank_rows = 1;
                    break;
                }
                if (nl && f < ncols - 1 && j->bad_rows == WEFT_CSV_BAD_PAD) {
                    size_t fe = pos;
                    if (fe > field_begin && j->buf[fe - 1] == '\r') fe--;
                    for (size_t g = f; g < ncols; g++)
                        cell[g + 1] = (uint32_t)fe;
                    j->padded = 1;
                    break;
                }
                if (nl != (f == ncols - 1)) {
                    size_t found = f + 1;
                    while (!nl) {
                        nl = (cursor_next(&cur) & CSV_NEWLINE_BIT) != 0;
                        found++;
                    }
                    if (j->bad_rows == WEFT_CSV_BAD_SKIP) {
                        cell[0] = SKIPPED_ROW; /* its start kept for the count */
                        cell[1] = (uint32_t)start;
                        j->blank_rows = 1;
                        break;
                    }
                    set_fault(c, CSV_FAULT_FIELDS, start, found);
                    goto next_chunk;
                }
                size_t fe = pos;
                if (nl && fe > field_begin && j->buf[fe - 1] == '\r') fe--;
                cell[f + 1] = (uint32_t)fe;
                field_begin = pos + 1;
            }
            /* The newline just read ends this row; the next starts after it. */
            start = (ix->entries[ix->chunks[cur.k].slot + cur.i - 1] & ~CSV_NEWLINE_BIT) + 1;
        }
    next_chunk:;
    }
}

/* Drops blank lines and rows left out for their width (the latter's
 * starts kept in ix->skipped_at); 0 without memory for those. */
static int drop_blank_rows(csv_index *ix, size_t rows, size_t stride, size_t *kept_rows)
{
    size_t kept = 0;
    for (size_t r = 0; r < rows; r++) {
        if (ix->cells[r * stride] == SKIPPED_ROW) {
            if (!grow((void **)&ix->skipped_at, &ix->skipped_cap, ix->nskipped + 1,
                      sizeof *ix->skipped_at))
                return 0;
            ix->skipped_at[ix->nskipped++] = ix->cells[r * stride + 1];
            continue;
        }
        if (ix->cells[r * stride] == UINT32_MAX) continue;
        if (kept != r)
            memmove(ix->cells + kept * stride, ix->cells + r * stride, stride * sizeof(uint32_t));
        kept++;
    }
    *kept_rows = kept;
    return 1;
}

weft_status csv_scan(weft_pool *pool, const char *buf, size_t len, const csv_syntax *syn,
                     size_t ncols, csv_index *ix, csv_fault *fault)
{
    memset(fault, 0, sizeof *fault);
    ix->rows = 0;
    ix->consumed = 0;
    ix->lines = 0;
    ix->ends_in_quote = 0;
    ix->padded = 0;
    ix->nskipped = 0;
    ix->skipped = 0;
    const size_t min_chunk = 128 * 1024;
    int threads = pool ? weft_pool_threads(pool) : 1;
    size_t nchunks = len / min_chunk;
    size_t max_chunks = (size_t)(threads > 0 ? threads : 1) * 8;
    if (nchunks > max_chunks) nchunks = max_chunks;
    if (nchunks == 0) nchunks = 1;
    RETURN_IF(!grow((void **)&ix->chunks, &ix->chunks_cap, nchunks, sizeof(csv_chunk)),
              WEFT_ERR_NOMEM, "csv: cannot allocate %zu chunks", nchunks);
    ix->nchunks = nchunks;
    for (size_t k = 0; k < nchunks; k++) {
        ix->chunks[k].begin = len * k / nchunks;
        ix->chunks[k].end = len * (k + 1) / nchunks;
    }
    scan_job job = {buf, len, syn->delim, syn->eol, syn->comment, syn->bad_rows, ncols,
                    ix,  0,   0,          0};
    weft_pool_parallel_for(pool, nchunks, 1, 0, pass_count, &job);

    size_t specials = 0;
    int inq = 0;
    for (size_t k = 0; k < nchunks; k++) {
        ix->chunks[k].in_quote = inq;
        ix->chunks[k].slot = specials;
        inq ^= (int)(ix->chunks[k].quotes & 1u);
        specials += ix->chunks[k].specials;
    }
    ix->ends_in_quote = inq;
    RETURN_IF(!csv_bigbuf_reserve(&ix->entries_buf, (specials + 1) * sizeof(uint32_t)),
              WEFT_ERR_NOMEM, "csv: cannot allocate the index of a %zu-byte window", len);
    ix->entries = ix->entries_buf.p;
    weft_pool_parallel_for(pool, nchunks, 1, 0, pass_emit, &job);

    size_t records = 0;
    for (size_t k = 0; k < nchunks; k++)
        records += ix->chunks[k].records;
    job.total_records = records;
    if (records > 0) {
        /* The last record ends at the last newline entry. */
        size_t k = nchunks;
        while (ix->chunks[k - 1].records == 0)
            k--;
        const csv_chunk *c = &ix->chunks[k - 1];
        size_t i = c->count;
        while (!(ix->entries[c->slot + i - 1] & CSV_NEWLINE_BIT))
            i--;
        ix->consumed = (ix->entries[c->slot + i - 1] & ~CSV_NEWLINE_BIT) + 1;
        size_t stride = ncols + 1;
        RETURN_IF(!csv_bigbuf_reserve(&ix->cells_buf, records * stride * sizeof(uint32_t)),
                  WEFT_ERR_NOMEM, "csv: cannot allocate the index of %zu records", records);
        ix->cells = ix->cells_buf.p;
        weft_pool_parallel_for(pool, nchunks, 1, 0, pass_rows, &job);
        ix->rows = records;
        RETURN_IF(job.blank_rows && !drop_blank_rows(ix, records, stride, &ix->rows),
                  WEFT_ERR_NOMEM, "csv: cannot count the rows left out");
        ix->skipped = csv_index_skipped(ix, ix->consumed);
        ix->padded = job.padded;
    }
    for (size_t k = 0; k < nchunks; k++) {
        const csv_chunk *c = &ix->chunks[k];
        if (c->end <= ix->consumed) {
            ix->lines += c->newlines;
        } else if (c->begin < ix->consumed) {
            for (size_t i = c->begin; i < ix->consumed; i++)
                ix->lines += buf[i] == syn->eol;
        }
        if (c->fault.kind != CSV_FAULT_NONE && c->fault.pos < ix->consumed &&
            (fault->kind == CSV_FAULT_NONE || c->fault.pos < fault->pos))
            *fault = c->fault;
    }
    return WEFT_OK;
}
