/* Compiles a type-checked expression to the host VM's bytecode: register
 * allocation with reuse (values freed after their last reader, the operand
 * needing more registers evaluated first), constants filled once per run,
 * loads read in place where nothing can change the array under them. */
#include "../core/error.h"
#include "vm_code.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Constants and scalars that get a register of their own, filled once per
 * run; the others are filled per block where they are used, so programs with
 * many distinct constants still fit the register file. */
enum { PINNED_CONSTANTS = 64 };

typedef struct pinned_constant {
    int is_scalar, slot;
    uint8_t type;
    uint64_t bits;
    int reg;
} pinned_constant;

typedef struct compiler {
    weft_vm_program *vm;
    const weft_expr *e;
    unsigned char used[MAX_REGS];
    unsigned char pinned[MAX_REGS];
    int *statement_reg;
    int *const_reg;      /* per node of the arena: its pre-filled register, or -1 */
    int *need;           /* per node: registers its evaluation needs, or -1 until known */
    int *alias_reg;      /* per binding: the register a read-in-place load left, or -1 */
    int in_place_target; /* binding the statement being compiled writes last, or -1 */
    int column;          /* of the node being compiled, for errors */
    pinned_constant constants[PINNED_CONSTANTS];
    int nconstants;
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
    c->status = weft_expr_fail_at(
        c->e, c->column, "expression too complex: more than %d values live at once", MAX_REGS);
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

static uint64_t literal_bits(const weft_node *n)
{
    uint64_t bits;
    if (weft_dtype_is_float(n->type))
        memcpy(&bits, &n->lit.f, sizeof bits);
    else
        bits = (uint64_t)n->lit.i;
    return bits;
}

/* The fill of a literal or scalar node into register d (the literal's value
 * joins the constant table). */
static vm_instr fill_of(compiler *c, const weft_node *n, int d)
{
    vm_instr in = {.code = VM_FILL, .type = (uint8_t)n->type, .dst = (uint8_t)d};
    if (n->kind == NODE_SCALAR) {
        in.from = (uint8_t)c->e->bindings[n->slot].dtype;
        in.aux = n->slot;
        return in;
    }
    weft_vm_program *vm = c->vm;
    if (!grow((void **)&vm->consts, &c->const_capacity, vm->nconsts, sizeof(vm_const))) {
        c->status = weft_error_set(WEFT_ERR_NOMEM, "cannot grow the constants");
        return in;
    }
    vm_const k;
    if (weft_dtype_is_float(n->type))
        k.f = n->lit.f;
    else
        k.i = n->lit.i;
    vm->consts[vm->nconsts] = k;
    in.from = NO_SCALAR;
    in.aux = (int32_t)vm->nconsts++;
    return in;
}

/* The first PINNED_CONSTANTS distinct constants and scalars get registers of
 * their own, filled once per run, before any per-block value is placed: a
 * block value must never land in a register a constant lives in. */
static void assign_constants(compiler *c, const weft_node *n)
{
    if (c->status != WEFT_OK) return;
    size_t index = (size_t)(n - c->e->nodes);
    if (n->kind == NODE_LITERAL || n->kind == NODE_SCALAR) {
        pinned_constant key = {.is_scalar = n->kind == NODE_SCALAR,
                               .slot = n->kind == NODE_SCALAR ? n->slot : 0,
                               .type = (uint8_t)n->type,
                               .bits = n->kind == NODE_LITERAL ? literal_bits(n) : 0};
        for (int k = 0; k < c->nconstants; k++) {
            const pinned_constant *p = &c->constants[k];
            if (p->is_scalar == key.is_scalar && p->slot == key.slot && p->type == key.type &&
                p->bits == key.bits) {
                c->const_reg[index] = p->reg;
                return;
            }
        }
        if (c->nconstants == PINNED_CONSTANTS) return; /* filled where used */
        c->column = n->column;
        int d = new_reg(c);
        if (d < 0) return;
        c->pinned[d] = 1;
        c->const_reg[index] = d;
        key.reg = d;
        c->constants[c->nconstants++] = key;
        emit(c, fill_of(c, n, d), 1);
        return;
    }
    for (int k = 0; k < n->nkids; k++)
        assign_constants(c, n->kid[k]);
}

/* Registers evaluating n needs at its peak when the operand needing most is
 * evaluated first (Sethi-Ullman): evaluation order is free, nothing in the
 * language has side effects, and a chain like a+(a+(a+...)) then needs two
 * registers instead of one per term. */
static int need_of(compiler *c, const weft_node *n)
{
    size_t index = (size_t)(n - c->e->nodes);
    if (c->need[index] >= 0) return c->need[index];
    int need = 1;
    if (n->kind == NODE_TEMP ||
        ((n->kind == NODE_LITERAL || n->kind == NODE_SCALAR) && c->const_reg[index] >= 0)) {
        need = 0;
    } else if (n->nkids > 0) {
        int k[3] = {0, 0, 0};
        for (int i = 0; i < n->nkids; i++)
            k[i] = need_of(c, n->kid[i]);
        for (int i = 0; i < 2; i++) /* sort three, descending */
            for (int j = 0; j < 2 - i; j++)
                if (k[j] < k[j + 1]) {
                    int t = k[j];
                    k[j] = k[j + 1];
                    k[j + 1] = t;
                }
        need = k[0];
        if (k[1] + 1 > need) need = k[1] + 1;
        if (k[2] + 2 > need) need = k[2] + 2;
        if (need < 1) need = 1;
    }
    c->need[index] = need;
    return need;
}

/* A truth value (i32 0/1) of any node. */
static int truth_of(compiler *c, const weft_node *n, int negate)
{
    int a = compile_node(c, n);
    if (a < 0) return -1;
    c->column = n->column;
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

/* Evaluates operands into k[], the one needing most registers first. */
static void compile_operands(compiler *c, const weft_node *const *sub, const int *truth, int count,
                             int *k)
{
    int order[3] = {0, 1, 2};
    int need[3] = {0, 0, 0};
    for (int i = 0; i < count; i++)
        need[i] = need_of(c, sub[i]) + (truth[i] ? 1 : 0);
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (need[order[j]] > need[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int i = 0; i < count && c->status == WEFT_OK; i++) {
        int s = order[i];
        k[s] = truth[s] ? truth_of(c, sub[s], 0) : compile_node(c, sub[s]);
    }
}

static int compile_leaf(compiler *c, const weft_node *n)
{
    size_t index = (size_t)(n - c->e->nodes);
    vm_instr in = {.type = (uint8_t)n->type, .aux = n->op};
    if (n->kind == NODE_TEMP) return c->statement_reg[n->slot];
    if (n->kind == NODE_LITERAL || n->kind == NODE_SCALAR) {
        if (c->const_reg[index] >= 0) return c->const_reg[index];
        int d = new_reg(c);
        if (d >= 0) emit(c, fill_of(c, n, d), 0);
        return d;
    }
    /* Read in place: arrays nothing writes, and the array the current
     * statement writes for the last time (its tree is consumed by the
     * statement's root, which writes element i only after reading it). */
    int read_only = n->kind == NODE_ARRAY &&
                    (!c->e->writes[n->slot] || n->slot == c->in_place_target) &&
                    (weft_dtype)n->type == c->e->bindings[n->slot].dtype;
    if (read_only && c->alias_reg[n->slot] >= 0) return c->alias_reg[n->slot];
    int d = new_reg(c);
    if (d < 0) return -1;
    in.code = n->kind == NODE_ARRAY ? VM_LOAD : VM_INDEX;
    in.from = n->kind == NODE_ARRAY ? (uint8_t)c->e->bindings[n->slot].dtype : 0;
    in.dst = (uint8_t)d;
    in.aux = n->slot;
    if (read_only) {
        in.flags = VM_ALIASABLE;
        c->pinned[d] = 1; /* never reused: it may point into the input */
        c->alias_reg[n->slot] = d;
    }
    emit(c, in, 0);
    return d;
}

static int compile_node(compiler *c, const weft_node *n)
{
    if (c->status != WEFT_OK) return -1;
    c->column = n->column;
    if (n->nkids == 0) return compile_leaf(c, n);
    vm_instr in = {.type = (uint8_t)n->type, .aux = n->op};
    int k[3] = {-1, -1, -1};
    const weft_node *sub[3] = {n->kid[0], n->kid[1], n->kid[2]};
    int truth[3] = {0, 0, 0};
    int count = n->nkids;
    if ((n->kind == NODE_BINARY && (n->op == OP_AND || n->op == OP_OR))) {
        truth[0] = truth[1] = 1;
        in.code = VM_LOGIC;
    } else if (n->kind == NODE_UNARY && n->op == OP_NOT) {
        return truth_of(c, n->kid[0], 1);
    } else if (n->kind == NODE_BINARY && (n->op == OP_ADD || n->op == OP_SUB) &&
               weft_dtype_is_float(n->type) && n->kid[0]->kind == NODE_BINARY &&
               n->kid[0]->op == OP_MUL) {
        /* x*y + z in one pass over the block, still rounded twice (no fma):
         * the multiply's result never makes a trip through a register. */
        sub[0] = n->kid[0]->kid[0];
        sub[1] = n->kid[0]->kid[1];
        sub[2] = n->kid[1];
        count = 3;
        in.code = VM_MULADD;
    } else if (n->kind == NODE_SELECT) {
        truth[0] = n->kid[0]->type != WEFT_I32;
        in.code = VM_SELECT;
    } else if (n->kind == NODE_CONVERT) {
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
    compile_operands(c, sub, truth, count, k);
    if (c->status != WEFT_OK) return -1;
    c->column = n->column;
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

static void mark_uses(const weft_node *n, size_t user, size_t *last_use)
{
    if (n->kind == NODE_TEMP && last_use[n->slot] < user) last_use[n->slot] = user;
    for (int k = 0; k < n->nkids; k++)
        mark_uses(n->kid[k], user, last_use);
}

/* Whether statement s is the assignment stored: the last one to its array. */
static int is_stored(const weft_expr *e, size_t s)
{
    int target = e->statements[s].target;
    int stored = target >= 0;
    for (size_t later = s + 1; later < e->nstatements && stored; later++)
        stored = e->statements[later].target != target;
    return stored;
}

/* Per statement, the last statement that reads its value (nstatements: the
 * reduced result; SIZE_MAX: stored at the end), so registers of values no
 * longer needed are reused. A statement that only renames another ("t = u")
 * shares its register: u then lives as long as t. */
static size_t *last_uses(const weft_expr *e)
{
    size_t *last_use = calloc(e->nstatements + 1, sizeof *last_use);
    if (!last_use) return NULL;
    for (size_t s = 0; s < e->nstatements; s++) {
        last_use[s] = s;
        mark_uses(e->statements[s].value, s, last_use);
    }
    if (e->result) mark_uses(e->result, e->nstatements, last_use);
    for (size_t s = 0; s < e->nstatements; s++)
        if (is_stored(e, s)) last_use[s] = SIZE_MAX;
    for (size_t s = e->nstatements; s-- > 0;) {
        const weft_node *v = e->statements[s].value;
        if (v->kind == NODE_TEMP && last_use[v->slot] < last_use[s])
            last_use[v->slot] = last_use[s];
    }
    return last_use;
}

/* Statements whose values the user `at` was the last to read free their
 * registers (those they computed themselves; constants, loads in place and
 * other statements' registers stay). */
static void release_dead(compiler *c, const size_t *last_use, const unsigned char *owns, size_t at)
{
    for (size_t s = 0; s <= at && s < c->e->nstatements; s++)
        if (last_use[s] == at && owns[s]) {
            c->pinned[c->statement_reg[s]] = 0;
            release(c, c->statement_reg[s]);
        }
}

weft_status weft_vm_compile(weft_expr *e, weft_vm_program **out)
{
    compiler c = {.e = e, .status = WEFT_OK, .in_place_target = -1};
    c.vm = calloc(1, sizeof *c.vm);
    c.statement_reg = calloc(e->nstatements + 1, sizeof *c.statement_reg);
    c.const_reg = malloc((e->nnodes + 1) * sizeof *c.const_reg);
    c.need = malloc((e->nnodes + 1) * sizeof *c.need);
    c.alias_reg = malloc((e->nbindings + 1) * sizeof *c.alias_reg);
    unsigned char *direct = calloc(e->nstatements + 1, 1);
    unsigned char *owns = calloc(e->nstatements + 1, 1);
    size_t *last_use = last_uses(e);
    if (!c.vm || !c.statement_reg || !c.const_reg || !c.need || !c.alias_reg || !direct || !owns ||
        !last_use) {
        c.status = weft_error_set(WEFT_ERR_NOMEM, "cannot allocate bytecode");
        goto done;
    }
    c.vm->expr = e;
    c.vm->result_reg = -1;
    for (size_t i = 0; i < e->nnodes; i++)
        c.const_reg[i] = c.need[i] = -1;
    for (size_t b = 0; b < e->nbindings; b++)
        c.alias_reg[b] = -1;
    for (size_t s = 0; s < e->nstatements; s++)
        assign_constants(&c, e->statements[s].value);
    if (e->result) assign_constants(&c, e->result);
    for (size_t s = 0; s < e->nstatements && c.status == WEFT_OK; s++) {
        size_t before = c.vm->ncode;
        int target = e->statements[s].target;
        int last = is_stored(e, s);
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
        owns[s] = !c.pinned[r] && !direct[s];
        c.pinned[r] = 1; /* later statements may read it; outputs store at the end */
        c.statement_reg[s] = r;
        release_dead(&c, last_use, owns, s);
    }
    if (e->result && c.status == WEFT_OK) {
        c.vm->result_reg = compile_node(&c, e->result);
        c.vm->result_type = e->result->type;
    }
    /* Stores come last, so every load of a block precedes every store:
     * outputs may alias inputs. The last assignment to an array wins. */
    for (size_t s = 0; s < e->nstatements && c.status == WEFT_OK; s++)
        if (is_stored(e, s))
            emit(&c,
                 (vm_instr){.code = VM_STORE,
                            .type = (uint8_t)e->statements[s].value->type,
                            .a = (uint8_t)c.statement_reg[s],
                            .flags = direct[s] ? VM_DIRECT : 0,
                            .aux = e->statements[s].target},
                 0);
done:
    free(direct);
    free(owns);
    free(last_use);
    free(c.statement_reg);
    free(c.const_reg);
    free(c.need);
    free(c.alias_reg);
    if (c.status != WEFT_OK) {
        weft_vm_free(c.vm);
        return c.status;
    }
    *out = c.vm;
    return WEFT_OK;
}
