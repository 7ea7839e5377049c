/* The deliberate internal interface of the tests: what a white-box test may
 * read or set of a context, so that no test locks weft's mutexes or reads its
 * queues itself. Not installed; linked from the static library only. */
#ifndef WEFT_TESTING_H
#define WEFT_TESTING_H

#include "weft.h"

/* Replaces the context's WEFT_FAULT flags (enum weft_fault, dev/services.h).
 * Safe while operations run: a driver reads them at each call site. */
void weft_testing_set_faults(weft_ctx *ctx, unsigned faults);
/* OpenCL call sites counted so far (WEFT_FAULT=call:K numbers them). */
long weft_testing_fault_calls(weft_ctx *ctx);
/* The k-th OpenCL call site from now fails (0: none). Set only while the
 * stream is idle. */
void weft_testing_fail_call(weft_ctx *ctx, long k);
/* 1 when the call site armed by weft_testing_fail_call was reached. */
int weft_testing_fault_fired(weft_ctx *ctx);
/* 1 when an operation waits in the stream's queue. */
int weft_testing_stream_queued(weft_ctx *ctx);
/* 1 when an operation ran and its device work is still in flight. */
int weft_testing_stream_in_flight(weft_ctx *ctx);

/* Until no background build of device code is queued or running
 * (ops/expr_build.h): a test of tiered compile waits here, not by timing. */
void weft_testing_wait_builds(weft_ctx *ctx);

/* 1 when the array is a wrap marked as overlapping another live wrap of its
 * context (src/mem/wraps.h): such arrays are ordered and settled as one. */
int weft_testing_wrap_overlaps(const weft_array *a);

#endif
