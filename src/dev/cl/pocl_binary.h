/* What weft checks of a PoCL program binary before handing one from the disk
 * cache to clCreateProgramWithBinary. PoCL trusts the lengths inside its
 * binaries: a file whose checksum is right but whose binary was cut short (a
 * crafted file; accidental damage fails the checksum) made it read past the
 * buffer. */
#ifndef WEFT_POCL_BINARY_H
#define WEFT_POCL_BINARY_H

#include <stddef.h>

/* 1 when bin is not a PoCL binary of a format weft knows (another platform's,
 * left to its driver) or when every length-prefixed record of it lies inside
 * the size bytes and together they fill them exactly; 0 with the reason in
 * why otherwise. Knows PoCL's format 9 (PoCL 3.1): its header, the program's
 * bitcode file, and each kernel's record with its name and cache files. */
int weft_pocl_binary_whole(const unsigned char *bin, size_t size, char *why, size_t cap);

#endif
