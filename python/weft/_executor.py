"""weft.Executor: a concurrent.futures executor sized to a weft context."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Optional, Tuple

from ._weft import Context


class Executor(concurrent.futures.ThreadPoolExecutor):
    """A concurrent.futures.Executor for Python callables that call weft (or
    numpy, or anything else that releases the GIL):

        with weft.Executor() as ex:
            totals = list(ex.map(weft.sum, chunks))
            fut = ex.submit(weft.csv.run, "in.csv", "out.csv", set={...})

    submit(fn, *args, **kwargs) returns a concurrent.futures.Future and
    map(fn, *iterables, timeout=None, chunksize=1) works as
    concurrent.futures.Executor.map: results in order, the first exception
    raised when its result is reached. Both are ThreadPoolExecutor's:
    the callables run on a small set of Python threads (max_workers, by
    default the context's num_threads), not on weft's pool, so pure-Python
    callables are bound by the GIL and run one at a time; weft's blocking
    calls release the GIL, so while one thread waits for an operation the
    others run. ctx is the context the executor was sized for (the default
    context when None); the callables pick their own.

    For one weft operation, wait=False's weft.Future needs no thread at all.
    """

    def __init__(self, max_workers: Optional[int] = None, *, ctx: Optional[Context] = None,
                 thread_name_prefix: str = "weft-executor",
                 initializer: Optional[Callable[..., Any]] = None,
                 initargs: Tuple[Any, ...] = ()) -> None:
        if ctx is None:
            from . import get_context

            ctx = get_context()
        if not isinstance(ctx, Context):
            raise TypeError("ctx is a weft.Context or None")
        if max_workers is None:
            max_workers = max(1, int(ctx.num_threads))
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix,
                         initializer=initializer, initargs=initargs)
        self.ctx = ctx
        self.max_workers: int = max_workers

    def __repr__(self) -> str:
        return f"weft.Executor(max_workers={self.max_workers})"
