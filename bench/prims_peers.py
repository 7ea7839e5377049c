# numpy side of bench/bench_prims (bench/RESULTS.md, "Data primitives"): /usr/bin/python3 bench/prims_peers.py
import time, numpy as np
n = 1 << 22
rng = np.random.default_rng(1)
x = (rng.random(n, dtype=np.float32) * 2 - 1)
idx = rng.integers(0, 1000, n).astype(np.uint32)
v = rng.random(n, dtype=np.float32)
def med(f, setup=lambda: None, r=5):
    t = []
    for _ in range(r):
        setup(); t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    t.sort(); return t[len(t)//2] * 1e3
print("numpy", np.__version__, "n =", n)
print("np.sort(x, kind='stable')       %.2f ms" % med(lambda: np.sort(x, kind='stable')))
print("np.argsort(x, kind='stable')    %.2f ms" % med(lambda: np.argsort(x, kind='stable')))
print("np.histogram(x, 1000, (-1, 1))  %.2f ms" % med(lambda: np.histogram(x, 1000, (-1, 1))))
print("np.bincount(idx, v, 1000)       %.2f ms" % med(lambda: np.bincount(idx, v, 1000)))
out = np.zeros(1000, np.float32)
print("np.add.at(out, idx, v)          %.2f ms" % med(lambda: np.add.at(out, idx, v)))
print("rng.random(n, float32)          %.2f ms" % med(lambda: rng.random(n, dtype=np.float32)))
print("rng.standard_normal(n, float32) %.2f ms" % med(lambda: rng.standard_normal(n, dtype=np.float32)))
print("x[x > 0]                        %.2f ms" % med(lambda: x[x > 0]))
