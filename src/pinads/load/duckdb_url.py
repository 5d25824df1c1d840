"""DuckDB destination URLs: `duckdb` (the default file) or
`duckdb:///absolute/path/file.duckdb[?threads=N&memory_limit=SIZE]` (see registry.py)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

from pinads.load.paths import confined_path
from pinads.load.url_parts import FormError, query_params
from pinads.settings import AppSettings

if TYPE_CHECKING:
    from pinads.load.registry import Opener
    from pinads.load.spec import Destination

__all__ = ["parse_url"]


def parse_url(text: str, parts: SplitResult, settings: AppSettings) -> Opener:
    if not parts.scheme:  # the bare `duckdb`
        return partial(_open, settings.default_duckdb_path, None, None)
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise FormError("a DuckDB URL needs three slashes and an absolute file path")
    params = query_params(parts.query)
    unknown = sorted(set(params) - {"threads", "memory_limit"})
    if unknown:
        raise ValueError(f"unknown parameters {unknown} (it takes threads, memory_limit)")
    path = confined_path(parts.path, settings=settings)
    threads = _threads(params.get("threads"))
    return partial(_open, path, threads, _bytes(params.get("memory_limit")))


def _open(path: Path, threads: int | None, memory_limit: int | None, url: str) -> Destination:
    from pinads.load.duckdb import DuckDBDestination

    return DuckDBDestination(path, url=url, threads=threads, memory_limit=memory_limit)


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
