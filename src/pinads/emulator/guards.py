"""Rate limits, fault injection, request ids and request statistics around the emulator.

`install(app)` wraps the emulator's Starlette app in a pure ASGI middleware and adds the
test-only routes `GET /_emulator/stats`, `POST /_emulator/stats/reset`, `GET|POST
/_emulator/faults`. The middleware resolves each `/v5/...` request to its spec operation
(operationId and `x-ratelimit-category` from `spec_extract.json`), identifies the caller (the
bearer token's user and app, else the client address), counts it against the category's quota,
and applies the configured faults. It never buffers a response body unless a body fault was
drawn for that very request, so large analytics responses stream through untouched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import anyio
import httpx
import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pinads.emulator.limits import FaultConfig, Guards, Quota, RateLimitConfig, RateLimiter
from pinads.emulator.spec import extract
from pinads.emulator.state import EmulatorState

__all__ = [
    "RATE_LIMIT_BODY",
    "EmulatedConnectionResetError",
    "Guards",
    "Operation",
    "guards_of",
    "install",
    "resolve_operation",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RATE_LIMIT_BODY = {
    "code": 8,
    "message": "This request exceeded a rate limit. This can happen if the client exceeds one "
    "of the published rate limits within a short time window.",
}
# Pinterest-style bodies of injected server errors. 500 uses the wording Pinterest is seen to
# send with code 12 ("Something went wrong on our end"); 503 is what a gateway says.
_API_PREFIX = "/v5"
_FAULT_RESPONSES: dict[str, tuple[int, dict[str, Any]]] = {
    "rate_limit": (429, RATE_LIMIT_BODY),
    "server_error": (
        500,
        {"code": 12, "message": "Something went wrong on our end. Sorry about that."},
    ),
    "unavailable": (
        503,
        {"code": 12, "message": "The service is temporarily unavailable. Please try again later."},
    ),
}


class EmulatedConnectionResetError(httpx.RemoteProtocolError):
    """An injected connection reset. In-process, httpx's ASGI transport hands it to the caller
    as a transport error; over uvicorn it makes the server drop the connection mid-response."""

    def __init__(self) -> None:
        super().__init__("the emulator dropped the connection (injected fault)")


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    category: str


@cache
def _operation_table() -> dict[str, tuple[tuple[re.Pattern[str], Operation], ...]]:
    """method -> (path regex, operation), literal-rich templates first."""
    table: dict[str, list[tuple[int, re.Pattern[str], Operation]]] = {}
    for op_id, op in extract()["operations"].items():
        template: str = op["path"]
        literal_segments = sum(1 for part in template.split("/") if part and "{" not in part)
        pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
        entry = Operation(op_id, str(op.get("ratelimit_category") or "none"))
        table.setdefault(op["method"].upper(), []).append((-literal_segments, pattern, entry))
    return {
        method: tuple((pattern, entry) for _, pattern, entry in sorted(rows, key=lambda r: r[0]))
        for method, rows in table.items()
    }


# (method, path) -> operation: clients repeat the same few paths, so most requests skip the
# regex scan. Bounded by clearing when full (paths embed ids; fuzzing makes many).
_RESOLVED: dict[tuple[str, str], Operation | None] = {}
_RESOLVED_MAX = 4096


def resolve_operation(method: str, path: str) -> Operation | None:
    """The spec operation of `/v5/...` (method, path), or None when it is not one."""
    key = (method, path)
    try:
        return _RESOLVED[key]
    except KeyError:
        pass
    found = _scan_operations(method, path)
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[key] = found
    return found


def _scan_operations(method: str, path: str) -> Operation | None:
    if not path.startswith(_API_PREFIX + "/"):
        return None
    relative = path[len(_API_PREFIX) :].rstrip("/") or "/"
    for pattern, entry in _operation_table().get(method.upper(), ()):
        if pattern.fullmatch(relative):
            return entry
    return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if kind.lower() == "bearer" and token else None
    return None


def _quota_headers(quota: Quota | None, *, with_reset: bool) -> list[tuple[bytes, bytes]]:
    if quota is None:
        return []
    headers = [
        (b"x-ratelimit-limit", quota.limit_header().encode()),
        (b"x-ratelimit-remaining", str(quota.remaining).encode()),
    ]
    if with_reset:
        headers.append((b"x-ratelimit-reset", str(quota.reset_seconds).encode()))
    return headers


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _corrupt(kind: str, body: bytes) -> bytes:
    """A truncated body (first half) or a malformed one (a NUL byte, never valid JSON)."""
    middle = len(body) // 2
    if kind == "truncated_body":
        return body[: max(middle, 1)] if len(body) > 1 else b""
    return body[:middle] + b"\x00" + body[middle:]


class GuardMiddleware:
    """The ASGI layer `install` adds (pure ASGI: no per-request body copies)."""

    def __init__(self, app: ASGIApp, guards: Guards) -> None:
        self.app = app
        self.guards = guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guards = self.guards
        extra = [(b"x-pinterest-rid", guards.next_request_id())]
        operation = resolve_operation(scope["method"], scope["path"])
        if operation is None:
            await self.app(scope, receive, self._stamping(send, extra, count=False))
            return
        guards.operations[operation.operation_id] += 1
        guards.categories[operation.category] += 1
        token = _bearer(scope)
        caller = guards.caller(token, scope.get("client"))
        quota = guards.admit(operation, caller)
        if quota is not None and not quota.allowed:
            guards.statuses[429] += 1
            await _send_json(
                send, 429, RATE_LIMIT_BODY, extra + _quota_headers(quota, with_reset=True)
            )
            return
        extra += _quota_headers(quota, with_reset=False)
        fault = guards.draw_fault(operation, token)
        if guards.faults.latency_ms > 0 and guards.faults.targets(
            operation.operation_id, operation.category
        ):
            await anyio.sleep(guards.faults.latency_ms / 1000)
        await self._respond(scope, receive, send, fault=fault, extra=extra)

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        fault: str | None,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        if fault in _FAULT_RESPONSES:
            status, body = _FAULT_RESPONSES[fault]
            if status == 429:
                extra = [
                    *(h for h in extra if h[0] != b"x-ratelimit-remaining"),
                    (b"x-ratelimit-remaining", b"0"),
                    (b"x-ratelimit-reset", b"1"),
                ]
            self.guards.statuses[status] += 1
            await _send_json(send, status, body, extra)
        elif fault == "connection_reset":
            await self._reset_connection(send)
        elif fault is not None:
            await self.app(scope, receive, self._corrupting(send, fault, extra))
        else:
            await self.app(scope, receive, self._stamping(send, extra))

    def _stamping(
        self, send: Send, extra: list[tuple[bytes, bytes]], *, count: bool = True
    ) -> Send:
        statuses = self.guards.statuses

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                if count:
                    statuses[message["status"]] += 1
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        return stamped

    def _corrupting(self, send: Send, kind: str, extra: list[tuple[bytes, bytes]]) -> Send:
        """Buffer this one response and send its body truncated or malformed."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        stamped = self._stamping(send, extra)

        async def corrupting(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _corrupt(kind, b"".join(chunks))
            headers = [
                (k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await stamped({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return corrupting

    async def _reset_connection(self, send: Send) -> None:
        # An ASGI app cannot close its socket; raising after the response has started makes
        # uvicorn drop the connection (no 500 is possible any more), which httpx reports as a
        # RemoteProtocolError. In-process, httpx's ASGI transport re-raises it to the caller.
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise EmulatedConnectionResetError()


def guards_of(app: Starlette) -> Guards:
    """The `Guards` that `install` attached to an app."""
    guards: Guards = app.state.guards
    return guards


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _stats(request: Request) -> Response:
    return _json(guards_of(request.app).snapshot())


async def _stats_reset(request: Request) -> Response:
    guards = guards_of(request.app)
    guards.clear_counters()
    return _json(guards.snapshot())


async def _faults(request: Request) -> Response:
    """GET: the faults in force. POST {FaultConfig fields}: replace them (omitted = default)."""
    guards = guards_of(request.app)
    if request.method == "POST":
        try:
            guards.set_faults(FaultConfig.model_validate_json(await request.body() or b"{}"))
        except ValidationError as exc:
            message = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            return _json({"code": 1, "message": f"invalid fault config: {message}"}, status=400)
    return _json(guards.faults.model_dump(mode="json"))


async def _rate_limits(request: Request) -> Response:
    """GET: the quotas in force. POST {RateLimitConfig fields}: replace them, windows cleared."""
    guards = guards_of(request.app)
    if request.method == "POST":
        try:
            config = RateLimitConfig.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            return _json(
                {"code": 1, "message": f"invalid rate limits: {exc.errors()[0]['msg']}"}, 400
            )
        guards.limiter = RateLimiter(config)
    return _json(guards.limiter.config.model_dump(mode="json"))


class _DropInjectedResets(logging.Filter):
    """Keep uvicorn from logging a traceback for every injected connection reset."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, EmulatedConnectionResetError)


_RESET_FILTER = _DropInjectedResets()


def install(app: Starlette) -> None:
    """Add the guard middleware and the stats/faults routes to an emulator app (idempotent).

    Call it in `create_app`, after `app.state.emulator` is set and before the app serves.
    """
    if getattr(app.state, "guards", None) is not None:
        return
    state: EmulatorState = app.state.emulator
    guards = Guards(state)
    app.state.guards = guards
    state.on_reset(guards.reset)
    app.router.routes.extend(
        [
            Route("/_emulator/stats", _stats, methods=["GET"]),
            Route("/_emulator/stats/reset", _stats_reset, methods=["POST"]),
            Route("/_emulator/faults", _faults, methods=["GET", "POST"]),
            Route("/_emulator/rate-limits", _rate_limits, methods=["GET", "POST"]),
        ]
    )
    app.add_middleware(GuardMiddleware, guards=guards)
    logger = logging.getLogger("uvicorn.error")
    if _RESET_FILTER not in logger.filters:
        logger.addFilter(_RESET_FILTER)
