"""One weft.Array per piece of foreign memory while an operation uses it.

Each call used to wrap a numpy argument anew: five `weft.map("y = y + x",
y=y, wait=False)` on one numpy y were five weft arrays over one memory, so
weft ordered nothing between them, a device's copy of one wrap overwrote the
results of another, and updates were lost (and a blocking `weft.sum(y)` right
after an asynchronous map read the memory half written). While a wrap of a
memory is alive (an operation in flight holds it, or the caller does), the
same memory, dtype and shape get that wrap back, and weft orders the calls
as it orders calls on one weft.Array. Once nothing holds the wrap, the next
call wraps the memory afresh (what numpy wrote meanwhile is read from it)."""
from __future__ import annotations

import threading
import weakref
from typing import Any, Dict, Optional, Tuple

from ._weft import Array, Context, WeftError

_Key = Tuple[int, int, str, Tuple[int, ...], bool, int]

# Reentrant: creating an Array under it may run the cyclic GC, which may
# free another wrap and run its weakref callback (_forget) on this thread.
_lock = threading.RLock()
_live: Dict[_Key, "weakref.ReferenceType[Array]"] = {}


def _key(obj: Any, ctx: Optional[Context]) -> Optional[_Key]:
    """The memory obj exports, C-contiguous, as (address, nbytes, typestr,
    shape, read-only, context); None when it does not say (then it is
    wrapped anew). A read-only view gets a read-only wrap of its own: given
    the writable wrap of the same memory, weft wrote through it."""
    try:
        iface = obj.__array_interface__
    except AttributeError:
        return None
    if not isinstance(iface, dict) or iface.get("strides") is not None:
        return None
    data = iface.get("data")
    if not isinstance(data, tuple) or not data or not isinstance(data[0], int) or data[0] == 0:
        return None
    shape = tuple(iface.get("shape", ()))
    typestr = str(iface.get("typestr", ""))
    count = 1
    for d in shape:
        count *= int(d)
    try:
        itemsize = int(typestr[2:])
    except ValueError:
        return None
    readonly = len(data) > 1 and bool(data[1])
    return (data[0], count * itemsize, typestr, shape, readonly, id(ctx))


def memory_of(obj: Any) -> Optional[Tuple[int, int, str, Tuple[int, ...]]]:
    """(address, nbytes, typestr, shape) of what obj exports C-contiguous,
    whatever its read-only flag; None when unknown. A view as another dtype
    or shape is other memory to weft."""
    key = _key(obj, None) if hasattr(obj, "__array_interface__") else None
    return None if key is None else (key[0], key[1], key[2], key[3])


def _forget(key: _Key, ref: "weakref.ReferenceType[Array]") -> None:
    with _lock:
        if _live.get(key) is ref:
            del _live[key]


def check_dtype(obj: Any) -> None:
    """Dates and durations are refused by name (numpy's own buffer error,
    "cannot include dtype 'M'", names no way out)."""
    kind = getattr(getattr(obj, "dtype", None), "kind", None)
    if kind in ("M", "m"):
        raise TypeError(f"weft.Array: numpy {obj.dtype} has no weft dtype; its int64 ticks do: "
                        f"pass x.view('int64')")


def _finish_other_contexts(key: _Key) -> bool:
    """Work another context has in flight on the same memory ends first:
    two contexts' wraps of one numpy array are unrelated weft arrays, and
    nothing else orders their calls (20 increments from one thread, through
    two contexts, gave 10 to 20). True when another context has a wrap of
    it: what this context's own wrap holds on devices may be stale."""
    start, end = key[0], key[0] + key[1]
    with _lock:  # any overlap: y through one context, y[1:] through another
        others = [r() for k, r in _live.items()
                  if k[5] != key[5] and k[0] < end and start < k[0] + k[1]]
    for a in others:
        if a is not None:
            try:
                a.ctx.finish()
                a.sync()  # its results in the memory itself, not only in a device's copy
            except WeftError:
                pass  # that context's failure is its futures' to report
    return any(a is not None for a in others)


def wrap(obj: Any, *, copy: Optional[bool], ctx: Optional[Context]) -> Array:
    """weft.Array(obj, copy=copy, ctx=ctx), or the live wrap of the same memory."""
    check_dtype(obj)
    key = _key(obj, ctx) if copy is not True and ctx is not None else None
    if key is None:
        return Array(obj, copy=copy, ctx=ctx)
    shared = _finish_other_contexts(key)
    with _lock:
        ref = _live.get(key)
        a = ref() if ref is not None else None
        if a is None or not a.wraps_memory:
            a = Array(obj, copy=copy, ctx=ctx)  # fresh: it reads the memory as it is now
            if a.wraps_memory:
                def forget(r: Any, k: Any = key) -> None:
                    _forget(k, r)

                ref = weakref.ref(a, forget)
                _live[key] = ref
            return a
    if shared:  # the other context wrote the memory: this wrap's device copies are stale
        a.mark_host_modified()
    return a


def wrap_output(obj: Any, name: str, ctx: Optional[Context]) -> Array:
    """wrap(obj, copy=False) for an array weft writes: one it cannot wrap as
    it is (not C-contiguous, another byte order) is refused saying why a
    copy will not do, rather than with the inputs' advice to allow one."""
    try:
        return wrap(obj, copy=False, ctx=ctx)
    except ValueError as e:
        if "without a copy is impossible" not in str(e):
            raise
        raise ValueError(f"output {name!r} must be one C-contiguous block of native byte order: "
                         f"weft writes it in place, and the results written into a copy would "
                         f"be lost ({e})") from None
