"""Destination URLs: which destination a source writes to."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from pinads.errors import ConfigError
from pinads.load.duckdb import DuckDBDestination
from pinads.load.files import FilesDestination
from pinads.load.files_io import FileFormat
from pinads.load.postgres import PostgresDestination
from pinads.load.postgres_sql import parse_postgres_url
from pinads.load.spec import Destination
from pinads.settings import AppSettings

__all__ = ["ACCEPTED_FORMS", "open_destination"]

ACCEPTED_FORMS = (
    "duckdb (the file PINADS_HOME/pinads.duckdb)",
    "duckdb:///absolute/path/file.duckdb",
    "postgresql://user:password@host:5432/database?schema=NAME (or postgres://)",
    "file:///absolute/directory?format=parquet|csv|jsonl",
)


def open_destination(url: str, *, settings: AppSettings) -> Destination:
    """Open the destination `url` names (nothing is connected until it is used or checked)."""
    text = url.strip()
    if text == "duckdb":
        return DuckDBDestination(settings.default_duckdb_path, url=text)
    parts = urlsplit(text)
    if parts.scheme == "duckdb":
        return _duckdb(text, parts.netloc, parts.path)
    if parts.scheme == "file":
        return _files(text, parts.netloc, parts.path, parts.query)
    if parts.scheme in ("postgresql", "postgres"):
        return PostgresDestination(parse_postgres_url(text), url=_redacted(text))
    raise _invalid(url, "unknown kind of destination")


def _duckdb(url: str, netloc: str, path: str) -> DuckDBDestination:
    if netloc or not path.startswith("/") or path == "/":
        raise _invalid(url, "a DuckDB URL needs three slashes and an absolute file path")
    return DuckDBDestination(Path(path), url=url)


def _files(url: str, netloc: str, path: str, query: str) -> FilesDestination:
    if netloc or not path.startswith("/") or path == "/":
        raise _invalid(url, "a file URL needs three slashes and an absolute directory")
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


def _redacted(url: str) -> str:
    """The URL without its password, for display and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _invalid(url: str, why: str) -> ConfigError:
    shown = url if "@" not in url else "<the URL given>"
    return ConfigError(
        f"destination {shown!r} is not valid ({why}); use one of: {'; '.join(ACCEPTED_FORMS)}"
    )
