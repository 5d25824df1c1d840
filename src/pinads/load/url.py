"""Destination URLs: which destination a source writes to, checked before anything is saved.

`check_destination_url` is what source create and update call (CLI, web form and API alike):
it parses and checks a URL without connecting or touching a file, raising ConfigError with
the URL (password shown as `***`), the cause and the fix. `open_destination` runs the same
checks, so a saved source whose URL became invalid (PINADS_ALLOWED_ROOTS changed, say) fails
before its run starts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, urlsplit

from pinads.errors import ConfigError
from pinads.load.paths import confined_path
from pinads.load.spec import Destination
from pinads.secret_urls import redact_url
from pinads.settings import AppSettings

if TYPE_CHECKING:
    from pinads.load.files_io import FileFormat
    from pinads.load.postgres_sql import PostgresTarget

# Each destination's module (and its driver) is imported when a URL names it, so a process
# writing to one kind of destination does not carry the others' libraries.

__all__ = ["ACCEPTED_FORMS", "check_destination_url", "open_destination"]

ACCEPTED_FORMS = (
    "duckdb (the file PINADS_HOME/pinads.duckdb)",
    "duckdb:///absolute/path/file.duckdb[?threads=N&memory_limit=SIZE]",
    "postgresql://user:password@host:5432/database?schema=NAME (or postgres://)",
    "file:///absolute/directory?format=parquet|csv|jsonl",
)


@dataclass(frozen=True)
class _DuckDBTarget:
    path: Path
    threads: int | None = None
    memory_limit: int | None = None


@dataclass(frozen=True)
class _FilesTarget:
    root: Path
    format: FileFormat


def check_destination_url(url: str, settings: AppSettings) -> None:
    """ConfigError (one line: the URL with its password as `***`, the cause, the fix) unless
    `url` is a destination pinads can write: a known kind, well-formed, with known parameters
    and values, and for DuckDB and file destinations an absolute path without `..` under
    PINADS_HOME or PINADS_ALLOWED_ROOTS. Nothing is connected, created or written."""
    _parse(url, settings)


def open_destination(url: str, *, settings: AppSettings) -> Destination:
    """Open the destination `url` names (checked as `check_destination_url` does; nothing is
    connected until it is used or checked)."""
    target = _parse(url, settings)
    text = url.strip()
    if isinstance(target, _DuckDBTarget):
        from pinads.load.duckdb import DuckDBDestination

        return DuckDBDestination(
            target.path, url=text, threads=target.threads, memory_limit=target.memory_limit
        )
    if isinstance(target, _FilesTarget):
        from pinads.load.files import FilesDestination

        return FilesDestination(target.root, target.format, url=text)
    from pinads.load.postgres import PostgresDestination

    return PostgresDestination(target, url=redact_url(text))


def _parse(url: str, settings: AppSettings) -> _DuckDBTarget | _FilesTarget | PostgresTarget:
    text = url.strip()
    if text == "duckdb":
        return _DuckDBTarget(settings.default_duckdb_path)
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _invalid(url, "it could not be read as a URL", forms=True) from None
    try:
        _refuse_ambiguous_password(text)
        if parts.fragment or text.endswith("#"):
            raise ValueError("a destination URL takes no #fragment")
        if parts.scheme == "duckdb":
            return _duckdb(parts, settings)
        if parts.scheme == "file":
            return _files(parts, settings)
        if parts.scheme in ("postgresql", "postgres"):
            from pinads.load.postgres_sql import parse_postgres_url

            _params(parts.query)  # repeated parameters
            return parse_postgres_url(text)
    except _FormError as exc:
        raise _invalid(url, str(exc), forms=True) from None
    except ValueError as exc:
        raise _invalid(url, str(exc)) from None
    raise _invalid(url, "unknown kind of destination", forms=True)


class _FormError(ValueError):
    """The URL is not of an accepted form (its message lists them)."""


def _duckdb(parts: SplitResult, settings: AppSettings) -> _DuckDBTarget:
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise _FormError("a DuckDB URL needs three slashes and an absolute file path")
    params = _params(parts.query)
    unknown = sorted(set(params) - {"threads", "memory_limit"})
    if unknown:
        raise ValueError(f"unknown parameters {unknown} (it takes threads, memory_limit)")
    path = confined_path(parts.path, settings=settings)
    return _DuckDBTarget(
        path,
        threads=_threads(params.get("threads")),
        memory_limit=_bytes(params.get("memory_limit")),
    )


def _files(parts: SplitResult, settings: AppSettings) -> _FilesTarget:
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise _FormError("a file URL needs three slashes and an absolute directory")
    from pinads.load.files_io import FileFormat

    params = _params(parts.query)
    unknown = sorted(set(params) - {"format"})
    if unknown:
        raise ValueError(f"unknown parameters {unknown} (it takes format)")
    fmt = params.get("format", FileFormat.PARQUET.value)
    try:
        file_format = FileFormat(fmt)
    except ValueError:
        raise ValueError(f"format {fmt!r} is not parquet, csv or jsonl") from None
    return _FilesTarget(confined_path(parts.path, settings=settings), file_format)


def _params(query: str) -> dict[str, str]:
    pairs = parse_qsl(query, keep_blank_values=True)
    repeated = sorted(name for name, count in Counter(k for k, _ in pairs).items() if count > 1)
    if repeated:
        raise ValueError(f"parameters {repeated} are given more than once; keep one of each")
    return dict(pairs)


def _threads(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 1024:
        raise ValueError(f"threads={value!r} is not a whole number from 1 to 1024")
    return int(value)


# DuckDB's own spelling of sizes: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024.
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_MIN_MEMORY_LIMIT = 16 * 2**20
_MAX_MEMORY_LIMIT = 2**50  # 1 PiB: a larger value is a typo, and DuckDB would overflow


def _bytes(value: str | None) -> int | None:
    if value is None:
        return None
    match = _SIZE.match(value.strip())
    if match is None:
        raise ValueError(f"memory_limit={value!r} is not a size such as 512MB or 2GiB")
    number, unit = match.groups()
    size = int(float(number) * _UNITS[(unit or "").lower()])
    if size < _MIN_MEMORY_LIMIT:
        raise ValueError(f"memory_limit={value!r} is below DuckDB's working minimum of 16MiB")
    if size > _MAX_MEMORY_LIMIT:
        raise ValueError(f"memory_limit={value!r} is more than 1PiB; give the size you mean")
    return size


def _refuse_ambiguous_password(url: str) -> None:
    """A password holding an unencoded / ? # or @ is read by URL parsers as part of the host,
    path or query, and their complaints would quote pieces of it: refuse it first, quoting
    nothing."""
    hidden = _hidden_password(url)
    if hidden is not None and any(c in hidden for c in "/?#@"):
        raise ValueError(
            "the password holds / ? # or @ unencoded; percent-encode them (%2F %3F %23 %40)"
        )


def _hidden_password(url: str) -> str | None:
    """The `user:password@` part's password read generously: everything between the user's
    colon and the last `@` (None without one)."""
    _, sep, rest = url.partition("://")
    userinfo, at, _ = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return password if sep and at and colon and "/" not in user else None


def _invalid(url: str, why: str, *, forms: bool = False) -> ConfigError:
    accepted = f"; use one of: {'; '.join(ACCEPTED_FORMS)}" if forms else ""
    return ConfigError(f"destination {redact_url(url.strip())!r} is not valid ({why}){accepted}")
