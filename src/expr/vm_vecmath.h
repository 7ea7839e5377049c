/* The pool's transcendentals through glibc's vector math library (libmvec):
 * 4 doubles or 8 floats a call where the CPU has AVX2, instead of one libm
 * call per element. */
#ifndef WEFT_VM_VECMATH_H
#define WEFT_VM_VECMATH_H

#include <stddef.h>

/* d[k] = fn(a[k]) (or fn(a[k], b[k])) for k < n, fn a weft_fn; d may be a or
 * b. Returns 0, with d untouched, when fn has no vector variant or the CPU
 * lacks AVX2: the caller then calls scalar libm. A short tail is padded to a
 * whole vector, so each element's bits depend on its inputs alone, never on
 * where it lies in the block. */
#ifdef WEFT_HAVE_LIBMVEC
int weft_vecmath_f32(int fn, float *d, const float *a, const float *b, size_t n);
int weft_vecmath_f64(int fn, double *d, const double *a, const double *b, size_t n);
#else
static inline int weft_vecmath_f32(int fn, float *d, const float *a, const float *b, size_t n)
{
    (void)fn, (void)d, (void)a, (void)b, (void)n;
    return 0;
}
static inline int weft_vecmath_f64(int fn, double *d, const double *a, const double *b, size_t n)
{
    (void)fn, (void)d, (void)a, (void)b, (void)n;
    return 0;
}
#endif

#endif
