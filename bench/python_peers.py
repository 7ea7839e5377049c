#!/usr/bin/env python3
"""The Python package against numpy and numexpr, in one process: the same
numpy arrays handed to each (weft wraps them without copies), medians of
repeated runs, two rounds in opposite orders. Also the cost of a call and of
a future on small arrays.

    build-python/venv/bin/python bench/python_peers.py [--quick] [--issue-only]

--issue-only runs only the rows of issue 24: `2*a + 3*b*c` and a
transcendental-heavy expression over 10^7 float64 elements (10^6 with
--quick), and the cost of a 1000-element map.
"""
import statistics
import sys
import time

import numpy as np

import weft

try:
    import numexpr as ne
except ImportError:
    ne = None

QUICK = "--quick" in sys.argv
SIZES = [1 << 16, 1 << 20, 1 << 23] if not QUICK else [1 << 16, 1 << 20]


def median_seconds(fn, budget=0.4):
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = int(min(max(budget / one, 5), 2000))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cases(n, rng):
    x = rng.random(n)
    y = rng.random(n)
    x32 = x.astype(np.float32)
    out32 = np.empty_like(x32)
    a = 2.5
    # The same data as weft.Arrays made once (aligned memory of weft's own,
    # resident on the devices between calls).
    xa, ya = weft.asarray(x, copy=True), weft.asarray(y, copy=True)
    x32a, out32a = weft.asarray(x32, copy=True), weft.empty(n, "float32")
    yield ("axpy f64: y = a*x + y", 24 * n, {
        "numpy": lambda: np.add(np.multiply(a, x, out=np.empty_like(x)), y, out=y),
        "numexpr": ne and (lambda: ne.evaluate("a*x + y", local_dict={"a": a, "x": x, "y": y}, out=y)),
        "weft": lambda: weft.map("y = a*x + y", a=a, x=x, y=y),
        "weft.Array": lambda: weft.map("y = a*x + y", a=a, x=xa, y=ya),
    })
    yield ("sqrt(x)*sin(x)+exp(-x) f32", 8 * n, {
        "numpy": lambda: np.add(np.sqrt(x32) * np.sin(x32), np.exp(-x32), out=out32),
        "numexpr": ne and (lambda: ne.evaluate("sqrt(x)*sin(x)+exp(-x)", local_dict={"x": x32}, out=out32)),
        "weft": lambda: weft.map("o = sqrt(x)*sin(x)+exp(-x)", x=x32, o=out32),
        "weft.Array": lambda: weft.map("o = sqrt(x)*sin(x)+exp(-x)", x=x32a, o=out32a),
    })
    yield ("sum f64", 8 * n, {
        "numpy": lambda: x.sum(),
        "numexpr": ne and (lambda: ne.evaluate("sum(x)", local_dict={"x": x})),
        "weft": lambda: weft.sum(x),
        "weft.Array": lambda: weft.sum(xa),
    })
    yield ("dot f64: sum(x*y)", 16 * n, {
        "numpy": lambda: x @ y,
        "numexpr": ne and (lambda: ne.evaluate("sum(x*y)", local_dict={"x": x, "y": y})),
        "weft": lambda: weft.reduce_expr("sum", "x*y", x=x, y=y),
        "weft.Array": lambda: weft.reduce_expr("sum", "x*y", x=xa, y=ya),
    })
    yield ("cumsum f64", 16 * n, {
        "numpy": lambda: np.cumsum(x, out=y),
        "weft": lambda: weft.cumsum(x, y),
        "weft.Array": lambda: weft.cumsum(xa, ya),
    })


TRANSCENDENTAL = "sin(a) * exp(-b) + sqrt(c) * cos(a)"


def issue_rows(rng):
    """numexpr's home ground: element-wise expressions over big float64
    arrays, numpy making temporaries, numexpr blocking them in cache, weft one
    pass (numpy arrays passed in, and weft.Arrays made once)."""
    n = 10**6 if QUICK else 10**7
    a, b, c = rng.random(n), rng.random(n), rng.random(n)
    out = np.empty(n)
    aa, ba, ca = (weft.asarray(v, copy=True) for v in (a, b, c))
    outa = weft.empty(n, "float64")
    rows = [
        ("2*a + 3*b*c f64", "2*a + 3*b*c",
         lambda: np.add(np.multiply(2.0, a), np.multiply(np.multiply(3.0, b), c), out=out)),
        ("sin(a)*exp(-b)+sqrt(c)*cos(a) f64", TRANSCENDENTAL,
         lambda: np.add(np.sin(a) * np.exp(-b), np.sqrt(c) * np.cos(a), out=out)),
    ]
    print(f"\n{'expression, n = %d' % n:40} {'numpy':>9} {'numexpr':>9} {'weft':>9} {'weft.Array':>10}"
          "  (ms per call; weft.Array vs numpy, vs numexpr)")
    for name, expr, numpy_fn in rows:
        fns = {
            "numpy": numpy_fn,
            "numexpr": ne and (lambda expr=expr: ne.evaluate(expr, local_dict={"a": a, "b": b, "c": c}, out=out)),
            "weft": lambda expr=expr: weft.map("out = " + expr, a=a, b=b, c=c, out=out),
            "weft.Array": lambda expr=expr: weft.map("out = " + expr, a=aa, b=ba, c=ca, out=outa),
        }
        res = {}
        for order in (list(fns), list(reversed(fns))):
            for who in order:
                if fns[who]:
                    res.setdefault(who, []).append(median_seconds(fns[who], budget=1.5))
        ms = {k: statistics.median(v) * 1e3 for k, v in res.items()}
        cells = " ".join(f"{ms[k]:9.2f}" if k in ms else f"{'-':>9}" for k in ("numpy", "numexpr", "weft"))
        vs_ne = f", {ms['numexpr'] / ms['weft.Array']:.2f}x" if "numexpr" in ms else ""
        print(f"{name:40} {cells} {ms['weft.Array']:10.2f}  ({ms['numpy'] / ms['weft.Array']:.2f}x{vs_ne})")
    # The cost of one small call from Python, against the C call it makes
    # (bench/RESULTS.md has the C figure from a C program on the same build).
    x, y = rng.random(1000), rng.random(1000)
    xa, ya = weft.asarray(x, copy=True), weft.asarray(y, copy=True)
    t_arr = median_seconds(lambda: weft.map("y = a*x + y", a=2.0, x=xa, y=ya), budget=1.0)
    t_np = median_seconds(lambda: weft.map("y = a*x + y", a=2.0, x=x, y=y), budget=1.0)
    t_numpy = median_seconds(lambda: np.add(np.multiply(2.0, x), y, out=y), budget=1.0)
    t_fut = median_seconds(lambda: weft.map("y = a*x + y", a=2.0, x=xa, y=ya, wait=False).result(),
                           budget=1.0)
    print(f"map y = a*x + y over 1000 f64: weft.Array {t_arr * 1e6:.2f} us, numpy arrays "
          f"{t_np * 1e6:.2f} us, with a future {t_fut * 1e6:.2f} us; numpy {t_numpy * 1e6:.2f} us")


def main():
    rng = np.random.default_rng(24)
    if "--issue-only" in sys.argv:
        ctx = weft.get_context()
        print(f"weft {weft.__version__}, numpy {np.__version__}, numexpr "
              f"{ne.__version__ if ne else 'absent'} ({ne.detect_number_of_cores() if ne else 0} threads); "
              f"weft devices: {[d['name'] for d in ctx.devices() if d['selected']]}")
        issue_rows(rng)
        return
    ctx = weft.get_context()
    devs = [d["name"] for d in ctx.devices() if d["selected"]]
    print(f"weft {weft.__version__}, numpy {np.__version__}, numexpr "
          f"{ne.__version__ if ne else 'absent'}; weft devices: {devs}, "
          f"small_elements {ctx.small_elements}")
    print(f"{'operation':32} {'n':>9} {'numpy':>10} {'numexpr':>10} {'weft':>10} {'weft.Array':>10}"
          "  (GB/s; weft.Array/numpy)")
    for n in SIZES:
        for name, nbytes, fns in cases(n, rng):
            res = {}
            for order in (list(fns), list(reversed(fns))):
                for who in order:
                    if fns[who]:
                        res.setdefault(who, []).append(median_seconds(fns[who]))
            gbs = {k: nbytes / statistics.median(v) / 1e9 for k, v in res.items()}
            cells = " ".join(f"{gbs[k]:10.2f}" if k in gbs else f"{'-':>10}" for k in ("numpy", "numexpr", "weft", "weft.Array"))
            print(f"{name:32} {n:>9} {cells}  ({gbs['weft.Array'] / gbs['numpy']:.2f}x)")
    # What one call costs on a small array, and a future on top.
    x = rng.random(1000)
    t_np = median_seconds(lambda: x.sum())
    t_sync = median_seconds(lambda: weft.sum(x))
    t_fut = median_seconds(lambda: weft.sum(x, wait=False).result())
    xa = weft.asarray(x)
    t_arr = median_seconds(lambda: weft.sum(xa))
    t_wrap = median_seconds(lambda: weft.asarray(x))
    print(f"sum of 1000 f64: numpy {t_np * 1e6:.1f} us, weft {t_sync * 1e6:.1f} us "
          f"(numpy array, wrapped per call), {t_arr * 1e6:.1f} us (a weft.Array), "
          f"with a future {t_fut * 1e6:.1f} us; wrapping alone {t_wrap * 1e6:.1f} us")
    issue_rows(rng)


if __name__ == "__main__":
    main()
