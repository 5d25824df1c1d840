"""Destination URLs: which destination a source writes to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from pinads.errors import ConfigError
from pinads.load.spec import Destination
from pinads.secret_urls import redact_url
from pinads.settings import AppSettings

if TYPE_CHECKING:
    from pinads.load.duckdb import DuckDBDestination
    from pinads.load.files import FilesDestination

# Each destination's module (and its driver) is imported when a URL names it, so a process
# writing to one kind of destination does not carry the others' libraries.

__all__ = ["ACCEPTED_FORMS", "open_destination"]

ACCEPTED_FORMS = (
    "duckdb (the file PINADS_HOME/pinads.duckdb)",
    "duckdb:///absolute/path/file.duckdb[?threads=N&memory_limit=SIZE]",
    "postgresql://user:password@host:5432/database?schema=NAME (or postgres://)",
    "file:///absolute/directory?format=parquet|csv|jsonl",
)


def open_destination(url: str, *, settings: AppSettings) -> Destination:
    """Open the destination `url` names (nothing is connected until it is used or checked)."""
    text = url.strip()
    if text == "duckdb":
        from pinads.load.duckdb import DuckDBDestination

        return DuckDBDestination(settings.default_duckdb_path, url=text)
    parts = urlsplit(text)
    if parts.scheme == "duckdb":
        return _duckdb(text, parts.netloc, parts.path, parts.query)
    if parts.scheme == "file":
        return _files(text, parts.netloc, parts.path, parts.query)
    if parts.scheme in ("postgresql", "postgres"):
        from pinads.load.postgres import PostgresDestination
        from pinads.load.postgres_sql import parse_postgres_url

        return PostgresDestination(parse_postgres_url(text), url=redact_url(text))
    raise _invalid(url, "unknown kind of destination")


def _duckdb(url: str, netloc: str, path: str, query: str) -> DuckDBDestination:
    if netloc or not path.startswith("/") or path == "/":
        raise _invalid(url, "a DuckDB URL needs three slashes and an absolute file path")
    from pinads.load.duckdb import DuckDBDestination

    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(params) - {"threads", "memory_limit"})
    if unknown:
        raise _invalid(url, f"unknown parameters {unknown} (it takes threads, memory_limit)")
    threads = _threads(url, params.get("threads"))
    limit = _bytes(url, params.get("memory_limit"))
    return DuckDBDestination(Path(unquote(path)), url=url, threads=threads, memory_limit=limit)


def _threads(url: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 1024:
        raise _invalid(url, f"threads={value!r} is not a whole number from 1 to 1024")
    return int(value)


# DuckDB's own spelling of sizes: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024.
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_MIN_MEMORY_LIMIT = 16 * 2**20


def _bytes(url: str, value: str | None) -> int | None:
    if value is None:
        return None
    match = _SIZE.match(value.strip())
    if match is None:
        raise _invalid(url, f"memory_limit={value!r} is not a size such as 512MB or 2GiB")
    number, unit = match.groups()
    size = int(float(number) * _UNITS[(unit or "").lower()])
    if size < _MIN_MEMORY_LIMIT:
        raise _invalid(url, f"memory_limit={value!r} is below DuckDB's working minimum of 16MiB")
    return size


def _files(url: str, netloc: str, path: str, query: str) -> FilesDestination:
    if netloc or not path.startswith("/") or path == "/":
        raise _invalid(url, "a file URL needs three slashes and an absolute directory")
    from pinads.load.files import FilesDestination
    from pinads.load.files_io import FileFormat

    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(params) - {"format"})
    if unknown:
        raise _invalid(url, f"unknown parameters {unknown}")
    fmt = params.get("format", FileFormat.PARQUET.value)
    try:
        file_format = FileFormat(fmt)
    except ValueError:
        raise _invalid(url, f"format {fmt!r} is not parquet, csv or jsonl") from None
    return FilesDestination(Path(unquote(path)), file_format, url=url)


def _invalid(url: str, why: str) -> ConfigError:
    shown = redact_url(url)
    return ConfigError(
        f"destination {shown!r} is not valid ({why}); use one of: {'; '.join(ACCEPTED_FORMS)}"
    )
