/* weft info: devices, their kinds and limits, which are selected, and why any
 * were set aside. What a user runs first when OpenCL "does not work". */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

void cli_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int cmd_info(int json)
{
    weft_ctx *ctx;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st != WEFT_OK) return cli_fail("creating a context");
    size_t count;
    weft_device_count(ctx, &count);
    if (json)
        printf("{\"version\": \"%s\", \"devices\": [", weft_version_string());
    else
        printf("weft %s\n", weft_version_string());
    for (size_t d = 0; d < count; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        const char *axpy, *sum;
        weft_device_impl(ctx, d, "axpy", &axpy);
        weft_device_impl(ctx, d, "sum", &sum);
        if (json) {
            printf("%s{\"index\": %zu, \"name\": ", d ? ", " : "", d);
            cli_json_string(info.name);
            printf(", \"kind\": \"%s\", \"vendor\": ", weft_device_kind_name(info.kind));
            cli_json_string(info.vendor);
            printf(", \"driver\": ");
            cli_json_string(info.driver_version);
            printf(
                ", \"global_mem\": %llu, \"max_alloc\": %llu, \"compute_units\": %u, "
                "\"usable\": %s, \"selected\": %s, \"zero_copy\": %s, \"weight\": %g, "
                "\"axpy\": \"%s\", \"sum\": \"%s\", \"reason\": ",
                (unsigned long long)info.global_mem_bytes,
                (unsigned long long)(info.max_alloc_bytes == UINT64_MAX ? 0 : info.max_alloc_bytes),
                info.compute_units, info.usable ? "true" : "false",
                info.selected ? "true" : "false", info.zero_copy ? "true" : "false", info.weight,
                axpy, sum);
            cli_json_string(info.reason);
            printf("}");
        } else {
            printf("\ndevice %zu: %s\n  kind %s, vendor %s, driver %s\n", d, info.name,
                   weft_device_kind_name(info.kind), info.vendor, info.driver_version);
            if (info.kind != WEFT_DEVICE_HOST)
                printf(
                    "  memory %.1f GiB, max allocation %.1f GiB, %u compute units, zero-copy %s\n",
                    info.global_mem_bytes / 1073741824.0, info.max_alloc_bytes / 1073741824.0,
                    info.compute_units, info.zero_copy ? "yes" : "no");
            printf("  %s%s, weight %.3g; axpy: %s, sum: %s\n", info.usable ? "usable" : "SET ASIDE",
                   info.selected ? ", selected" : ", not selected", info.weight, axpy, sum);
            if (info.reason[0]) printf("  note: %s\n", info.reason);
        }
    }
    const char *notes = weft_ctx_notes(ctx);
    if (json) {
        printf("], \"notes\": ");
        cli_json_string(notes);
        printf(", \"cache_dir\": ");
        cli_json_string(weft_cache_dir(ctx));
        printf("}\n");
    } else {
        if (*notes) printf("\nnotes:\n%s", notes);
        printf("\ncache: %s\n", *weft_cache_dir(ctx) ? weft_cache_dir(ctx) : "(off)");
        static const char *const vars[] = {
            "WEFT_DEVICES",      "WEFT_NUM_THREADS", "WEFT_CACHE_DIR",        "OCL_ICD_VENDORS",
            "OCL_ICD_FILENAMES", "POCL_DEVICES",     "POCL_MAX_PTHREAD_COUNT"};
        printf("environment:");
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            const char *v = getenv(vars[i]);
            if (v) printf(" %s=%s", vars[i], v);
        }
        printf("\n");
    }
    weft_ctx_free(ctx);
    return 0;
}
