/* The hot loops of sort_keys.c for one key width, included once per width
 * with KT (the unsigned key type), KS (its signed twin), KW (its bits) and
 * FN(name) (the name with the width appended) defined. Keys are handled in
 * their ordered form: ORDER(u) = u ^ (fmask & sign(u)) ^ xmask (floats flip
 * every bit but the sign when negative; the sign bit is flipped for floats
 * and signed integers; descending complements all). */

#define SIGN_OF(u) ((KT)((KS)(u) >> (KW - 1)))
#define TOP_BIT ((KT)1 << (KW - 1))

static inline KT FN(order)(KT u, KT fm, KT xm)
{
    return u ^ (fm & SIGN_OF(u)) ^ xm;
}

static inline KT FN(unorder)(KT m, KT fm, KT xm)
{
    KT t = m ^ xm;
    return t ^ (fm & SIGN_OF(t));
}

/* Counts the prefixes of keys [b, e) into h; ORs what differs from the level's
 * first key into *varying; flags NaN or -0.0 in *special (floats read from
 * the caller only). */
static void FN(histogram)(const level *L, size_t b, size_t e, uint32_t *h, uint64_t *varying,
                          int *special)
{
    const KT *src = L->src;
    KT fm = (KT)L->s->fmask, xm = (KT)L->s->xmask, first = (KT)L->first, v = 0;
    KT pm = (KT)((1u << L->bits) - 1);
    unsigned sh = L->shift;
    if (L->ordered) {
        for (size_t i = b; i < e; i++) {
            KT k = src[i];
            v |= k ^ first;
            h[(k >> sh) & pm]++;
        }
    } else if (L->s->is_float) {
        KT sp = 0, inf = (KT)(((KT)-1 >> 1) & ~((KT)-1 >> (KW == 32 ? 9 : 12)));
        for (size_t i = b; i < e; i++) {
            KT u = src[i], k = FN(order)(u, fm, xm);
            sp |= (KT)((u & ~TOP_BIT) > inf) | (KT)(u == TOP_BIT);
            v |= k ^ first;
            h[(k >> sh) & pm]++;
        }
        *special = sp != 0;
    } else {
        for (size_t i = b; i < e; i++) {
            KT k = FN(order)(src[i], fm, xm);
            v |= k ^ first;
            h[(k >> sh) & pm]++;
        }
    }
    *varying = v;
}

/* Keys [b, e) to their buckets; o holds each bucket's next place in dst. */
static void FN(scatter)(const level *L, size_t b, size_t e, size_t *o)
{
    const KT *src = L->src;
    KT *dst = L->dst;
    KT fm = L->ordered ? 0 : (KT)L->s->fmask, xm = L->ordered ? 0 : (KT)L->s->xmask;
    KT pm = (KT)((1u << L->bits) - 1);
    unsigned sh = L->shift;
    const uint16_t *map = L->map;
    for (size_t i = b; i < e; i++) {
        KT k = FN(order)(src[i], fm, xm);
        dst[o[map[(k >> sh) & pm]]++] = k;
    }
}

/* The caller's keys [b, b + m) from ordered keys, past the caches where the
 * machine allows (they are not read again here; stores that skip the cache
 * need not read the lines first). */
static void FN(write_out)(const ksort *s, const KT *from, size_t b, size_t m)
{
    KT *out = (KT *)s->out + b, fm = (KT)s->fmask, xm = (KT)s->xmask;
    size_t i = 0;
#if WEFT_STREAM_STORES
    for (; i < m; i++)
        STREAM(out + i, FN(unorder)(from[i], fm, xm));
#endif
    for (; i < m; i++)
        out[i] = FN(unorder)(from[i], fm, xm);
}

/* LSD passes over the bits of key - base from `blo` up to the highest that
 * varies in vm (base: the least key there may be, so that a bucket whose
 * prefixes straddle a power of two spans no more bits than it holds),
 * in digits of at most MAX_DIGIT_BITS (fewer for few keys), between x and
 * tmp (m keys each); cnt has room for the counts. Returns the buffer that
 * holds the result. */
static KT *FN(radix)(KT *x, KT *tmp, size_t m, uint64_t vm, unsigned blo, uint32_t *cnt, KT base)
{
    vm = vm >> blo << blo;
    if (!vm || m < 2) return x;
    unsigned lo = (unsigned)__builtin_ctzll(vm), span = high_bit(vm) + 1 - lo;
    unsigned most = digit_bits(m), np = (span + most - 1) / most, w = (span + np - 1) / np;
    size_t bins = (size_t)1 << w;
    KT mask = (KT)(bins - 1);
    memset(cnt, 0, np * bins * sizeof *cnt);
    if (np == 1) {
        for (size_t i = 0; i < m; i++)
            cnt[((x[i] - base) >> lo) & mask]++;
    } else if (np == 2) {
        uint32_t *c1 = cnt + bins;
        for (size_t i = 0; i < m; i++) {
            KT k = (x[i] - base) >> lo;
            cnt[k & mask]++;
            c1[(k >> w) & mask]++;
        }
    } else {
        for (size_t i = 0; i < m; i++) {
            KT k = (x[i] - base) >> lo;
            for (unsigned j = 0; j < np; j++)
                cnt[j * bins + ((k >> (j * w)) & mask)]++;
        }
    }
    KT *src = x, *dst = tmp;
    for (unsigned j = 0; j < np; j++) {
        uint32_t start = 0, *c = cnt + j * bins;
        int trivial = 0;
        for (size_t v = 0; v < bins; v++) {
            uint32_t here = c[v];
            trivial |= here == m;
            c[v] = start;
            start += here;
        }
        if (trivial) continue;
        unsigned sh = lo + j * w;
        for (size_t i = 0; i < m; i++) {
            KT k = src[i];
            dst[c[((k - base) >> sh) & mask]++] = k;
        }
        KT *swap = src;
        src = dst;
        dst = swap;
    }
    return src;
}

/* r (m keys) is sorted by the bits of key - base at and above `bit`: sorts
 * each run of keys equal there by the bits below, by insertion when short, else by
 * radix passes with room in `room`. */
static void FN(finish_runs)(KT *r, KT *room, size_t m, unsigned bit, uint64_t vm, uint32_t *cnt,
                            KT base)
{
    for (size_t i = 0; i + 1 < m; i++) {
        if (((r[i] - base) ^ (r[i + 1] - base)) >> bit) continue; /* the common case: no tie */
        size_t j = i + 2;
        while (j < m && !(((r[j] - base) ^ (r[i] - base)) >> bit))
            j++;
        size_t len = j - i;
        if (len > RUN_INSERT) {
            KT *got =
                FN(radix)(r + i, room + i, len, vm & (((uint64_t)1 << bit) - 1), 0, cnt, base);
            if (got != r + i) memcpy(r + i, got, len * sizeof *r);
        } else {
            for (size_t a = i + 1; a < j; a++) {
                KT k = r[a];
                size_t p = a;
                while (p > i && r[p - 1] > k) {
                    r[p] = r[p - 1];
                    p--;
                }
                r[p] = k;
            }
        }
        i = j - 1;
    }
}

/* Sorts bucket j of the level (in dst) on one thread with tmp (room for it)
 * and cnt, and writes it out. */
static void FN(bucket)(const level *L, size_t j, KT *tmp, uint32_t *cnt)
{
    size_t b = L->start[j], m = L->start[j + 1] - b;
    KT *x = (KT *)L->dst + b, *r = x;
    if (m > 1) {
        KT base = (KT)((uint64_t)L->plo[j] << L->shift);
        uint64_t vm = bucket_span(L, j);
        unsigned blo = lowest_sorted_bit(vm, m);
        r = FN(radix)(x, tmp, m, vm, blo, cnt, base);
        if (blo > 0 && (vm & (((uint64_t)1 << blo) - 1)))
            FN(finish_runs)(r, r == x ? tmp : x, m, blo, vm, cnt, base);
    }
    FN(write_out)(L->s, r, b, m);
}

#undef SIGN_OF
#undef TOP_BIT
