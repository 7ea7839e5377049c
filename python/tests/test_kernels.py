"""User kernels: ctx.program(source).launch(...) against numpy."""
import os
import runpy
import pathlib

import numpy as np
import pytest

import weft

NO_OPENCL = os.environ.get("OCL_ICD_VENDORS") == "/nonexistent"

SAXPY = r"""
__kernel void saxpy(float a, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
}
__kernel void scale_d(__global double *y, double k, long add)
{
    size_t i = get_global_id(0);
    y[i] = y[i] * k + (double)add;
}
__kernel void gather(__global const int *table, __global const uint *idx, __global int *out)
{
    size_t i = get_global_id(0);
    out[i] = table[idx[i]];
}
__kernel void block_sum(__global const float *x, __global float *out, __local float *tmp)
{
    size_t l = get_local_id(0), i = get_global_id(0);
    tmp[l] = x[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (l == 0) {
        float s = 0;
        for (size_t k = 0; k < get_local_size(0); k++) s += tmp[k];
        out[i] = s;
    } else {
        out[i] = 0;
    }
}
"""


@pytest.fixture(scope="module")
def prog():
    if NO_OPENCL:
        pytest.skip("user kernels need an OpenCL device (no host fallback from Python)")
    return weft.get_context().program(SAXPY)


def test_saxpy_against_numpy(prog, rng):
    for n in (1, 7, 4096, 100003):
        x = rng.random(n, dtype=np.float32)
        y = rng.random(n, dtype=np.float32)
        want = np.float32(2.5) * x + y
        prog.launch("saxpy", n, weft.f32(2.5), weft.slice(x), weft.slice(y))
        np.testing.assert_array_equal(y, want)


def test_scalars_inferred_and_typed(prog, rng):
    y = rng.random(1000)
    want = y * 3.0 + 7
    prog.launch("scale_d", y.size, y, np.float64(3.0), weft.i64(7))
    np.testing.assert_array_equal(y, want)
    x = rng.random(10, dtype=np.float32)
    z = np.zeros(10, np.float32)
    prog.launch("saxpy", 10, 1.0, x, z)  # a Python float is an OpenCL float
    np.testing.assert_array_equal(z, x)


def test_plain_numbers_take_their_parameters_types(prog, rng):
    """A Python int for a `long` ran for 2**40 and raised for 300000; for a
    `double`, a Python float raised. They take the parameter's type now."""
    for add in (7, 2**40):
        y = rng.random(100)
        want = y * 3.0 + float(add)
        prog.launch("scale_d", y.size, y, 3.0, add)  # double k, long add: plain numbers
        np.testing.assert_array_equal(y, want)
    y = rng.random(10, dtype=np.float32)
    z = np.zeros(10, np.float32)
    prog.launch("saxpy", 10, 2, y, z)  # an int for a float parameter
    np.testing.assert_array_equal(z, np.float32(2) * y)
    with pytest.raises(weft.RangeError):
        prog.launch("scale_d", 10, y.astype(np.float64), 1.0, 2**63)
    with pytest.raises(weft.WeftError):  # a float for an integer parameter: refused
        prog.launch("scale_d", 10, y.astype(np.float64), 1.0, 2.5)


def test_whole_argument(prog, rng):
    table = rng.integers(-1000, 1000, 257).astype(np.int32)
    idx = rng.integers(0, 257, 50_000).astype(np.uint32)
    out = np.zeros(50_000, np.int32)
    prog.launch("gather", out.size, weft.whole(table), weft.slice(idx), weft.slice(out))
    np.testing.assert_array_equal(out, table[idx])


def test_read_only_memory_is_read_but_never_written(prog, rng):
    """A bytes object, a non-writeable numpy array and a read-only
    weft.Array are read as inputs (const parameters) and refused where the
    kernel writes them, before anything runs: a launch wrote the bytes
    object in place, or lost its writes in a copy."""
    n = 200_003
    x = rng.random(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    frozen = x.copy()
    frozen.flags.writeable = False
    prog.launch("saxpy", n, weft.f32(2.0), frozen, y)
    np.testing.assert_array_equal(y, np.float32(2.0) * x)
    raw = bytes(4 * n)
    targets = (np.frombuffer(raw, np.float32), frozen,
               weft.asarray(np.frombuffer(raw, np.float32)))
    for target in targets:
        for arg in (target, weft.whole(target)):
            with pytest.raises(ValueError, match="read-only"):
                prog.launch("saxpy", n, weft.f32(2.0), x, arg)
    assert raw == bytes(4 * n)
    np.testing.assert_array_equal(frozen, x)


def test_local_memory(prog, rng):
    x = rng.random(64 * 16, dtype=np.float32)
    out = np.zeros_like(x)
    prog.launch("block_sum", x.size, x, out, weft.local(64 * 4), local=(64,))
    want = x.reshape(-1, 64).sum(axis=1, dtype=np.float32)
    np.testing.assert_allclose(out[::64], want, rtol=1e-5)


def test_launch_future(prog, rng):
    a = weft.asarray(rng.random(20_000, dtype=np.float32), copy=True)
    b = weft.zeros(20_000, "float32")
    fut = prog.launch("saxpy", 20_000, weft.f32(1.0), a, b, wait=False)
    assert fut.result(timeout=60) is None
    np.testing.assert_array_equal(np.asarray(b), np.asarray(a))


def test_wrong_argument_type_names_it(prog):
    y = np.zeros(4, np.float32)
    with pytest.raises(weft.WeftError) as e:
        prog.launch("saxpy", 4, weft.i32(1), y, y)
    assert "argument" in str(e.value)


def test_build_error_carries_the_log():
    if NO_OPENCL:
        pytest.skip("no OpenCL compiler")
    with pytest.raises(weft.WeftError) as e:
        weft.get_context().program("__kernel void broken(__global float *x) { x[0] = ; }")
    assert e.value.status_name == "WEFT_ERR_BUILD"


def test_jacobi_example(prog):
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "jacobi.py"
    if not path.exists():
        pytest.skip("examples/ not beside the tests")
    mod = runpy.run_path(str(path))
    assert mod["main"](64, 20) < 1e-5


def test_numpy_integers_as_range_and_local(prog, rng):
    n = np.int64(4096)
    x = rng.random(int(n), dtype=np.float32)
    y = np.zeros(int(n), np.float32)
    prog.launch("saxpy", n, weft.f32(1.0), x, y, local=(np.int64(64),))
    np.testing.assert_array_equal(y, x)
