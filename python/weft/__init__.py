"""weft from Python: data-parallel maps, reductions and scans over OpenCL
devices and a host thread pool, on numpy's memory without copies.

    import numpy as np, weft
    x = np.random.rand(1_000_000)
    y = np.zeros_like(x)
    weft.map("y = a * x + y", a=2.0, x=x, y=y)    # writes into y's memory
    total = weft.sum(x)                           # a Python float
    fut = weft.sum(x, wait=False)                 # a concurrent.futures.Future

Every blocking call releases the GIL. See docs/python.md.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import math
import operator
import re
import threading
from typing import Any, Dict, List, Mapping, Optional, Tuple

from . import _weft, _wraps
from ._weft import Array, Context, WeftError
from ._weft import (  # one WeftError subclass per weft_status
    BuildError, CacheError, CancelledError, DataError, DependencyError, DeviceError, DtypeError,
    ExprError,
    InvalidArgError, IoError, NoDeviceError, NoMemoryError, NullError, OpenCLError, RangeError,
    SizeError, StateError, ThreadError, UnsupportedError,
)

Error = WeftError

__all__ = [
    "Array", "Context", "Future", "WeftError", "Error",
    "InvalidArgError", "NullError", "DtypeError", "SizeError", "RangeError", "NoMemoryError",
    "OpenCLError", "BuildError", "NoDeviceError", "DeviceError", "CacheError", "IoError",
    "ThreadError", "StateError", "UnsupportedError", "ExprError", "DataError", "DependencyError",
    "CancelledError", "Executor", "mean",
    "asarray", "empty", "zeros", "get_context", "set_context", "finish",
    "map", "reduce", "reduce_expr", "sum", "prod", "min", "max", "argmin", "argmax",
    "any", "all", "scan", "cumsum", "wrap_alignment", "__version__",
    "Program", "KernelArg", "program", "slice", "halo", "whole", "local",
    "f32", "f64", "i32", "u32", "i64", "u64", "u8",
    "sort", "argsort", "histogram", "bincount", "scatter_add", "random", "group_by",
    "reduce_by_key", "filter",
]

__version__: str = _weft.version
wrap_alignment = _weft.wrap_alignment

_default_ctx: Optional[Context] = None
_default_lock = threading.Lock()


def get_context() -> Context:
    """The default context, created on first use (the environment chooses its
    devices: WEFT_DEVICES, WEFT_NUM_THREADS, OCL_ICD_VENDORS, ...)."""
    global _default_ctx
    ctx = _default_ctx
    if ctx is None:
        with _default_lock:
            if _default_ctx is None:
                _default_ctx = Context()
            ctx = _default_ctx
    return ctx


def set_context(ctx: Optional[Context]) -> None:
    """Make ctx the default context (None: a new one is made on next use)."""
    global _default_ctx
    if ctx is not None and not isinstance(ctx, Context):
        raise TypeError("set_context takes a weft.Context or None")
    with _default_lock:
        _default_ctx = ctx


_weft._set_default_context(get_context)


def finish(ctx: Optional[Context] = None) -> None:
    """Wait (GIL released) for every operation submitted so far."""
    (ctx or get_context()).finish()


# ---------------------------------------------------------------------------
# dtypes and array constructors

# weft's own names (f32 ... u64, as in CSV types and the kernel scalars
# weft.f32(...)) beside numpy's. "u8" is both weft's uint8 and numpy's uint64:
# refused rather than guessed.
_DTYPE_NAMES = {
    "float32": "<f4", "f4": "<f4", "f": "<f4", "single": "<f4", "f32": "<f4",
    "float64": "<f8", "f8": "<f8", "d": "<f8", "double": "<f8", "float": "<f8", "f64": "<f8",
    "int32": "<i4", "i4": "<i4", "i": "<i4", "i32": "<i4",
    "uint32": "<u4", "u4": "<u4", "I": "<u4", "u32": "<u4",
    "int64": "<i8", "i8": "<i8", "q": "<i8", "int": "<i8", "i64": "<i8",
    "uint64": "<u8", "Q": "<u8", "u64": "<u8",
    "uint8": "|u1", "u1": "|u1", "B": "|u1",
    "bool": "|b1", "?": "|b1", "b1": "|b1",
}
_AMBIGUOUS_DTYPE_NAMES = {"u8": "weft's u8 is uint8, numpy's 'u8' is uint64: write 'uint8' or 'uint64'"}


def _typestr(dtype: Any) -> str:
    if isinstance(dtype, str) and dtype in _AMBIGUOUS_DTYPE_NAMES:
        raise TypeError(f"dtype {dtype!r} is ambiguous: {_AMBIGUOUS_DTYPE_NAMES[dtype]}")
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if dtype is float:
        return "<f8"
    if dtype is int:
        return "<i8"
    if dtype is bool:
        return "|b1"
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is how most callers get here
        raise TypeError(f"unknown dtype {dtype!r}") from None
    typestr: str = numpy.dtype(dtype).str
    return typestr


def _shape(shape: Any) -> Tuple[int, ...]:
    """A shape as numpy takes it: an integer (numpy's too: np.prod(...) is an
    np.int64) or a sequence of them; a float is refused, not truncated."""
    try:
        dims = ((operator.index(shape),) if hasattr(shape, "__index__") else
                tuple(operator.index(s) for s in shape))
    except TypeError:
        raise TypeError(f"a shape is an integer or a sequence of integers, not {shape!r}") from None
    for d in dims:
        if not 0 <= d < 2**63:
            raise ValueError(f"a shape's sizes are 0 to 2**63 - 1, not {d}")
    return dims


def empty(shape: Any, dtype: Any = "float64", *, ctx: Optional[Context] = None) -> Array:
    """A new array in weft's own memory, aligned for zero-copy on devices that
    share host memory. Its contents are undefined."""
    return Array._empty(_shape(shape), _typestr(dtype), False, ctx)


def zeros(shape: Any, dtype: Any = "float64", *, ctx: Optional[Context] = None) -> Array:
    """As empty(), filled with zeros."""
    return Array._empty(_shape(shape), _typestr(dtype), True, ctx)


def asarray(obj: Any, *, copy: Optional[bool] = None, ctx: Optional[Context] = None) -> Array:
    """obj as a weft.Array: obj itself if it is one (of ctx); its memory when it
    exports the buffer protocol or __array_interface__ and is C-contiguous
    (copy=None or False); a copy when copy=True or when one is needed (then
    copy=False raises ValueError)."""
    _wraps.check_dtype(obj)
    return Array(obj, copy=copy, ctx=ctx)


# ---------------------------------------------------------------------------
# Futures

class Future(concurrent.futures.Future):  # type: ignore[type-arg]
    """A concurrent.futures.Future of one weft operation: usable with
    concurrent.futures.wait and as_completed, add_done_callback, result and
    exception. It is running from the start and cannot be cancelled.

    weft completes it (weft_future_on_done): when the operation ends, weft's
    callback thread takes the GIL and sets the result, then runs the
    callbacks added with add_done_callback there. result() and exception()
    without a timeout do not wait for that thread: the first such caller
    claims the future, waits for the operation itself (GIL released) and
    completes it on its own thread, and the callback, taken back from weft,
    does not run; other callers wait for the value it sets."""

    def __init__(self, op: Any, ctx: Context, after: Any = None) -> None:
        super().__init__()
        self._op = op
        self._after = after
        # set_running_or_notify_cancel without its lock: nobody sees it yet.
        self._state = concurrent.futures._base.RUNNING
        if not op._on_done(self._complete):
            self._complete()  # done already: no thread needs waking for it

    def _complete(self) -> None:
        # _claim is one C call under the GIL: exactly one caller takes the
        # operation. The value is set outside any lock: set_result runs the
        # done callbacks, which may call result() on this future.
        op = self._op
        if op is None or not op._claim():
            return
        try:
            value = op.wait()
        except WeftError as exc:
            self._finish(self.set_exception, exc)
            return
        except BaseException:
            # The wait was interrupted (Ctrl-C, a signal handler's
            # exception): not the operation's outcome. It goes on, and the
            # future waits for it again, as before the claim.
            op._unclaim()
            if not op._on_done(self._complete):
                self._complete()  # done meanwhile: its value is at hand
            raise
        try:
            if self._after is not None:
                value = self._after(value)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self._finish(self.set_exception, exc)
        else:
            self._finish(self.set_result, value)

    def _finish(self, setter: Any, value: Any) -> None:
        self._op = self._after = None
        self._settle(setter, value)

    @staticmethod
    def _settle(setter: Any, value: Any) -> None:
        # A caller may have set the future itself (concurrent.futures lets
        # anyone): its value stands, and weft prints nothing.
        try:
            setter(value)
        except concurrent.futures.InvalidStateError:
            pass

    def result(self, timeout: Optional[float] = None) -> Any:
        if timeout is None:
            self._complete()
        return super().result(timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        if timeout is None:
            self._complete()
        return super().exception(timeout)


def _at_exit() -> None:
    # Futures still running complete (their callbacks call into Python) for
    # a while; after that, callbacks stop calling: a finalizing interpreter
    # ends a thread that asks for the GIL.
    _weft._shutdown(10.0)
    # Then background compiles end: C's exit() would destroy the compiler's
    # objects under one still running (a crash after the script's output).
    _weft._stop_builds()


atexit.register(_at_exit)


# ---------------------------------------------------------------------------
# Operations

_REDUCE_OPS = {
    "sum": _weft.SUM, "prod": _weft.PROD, "min": _weft.MIN, "max": _weft.MAX,
    "argmin": _weft.ARGMIN, "argmax": _weft.ARGMAX, "any": _weft.ANY, "all": _weft.ALL,
}


_SCAN_OPS = {k: v for k, v in _REDUCE_OPS.items() if k in ("sum", "min", "max")}


def _op_code(table: Dict[str, int], name: Any, what: str) -> int:
    """table[name], case-insensitively ("SUM" is the C name); a ValueError
    listing the names otherwise, not a bare KeyError."""
    key = name.lower() if isinstance(name, str) else name
    if key not in table:
        raise ValueError(f"weft.{what}: unknown operation {name!r}; one of: {', '.join(table)}")
    return table[key]
_ASSIGNED = re.compile(r"(?:^|;)\s*([A-Za-z_]\w*)\s*=(?!=)")


def _is_scalar(v: Any) -> bool:
    """Python numbers and numpy scalars (np.float64(2.0)) bind as scalars; a
    0-d ndarray (np.array(5.0)) is an array of one element, as weft.asarray
    makes it, so it can be an output."""
    if isinstance(v, (bool, int, float)):
        return True
    if getattr(v, "shape", None) != () or isinstance(v, Array):
        return False
    return "ndarray" not in {c.__name__ for c in type(v).__mro__}  # (any is weft.any here)


def _context_of(values: List[Any], ctx: Optional[Context]) -> Context:
    if ctx is not None:
        return ctx
    for v in values:
        if isinstance(v, Array):
            return v.ctx
    return get_context()


def _bind(expr: str, binds: Optional[Mapping[str, Any]], kw: Dict[str, Any],
          ctx: Optional[Context]) -> Tuple[Context, List[Tuple[str, Any]]]:
    # A name given twice (in binds and as a keyword, or twice in a list of
    # pairs) is refused, as the C API refuses it: the last one silently won.
    if not isinstance(expr, str):
        raise TypeError(f"the expression is a string, as in weft.map('y = x * 2', x=x, y=y) "
                        f"or weft.filter('x > 5', x=x), not {type(expr).__name__}")
    pairs = list(binds.items()) if isinstance(binds, Mapping) else list(binds or [])
    merged: Dict[str, Any] = {}
    for name, v in pairs + list(kw.items()):
        if not isinstance(name, str):
            raise TypeError(f"names bound are strings, not {name!r}")
        if name in merged:
            raise ValueError(f"name {name!r} is bound twice")
        merged[name] = v
    ctx = _context_of(list(merged.values()), ctx)
    outputs = set(_ASSIGNED.findall(expr))
    # The same object, or the same memory seen read-only beside a writable
    # output (numpy's np.add(ro, 1, out=x)), is one array (in-place work):
    # two wraps of one memory in a call that writes it are refused. Outputs
    # are wrapped first, so that memory read through a read-only view is
    # read through the output's wrap.
    wrapped: Dict[Any, Array] = {}
    arrays: Dict[str, Array] = {}
    for pass_outputs in (True, False):
        for name, v in merged.items():
            if (name in outputs) != pass_outputs or isinstance(v, Array) or _is_scalar(v):
                continue
            if pass_outputs and _readonly(v):
                raise ValueError(f"weft.map: output {name!r} is read-only")
            memory = _wraps.memory_of(v)
            a = wrapped.get(id(v))  # not `or`: an empty Array is falsy
            if a is None and memory:
                a = wrapped.get(memory)
            if a is None:
                a = (_wraps.wrap_output(v, name, ctx) if pass_outputs else
                     _wraps.wrap(v, copy=None, ctx=ctx))
                wrapped[id(v)] = a
                if memory and pass_outputs:
                    wrapped[memory] = a
            arrays[name] = a
    out: List[Tuple[str, Any]] = []
    for name, v in merged.items():
        v = arrays.get(name, v)
        if isinstance(v, Array) and name in outputs and v.readonly:
            raise ValueError(f"weft.map: output {name!r} is read-only")
        out.append((name, v))
    _check_shapes(out)
    return ctx, out


def _readonly(obj: Any) -> bool:
    """Whether obj exports its memory read-only (numpy's writeable flag, a
    memoryview's, bytes)."""
    iface = getattr(obj, "__array_interface__", None)
    if isinstance(iface, dict) and isinstance(iface.get("data"), tuple) and len(iface["data"]) > 1:
        return bool(iface["data"][1])
    try:
        with memoryview(obj) as m:
            return m.readonly
    except TypeError:
        return False


def _check_shapes(pairs: List[Tuple[str, Any]]) -> None:
    """Arrays of one shape: weft works element by element and broadcasts
    nothing, so a (3, 1) column times a (3,) row is not numpy's (3, 3)
    outer product; arrays of another shape but as many elements were
    combined in C order without a word."""
    first: Optional[Tuple[str, Tuple[int, ...]]] = None
    for name, v in pairs:
        shape = getattr(v, "shape", None)
        if not isinstance(v, Array) or shape is None:
            continue
        shape = tuple(shape)
        if first is None:
            first = (name, shape)
        elif shape != first[1] and v.size == math.prod(first[1]):  # other sizes: weft's SizeError
            raise ValueError(f"{first[0]!r} has shape {first[1]} and {name!r} {shape}: weft works "
                             f"element by element over arrays of one shape and broadcasts "
                             f"nothing (reshape them, e.g. x.reshape(-1), or broadcast with "
                             f"numpy first)")


def map(expr: str, binds: Optional[Mapping[str, Any]] = None, /, *, wait: bool = True,
        ctx: Optional[Context] = None, **kw: Any) -> Optional[Future]:
    """Element-wise statements over arrays of one size, weft_map:

        weft.map("y = a * x + y", a=2.0, x=x, y=y)

    Arrays are weft.Arrays or anything weft.asarray takes (wrapped without a
    copy; an output must be C-contiguous and writable). Scalars: Python
    floats bind as f64, ints as i64, bools as i32, numpy scalars as their
    dtype. Names may also come in the binds mapping (for a name such as
    "wait" or "ctx"). wait=False returns a Future of None."""
    ctx, pairs = _bind(expr, binds, kw, ctx)
    r = _weft._map(ctx, _bool_outputs(_bool_not(expr, pairs), pairs), pairs, wait)
    return None if wait else Future(r, ctx)


_TILDE = re.compile(r"~\s*([A-Za-z_]\w*|\()")
_TRUTH_OPS = re.compile(r"==|!=|<=|>=|&&|\|\||(?<![<>])[<>](?![<>=])|!(?!=)")


def _bool_not(expr: str, pairs: List[Tuple[str, Any]]) -> str:
    """expr with numpy's ~ of a bool as a logical not: `~m` of a bool array,
    and `~(...)` of a comparison. weft holds bools as uint8, where ~ is
    C's bitwise not and ~0, ~1 are both true (filter("~m") kept every row)."""
    if "~" not in expr:
        return expr
    flags = {name for name, v in pairs if isinstance(v, Array) and v.dtype == "bool"}
    out, at = [], 0
    for m in _TILDE.finditer(expr):
        operand = m.group(1)
        if operand == "(":
            depth, end = 0, m.end() - 1
            for end in range(m.end() - 1, len(expr)):
                depth += expr[end] == "("
                depth -= expr[end] == ")"
                if depth == 0:
                    break
            inner, nested = expr[m.end():end], 0
            top = []  # the group's own text, nested groups left out
            for ch in inner:
                nested += ch == "("
                if nested == 0:
                    top.append(ch)
                nested -= ch == ")"
            logical = bool(_TRUTH_OPS.search("".join(top)))
        else:
            logical = operand in flags
        if logical:
            out.append(expr[at:m.start()] + "!")
            at = m.start() + 1
    out.append(expr[at:])
    return "".join(out)


_STATEMENT = re.compile(r"^(\s*)([A-Za-z_]\w*)\s*=(?!=)(.*)$", re.S)


def _bool_outputs(expr: str, pairs: List[Tuple[str, Any]]) -> str:
    """expr, with each assignment to a bool array made `name = (value) != 0`:
    numpy's conversion to bool. weft holds bools as uint8, and a value
    stored there first would be truncated, clamped or wrapped (0.5, NaN, -1
    and 256 became False) before any test."""
    flags = {name for name, v in pairs if isinstance(v, Array) and v.dtype == "bool"}
    if not flags:  # the common case: no parsing on the way
        return expr
    out: List[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(expr + "\n"):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch in ";\n" and depth <= 0:
            out.append(_bool_statement(expr[start:i], flags))
            out.append(ch if i < len(expr) else "")
            start = i + 1
    return "".join(out)


def _bool_statement(statement: str, flags: Any) -> str:
    code, hash_, comment = statement.partition("#")
    m = _STATEMENT.match(code)
    if not m or m.group(2) not in flags:
        return statement
    indent, name, value = m.groups()
    return f"{indent}{name} = ({value.strip()}) != 0" + (f" {hash_}{comment}" if hash_ else "")


def _reduce_array(x: Any, ctx: Optional[Context]) -> Array:
    if isinstance(x, Array) and (ctx is None or x.ctx is ctx):
        return x
    return _wraps.wrap(x, copy=None, ctx=ctx or get_context())


def reduce(op: str, x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """weft_reduce of x: op is "sum", "prod", "min", "max", "argmin", "argmax",
    "any" or "all". Sums of floats are f64 (Python float), of ints Python ints
    (overflow raises WeftError WEFT_ERR_RANGE); argmin/argmax give the index."""
    a = _reduce_array(x, ctx)
    r = _weft._reduce(a.ctx, _op_code(_REDUCE_OPS, op, "reduce"), a, wait)
    return r if wait else Future(r, a.ctx)


def reduce_expr(op: str, expr: str, binds: Optional[Mapping[str, Any]] = None, /, *,
                wait: bool = True, ctx: Optional[Context] = None, **kw: Any) -> Any:
    """Reduces an expression evaluated per element in one pass:
    reduce_expr("sum", "x * y", x=x, y=y) is a dot product."""
    ctx, pairs = _bind(expr, binds, kw, ctx)
    r = _weft._reduce_expr(ctx, _op_code(_REDUCE_OPS, op, "reduce_expr"), _bool_not(expr, pairs),
                           pairs, wait)
    return r if wait else Future(r, ctx)


def sum(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:  # noqa: A001
    """Sum of x (floats accumulate in double over fixed blocks: the same bits
    on any devices and thread counts)."""
    return reduce("sum", x, wait=wait, ctx=ctx)


def mean(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """weft_mean: the sum of x (as weft.sum: integers exactly, floats in
    fixed blocks) divided by its element count once, a Python float with the
    same bits on any devices and thread counts. An empty x raises
    weft.SizeError."""
    a = _reduce_array(x, ctx)
    r = _weft._mean(a.ctx, a, wait)
    return r if wait else Future(r, a.ctx)


def prod(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    return reduce("prod", x, wait=wait, ctx=ctx)


def min(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:  # noqa: A001
    """Smallest element (NaN wins, -0.0 < +0.0); an empty array raises WeftError."""
    return reduce("min", x, wait=wait, ctx=ctx)


def max(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:  # noqa: A001
    return reduce("max", x, wait=wait, ctx=ctx)


def argmin(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    return reduce("argmin", x, wait=wait, ctx=ctx)


def argmax(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    return reduce("argmax", x, wait=wait, ctx=ctx)


def any(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:  # noqa: A001
    return reduce("any", x, wait=wait, ctx=ctx)


def all(x: Any, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:  # noqa: A001
    return reduce("all", x, wait=wait, ctx=ctx)


def scan(x: Any, out: Any = None, *, op: str = "sum", exclusive: bool = False,
         wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """Prefix scan of x (op "sum", "min" or "max") into out (a new array of x's
    shape and dtype when None; out may be x). Returns out as a weft.Array, or
    a Future of it."""
    a = _reduce_array(x, ctx)
    if out is None and op == "sum" and a.dtype == "bool":
        # numpy counts bools in int64 (np.cumsum of a mask): a scan in the
        # mask's own bytes wrapped at 256.
        o = empty(a.shape, "int64", ctx=a.ctx)
        map("o = x", o=o, x=a, ctx=a.ctx)
        a = o
    elif out is None:
        o = empty(a.shape, a.dtype, ctx=a.ctx)
    elif out is x or out is a:
        o = a
    else:
        o = _wraps.wrap_output(out, "out", a.ctx)
    r = _weft._scan(a.ctx, _op_code(_SCAN_OPS, op, "scan"), exclusive, a, o, wait)
    return r if wait else Future(r, a.ctx)


def cumsum(x: Any, out: Any = None, *, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """Inclusive prefix sum (numpy.cumsum, in x's dtype: integers wrap; a bool
    mask counts in int64, as numpy does)."""
    return scan(x, out, op="sum", wait=wait, ctx=ctx)


# ---------------------------------------------------------------------------
# User kernels (weft/_kernels.py)

from ._kernels import (  # noqa: E402
    KernelArg, Program, f32, f64, halo, i32, i64, local, program, slice, u8, u32, u64, whole,
)
from ._kernels import _context_program  # noqa: E402

Context.program = _context_program  # type: ignore[method-assign]

# Data primitives (weft/_primitives.py)
from ._primitives import (  # noqa: E402
    argsort, bincount, filter, group_by, histogram, random, reduce_by_key, scatter_add, sort,
)

from ._executor import Executor  # noqa: E402
from . import csv  # noqa: E402 - weft.csv.run, weft.csv.read
