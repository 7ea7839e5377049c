/* Device lists (WEFT_DEVICES, options.devices): "all", "cpu", "gpu",
 * "accelerator", "host" and "cl:N", separated by commas or spaces. */
#ifndef WEFT_DEVICE_SPEC_H
#define WEFT_DEVICE_SPEC_H

#include "device.h"

/* The largest N of "cl:N": far above any real machine, small enough that no
 * index arithmetic can overflow. */
#define WEFT_MAX_CL_INDEX 65535

/* WEFT_OK when every token of spec is one of the forms above, with N a
 * decimal number from 0 to WEFT_MAX_CL_INDEX; else WEFT_ERR_INVALID_ARG
 * naming the token. */
weft_status weft_device_spec_check(const char *spec);
/* Does one (checked) token pick dev? */
int weft_device_token_matches(const char *token, const weft_device *dev);

#endif
