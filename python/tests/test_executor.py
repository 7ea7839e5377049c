"""weft.Executor: concurrent.futures' executor interface over Python callables."""
import concurrent.futures
import threading

import numpy as np
import pytest

import weft


def test_submit_and_map(rng):
    chunks = [rng.random(10_000) for _ in range(16)]
    with weft.Executor(max_workers=4) as ex:
        assert isinstance(ex, concurrent.futures.Executor) and ex.max_workers == 4
        f = ex.submit(weft.sum, chunks[0])
        assert isinstance(f, concurrent.futures.Future)
        assert f.result(timeout=30) == weft.sum(chunks[0])
        got = list(ex.map(weft.sum, chunks))
        assert got == [weft.sum(c) for c in chunks]
        # Several iterables, as builtins.map; keyword arguments through submit.
        assert list(ex.map(lambda a, b: a * b, [1, 2, 3], [4, 5, 6, 7])) == [4, 10, 18]
        assert ex.submit(weft.mean, x=chunks[1]).result(timeout=30) == weft.mean(chunks[1])


def test_exceptions_and_default_size():
    ctx = weft.Context(devices="host", num_threads=3)
    with weft.Executor(ctx=ctx) as ex:
        assert ex.max_workers == 3 and ex.ctx is ctx
        f = ex.submit(weft.min, np.zeros(0))
        assert isinstance(f.exception(timeout=30), weft.SizeError)
        it = ex.map(weft.min, [np.ones(2), np.zeros(0)])
        assert next(it) == 1.0
        with pytest.raises(weft.SizeError):
            next(it)
    with pytest.raises(TypeError):
        weft.Executor(ctx="host")


def test_callables_run_on_several_threads():
    barrier = threading.Barrier(3, timeout=30)

    def meet(_):
        barrier.wait()
        return threading.current_thread().name

    with weft.Executor(max_workers=3) as ex:
        names = list(ex.map(meet, range(3)))
    assert len(set(names)) == 3 and all(n.startswith("weft-executor") for n in names)
    with pytest.raises(RuntimeError):
        ex.submit(int)
