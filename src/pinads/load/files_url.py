"""File destination URLs: `file:///absolute/directory?format=parquet|csv|jsonl` (see
registry.py)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

from pinads.load.paths import confined_path
from pinads.load.url_parts import FormError, query_params
from pinads.settings import AppSettings

if TYPE_CHECKING:
    from pinads.load.files_io import FileFormat
    from pinads.load.registry import Opener
    from pinads.load.spec import Destination

__all__ = ["parse_url"]


def parse_url(text: str, parts: SplitResult, settings: AppSettings) -> Opener:
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise FormError("a file URL needs three slashes and an absolute directory")
    from pinads.load.files_io import FileFormat

    params = query_params(parts.query)
    unknown = sorted(set(params) - {"format"})
    if unknown:
        raise ValueError(f"unknown parameters {unknown} (it takes format)")
    fmt = params.get("format", FileFormat.PARQUET.value)
    try:
        file_format = FileFormat(fmt)
    except ValueError:
        raise ValueError(f"format {fmt!r} is not parquet, csv or jsonl") from None
    return partial(_open, confined_path(parts.path, settings=settings), file_format)


def _open(root: Path, file_format: FileFormat, url: str) -> Destination:
    from pinads.load.files import FilesDestination

    return FilesDestination(root, file_format, url=url)
