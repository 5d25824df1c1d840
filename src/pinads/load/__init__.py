"""Destinations: where a source's rows land (DuckDB, PostgreSQL, Parquet/CSV/JSONL files).

Every destination writes a plan step's rows together with its checkpoint atomically and offers
the same write modes; `tests/contract/` holds them all to the same behaviour.
"""

from pinads.load.duckdb import DuckDBDestination
from pinads.load.files import FilesDestination
from pinads.load.files_io import FileFormat
from pinads.load.postgres import PostgresDestination
from pinads.load.spec import ColumnSpec, Destination, TableSpec, WriteMode
from pinads.load.url import ACCEPTED_FORMS, open_destination

__all__ = [
    "ACCEPTED_FORMS",
    "ColumnSpec",
    "Destination",
    "DuckDBDestination",
    "FileFormat",
    "FilesDestination",
    "PostgresDestination",
    "TableSpec",
    "WriteMode",
    "open_destination",
]
