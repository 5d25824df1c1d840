"""Shared HTTP plumbing: timeouts, User-Agent, query encoding, borrowed transports, logs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

import httpx

from pinads import __version__

__all__ = [
    "COMMA_JOINED_PARAMS",
    "DEFAULT_HEADERS",
    "DEFAULT_TIMEOUT",
    "BorrowedTransport",
    "borrow",
    "encode_params",
    "install_log_redaction",
    "plain_client",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_HEADERS = {"User-Agent": f"pinads/{__version__}", "Accept": "application/json"}
# Pinterest's spec marks these `explode: false` (one comma-joined value); every other array
# parameter (`*_ids`, `entity_statuses`, ...) uses the OpenAPI default: repeated keys.
COMMA_JOINED_PARAMS = frozenset({"columns", "targeting_types"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode_params(params: Mapping[str, Any] | None) -> httpx.QueryParams:
    """Query parameters in Pinterest's encoding; None values are left out."""
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            items = [_scalar(v) for v in value]
            if key in COMMA_JOINED_PARAMS:
                out.append((key, ",".join(items)))
            else:
                out.extend((key, item) for item in items)
        else:
            out.append((key, _scalar(value)))
    return httpx.QueryParams(out)


class BorrowedTransport(httpx.BaseTransport):
    """An injected transport belongs to the caller: closing our client must not close it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Left to the transport's owner."""


def borrow(transport: httpx.BaseTransport | None) -> httpx.BaseTransport | None:
    """Wrap a caller's transport so that closing a client leaves it open."""
    return BorrowedTransport(transport) if transport is not None else None


def plain_client(
    transport: httpx.BaseTransport | None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.Client:
    """A client without auth or base URL (token endpoint, report downloads)."""
    install_log_redaction()
    return httpx.Client(transport=borrow(transport), timeout=timeout, headers=DEFAULT_HEADERS)


class _QuerylessUrls(logging.Filter):
    """httpx logs every request's full URL at INFO; a report's pre-signed download URL carries
    its signature in the query string, so URLs are logged without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_FILTER = _QuerylessUrls()


def install_log_redaction() -> None:
    """Attach the filter to httpx's logger once (idempotent)."""
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
