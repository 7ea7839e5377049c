/* The bytecode interpreter for expressions on the host (the compiler is
 * vm_compile.c). */
#include "vm.h"
#include "vm_code.h"
#include "vm_vecmath.h"
#include "../core/error.h"
#include "../core/simd.h"
#include "../core/stream_store.h"
#include "../core/values.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- conversions, as weft defines them ---- */

void weft_vm_convert_literal(double v, weft_dtype to, int64_t *i, uint64_t *u)
{
    if (v != v) v = 0; /* NaN */
    switch (to) {
    case WEFT_I32:
        *i = v <= -2147483648.0 ? INT32_MIN : v >= 2147483647.0 ? INT32_MAX : (int32_t)v;
        break;
    case WEFT_U32:
        *i = v <= 0 ? 0 : v >= 4294967295.0 ? UINT32_MAX : (uint32_t)v;
        break;
    case WEFT_I64:
        *i = v <= -9223372036854775808.0  ? INT64_MIN
             : v >= 9223372036854775808.0 ? INT64_MAX
                                          : (int64_t)v;
        break;
    case WEFT_U64:
        *u = v <= 0 ? 0 : v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
        *i = (int64_t)*u;
        return;
    default:
        *i = (int64_t)v;
        break;
    }
    *u = (uint64_t)*i;
}

static int64_t sat_i64(double v, weft_dtype to)
{
    int64_t i;
    uint64_t u;
    weft_vm_convert_literal(v, to, &i, &u);
    return i;
}

/* out[k] = EXPR for every element k of a block of n. */
#define CONVERT_LOOP(DST_T, EXPR)                                                                  \
    do {                                                                                           \
        DST_T *out = dst;                                                                          \
        for (size_t k = 0; k < n; k++)                                                             \
            out[k] = EXPR;                                                                         \
    } while (0)

/* Type conversion of a block. Same-type copies and the common widenings get
 * their own loops; the rest go through double or 64-bit integers exactly. */
static void convert_block(void *dst, weft_dtype to, const void *src, weft_dtype from, size_t n)
{
    if (to == from) {
        memcpy(dst, src, n * weft_dtype_size(to));
        return;
    }
    int float_from = weft_dtype_is_float(from);
    switch (to) {
    case WEFT_F32:
        if (from == WEFT_F64)
            CONVERT_LOOP(float, (float)((const double *)src)[k]);
        else if (from == WEFT_I64)
            CONVERT_LOOP(float, (float)((const int64_t *)src)[k]);
        else if (from == WEFT_U64)
            CONVERT_LOOP(float, (float)((const uint64_t *)src)[k]);
        else
            CONVERT_LOOP(float, (float)weft_load_double(src, from, k));
        return;
    case WEFT_F64:
        if (from == WEFT_F32)
            CONVERT_LOOP(double, (double)((const float *)src)[k]);
        else
            CONVERT_LOOP(double, weft_load_double(src, from, k));
        return;
    case WEFT_I32:
        if (float_from)
            CONVERT_LOOP(int32_t, (int32_t)sat_i64(weft_load_double(src, from, k), to));
        else
            CONVERT_LOOP(int32_t, (int32_t)(uint32_t)weft_load_bits(src, from, k));
        return;
    case WEFT_U32:
        if (float_from)
            CONVERT_LOOP(uint32_t, (uint32_t)sat_i64(weft_load_double(src, from, k), to));
        else
            CONVERT_LOOP(uint32_t, (uint32_t)weft_load_bits(src, from, k));
        return;
    case WEFT_I64:
        if (float_from)
            CONVERT_LOOP(int64_t, sat_i64(weft_load_double(src, from, k), to));
        else
            CONVERT_LOOP(int64_t, (int64_t)weft_load_bits(src, from, k));
        return;
    case WEFT_U64:
        if (float_from)
            CONVERT_LOOP(uint64_t, (uint64_t)sat_i64(weft_load_double(src, from, k), to));
        else
            CONVERT_LOOP(uint64_t, weft_load_bits(src, from, k));
        return;
    case WEFT_U8: /* stores: the value was already brought into [0, 255] */
        CONVERT_LOOP(uint8_t, (uint8_t)weft_load_bits(src, from, k));
        return;
    default:
        return;
    }
}

/* ---- per-type instruction bodies ---- */

/* fmin and fmax as weft defines them (codegen_cl.c emits the same): a NaN
 * operand, signalling or quiet, gives the other operand; -0.0 < +0.0. The C
 * library's fmin returns NaN for a signalling NaN and either zero. */
#define FLOAT_MIN_MAX(T, SUFFIX)                                                                   \
    static inline T w_fmin_##SUFFIX(T a, T b)                                                      \
    {                                                                                              \
        return a != a ? b : b != b ? a : (a < b || (a == b && signbit(a))) ? a : b;                \
    }                                                                                              \
    static inline T w_fmax_##SUFFIX(T a, T b)                                                      \
    {                                                                                              \
        return a != a ? b : b != b ? a : (a > b || (a == b && !signbit(a))) ? a : b;               \
    }
FLOAT_MIN_MAX(float, f32)
FLOAT_MIN_MAX(double, f64)

#define T float
#define U uint32_t
#define SUFFIX f32
#define IS_FLOAT 1
#define IS_SIGNED 1
#define BITS 32
#define FN(name) name##f
#include "vm_ops.h"

#define T double
#define U uint64_t
#define SUFFIX f64
#define IS_FLOAT 1
#define IS_SIGNED 1
#define BITS 64
#define FN(name) name
#include "vm_ops.h"

#define T int32_t
#define IS_FLOAT 0
#define U uint32_t
#define SUFFIX i32
#define IS_SIGNED 1
#define BITS 32
#include "vm_ops.h"

#define T uint32_t
#define IS_FLOAT 0
#define U uint32_t
#define SUFFIX u32
#define IS_SIGNED 0
#define BITS 32
#include "vm_ops.h"

#define T int64_t
#define IS_FLOAT 0
#define U uint64_t
#define SUFFIX i64
#define IS_SIGNED 1
#define BITS 64
#include "vm_ops.h"

#define T uint64_t
#define IS_FLOAT 0
#define U uint64_t
#define SUFFIX u64
#define IS_SIGNED 0
#define BITS 64
#include "vm_ops.h"

typedef void (*exec_fn)(const vm_instr *, unsigned char *const *, size_t);
static const exec_fn exec_by_type[WEFT_DTYPE_COUNT] = {exec_f32, exec_f64, exec_i32, exec_u32,
                                                       exec_i64, exec_u64, NULL};

void weft_vm_free(weft_vm_program *vm)
{
    if (!vm) return;
    free(vm->code);
    free(vm->fills);
    free(vm->consts);
    free(vm);
}

weft_dtype weft_vm_result_type(const weft_vm_program *vm)
{
    return vm->result_type;
}

/* ---- interpreter ---- */

typedef struct vm_frame {
    unsigned char *storage;        /* heap, when `local` is too small */
    unsigned char *regs[MAX_REGS]; /* where each register's values are now */
    unsigned char *home[MAX_REGS]; /* its own storage */
    /* Small runs (the common case for tiny arrays) keep registers on the
     * stack: no allocation per call. */
    _Alignas(64) unsigned char local[16384];
} vm_frame;

/* Register `into` <- the constant or scalar of a VM_FILL, in `width` lanes. */
static void fill_register(const weft_vm_program *vm, const weft_vm_env *env, const vm_instr *in,
                          unsigned char *into, size_t width)
{
    unsigned char one[8];
    weft_dtype from;
    if (in->from == NO_SCALAR) {
        const vm_const *k = &vm->consts[in->aux];
        from = (weft_dtype)in->type;
        switch (from) {
        case WEFT_F32:
            *(float *)one = (float)k->f;
            break;
        case WEFT_F64:
            memcpy(one, &k->f, 8);
            break;
        case WEFT_I32:
        case WEFT_U32:
            *(uint32_t *)one = (uint32_t)k->u;
            break;
        default:
            memcpy(one, &k->u, 8);
            break;
        }
    } else {
        from = (weft_dtype)in->from;
        memcpy(one, env->scalars[in->aux], weft_dtype_size(from));
    }
    unsigned char value[8];
    if (in->type == WEFT_F32 && (from == WEFT_I64 || from == WEFT_U64)) {
        int64_t i;
        memcpy(&i, one, 8);
        float f = from == WEFT_I64 ? weft_i64_to_f32(i) : weft_u64_to_f32((uint64_t)i);
        memcpy(value, &f, 4);
    } else {
        convert_block(value, (weft_dtype)in->type, one, from, 1);
    }
    if (weft_dtype_size((weft_dtype)in->type) == 4) {
        uint32_t v, *d = (uint32_t *)into;
        memcpy(&v, value, 4);
        for (size_t k = 0; k < width; k++)
            d[k] = v;
    } else {
        uint64_t v, *d = (uint64_t *)into;
        memcpy(&v, value, 8);
        for (size_t k = 0; k < width; k++)
            d[k] = v;
    }
}

static size_t block_of(const weft_vm_env *env)
{
    return env->stream ? WEFT_VM_STREAM_BLOCK : WEFT_VM_BLOCK;
}

/* Registers hold min(span, the block) elements of 8 bytes. */
static int frame_open(const weft_vm_program *vm, const weft_vm_env *env, vm_frame *f, size_t span)
{
    size_t width = span < block_of(env) ? span : block_of(env);
    size_t stride = (width * 8 + 63) / 64 * 64;
    size_t bytes = (size_t)(vm->nregs ? vm->nregs : 1) * stride;
    f->storage = NULL;
    unsigned char *base = f->local;
    if (bytes > sizeof f->local) {
        base = f->storage = aligned_alloc(64, bytes);
        if (!f->storage) return 0;
    }
    for (int r = 0; r < vm->nregs; r++)
        f->regs[r] = f->home[r] = base + (size_t)r * stride;
    for (size_t i = 0; i < vm->nfills; i++)
        fill_register(vm, env, &vm->fills[i], f->regs[vm->fills[i].dst], width);
    return 1;
}

/* With env->alias_ok (no array is bound twice with one binding written),
 * read-only inputs are read in place and outputs written in place, unless
 * they stream: then the store writes them from the register. */
static void point_direct_outputs(const weft_vm_program *vm, const weft_vm_env *env, vm_frame *f,
                                 size_t first)
{
    const weft_expr *e = vm->expr;
    for (size_t i = 0; i < vm->ncode; i++) {
        const vm_instr *in = &vm->code[i];
        if (in->code != VM_STORE || !(in->flags & VM_DIRECT)) continue;
        weft_dtype to = e->bindings[in->aux].dtype;
        f->regs[in->a] = env->alias_ok && !env->stream
                             ? (unsigned char *)env->arrays[in->aux] + first * weft_dtype_size(to)
                             : f->home[in->a];
    }
}

static void run_block(const weft_vm_program *vm, const weft_vm_env *env, vm_frame *f, size_t first,
                      size_t n)
{
    const weft_expr *e = vm->expr;
    /* Aliased loads of the last block must not leak: registers start home. */
    memcpy(f->regs, f->home, (size_t)vm->nregs * sizeof f->regs[0]);
    point_direct_outputs(vm, env, f, first);
    for (size_t i = 0; i < vm->ncode; i++) {
        const vm_instr *in = &vm->code[i];
        switch (in->code) {
        case VM_LOAD: {
            weft_dtype from = (weft_dtype)in->from;
            unsigned char *src =
                (unsigned char *)env->arrays[in->aux] + first * weft_dtype_size(from);
            if ((in->flags & VM_ALIASABLE) && env->alias_ok) {
                f->regs[in->dst] = src;
                break;
            }
            f->regs[in->dst] = f->home[in->dst];
            convert_block(f->regs[in->dst], (weft_dtype)in->type, src, from, n);
            break;
        }
        case VM_FILL: /* a constant beyond the pinned ones */
            fill_register(vm, env, in, f->regs[in->dst], n);
            break;
        case VM_INDEX: {
            int64_t *d = (int64_t *)f->regs[in->dst];
            for (size_t k = 0; k < n; k++)
                d[k] = (int64_t)(first + k);
            break;
        }
        case VM_CONVERT:
            convert_block(f->regs[in->dst], (weft_dtype)in->type, f->regs[in->a],
                          (weft_dtype)in->from, n);
            break;
        case VM_LOGIC: {
            int32_t *d = (int32_t *)f->regs[in->dst];
            const int32_t *a = (const int32_t *)f->regs[in->a],
                          *b = (const int32_t *)f->regs[in->b];
            if (in->aux == OP_AND)
                for (size_t k = 0; k < n; k++)
                    d[k] = a[k] & b[k];
            else
                for (size_t k = 0; k < n; k++)
                    d[k] = a[k] | b[k];
            break;
        }
        case VM_STORE: {
            if ((in->flags & VM_DIRECT) && env->alias_ok && !env->stream) break; /* written */
            weft_dtype to = e->bindings[in->aux].dtype;
            unsigned char *dst =
                (unsigned char *)env->arrays[in->aux] + first * weft_dtype_size(to);
            if (env->stream && to == (weft_dtype)in->type)
                weft_stream_copy(dst, f->regs[in->a], n * weft_dtype_size(to));
            else
                convert_block(dst, to, f->regs[in->a], (weft_dtype)in->type, n);
            break;
        }
        case VM_SELECT:
            exec_by_type[in->type](in, f->regs, n);
            break;
        default:
            exec_by_type[in->type](in, f->regs, n);
            break;
        }
    }
}

weft_status weft_vm_run(const weft_vm_program *vm, const weft_vm_env *env, size_t begin, size_t end)
{
    vm_frame f;
    RETURN_IF(!frame_open(vm, env, &f, end - begin), WEFT_ERR_NOMEM,
              "cannot allocate expression registers");
    size_t block = block_of(env);
    for (size_t first = begin; first < end; first += block)
        run_block(vm, env, &f, first, end - first < block ? end - first : block);
    if (env->stream) weft_stream_fence(); /* before the pool reports the chunk done */
    free(f.storage);
    return WEFT_OK;
}

weft_status weft_vm_reduce(const weft_vm_program *vm, const weft_vm_env *env, size_t begin,
                           size_t end, weft_vm_fold fold, void *state)
{
    vm_frame f;
    RETURN_IF(!frame_open(vm, env, &f, end - begin), WEFT_ERR_NOMEM,
              "cannot allocate expression registers");
    size_t block = block_of(env);
    for (size_t first = begin; first < end; first += block) {
        size_t n = end - first < block ? end - first : block;
        run_block(vm, env, &f, first, n);
        fold(state, f.regs[vm->result_reg], vm->result_type, first, n);
    }
    free(f.storage);
    return WEFT_OK;
}
