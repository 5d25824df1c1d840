"""Reading and writing one data file (Parquet, CSV, JSONL) atomically, and the dataset manifest."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from pinads.errors import LoadError

__all__ = [
    "PARTIAL_SUFFIX",
    "FileFormat",
    "atomic_write_bytes",
    "conform_table",
    "read_data_file",
    "schema_from_text",
    "schema_to_text",
    "sync_directory",
    "utc_now_text",
    "write_data_file",
    "write_parquet",
]

# Files being written carry this suffix until they are renamed into place, so readers that glob
# `*.parquet` (DuckDB, Spark, pandas) never see a half-written file.
PARTIAL_SUFFIX = ".partial"


class FileFormat(enum.StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def extension(self) -> str:
        return f".{self.value}"


def write_data_file(path: Path, table: pa.Table, fmt: FileFormat, *, sync_dir: bool = True) -> None:
    """Write `table` to `path` atomically: a temporary file, fsync, then `os.replace`.

    With `sync_dir=False` the caller fsyncs the directory (`sync_directory`) once after
    several files, before anything (the manifest) relies on the renames being durable.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
    try:
        if fmt is FileFormat.PARQUET:
            write_parquet(table, tmp)
        elif fmt is FileFormat.CSV:
            pacsv.write_csv(table, tmp)
        else:
            _write_jsonl(tmp, table)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        sync_directory(path.parent)


def write_parquet(table: pa.Table, path: Path | str) -> None:
    """Snappy, dictionary pages for text columns only: metrics are high-cardinality numbers,
    for which trying a dictionary per column chunk costs more than it saves (measured ~40%)."""
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    pq.write_table(table, path, compression="snappy", use_dictionary=text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def read_data_file(path: Path, schema: pa.Schema, fmt: FileFormat) -> pa.Table:
    """Read one data file into `schema` (columns it lacks come back as nulls)."""
    if fmt is FileFormat.PARQUET:
        table = pq.ParquetFile(path).read()  # pq.read_table's dataset layer costs more
    elif fmt is FileFormat.CSV:
        table = _read_csv(path, schema)
    else:
        table = _read_jsonl(path, schema)
    return conform_table(table, schema, source=path)


def conform_table(table: pa.Table, schema: pa.Schema, *, source: Path | str) -> pa.Table:
    columns = []
    for field in schema:
        idx = table.schema.get_field_index(field.name)
        if idx < 0:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(idx)
        if not column.type.equals(field.type):
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise LoadError(
                    f"column {field.name!r} in {source} is {column.type}, not {field.type}; "
                    "the file was changed outside pinads — move it away and rerun"
                ) from exc
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _read_csv(path: Path, schema: pa.Schema) -> pa.Table:
    with path.open("rb") as handle:
        header = handle.readline()
    names = set(pacsv.read_csv(pa.py_buffer(header)).column_names) if header.strip() else set()
    options = pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema if f.name in names},
        # Arrow writes nulls as empty fields and every string quoted, so only an unquoted
        # empty field is null ("NA" and "" stay strings).
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    return pacsv.read_csv(path, convert_options=options)


def _json_native(arrow_type: pa.DataType) -> bool:
    return not (
        pa.types.is_date(arrow_type)
        or pa.types.is_timestamp(arrow_type)
        or pa.types.is_decimal(arrow_type)
    )


def _read_jsonl(path: Path, schema: pa.Schema) -> pa.Table:
    # Dates, timestamps and decimals are written as strings; read them as such, then cast.
    loose = pa.schema(
        [f if _json_native(f.type) else pa.field(f.name, pa.string()) for f in schema]
    )
    if path.stat().st_size == 0:
        return schema.empty_table()
    options = pajson.ParseOptions(explicit_schema=loose, unexpected_field_behavior="ignore")
    table = pajson.read_json(path, parse_options=options)
    return pa.Table.from_arrays(
        [pc.cast(table.column(f.name), f.type) for f in schema], schema=schema
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_jsonl(path: Path, table: pa.Table) -> None:
    with path.open("wb") as handle:
        for batch in table.to_batches(max_chunksize=16_384):
            handle.write(_jsonl_lines(batch.to_pylist()))


def _jsonl_lines(rows: Iterable[dict[str, Any]]) -> bytes:
    option = orjson.OPT_APPEND_NEWLINE
    return b"".join(orjson.dumps(r, default=_json_default, option=option) for r in rows)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_directory(path: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def schema_to_text(schema: pa.Schema) -> str:
    """The exact Arrow schema as text for the JSON manifest (IPC bytes, base64)."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def schema_from_text(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def utc_now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
