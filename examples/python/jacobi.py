"""Jacobi relaxation of a 2D grid with a user OpenCL kernel, split over every
device weft finds: each device owns a band of rows and reads one row of its
neighbours' (weft.halo(a, 1)). Checked against the same sweep in numpy.

    python examples/python/jacobi.py [n] [steps]
"""
import sys

import numpy as np

import weft

SOURCE = r"""
__kernel void jacobi(__global const float *in, __global float *out, int nx, int ny)
{
    int i = get_global_id(0), j = get_global_id(1);
    if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1) {
        out[j * nx + i] = in[j * nx + i];   /* the boundary stays put */
        return;
    }
    out[j * nx + i] = 0.25f * (in[j * nx + i - 1] + in[j * nx + i + 1] +
                               in[(j - 1) * nx + i] + in[(j + 1) * nx + i]);
}
"""


def numpy_sweep(a):
    b = a.copy()
    b[1:-1, 1:-1] = np.float32(0.25) * (a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1])
    return b


def main(n=512, steps=50):
    ctx = weft.get_context()
    prog = ctx.program(SOURCE)
    grid = np.zeros((n, n), np.float32)
    grid[0, :] = 1.0  # a hot top edge
    a = weft.asarray(grid, copy=True)  # weft's aligned memory: stays on the devices
    b = weft.zeros((n, n), "float32")
    for _ in range(steps):
        prog.launch("jacobi", (n, n), weft.halo(a, 1), weft.slice(b), n, n)
        a, b = b, a
    got = np.asarray(a)  # syncs: brings the bands back from the devices

    want = grid
    for _ in range(steps):
        want = numpy_sweep(want)
    err = float(np.max(np.abs(got - want)))
    print(f"{n}x{n}, {steps} sweeps on {[d['name'] for d in ctx.devices() if d['selected']]}: "
          f"max |weft - numpy| = {err:.2e}")
    return err


if __name__ == "__main__":
    args = [int(v) for v in sys.argv[1:3]]
    sys.exit(0 if main(*args) < 1e-5 else 1)
