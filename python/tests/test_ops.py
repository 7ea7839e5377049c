"""Maps, reductions and scans against numpy on random data and edge sizes."""
import numpy as np
import pytest

import weft
from conftest import EDGE_SIZES

FLOATS = ["float32", "float64"]
INTS = ["int32", "uint32", "int64", "uint64"]


def data(rng, n, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(n) * 10).astype(dtype)
    return rng.integers(0, 1000, n).astype(dtype)


@pytest.mark.parametrize("n", EDGE_SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_axpy_map(n, dtype, rng):
    x, y = data(rng, n, dtype), data(rng, n, dtype)
    expect = np.asarray(2.5, dtype) * x + y
    weft.map("y = a * x + y", a=np.dtype(dtype).type(2.5), x=x, y=y)
    np.testing.assert_array_equal(y, expect)


def test_map_statements_and_functions(rng):
    x = rng.random(10_000)
    y = np.empty_like(x)
    weft.map("t = x * 2; y = sqrt(t) + sin(x)", x=x, y=y, t=np.empty_like(x))
    np.testing.assert_allclose(y, np.sqrt(2 * x) + np.sin(x), rtol=1e-12)


def test_map_in_place_same_object(rng):
    x = rng.random(5000)
    expect = x * 3
    weft.map("x = x * 3", x=x)
    np.testing.assert_array_equal(x, expect)


def test_zero_d_arrays_are_arrays_of_one_and_numpy_scalars_are_scalars():
    y = np.array(5.0)
    weft.map("y = y * 2", y=y)  # in place, as y *= 2
    assert float(y) == 10.0
    out = np.array(0.0)
    weft.map("out = x * k", x=np.array(3.0), k=np.float64(4.0), out=out)
    assert float(out) == 12.0
    with pytest.raises(weft.Error):  # one element against three: not a scalar
        weft.map("y = x * 2", x=np.arange(3.0), y=np.array(0.0))


def test_map_with_weft_arrays_and_binds_mapping(rng):
    x = weft.asarray(rng.random(3000))
    out = weft.zeros(3000)
    weft.map("out = wait + x", {"wait": 1.0}, x=x, out=out)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(x) + 1.0)


def test_map_integer_dtypes(rng):
    a = rng.integers(-1000, 1000, 4097).astype(np.int32)
    b = np.empty(4097, np.int64)
    weft.map("b = a * a - 7", a=a, b=b)
    np.testing.assert_array_equal(b, a.astype(np.int64) * a - 7)


def test_map_output_must_be_contiguous(rng):
    y = np.zeros(20)[::2]
    with pytest.raises(ValueError, match="copy"):
        weft.map("y = x", x=np.ones(10), y=y)


def test_map_errors_carry_weft_last_error():
    y = np.zeros(10)
    with pytest.raises(weft.WeftError) as info:
        weft.map("y = nosuchname + 1", y=y)
    e = info.value
    assert e.status_name == "WEFT_ERR_EXPR"
    assert "nosuchname" in str(e) and "nosuchname" in e.detail
    with pytest.raises(weft.WeftError) as info:
        weft.map("y = x", x=np.ones(11), y=y)
    assert info.value.status_name == "WEFT_ERR_SIZE"


@pytest.mark.parametrize("n", EDGE_SIZES)
@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_reductions(n, dtype, rng):
    x = data(rng, n, dtype)
    s = weft.sum(x)
    if np.dtype(dtype).kind == "f":
        assert isinstance(s, float)
        assert s == pytest.approx(x.astype(np.float64).sum(), rel=1e-12, abs=1e-9)
    else:
        assert isinstance(s, int) and s == int(x.astype(np.int64).sum())
    if n == 0:
        for f in (weft.min, weft.max, weft.argmin, weft.argmax):
            with pytest.raises(weft.WeftError):
                f(x)
        assert weft.any(x) is False and weft.all(x) is True
        return
    assert weft.min(x) == x.min() and weft.max(x) == x.max()
    assert weft.argmin(x) == x.argmin() and weft.argmax(x) == x.argmax()
    assert weft.any(x) == bool(x.any()) and weft.all(x) == bool(x.all())


def test_prod_and_nan_min(rng):
    x = 1 + rng.random(100) / 100
    assert weft.prod(x) == pytest.approx(np.prod(x), rel=1e-12)
    x[7] = np.nan
    assert np.isnan(weft.min(x))


def test_reduce_expr_dot_and_count(rng):
    x, y = rng.random(100_003), rng.random(100_003)
    assert weft.reduce_expr("sum", "x * y", x=x, y=y) == pytest.approx(x @ y, rel=1e-12)
    assert weft.reduce_expr("sum", "x > 0.5", x=x) == int((x > 0.5).sum())
    assert weft.reduce_expr("max", "t = x - y; t * t", x=x, y=y) == pytest.approx(((x - y) ** 2).max())


def test_sum_of_multidimensional(rng):
    x = rng.random((30, 40))
    assert weft.sum(x) == pytest.approx(x.sum(), rel=1e-12)


@pytest.mark.parametrize("n", EDGE_SIZES)
@pytest.mark.parametrize("dtype", ["float64", "int32", "uint64"])
def test_scans(n, dtype, rng):
    x = data(rng, n, dtype)
    out = weft.cumsum(x)
    assert isinstance(out, weft.Array) and out.dtype == np.dtype(dtype).name
    got = np.asarray(out)
    if dtype == "float64":
        np.testing.assert_allclose(got, np.cumsum(x), rtol=1e-9, atol=1e-9)
    else:
        np.testing.assert_array_equal(got, np.cumsum(x, dtype=dtype))
    if n:
        np.testing.assert_array_equal(np.asarray(weft.scan(x, op="max")), np.maximum.accumulate(x))
        np.testing.assert_array_equal(np.asarray(weft.scan(x, op="min")), np.minimum.accumulate(x))
        ex = np.asarray(weft.scan(x, exclusive=True))
        assert ex[0] == 0


def test_scan_into_numpy_out_and_in_place(rng):
    x = rng.integers(0, 10, 9000).astype(np.int64)
    out = np.zeros_like(x)
    weft.scan(x, out)
    np.testing.assert_array_equal(out, np.cumsum(x))
    y = x.copy()
    weft.cumsum(y, y)
    np.testing.assert_array_equal(y, np.cumsum(x))


def test_mixing_contexts_raises(rng):
    other = weft.Context(devices="host")
    a = weft.asarray(rng.random(10), ctx=other)
    b = weft.asarray(rng.random(10))
    with pytest.raises(ValueError, match="another"):
        weft.map("a = b", a=a, b=b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint8])
def test_mean(dtype, rng):
    x = (rng.random(100_003) * 100).astype(dtype)
    m = weft.mean(x)
    assert isinstance(m, float)
    assert m == weft.sum(x) / x.size  # the same bits as the caller's division
    assert m == pytest.approx(np.mean(x, dtype=np.float64), rel=1e-12)
    f = weft.mean(x, wait=False)
    assert f.result(timeout=30) == m
    assert weft.mean(np.ones((3, 4))) == 1.0


def test_mean_of_nothing_raises():
    with pytest.raises(weft.SizeError):
        weft.mean(np.zeros(0))


def test_bool_arrays_hold_only_0_and_1():
    # weft holds bools as uint8: a map stored 100 and 255 into a bool output
    # (numpy's sum then said 555), and cumsum of a mask wrapped at 256.
    o = np.zeros(4, bool)
    weft.map("o = x * 100", x=np.arange(4.0), o=o)
    assert o.view(np.uint8).tolist() == [0, 1, 1, 1]
    assert weft.sum(o) == 3
    c = np.asarray(weft.cumsum(np.ones(300, bool)))
    assert c.dtype == np.int64
    assert np.array_equal(c, np.cumsum(np.ones(300, bool)))


def test_numbers_stored_in_bool_outputs_are_numpys_truth():
    """A value assigned to a bool output is tested before weft's uint8
    conversion: 0.5, NaN, -1, -inf, 256 and 2**40 became False (truncated,
    clamped or wrapped first), and a later statement read the raw byte."""
    x = np.array([0.0, -0.0, 0.5, np.nan, -1.0, 256.0, 0.001, np.inf, -np.inf, 1e-320])
    y = np.zeros(x.size, bool)
    weft.map("y = x", x=x, y=y)
    np.testing.assert_array_equal(y, x.astype(bool))
    i = np.array([0, 1, 256, -1, 1 << 40], np.int64)
    yi = np.zeros(i.size, bool)
    weft.map("y = i", i=i, y=yi)
    np.testing.assert_array_equal(yi, i.astype(bool))
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.5, 3.0])
    changed = np.zeros(3, bool)
    weft.map("changed = a - b  # any change", a=a, b=b, changed=changed)
    np.testing.assert_array_equal(changed, (a - b).astype(bool))
    m, c = np.zeros(3, bool), np.zeros(3)
    weft.map("m = x; c = m * 10", x=np.array([0.0, 7.0, 200.0]), m=m, c=c)
    np.testing.assert_array_equal(c, [0.0, 10.0, 10.0])


def test_tilde_of_a_bool_is_numpys_not():
    """~m of a bool mask (numpy's x[~m]) was C's bitwise not of 0/1, both
    true: filter('~m') kept every row and sum('~m') was -7."""
    m = np.array([True, False, True, True])
    x = np.array([10.0, 20.0, 30.0, 40.0])
    assert weft.reduce_expr("sum", "~m", m=m) == (~m).sum()
    y = np.zeros(4, bool)
    weft.map("y = ~m", m=m, y=y)
    np.testing.assert_array_equal(y, ~m)
    np.testing.assert_array_equal(weft.filter("~m", m=m, take=[x])[0], x[~m])
    np.testing.assert_array_equal(weft.filter("~(x > 15)", x=x, take=[x])[0], x[~(x > 15)])
    k = np.array([1, 2, 3], np.int64)  # an integer's ~ stays bitwise
    assert weft.reduce_expr("sum", "~k", k=k) == (~k).sum()
    assert weft.reduce_expr("sum", "~(k << 1)", k=k) == (~(k << 1)).sum()
