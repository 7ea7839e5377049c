"""CSV files larger than memory (docs/csv.md): a whole-file job in windows of
records, with expressions over the columns, and a reader window by window.

    import weft.csv
    r = weft.csv.run("in.csv", "out.csv", set={"new_column": "old_column * 2"},
                     reduce={"total": "sum: new_column"})
    r.rows, r.reductions["total"], r.stats["seconds"]

    for w in weft.csv.read("in.csv", columns=["price"]):
        w["price"]        # a numpy array of this window's values (i64 or f64)
"""

from __future__ import annotations

import operator

import os
import re
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _weft
from ._weft import Context

__all__ = ["run", "read", "CsvResult", "Window"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_OPS = {"sum": _weft.SUM, "prod": _weft.PROD, "min": _weft.MIN, "max": _weft.MAX,
        "argmin": _weft.ARGMIN, "argmax": _weft.ARGMAX, "any": _weft.ANY, "all": _weft.ALL}


def _name(column: str) -> str:
    """A column's name in an expression: as it is, or in backquotes."""
    return column if _IDENT.match(column) else "`" + column.replace("`", "``") + "`"


def _path(p: Any) -> str:
    """A file name as open() takes it: str, bytes (os.fsdecode) or os.PathLike;
    str() made b"o.csv" the name "b'o.csv'"."""
    if not isinstance(p, (str, bytes, os.PathLike)):
        raise TypeError(f"a path must be str, bytes or os.PathLike, not {type(p).__name__}")
    return os.fsdecode(p)


def _names(names: Union[None, str, Sequence[str]]) -> Optional[List[str]]:
    """Column names: one string is one name (as na_values takes it), never
    its letters (select="xy" picked the columns x and y)."""
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    return [str(n) for n in names]


def _statements(set: Union[None, str, Sequence[str], Mapping[str, str]]) -> List[str]:  # noqa: A002
    if set is None:
        return []
    if isinstance(set, str):
        return [set]
    if isinstance(set, Mapping):
        return [f"{_name(k)} = {v}" for k, v in set.items()]
    return [str(s) for s in set]


def _reductions(reduce: Union[None, str, Sequence[str], Mapping[str, Any]]
                ) -> Tuple[List[str], List[Tuple[int, str]]]:
    """{label: "op: expression"}, or as the C job and the CLI take them: one
    "op: expression" or a list of them (each labelled by its own text)."""
    labels: List[str] = []
    out: List[Tuple[int, str]] = []
    if isinstance(reduce, str):
        reduce = [reduce]
    if reduce is not None and not isinstance(reduce, Mapping):
        reduce = {str(spec): spec for spec in reduce}
    for label, spec in (reduce or {}).items():
        if isinstance(spec, str):
            op, sep, expr = spec.partition(":")
            if not sep:
                raise ValueError(f"reduction {label!r}: write it as 'op: expression' ('sum: x * y')")
        else:
            op, expr = spec
        op = op.strip()
        if op not in _OPS:
            raise ValueError(f"reduction {label!r}: op {op!r} is not one of {sorted(_OPS)}")
        labels.append(label)
        out.append((_OPS[op], expr.strip()))
    return labels, out


def _options(delimiter: str, header: bool, window_bytes: int,
             types: Union[None, str, Mapping[str, str]], int_missing: Optional[int],
             fsync: bool) -> Tuple[Any, ...]:
    if len(delimiter) != 1:
        raise ValueError("delimiter is one character")
    # {"x": "f64"}, or the C/CLI spelling "x=f64,y=i64" as it is.
    # Each key names one column, whatever it holds: backquoted for the C
    # string ("`Avg TP, $`=f64").
    t = None if not types else types if isinstance(types, str) else ",".join(
        "`" + k.replace("`", "``") + f"`={v}" for k, v in types.items())
    return (delimiter, bool(header), _whole(window_bytes, "window_bytes", 0, 2**64 - 1), t,
            int_missing is not None,
            _whole(int_missing or 0, "int_missing", -2**63, 2**63 - 1), bool(fsync))


def _whole(value: Any, name: str, low: int, high: int) -> int:
    """An integer argument as it is: 1.5 was taken as 1, 2**63 raised a bare
    OverflowError naming nothing."""
    if isinstance(value, bool):
        raise TypeError(f"{name} is an integer, not {value!r}")
    try:
        value = operator.index(value)  # int, numpy integers
    except TypeError:
        raise TypeError(f"{name} is an integer, not {value!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside [{low}, {high}]")
    return int(value)


_BAD_ROWS = {"error": 0, "skip": 1, "pad": 2}
_QUOTING = {"keep": 0, "minimal": 1, "all": 2, "nonnumeric": 3}
# The csv module's constants (csv.QUOTE_MINIMAL, QUOTE_ALL, QUOTE_NONNUMERIC),
# as pandas' to_csv(quoting=) takes them.
_CSV_QUOTING = {0: "minimal", 1: "all", 2: "nonnumeric"}


def _char(value: Optional[str], what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) != 1 or ord(value) > 127:
        raise ValueError(f"{what} is one ASCII character")
    return value


def _na_values(na_values: Union[None, str, Sequence[Any]]) -> List[str]:
    """pandas' na_values: one string or a list or set (numbers as their text);
    not the per-column dict."""
    if na_values is None:
        return []
    if isinstance(na_values, Mapping):
        raise TypeError("na_values per column (a dict) is not supported: give one list")
    if isinstance(na_values, (str, bytes, int, float)):
        na_values = [na_values]
    out = []
    for v in na_values:
        if isinstance(v, bytes) or v is None:
            raise TypeError("na_values holds str (or numbers, read as their text)")
        out.append(str(v))
    return out


def _dialect(skip_rows: int, comment: Optional[str], bad_rows: str, out_delimiter: Optional[str],
             quoting: Union[None, str, int], crlf: bool,
             na_values: Union[None, str, Sequence[Any]] = None) -> Optional[Tuple[Any, ...]]:
    if isinstance(quoting, bool):
        raise TypeError("quoting is 'keep', 'minimal', 'all', 'nonnumeric' or a csv.QUOTE_ constant")
    if quoting is None:
        q = "keep"
    elif isinstance(quoting, int):
        if quoting not in _CSV_QUOTING:
            raise ValueError(f"quoting {quoting!r}: csv.QUOTE_MINIMAL, QUOTE_ALL or QUOTE_NONNUMERIC")
        q = _CSV_QUOTING[quoting]
    else:
        q = str(quoting)
    if q not in _QUOTING:
        raise ValueError(f"quoting {quoting!r} is not one of {sorted(_QUOTING)}")
    if bad_rows not in _BAD_ROWS:
        raise ValueError(f"bad_rows {bad_rows!r} is not one of {sorted(_BAD_ROWS)}")
    if isinstance(skip_rows, bool) or int(skip_rows) < 0:
        raise ValueError("skip_rows is a count of lines, 0 or more")
    d = (_whole(skip_rows, "skip_rows", 0, 2**64 - 1), _char(comment, "comment"), _BAD_ROWS[bad_rows],
         _char(out_delimiter, "out_delimiter"), _QUOTING[q], bool(crlf), _na_values(na_values))
    return None if d == (0, "", 0, "", 0, False, []) else d


class CsvResult:
    """What weft.csv.run did: rows, reductions (label -> value) and stats
    (rows, windows, bytes_read, bytes_written, seconds and per-stage seconds)."""

    def __init__(self, stats: Dict[str, Any], reductions: Dict[str, Any]) -> None:
        self.stats = stats
        self.reductions = reductions
        self.rows: int = int(stats["rows"])

    def __repr__(self) -> str:
        return f"CsvResult(rows={self.rows}, reductions={self.reductions!r})"


def run(input: str, output: Optional[str] = None, *, set: Any = None,  # noqa: A002
        select: Union[None, str, Sequence[str]] = None,
        drop: Union[None, str, Sequence[str]] = None,
        reduce: Union[None, str, Sequence[str], Mapping[str, Any]] = None, delimiter: str = ",", header: bool = True,
        types: Union[None, str, Mapping[str, str]] = None, window_bytes: int = 0,
        int_missing: Optional[int] = None, fsync: bool = False,
        skip_rows: int = 0, comment: Optional[str] = None, bad_rows: str = "error",
        out_delimiter: Optional[str] = None, quoting: Union[None, str, int] = None,
        crlf: bool = False, na_values: Union[None, str, Sequence[Any]] = None,
        ctx: Optional[Context] = None) -> CsvResult:
    """weft_csv_run: reads input window by window, runs the statements of
    `set` ({"new_column": "old_column * 2"}, or a list of "name = expr"),
    folds the reductions of `reduce` ({"total": "sum: new_column"}), and
    writes output (None: reductions only), renamed into place only when the
    whole run succeeded. Untouched fields are written byte for byte. The GIL
    is released for the whole run. Malformed input raises weft.DataError
    ("FILE:LINE:COLUMN: what").

    The dialect (weft_csv_run_dialect, docs/csv.md "Dialects"): skip_rows
    physical lines dropped first; comment, a character starting lines to
    skip; bad_rows "error", "skip" or "pad" for rows of the wrong width;
    out_delimiter, quoting ("keep", "minimal", "all", "nonnumeric" or
    csv.QUOTE_MINIMAL / QUOTE_ALL / QUOTE_NONNUMERIC) and crlf for the
    output (any but the defaults rewrites every field).

    na_values, as pandas' read_csv takes it (one string or a list; numbers
    as their text): fields read as missing besides the empty field and
    pandas' defaults, matched to the whole field without its quotes. Missing
    reads as NaN in a float column; a column whose first window holds one
    is typed f64, as pandas reads it; in an i64 column (`types`, or typed by
    an earlier window) it raises weft.DataError naming the field unless
    int_missing gives a value."""
    from . import get_context

    dialect = _dialect(skip_rows, comment, bad_rows, out_delimiter, quoting, crlf, na_values)
    labels, reds = _reductions(reduce)
    stats, values = _weft._csv_run(
        ctx or get_context(), _path(input), None if output is None else _path(output),
        _statements(set), _names(select), _names(drop), reds,
        _options(delimiter, header, window_bytes, types, int_missing, fsync), dialect)
    return CsvResult(stats, dict(zip(labels, values)))


class Window:
    """One window of records: rows, first_row (its index in the file), and
    its columns by name as numpy arrays (parsed on first access; i64 or f64,
    copies: the reader reuses its memory for the next window). Valid until
    the reader moves on."""

    def __init__(self, reader: "_Reader", rows: int, first_row: int) -> None:
        self._reader = reader
        self._generation = reader.generation
        self.rows = rows
        self.first_row = first_row
        self._columns: Dict[str, Any] = {}

    def _check(self) -> None:
        if self._generation != self._reader.generation:
            raise ValueError("this CSV window is gone: the reader moved to the next one")

    def __getitem__(self, column: str) -> Any:
        if column not in self._columns:
            self._check()
            buf, typestr = self._reader.c.column(self._reader.index(column))
            try:
                import numpy
            except ImportError:  # pragma: no cover
                self._columns[column] = memoryview(buf).cast("q" if typestr == "<i8" else "d")
            else:
                self._columns[column] = numpy.frombuffer(buf, dtype=typestr)
        return self._columns[column]

    def field(self, row: int, column: str) -> bytes:
        """The bytes of one field as they are in the file."""
        self._check()
        return bytes(self._reader.c.field(row, self._reader.index(column)))


class _Reader:
    def __init__(self, c: Any) -> None:
        self.c = c
        self.generation = 0
        self.names: List[str] = list(c.columns())

    def index(self, column: str) -> int:
        fields = [k for k, name in enumerate(self.names) if name == column]
        if not fields:
            raise KeyError(f"no column {column!r} (the file has {self.names})")
        if len(fields) > 1:  # which one is meant cannot be told: as weft.csv.run says
            raise ValueError(f"column {column!r} is in the header twice (fields "
                             f"{fields[0] + 1} and {fields[1] + 1}); rename one")
        return fields[0]


def read(path: str, columns: Optional[Sequence[str]] = None, *, delimiter: str = ",",
         header: bool = True, types: Union[None, str, Mapping[str, str]] = None, window_bytes: int = 0,
         int_missing: Optional[int] = None, na_values: Union[None, str, Sequence[Any]] = None,
         skip_rows: int = 0, comment: Optional[str] = None, bad_rows: str = "error",
         ctx: Optional[Context] = None) -> Iterator[Window]:
    """Yields the file's windows in order (weft_csv_open_dialect /
    weft_csv_next). With columns, each window has them parsed already;
    others parse on access (w["name"]); any column can be parsed.
    na_values, skip_rows, comment and bad_rows as in run()."""
    from . import get_context

    c = _weft._csv_open(ctx or get_context(), _path(path),
                        _options(delimiter, header, window_bytes, types, int_missing, False),
                        _dialect(skip_rows, comment, bad_rows, None, None, False, na_values))
    reader = _Reader(c)
    try:
        while True:
            rows, first = c.next()
            reader.generation += 1
            if rows == 0:
                return
            w = Window(reader, rows, first)
            for name in columns or ():
                w[name]
            yield w
    finally:
        c.close()
