#!/usr/bin/env python3
"""What a future costs from Python, against the C calls underneath: a
1000-element f64 map `y = a*x + y` over weft.Arrays, synchronous and with
wait=False, medians of per-call times, rounds in alternating order.

    build-python/venv/bin/python bench/python_futures.py [--rounds R] [--calls N] [--c LIB]

Python rows:
  sync             weft.map(...)                          the synchronous call
  op.wait          _weft._map(..., wait=False).wait()     weft's future, no Python Future
  result()         weft.map(..., wait=False).result()     a weft.Future, waited at once
  cf.wait          concurrent.futures.wait([f])           completed by weft's callback thread
  add_done_callback + result()                             a callback, then the waiter completes
--c LIB also compiles the C program below against LIB (the libweft.a the
package was built with: build-python/cmake/libweft.a) and runs its rows in
the same rounds: weft_map synchronous, with a future waited at once, with
weft_future_on_done added, and what weft.Future and result() do: the callback
added only while the operation runs, and taken back (weft_future_on_done_cancel)
before the wait.
"""
import argparse
import concurrent.futures as cf
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import weft
from weft import _weft

C_SOURCE = r"""
#include "weft.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static void nop(void *user, weft_status status) { (void)user; (void)status; }
int main(int argc, char **argv)
{
    long calls = atol(argv[1]);
    weft_ctx *ctx;
    weft_options o;
    weft_options_init(&o);
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return 1;
    double x[1000], y[1000];
    for (int i = 0; i < 1000; i++) x[i] = i, y[i] = 1;
    weft_array *xa, *ya;
    if (weft_array_from(ctx, WEFT_F64, 1000, x, &xa) || weft_array_from(ctx, WEFT_F64, 1000, y, &ya))
        return 1;
    weft_bind b[3] = {weft_bind_f64("a", 2.0), weft_bind_array("x", xa), weft_bind_array("y", ya)};
    const char *names[4] = {"C weft_map sync", "C future + wait", "C future + on_done + wait",
                            "C status, on_done, cancel, wait"};
    double *t = malloc(sizeof *t * (size_t)calls);
    for (int k = 0; k < 4; k++) {
        for (long c = -calls / 10; c < calls; c++) {
            double t0 = now();
            weft_future *f = NULL;
            if (weft_map(ctx, "y = a*x + y", b, 3, k ? &f : NULL)) return 2;
            weft_future_state state = WEFT_FUTURE_PENDING;
            if (k == 3 && weft_future_status(f, &state, NULL)) return 3; /* as the binding */
            if (k >= 2 && state == WEFT_FUTURE_PENDING && weft_future_on_done(f, nop, NULL)) return 3;
            int cancelled;
            if (k == 3 && state == WEFT_FUTURE_PENDING && weft_future_on_done_cancel(f, nop, NULL, &cancelled))
                return 3;
            if (k && (weft_future_wait(f) || weft_future_release(f))) return 4;
            if (c >= 0) t[c] = now() - t0;
        }
        qsort(t, (size_t)calls, sizeof *t, cmp);
        printf("%s\t%.3f\n", names[k], t[calls / 2] * 1e6);
    }
    return 0;
}
"""


def per_call_median(fn, calls):
    for _ in range(calls // 10):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def build_c(lib):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    d = tempfile.mkdtemp(prefix="weft-futures-")
    src, exe = os.path.join(d, "futures.c"), os.path.join(d, "futures")
    with open(src, "w") as f:
        f.write(C_SOURCE)
    subprocess.run(["cc", "-O2", "-I", os.path.join(root, "include"), src, lib, "-lOpenCL", "-lmvec",
                    "-lm", "-lpthread", "-o", exe], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--c", metavar="LIB")
    args = ap.parse_args()
    rng = np.random.default_rng(24)
    xa, ya = weft.asarray(rng.random(1000), copy=True), weft.asarray(rng.random(1000), copy=True)
    ctx = xa.ctx
    pairs = [("a", 2.0), ("x", xa), ("y", ya)]
    expr = "y = a*x + y"

    def done_callback():
        f = weft.map(expr, a=2.0, x=xa, y=ya, wait=False)
        f.add_done_callback(lambda _: None)
        f.result()

    rows = {
        "sync": lambda: weft.map(expr, a=2.0, x=xa, y=ya),
        "op.wait": lambda: _weft._map(ctx, expr, pairs, False).wait(),
        "result()": lambda: weft.map(expr, a=2.0, x=xa, y=ya, wait=False).result(),
        "cf.wait": lambda: cf.wait([weft.map(expr, a=2.0, x=xa, y=ya, wait=False)]),
        "add_done_callback + result()": done_callback,
    }
    exe = build_c(args.c) if args.c else None
    print(f"weft {weft.__version__}, Python {sys.version.split()[0]}, devices "
          f"{[d['name'] for d in ctx.devices() if d['selected']]}; load average {os.getloadavg()}")
    got = {}
    for r in range(args.rounds):
        order = list(rows) if r % 2 == 0 else list(reversed(rows))
        for name in order:
            got.setdefault(name, []).append(per_call_median(rows[name], args.calls))
        if exe:
            out = subprocess.run([exe, str(args.calls)], check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                name, us = line.split("\t")
                got.setdefault(name, []).append(float(us))
    for name, v in got.items():
        print(f"{name:36} {statistics.median(v):8.2f} us  (rounds: {' '.join(f'{u:.2f}' for u in v)})")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
