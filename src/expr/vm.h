/* The host back end of expressions: a register bytecode run over blocks of
 * WEFT_VM_BLOCK elements (numexpr style). Each instruction is one tight loop
 * over a block, which the compiler vectorises; operands stay in L1. */
#ifndef WEFT_VM_H
#define WEFT_VM_H

#include "expr.h"

#define WEFT_VM_BLOCK 512
/* Blocks of a run whose arrays come from memory (weft_vm_env.stream): each
 * instruction's loop then reads a shorter stretch of one array before the
 * next instruction reads another, so more of the arrays' streams are in
 * flight at once. 10^7-element maps ran 15-25% faster than with 512 (bench/
 * RESULTS.md, "2*a + 3*b*c"); in cache, small blocks cost 20-35% more
 * dispatch, so they are kept for data past the cache. */
#define WEFT_VM_STREAM_BLOCK 128

typedef struct weft_vm_program weft_vm_program;

/* Compiles e's statements (and result) to bytecode. */
weft_status weft_vm_compile(weft_expr *e, weft_vm_program **out);
void weft_vm_free(weft_vm_program *vm);

/* Where a run finds its bindings: arrays as host pointers to element 0 (index
 * globally), scalars as pointers to their value (of the binding's dtype). */
typedef struct weft_vm_env {
    void *const *arrays;
    const void *const *scalars;
    int alias_ok; /* no array is bound twice with one of the bindings written */
    int stream;   /* the arrays are far larger than the cache: blocks of
                     WEFT_VM_STREAM_BLOCK, outputs by streaming stores */
} weft_vm_env;

/* Map: evaluates elements [begin, end) and stores the outputs. */
weft_status weft_vm_run(const weft_vm_program *vm, const weft_vm_env *env, size_t begin,
                        size_t end);

/* Reduce: calls `fold` with each block of result values in index order. */
typedef void (*weft_vm_fold)(void *state, const void *values, weft_dtype type, size_t first,
                             size_t n);
weft_status weft_vm_reduce(const weft_vm_program *vm, const weft_vm_env *env, size_t begin,
                           size_t end, weft_vm_fold fold, void *state);
weft_dtype weft_vm_result_type(const weft_vm_program *vm);

/* Float -> integer as weft defines it: truncate, saturate, NaN -> 0. */
void weft_vm_convert_literal(double v, weft_dtype to, int64_t *i, uint64_t *u);

#endif
