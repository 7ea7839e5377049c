/* Bytecode compiler and interpreter for expressions on the host. */
#include "vm.h"
#include "../error.h"
#include "../simd.h"
#include "../values.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum vm_opcode {
    VM_LOAD,    /* dst <- array binding aux, converted from `from` */
    VM_FILL,    /* dst <- constant aux, or scalar binding aux (from != 0xff) */
    VM_INDEX,   /* dst <- global element index */
    VM_CONVERT, /* dst (type) <- a (from) */
    VM_UNARY,
    VM_TRUTH,
    VM_COMPARE, /* type is the operands' type; dst is i32 */
    VM_LOGIC,   /* i32 truth values: aux OP_AND / OP_OR */
    VM_SELECT,
    VM_BINARY,
    VM_CALL,
    VM_MULADD, /* floats: dst <- (a * b) + c, or (a * b) - c with aux OP_SUB: two roundings */
    VM_STORE   /* array binding aux <- a (type), converted to the array's dtype */
};

typedef struct vm_instr {
    uint8_t code, type, from, dst, a, b, c;
    uint8_t flags;
    int32_t aux;
} vm_instr;

/* LOAD of a read-only array into a register nothing else uses: the register
 * may point at the array itself instead of holding a copy. */
#define VM_ALIASABLE 1
/* STORE whose value register (b) nothing else uses: the computing instruction
 * may write the output array directly and the store is skipped. */
#define VM_DIRECT 2

enum { MAX_REGS = 250, NO_SCALAR = 0xff };

typedef union vm_const {
    double f;
    int64_t i;
    uint64_t u;
} vm_const;

struct weft_vm_program {
    vm_instr *code; /* per block */
    size_t ncode;
    vm_instr *fills; /* once per run: constants and scalars */
    size_t nfills;
    vm_const *consts;
    size_t nconsts;
    int nregs;
    int result_reg;
    weft_dtype result_type;
    const weft_expr *expr;
};

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

#define T float
#define U uint32_t
#define SUFFIX f32
#define IS_FLOAT 1
#define IS_SIGNED 1
#define BITS 32
#define FN(name) name##f
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_FLOAT
#undef IS_SIGNED
#undef BITS
#undef FN

#define T double
#define U uint64_t
#define SUFFIX f64
#define IS_FLOAT 1
#define IS_SIGNED 1
#define BITS 64
#define FN(name) name
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_FLOAT
#undef IS_SIGNED
#undef BITS
#undef FN

#define IS_FLOAT 0
#define T int32_t
#define U uint32_t
#define SUFFIX i32
#define IS_SIGNED 1
#define BITS 32
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_SIGNED
#undef BITS

#define T uint32_t
#define U uint32_t
#define SUFFIX u32
#define IS_SIGNED 0
#define BITS 32
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_SIGNED
#undef BITS

#define T int64_t
#define U uint64_t
#define SUFFIX i64
#define IS_SIGNED 1
#define BITS 64
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_SIGNED
#undef BITS

#define T uint64_t
#define U uint64_t
#define SUFFIX u64
#define IS_SIGNED 0
#define BITS 64
#include "vm_ops.h"
#undef T
#undef U
#undef SUFFIX
#undef IS_SIGNED
#undef BITS
#undef IS_FLOAT

typedef void (*exec_fn)(const vm_instr *, unsigned char *const *, size_t);
static const exec_fn exec_by_type[WEFT_DTYPE_COUNT] = {exec_f32, exec_f64, exec_i32, exec_u32,
                                                       exec_i64, exec_u64, NULL};

/* ---- compiler ---- */

typedef struct compiler {
    weft_vm_program *vm;
    const weft_expr *e;
    unsigned char used[MAX_REGS];
    unsigned char pinned[MAX_REGS];
    int *statement_reg;
    int *const_reg;      /* per node of the arena: its pre-filled register, or -1 */
    int in_place_target; /* binding the statement being compiled writes last, or -1 */
    size_t code_capacity, fill_capacity, const_capacity;
    weft_status status;
} compiler;

static int new_reg(compiler *c)
{
    for (int r = 0; r < MAX_REGS; r++)
        if (!c->used[r]) {
            c->used[r] = 1;
            if (r + 1 > c->vm->nregs) c->vm->nregs = r + 1;
            return r;
        }
    c->status =
        weft_error_set(WEFT_ERR_EXPR, "expression too complex: more than %d live values", MAX_REGS);
    return -1;
}

/* A register no instruction has used yet: for values that live in the output
 * array itself, where an earlier temporary must never have been written. */
static int fresh_reg(compiler *c)
{
    int r = c->vm->nregs; /* callers check r < MAX_REGS */
    c->used[r] = 1;
    c->vm->nregs = r + 1;
    return r;
}

static void release(compiler *c, int r)
{
    if (r >= 0 && !c->pinned[r]) c->used[r] = 0;
}

static int grow(void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity) return 1;
    size_t cap = *capacity ? *capacity * 2 : 32;
    void *grown = realloc(*items, cap * size);
    if (!grown) return 0;
    *items = grown;
    *capacity = cap;
    return 1;
}

static void emit(compiler *c, vm_instr in, int fill)
{
    weft_vm_program *vm = c->vm;
    int ok = fill ? grow((void **)&vm->fills, &c->fill_capacity, vm->nfills, sizeof in)
                  : grow((void **)&vm->code, &c->code_capacity, vm->ncode, sizeof in);
    if (!ok) {
        c->status = weft_error_set(WEFT_ERR_NOMEM, "cannot grow the bytecode");
        return;
    }
    if (fill)
        vm->fills[vm->nfills++] = in;
    else
        vm->code[vm->ncode++] = in;
}

static int compile_node(compiler *c, const weft_node *n);

/* Constants and scalars get registers of their own, filled once per run,
 * before any per-block value is placed: a block value must never land in a
 * register a constant lives in. */
static void assign_constants(compiler *c, const weft_node *n)
{
    if (c->status != WEFT_OK) return;
    weft_vm_program *vm = c->vm;
    size_t index = (size_t)(n - c->e->nodes);
    if (n->kind == NODE_LITERAL || n->kind == NODE_SCALAR) {
        if (c->const_reg[index] >= 0) return;
        int d = new_reg(c);
        if (d < 0) return;
        c->pinned[d] = 1;
        c->const_reg[index] = d;
        if (n->kind == NODE_SCALAR) {
            emit(c,
                 (vm_instr){.code = VM_FILL,
                            .type = (uint8_t)n->type,
                            .from = (uint8_t)c->e->bindings[n->slot].dtype,
                            .dst = (uint8_t)d,
                            .aux = n->slot},
                 1);
            return;
        }
        if (!grow((void **)&vm->consts, &c->const_capacity, vm->nconsts, sizeof(vm_const))) {
            c->status = weft_error_set(WEFT_ERR_NOMEM, "cannot grow the constants");
            return;
        }
        vm_const k;
        if (weft_dtype_is_float(n->type))
            k.f = n->lit.f;
        else
            k.i = n->lit.i;
        vm->consts[vm->nconsts] = k;
        emit(c,
             (vm_instr){.code = VM_FILL,
                        .type = (uint8_t)n->type,
                        .from = NO_SCALAR,
                        .dst = (uint8_t)d,
                        .aux = (int32_t)vm->nconsts++},
             1);
        return;
    }
    for (int k = 0; k < n->nkids; k++)
        assign_constants(c, n->kid[k]);
}

/* A truth value (i32 0/1) of any node. */
static int truth_of(compiler *c, const weft_node *n, int negate)
{
    int a = compile_node(c, n);
    if (a < 0) return -1;
    int d = new_reg(c);
    if (d < 0) return -1;
    emit(c,
         (vm_instr){.code = VM_TRUTH,
                    .type = (uint8_t)n->type,
                    .dst = (uint8_t)d,
                    .a = (uint8_t)a,
                    .aux = negate},
         0);
    release(c, a);
    return d;
}

static int compile_node(compiler *c, const weft_node *n)
{
    if (c->status != WEFT_OK) return -1;
    vm_instr in = {.type = (uint8_t)n->type, .aux = n->op};
    switch (n->kind) {
    case NODE_TEMP:
        return c->statement_reg[n->slot];
    case NODE_LITERAL:
    case NODE_SCALAR:
        return c->const_reg[n - c->e->nodes];
    case NODE_ARRAY:
    case NODE_INDEX: {
        int d = new_reg(c);
        if (d < 0) return -1;
        in.code = n->kind == NODE_ARRAY ? VM_LOAD : VM_INDEX;
        in.from = n->kind == NODE_ARRAY ? (uint8_t)c->e->bindings[n->slot].dtype : 0;
        in.dst = (uint8_t)d;
        in.aux = n->slot;
        /* Read in place: arrays nothing writes, and the array the current
         * statement writes for the last time (its tree is consumed by the
         * statement's root, which writes element i only after reading it). */
        int read_only = !c->e->writes[n->slot] || n->slot == c->in_place_target;
        if (n->kind == NODE_ARRAY && read_only && in.from == in.type) {
            in.flags = VM_ALIASABLE;
            c->pinned[d] = 1; /* never reused: it may point into the input */
        }
        emit(c, in, 0);
        return d;
    }
    default:
        break;
    }
    int k[3] = {-1, -1, -1};
    if ((n->kind == NODE_BINARY && (n->op == OP_AND || n->op == OP_OR))) {
        k[0] = truth_of(c, n->kid[0], 0);
        k[1] = truth_of(c, n->kid[1], 0);
        in.code = VM_LOGIC;
    } else if (n->kind == NODE_UNARY && n->op == OP_NOT) {
        return truth_of(c, n->kid[0], 1);
    } else if (n->kind == NODE_BINARY && (n->op == OP_ADD || n->op == OP_SUB) &&
               weft_dtype_is_float(n->type) && n->kid[0]->kind == NODE_BINARY &&
               n->kid[0]->op == OP_MUL) {
        /* x*y + z in one pass over the block, still rounded twice (no fma):
         * the multiply's result never makes a trip through a register. */
        k[0] = compile_node(c, n->kid[0]->kid[0]);
        k[1] = compile_node(c, n->kid[0]->kid[1]);
        k[2] = compile_node(c, n->kid[1]);
        in.code = VM_MULADD;
    } else if (n->kind == NODE_SELECT) {
        k[0] = n->kid[0]->type == WEFT_I32 ? compile_node(c, n->kid[0]) : truth_of(c, n->kid[0], 0);
        k[1] = compile_node(c, n->kid[1]);
        k[2] = compile_node(c, n->kid[2]);
        in.code = VM_SELECT;
    } else {
        for (int i = 0; i < n->nkids; i++)
            k[i] = compile_node(c, n->kid[i]);
        if (n->kind == NODE_CONVERT) {
            in.code = VM_CONVERT;
            in.from = (uint8_t)n->kid[0]->type;
        } else if (n->kind == NODE_UNARY) {
            in.code = VM_UNARY;
        } else if (n->kind == NODE_CALL) {
            in.code = VM_CALL;
        } else if (n->op >= OP_LT && n->op <= OP_NE) {
            in.code = VM_COMPARE;
            in.type = (uint8_t)n->kid[0]->type;
        } else {
            in.code = VM_BINARY;
        }
    }
    if (c->status != WEFT_OK) return -1;
    int d = new_reg(c);
    if (d < 0) return -1;
    in.dst = (uint8_t)d;
    in.a = (uint8_t)(k[0] < 0 ? 0 : k[0]);
    in.b = (uint8_t)(k[1] < 0 ? in.a : k[1]);
    in.c = (uint8_t)(k[2] < 0 ? in.a : k[2]);
    emit(c, in, 0);
    for (int i = 0; i < 3; i++)
        release(c, k[i]);
    return d;
}

weft_status weft_vm_compile(weft_expr *e, weft_vm_program **out)
{
    compiler c = {.e = e, .status = WEFT_OK, .in_place_target = -1};
    c.vm = calloc(1, sizeof *c.vm);
    c.statement_reg = calloc(e->nstatements + 1, sizeof *c.statement_reg);
    if (!c.vm || !c.statement_reg) {
        free(c.vm);
        free(c.statement_reg);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate bytecode");
    }
    c.vm->expr = e;
    c.vm->result_reg = -1;
    c.const_reg = malloc((e->nnodes + 1) * sizeof *c.const_reg);
    if (!c.const_reg) c.status = weft_error_set(WEFT_ERR_NOMEM, "cannot allocate bytecode");
    for (size_t i = 0; i < e->nnodes && c.const_reg; i++)
        c.const_reg[i] = -1;
    for (size_t s = 0; s < e->nstatements; s++)
        assign_constants(&c, e->statements[s].value);
    if (e->result) assign_constants(&c, e->result);
    unsigned char *direct = calloc(e->nstatements + 1, 1);
    if (!direct) c.status = weft_error_set(WEFT_ERR_NOMEM, "cannot allocate bytecode");
    for (size_t s = 0; s < e->nstatements && c.status == WEFT_OK; s++) {
        size_t before = c.vm->ncode;
        int target = e->statements[s].target;
        int last = target >= 0;
        for (size_t later = s + 1; later < e->nstatements && last; later++)
            last = e->statements[later].target != target;
        c.in_place_target = last ? target : -1;
        int r = compile_node(&c, e->statements[s].value);
        c.in_place_target = -1;
        if (r < 0) break;
        /* The last store of an output whose value is computed right here in
         * the output's dtype can write the output in place (vm_direct). */
        vm_instr *root = c.vm->ncode > before ? &c.vm->code[c.vm->ncode - 1] : NULL;
        if (last && root && root->dst == r && !c.pinned[r] && root->code != VM_LOAD &&
            e->statements[s].value->type == e->bindings[target].dtype && c.vm->nregs < MAX_REGS) {
            int d = fresh_reg(&c);
            root->dst = (uint8_t)d;
            release(&c, r);
            r = d;
            direct[s] = 1;
        }
        c.pinned[r] = 1; /* later statements may read it; outputs store at the end */
        c.statement_reg[s] = r;
    }
    if (e->result && c.status == WEFT_OK) {
        c.vm->result_reg = compile_node(&c, e->result);
        c.vm->result_type = e->result->type;
    }
    /* Stores come last, so every load of a block precedes every store:
     * outputs may alias inputs. The last assignment to an array wins. */
    for (size_t s = 0; s < e->nstatements && c.status == WEFT_OK; s++) {
        int target = e->statements[s].target;
        if (target < 0) continue;
        int last = 1;
        for (size_t later = s + 1; later < e->nstatements; later++)
            if (e->statements[later].target == target) last = 0;
        if (last)
            emit(&c,
                 (vm_instr){.code = VM_STORE,
                            .type = (uint8_t)e->statements[s].value->type,
                            .a = (uint8_t)c.statement_reg[s],
                            .flags = direct[s] ? VM_DIRECT : 0,
                            .aux = target},
                 0);
    }
    free(direct);
    free(c.statement_reg);
    free(c.const_reg);
    if (c.status != WEFT_OK) {
        weft_vm_free(c.vm);
        return c.status;
    }
    *out = c.vm;
    return WEFT_OK;
}

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

/* Registers hold min(span, WEFT_VM_BLOCK) elements of 8 bytes. */
static int frame_open(const weft_vm_program *vm, const weft_vm_env *env, vm_frame *f, size_t span)
{
    size_t width = span < WEFT_VM_BLOCK ? span : WEFT_VM_BLOCK;
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
    for (size_t i = 0; i < vm->nfills; i++) {
        const vm_instr *in = &vm->fills[i];
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
        convert_block(value, (weft_dtype)in->type, one, from, 1);
        if (weft_dtype_size((weft_dtype)in->type) == 4) {
            uint32_t v, *d = (uint32_t *)f->regs[in->dst];
            memcpy(&v, value, 4);
            for (size_t k = 0; k < width; k++)
                d[k] = v;
        } else {
            uint64_t v, *d = (uint64_t *)f->regs[in->dst];
            memcpy(&v, value, 8);
            for (size_t k = 0; k < width; k++)
                d[k] = v;
        }
    }
    return 1;
}

/* With env->alias_ok (no array is bound twice with one binding written),
 * read-only inputs are read in place and outputs written in place. */
static void point_direct_outputs(const weft_vm_program *vm, const weft_vm_env *env, vm_frame *f,
                                 size_t first)
{
    const weft_expr *e = vm->expr;
    for (size_t i = 0; i < vm->ncode; i++) {
        const vm_instr *in = &vm->code[i];
        if (in->code != VM_STORE || !(in->flags & VM_DIRECT)) continue;
        weft_dtype to = e->bindings[in->aux].dtype;
        f->regs[in->a] = env->alias_ok
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
            if ((in->flags & VM_DIRECT) && env->alias_ok) break; /* already written in place */
            weft_dtype to = e->bindings[in->aux].dtype;
            unsigned char *dst =
                (unsigned char *)env->arrays[in->aux] + first * weft_dtype_size(to);
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
    for (size_t first = begin; first < end; first += WEFT_VM_BLOCK)
        run_block(vm, env, &f, first, end - first < WEFT_VM_BLOCK ? end - first : WEFT_VM_BLOCK);
    free(f.storage);
    return WEFT_OK;
}

weft_status weft_vm_reduce(const weft_vm_program *vm, const weft_vm_env *env, size_t begin,
                           size_t end, weft_vm_fold fold, void *state)
{
    vm_frame f;
    RETURN_IF(!frame_open(vm, env, &f, end - begin), WEFT_ERR_NOMEM,
              "cannot allocate expression registers");
    for (size_t first = begin; first < end; first += WEFT_VM_BLOCK) {
        size_t n = end - first < WEFT_VM_BLOCK ? end - first : WEFT_VM_BLOCK;
        run_block(vm, env, &f, first, n);
        fold(state, f.regs[vm->result_reg], vm->result_type, first, n);
    }
    free(f.storage);
    return WEFT_OK;
}
