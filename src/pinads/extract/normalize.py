"""Rows from Pinterest -> typed Arrow record batches, column by column.

Micro-currency and counts stay exact int64 (never through float); an absent metric is null, not
0; CSV report cells (strings, empty for nothing) get the same types as JSON values, so a day read
from a report and the same day read synchronously are indistinguishable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

import orjson
import pyarrow as pa

from pinads.catalog.model import Attribute, AttributeSource, ColumnType, FieldEncoding
from pinads.errors import ExtractError
from pinads.extract.table import Selection
from pinads.load.spec import TableSpec

__all__ = ["BATCH_ROWS", "EntityIndex", "RowContext", "flatten_row", "to_batches"]

BATCH_ROWS = 50_000  # rows per record batch: large enough for columnar speed, small for memory

EntityIndex = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""entity dataset name -> entity id -> the item's fields (only those a source needs)."""


@dataclass(frozen=True, slots=True)
class RowContext:
    """What is the same for every row of a step: its account, the shared entity lists, and the
    constant `_pinads_` columns."""

    account: Mapping[str, Any]
    entities: EntityIndex
    constants: Mapping[str, Any] = field(default_factory=dict)


def flatten_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """Targeting analytics nest metrics under `metrics`; lift them beside the targeting fields."""
    nested = row.get("metrics")
    if isinstance(nested, dict):
        flat = dict(nested)
        flat.update((k, v) for k, v in row.items() if k != "metrics")
        return flat
    return row


def _pick(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None:
        value = row.get(name.upper())
    return None if value == "" else value


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        exact = Decimal(str(value))
    except InvalidOperation:
        raise ExtractError(f"Pinterest sent {value!r:.40} where a whole number belongs") from None
    if exact != exact.to_integral_value():
        raise ExtractError(f"Pinterest sent {value!r:.40} where a whole number belongs")
    return int(exact)


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _timestamp(value: Any, encoding: FieldEncoding) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and not value.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = float(value) / (1000 if encoding is FieldEncoding.UNIX_MILLIS else 1)
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _text(value: Any, encoding: FieldEncoding) -> str | None:
    if value is None:
        return None
    if encoding is FieldEncoding.JSON and not isinstance(value, str):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def _array(values: list[Any], col_type: ColumnType, encoding: FieldEncoding) -> pa.Array:
    arrow_type = col_type.arrow()
    if col_type is ColumnType.INT64:
        try:  # the fast path: JSON ints straight into int64
            return pa.array(values, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array([_int(v) for v in values], type=arrow_type)
    if col_type is ColumnType.STRING:
        return pa.array([_text(v, encoding) for v in values], type=arrow_type)
    if col_type is ColumnType.TIMESTAMP:
        return pa.array([_timestamp(v, encoding) for v in values], type=arrow_type)
    convert = _CONVERTERS[col_type]
    return pa.array([convert(v) for v in values], type=arrow_type)


_CONVERTERS: dict[ColumnType, Any] = {
    ColumnType.FLOAT64: _float,
    ColumnType.DATE: _date,
    ColumnType.BOOL: _bool,
}


class _Columns:
    """Column values of one chunk of rows, resolving ENTITY attributes through their `via`."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], selection: Selection, ctx: RowContext):
        self.rows = rows
        self.ctx = ctx
        self.attributes = selection.dataset.attributes_by_name
        self.cache: dict[str, list[Any]] = {}

    def values(self, attr: Attribute) -> list[Any]:
        if attr.name in self.cache:
            return self.cache[attr.name]
        if attr.source is AttributeSource.ROW:
            values = [_pick(row, attr.field) for row in self.rows]
        elif attr.source is AttributeSource.ACCOUNT:
            values = [self.ctx.account.get(attr.field)] * len(self.rows)
        else:
            values = self._lookup(attr)
        self.cache[attr.name] = values
        return values

    def _lookup(self, attr: Attribute) -> list[Any]:
        via = self.attributes.get(attr.via or "")
        if via is None or attr.entity is None:
            raise ExtractError(f"catalog attribute {attr.name} has no way to its value")
        index = self.ctx.entities.get(attr.entity, {})
        ids = self.values(via)
        empty: Mapping[str, Any] = {}
        return [index.get(str(i), empty).get(attr.field) if i is not None else None for i in ids]


def _batch(
    rows: Sequence[Mapping[str, Any]], selection: Selection, table: TableSpec, ctx: RowContext
) -> pa.RecordBatch:
    columns = _Columns(rows, selection, ctx)
    arrays: list[pa.Array] = []
    for attr in selection.attributes:
        arrays.append(_array(columns.values(attr), attr.type, attr.encoding))
    for metric in selection.metrics:
        values = [_pick(row, metric.name) for row in rows]
        arrays.append(_array(values, metric.type, FieldEncoding.PLAIN))
    for spec in table.columns[len(arrays) :]:
        arrays.append(pa.array([ctx.constants.get(spec.name)] * len(rows), type=spec.arrow_type))
    return pa.RecordBatch.from_arrays(arrays, schema=table.schema)


def to_batches(
    rows: Iterable[Mapping[str, Any]],
    *,
    selection: Selection,
    table: TableSpec,
    ctx: RowContext,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Stream `rows` as record batches of at most `batch_rows` rows (none for no rows)."""
    iterator = iter(rows)
    while True:
        chunk = [flatten_row(row) for row in islice(iterator, batch_rows)]
        if not chunk:
            return
        yield _batch(chunk, selection, table, ctx)
