#include "device_work.h"
#include "residency.h"
#include "../core/error.h"

unsigned weft_mem_copy_mark(const weft_mem_device_work *work)
{
    (void)work;
    return weft_mem_copy_failures_found();
}

weft_status weft_mem_check_copies(const weft_mem_device_work *work, unsigned mark)
{
    for (size_t i = 0; i < work->narrays; i++) {
        if (!(work->reads & (1u << i))) continue;
        weft_mem_span all = {0, work->arrays[i]->n};
        const weft_mem_span *span = work->reading ? &work->reading[i] : &all;
        RETURN_IF(span->end > span->begin && weft_mem_copy_failed(work->arrays[i], work->dev, mark,
                                                                  span->begin, span->end),
                  WEFT_ERR_DEVICE, "a copy to device %zu failed", work->dev);
    }
    return WEFT_OK;
}

unsigned weft_mem_device_failed(const weft_mem_device_work *work, const weft_mem_span *writing)
{
    unsigned host_damaged = 0;
    for (size_t i = 0; i < work->narrays; i++) {
        if (writing && writing[i].end > writing[i].begin &&
            weft_mem_lost(work->arrays[i], work->dev, writing[i].begin, writing[i].end))
            host_damaged |= 1u << i;
        weft_mem_forget(work->arrays[i], work->dev);
    }
    return host_damaged;
}
