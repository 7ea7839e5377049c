/* The macros a device's OpenCL C compiler defines before it reads a source,
 * as -D options: weft reads kernel sources itself (the types a parameter
 * points to, which scalars pick rows), and a `#if defined(cl_khr_fp64)` or
 * `#if __OPENCL_VERSION__ >= 120` read as undefined took the branch the
 * compiler did not (a `typedef double real_t` sized as float: the kernel
 * wrote past its arrays). */
#include "cl_macros.h"

#include <stdio.h>
#include <string.h>

/* "OpenCL 3.0 PoCL ..." -> 300; 0 when unreadable. */
static int version_number(const char *text, const char *prefix)
{
    int major = 0, minor = 0;
    size_t n = strlen(prefix);
    if (strncmp(text, prefix, n) != 0 || sscanf(text + n, "%d.%d", &major, &minor) != 2) return 0;
    return major * 100 + minor * 10;
}

static void append(char *out, size_t cap, const char *name, int value)
{
    size_t used = strlen(out);
    if (used < cap) snprintf(out + used, cap - used, " -D%s=%d", name, value);
}

static void append_extensions(char *out, size_t cap, const char *extensions)
{
    char name[128];
    for (const char *p = extensions; *p;) {
        size_t len = strcspn(p, " ");
        if (len > 0 && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            append(out, cap, name, 1);
        }
        p += len;
        p += strspn(p, " ");
    }
}

void weft_cl_compiler_macros(cl_device_id id, char *out, size_t cap)
{
    static const struct {
        const char *name;
        int value;
    } versions[] = {{"CL_VERSION_1_0", 100}, {"CL_VERSION_1_1", 110}, {"CL_VERSION_1_2", 120},
                    {"CL_VERSION_2_0", 200}, {"CL_VERSION_2_1", 210}, {"CL_VERSION_2_2", 220},
                    {"CL_VERSION_3_0", 300}};
    char text[4096];
    cl_bool little = CL_TRUE, images = CL_FALSE;
    out[0] = '\0';
    text[0] = '\0';
    clGetDeviceInfo(id, CL_DEVICE_VERSION, sizeof text, text, NULL);
    text[sizeof text - 1] = '\0';
    int version = version_number(text, "OpenCL ");
    if (version) append(out, cap, "__OPENCL_VERSION__", version);
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        append(out, cap, versions[i].name, versions[i].value);
    /* The OpenCL C version a build without -cl-std compiles (1.2 on a 2.x or
     * 3.0 device); weft's reader takes -cl-std from the options first. */
    text[0] = '\0';
    clGetDeviceInfo(id, CL_DEVICE_OPENCL_C_VERSION, sizeof text, text, NULL);
    text[sizeof text - 1] = '\0';
    int c_version = version_number(text, "OpenCL C ");
    if (c_version > 120) c_version = 120;
    if (c_version) append(out, cap, "__OPENCL_C_VERSION__", c_version);
    clGetDeviceInfo(id, CL_DEVICE_ENDIAN_LITTLE, sizeof little, &little, NULL);
    if (little) append(out, cap, "__ENDIAN_LITTLE__", 1);
    clGetDeviceInfo(id, CL_DEVICE_IMAGE_SUPPORT, sizeof images, &images, NULL);
    if (images) append(out, cap, "__IMAGE_SUPPORT__", 1);
    text[0] = '\0';
    clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, sizeof text, text, NULL);
    text[sizeof text - 1] = '\0';
    append_extensions(out, cap, text);
}
