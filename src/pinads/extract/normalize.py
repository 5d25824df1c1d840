"""Rows from Pinterest -> typed Arrow record batches.

The fast path hands a chunk of JSON rows to Arrow in one call (an inferred struct array, built in
C++), then coerces each field to the catalog's type: whole numbers stay exact int64 (a float
column becomes int64 only when every value is whole and below 2**53), an absent metric is null.
Anything the fast path cannot take exactly (CSV strings, epoch times, objects) goes value by
value through `pinads.extract.values`, so a day read from a report and the same day read
synchronously are indistinguishable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pinads.api.client import Body, Decoder, json_slices, loads_in_slices
from pinads.catalog.model import Attribute, AttributeSource, ColumnType, FieldEncoding
from pinads.errors import ExtractError
from pinads.extract.table import Selection
from pinads.extract.values import array_from_values
from pinads.values import TableSpec

__all__ = [
    "BATCH_ROWS",
    "EntityIndex",
    "RowContext",
    "flatten_row",
    "to_batches",
    "typed_rows_decoder",
]

BATCH_ROWS = 50_000  # rows per record batch: large enough for columnar speed, small for memory
_EXACT_FLOAT_LIMIT = 2**53  # beyond this a double no longer holds every whole number

EntityIndex = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""entity dataset name -> entity id -> the item's fields (only those a source needs)."""


@dataclass(frozen=True, slots=True)
class RowContext:
    """What is the same for every row of a step: its account, the shared entity lists, and the
    constant `_pinads_` columns."""

    account: Mapping[str, Any]
    entities: EntityIndex
    constants: Mapping[str, Any] = field(default_factory=dict)
    # (entity dataset, field, type) -> (entity ids, field values) as Arrow arrays, built once
    # and shared by every step of the account (the caller passes one dict per account).
    lookups: dict[tuple[str, str, str], tuple[pa.Array, pa.Array]] = field(default_factory=dict)

    def lookup_arrays(self, attr: Attribute) -> tuple[pa.Array, pa.Array]:
        assert attr.entity is not None
        key = (attr.entity, attr.field, attr.type.value)
        found = self.lookups.get(key)
        if found is None:
            index = self.entities.get(attr.entity, {})
            ids = pa.array(list(index), type=pa.string())
            values = [item.get(attr.field) for item in index.values()]
            found = (ids, array_from_values(values, attr.type, attr.encoding))
            self.lookups[key] = found
        return found


def flatten_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """Targeting analytics nest metrics under `metrics`; lift them beside the targeting fields."""
    nested = row.get("metrics")
    if isinstance(nested, dict):
        flat = dict(nested)
        flat.update((k, v) for k, v in row.items() if k != "metrics")
        return flat
    return row


# Arrow types to convert Python values to, per catalog type. Whole numbers go through float64:
# Arrow truncates a float given for int64 (4.5 -> 4) but refuses an integer a double cannot hold
# exactly, and `_coerce` then casts to int64 only a column of whole numbers below 2**53; anything
# else takes the exact path. Dates stay text here and are cast like inferred text.
_DIRECT_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INT64: pa.float64(),
    ColumnType.FLOAT64: pa.float64(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.DATE: pa.string(),
}


def _row_type(selection: Selection) -> pa.StructType | None:
    """The row fields `selection` reads that Arrow can convert directly, with their types."""
    wanted = [
        (attr.field, attr.type)
        for attr in selection.attributes
        if attr.source is AttributeSource.ROW and attr.encoding is FieldEncoding.PLAIN
    ]
    wanted += [(metric.name, metric.type) for metric in selection.metrics]
    fields: dict[str, pa.DataType] = {}
    for name, col_type in wanted:
        arrow_type = _DIRECT_TYPES.get(col_type)
        if arrow_type is not None and fields.setdefault(name, arrow_type) != arrow_type:
            return None  # one field read as two types: let inference decide
    return pa.struct(list(fields.items())) if fields else None


def typed_rows_decoder(selection: Selection) -> Decoder:
    """A body decoder for `PinterestClient.get_json`: a large array of rows becomes a table of
    the fields `selection` reads, converted slice by slice (~1 MB of JSON, ~2,000 rows each),
    so the rows never all exist as Python dicts (~20 MB per 12,000 analytics rows). Whatever
    does not convert exactly, or is not such an array, comes back as orjson's parse and takes
    the usual path."""
    row_type = _row_type(selection)

    def decode(body: Body) -> Any:
        slices = json_slices(body) if row_type is not None else None
        if slices is None or row_type is None or not _covers(row_type, selection):
            return loads_in_slices(body)
        parts: list[pa.Array] = []
        try:
            for piece in slices:
                parts.append(pa.array(orjson.loads(piece), type=row_type))
        except (orjson.JSONDecodeError, pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return loads_in_slices(body)
        return pa.Table.from_struct_array(pa.chunked_array(parts, type=row_type))

    return decode


def _covers(row_type: pa.StructType, selection: Selection) -> bool:
    """Whether `row_type` holds every row field `selection` reads (no exact-path-only field)."""
    names = {row_type.field(i).name for i in range(row_type.num_fields)}
    fields = [a.field for a in selection.attributes if a.source is AttributeSource.ROW]
    return names.issuperset([*fields, *(m.name for m in selection.metrics)])


def _typed_fields(
    rows: Sequence[Mapping[str, Any]], selection: Selection
) -> dict[str, pa.Array] | None:
    """The fields `selection` reads, converted with their catalog types in one C++ pass: about
    twice as fast as letting Arrow infer the types first. None when a value does not fit its
    type as given (a fraction in a whole-number metric, text in a number...): inference and
    the exact path then decide, as before."""
    row_type = _row_type(selection)
    if row_type is None:
        return None
    try:
        array = pa.array(rows, type=row_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None
    return {row_type.field(i).name: array.field(i) for i in range(row_type.num_fields)}


def _struct_fields(rows: Sequence[Mapping[str, Any]]) -> dict[str, pa.Array] | None:
    """Every field of `rows` as an Arrow array, in one C++ pass; None when Arrow cannot infer
    one type per field (then the exact path takes over)."""
    try:
        array = pa.array(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    if not pa.types.is_struct(array.type):
        return None
    return {array.type.field(i).name: array.field(i) for i in range(array.type.num_fields)}


def _whole_ints(values: pa.Array) -> pa.Array | None:
    """Floats as int64 when every one is whole and below 2**53 (beyond, a double may not be
    the number Pinterest wrote); None otherwise."""
    try:
        ints = values.cast(pa.int64())  # a safe cast: refuses fractions
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    extent = pc.min_max(ints).as_py()
    if extent["min"] is not None and max(-extent["min"], extent["max"]) >= _EXACT_FLOAT_LIMIT:
        return None
    return ints


def _castable(kind: pa.DataType, col_type: ColumnType, values: pa.Array) -> bool:
    """True when casting `values` (of Arrow type `kind`) to `col_type` loses nothing."""
    if col_type in (ColumnType.FLOAT64, ColumnType.STRING):
        return bool(pa.types.is_integer(kind))
    return col_type is ColumnType.DATE and bool(pa.types.is_string(kind))


def _coerce(values: pa.Array, col_type: ColumnType) -> pa.Array | None:
    """`values` as `col_type` when that is exact; None to use the value-by-value path."""
    target = col_type.arrow()
    if values.type == target:
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), type=target)
    if col_type is ColumnType.INT64 and pa.types.is_floating(values.type):
        return _whole_ints(values)
    if not _castable(values.type, col_type, values):
        return None
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


class _Columns:
    """Column arrays of one chunk of rows; ENTITY attributes resolve through their `via`."""

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        selection: Selection,
        ctx: RowContext,
    ):
        self.rows = rows
        self.ctx = ctx
        self.attributes = selection.dataset.attributes_by_name
        self.fast: Mapping[str, pa.Array]
        if isinstance(rows, pa.Table):  # fields already converted (`typed_rows_decoder`)
            self.fast = {name: rows.column(name).combine_chunks() for name in rows.column_names}
        else:
            self.fast = _typed_fields(rows, selection) or _struct_fields(rows) or {}
        self.arrays: dict[str, pa.Array] = {}

    def values(self, name: str) -> list[Any]:
        if isinstance(self.rows, pa.Table):
            found = self.fast.get(name)
            return found.to_pylist() if found is not None else [None] * self.rows.num_rows
        return [row.get(name) for row in self.rows]

    def field(self, name: str, col_type: ColumnType, encoding: FieldEncoding) -> pa.Array:
        """A row field as an array of `col_type` (fast when exact, else value by value)."""
        source = self.fast.get(name)
        if name != name.upper() and (source is None or source.null_count == len(source)):
            # CSV headers spell every field in capitals (row_values looks there too)
            source = self.fast.get(name.upper())
        if source is not None and encoding is FieldEncoding.PLAIN:
            coerced = _coerce(source, col_type)
            if coerced is not None:
                return coerced
        return array_from_values(self.row_values(name), col_type, encoding)

    def row_values(self, name: str) -> list[Any]:
        values = self.values(name)
        if name != name.upper() and all(v is None for v in values):
            values = self.values(name.upper())
        return values

    def attribute(self, attr: Attribute) -> pa.Array:
        cached = self.arrays.get(attr.name)
        if cached is not None:
            return cached
        if attr.source is AttributeSource.ROW:
            array = self.field(attr.field, attr.type, attr.encoding)
        elif attr.source is AttributeSource.ACCOUNT:
            value = self.ctx.account.get(attr.field)
            constant = array_from_values([value], attr.type, attr.encoding)[0]
            array = pa.repeat(constant, len(self.rows))
        else:
            array = self.lookup(attr)
        self.arrays[attr.name] = array
        return array

    def lookup(self, attr: Attribute) -> pa.Array:
        """An ENTITY attribute: the entity list's field for the id in attribute `via`, joined
        in Arrow (no Python loop over rows)."""
        via = self.attributes.get(attr.via or "")
        if via is None or attr.entity is None:
            raise ExtractError(f"catalog attribute {attr.name} has no way to its value")
        ids, values = self.ctx.lookup_arrays(attr)
        keys = self.attribute(via)
        if keys.type != pa.string():
            keys = keys.cast(pa.string())
        return values.take(pc.index_in(keys, value_set=ids))


def _batch(
    rows: Sequence[Mapping[str, Any]] | pa.Table,
    selection: Selection,
    table: TableSpec,
    ctx: RowContext,
) -> pa.RecordBatch:
    columns = _Columns(rows, selection, ctx)
    arrays = [columns.attribute(attr) for attr in selection.attributes]
    arrays += [
        columns.field(metric.name, metric.type, FieldEncoding.PLAIN) for metric in selection.metrics
    ]
    for spec in table.columns[len(arrays) :]:
        constant = pa.scalar(ctx.constants.get(spec.name), type=spec.arrow_type)
        arrays.append(pa.repeat(constant, len(rows)))
    return pa.RecordBatch.from_arrays(arrays, schema=table.schema)


def to_batches(
    rows: Iterable[Mapping[str, Any]] | pa.Table,
    *,
    selection: Selection,
    table: TableSpec,
    ctx: RowContext,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Stream `rows` (JSON rows, or their fields converted by `typed_rows_decoder`) as record
    batches of at most `batch_rows` rows (none for no rows)."""
    if isinstance(rows, pa.Table):
        for start in range(0, rows.num_rows, batch_rows):
            yield _batch(rows.slice(start, batch_rows), selection, table, ctx)
        return
    iterator = iter(rows)
    while True:
        chunk = list(islice(iterator, batch_rows))
        if not chunk:
            return
        if "metrics" in chunk[0]:
            chunk = [flatten_row(row) for row in chunk]
        yield _batch(chunk, selection, table, ctx)
