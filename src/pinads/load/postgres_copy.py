"""COPY of Arrow rows into PostgreSQL, in the binary format encoded column-wise by Arrow.

Why binary: on 1M analytics rows (bench/load.py) the server spent ~12 s of CPU parsing CSV text
(numbers, dates, timestamps) and ~7 s receiving the same rows in binary; Arrow's CSV writer also
cost ~5 s of client CPU (2 s of it formatting one timestamp column) against ~1 s for this encoder.

How, with no Python loop per row: a binary COPY row is a 2-byte field count, then per field a
4-byte big-endian length (-1 for NULL) and the value in network byte order. Fixed-width columns
without NULLs in the step have a constant layout, so their fields are built for all rows at once
by one gather (`take`) of 32-bit words from the byte-swapped column buffers; every other column
(text, NULLs, 1- and 2-byte values) becomes a binary array of whole fields. One
`binary_join_element_wise` then concatenates the pieces of each row, and the joined array's data
buffer is the COPY stream. COPY's column list follows that order (fixed block first).

Types the encoder does not write exactly (decimal, nanosecond timestamps) send the step as CSV.
"""

from __future__ import annotations

import array
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from pinads.load.postgres_sql import idents

__all__ = ["binary_layout", "copy_rows", "encode_binary"]

COPY_BATCH_ROWS = 16_384
# Encoded chunks stay far below the 2 GiB that Arrow's 32-bit offsets allow, even for rows
# with long text (rows per chunk shrink to fit).
_CHUNK_BYTES = 64 * 1024 * 1024
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, batch_size=8192)
# Header: signature, flags (no OIDs), header extension length; the trailer is a -1 field count.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
_NULL_FIELD = pa.scalar(b"\xff\xff\xff\xff", pa.binary())
_PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000
_MICROS_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}
_ARRAY_CODES = {1: "B", 2: "h", 4: "i", 8: "q"}

Cursor = psycopg.Cursor[Any]


@dataclass(frozen=True)
class BinaryLayout:
    """Which columns go in the fixed block (word-aligned, no NULLs) and which as fields."""

    block: tuple[str, ...]
    fields: tuple[str, ...]

    @property
    def order(self) -> tuple[str, ...]:
        """The column order of the COPY statement (and of every encoded row)."""
        return self.block + self.fields


def binary_layout(rows: pa.Table) -> BinaryLayout | None:
    """The layout for `rows`, or None if a column has a type the encoder does not write."""
    block: list[str] = []
    fields: list[str] = []
    for f in rows.schema:
        width = _pg_width(f.type)
        if width is None:
            return None
        has_nulls = rows.column(f.name).null_count > 0
        (block if width in (4, 8) and not has_nulls else fields).append(f.name)
    return BinaryLayout(block=tuple(block), fields=tuple(fields))


def copy_rows(cur: Cursor, target: sql.Composable, rows: pa.Table) -> None:
    """COPY `rows` into `target` (binary when every type allows it), sent from a writer thread."""
    if rows.num_rows == 0:
        return
    layout = binary_layout(rows)
    if layout is None:
        _copy_csv(cur, target, rows)
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        target, idents(list(layout.order))
    )
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(BINARY_HEADER)
        for chunk in encode_binary(rows, layout):
            copy.write(chunk)
        copy.write(BINARY_TRAILER)


def _copy_csv(cur: Cursor, target: sql.Composable, rows: pa.Table) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, idents(rows.column_names)
    )
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for batch in rows.to_batches(max_chunksize=COPY_BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, _CSV_OPTIONS)
            copy.write(memoryview(sink.getvalue()))


def encode_binary(rows: pa.Table, layout: BinaryLayout) -> Iterator[memoryview]:
    """The binary COPY rows of `rows` (no header or trailer), in chunks of whole rows."""
    count = pa.scalar(len(layout.order).to_bytes(2, "big"), pa.binary())
    selected = rows.select(list(layout.order))
    for batch in selected.to_batches(max_chunksize=_chunk_rows(selected)):
        pieces: list[pa.Array | pa.Scalar] = [count]
        if layout.block:
            pieces.append(_fixed_block([batch.column(n) for n in layout.block]))
        for name in layout.fields:
            pieces += _field_pieces(batch.column(name))
        joined = pc.binary_join_element_wise(*pieces, b"")
        yield _data_of(joined)


def _chunk_rows(rows: pa.Table) -> int:
    """Rows per encoded chunk: COPY_BATCH_ROWS, fewer if the rows are long."""
    per_row = rows.nbytes / max(rows.num_rows, 1) + 4 * rows.num_columns + 2
    return max(1, min(COPY_BATCH_ROWS, int(_CHUNK_BYTES // per_row)))


# -- values in PostgreSQL's binary representation -------------------------------------------


def _pg_width(arrow_type: pa.DataType) -> int | None:
    """Bytes of the binary value (0 for text), or None if the encoder cannot write the type."""
    if pa.types.is_timestamp(arrow_type):
        return 8 if arrow_type.unit in _MICROS_PER else None
    if pa.types.is_boolean(arrow_type):
        return 1
    if pa.types.is_int8(arrow_type):
        return 2  # stored as smallint
    fixed = (pa.types.is_signed_integer, pa.types.is_float32, pa.types.is_float64)
    if any(check(arrow_type) for check in fixed) or pa.types.is_date32(arrow_type):
        return int(arrow_type.bit_width // 8)
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return 0 if any(check(arrow_type) for check in text) else None


def _pg_values(arr: pa.Array) -> pa.Array:
    """`arr` as the fixed-width numbers PostgreSQL's binary format holds (same nulls)."""
    t = arr.type
    if pa.types.is_boolean(t):
        return pc.cast(arr, pa.uint8())
    if pa.types.is_int8(t):
        return pc.cast(arr, pa.int16())
    if pa.types.is_date32(t):
        return pc.subtract(arr.view(pa.int32()), pa.scalar(_PG_EPOCH_DAYS, pa.int32()))
    if pa.types.is_timestamp(t):
        micros = arr.view(pa.int64())
        if _MICROS_PER[t.unit] != 1:
            micros = pc.multiply_checked(micros, pa.scalar(_MICROS_PER[t.unit], pa.int64()))
        return pc.subtract_checked(micros, pa.scalar(_PG_EPOCH_MICROS, pa.int64()))
    return arr


def _big_endian(values: pa.Array) -> bytes | array.array[int]:
    """The value buffer of fixed-width `values` in network byte order (one copy, C speed)."""
    width = values.type.bit_width // 8
    start = values.offset * width
    raw = memoryview(values.buffers()[1])[start : start + len(values) * width]
    if width == 1:
        return bytes(raw)
    swapped = array.array(_ARRAY_CODES[width])
    swapped.frombytes(raw)
    swapped.byteswap()
    return swapped


def _as_binary(values: pa.Array, data: pa.Buffer, width: int) -> pa.Array:
    """Binary array of `width`-byte elements over `data`, with the nulls of `values`."""
    validity = values.buffers()[0] if values.null_count else None
    if validity is not None and values.offset:
        # The validity bitmap of a sliced array starts mid-byte; realign it by copying.
        validity = pa.concat_arrays([values]).buffers()[0]
    return pa.Array.from_buffers(
        pa.binary(),
        len(values),
        [validity, _offsets(width, len(values)), data],
        null_count=values.null_count,
    )


@functools.lru_cache(maxsize=8)
def _offsets(width: int, n: int) -> pa.Buffer:
    return _arange(n + 1, step=width).cast(pa.int32()).buffers()[1]


def _arange(n: int, *, step: int = 1) -> pa.Array:
    """0, step, 2*step, ... (n values) as int64, without a Python loop."""
    if n == 0:
        return pa.array([], pa.int64())
    ones = pa.repeat(pa.scalar(step, pa.int64()), n)
    return pc.subtract(pc.cumulative_sum(ones), pa.scalar(step, pa.int64()))


def _field_pieces(column: pa.Array) -> list[pa.Array | pa.Scalar]:
    """Pieces that make up each row's field for `column` (length prefix and value, or NULL)."""
    if _pg_width(column.type) == 0:
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        lengths = _pg_values(pc.binary_length(text))
        prefix: pa.Array | pa.Scalar = _as_binary(lengths, pa.py_buffer(_big_endian(lengths)), 4)
        value = text.view(pa.binary())
    else:
        values = _pg_values(column)
        width = values.type.bit_width // 8
        prefix = pa.scalar(width.to_bytes(4, "big"), pa.binary())
        value = _as_binary(values, pa.py_buffer(_big_endian(values)), width)
    if not column.null_count:
        return [prefix, value]
    field = pc.binary_join_element_wise(prefix, value, b"")
    return [pc.fill_null(field, _NULL_FIELD)]


def _fixed_block(columns: Sequence[pa.Array]) -> pa.Array:
    """Each row's fields of `columns` (4- and 8-byte values, no NULLs) as one binary element."""
    values = [_pg_values(c) for c in columns]
    widths = tuple(v.type.bit_width // 8 for v in values)
    n = len(values[0])
    index, row_bytes = _block_index(widths, n)
    # Source words: the length prefixes (one word per distinct width), then each column's
    # big-endian value words; `index` picks them in row order.
    prefixes = [int.from_bytes(w.to_bytes(4, "big"), "little") for w in _widths(widths)]
    source = pa.concat_arrays(
        [pa.array(prefixes, pa.uint32())]
        + [
            pa.Array.from_buffers(pa.uint32(), n * w // 4, [None, pa.py_buffer(_big_endian(v))])
            for v, w in zip(values, widths, strict=True)
        ]
    )
    words = source.take(index)
    return pa.Array.from_buffers(pa.binary(), n, [None, _offsets(row_bytes, n), words.buffers()[1]])


def _widths(widths: tuple[int, ...]) -> list[int]:
    return sorted(set(widths))


@functools.lru_cache(maxsize=4)
def _block_index(widths: tuple[int, ...], n: int) -> tuple[pa.Array, int]:
    """Word index into the block's source for `n` rows, and the block's bytes per row.

    Word l of row r comes from source position base[l] + r * stride[l]: a length prefix has
    stride 0 (one shared word), word j of an 8-byte column's value has base = column start + j
    and stride 2.
    """
    prefix_at = {w: i for i, w in enumerate(_widths(widths))}
    base: list[int] = []
    stride: list[int] = []
    start = len(prefix_at)
    for w in widths:
        words = w // 4
        base.append(prefix_at[w])
        stride.append(0)
        base += [start + j for j in range(words)]
        stride += [words] * words
        start += n * words
    lanes = len(base)
    position = _arange(n * lanes)
    row = pc.divide(position, pa.scalar(lanes, pa.int64()))
    lane = pc.subtract(position, pc.multiply(row, pa.scalar(lanes, pa.int64())))
    index = pc.add(
        pa.array(base, pa.int64()).take(lane),
        pc.multiply(row, pa.array(stride, pa.int64()).take(lane)),
    )
    return index.cast(pa.int32()), lanes * 4


def _data_of(joined: pa.Array) -> memoryview:
    """The bytes of all elements of a (null-free) binary array, in order, without a copy."""
    offsets = pa.Array.from_buffers(
        pa.int32(), len(joined) + 1, [None, joined.buffers()[1]], offset=joined.offset
    )
    first, last = offsets[0].as_py(), offsets[len(joined)].as_py()
    return memoryview(joined.buffers()[2])[first:last]
