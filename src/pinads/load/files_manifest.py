"""The manifest of a file dataset: its schema, key, partitioning and checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from pinads.errors import LoadError
from pinads.load.files_io import FileFormat, atomic_write_bytes, schema_from_text, schema_to_text
from pinads.load.spec import TableSpec

__all__ = ["MANIFEST_NAME", "Manifest"]

MANIFEST_NAME = "_pinads_manifest.json"
_VERSION = 1
PARTITION_COLUMN = "date"


@dataclass
class Manifest:
    """What is in a dataset directory; written atomically after the data it describes."""

    format: FileFormat
    schema: pa.Schema
    partition_by: str | None
    steps: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def new(cls, table: TableSpec, fmt: FileFormat) -> Manifest:
        names = table.column_names
        partition = (
            PARTITION_COLUMN
            if PARTITION_COLUMN in names
            and pa.types.is_date32(table.column(PARTITION_COLUMN).arrow_type)
            else None
        )
        return cls(format=fmt, schema=_nullable(table.schema), partition_by=partition)

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
            steps=data.get("steps", {}),
        )

    def save(self, dataset: Path) -> None:
        document = {
            "version": _VERSION,
            "format": self.format.value,
            "columns": [{"name": f.name, "type": str(f.type)} for f in self.schema],
            "partition_by": self.partition_by,
            "schema": schema_to_text(self.schema),
            "steps": self.steps,
        }
        atomic_write_bytes(
            dataset / MANIFEST_NAME, orjson.dumps(document, option=orjson.OPT_INDENT_2)
        )

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
        return self.with_columns(table.schema)

    def with_columns(self, schema: pa.Schema) -> Manifest:
        fields = list(self.schema)
        for f in schema:
            if self.schema.get_field_index(f.name) < 0:
                fields.append(f.with_nullable(True))
        return replace(self, schema=pa.schema(fields))


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Old files lack later columns and new rows lack dropped ones: every column may be null.
    return pa.schema([f.with_nullable(True) for f in schema])
