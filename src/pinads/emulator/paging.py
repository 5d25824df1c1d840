"""Opaque bookmark paging (`{"items": [...], "bookmark": str | null}`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import TypeVar

from pinads.emulator.params import invalid

__all__ = ["page"]

T = TypeVar("T")


def _context_tag(context: str) -> str:
    return hashlib.blake2s(context.encode(), digest_size=4).hexdigest()


def _encode(offset: int, context: str) -> str:
    raw = f"{offset}:{_context_tag(context)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(bookmark: str, context: str, operation_id: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(bookmark + "=" * (-len(bookmark) % 4)).decode()
        offset_text, _, tag = raw.partition(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid(operation_id) from exc
    # A bookmark belongs to the query that produced it (same filters, same account).
    if tag != _context_tag(context) or offset < 0:
        raise invalid(operation_id)
    return offset


def page(
    items: Sequence[T],
    *,
    page_size: int,
    bookmark: str | None,
    context: str,
    operation_id: str,
) -> tuple[Sequence[T], str | None]:
    """The page of `items` a bookmark points at, and the bookmark of the next page."""
    start = _decode(bookmark, context, operation_id) if bookmark else 0
    end = start + page_size
    chunk = items[start:end]
    return chunk, (_encode(end, context) if end < len(items) else None)
