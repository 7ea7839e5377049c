/* The host VM's bytecode, shared by its compiler (vm_compile.c) and its
 * interpreter (vm.c). */
#ifndef WEFT_VM_CODE_H
#define WEFT_VM_CODE_H

#include "vm.h"

#include <stdint.h>

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

#endif
