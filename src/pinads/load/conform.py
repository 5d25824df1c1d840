"""Bring incoming record batches to a table's exact schema before any engine sees them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from pinads.errors import LoadError
from pinads.values import TableSpec

__all__ = ["SEQ_COLUMN", "collect_step", "conform_batches", "last_per_key", "quote_ident"]

# Position of a row within its step; "last row wins" among duplicate keys is decided on it.
SEQ_COLUMN = "__pinads_seq"


def quote_ident(name: str) -> str:
    """SQL identifier quoting (DuckDB and PostgreSQL share the rule)."""
    return '"' + name.replace('"', '""') + '"'


def conform_batches(
    table: TableSpec,
    batches: Iterable[pa.RecordBatch],
    *,
    require_key: bool,
    with_seq: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Yield `batches` with the table's columns, order and types (zero-copy when they match).

    Columns the batch lacks become nulls; a column the spec does not know, a value that does not
    fit the column's type or (when `require_key`) a null key value raise LoadError naming it.
    With `with_seq`, a trailing int64 `__pinads_seq` column numbers the rows of the whole step.
    """
    schema = table.schema
    offset = 0
    for batch in batches:
        if isinstance(batch, pa.Table):
            parts: Iterable[pa.RecordBatch] = batch.to_batches()
        else:
            parts = (batch,)
        for part in parts:
            conformed = _conform_one(table, schema, part, require_key=require_key)
            if with_seq:
                seq = pa.array(range(offset, offset + conformed.num_rows), pa.int64())
                conformed = conformed.append_column(SEQ_COLUMN, seq)
            offset += conformed.num_rows
            yield conformed


def _conform_one(
    table: TableSpec, schema: pa.Schema, batch: pa.RecordBatch, *, require_key: bool
) -> pa.RecordBatch:
    if not batch.schema.equals(schema, check_metadata=False):
        batch = _reshape(table, schema, batch)
    if require_key:
        for name in table.key:
            if batch.column(name).null_count:
                raise LoadError(
                    f"key column {name!r} of table {table.name!r} has null values; every row "
                    "needs its key (or write in append mode)"
                )
    return batch


def _reshape(table: TableSpec, schema: pa.Schema, batch: pa.RecordBatch) -> pa.RecordBatch:
    unknown = [n for n in batch.schema.names if n not in table.column_names]
    if unknown:
        raise LoadError(
            f"rows for table {table.name!r} carry columns {unknown} that its spec does not "
            "declare; add them to the TableSpec"
        )
    arrays = []
    for col in table.columns:
        idx = batch.schema.get_field_index(col.name)
        if idx < 0:
            arrays.append(pa.nulls(batch.num_rows, col.arrow_type))
            continue
        array = batch.column(idx)
        if not array.type.equals(col.arrow_type):
            array = _cast(table.name, col.name, array, col.arrow_type)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _cast(table_name: str, column: str, array: pa.Array, target: pa.DataType) -> pa.Array:
    try:
        return pc.cast(array, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LoadError(
            f"column {column!r} of table {table_name!r} is {target} but the rows carry "
            f"{array.type} values that do not convert ({exc}); fix the column's type"
        ) from exc


def collect_step(
    table: TableSpec, batches: Iterable[pa.RecordBatch], *, require_key: bool
) -> pa.Table:
    """One step's rows as an Arrow table (with `__pinads_seq`), conformed to the spec.

    Holding one step is bounded by the plan (at most 250 ids x 90 days for analytics); a run
    as a whole never is. Collecting before any transaction starts means a producer that fails
    half-way has touched nothing.
    """
    schema = table.schema.append(pa.field(SEQ_COLUMN, pa.int64()))
    parts = list(conform_batches(table, batches, require_key=require_key, with_seq=True))
    return pa.Table.from_batches(parts, schema=schema)


def last_per_key(rows: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Keep the last row of each key (by `__pinads_seq`), in their original order."""
    if rows.num_rows == 0 or not key:
        return rows
    last = rows.group_by(list(key), use_threads=False).aggregate([(SEQ_COLUMN, "max")])
    if last.num_rows == rows.num_rows:
        return rows
    keep = last.column(f"{SEQ_COLUMN}_max")
    # `__pinads_seq` numbers the rows from 0, so it is also the row's index.
    return rows.take(keep.take(pc.sort_indices(keep)))
