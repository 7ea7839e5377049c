#!/usr/bin/env python3
"""numpy and numexpr doing what `weft bench` measures, timed in one Python
process (Debian's python3-numpy and python3-numexpr). Prints the same kind of
table: GB/s of the bytes each operation must move, medians of repeated runs.

    python3 bench/peers.py [--quick]
"""
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:
    sys.exit("peers.py: needs numpy (apt-get install python3-numpy)")
try:
    import numexpr as ne
except ImportError:
    ne = None

QUICK = "--quick" in sys.argv
SIZES = [1000, 100000, 1 << 22] if QUICK else [1000, 10000, 100000, 1000000, 10000000, 1 << 26]


def median_seconds(fn, n, elem):
    one = n * elem * 3 / 10e9 + 2e-6
    reps = int(min(max((0.1 if QUICK else 0.5) / one, 5), 200 if QUICK else 2000))
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    print(f"numpy {np.__version__}, numexpr {ne.__version__ if ne else 'not installed'}; "
          f"{ne.nthreads if ne else 1} numexpr threads\n")
    print("| op | dtype | n | numpy | numexpr |")
    print("|---|---|---:|---:|---:|")
    for op in ("axpy", "sum", "dot", "scan"):
        for dtype in (np.float32, np.float64):
            elem = np.dtype(dtype).itemsize
            for n in SIZES:
                # filled, so every page is really there (np.zeros maps one shared page)
                x = np.full(n, 0.5, dtype)
                y = np.full(n, 0.25, dtype)
                a = dtype(1e-3)
                moved = n * elem * {"axpy": 3, "sum": 1, "dot": 2, "scan": 2}[op]
                if op == "axpy":
                    def run_np():
                        y.__iadd__(a * x)
                    run_ne = (lambda: ne.evaluate("a * x + y", local_dict={"a": a, "x": x, "y": y}, out=y)) if ne else None
                elif op == "sum":
                    run_np = x.sum
                    run_ne = (lambda: ne.evaluate("sum(x)", local_dict={"x": x})) if ne else None
                elif op == "dot":
                    def run_np():
                        np.dot(x, y)
                    run_ne = (lambda: ne.evaluate("sum(x * y)", local_dict={"x": x, "y": y})) if ne else None
                else:
                    def run_np():
                        np.cumsum(x, out=y)
                    run_ne = None
                t_np = median_seconds(run_np, n, elem)
                t_ne = median_seconds(run_ne, n, elem) if run_ne else None
                ne_col = f"{moved / t_ne * 1e-9:.2f}" if t_ne else "-"
                print(f"| {op} | {np.dtype(dtype).name} | {n} | {moved / t_np * 1e-9:.2f} | {ne_col} |")


if __name__ == "__main__":
    main()
