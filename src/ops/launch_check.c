#include "launch_check.h"
#include "../core/ctx.h"
#include "../core/error.h"
#include "../mem/residency.h"
#include "../dev/device.h"
#include "launch_call.h"
#include "launch_poison.h"
#include "program.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Argument k's array, unless an earlier argument passed the same one: the
 * check works per array, whatever arguments it is bound to. */
static weft_array *first_use(const weft_launch_job *job, size_t k)
{
    if (job->args[k].kind > WEFT_ARG_WHOLE) return NULL;
    for (size_t j = 0; j < k; j++)
        if (job->args[j].kind <= WEFT_ARG_WHOLE && job->args[j].array == job->args[k].array)
            return NULL;
    return job->args[k].array;
}

/* The keys are made on every launch: by hand, not with snprintf, which
 * cost more than the rest of a small launch's checks together. They read as
 * "%s/%u/%u/%d/" then "%c%zu" per argument, and "=%zu" x 8 then ",%llx". */
static char *put_text(char *p, const char *text)
{
    size_t len = strlen(text);
    memcpy(p, text, len);
    return p + len;
}

static char *put_number(char *p, uint64_t v, unsigned base)
{
    char digits[20];
    int nd = 0;
    do {
        digits[nd++] = "0123456789abcdef"[v % base];
    } while ((v /= base) != 0);
    while (nd > 0)
        *p++ = digits[--nd];
    return p;
}

weft_status weft_launch_split_key(weft_launch_job *job)
{
    static const char kinds[] = "shwvl";
    /* Each number takes at most 20 digits and a separator. */
    size_t cap = strlen(job->name) + 3 * 21 + 2 + job->nargs * 21;
    job->split_key = malloc(cap);
    RETURN_IF(!job->split_key, WEFT_ERR_NOMEM, "weft_launch: cannot name the launch");
    /* Which dimension is split, and on what work-groups, changes what a
     * piece owns: a kernel safe split one way may not be the other. */
    char *p = put_text(job->split_key, job->name);
    *p++ = '/';
    p = put_number(p, job->range.dims, 10);
    *p++ = '/';
    p = put_number(p, weft_range_split_dim(&job->range), 10);
    *p++ = '/';
    *p++ = job->range.local[0] != 0 ? '1' : '0';
    *p++ = '/';
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        *p++ = kinds[a->kind <= WEFT_ARG_LOCAL ? a->kind : 0];
        p = put_number(p, a->kind == WEFT_ARG_HALO ? a->halo : 0, 10);
    }
    *p = '\0';
    size_t len = (size_t)(p - job->split_key);
    size_t values_cap = len + 8 * 21 + job->nargs * 21 + 1;
    job->values_key = malloc(values_cap);
    RETURN_IF(!job->values_key, WEFT_ERR_NOMEM, "weft_launch: cannot name the launch");
    const weft_range *r = &job->range;
    const size_t sizes[8] = {r->size[0],  r->size[1],  r->size[2], r->local[0],
                             r->local[1], r->local[2], job->first, job->last};
    memcpy(job->values_key, job->split_key, len);
    p = job->values_key + len;
    for (int i = 0; i < 8; i++) {
        *p++ = i ? ',' : '=';
        p = put_number(p, sizes[i], 10);
    }
    /* A scalar that only flows into stored values cannot move a read or a
     * write: its value is left out, unless an array is passed twice (a
     * stored value could then come back as an index under another name). */
    uint64_t steering =
        weft_program_split_steering(job->program, job->split_key, job->name, job->nargs);
    for (size_t k = 0; k < job->nargs; k++)
        if (job->args[k].kind <= WEFT_ARG_WHOLE && !first_use(job, k)) steering = ~(uint64_t)0;
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        uint64_t bits = 0;
        if (a->kind <= WEFT_ARG_WHOLE)
            bits = a->array->n;
        else if (a->kind == WEFT_ARG_SCALAR && (k >= 64 || (steering >> k & 1)))
            memcpy(&bits, &a->value, weft_dtype_size(a->dtype));
        else if (a->kind == WEFT_ARG_LOCAL)
            bits = a->local_bytes;
        *p++ = ',';
        p = put_number(p, bits, 16);
    }
    *p = '\0';
    return WEFT_OK;
}

weft_split_mode weft_launch_split_mode(const weft_launch_job *job)
{
    unsigned checks = 0;
    if (weft_program_split_verdict(job->program, job->split_key, &checks) == WEFT_SPLIT_WHOLE)
        return WEFT_RUN_DIFFERED;
    if (weft_program_split_verdict(job->program, job->values_key, NULL) == WEFT_SPLIT_SAFE)
        return WEFT_RUN_SPLIT;
    return checks < WEFT_SPLIT_CHECKS ? WEFT_RUN_CHECKED : WEFT_RUN_NEW_VALUES;
}

/* 1 when any argument bound to a has that access (in place: read through
 * one argument, written through another). */
static int array_has(const weft_launch_job *job, const weft_array *a, weft_arg_access access)
{
    for (size_t j = 0; j < job->nargs; j++)
        if (job->args[j].kind <= WEFT_ARG_WHOLE && job->args[j].array == a &&
            job->writes[j] == access)
            return 1;
    return 0;
}

static int array_written(const weft_launch_job *job, const weft_array *a)
{
    return array_has(job, a, WEFT_ACCESS_WRITTEN);
}

unsigned weft_launch_written_arrays(const weft_launch_job *job, int one_device)
{
    unsigned bits = 0;
    for (size_t k = 0, i = 0; k < job->nargs; k++) {
        if (job->args[k].kind > WEFT_ARG_WHOLE) continue;
        if (job->writes[k] == WEFT_ACCESS_WRITTEN ||
            (job->writes[k] == WEFT_ACCESS_WHOLE_MAY_WRITE && one_device))
            bits |= 1u << i;
        i++;
    }
    return bits;
}

static weft_status allocate_copy(const weft_array *a, unsigned char **out)
{
    size_t bytes = a->n * a->elem_size;
    *out = malloc(bytes ? bytes : 1);
    RETURN_IF(!*out, WEFT_ERR_NOMEM,
              "weft_launch: cannot keep a copy of %zu bytes to check a split", bytes);
    return WEFT_OK;
}

/* The array's current contents, taken on the host, into out. */
static weft_status copy_out(weft_array *a, unsigned char *out)
{
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, 0, a->n));
    memcpy(out, a->host, a->n * a->elem_size);
    return WEFT_OK;
}

/* The host holds the array's only current copy again: the inputs as they
 * were before the split ran. */
static weft_status restore(weft_array *a, const unsigned char *saved)
{
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, 0, a->n));
    memcpy(a->host, saved, a->n * a->elem_size);
    return weft_mem_wrote(a, 0, 0, a->n);
}

/* The first element of [begin, end) of a whose current contents differ from
 * saved; end if none. */
static weft_status first_difference(weft_array *a, const unsigned char *saved, size_t begin,
                                    size_t end, size_t *at)
{
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, begin, end));
    size_t e = a->elem_size;
    const unsigned char *now = (const unsigned char *)a->host;
    *at = end;
    if (end > begin && memcmp(now + begin * e, saved + begin * e, (end - begin) * e) == 0)
        return WEFT_OK;
    for (size_t i = begin; i < end; i++)
        if (memcmp(now + i * e, saved + i * e, e) != 0) {
            *at = i;
            break;
        }
    return WEFT_OK;
}

/* ---- Poison: what a copying device holds outside a piece's rows ----
 * A copying device keeps its own copy of each array: what a piece writes
 * there outside its rows is lost, and what it reads there is stale. The
 * comparison with one device cannot see a write that stores the value
 * already there (0 over 0 on a first call with zero data), nor a read of
 * stale rows that hold the current values by chance; launches with those
 * sizes and scalars would then split unchecked on real data. So before the
 * split, every copying device's copy of an array passed by rows holds a
 * poison: another value for each element (launch_poison.h). A piece reading
 * outside its rows reads the poison, which the comparison sees; a write
 * outside them is seen wherever it left no poison. */

/* The elements of argument k's array a piece's device holds current: the
 * rows every argument bound to that array reads (a slice beside a halo of
 * it: the halo's), as the launch makes them current. */
static void array_rows_read(const weft_launch_job *job, size_t k, const weft_piece *piece,
                            size_t *begin, size_t *end)
{
    weft_launch_rows_read(job, k, piece, begin, end);
    for (size_t j = 0; j < job->nargs; j++) {
        if (j == k || job->args[j].kind > WEFT_ARG_WHOLE ||
            job->args[j].array != job->args[k].array)
            continue;
        size_t b, e;
        weft_launch_rows_read(job, j, piece, &b, &e);
        if (b < *begin) *begin = b;
        if (e > *end) *end = e;
    }
}

/* 1 when every argument bound to a passes it by rows: one that goes whole
 * (weft_launch_arg_whole) is made current everywhere, so no poison would
 * stay, and a read-only array's memory the check must never write. */
static int passed_by_rows(const weft_launch_job *job, const weft_array *a)
{
    for (size_t j = 0; j < job->nargs; j++)
        if (job->args[j].kind <= WEFT_ARG_WHOLE && job->args[j].array == a &&
            weft_launch_arg_whole(&job->args[j]))
            return 0;
    return 1;
}

/* Bit d: device d runs a piece and keeps a copy of a of its own. */
static uint64_t copying_devices(const weft_launch_job *job, const weft_array *a)
{
    uint64_t devices = 0;
    for (size_t p = 0; p < job->npieces; p++) {
        size_t d = job->pieces[p].device;
        if (d > 0 && d < 64 && !weft_mem_shares_host(a, d)) devices |= (uint64_t)1 << d;
    }
    return devices;
}

/* Fills every copying device's copy of argument k's array with the poison
 * of its contents (saved); the host holds the only current copy after. */
static weft_status poison_copies(const weft_launch_job *job, size_t k, const unsigned char *saved,
                                 const weft_poison *poison)
{
    weft_array *a = job->args[k].array;
    uint64_t devices = copying_devices(job, a);
    if (!devices || a->n == 0) return WEFT_OK;
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, 0, a->n));
    weft_poison_fill(poison, a->host, saved, a->n);
    RETURN_ON_ERROR(weft_mem_wrote(a, 0, 0, a->n));
    for (size_t d = 1; d < 64; d++)
        if (devices >> d & 1) RETURN_ON_ERROR(weft_mem_make_current(a, d, 0, a->n));
    return restore(a, saved);
}

/* The elements of a row of argument k's array (1 where the range has no
 * rows). */
static size_t row_elements(const weft_launch_job *job, size_t k)
{
    size_t outer = weft_range_outer(&job->range), inner = outer ? job->args[k].array->n / outer : 1;
    return inner ? inner : 1;
}

/* An edge pass: every copying device's copy of argument k's array holds,
 * outside the rows its pieces read, values of the nearest rows they own
 * (weft_poison_edges); the host holds the only current copy after. */
static weft_status edge_copies(const weft_launch_job *job, size_t k, const unsigned char *saved,
                               weft_edge_kind kind)
{
    weft_array *a = job->args[k].array;
    uint64_t devices = copying_devices(job, a);
    if (!devices || a->n == 0) return WEFT_OK;
    weft_edge_range *ranges = malloc(job->npieces * sizeof *ranges);
    RETURN_IF(!ranges, WEFT_ERR_NOMEM, "weft_launch: cannot check the split");
    weft_status st = WEFT_OK;
    size_t inner = row_elements(job, k);
    for (size_t d = 1; d < 64 && st == WEFT_OK; d++) {
        if (!(devices >> d & 1)) continue;
        size_t nranges = 0; /* in row order, as the pieces are */
        for (size_t p = 0; p < job->npieces; p++) {
            const weft_piece *piece = &job->pieces[p];
            if (piece->device != d) continue;
            weft_edge_range *r = &ranges[nranges++];
            array_rows_read(job, k, piece, &r->read_begin, &r->read_end);
            r->own_begin = piece->begin * inner < a->n ? piece->begin * inner : a->n;
            r->own_end = piece->end * inner < a->n ? piece->end * inner : a->n;
        }
        st = weft_mem_make_current(a, 0, 0, a->n);
        if (st != WEFT_OK) break;
        weft_poison_edges(a->host, saved, a->n, a->elem_size, inner, ranges, nranges, kind);
        st = weft_mem_wrote(a, 0, 0, a->n);
        if (st == WEFT_OK) st = weft_mem_make_current(a, d, 0, a->n);
    }
    free(ranges);
    RETURN_ON_ERROR(st);
    return restore(a, saved);
}

/* Elements [begin, end) of a as device dev holds them: the first that is
 * not the poison of saved (a->n if none). */
static weft_status first_unpoisoned(weft_array *a, size_t dev, const unsigned char *saved,
                                    const weft_poison *poison, size_t begin, size_t end, size_t *at)
{
    *at = a->n;
    if (begin >= end) return WEFT_OK;
    RETURN_ON_ERROR(weft_mem_wrote(a, dev, begin, end)); /* as if dev wrote it: fetched */
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, begin, end));
    const unsigned char *now = a->host;
    size_t e = a->elem_size;
    for (size_t i = begin; i < end; i++)
        if (!weft_poison_is(poison, now + i * e, saved + i * e)) {
            *at = i;
            break;
        }
    return WEFT_OK;
}

/* After the split: whether a piece wrote argument k's array outside the
 * rows its device was given (found where no poison is left). The host
 * holds the saved contents again afterwards. */
static weft_status wrote_outside_rows(const weft_launch_job *job, size_t k,
                                      const unsigned char *saved, const weft_poison *poison,
                                      size_t *at, size_t *dev)
{
    weft_array *a = job->args[k].array;
    uint64_t devices = copying_devices(job, a);
    *at = a->n;
    for (size_t d = 1; d < 64 && *at == a->n; d++) {
        if (!(devices >> d & 1)) continue;
        /* The gaps between the rows its pieces read, in order (pieces are
         * in row order). */
        size_t from = 0;
        for (size_t p = 0; p <= job->npieces && *at == a->n; p++) {
            size_t begin = a->n, end = a->n;
            if (p < job->npieces && job->pieces[p].device != d) continue;
            if (p < job->npieces) array_rows_read(job, k, &job->pieces[p], &begin, &end);
            RETURN_ON_ERROR(first_unpoisoned(a, d, saved, poison, from, begin, at));
            if (end > from) from = end;
            *dev = d;
        }
    }
    return restore(a, saved);
}

/* The split gave other bits than one device, wrote an argument passed whole,
 * or wrote outside its rows on a copying device (the note's tail, fmt, says
 * which): kept whole from now on (when the verdict cannot be recorded, the
 * next split launch is checked again). */
static void keep_whole(weft_launch_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void keep_whole(weft_launch_job *job, const char *fmt, ...)
{
    weft_ctx *ctx = job->program->ctx;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    weft_stat_add(ctx, WEFT_STAT_KEPT_WHOLE, 1);
    weft_ctx_note(ctx, "kernel %s runs on one device from now on: split over %zu devices, %s",
                  job->name, job->npieces, why);
    (void)weft_program_set_split_verdict(job->program, job->split_key, WEFT_SPLIT_WHOLE, NULL);
}

/* The split gave one device's bits at these values: launches with them
 * split unchecked; the kernel counts one more checked value set. */
static void checks_agreed(weft_launch_job *job)
{
    unsigned checks = 0;
    if (weft_program_split_verdict(job->program, job->values_key, NULL) == WEFT_SPLIT_SAFE)
        return; /* checked again under WEFT_VERIFY=1: not a new value set */
    if (weft_program_set_split_verdict(job->program, job->values_key, WEFT_SPLIT_SAFE, NULL) ||
        weft_program_set_split_verdict(job->program, job->split_key, WEFT_SPLIT_SAFE, &checks))
        return;
    if (checks == WEFT_SPLIT_CHECKS)
        weft_ctx_note(job->program->ctx,
                      "kernel %s split right at %d sets of sizes and scalar values; launches "
                      "with other values run on one device from now on",
                      job->name, WEFT_SPLIT_CHECKS);
}

/* What argument k's bytes are, if it is a u8 array: numbers where every
 * argument bound to the array takes them as numbers, else records. */
static weft_poison_bytes bytes_of(const weft_launch_job *job, size_t k)
{
    const weft_array *a = job->args[k].array;
    int unsigned_all = 1, signed_all = 1;
    for (size_t j = 0; j < job->nargs; j++) {
        if (job->args[j].kind > WEFT_ARG_WHOLE || job->args[j].array != a) continue;
        unsigned_all &= j < 64 && (job->unsigned_bytes >> j & 1);
        signed_all &= j < 64 && (job->signed_bytes >> j & 1);
    }
    return unsigned_all ? WEFT_BYTES_UNSIGNED : signed_all ? WEFT_BYTES_SIGNED : WEFT_BYTES_RECORDS;
}

/* The split agreed, but an array the kernel reads held data its poison
 * could not put above and below every element (records of bytes, an
 * unsigned array at 0, all-equal keys at the type's least): a comparison
 * read across the split may have come out the same by chance (odd-even
 * sort of sorted records, then shuffled ones: keys lost). These values are
 * not recorded as safe, so the next such launch is checked again, on its
 * data; after WEFT_SPLIT_INCONCLUSIVE such checks the kernel runs whole. */
static void checks_inconclusive(weft_launch_job *job, size_t k)
{
    if (weft_program_split_inconclusive(job->program, job->split_key) < WEFT_SPLIT_INCONCLUSIVE)
        return;
    keep_whole(job,
               "argument %zu held %s in %d checks: a comparison with a value read across the "
               "split could not be told from them",
               k,
               job->args[k].array->dtype == WEFT_U8 && bytes_of(job, k) == WEFT_BYTES_RECORDS
                   ? "records (bytes the kernel takes as another type than char)"
                   : "values its type has no room past (two or more at its least, or its "
                     "largest), or all NaN",
               WEFT_SPLIT_INCONCLUSIVE);
}

/* Under WEFT_VERIFY=1, an array no argument may write (const, or passed
 * whole and only read by subscript) must hold what it held on every device that ran a piece, over
 * the elements that device had current (a piece's rows and halo, or all of a whole argument): each
 * device's copy of them is brought to the host (as if that device had written it) and compared; the
 * array is put back either way. */
static weft_status check_unwritten(const weft_launch_job *job, unsigned char **before)
{
    for (size_t k = 0; k < job->nargs; k++) {
        /* A read-only array's memory is never fetched into: none of its
         * arguments may write it (its launch was refused otherwise). */
        weft_array *a = before[k] && !job->args[k].array->read_only &&
                                !array_written(job, job->args[k].array) &&
                                !array_has(job, job->args[k].array, WEFT_ACCESS_WHOLE_MAY_WRITE)
                            ? job->args[k].array
                            : NULL;
        for (size_t p = 0; a && p < job->npieces; p++) {
            size_t at, dev = job->pieces[p].device, begin, end;
            weft_launch_rows_read(job, k, &job->pieces[p], &begin, &end);
            RETURN_ON_ERROR(weft_mem_wrote(a, dev, begin, end));
            RETURN_ON_ERROR(first_difference(a, before[k], begin, end, &at));
            RETURN_ON_ERROR(restore(a, before[k]));
            RETURN_IF(at < end, WEFT_ERR_INVALID_ARG,
                      "weft_launch: kernel %s wrote argument %zu at element %zu on device %zu, "
                      "which it was given to read only (whole, or const)",
                      job->name, k, at, dev);
        }
    }
    return WEFT_OK;
}

/* The launch as one piece on its first device, over the whole range; what
 * it may write of its whole arguments, it writes there. */
static weft_status run_whole(const weft_launch_job *job, const weft_piece_run *run)
{
    weft_piece whole = {.device = job->pieces[0].device, .begin = job->first, .end = job->last};
    weft_piece_run one = *run;
    one.pieces = &whole;
    one.npieces = 1;
    one.writes = weft_launch_written_arrays(job, 1);
    return weft_pieces_run(&one);
}

/* After the split: whether it changed a whole argument the kernel may
 * write, on any device that ran a piece (each device's copy is brought to
 * the host and compared with before, then put back). *changed: the
 * argument's index, or nargs when none changed. */
static weft_status whole_changed(const weft_launch_job *job, unsigned char **before,
                                 size_t *changed, size_t *at, size_t *dev)
{
    *changed = job->nargs;
    for (size_t k = 0; k < job->nargs && *changed == job->nargs; k++) {
        weft_array *a =
            job->writes[k] == WEFT_ACCESS_WHOLE_MAY_WRITE && before[k] ? job->args[k].array : NULL;
        for (size_t p = 0; a && p < job->npieces && *changed == job->nargs; p++) {
            *dev = job->pieces[p].device;
            RETURN_ON_ERROR(weft_mem_wrote(a, *dev, 0, a->n));
            RETURN_ON_ERROR(first_difference(a, before[k], 0, a->n, at));
            RETURN_ON_ERROR(restore(a, before[k]));
            if (*at < a->n) *changed = k;
        }
    }
    return WEFT_OK;
}

/* 1 when some argument bound to a may be read by the kernel (not only
 * stored into). */
static int array_read(const weft_launch_job *job, const weft_array *a)
{
    for (size_t j = 0; j < job->nargs; j++)
        if (job->args[j].kind <= WEFT_ARG_WHOLE && job->args[j].array == a &&
            !(j < 64 && (job->stored_only >> j & 1)))
            return 1;
    return 0;
}

/* 1 when an argument bound to a passes it with a halo. */
static int array_with_halo(const weft_launch_job *job, const weft_array *a)
{
    for (size_t j = 0; j < job->nargs; j++)
        if (job->args[j].kind == WEFT_ARG_HALO && job->args[j].array == a && job->args[j].halo > 0)
            return 1;
    return 0;
}

/* The passes the split runs in: two ordered ones when an array passed by
 * rows to a copying device holds numbers (weft_poison_passes), else one;
 * then the edge passes (weft_edge_kind), when the kernel reads such an
 * array: WEFT_EDGE_ROWS; WEFT_EDGE_ELEMENTS where a row is more than one
 * element (else it is the same); WEFT_EDGE_HALO_ROWS where it has a halo.
 * kinds[e]: the kind of the e-th edge pass; *edges: how many. */
static int split_passes(const weft_launch_job *job, unsigned char *const *before, int *edges,
                        weft_edge_kind kinds[3])
{
    int passes = 1, elements = 0, halo = 0, read = 0;
    for (size_t k = 0; k < job->nargs; k++) {
        weft_array *a = before[k] ? job->args[k].array : NULL;
        if (!a || !passed_by_rows(job, a) || !copying_devices(job, a)) continue;
        int p = weft_poison_passes(a->dtype, bytes_of(job, k));
        if (p > passes) passes = p;
        if (!array_read(job, a)) continue;
        read = 1;
        elements |= row_elements(job, k) > 1;
        halo |= array_with_halo(job, a);
    }
    *edges = 0;
    if (read) kinds[(*edges)++] = WEFT_EDGE_ROWS;
    if (elements) kinds[(*edges)++] = WEFT_EDGE_ELEMENTS;
    if (halo) kinds[(*edges)++] = WEFT_EDGE_HALO_ROWS;
    return passes + *edges;
}

/* What a split pass found: a whole argument written, or a write outside the
 * rows (the argument's index, nargs if none, with where). */
typedef struct split_findings {
    size_t changed, changed_at, changed_on;
    size_t outside, outside_at, outside_on;
    size_t unordered; /* an array read whose poison could not order (nargs if none) */
} split_findings;

/* One run of the split with each copying device's copy of the arrays passed
 * by rows poisoned for pass (or, edge 1 + a weft_edge_kind, holding values
 * of their pieces' edges), waited for; what it wrote goes to out[k], and
 * the inputs are as before after. */
static weft_status split_pass(weft_launch_job *job, weft_piece_run *run, unsigned char **before,
                              unsigned char **out, int pass, int edge, split_findings *f)
{
    size_t m = job->nargs;
    weft_poison *poison = calloc(m + 1, sizeof *poison);
    RETURN_IF(!poison, WEFT_ERR_NOMEM, "weft_launch: cannot check the split");
    weft_status st = WEFT_OK;
    for (size_t k = 0; k < m; k++) {
        weft_array *a =
            before[k] && passed_by_rows(job, job->args[k].array) ? job->args[k].array : NULL;
        if (!a) continue;
        /* Arrays only stored into keep the last pass's poison: no read sees
         * it, and a write outside the rows the ordered passes saw. */
        if (edge) {
            if (array_read(job, a))
                GOTO_ERROR_ON(edge_copies(job, k, before[k], (weft_edge_kind)(edge - 1)));
            continue;
        }
        poison[k] =
            weft_poison_for(before[k], a->n, a->dtype, a->elem_size, bytes_of(job, k), pass);
        if (!poison[k].strict && copying_devices(job, a) && array_read(job, a) && f->unordered == m)
            f->unordered = k;
        GOTO_ERROR_ON(poison_copies(job, k, before[k], &poison[k]));
    }
    for (size_t i = 0; i < run->npieces; i++) /* a second pass runs them all again */
        run->pieces[i].state = PIECE_PENDING;
    run->wait = 1;
    GOTO_ERROR_ON(weft_pieces_run(run));
    size_t changed, at = 0, on = 0;
    GOTO_ERROR_ON(whole_changed(job, before, &changed, &at, &on));
    if (changed < m && f->changed == m) {
        f->changed = changed;
        f->changed_at = at;
        f->changed_on = on;
    }
    for (size_t k = 0; k < m; k++)
        if (out[k]) GOTO_ERROR_ON(copy_out(job->args[k].array, out[k]));
    for (size_t k = 0; k < m && f->outside == m && !edge; k++) {
        if (!before[k] || !passed_by_rows(job, job->args[k].array)) continue;
        GOTO_ERROR_ON(wrote_outside_rows(job, k, before[k], &poison[k], &at, &on));
        if (at < job->args[k].array->n) {
            f->outside = k;
            f->outside_at = at;
            f->outside_on = on;
        }
    }
    for (size_t k = 0; k < m; k++)
        if (out[k]) GOTO_ERROR_ON(restore(job->args[k].array, before[k]));
error:
    free(poison);
    return st;
}

weft_status weft_launch_checked(weft_launch_job *job, weft_piece_run *run)
{
    weft_ctx *ctx = job->program->ctx;
    size_t m = job->nargs;
    weft_status st = WEFT_OK;
    /* Per argument: before the split, and what each split pass wrote. */
    enum { MAX_PASSES = 5 }; /* two ordered, three edges */
    unsigned char **before = calloc(m + 1, sizeof *before), **split[MAX_PASSES] = {NULL};
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        split[pass] = calloc(m + 1, sizeof *split[pass]);
        GOTO_ERROR_IF(!split[pass], WEFT_ERR_NOMEM, "weft_launch: cannot check the split");
    }
    GOTO_ERROR_IF(!before, WEFT_ERR_NOMEM, "weft_launch: cannot check the split");
    weft_stat_add(ctx, WEFT_STAT_SPLITS_CHECKED, 1);
    /* Every copy is allocated before anything runs: a check that cannot
     * keep them runs the launch whole, unchecked, and the next one tries
     * again; none fails a launch that has written. */
    for (size_t k = 0; k < m && st == WEFT_OK; k++) {
        weft_array *a = first_use(job, k);
        int written = a && array_written(job, a);
        int may_write = a && array_has(job, a, WEFT_ACCESS_WHOLE_MAY_WRITE);
        int poisoned = a && passed_by_rows(job, a) && copying_devices(job, a);
        if (a && (written || may_write || poisoned || ctx->verify_splits))
            st = allocate_copy(a, &before[k]);
    }
    weft_edge_kind kinds[3];
    int edges = 0, passes = st == WEFT_OK ? split_passes(job, before, &edges, kinds) : 1;
    for (size_t k = 0; k < m && st == WEFT_OK; k++)
        for (int pass = 0; pass < passes && st == WEFT_OK; pass++)
            if (before[k] && array_written(job, job->args[k].array))
                st = allocate_copy(job->args[k].array, &split[pass][k]);
    if (st == WEFT_ERR_NOMEM) {
        st = run_whole(job, run);
        goto error;
    }
    GOTO_ERROR_ON(st);
    for (size_t k = 0; k < m; k++)
        if (before[k]) GOTO_ERROR_ON(copy_out(job->args[k].array, before[k]));
    /* 1. The split, waited for, in each pass; what it wrote, kept. */
    split_findings found = {m, 0, 0, m, 0, 0, m};
    for (int pass = 0, ordered = passes - edges; pass < passes; pass++) {
        int edge = pass < ordered ? 0 : 1 + (int)kinds[pass - ordered]; /* 1 + weft_edge_kind */
        /* A write outside the rows already keeps the kernel whole. */
        if (edge && (found.changed < m || found.outside < m)) {
            passes = pass;
            break;
        }
        GOTO_ERROR_ON(split_pass(job, run, before, split[pass], pass, edge, &found));
    }
    size_t changed = found.changed, changed_at = found.changed_at, changed_on = found.changed_on;
    size_t outside = found.outside, outside_at = found.outside_at, outside_on = found.outside_on;
    /* 2. One device over the whole range, from the same inputs. */
    GOTO_ERROR_ON(run_whole(job, run));
    /* 3. The same bits, or the kernel stays whole. */
    weft_split_verdict verdict = WEFT_SPLIT_SAFE;
    if (changed < m) {
        verdict = WEFT_SPLIT_WHOLE;
        keep_whole(job,
                   "it wrote argument %zu, passed whole, at element %zu on device %zu (every "
                   "device would write its own copy of it)",
                   changed, changed_at, changed_on);
    } else if (outside < m) {
        verdict = WEFT_SPLIT_WHOLE;
        keep_whole(job,
                   "it wrote argument %zu at element %zu on device %zu, outside the rows that "
                   "device ran (those writes would be lost in its copy)",
                   outside, outside_at, outside_on);
    }
    for (size_t i = 0; i < (size_t)passes * m && verdict == WEFT_SPLIT_SAFE; i++) {
        size_t at, k = i % m;
        weft_array *a = job->args[k].array;
        const unsigned char *got = split[i / m][k];
        if (!got) continue;
        GOTO_ERROR_ON(first_difference(a, got, 0, a->n, &at));
        if (at < a->n) {
            verdict = WEFT_SPLIT_WHOLE;
            keep_whole(job,
                       "argument %zu differed at element %zu from one device running the whole "
                       "range (it writes outside its rows, or indexes across the split)",
                       k, at);
        }
    }
    /* Not recorded (out of memory): the next such launch is checked again. */
    if (verdict == WEFT_SPLIT_SAFE && found.unordered < m)
        checks_inconclusive(job, found.unordered);
    else if (verdict == WEFT_SPLIT_SAFE)
        checks_agreed(job);
    if (ctx->verify_splits) GOTO_ERROR_ON(check_unwritten(job, before));
error:
    for (size_t k = 0; k < m; k++) {
        if (before) free(before[k]);
        for (int pass = 0; pass < MAX_PASSES; pass++)
            if (split[pass]) free(split[pass][k]);
    }
    free(before);
    for (int pass = 0; pass < MAX_PASSES; pass++)
        free(split[pass]);
    return st;
}
