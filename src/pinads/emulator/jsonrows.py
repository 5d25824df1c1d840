"""Row tables -> JSON text, fast, with empty (null) values as absent keys as Pinterest sends them.

No Python object per cell: each column becomes an Arrow binary array of `,"KEY":value` pieces
(null where the value is empty), one element-wise join (nulls skipped) makes every row's text,
and that array's data buffer *is* the JSON text. Building a dict per row and serialising it with
orjson cost about three times as much (see docs/benchmarks.md, Emulator).

Values are written as orjson writes them: integers and booleans by Arrow's cast (same digits),
floats by one orjson dump per column, strings and anything else once per distinct value by
orjson (escaping included). Non-finite floats are absent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["json_array", "json_objects", "per_row_text"]

_K = TypeVar("_K", bound=Hashable)
_SLICE_ROWS = 50_000  # bounds the gathered pieces (and the int32 offsets) of one slice
# Stands for "{" at the start of an object whose first column may be absent; the piece after
# it then starts with a comma that must go. A raw control byte never occurs in JSON text.
_OPEN = b"\x02"


def _floats(column: pa.Array) -> pa.Array:
    """orjson's text of each float (shortest round-trip, `1.0` not `1`): one dumps of the
    column, split at the commas. Faster than Arrow's cast to string, whose notation also
    differs (`1`, `2.5e+10`, `0.0000012`)."""
    if len(column) == 0:
        return pa.array([], pa.string())
    finite = pc.if_else(pc.is_finite(column), column, None)
    text = orjson.dumps(finite.to_pylist())[1:-1]  # numbers and null contain no comma
    values = pc.split_pattern(pa.array([text], pa.binary()), ",").values.cast(pa.string())
    return pc.if_else(pc.is_valid(finite), values, None) if finite.null_count else values


def _repeat(text: str | bytes, n: int) -> pa.Array:
    kind = pa.binary() if isinstance(text, bytes) else pa.string()
    return pa.repeat(pa.scalar(text, kind), n)


def _values(column: pa.Array) -> pa.Array:
    """The JSON text of every value, null where the value is empty."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_floating(kind):
        return _floats(column)
    encoded = column.dictionary_encode()
    distinct = [orjson.dumps(v).decode() for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(distinct, pa.string()), encoded.indices)


def _keyed(name: str, values: pa.Array, *, first: bool) -> pa.Array:
    """`,"NAME":value` (or `{"NAME":value`) as binary: the binary kernels skip UTF-8 work."""
    key = ("{" if first else ",") + orjson.dumps(name).decode() + ":"
    return pc.binary_replace_slice(values.cast(pa.binary()), 0, 0, key.encode())


def _data(array: pa.Array) -> memoryview:
    """The bytes of a binary array's non-null values, concatenated (no copy)."""
    _, offsets, data = array.buffers()
    if data is None:
        return memoryview(b"")
    bounds = memoryview(offsets).cast("i")
    return memoryview(data)[bounds[array.offset] : bounds[array.offset + len(array)]]


def _slice_objects(table: pa.Table, heads: pa.Array | None, tail: str) -> tuple[memoryview, bool]:
    """(text of the slice's rows, whether `_OPEN` markers are in it)."""
    n = table.num_rows
    values = [_values(table[name].combine_chunks()) for name in table.column_names]
    # The first column opens the object itself when it is never absent (an id, a date).
    direct = bool(values) and values[0].null_count == 0
    pieces = [] if heads is None else [heads.cast(pa.binary())]
    if not direct:
        pieces.append(_repeat(_OPEN, n))
    pieces += [
        _keyed(name, text, first=direct and i == 0)
        for i, (name, text) in enumerate(zip(table.column_names, values, strict=True))
    ]
    pieces.append(_repeat(b"}" + tail.encode(), n))
    # One element-wise join makes each row's text; absent values (nulls) are skipped.
    rows = pc.binary_join_element_wise(*pieces, b"", null_handling="skip")
    return _data(rows), not direct


def json_objects(
    table: pa.Table, heads: pa.Array | None = None, tail: str = "", end: bytes = b""
) -> bytes:
    """The rows as JSON objects, concatenated: `heads[i] + {row i} + tail` for each row, then
    `end` (heads: a string array of JSON text, e.g. separators or enclosing keys)."""
    parts: list[memoryview] = []  # each keeps its Arrow buffer alive
    marked = False
    for start in range(0, table.num_rows, _SLICE_ROWS):
        length = min(_SLICE_ROWS, table.num_rows - start)
        text, opened = _slice_objects(
            table.slice(start, length), None if heads is None else heads.slice(start, length), tail
        )
        parts.append(text)
        marked = marked or opened
    out = b"".join([*parts, end])  # the one copy of the text
    if marked:
        # "{" + the first present piece without its comma; or "{" when no piece is present.
        out = out.replace(_OPEN + b",", b"{").replace(_OPEN, b"{")
    return out


def json_array(table: pa.Table, heads: pa.Array | None = None, tail: str = "") -> bytes:
    """`[{row}, ...]`; with `heads`/`tail` each element is `heads[i] + {row i} + tail`."""
    n = table.num_rows
    if n == 0:
        return b"[]"
    separators = pa.concat_arrays([pa.array(["["]), _repeat(",", n - 1)])
    if heads is not None:
        separators = pc.binary_join_element_wise(separators, heads, "")
    return json_objects(table, separators, tail, b"]")


def per_row_text(keys: Sequence[_K], render: Callable[[_K], str]) -> pa.Array:
    """A string array of `render(keys[i])`, rendering each distinct key once."""
    codes: dict[_K, int] = {}
    indices = [codes.setdefault(key, len(codes)) for key in keys]
    return pc.take(pa.array([render(k) for k in codes], pa.string()), pa.array(indices, pa.int32()))
