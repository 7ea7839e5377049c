/* OpenCL C sources of the built-in kernels, embedded at build time from
 * the .cl files in kernels/ by cmake/embed_kernels.cmake. */
#ifndef WEFT_KERNELS_H
#define WEFT_KERNELS_H

extern const char weft_kernel_axpy[];
extern const char weft_kernel_smoke[];
extern const char weft_kernel_scan[];
extern const char weft_kernel_reduce[];

#endif
