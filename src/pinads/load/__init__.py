"""Destinations: where a source's rows land (DuckDB, PostgreSQL, Parquet/CSV/JSONL files).

Every destination writes a plan step's rows together with its checkpoint atomically and offers
the same write modes; `tests/contract/` holds them all to the same behaviour.

The destination classes load on first use (PEP 562): a run into DuckDB never imports psycopg or
pyarrow's Parquet/S3 modules, ~25 MB of resident memory a run does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pinads.load.spec import Destination
from pinads.load.url import check_destination_url, open_destination

if TYPE_CHECKING:
    from pinads.load.duckdb import DuckDBDestination
    from pinads.load.files import FilesDestination
    from pinads.load.files_io import FileFormat
    from pinads.load.postgres import PostgresDestination

__all__ = [
    "Destination",
    "DuckDBDestination",
    "FileFormat",
    "FilesDestination",
    "PostgresDestination",
    "check_destination_url",
    "open_destination",
]

_LAZY = {
    "DuckDBDestination": "pinads.load.duckdb",
    "FilesDestination": "pinads.load.files",
    "FileFormat": "pinads.load.files_io",
    "PostgresDestination": "pinads.load.postgres",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pinads.load' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
