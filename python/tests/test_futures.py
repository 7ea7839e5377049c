"""Futures are concurrent.futures futures; blocking calls release the GIL."""
import concurrent.futures as cf
import threading
import time

import numpy as np
import pytest

import weft


def test_future_is_a_concurrent_future(rng):
    x = rng.random(50_000)
    f = weft.sum(x, wait=False)
    assert isinstance(f, cf.Future)
    assert f.result() == pytest.approx(x.sum(), rel=1e-12)
    assert f.done() and not f.cancel()


def test_wait_and_as_completed(rng):
    xs = [rng.random(20_000 + i) for i in range(8)]
    futs = [weft.sum(x, wait=False) for x in xs]
    done, not_done = cf.wait(futs, timeout=60)
    assert not not_done
    seen = {id(f) for f in cf.as_completed(futs, timeout=60)}
    assert seen == {id(f) for f in futs}
    for f, x in zip(futs, xs):
        assert f.result() == pytest.approx(x.sum(), rel=1e-12)


def test_futures_complete_without_anyone_waiting(rng):
    x = rng.random(10_000)
    f = weft.reduce_expr("sum", "x * 2", x=x, wait=False)
    called = threading.Event()
    f.add_done_callback(lambda _: called.set())
    assert called.wait(30)
    assert f.result() == pytest.approx(2 * x.sum(), rel=1e-12)


def test_map_future_then_read(rng):
    x = rng.random(100_000)
    y = np.zeros_like(x)
    f = weft.map("y = x * x", x=x, y=y, wait=False)
    assert f.result(timeout=60) is None
    np.testing.assert_array_equal(y, x * x)


def test_scan_future_gives_the_array(rng):
    x = rng.integers(0, 5, 10_000).astype(np.int32)
    f = weft.cumsum(x, wait=False)
    out = f.result()
    np.testing.assert_array_equal(np.asarray(out), np.cumsum(x, dtype=np.int32))


def test_future_exception_is_weft_error():
    x = np.full(10, 2**63, np.uint64)  # the u64 sum overflows as it runs
    f = weft.sum(x, wait=False)
    exc = f.exception(timeout=30)
    assert isinstance(exc, weft.WeftError) and exc.status_name == "WEFT_ERR_RANGE"
    assert exc.detail
    with pytest.raises(weft.WeftError):
        f.result()
    with pytest.raises(weft.WeftError, match="WEFT_ERR_RANGE"):
        weft.sum(x)


def test_submission_errors_raise_at_once():
    with pytest.raises(weft.WeftError):
        weft.map("y = (", y=np.zeros(3), wait=False)


def test_many_futures_in_flight_and_dropped(rng):
    x = rng.random(5000)
    futs = [weft.sum(x, wait=False) for _ in range(50)]
    expect = weft.sum(x)
    assert all(f.result(timeout=60) == expect for f in futs)
    for _ in range(20):
        weft.sum(x, wait=False)  # dropped: weft still completes them
    weft.finish()


def test_gil_released_during_blocking_calls(rng):
    """Another Python thread runs while weft computes."""
    x = rng.random(2_000_000)
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=spin)
    t.start()
    try:
        before = ticks
        for _ in range(5):
            weft.reduce_expr("sum", "sqrt(x) * sin(x) + exp(x)", x=x)
        after = ticks
    finally:
        stop.set()
        t.join()
    assert after > before


def test_threads_share_the_context(rng):
    xs = [rng.random(30_000) for _ in range(4)]
    with cf.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(weft.sum, xs))
    assert got == [weft.sum(x) for x in xs]


def test_futures_from_many_threads(rng):
    xs = [rng.random(10_000 + 7 * i) for i in range(6)]
    expect = [weft.sum(x) for x in xs]

    def submit(i):
        return [weft.sum(xs[i], wait=False) for _ in range(5)]

    with cf.ThreadPoolExecutor(3) as pool:
        batches = list(pool.map(submit, range(len(xs))))
    futs = [f for batch in batches for f in batch]
    assert len(list(cf.as_completed(futs, timeout=60))) == len(futs)
    for i, batch in enumerate(batches):
        assert all(f.result() == expect[i] for f in batch)


def test_other_context_futures(rng):
    ctx = weft.Context(devices="host", num_threads=2)
    x = weft.asarray(rng.random(50_000), ctx=ctx)
    f = weft.sum(x, wait=False)
    assert f.result(timeout=60) == pytest.approx(np.asarray(x).sum(), rel=1e-12)
    assert ctx.num_threads == 2 and ctx.devices()[0]["kind"] == "host"


def test_weft_completes_futures_without_a_python_thread(rng):
    """weft's callback thread completes the future: no Python thread polls.
    (A future whose operation is done when it is made is done at once; this
    one runs for tens of milliseconds.)"""
    x = rng.random(4_000_000)
    before = {t.ident for t in threading.enumerate()}
    seen = {}
    done = threading.Event()

    def callback(f):
        seen["thread"] = threading.get_ident()
        seen["value"] = f.result()
        done.set()

    f = weft.reduce_expr("sum", "sqrt(x) * sin(x) + exp(x) * 3", x=x, wait=False)
    f.add_done_callback(callback)
    assert done.wait(30)
    assert seen["thread"] != threading.get_ident()
    assert seen["value"] == pytest.approx(np.sum(np.sqrt(x) * np.sin(x) + np.exp(x) * 3), rel=1e-9)
    # The callback thread is weft's, not a Python thread the package started.
    assert seen["thread"] not in {t.ident for t in threading.enumerate()} - {threading.get_ident()} or \
        seen["thread"] in before
    assert not any(t.name.startswith("weft") for t in threading.enumerate())


def test_a_done_callback_may_call_weft(rng):
    """The callback runs outside weft's locks: a blocking operation on the same
    context inside it does not deadlock."""
    x = rng.random(100_000)
    y = np.zeros_like(x)
    got = {}
    done = threading.Event()

    def callback(f):
        got["sum"] = weft.sum(y)  # sees the map's result: stream order
        done.set()

    weft.map("y = x + 1", x=x, y=y, wait=False).add_done_callback(callback)
    assert done.wait(30)
    assert got["sum"] == pytest.approx((x + 1).sum(), rel=1e-12)


def test_as_completed_over_many_contexts(rng):
    ctxs = [weft.Context(devices="host", num_threads=1) for _ in range(3)]
    xs = [weft.asarray(rng.random(40_000), ctx=c) for c in ctxs]
    futs = [weft.sum(x, wait=False) for x in xs for _ in range(4)]
    done = list(cf.as_completed(futs, timeout=60))
    assert len(done) == len(futs)
    for f in futs:
        assert f.done() and f.exception() is None


def test_a_failure_completes_the_future_on_its_own(rng):
    x = np.full(10, 2**63, np.uint64)
    f = weft.sum(x, wait=False)
    done, _ = cf.wait([f], timeout=30)  # nobody calls result(): weft completes it
    assert f in done
    assert isinstance(f.exception(timeout=0), weft.WeftError)


def test_async_calls_on_one_numpy_array_keep_their_order():
    # Each call wrapped the numpy memory anew: five wraps of one y, unordered,
    # and device copies of one overwrote another's results (y was 1 or 3).
    n = 300_001
    x = np.ones(n)
    y = np.zeros(n)
    futs = [weft.map("y = y + x", x=x, y=y, wait=False) for _ in range(5)]
    for f in futs:
        f.result()
    assert np.all(y == 5.0)
    # A blocking call right after an asynchronous one into the same memory.
    y2 = np.zeros(n)
    f = weft.map("y = x * 2", x=x, y=y2, wait=False)
    assert weft.sum(y2) == 2.0 * n
    f.result()


def test_threads_on_one_numpy_array_keep_their_updates():
    import threading

    n = 100_003
    x = np.ones(n)
    y = np.zeros(n)

    def work():
        for _ in range(25):
            weft.map("y = y + x", x=x, y=y)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.all(y == 100.0)


def test_wrapping_survives_the_collector_freeing_a_wrap():
    # The cyclic GC, run by an allocation inside the wrap registry's lock,
    # freed a wrap whose weakref callback took the same lock: a hang.
    import gc

    old = gc.get_threshold()
    gc.set_threshold(1)
    try:
        from weft import _wraps

        ctx = weft.get_context()
        mems = [np.zeros(1000, np.float32) for _ in range(50)]
        class Holder:
            pass

        for i in range(49):
            cycle = Holder()
            cycle.me = cycle  # only the collector frees this wrap
            cycle.a = _wraps.wrap(mems[i], copy=None, ctx=ctx)
            del cycle
            b = _wraps.wrap(mems[i + 1], copy=None, ctx=ctx)  # the collector runs in here
            del b
    finally:
        gc.set_threshold(*old)


def test_a_future_the_caller_set_keeps_its_value(capfd):
    """concurrent.futures lets anyone set a future: weft's completion then
    printed InvalidStateError tracebacks on its own."""
    x, y = np.ones(1 << 24), np.empty(1 << 24)
    f = weft.map("y = sqrt(x) * 2 + 1", x=x, y=y, wait=False)
    try:
        f.set_result("mine")
    except cf.InvalidStateError:
        pytest.skip("the map finished before the caller set its future")
    assert f.result() == "mine"
    weft.get_context().finish()
    assert "InvalidStateError" not in capfd.readouterr().err


class _InterruptedOnce:
    """An operation whose first wait is interrupted (Ctrl-C arriving while
    result() waits), as weft's Op behaves: _on_done, _claim, _unclaim."""

    def __init__(self):
        self.waits = 0
        self.claimed = False
        self.callback = None
        self.finished = False

    def _on_done(self, callback):
        if self.finished:
            return False
        self.callback = callback
        return True

    def _claim(self):
        if self.claimed:
            return False
        self.claimed, self.callback = True, None
        return True

    def _unclaim(self):
        self.claimed = False

    def wait(self):
        self.waits += 1
        if self.waits == 1:
            raise KeyboardInterrupt
        return 42


def test_an_interrupted_wait_is_not_the_operations_outcome():
    """Ctrl-C during result() stopped the wait and was stored as the
    future's exception for good: the operation's value was lost to every
    later result(), as_completed and done callback."""
    op = _InterruptedOnce()
    f = weft.Future(op, weft.get_context())
    seen = []
    f.add_done_callback(lambda done: seen.append(done.result()))
    with pytest.raises(KeyboardInterrupt):
        f.result()
    assert not f.done()
    assert op.callback is not None  # waiting for the operation again
    op.finished = True
    op.callback()  # weft's completion
    assert f.result(timeout=1) == 42
    assert seen == [42]
