"""Monte Carlo estimate of pi with weft.random: counter-based streams, so the
answer is the same on any devices and thread counts, and a window of the
stream (offset=) can be drawn without the rest. Compared with numpy.

    python examples/python/monte_carlo.py [samples]
"""
import sys
import time

import numpy as np

import weft


def estimate_pi(n, seed=2024):
    # Two independent halves of one stream: x from [0, n), y from [n, 2n).
    x = weft.random(n, seed=seed)
    y = weft.random(n, seed=seed, offset=n)
    inside = weft.reduce_expr("sum", "x * x + y * y < 1.0", x=x, y=y)
    return 4.0 * inside / n


def main(n=10_000_000):
    t = time.perf_counter()
    pi = estimate_pi(n)
    t_weft = time.perf_counter() - t
    assert estimate_pi(n) == pi  # the same draws every time

    rng = np.random.default_rng(2024)
    t = time.perf_counter()
    x, y = rng.random(n), rng.random(n)
    pi_np = 4.0 * np.count_nonzero(x * x + y * y < 1.0) / n
    t_np = time.perf_counter() - t
    print(f"weft  pi ~ {pi:.6f} in {t_weft * 1e3:.1f} ms")
    print(f"numpy pi ~ {pi_np:.6f} in {t_np * 1e3:.1f} ms")
    return abs(pi - np.pi)


if __name__ == "__main__":
    sys.exit(0 if main(*[int(a) for a in sys.argv[1:2]]) < 5e-3 else 1)
