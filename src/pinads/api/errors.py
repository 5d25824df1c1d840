"""One table from Pinterest's (HTTP status, error code) to the pinads error tree.

Every error carries the status, Pinterest's code and message, and the `x-pinterest-rid` request
id (in the message for auth/access errors, as attributes for `ApiError`s). URLs appear without
their query string, and every message goes through `redact()` in the error constructors, so a
token, secret or signed link never reaches a log or a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

import httpx
import orjson

from pinads.errors import (
    AccessDeniedError,
    ApiError,
    AuthError,
    FatalApiError,
    PinadsError,
    RateLimitedError,
    RetriableApiError,
    UnreachableError,
    redact,
)

__all__ = [
    "ERROR_TABLE",
    "ErrorRule",
    "PinterestError",
    "error_from_response",
    "parse_error_body",
    "retry_hint_seconds",
    "safe_url",
    "transport_error",
]

_ROLES_NEEDED = "Owner, Admin, Analyst or Campaign Manager"
_REAUTHORIZE = "re-authorize this authorizer"
_RETRY_AFTER = re.compile(r"(?i)retry after (\d+(?:\.\d+)?) ?s")
# Below this an `x-ratelimit-reset` value is "seconds from now"; above, an epoch timestamp.
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class PinterestError:
    """Pinterest's error body: `{"code": int, "message": str}` (OAuth answers may use
    `error`/`error_description` instead)."""

    code: int | None
    message: str


@dataclass(frozen=True)
class ErrorRule:
    """Statuses + Pinterest code (None = any) -> error class and what the user should do."""

    statuses: frozenset[int]
    code: int | None
    kind: type[PinadsError]
    hint: str


def _statuses(*values: int | range) -> frozenset[int]:
    out: set[int] = set()
    for value in values:
        out.update(value if isinstance(value, range) else (value,))
    return frozenset(out)


# First match wins: specific codes before the catch-all rows of a status.
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(_statuses(401), 2, AuthError, f"the access token was refused: {_REAUTHORIZE}"),
    ErrorRule(
        _statuses(401),
        3,
        AccessDeniedError,
        f"the token lacks a scope this call needs: {_REAUTHORIZE} with the scopes it needs "
        "(ads:read for ads data, user_accounts:read for the user account)",
    ),
    ErrorRule(
        _statuses(401, 403),
        29,
        AccessDeniedError,
        f"{{account}}: the token's user needs the {_ROLES_NEEDED} role there",
    ),
    ErrorRule(
        _statuses(403),
        2625,
        AccessDeniedError,
        "{account} is disapproved by Pinterest: resolve it in Ads Manager or deselect it",
    ),
    ErrorRule(
        _statuses(403),
        2626,
        AccessDeniedError,
        "{account} is under review by Pinterest: retry after the review or deselect it",
    ),
    ErrorRule(_statuses(401), None, AuthError, f"authentication failed: {_REAUTHORIZE}"),
    ErrorRule(
        _statuses(403),
        None,
        AccessDeniedError,
        f"access denied to {{account}}: check the token user's roles ({_ROLES_NEEDED})",
    ),
    # Observed in the wild: 400 code 12 "Something went wrong on our end" is transient.
    ErrorRule(_statuses(400), 12, RetriableApiError, "a transient Pinterest problem: retrying"),
    ErrorRule(_statuses(400), None, FatalApiError, "change the request (see Pinterest's message)"),
    ErrorRule(
        _statuses(404),
        None,
        FatalApiError,
        "check that the id exists and that this authorizer can see it",
    ),
    ErrorRule(_statuses(408), None, RetriableApiError, "Pinterest timed out: retrying"),
    ErrorRule(
        _statuses(429), None, RateLimitedError, "rate limit reached: waiting before retrying"
    ),
    ErrorRule(_statuses(range(500, 600)), None, RetriableApiError, "Pinterest server error"),
    ErrorRule(_statuses(range(400, 500)), None, FatalApiError, "Pinterest refused the request"),
)


def safe_url(url: httpx.URL | str) -> str:
    """Scheme, host, port and path only: query strings may hold tokens or signatures, and
    user info a password. The port stays: "cannot reach 127.0.0.1:1" must say which port."""
    parsed = httpx.URL(str(url))
    if not parsed.host:
        return parsed.path
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def parse_error_body(content: bytes) -> PinterestError:
    """Pinterest's code and message from an error body; tolerant of non-JSON bodies."""
    try:
        payload: Any = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        text = content[:200].decode("utf-8", "replace").strip()
        return PinterestError(None, " ".join(text.split()) or "(no error body)")
    code = payload.get("code")
    message = payload.get("message") or payload.get("error_description") or payload.get("error")
    return PinterestError(
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        " ".join(str(message).split()) if message else "(no message)",
    )


def retry_hint_seconds(response: httpx.Response, message: str) -> float | None:
    """Pinterest's wait hint: `x-ratelimit-reset`, else `Retry-After`, else "Retry after N
    seconds" in the message; None when there is none."""
    for header in ("x-ratelimit-reset", "retry-after"):
        raw = response.headers.get(header)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value > _EPOCH_THRESHOLD:
            value -= response_epoch(response)
        return max(value, 0.0)
    match = _RETRY_AFTER.search(message)
    return float(match.group(1)) if match else None


def response_epoch(response: httpx.Response) -> float:
    """The server's idea of now (its `Date` header), else ours."""
    raw = response.headers.get("date")
    if raw:
        try:
            return parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError):
            pass
    return time()


def _rule_for(status: int, code: int | None) -> ErrorRule:
    for rule in ERROR_TABLE:
        if status in rule.statuses and (rule.code is None or rule.code == code):
            return rule
    # Statuses outside 4xx/5xx reaching here are unexpected answers to a request.
    return ErrorRule(frozenset(), None, FatalApiError, "unexpected HTTP status")


def error_from_response(
    response: httpx.Response, *, ad_account_id: str | None = None
) -> PinadsError:
    """Map an error response to the pinads error tree (the caller raises it)."""
    body = parse_error_body(response.content)
    rule = _rule_for(response.status_code, body.code)
    # A 4xx that tells us when to retry is a throttle whatever its status (seen: 400 code 1).
    hint_seconds = retry_hint_seconds(response, body.message)
    kind = rule.kind
    if kind is FatalApiError and _RETRY_AFTER.search(body.message):
        kind = RateLimitedError
    account = f"ad account {ad_account_id}" if ad_account_id else "the ad account"
    request_id = response.headers.get("x-pinterest-rid")
    details = ", ".join(
        part
        for part in (
            f"HTTP {response.status_code}",
            f"code {body.code}" if body.code is not None else "",
            f"{response.request.method} {safe_url(response.request.url)}",
            f"request id {request_id}" if request_id else "",
        )
        if part
    )
    text = redact(
        f"{rule.hint.format(account=account)}; Pinterest said: {body.message} ({details})"
    )
    return _build(
        kind,
        text,
        status=response.status_code,
        code=body.code,
        request_id=request_id,
        hint_seconds=hint_seconds,
    )


def _build(
    kind: type[PinadsError],
    text: str,
    *,
    status: int,
    code: int | None,
    request_id: str | None,
    hint_seconds: float | None,
) -> PinadsError:
    if issubclass(kind, RateLimitedError):
        return RateLimitedError(
            text, status=status, code=code, request_id=request_id, retry_after_seconds=hint_seconds
        )
    if issubclass(kind, ApiError):
        return kind(text, status=status, code=code, request_id=request_id)
    return kind(text)


def transport_error(message: str, exc: Exception) -> RetriableApiError:
    """The retriable error for a failed exchange: `UnreachableError` when no connection could be
    made at all (retried less), else a plain retriable one (timeouts, resets mid-answer)."""
    if isinstance(exc, httpx.ConnectError):
        return UnreachableError(message)
    return RetriableApiError(message)
