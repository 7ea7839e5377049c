/* libFuzzer target: any text as a `weft run --arg` spec and as a --range. */
#include "../../tools/cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    cli_argspec spec;
    char err[256];
    if (cli_parse_argspec(text, &spec, err, sizeof err)) {
        /* accepted specs are internally consistent */
        if (spec.kind == WEFT_ARG_LOCAL && spec.local_bytes == 0) abort();
        if ((unsigned)spec.dtype >= WEFT_DTYPE_COUNT) abort();
        if (spec.fill == FILL_FILE && spec.path[0] == '\0') abort();
    } else if (err[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    size_t range[3];
    unsigned dims;
    if (cli_parse_range(text, range, &dims))
        for (unsigned d = 0; d < dims; d++)
            if (range[d] == 0 || dims > 3) abort();
    free(text);
    return 0;
}
