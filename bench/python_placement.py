#!/usr/bin/env python3
"""Where the default context places `out = 2*a + 3*b*c` over 10^7 float64:
numpy arrays passed straight in (16-byte aligned: a PoCL device copies them)
and weft.Arrays (its own aligned memory), ROUNDS rounds of 16 calls each,
then ctx.op_stats(): calls, pieces and seconds per element per device.

    WEFT_LOG=info WEFT_CACHE_DIR=$(mktemp -d) python bench/python_placement.py [ROUNDS]
"""
import statistics
import sys
import time

import numpy as np

import weft

N = 10**7
E = "out = 2*a + 3*b*c"


def median_ms(fn, reps=15):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    rng = np.random.default_rng(24)
    a, b, c = rng.random(N), rng.random(N), rng.random(N)
    out = np.empty(N)
    print("numpy data addresses mod 128:", [v.ctypes.data % 128 for v in (a, b, c, out)])
    aa, ba, ca = (weft.asarray(v, copy=True) for v in (a, b, c))
    outa = weft.empty(N, "float64")
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
        print("numpy arrays %.2f ms, weft.Array %.2f ms, numpy %.2f ms" % (
            median_ms(lambda: weft.map(E, a=a, b=b, c=c, out=out)),
            median_ms(lambda: weft.map(E, a=aa, b=ba, c=ca, out=outa)),
            median_ms(lambda: np.add(np.multiply(2.0, a), np.multiply(np.multiply(3.0, b), c), out=out))))
    for s in weft.get_context().op_stats():
        print(s)


if __name__ == "__main__":
    main()
