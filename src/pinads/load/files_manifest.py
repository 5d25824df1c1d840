"""The manifest of a file dataset: its schema, key, partitioning and checkpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pinads.errors import LoadError
from pinads.load.files_io import FileFormat, atomic_write_bytes, schema_from_text, schema_to_text
from pinads.values import TableSpec

__all__ = ["MANIFEST_NAME", "FileStats", "Manifest", "key_ranges"]

MANIFEST_NAME = "_pinads_manifest.json"
_VERSION = 1
PARTITION_COLUMN = "date"


@dataclass(frozen=True)
class FileStats:
    """What the manifest knows of one data file: enough to skip it when looking for keys."""

    size: int
    mtime_ns: int
    rows: int
    key_min: tuple[Any, ...] | None
    key_max: tuple[Any, ...] | None

    @classmethod
    def of(
        cls,
        path: Path,
        rows: pa.Table,
        key: tuple[str, ...],
        *,
        ranges: list[tuple[Any, Any]] | None = None,
    ) -> FileStats:
        """Stats of `path`, just written from `rows`; `ranges` if the caller has them already."""
        stat = path.stat()
        if ranges is None and key and rows.num_rows:
            ranges = key_ranges(rows, key)
        return cls(
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            rows=int(rows.num_rows),
            key_min=tuple(r[0] for r in ranges) if ranges else None,
            key_max=tuple(r[1] for r in ranges) if ranges else None,
        )

    def describes(self, stat: os.stat_result) -> bool:
        """True if the file (its `stat`) is still the one measured (a crash may have replaced
        it since)."""
        return stat.st_size == self.size and stat.st_mtime_ns == self.mtime_ns

    def may_hold(self, ranges: list[tuple[Any, Any]] | None) -> bool:
        """False only when some key column's values of the step lie outside this file's range."""
        if ranges is None or self.key_min is None or self.key_max is None:
            return True
        if len(ranges) != len(self.key_min):
            return True
        for (low, high), file_low, file_high in zip(
            ranges, self.key_min, self.key_max, strict=True
        ):
            if type(low) is not type(file_low) or type(high) is not type(file_high):
                return True
            if high < file_low or low > file_high:
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "rows": self.rows,
            "key_min": list(self.key_min) if self.key_min is not None else None,
            "key_max": list(self.key_max) if self.key_max is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileStats:
        return cls(
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            rows=int(data["rows"]),
            key_min=tuple(data["key_min"]) if data.get("key_min") is not None else None,
            key_max=tuple(data["key_max"]) if data.get("key_max") is not None else None,
        )


@dataclass
class Manifest:
    """What is in a dataset directory; written atomically after the data it describes."""

    format: FileFormat
    schema: pa.Schema
    partition_by: str | None
    key: tuple[str, ...] = ()
    steps: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # Per data file (path relative to the dataset): key ranges recorded when it was written.
    files: dict[str, FileStats] = field(default_factory=dict)
    # Data files superseded by a committed step, not deleted yet (a crash came first): never
    # read, and deleted before the next step writes (a step may write a file of that name).
    obsolete: list[str] = field(default_factory=list)
    grain: str | None = None  # TableSpec.grain of the rows (None: written before it was kept)

    @classmethod
    def new(cls, table: TableSpec, fmt: FileFormat) -> Manifest:
        names = table.column_names
        partition = (
            PARTITION_COLUMN
            if PARTITION_COLUMN in names
            and pa.types.is_date32(table.column(PARTITION_COLUMN).arrow_type)
            else None
        )
        return cls(
            format=fmt,
            schema=_nullable(table.schema),
            partition_by=partition,
            key=table.key,
            grain=table.grain,
        )

    @classmethod
    def load(cls, dataset: Path, fmt: FileFormat) -> Manifest | None:
        path = dataset / MANIFEST_NAME
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as exc:
            raise LoadError(
                f"{path} is not a pinads manifest ({exc}); move the directory away and rerun"
            ) from exc
        if data.get("format") != fmt.value:
            raise LoadError(
                f"dataset {dataset} holds {data.get('format')} files, not {fmt.value}; use "
                f"?format={data.get('format')} or another directory in the destination URL"
            )
        return cls(
            format=fmt,
            schema=schema_from_text(data["schema"]),
            partition_by=data.get("partition_by"),
            key=tuple(data.get("key", ())),
            steps=data.get("steps", {}),
            files={k: FileStats.from_json(v) for k, v in data.get("files", {}).items()},
            obsolete=[str(name) for name in data.get("obsolete", [])],
            grain=data.get("grain"),
        )

    def save(self, dataset: Path) -> None:
        document = {
            "version": _VERSION,
            "format": self.format.value,
            "columns": [{"name": f.name, "type": str(f.type)} for f in self.schema],
            "partition_by": self.partition_by,
            "key": list(self.key),
            "schema": schema_to_text(self.schema),
            "steps": self.steps,
            "files": {k: v.to_json() for k, v in sorted(self.files.items())},
        }
        if self.obsolete:
            document["obsolete"] = sorted(self.obsolete)
        if self.grain is not None:
            document["grain"] = self.grain
        atomic_write_bytes(
            dataset / MANIFEST_NAME, orjson.dumps(document, option=orjson.OPT_INDENT_2)
        )

    def delete_obsolete(self, dataset: Path) -> None:
        """Delete the files a committed step superseded, then save the manifest without them
        (until then a crash leaves them listed, and the next step deletes them first)."""
        if not self.obsolete:
            return
        for name in self.obsolete:
            (dataset / name).unlink(missing_ok=True)
        self.obsolete = []
        self.save(dataset)

    def record(self, changes: dict[str, FileStats | None]) -> None:
        """Note data files written (their stats) or removed (None)."""
        for path, stats in changes.items():
            if stats is None:
                self.files.pop(path, None)
            else:
                self.files[path] = stats

    def evolved(self, table: TableSpec) -> Manifest:
        """Add the spec's new columns; a column whose type changed is refused."""
        for col in table.columns:
            idx = self.schema.get_field_index(col.name)
            if idx >= 0 and not self.schema.field(idx).type.equals(col.arrow_type):
                raise LoadError(
                    f"column {col.name!r} of table {table.name!r} holds "
                    f"{self.schema.field(idx).type} in the files but the source now sends "
                    f"{col.arrow_type}; load into a new table or directory"
                )
        evolved = self.with_columns(table.schema)
        if table.key != self.key:
            # Ranges recorded for another key say nothing about this one.
            evolved = replace(evolved, key=table.key, files={})
        return evolved

    def with_columns(self, schema: pa.Schema) -> Manifest:
        fields = list(self.schema)
        for f in schema:
            if self.schema.get_field_index(f.name) < 0:
                fields.append(f.with_nullable(True))
        return replace(self, schema=pa.schema(fields))


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Old files lack later columns and new rows lack dropped ones: every column may be null.
    return pa.schema([f.with_nullable(True) for f in schema])


def key_ranges(rows: pa.Table, key: tuple[str, ...]) -> list[tuple[Any, Any]] | None:
    """(min, max) of each key column as JSON-comparable values; None if a type has no order."""
    ranges = []
    for name in key:
        column = rows.column(name)
        if not _orderable(column.type):
            return None
        bounds = pc.min_max(column).as_py()
        ranges.append((_plain(bounds["min"]), _plain(bounds["max"])))
    return ranges


def _orderable(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_date32(arrow_type)
    )


def _plain(value: Any) -> Any:
    # ISO dates order like the dates; strings compare by code point, as UTF-8 bytes do.
    return value.isoformat() if hasattr(value, "isoformat") else value
