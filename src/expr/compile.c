/* An expression from text to runnable form: parsed and type-checked
 * (parse.c), then compiled to bytecode for the pool (vm_compile.c); the
 * OpenCL C is generated from the same tree on demand (codegen_cl.c). */
#include "../core/error.h"
#include "expr.h"
#include "vm.h"

weft_status weft_expr_compile(const char *text, const weft_expr_binding *bindings, size_t nbindings,
                              enum weft_expr_mode mode, weft_expr **out)
{
    weft_expr *e = NULL;
    RETURN_ON_ERROR(weft_expr_parse(text, bindings, nbindings, mode, &e));
    weft_status st = weft_vm_compile(e, &e->vm);
    if (st != WEFT_OK) {
        weft_expr_free(e);
        return st;
    }
    *out = e;
    return WEFT_OK;
}

void weft_expr_free(weft_expr *e)
{
    if (!e) return;
    weft_vm_free(e->vm);
    e->vm = NULL;
    weft_expr_free_tree(e);
}
