"""Sorting, histograms, scatter-add, random numbers, grouping and filtering
against numpy."""
import numpy as np
import pytest

import weft

SIZES = [0, 1, 7, 4097, 100003]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint64, np.int64])
def test_sort_and_argsort(rng, n, dtype):
    if np.issubdtype(dtype, np.floating):
        x = (rng.standard_normal(n) * 100).astype(dtype)
        if n > 3:
            x[::5] = np.nan
            x[1] = -0.0
    else:
        x = rng.integers(0, 1000, n).astype(dtype)
    idx = np.asarray(weft.argsort(x))
    np.testing.assert_array_equal(idx, np.argsort(x, kind="stable"))
    vals = np.arange(n, dtype=np.int64)
    y = x.copy()
    weft.sort(y, vals)
    np.testing.assert_array_equal(y, np.sort(x, kind="stable"))
    np.testing.assert_array_equal(vals, np.argsort(x, kind="stable"))


def test_sort_descending_keeps_nans_last(rng):
    x = rng.random(1000)
    x[::7] = np.nan
    weft.sort(x, descending=True)
    k = np.count_nonzero(~np.isnan(x))
    assert np.all(np.isnan(x[k:]))
    np.testing.assert_array_equal(x[:k], np.sort(x[:k])[::-1])


@pytest.mark.parametrize("n", SIZES)
def test_histogram(rng, n):
    x = rng.standard_normal(n)
    x[: n // 7] = 2.0  # on the last edge: numpy's last bin holds it
    counts, edges = weft.histogram(x, bins=17, range=(-2.0, 2.0))
    want, want_edges = np.histogram(x, bins=17, range=(-2.0, 2.0))
    np.testing.assert_array_equal(np.asarray(counts), want)
    np.testing.assert_allclose(edges, want_edges)


@pytest.mark.parametrize("x", [np.arange(11.0), np.repeat(np.arange(5.0), 3), np.ones(4)])
def test_histogram_of_its_own_range_as_numpy(x):
    for bins in (1, 4, 10):
        counts, edges = weft.histogram(x, bins=bins)
        want, want_edges = np.histogram(x, bins=bins)
        np.testing.assert_array_equal(np.asarray(counts), want)
        np.testing.assert_array_equal(edges, want_edges)
    with pytest.raises(ValueError):
        weft.histogram(x, 2, (0.0, 1.0), out=np.zeros(3, np.uint64))


@pytest.mark.parametrize("n", SIZES)
def test_bincount(rng, n):
    i = rng.integers(0, 50, n).astype(np.int64)
    np.testing.assert_array_equal(np.asarray(weft.bincount(i, minlength=3)),
                                  np.bincount(i, minlength=3))
    w = rng.random(n)
    got = np.asarray(weft.bincount(i, w, minlength=60))
    np.testing.assert_allclose(got, np.bincount(i, w, minlength=60), rtol=1e-12)


def test_bincount_out_of_range_raises(rng):
    with pytest.raises(weft.WeftError) as e:
        weft.bincount(np.array([0, 5], np.int32), out=np.zeros(3, np.uint64))
    assert e.value.status_name == "WEFT_ERR_RANGE"


def test_scatter_add_is_add_at(rng):
    out = rng.random(100)
    want = out.copy()
    idx = rng.integers(0, 100, 100_000).astype(np.uint32)
    vals = rng.random(100_000)
    np.add.at(want, idx, vals)
    weft.scatter_add(out, idx, vals)
    np.testing.assert_array_equal(out, want)  # the loop's order: the same bits


def test_random_is_reproducible_and_plausible():
    a = np.asarray(weft.random(1_000_000, seed=42))
    assert 0.0 <= a.min() and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.005
    b = np.asarray(weft.random(1_000_000, seed=42))
    np.testing.assert_array_equal(a, b)
    tail = np.asarray(weft.random(1000, seed=42, offset=999_000))
    np.testing.assert_array_equal(tail, a[999_000:])
    z = np.asarray(weft.random(1_000_000, "float32", dist="normal", seed=7))
    assert z.dtype == np.float32 and abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    out = np.empty(10, np.uint32)
    weft.random(out=out, seed=1)
    assert out.any()


@pytest.mark.parametrize("n", SIZES)
def test_group_by(rng, n):
    keys = rng.integers(-5, 20, n).astype(np.int64)
    vals = rng.random(n)
    k, s = weft.group_by(keys, vals, "sum")
    uk, inv = np.unique(keys, return_inverse=True)
    np.testing.assert_array_equal(k, uk)
    np.testing.assert_allclose(s, np.bincount(inv, vals, minlength=uk.size), rtol=1e-12)
    k, c = weft.group_by(keys, op="count")
    np.testing.assert_array_equal(c, np.bincount(inv, minlength=uk.size))
    k, mx = weft.group_by(keys, vals, "max")
    want = np.full(uk.size, -np.inf)
    np.maximum.at(want, inv, vals)
    np.testing.assert_array_equal(mx, want)


def test_reduce_by_key_runs(rng):
    keys = np.array([3, 3, 1, 1, 1, 3, 2], np.int32)
    vals = np.array([1, 2, 3, 4, 5, 6, 7], np.int32)
    k, s = weft.reduce_by_key(keys, vals, "sum")
    np.testing.assert_array_equal(k, [3, 1, 3, 2])
    np.testing.assert_array_equal(s, [3, 12, 6, 7])


@pytest.mark.parametrize("n", SIZES)
def test_filter(rng, n):
    x = rng.standard_normal(n)
    y = rng.integers(0, 5, n).astype(np.int32)
    got = weft.filter("x > 0 && y != 3", x=x, y=y)
    mask = (x > 0) & (y != 3)
    np.testing.assert_array_equal(got["x"], x[mask])
    np.testing.assert_array_equal(got["y"], y[mask])
    z = rng.random(n).astype(np.float32)
    (zf,) = weft.filter("x > 0", x=x, take=[z])
    np.testing.assert_array_equal(zf, z[x > 0])


def test_primitive_futures(rng):
    keys = rng.integers(0, 10, 10_000).astype(np.uint32)
    f = weft.group_by(keys, op="count", wait=False)
    k, c = f.result(timeout=60)
    np.testing.assert_array_equal(c, np.bincount(keys))
    f = weft.filter("x > 5", x=keys, wait=False)
    np.testing.assert_array_equal(f.result(timeout=60)["x"], keys[keys > 5])
    f = weft.argsort(keys, wait=False)
    np.testing.assert_array_equal(np.asarray(f.result()), np.argsort(keys, kind="stable"))


def test_rows_and_out_of_range_seeds_are_refused():
    keys = np.arange(6.0)[::-1].reshape(2, 3).copy()
    with pytest.raises(ValueError):
        weft.sort(keys)  # numpy would sort each row: never the flattened rows silently
    with pytest.raises(ValueError):
        weft.argsort(keys)
    for seed in (-1, 1 << 64):
        with pytest.raises(ValueError):
            weft.random(4, seed=seed)


def test_random_bools_are_fair_coins():
    """weft.random of a bool array stored raw bytes 0..255 (99.6% True, a sum
    of 12.7 M for 100 000 elements); each is a coin now, reproducible."""
    a = np.asarray(weft.random(100_000, "bool", seed=5))
    assert a.dtype == bool
    assert set(np.unique(a.view(np.uint8))) <= {0, 1}
    assert 0.45 < a.mean() < 0.55
    np.testing.assert_array_equal(np.asarray(weft.random(100_000, "bool", seed=5)), a)
    f = weft.random(1000, "bool", seed=5, wait=False)
    np.testing.assert_array_equal(np.asarray(f.result(timeout=60)), a[:1000])


def test_group_sums_of_bools_count_in_int64():
    """group_by / reduce_by_key 'sum' of bools returned the counts in a bool
    array, wrapped mod 256 (300 became 44, shown as True)."""
    keys = np.repeat(np.array([1, 2], np.int64), 300)
    values = np.ones(600, bool)
    for run in (weft.group_by, weft.reduce_by_key):
        k, s = run(keys, values, "sum")
        np.testing.assert_array_equal(k, [1, 2])
        assert s.dtype == np.int64
        np.testing.assert_array_equal(s, [300, 300])


def test_numpy_integers_as_sizes_and_counts():
    """Sizes numpy computes (np.prod, np.sum of a mask: np.int64) were refused
    with "'numpy.int64' object is not iterable"; floats are refused, not
    truncated, and histogram says which bins it takes."""
    n = np.int64(4)
    assert weft.zeros(n).size == 4
    assert weft.empty(np.int32(3), "int64").size == 3
    assert weft.random(n, seed=1).size == 4
    counts, _ = weft.histogram(np.arange(8.0), bins=n)
    np.testing.assert_array_equal(np.asarray(counts), [2, 2, 2, 2])
    np.testing.assert_array_equal(np.asarray(weft.bincount(np.array([0, 1], np.int64), minlength=n)),
                                  [1, 1, 0, 0])
    with pytest.raises(TypeError):
        weft.zeros(2.0)
    with pytest.raises(TypeError, match="equal-width"):
        weft.histogram(np.arange(8.0), bins="auto")
    with pytest.raises(TypeError, match="equal-width"):
        weft.histogram(np.arange(8.0), bins=[0.0, 2.0, 8.0])


def test_random_into_out_refuses_another_shape_or_dtype():
    """random(shape, dtype, out=) filled out and ignored the shape and dtype
    given with it; a mismatch is refused, a match or out alone works."""
    out = np.zeros(8)
    with pytest.raises(ValueError, match="shape"):
        weft.random(4, out=out)
    with pytest.raises(ValueError, match="dtype"):
        weft.random(8, "float32", out=out)
    weft.random(8, "float64", out=out, seed=3)
    np.testing.assert_array_equal(out, np.asarray(weft.random(8, seed=3)))
