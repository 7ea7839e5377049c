"""weft.Error subclasses per status, stats, and the examples run."""
import pathlib
import runpy

import numpy as np
import pytest

import weft

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"


def test_expression_errors_point_at_the_column():
    with pytest.raises(weft.ExprError) as e:
        weft.map("y = x * (1 +", x=np.ones(3), y=np.zeros(3))
    msg = str(e.value)
    assert "column" in msg and "\n" in msg and msg.rstrip().endswith("^")
    assert isinstance(e.value, weft.Error) and isinstance(e.value, ValueError)
    assert e.value.status_name == "WEFT_ERR_EXPR"


def test_each_status_has_its_class():
    with pytest.raises(weft.SizeError):
        weft.map("y = x", x=np.ones(3), y=np.zeros(4))
    with pytest.raises(weft.RangeError):
        weft.sum(np.full(4, 2**63, np.uint64))
    with pytest.raises(weft.SizeError):
        weft.min(np.zeros(0))
    assert issubclass(weft.DtypeError, TypeError) and issubclass(weft.DataError, ValueError)
    assert weft.Error is weft.WeftError and issubclass(weft.NoDeviceError, RuntimeError)


def test_cancelled_has_its_class():
    import concurrent.futures

    assert issubclass(weft.CancelledError, weft.WeftError)
    assert issubclass(weft.CancelledError, concurrent.futures.CancelledError)
    assert weft.CancelledError.__module__ == "weft" and "CancelledError" in weft.__all__


def test_future_failures_keep_their_class():
    f = weft.sum(np.full(4, 2**63, np.uint64), wait=False)
    assert isinstance(f.exception(timeout=30), weft.RangeError)


def test_stats():
    ctx = weft.Context(devices="host", num_threads=2)
    x = weft.asarray(np.ones(10_000), ctx=ctx)
    weft.sum(x)
    weft.map("y = x * 2", x=x, y=weft.zeros(10_000, ctx=ctx))
    st = ctx.stats()
    assert st["tasks"] >= 1 and "kernels_kept_whole" in st
    ops = ctx.op_stats()
    assert any("x * 2" in o["operation"] for o in ops)
    assert all(o["calls"] >= 1 and o["devices"] for o in ops)
    ctx.reset_stats()
    assert ctx.stats()["tasks"] == 0


@pytest.mark.parametrize("name", ["numexpr_style.py", "monte_carlo.py", "csv_pipeline.py"])
def test_examples_run(name, monkeypatch):
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip("examples/ not beside the tests")
    monkeypatch.setattr("sys.argv", [str(path)])
    mod = runpy.run_path(str(path), run_name="example")
    if "main" in mod:
        small = {"monte_carlo.py": (200_000,), "csv_pipeline.py": (5_000,)}[name]
        r = mod["main"](*small)
        if name == "monte_carlo.py":
            assert r < 0.02


def test_first_use_mistakes_named():
    # Bare KeyErrors and C enum numbers reached the caller; "SUM" (the C
    # name) was refused; a negative minlength was accepted.
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="one of: sum"):
        weft.reduce("median", x)
    with pytest.raises(ValueError, match="one of: sum, min, max"):
        weft.scan(x, op="prod")
    with pytest.raises(ValueError, match="uniform"):
        weft.random(5, dist="poisson")
    with pytest.raises(ValueError, match="minlength"):
        weft.bincount(np.array([1, 2]), minlength=-1)
    assert weft.reduce("SUM", x) == 45.0


def test_csv_reduce_and_types_as_the_cli_spells_them(tmp_path):
    import weft.csv

    src = tmp_path / "a.csv"
    src.write_text("x\n1\n2\n")
    assert weft.csv.run(src, None, reduce="sum: x", types="x=f64").reductions == {"sum: x": 3.0}
    assert weft.csv.run(src, None, reduce=["sum: x", "max: x"]).reductions == {"sum: x": 3, "max: x": 2}


def test_a_name_bound_twice_is_refused():
    """In binds and as a keyword, or twice in a list: the last one silently
    won (the C API refuses it)."""
    a, b, y = np.full(3, 1.0), np.full(3, 2.0), np.zeros(3)
    with pytest.raises(ValueError, match="'x' is bound twice"):
        weft.map("y = x", {"x": a}, x=b, y=y)
    with pytest.raises(ValueError, match="'x' is bound twice"):
        weft.map("y = x", [("x", a), ("x", b), ("y", y)])
    with pytest.raises(ValueError, match="'x' is bound twice"):
        weft.reduce_expr("sum", "x", {"x": a}, x=b)
    with pytest.raises(ValueError, match="'x' is bound twice"):
        weft.filter("x > 1.5", {"x": a}, x=b)
    assert np.all(y == 0)
    weft.map("y = x", [("x", a), ("y", y)])  # a list of pairs still binds
    assert np.all(y == 1)


def test_masked_arrays_are_refused():
    """Their data came without the mask: sums counted the masked values and
    maps wrote the masked slots."""
    m = np.ma.masked_array(np.arange(5.0), mask=[0, 1, 0, 1, 0])
    for call in (lambda: weft.sum(m), lambda: weft.Array(m),
                 lambda: weft.map("y = x * 2", x=np.ones(5), y=m)):
        with pytest.raises(TypeError, match="masked array"):
            call()
    assert weft.sum(m.filled(0.0)) == 6.0


def test_a_strided_output_is_refused_saying_why():
    """The inputs' advice (allow a copy) would lose an output's results."""
    y = np.zeros(10)
    for call in (lambda: weft.map("y = y + 1", y=y[::2]),
                 lambda: weft.cumsum(np.ones(5), out=y[::2])):
        with pytest.raises(ValueError, match="must be one C-contiguous block"):
            call()
    assert np.all(y == 0)


def test_small_slips_are_named():
    """A first week's slips, each answered in the terms the user wrote."""
    x = np.arange(8, dtype=np.float64)
    with pytest.raises(ValueError, match="'keys' must be one C-contiguous"):
        weft.sort(x[::-1])
    with pytest.raises(TypeError, match="take is a list of arrays"):
        weft.filter("x > 5", x=x, take=["x"])
    with pytest.raises(TypeError, match="the expression is a string"):
        weft.filter(x > 5, x=x)
    with pytest.raises(TypeError, match="names bound are strings"):
        weft.map("y = x", {1: x}, y=np.zeros(8))
    with pytest.raises(TypeError, match=r"pass x.view\('int64'\)"):
        weft.sum(np.arange(3).astype("datetime64[s]"))
    with pytest.raises(ValueError, match="sizes are 0 to 2\\*\\*63 - 1, not 18446744073709551616"):
        weft.empty(2**64)
    with pytest.raises(ValueError, match="not -1"):
        weft.zeros((3, -1))
    for text, hint in [("y = x ** 2", "pow(x, y)"), ("y = where(x > 2, x, 0)", "c ? a : b"),
                       ("y = (x > 2) and (x < 5)", "&&")]:
        with pytest.raises(weft.ExprError, match=hint.replace("?", r"\?").replace("(", r"\(")
                           .replace(")", r"\)")):
            weft.map(text, x=x, y=np.zeros(8))
    b = weft.zeros(4, "bool")
    with pytest.raises(TypeError, match="dtype is not bool"):
        b.write(np.array([2, 3], np.uint8))
    y = np.zeros(8)
    weft.map("y = x > 3 ? inf : -inf", x=x, y=y)
    assert np.array_equal(y, np.where(x > 3, np.inf, -np.inf))


def test_read_only_memory_is_never_written_through_another_wrap():
    """A read-only view of memory a writable array wraps (bound beside it,
    or in flight) got that writable wrap back, and weft wrote through it."""
    x = np.random.default_rng(0).random(1_000_000)
    ro = x.view()
    ro.flags.writeable = False
    before = ro.copy()
    f = weft.map("y = sin(y) * 0 + y", y=x, wait=False)  # x in flight
    with pytest.raises(ValueError, match="read-only"):
        weft.map("y = 1", y=ro)
    f.result()
    for binds in ({"x": x, "y": ro}, {"y": ro, "x": x}):
        with pytest.raises(ValueError, match="read-only"):
            weft.map("y = x + 1", **binds)
    prog = weft.program("__kernel void fill(__global double *y) { y[get_global_id(0)] = 7.0; }")
    f = weft.map("y = sin(y) * 0 + y", y=x, wait=False)
    with pytest.raises((ValueError, weft.NoDeviceError)):  # no OpenCL: nothing runs it
        prog.launch("fill", ro.size, ro)
    f.result()
    assert np.array_equal(ro, before)
    # The mirror: a writable output beside a read-only view of its memory is
    # in-place work, as numpy's np.add(ro, 1, out=x).
    a = np.arange(5.0)
    view = a.view()
    view.flags.writeable = False
    weft.map("y = x + 1", x=view, y=a)
    assert np.array_equal(a, np.arange(5.0) + 1)


def test_arrays_of_other_shapes_are_refused_not_combined_in_c_order():
    col, row = np.ones((3, 1)), np.arange(3.0)
    with pytest.raises(ValueError, match="broadcasts nothing"):
        weft.reduce_expr("sum", "x * z", x=col, z=row)
    with pytest.raises(ValueError, match="broadcasts nothing"):
        weft.map("y = x", x=np.arange(6.0).reshape(2, 3), y=np.zeros((3, 2)))
    y = np.zeros((2, 3))
    weft.map("y = x * 2", x=np.arange(6.0).reshape(2, 3), y=y)
    assert np.array_equal(y, np.arange(6.0).reshape(2, 3) * 2)


def test_one_numpy_array_through_two_contexts_keeps_its_order():
    c1, c2 = weft.Context(), weft.Context()
    y = np.zeros(1_000_000)
    futures = [weft.map("y = y + 1", y=y, ctx=(c1, c2)[k % 2], wait=False) for k in range(20)]
    for f in futures:
        f.result()
    assert np.all(y == 20.0)


def test_a_pandas_series_is_told_to_numpy():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match=r"\.to_numpy\(\)"):
        weft.sum(pd.Series([1.0, 2.0]))


def test_bools_write_into_bytes_and_take_may_be_a_generator():
    u = weft.zeros(2, "uint8")
    u.write(np.array([True, False]))
    assert np.array_equal(np.asarray(u), [1, 0])
    x = np.arange(8.0)
    got = weft.filter("x > 5", x=x, take=(a for a in [x]))
    assert np.array_equal(got[0], [6.0, 7.0])


def test_a_view_as_another_dtype_is_another_array():
    """An input viewing an output's memory as another dtype was read through
    the output's wrap (`y = x + 1` with x = y.view(int64) gave [1, 1, 1, 1]);
    it is another array over the same memory, refused as overlapping."""
    y = np.zeros(4)
    x = y.view(np.int64)
    x[:] = [1, 2, 3, 4]
    with pytest.raises(ValueError, match="overlapping"):
        weft.map("y = x + 1", x=x, y=y)


def test_overlapping_views_through_two_contexts_keep_their_order():
    c1, c2 = weft.Context(), weft.Context()
    y = np.zeros(1_000_001)
    futures = [weft.map("y = y + 1", y=(y, y[1:])[k % 2], ctx=(c1, c2)[k % 2], wait=False)
               for k in range(20)]
    for f in futures:
        f.result()
    assert y[0] == 10.0 and np.all(y[1:] == 20.0)
