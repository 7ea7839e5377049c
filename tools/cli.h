/* The weft command line tool: shared helpers and the commands. */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <weft.h>

#include <stddef.h>

/* Exit codes, documented in `weft --help`. */
enum {
    EXIT_CHECK = 1,    /* --check found a mismatch */
    EXIT_USAGE = 2,    /* bad arguments */
    EXIT_WEFT = 3,     /* a weft call failed (the message says which) */
    EXIT_NO_OPENCL = 4 /* the command needs an OpenCL device and there is none */
};

double cli_now(void);
int cli_cmp_double(const void *a, const void *b);
/* Prints "weft: WHAT failed: <weft_last_error()>" and returns EXIT_WEFT. */
int cli_fail(const char *what);
void cli_json_string(const char *s);
/* Reads a whole file; NULL with a message on stderr. */
char *cli_read_file(const char *path, size_t *size);
/* A count of decimal digits only (no sign, no blanks, nothing after) in
 * [min, max] into *out; 0 otherwise (strtoull took "-1" for 2^64-1 and "5x"
 * for 5). */
int cli_parse_count(const char *text, unsigned long long min, unsigned long long max,
                    unsigned long long *out);
/* A signed decimal integer that fits 64 bits, nothing after; 0 otherwise
 * (strtoll saturated 99999999999999999999 to INT64_MAX). */
int cli_parse_int64(const char *text, long long *out);
/* Creates a context on `devices` (NULL: the default); on failure prints why. */
weft_ctx *cli_ctx(const char *devices);

int cmd_info(int json);
int cmd_demo(size_t n);
int cmd_run(int argc, char **argv);
int cmd_precompile(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_peak(int argc, char **argv);
int cmd_csv(int argc, char **argv);
int cmd_bench_csv(int argc, char **argv, const char *self);
int cmd_bench_placement(int argc, char **argv);
int cmd_bench_prims(int argc, char **argv);

/* ---- argument specs of `weft run` (argspec.c) ---- */

typedef enum cli_fill { FILL_ZEROS, FILL_RANDOM, FILL_CONST, FILL_RAMP, FILL_FILE } cli_fill;

typedef struct cli_argspec {
    weft_arg_kind kind;
    weft_dtype dtype;
    size_t count; /* elements; 0 with count_is_range: the range's size */
    int count_is_range;
    size_t halo;
    cli_fill fill;
    weft_value value; /* FILL_CONST, and scalars: in the dtype, checked to fit */
    char path[1024];  /* FILL_FILE */
    size_t local_bytes;
} cli_argspec;

/* Parses one --arg: "[slice:|whole:|halo:H:]DTYPE[COUNT|*][=FILL]", "DTYPE:VALUE"
 * or "local:BYTES". FILL: zeros, random, ramp, a number, file:PATH. Returns 0
 * and an explanation in err on a malformed spec. */
int cli_parse_argspec(const char *text, cli_argspec *spec, char *err, size_t errcap);
/* "N[,M[,K]]" into a range; 0 on a malformed or zero size. */
int cli_parse_range(const char *text, size_t size[3], unsigned *dims);
/* The product of the sizes into *items; 0 when it overflows a size_t. */
int cli_range_items(const size_t size[3], unsigned dims, size_t *items);

#endif
