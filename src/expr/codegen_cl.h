/* OpenCL C source for a map or a reduction of an expression. The caller
 * frees *source. Knobs: MAP_ITEMS (elements per work-item), MAP_VECTOR (1: the
 * map computes vectors of 8 or 4 elements, for CPUs), REDUCE_BLOCK. */
#ifndef WEFT_CODEGEN_CL_H
#define WEFT_CODEGEN_CL_H

#include "expr.h"

weft_status weft_codegen_map(const weft_expr *e, char **source);
/* gpu: the work-group-per-block variant (same bits as the CPU one). */
weft_status weft_codegen_reduce(const weft_expr *e, weft_reduce_op op, int gpu, char **source);

#endif
