"""Singer catalog entries for pinads tables: JSON Schema per column, key properties, the
replication key, and which streams and fields a catalog selects.

Types follow what Singer targets map to SQL: exact integers stay `integer` (micro-currency
amounts such as `spend_in_micro_dollar` are whole micro-units, never floats), decimals are
`number` with `multipleOf` their scale, days are `string`/`date`, instants `string`/`date-time`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from pinads.errors import ConfigError
from pinads.values import ColumnSpec, TableSpec

__all__ = [
    "StreamSelection",
    "catalog_entry",
    "column_schema",
    "key_properties",
    "replication_key",
    "selection_of",
    "stream_schema",
]

_MICRO_SUFFIX = "_in_micro_dollar"


# (Arrow type check, JSON Schema) in order; anything else (strings) is a string.
_SIMPLE_TYPES: tuple[tuple[Callable[[pa.DataType], bool], dict[str, Any]], ...] = (
    (pa.types.is_integer, {"type": ["integer", "null"]}),
    (pa.types.is_floating, {"type": ["number", "null"]}),
    (pa.types.is_boolean, {"type": ["boolean", "null"]}),
    (pa.types.is_date, {"type": ["string", "null"], "format": "date"}),
    (pa.types.is_timestamp, {"type": ["string", "null"], "format": "date-time"}),
)


def _json_type(arrow_type: pa.DataType) -> dict[str, Any]:
    if pa.types.is_decimal(arrow_type):
        step = Decimal(1).scaleb(-arrow_type.scale)
        return {"type": ["number", "null"], "multipleOf": float(step)}
    for check, schema in _SIMPLE_TYPES:
        if check(arrow_type):
            return copy.deepcopy(schema)
    return {"type": ["string", "null"]}


def column_schema(column: ColumnSpec) -> dict[str, Any]:
    """The JSON Schema of one column (nullable unless the column never is)."""
    schema = _json_type(column.arrow_type)
    if not column.nullable:
        schema["type"] = [kind for kind in schema["type"] if kind != "null"]
    if column.name.endswith(_MICRO_SUFFIX):
        schema["description"] = "Micro-units (1e-6) of the ad account's currency."
    return schema


def stream_schema(table: TableSpec, columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The stream's schema: every column of `table`, or only `columns` (in table order)."""
    wanted = set(columns) if columns is not None else None
    properties = {
        column.name: column_schema(column)
        for column in table.columns
        if wanted is None or column.name in wanted
    }
    return {"type": "object", "additionalProperties": False, "properties": properties}


def replication_key(table: TableSpec) -> str | None:
    """The day column the bookmarks advance on: `date` for daily/weekly/monthly/hourly
    analytics, the total's range end for TOTAL tables, none for entity tables (full table)."""
    names = table.column_names
    for candidate in ("date", "_pinads_range_end"):
        if candidate in names:
            return candidate
    return None


def key_properties(table: TableSpec, *, append: bool) -> list[str]:
    """The natural key; none for append sources, whose every snapshot is a row of its own."""
    return [] if append else list(table.key)


def catalog_entry(table: TableSpec, *, append: bool) -> dict[str, Any]:
    """One stream of `--discover`'s catalog: schema, keys and Singer metadata (selected by
    default; key and replication key columns always included)."""
    keys = key_properties(table, append=append)
    replication = replication_key(table)
    automatic = {*keys, *([replication] if replication else [])}
    stream_metadata: dict[str, Any] = {
        "inclusion": "available",
        "selected-by-default": True,
        "table-key-properties": keys,
        "forced-replication-method": "INCREMENTAL" if replication else "FULL_TABLE",
    }
    if replication:
        stream_metadata["valid-replication-keys"] = [replication]
    metadata: list[dict[str, Any]] = [{"breadcrumb": [], "metadata": stream_metadata}]
    for column in table.columns:
        inclusion = "automatic" if column.name in automatic else "available"
        metadata.append(
            {
                "breadcrumb": ["properties", column.name],
                "metadata": {"inclusion": inclusion, "selected-by-default": True},
            }
        )
    entry: dict[str, Any] = {
        "tap_stream_id": table.name,
        "stream": table.name,
        "table_name": table.name,
        "schema": stream_schema(table),
        "key_properties": keys,
        "replication_method": "INCREMENTAL" if replication else "FULL_TABLE",
        "metadata": metadata,
    }
    if replication:
        entry["replication_key"] = replication
    return entry


@dataclass(frozen=True, slots=True)
class StreamSelection:
    """What a catalog selects of one stream: whether it runs, and its columns."""

    selected: bool
    columns: tuple[str, ...]


def _is_selected(metadata: Mapping[str, Any]) -> bool:
    if metadata.get("inclusion") == "automatic":
        return True
    if metadata.get("inclusion") == "unsupported":
        return False
    return bool(metadata.get("selected", metadata.get("selected-by-default", False)))


def selection_of(catalog: Mapping[str, Any], table: TableSpec) -> StreamSelection:
    """The stream of `catalog` named like `table`: selected when its stream metadata says
    `selected` (or, untouched, `selected-by-default`); a field is dropped only when its own
    metadata deselects it, and key and replication key columns never are."""
    entry = _find_stream(catalog, table.name)
    if entry is None:
        return StreamSelection(selected=False, columns=())
    by_breadcrumb = {
        tuple(item.get("breadcrumb", ())): item.get("metadata", {})
        for item in entry.get("metadata", ())
        if isinstance(item, Mapping)
    }
    stream = by_breadcrumb.get((), {})
    keep_always = {*table.key, *([replication_key(table)] if replication_key(table) else [])}
    columns = tuple(
        name
        for name in table.column_names
        if name in keep_always
        or _is_selected(
            {"selected-by-default": True, **by_breadcrumb.get(("properties", name), {})}
        )
    )
    return StreamSelection(selected=_is_selected(stream), columns=columns)


def _find_stream(catalog: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        raise ConfigError(
            "the Singer catalog has no `streams` list: pass the file `pinads singer "
            "--discover` printed (or Meltano's)"
        )
    for entry in streams:
        if isinstance(entry, Mapping) and name in (entry.get("tap_stream_id"), entry.get("stream")):
            return entry
    return None
