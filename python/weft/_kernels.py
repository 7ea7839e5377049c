"""User kernels: OpenCL C built for a context's devices, launched over a
range split across them (weft_program_build, weft_launch; docs/kernels.md)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _weft, _wraps
from ._weft import Array, Context

_SLICE, _HALO, _WHOLE, _SCALAR, _LOCAL = range(5)
_F32, _F64, _I32, _U32, _I64, _U64, _U8 = range(7)


class KernelArg:
    """How one kernel argument is passed: made by weft.slice, weft.halo,
    weft.whole, weft.local and the typed scalars weft.f32, weft.i32, ..."""

    __slots__ = ("kind", "value", "extra")

    def __init__(self, kind: int, value: Any, extra: int) -> None:
        self.kind = kind
        self.value = value
        self.extra = extra

    def __repr__(self) -> str:
        names = ["slice", "halo", "whole", "scalar", "local"]
        return f"weft.{names[self.kind]}({self.value!r}, {self.extra})"


def slice(a: Any) -> KernelArg:  # noqa: A001 - weft.slice, as weft_arg_slice
    """Partitioned with the range: each device gets its rows (and may write them)."""
    return KernelArg(_SLICE, a, 0)


def halo(a: Any, width: int) -> KernelArg:
    """A slice plus `width` rows on each side, read-only neighbours (a stencil's input)."""
    if width < 0:
        raise ValueError("a halo's width is not negative")
    return KernelArg(_HALO, a, int(width))


def whole(a: Any) -> KernelArg:
    """Every device gets all of it, read-only (a lookup table, a matrix row source)."""
    return KernelArg(_WHOLE, a, 0)


def _api_shape(sizes: Any) -> Any:
    from . import _shape  # numpy integers included, floats refused

    return _shape(sizes)


def local(nbytes: int) -> KernelArg:
    """nbytes of work-group (__local) memory."""
    if nbytes <= 0:
        raise ValueError("local memory takes a positive number of bytes")
    return KernelArg(_LOCAL, None, int(nbytes))


def f32(v: Any) -> KernelArg:
    """A scalar argument of OpenCL type float."""
    return KernelArg(_SCALAR, float(v), _F32)


def f64(v: Any) -> KernelArg:
    """double"""
    return KernelArg(_SCALAR, float(v), _F64)


def i32(v: Any) -> KernelArg:
    """int"""
    return KernelArg(_SCALAR, int(v), _I32)


def u32(v: Any) -> KernelArg:
    """uint"""
    return KernelArg(_SCALAR, int(v), _U32)


def i64(v: Any) -> KernelArg:
    """long"""
    return KernelArg(_SCALAR, int(v), _I64)


def u64(v: Any) -> KernelArg:
    """ulong"""
    return KernelArg(_SCALAR, int(v), _U64)


def u8(v: Any) -> KernelArg:
    """uchar"""
    return KernelArg(_SCALAR, int(v), _U8)


_INT_RANGE = {_I32: (-(2**31), 2**31), _U32: (0, 2**32), _I64: (-(2**63), 2**63),
              _U64: (0, 2**64), _U8: (0, 2**8)}


def _as_parameter(v: Any, want: Optional[int]) -> Optional[KernelArg]:
    """A plain Python number as the dtype its kernel parameter takes (want:
    from the kernel's signature, or None when weft cannot tell): an int for
    a `long n` must not work for n = 2**40 and fail for n = 300000. A float
    for an integer parameter is left to the launch to refuse."""
    if want is None or type(v) not in (bool, int, float):
        return None
    if type(v) is float:
        return KernelArg(_SCALAR, v, want) if want in (_F32, _F64) else None
    if want in (_F32, _F64):
        return KernelArg(_SCALAR, float(v), want)
    lo, hi = _INT_RANGE[want]
    if not lo <= int(v) < hi:
        from . import RangeError
        raise RangeError(f"{v} does not fit the kernel's {_NAMES[want]} parameter")
    return KernelArg(_SCALAR, int(v), want)


_NAMES = {_F32: "float", _F64: "double", _I32: "int", _U32: "uint", _I64: "long", _U64: "ulong",
          _U8: "uchar"}


def _scalar_of(v: Any) -> KernelArg:
    # Untyped Python numbers take OpenCL C's usual `int` and `float`; the
    # launch checks them against the kernel's signature, naming the argument
    # when it wanted another type. numpy scalars keep their dtype.
    # (numpy.float64 is a float subclass: exact types only.)
    if type(v) is bool:
        return KernelArg(_SCALAR, int(v), _I32)
    if type(v) is int:
        return KernelArg(_SCALAR, v, _I32 if -(2**31) <= v < 2**31 else _I64)
    if type(v) is float:
        return KernelArg(_SCALAR, v, _F32)
    return KernelArg(_SCALAR, v, -1)


class Program:
    """OpenCL C built for every selected device of a context (through the
    in-memory and on-disk binary caches): ctx.program(source, options)."""

    def __init__(self, ctx: Context, source: str, options: str = "") -> None:
        self.ctx = ctx
        self._c = _weft._program(ctx, source, options)
        self._scalar_dtypes: Dict[Tuple[str, int], Optional[int]] = {}  # dtype code or None

    def _parameter_dtype(self, name: str, k: int) -> Optional[int]:
        key = (name, k)
        if key not in self._scalar_dtypes:
            self._scalar_dtypes[key] = _weft._scalar_dtype(self._c, name, k)
        return self._scalar_dtypes[key]

    @property
    def build_log(self) -> str:
        return str(self._c.build_log)

    def launch(self, name: str, range: Union[int, Sequence[int]], *args: Any,  # noqa: A002
               local: Optional[Sequence[int]] = None, wait: bool = True) -> Any:
        """Runs kernel `name` over range (an int, or (nx, ny) / (nx, ny, nz),
        size[0] varying fastest), split over the devices along its outermost
        dimension. args: weft.slice(a), weft.halo(a, w), weft.whole(a),
        weft.local(nbytes), weft.f32(v), ... or plain values: an array is a
        slice, a Python int or float takes the type of its parameter in the
        kernel's signature (an int out of its range raises weft.RangeError;
        without a signature to read: int, long past 32 bits, and float), a
        numpy scalar its dtype. wait=False returns a Future."""
        from . import Future

        sizes = list(_api_shape(range))
        if local is not None:
            local = list(_api_shape(local))
        packed: List[Any] = []
        wrapped: Dict[int, Any] = {}
        for i, v in enumerate(args):
            if isinstance(v, KernelArg):
                arg = v
            elif _is_array_like(v):
                arg = slice(v)
            else:
                arg = (_as_parameter(v, self._parameter_dtype(name, i))
                       if type(v) in (bool, int, float) else None) or _scalar_of(v)
            if arg.kind in (_SLICE, _HALO, _WHOLE):
                a = arg.value
                if not isinstance(a, Array):
                    # Written arguments must be the caller's memory; a copy
                    # would swallow the kernel's writes.
                    a = wrapped.get(id(a))
                    if a is None:
                        a = _wraps.wrap(arg.value, copy=None if arg.kind == _WHOLE else False,
                                        ctx=self.ctx)
                        wrapped[id(arg.value)] = a
                packed.append((arg.kind, a, arg.extra))
            else:
                packed.append((arg.kind, arg.value, arg.extra))
        r = _weft._launch(self._c, name, sizes, local, packed, None, wait)
        return None if wait else Future(r, self.ctx)


def _is_array_like(v: Any) -> bool:
    if isinstance(v, Array):
        return True
    if isinstance(v, (bool, int, float)):
        return False
    shape = getattr(v, "shape", None)
    if shape == ():
        return False
    return hasattr(v, "__array_interface__") or isinstance(v, (bytearray, memoryview))


def program(source: str, options: str = "", *, ctx: Optional[Context] = None) -> Program:
    """weft.program(source): a Program for the default context (or ctx)."""
    from . import get_context

    return Program(ctx or get_context(), source, options)


def _context_program(self: Context, source: str, options: str = "") -> Program:
    return Program(self, source, options)
