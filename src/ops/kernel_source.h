/* What weft reads from a user program's OpenCL C itself, where the platform's
 * answers are not enough: the element type a parameter's type name stands
 * for, and whether a kernel asks for the launch's geometry. */
#ifndef WEFT_KERNEL_SOURCE_H
#define WEFT_KERNEL_SOURCE_H

#include <stddef.h>

/* The OpenCL C spelling of a parameter's type with its typedef and macro
 * names resolved to built-in types, as the compiler sees them: "DATA_TYPE*"
 * with `typedef float DATA_TYPE;` (or `#define DATA_TYPE float`, or
 * -D DATA_TYPE=float in options) becomes "float*". "unsigned int" spellings
 * become "uint". A struct whose fields all have one built-in type resolves
 * to that type: a buffer of such records is an array of it, fields side by
 * side. A name that resolves to nothing built in is copied as it is.
 * out holds at least 64 bytes. */
void weft_kernel_type_resolve(const char *source, const char *options, const char *type, char *out,
                              size_t cap);

/* The size in bytes of what a pointer parameter of that type points to
 * ("float4*": 16; a struct of built-in fields laid out as OpenCL C lays it
 * out, "LatLong*" of two floats: 8); 0 when weft cannot tell (pointers in
 * fields, unions, size_t, a type it does not find). */
size_t weft_kernel_pointee_size(const char *source, const char *options, const char *type);
/* The type whose size a parameter of `type` needs from the compiler (what a
 * pointer points to; a value's own type) into name, canonical; 0 when none
 * is needed: a built-in type, or a pointer to pointers. */
int weft_kernel_type_to_size(const char *type, char *name, size_t cap);
/* A resolved type ("float*", "uint4") whose built-in base is not size bytes,
 * as the compiler said it is, made the same kind of number of that size
 * ("double*"): weft misread which definition the compiler took. 1 when
 * resolved now fits size (or is no built-in type), 0 when no type of its
 * kind has that size. */
int weft_kernel_type_resize(char *resolved, size_t cap, size_t size);
/* 1 when weft's reading of the types of a source can be taken as the
 * compiler's up to kernel_end (where the kernel's body ends): no
 * conditional directive, #undef, line continuation, __attribute__ or -D
 * given twice, the things its reading got wrong before. Otherwise the
 * compiler is asked (src/ops/program.c). */
int weft_kernel_source_types_certain(const char *source, const char *options, size_t kernel_end);
/* The size of a built-in type (what a pointer to one points to); 0 for any
 * other. */
size_t weft_kernel_builtin_size(const char *type);

/* 1 when the source calls a work-item function whose value depends on how
 * the range is split: get_global_size, get_num_groups, get_group_id,
 * get_global_offset or get_global_linear_id (outside comments), in its own
 * text, in a -D of its options or in a file it includes. A split piece would
 * see its own geometry there, not the launch's. */
int weft_kernel_source_reads_geometry(const char *source, const char *options);
/* 1 when the program calls math built-ins whose results OpenCL leaves to
 * within some ULPs (exp, log, pow, sin, native_*, ...) or its options relax
 * the math (relaxed or unsafe math, mad, denormals as zero, weft's own
 * -weft-fp-contract): its host_fn (C's libm, ISO C rounding) may give other
 * bits than a device. options: as the caller gave them. */
int weft_kernel_source_inexact_math(const char *source, const char *options);

/* The source with comments replaced by spaces (so offsets keep their lines)
 * and the characters of string literals masked; malloc'd, NULL without
 * memory. */
char *weft_kernel_source_plain(const char *source);
/* The bodies of the -D macros of build options ("-D MUL_ADD=mad
 * -DFOUND=found[0]" gives "mad\nfound[0]\n"), malloc'd; NULL when out of
 * memory. What the compiler substitutes, unlike -I paths or -w. */
char *weft_kernel_option_macros(const char *options);
/* weft_kernel_source_plain with the lines of conditional groups the
 * compiler does not see blanked, as far as weft can tell (an #if it cannot
 * evaluate keeps both branches: src/ops/kernel_if.c); NULL without memory. */
char *weft_kernel_source_active(const char *source, const char *options);

#endif
