/* One process-wide lock around what OpenCL platforms do not make thread-safe. */
#ifndef WEFT_PLATFORM_LOCK_H
#define WEFT_PLATFORM_LOCK_H

/* Held while a context discovers its devices and while it releases its
 * OpenCL objects: PoCL (2.x) crashes in clGetDeviceInfo when one thread
 * discovers devices while another creates or releases a context, so context
 * creation and release are serialised across the process. Operations on live
 * contexts do not take it. Not recursive. */
void weft_platform_lock(void);
void weft_platform_unlock(void);

#endif
