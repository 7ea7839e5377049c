/* The DLPack structures weft.Array exports, as the DLPack ABI lays them out
 * (dlpack.h, version 1.0; legacy DLManagedTensor and DLManagedTensorVersioned).
 * Only what a host-resident exporter needs. */
#ifndef WEFT_PY_DLPACK_ABI_H
#define WEFT_PY_DLPACK_ABI_H

#include <stdint.h>

#define WEFT_DLPACK_MAJOR 1
#define WEFT_DLPACK_MINOR 0

enum { WEFT_kDLCPU = 1 };
enum { WEFT_kDLInt = 0, WEFT_kDLUInt = 1, WEFT_kDLFloat = 2, WEFT_kDLBool = 6 };
#define WEFT_DLPACK_FLAG_READ_ONLY (UINT64_C(1) << 0)

typedef struct {
    int32_t device_type;
    int32_t device_id;
} weft_DLDevice;

typedef struct {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
} weft_DLDataType;

typedef struct {
    void *data;
    weft_DLDevice device;
    int32_t ndim;
    weft_DLDataType dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} weft_DLTensor;

typedef struct weft_DLManagedTensor {
    weft_DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct weft_DLManagedTensor *self);
} weft_DLManagedTensor;

typedef struct {
    uint32_t major;
    uint32_t minor;
} weft_DLPackVersion;

typedef struct weft_DLManagedTensorVersioned {
    weft_DLPackVersion version;
    void *manager_ctx;
    void (*deleter)(struct weft_DLManagedTensorVersioned *self);
    uint64_t flags;
    weft_DLTensor dl_tensor;
} weft_DLManagedTensorVersioned;

#endif
