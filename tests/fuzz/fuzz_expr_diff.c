/* libFuzzer target: differential testing of the expression language (see
 * expr_diff.h). The pool (a "host" context) must match plain C on typed
 * programs, and an OpenCL device (PoCL; small_elements 0, so it really
 * launches) must match the pool bit for bit on every program. Any mismatch
 * aborts with the program, the element and both bit patterns. Needs an
 * OpenCL platform to compare devices; without one it still checks the pool
 * against C. */
#include "expr_diff.h"

static weft_ctx *host, *device;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void open_contexts(void)
{
    weft_options o;
    weft_options_init(&o);
    o.devices = "host";
    o.disk_cache = 0;
    if (weft_ctx_create(&o, &host) != WEFT_OK) abort();
    weft_options_init(&o);
    o.devices = "cl:0";
    o.small_elements = 0;
    o.disk_cache = 0;
    if (weft_ctx_create(&o, &device) != WEFT_OK) device = NULL;
    static int told;
    if (!device && !told++)
        fprintf(stderr, "fuzz_expr_diff: no OpenCL device: checking the pool against C only\n");
}

/* Each context keeps every program it compiled, PoCL's kernels included:
 * fresh contexts now and then keep a long run within its memory limit. */
enum { INPUTS_PER_CONTEXT = 256 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned inputs;
    if (host && ++inputs % INPUTS_PER_CONTEXT == 0) {
        weft_ctx_free(host);
        weft_ctx_free(device);
        host = device = NULL;
    }
    if (!host) open_contexts();
    char report[DIFF_TEXT + 512];
    if (diff_check(data, size, host, device, report, sizeof report)) {
        fprintf(stderr, "fuzz_expr_diff: %s\n", report);
        abort();
    }
    return 0;
}
