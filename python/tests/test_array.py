"""weft.Array: wrapping memory without copies, exporting it without copies."""
import array as pyarray
import ctypes
import gc

import numpy as np
import pytest

import weft

NUMPY_VERSION = tuple(int(p) for p in np.__version__.split(".")[:2])
DTYPES = ["float32", "float64", "int32", "uint32", "int64", "uint64", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_wrap_is_zero_copy_and_round_trips(dtype, rng):
    x = (rng.random(1000) * 100).astype(dtype)
    a = weft.asarray(x, copy=False)
    assert a.wraps_memory and not a.readonly
    assert a.dtype == np.dtype(dtype).name
    assert a.shape == (1000,) and a.size == 1000 and len(a) == 1000
    views = [np.asarray(a), np.array(a, copy=False)]
    # kDLBool reached numpy's from_dlpack in 1.25.
    if dtype != "bool" or NUMPY_VERSION >= (1, 25):
        views.append(np.from_dlpack(a))
    for view in views:
        assert view.dtype == x.dtype
        assert np.shares_memory(view, x)
        np.testing.assert_array_equal(view, x)


def test_interface_and_buffer_agree(rng):
    x = rng.random((3, 5))
    a = weft.asarray(x)
    iface = a.__array_interface__
    assert iface["data"][0] == x.ctypes.data
    assert iface["shape"] == (3, 5) and iface["typestr"] == "<f8" and iface["version"] == 3
    m = memoryview(a)
    assert m.shape == (3, 5) and m.format == "d" and not m.readonly
    assert np.asarray(a).shape == (3, 5)


def test_dlpack_legacy_and_versioned_capsules(rng):
    x = rng.random(17).astype(np.float32)
    a = weft.asarray(x)
    assert a.__dlpack_device__() == (1, 0)
    legacy = a.__dlpack__()
    assert "dltensor" in repr(legacy) and "versioned" not in repr(legacy)
    versioned = a.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(versioned)
    assert "dltensor" in repr(a.__dlpack__(max_version=(0, 8)))
    # Unconsumed capsules free themselves and release the array.
    del legacy, versioned
    gc.collect()
    with pytest.raises(BufferError):
        a.__dlpack__(dl_device=(2, 0))
    copied = np.from_dlpack(Capsule(a.__dlpack__(copy=True)))
    assert not np.shares_memory(copied, x)
    np.testing.assert_array_equal(copied, x)


class Capsule:
    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def test_dlpack_keeps_array_alive(rng):
    x = weft.zeros(100, "float64")
    v = np.from_dlpack(x)
    addr = x._address
    del x
    gc.collect()
    assert v.ctypes.data == addr
    assert v.sum() == 0.0


def test_non_contiguous_copies_unless_forbidden(rng):
    x = rng.random(100)[::2]
    with pytest.raises(ValueError, match="copy"):
        weft.asarray(x, copy=False)
    a = weft.asarray(x)
    assert not a.wraps_memory and a.aligned
    np.testing.assert_array_equal(np.asarray(a), x)
    assert not np.shares_memory(np.asarray(a), x)


def test_copy_true_always_copies(rng):
    x = rng.random(10)
    a = weft.asarray(x, copy=True)
    assert not a.wraps_memory
    x[:] = 0
    assert np.asarray(a).sum() > 0


def test_read_only_exporters_wrap_read_only(rng):
    x = rng.random(10)
    x.flags.writeable = False
    a = weft.asarray(x)
    assert a.readonly and a.wraps_memory
    assert np.shares_memory(np.asarray(a), x)
    assert weft.sum(a) == pytest.approx(x.sum())
    with pytest.raises(ValueError, match="read-only"):
        weft.map("y = x", x=np.ones(10), y=a)
    b = weft.asarray(bytes(range(8)))
    assert b.readonly and b.dtype == "uint8" and weft.sum(b) == 28


def test_other_exporters():
    arr = pyarray.array("d", [1.0, 2.0, 3.5])
    a = weft.asarray(arr)
    assert a.wraps_memory and weft.sum(a) == 6.5
    buf = (ctypes.c_int32 * 4)(1, 2, 3, 4)
    assert weft.sum(weft.asarray(buf)) == 10


class InterfaceOnly:
    def __init__(self, arr):
        self._arr = arr
        self.__array_interface__ = arr.__array_interface__


def test_array_interface_input(rng):
    x = rng.random(50)
    a = weft.asarray(InterfaceOnly(x), copy=False)
    assert a.wraps_memory and a._address == x.ctypes.data
    strided = InterfaceOnly(x[::5])
    with pytest.raises(ValueError):
        weft.asarray(strided, copy=False)
    np.testing.assert_array_equal(np.asarray(weft.asarray(strided)), x[::5])


@pytest.mark.parametrize("dtype", ["int16", "float16", "complex64", "int8"])
def test_unsupported_dtypes_raise(dtype):
    with pytest.raises(TypeError, match="no dtype"):
        weft.asarray(np.zeros(4, dtype))


def test_byte_swapped_raises():
    with pytest.raises(TypeError):
        weft.asarray(np.zeros(4, ">f8"))


def test_empty_zeros_and_alignment():
    z = weft.zeros((4, 3), "int32")
    assert z.aligned and not z.wraps_memory and z.shape == (4, 3)
    assert z._address % weft.wrap_alignment() == 0
    np.testing.assert_array_equal(np.asarray(z), np.zeros((4, 3), np.int32))
    e = weft.empty(0)
    assert np.asarray(e).shape == (0,)
    assert weft.sum(e) == 0.0


def test_results_reach_the_wrapped_memory_when_the_array_goes(rng):
    x = rng.random(5000)
    y = np.zeros_like(x)
    weft.map("y = x + 1", x=x, y=y)
    np.testing.assert_array_equal(y, x + 1)


def test_write_and_mark_host_modified(rng):
    a = weft.zeros(1000, "float64")
    src = rng.random(1000)
    a.write(src)
    assert weft.sum(a) == pytest.approx(src.sum())
    a.write(np.ones(10), offset=990)
    np.testing.assert_array_equal(np.asarray(a)[990:], np.ones(10))
    view = np.asarray(a)
    view[:] = 2.0
    a.mark_host_modified()
    assert weft.sum(a) == 2000.0
    with pytest.raises(IndexError):
        a.write(np.ones(10), offset=995)
    with pytest.raises(TypeError):
        a.write(np.ones(10, np.float32))


def test_asarray_returns_the_same_array():
    a = weft.zeros(3)
    assert weft.asarray(a) is a
    assert weft.asarray(a, copy=True) is not a


def test_not_an_array():
    with pytest.raises(TypeError):
        weft.asarray(object())


def test_weft_dtype_names():
    # weft's own names work as in CSV types; "u8" (weft: uint8, numpy: uint64)
    # is refused rather than taken as 8-byte integers.
    for name, want in [("f32", np.float32), ("f64", np.float64), ("i32", np.int32),
                       ("u32", np.uint32), ("i64", np.int64), ("u64", np.uint64)]:
        assert np.asarray(weft.zeros(4, name)).dtype == want
    with pytest.raises(TypeError, match="ambiguous"):
        weft.zeros(4, "u8")
    assert np.asarray(weft.zeros(4, "uint8")).dtype == np.uint8
