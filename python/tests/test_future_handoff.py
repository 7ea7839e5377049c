"""A weft.Future is completed by whoever gets there first: a thread in
result()/exception() (which takes weft's completion callback back), or
weft's callback thread (for concurrent.futures.wait, as_completed and done
callbacks with nobody waiting). Either way exactly once, with the right value,
and nothing is left behind."""
import concurrent.futures as cf
import gc
import logging
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import weft
from weft import _weft

SLOW = "sqrt(x) * sin(x) + exp(x)"  # tens of milliseconds over 4M elements


def settled(base=None, timeout=30.0):
    """Waits until no Op callback is left to run and, given base, the callbacks
    weft still holds are back to base (the callback thread frees those it was
    handed after their futures were claimed). Returns the counts, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        gc.collect()
        counts = _weft._future_counts()
        if counts[1] == 0 and (base is None or counts == base):
            return counts
        time.sleep(0.01)
    return None


class Calls:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def __call__(self, f):
        with self.lock:
            self.seen.append((id(f), threading.get_ident()))


def test_result_completes_on_the_waiting_thread(rng):
    base = settled()
    x = rng.random(4_000_000)
    calls = Calls()
    f = weft.reduce_expr("sum", SLOW, x=x, wait=False)
    f.add_done_callback(calls)
    assert f.result() == pytest.approx(np.sum(np.sqrt(x) * np.sin(x) + np.exp(x)), rel=1e-9)
    # The operation was still running when result() claimed it: the waiter
    # completed the future (so ran its callbacks) and weft's callback was
    # taken back, not handed to the callback thread.
    assert calls.seen == [(id(f), threading.get_ident())]
    assert _weft._future_counts()[1] == 0
    del f
    assert settled(base)


def test_exception_without_timeout_completes_a_failure():
    calls = Calls()
    f = weft.sum(np.full(10, 2**63, np.uint64), wait=False)  # overflows as it runs
    f.add_done_callback(calls)
    exc = f.exception()
    assert isinstance(exc, weft.WeftError) and exc.status_name == "WEFT_ERR_RANGE"
    with pytest.raises(weft.WeftError, match="WEFT_ERR_RANGE"):
        f.result()
    assert [c[0] for c in calls.seen] == [id(f)]


def test_many_threads_wait_for_one_future(rng):
    x = rng.random(4_000_000)
    expect = weft.reduce_expr("sum", SLOW, x=x)
    calls = Calls()
    f = weft.reduce_expr("sum", SLOW, x=x, wait=False)
    f.add_done_callback(calls)
    start = threading.Barrier(8)

    def wait_one(i):
        start.wait()
        return f.result() if i % 2 else (f.exception(), f.result())[1]

    with cf.ThreadPoolExecutor(8) as pool:
        got = list(pool.map(wait_one, range(8)))
    assert got == [expect] * 8
    assert [c[0] for c in calls.seen] == [id(f)]


def test_futures_made_here_completed_from_other_threads(rng):
    xs = [rng.random(5_000 + 13 * i) for i in range(40)]
    expect = [weft.sum(x) for x in xs]
    calls = Calls()
    futs = [weft.sum(x, wait=False) for x in xs]
    for f in futs:
        f.add_done_callback(calls)
    # Half waited by pool threads' result(), half left to weft's callback thread.
    with cf.ThreadPoolExecutor(4) as pool:
        waited = list(pool.map(lambda f: f.result(), futs[::2]))
    done, not_done = cf.wait(futs[1::2], timeout=60)
    assert not not_done
    assert waited == expect[::2]
    assert [f.result() for f in futs] == expect
    assert sorted(c[0] for c in calls.seen) == sorted(id(f) for f in futs)


def test_many_futures_waited_concurrently(rng):
    xs = [rng.random(2_000 + i) for i in range(300)]
    expect = {i: weft.sum(x) for i, x in enumerate(xs)}
    calls = Calls()
    futs = [weft.sum(x, wait=False) for x in xs]
    for f in futs:
        f.add_done_callback(calls)
    index = {id(f): i for i, f in enumerate(futs)}

    def waiter(k):
        if k % 2:
            done, not_done = cf.wait(futs, timeout=60)
            return len(done), len(not_done)
        return len([f for f in cf.as_completed(futs[k::3], timeout=60)]), 0

    with cf.ThreadPoolExecutor(4) as pool:
        pending = [pool.submit(waiter, k) for k in range(4)]
        mine = {index[id(f)]: f.result() for f in futs[::5]}  # claims, meanwhile
        got = [p.result(timeout=120) for p in pending]
    assert got[1] == (300, 0) and got[3] == (300, 0)
    assert got[0][0] == len(futs[0::3]) and got[2][0] == len(futs[2::3])
    assert all(mine[i] == expect[i] for i in mine)
    assert all(f.result() == expect[i] for i, f in enumerate(futs))
    assert sorted(c[0] for c in calls.seen) == sorted(index)


def test_a_raising_done_callback_does_not_stop_the_others(rng, caplog):
    x = rng.random(10_000)
    calls = Calls()

    def bad(f):
        raise RuntimeError("callback failed")

    caplog.set_level(logging.ERROR, logger="concurrent.futures")
    # Completed by result() here, and by weft's callback thread.
    claimed = weft.reduce_expr("sum", SLOW, x=rng.random(4_000_000), wait=False)
    left = weft.sum(x, wait=False)
    for f in (claimed, left):
        f.add_done_callback(bad)
        f.add_done_callback(calls)
    claimed.result()
    assert cf.wait([left], timeout=30).done == {left}
    end = time.monotonic() + 30
    while len(calls.seen) < 2 and time.monotonic() < end:
        time.sleep(0.01)  # left's callbacks run after its waiters are woken
    assert sorted(c[0] for c in calls.seen) == sorted([id(claimed), id(left)])
    assert left.result() == pytest.approx(x.sum(), rel=1e-12)
    assert sum("callback failed" in r.getMessage() or (r.exc_info and "callback failed" in str(r.exc_info[1]))
               for r in caplog.records) == 2


def test_no_leak_over_many_futures(rng):
    x = weft.asarray(rng.random(1000), copy=True)
    y = weft.asarray(rng.random(1000), copy=True)
    for _ in range(2000):
        weft.map("y = a*x + y", a=2.0, x=x, y=y, wait=False).result()
        cf.wait([weft.map("y = a*x + y", a=2.0, x=x, y=y, wait=False)])
    base = settled()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100_000):
            weft.map("y = a*x + y", a=2.0, x=x, y=y, wait=False).result()
        for _ in range(5_000):  # completed by weft's callback thread
            cf.wait([weft.map("y = a*x + y", a=2.0, x=x, y=y, wait=False)])
        assert settled(base)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"{after - before} bytes kept over 105,000 futures"


def test_exit_lets_running_futures_complete(tmp_path):
    """A future nobody waits for still completes, and its callbacks run, when
    the interpreter exits while it runs."""
    script = (
        "import numpy as np, weft\n"
        "x = np.random.default_rng(1).random(4_000_000)\n"
        f"f = weft.reduce_expr('sum', {SLOW!r}, x=x, wait=False)\n"
        "f.add_done_callback(lambda f: print('completed', f.result() > 0, flush=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "completed True"


def test_a_fork_child_does_not_wait_for_the_parents_callbacks(tmp_path):
    """The parent's futures never complete in a fork child (weft drops their
    callbacks there): the child's exit must not wait for them. (The child
    calls no weft operation: one called while the parent's operation was in
    flight at fork() sometimes never returns, a weft issue of its own.)"""
    script = (
        "import os, sys, time, numpy as np, weft\n"
        "x = np.random.default_rng(1).random(4_000_000)\n"
        f"f = weft.reduce_expr('sum', {SLOW!r}, x=x, wait=False)\n"
        "f.add_done_callback(lambda f: None)\n"
        "t0 = time.monotonic()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print('child', 10.0, flush=True)\n"
        "else:\n"
        "    os.waitpid(pid, 0)\n"
        "    print('child lived %.1f s' % (time.monotonic() - t0), flush=True)\n"
        "    print('parent', f.result() > 0, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert "child 10.0" in lines and "parent True" in lines
    lived = float(next(line for line in lines if line.startswith("child lived")).split()[2])
    assert lived < 5.0, f"the child waited {lived} s at exit for callbacks that never run there"


def test_exit_while_a_build_from_source_runs(tmp_path):
    """A script that ends while weft compiles an expression for PoCL from
    source (fresh PoCL cache, new text): C's exit() ran the compiler's static
    destructors, registered during that first build after weft's handler,
    under the build (a crash after correct output, a third of short scripts
    on a tester's machine). Python's atexit ends the builds first."""
    import os
    for run in range(3):
        script = (
            "import numpy as np, weft\n"
            "x = np.random.default_rng(1).random(1_000_000)\n"
            f"print(weft.reduce_expr('sum', 'sin(r) * {run + 2}.5 + exp(r)', r=x) > 0)\n"
        )
        env = dict(os.environ, POCL_CACHE_DIR=str(tmp_path / f"pocl{run}"))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=120, env=env)
        assert out.returncode == 0, f"run {run}: exit {out.returncode}: {out.stderr[-2000:]}"
        assert out.stdout.strip() == "True"
