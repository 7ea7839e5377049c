"""Data primitives (docs/primitives.md): sorting, histograms, scatter-add,
random numbers, grouped reductions and filtering, as numpy users know them.
Each runs on weft's pool (weft.random is split over the devices) and gives
the same bits whatever the devices and threads."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _weft, _wraps
from ._weft import Array, Context


import builtins
import operator


def _api() -> Any:
    import weft  # the package, for its helpers (imported after it is complete)

    return weft


def _arr(x: Any, ctx: Optional[Context], *, written: Optional[str] = None) -> Array:
    """x as a weft.Array; written names the parameter when weft writes it."""
    if isinstance(x, Array) and (ctx is None or x.ctx is ctx):
        return x
    ctx = ctx or _api().get_context()
    if written:
        return _wraps.wrap_output(x, written, ctx)
    return _wraps.wrap(x, copy=None, ctx=ctx)


def _ctx(values: Sequence[Any], ctx: Optional[Context]) -> Context:
    if ctx is not None:
        return ctx
    for v in values:
        if isinstance(v, Array):
            return v.ctx
    default: Context = _api().get_context()
    return default


def _done(r: Any, ctx: Context, wait: bool, after: Any = None) -> Any:
    if wait:
        return after(r) if after is not None else r
    return _api().Future(r, ctx, after)


def _head(a: Array, count: int) -> Any:
    """The first count elements of a, as a numpy view when numpy is there
    (else a memoryview): no copy, and it keeps a alive."""
    try:
        import numpy
    except ImportError:  # pragma: no cover
        return memoryview(a)[:count]
    return numpy.asarray(a)[:count]


def _one_axis(what: str, k: Array) -> None:
    """numpy sorts each row of a 2-D array; weft sorts one array whole. Rather
    than sort the flattened rows silently, a caller with rows is told."""
    if k.ndim > 1:
        raise ValueError(f"weft.{what}: keys have {k.ndim} dimensions; weft sorts 1-D arrays "
                         "(for numpy's last-axis sort, sort each row, or pass keys.ravel() "
                         "to sort all elements)")


def sort(keys: Any, values: Any = None, *, descending: bool = False, wait: bool = True,
         ctx: Optional[Context] = None) -> Any:
    """Sorts keys in place, stably (numpy's kind="stable"; NaNs last, also when
    descending); values (any dtype, as long) is permuted with them. Returns
    None (or a Future of None)."""
    ctx = _ctx([keys, values], ctx)
    k = _arr(keys, ctx, written="keys")
    _one_axis("sort", k)
    v = None if values is None else _arr(values, ctx, written="values")
    r = _weft._sort(ctx, k, v, 1 if descending else 0, wait)
    return _done(r, ctx, wait)


def argsort(keys: Any, *, descending: bool = False, out: Any = None, wait: bool = True,
            ctx: Optional[Context] = None) -> Any:
    """The stable sorting permutation of keys (numpy.argsort(kind="stable")):
    a new uint64 weft.Array, or out (uint32 or uint64)."""
    ctx = _ctx([keys, out], ctx)
    k = _arr(keys, ctx)
    _one_axis("argsort", k)
    o = _api().empty(k.size, "uint64", ctx=ctx) if out is None else _arr(out, ctx, written="out")
    r = _weft._argsort(ctx, k, o, 1 if descending else 0, wait)
    return _done(r, ctx, wait, lambda _: o)


def histogram(x: Any, bins: int = 10, range: Optional[Tuple[float, float]] = None, *,  # noqa: A002
              out: Any = None, wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """numpy.histogram: counts of x in `bins` equal-width bins over
    range=(lo, hi), each half-open [edge, next edge) but the last, which also
    holds hi, as numpy's. range None: (min(x), max(x)) (lo - 0.5, hi + 0.5
    when they are equal). Returns (counts, edges): counts a uint64
    weft.Array (or out, uint32/uint64, of length bins), edges a list of
    bins + 1 floats."""
    if isinstance(bins, str) or not hasattr(bins, "__index__"):
        raise TypeError(f"weft.histogram: bins is a number of equal-width bins, not {bins!r} "
                        "(edges and numpy's bin rules such as 'auto' are not supported: "
                        "pass range=(lo, hi) and a count)")
    bins = operator.index(bins)
    ctx = _ctx([x, out], ctx)
    a = _arr(x, ctx)
    w = _api()
    if range is None:
        lo, hi = (float(w.min(a)), float(w.max(a))) if a.size else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
    else:
        lo, hi = float(range[0]), float(range[1])
    if out is None:
        c = w.zeros(bins, "uint64", ctx=ctx)
    else:
        c = _arr(out, ctx, written="out")
        if c.size != bins:
            raise ValueError(f"weft.histogram: out has {c.size} bins, bins is {bins}")
    # weft_histogram's bins are all half-open: the values equal to hi join
    # the last bin afterwards, where numpy counts them.
    at_hi = int(w.reduce_expr("sum", "x == h", x=a, h=hi, ctx=ctx)) if a.size else 0
    r = _weft._histogram(ctx, a, lo, hi, c, wait)

    def close_last_bin(_: Any) -> Any:
        if at_hi:  # through weft, which then knows the host copy changed
            import array

            last = int(_head(c, bins)[bins - 1]) + at_hi
            c.write(array.array("Q" if c.itemsize == 8 else "I", [last]), bins - 1)
        return c, [lo + k * ((hi - lo) / bins) for k in builtins.range(bins)] + [hi]

    return _done(r, ctx, wait, close_last_bin)


def bincount(indices: Any, weights: Any = None, minlength: int = 0, *, out: Any = None,
             wait: bool = True, ctx: Optional[Context] = None) -> Any:
    """numpy.bincount: out[k] = how many indices equal k (uint64), or the sum of
    their weights (in the weights' dtype). Its length is max(indices) + 1 or
    minlength, whichever is larger, unless out is given (then an index past
    it raises WeftError WEFT_ERR_RANGE)."""
    minlength = operator.index(minlength)
    if minlength < 0:
        raise ValueError("weft.bincount: minlength must not be negative")
    ctx = _ctx([indices, weights, out], ctx)
    i = _arr(indices, ctx)
    w = None if weights is None else _arr(weights, ctx)
    if out is None:
        api = _api()
        n = builtins.max(int(api.max(i)) + 1 if i.size else 0, minlength)
        o = api.zeros(n, "uint64" if w is None else w.dtype, ctx=ctx)
    else:
        o = _arr(out, ctx, written="out")
    r = _weft._bincount(ctx, i, w, o, wait)
    return _done(r, ctx, wait, lambda _: o)


def scatter_add(out: Any, indices: Any, values: Any, *, wait: bool = True,
                ctx: Optional[Context] = None) -> Any:
    """numpy.add.at(out, indices, values): out[indices[i]] += values[i] in index
    order (float sums have the plain loop's bits). out is written in place."""
    ctx = _ctx([out, indices, values], ctx)
    o = _arr(out, ctx, written="out")
    r = _weft._scatter_add(ctx, _arr(indices, ctx), _arr(values, ctx), o, wait)
    return _done(r, ctx, wait)


_DISTS = {"uniform": 0, "normal": 1}


def random(shape: Any = None, dtype: Any = "float64", *, dist: str = "uniform", seed: int = 0,
           offset: int = 0, out: Any = None, wait: bool = True,
           ctx: Optional[Context] = None) -> Any:
    """Counter-based random numbers (Philox4x32-10): element i is element
    offset + i of seed's stream, whatever the devices. dist "uniform": floats
    in [0, 1), integers over their whole range; "normal": mean 0, deviation 1.
    Fills out, or a new weft.Array of shape and dtype; returns it."""
    if not 0 <= int(seed) < 1 << 64 or not 0 <= int(offset) < 1 << 64:
        raise ValueError("weft.random: seed and offset are 64-bit unsigned integers")
    ctx = _ctx([out], ctx)
    o = _api().empty(shape, dtype, ctx=ctx) if out is None else _arr(out, ctx, written="out")
    if out is not None and shape is not None and _api()._shape(shape) != o.shape:
        raise ValueError(f"weft.random: shape {shape!r} is not out's {o.shape} (give one of them)")
    if out is not None and dtype != "float64" and _api()._typestr(dtype) != o.typestr:
        raise ValueError(f"weft.random: dtype {dtype!r} is not out's {o.dtype} (give one of them)")
    code = _api()._op_code(_DISTS, dist, "random")
    if o.dtype == "bool":
        # Fair coins, numpy's bools: a byte's lowest bit (weft fills a u8
        # with bytes over its whole range, which a bool array would hold raw).
        if dist != "uniform":
            raise ValueError(f"weft.random: {dist!r} numbers for a bool array; use 'uniform'")
        _weft._random(ctx, o, code, int(seed), int(offset), True)
        r = _weft._map(ctx, "o = o & 1", [("o", o)], wait)
        return _done(r, ctx, wait, lambda _: o)
    r = _weft._random(ctx, o, code, int(seed), int(offset), wait)
    return _done(r, ctx, wait, lambda _: o)


_GROUP_OPS = {"sum": _weft.SUM, "min": _weft.MIN, "max": _weft.MAX, "count": _weft.COUNT}


def _group(runs: bool, keys: Any, values: Any, op: str, wait: bool,
           ctx: Optional[Context]) -> Any:
    ctx = _ctx([keys, values], ctx)
    k = _arr(keys, ctx)
    v = None if values is None else _arr(values, ctx)
    api = _api()
    ok = api.empty(k.size, k.dtype, ctx=ctx)
    if op == "count":
        ov = api.empty(k.size, "uint64", ctx=ctx)
    elif v is None:
        raise ValueError(f"group op {op!r} needs values")
    elif op == "sum" and v.dtype == "bool":
        # numpy and pandas count bools in int64: a bool result would wrap at 256
        counts = api.empty(v.size, "int64", ctx=ctx)
        api.map("c = v", c=counts, v=v, ctx=ctx)
        v, ov = counts, api.empty(k.size, "int64", ctx=ctx)
    else:
        ov = api.empty(k.size, v.dtype, ctx=ctx)
    r = _weft._group(ctx, _api()._op_code(_GROUP_OPS, op, "group_by"), runs, k, v, ok, ov, wait)
    return _done(r, ctx, wait, lambda n: (_head(ok, n), _head(ov, n)))


def group_by(keys: Any, values: Any = None, op: str = "sum", *, wait: bool = True,
             ctx: Optional[Context] = None) -> Any:
    """One group per distinct key, in ascending key order (as pandas'
    groupby(sort=True) / numpy.unique): returns (keys, results), numpy views.
    op "sum", "min", "max" (results in values' dtype) or "count" (uint64;
    values may be None). Each group's values are reduced in input order."""
    return _group(False, keys, values, op, wait, ctx)


def reduce_by_key(keys: Any, values: Any = None, op: str = "sum", *, wait: bool = True,
                  ctx: Optional[Context] = None) -> Any:
    """As group_by, with one group per run of equal adjacent keys (sorted keys:
    one per key), as itertools.groupby."""
    return _group(True, keys, values, op, wait, ctx)


def filter(cond: str, binds: Optional[Mapping[str, Any]] = None, /, *,  # noqa: A001
           take: Optional[Sequence[Any]] = None, wait: bool = True,
           ctx: Optional[Context] = None, **names: Any) -> Any:
    """Stream compaction, x[cond]: keeps in order the elements where cond (an
    expression over the names, as weft.map's) is non-zero. Returns a dict of
    every bound array filtered (numpy views), or, with take=[arrays of the
    same length], a list of those filtered."""
    api = _api()
    ctx, pairs = api._bind(cond, binds, names, ctx)
    if take is None:
        picked = [(n, v) for n, v in pairs if isinstance(v, Array)]
    else:
        if isinstance(take, str):
            raise TypeError("take is a list of arrays to filter (take=[a, b]), not of names")
        take = list(take)  # a generator is read once
        if any(isinstance(t, str) for t in take):
            raise TypeError("take is a list of arrays to filter (take=[a, b]), not of names")
        picked = [(str(i), _arr(t, ctx)) for i, t in enumerate(take)]
    ins = [v for _, v in picked]
    outs = [api.empty(v.size, v.dtype, ctx=ctx) for v in ins]
    r = _weft._filter(ctx, api._bool_not(cond, pairs), pairs, ins, outs, wait)

    def after(n: int) -> Union[Dict[str, Any], List[Any]]:
        views = [_head(o, n) for o in outs]
        if take is None:
            return {name: view for (name, _), view in zip(picked, views)}
        return views

    return _done(r, ctx, wait, after)
