"""A cap on request bodies: nothing pinads accepts (a source, a form) is near 1 MiB.

Applied as an ASGI middleware in front of every route, so no handler, form parser or JSON
decoder ever holds more: a declared Content-Length past the cap is answered 413 before the
body is read, and a body without one (chunked) is read up to the cap plus one byte only.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_REQUEST_BODY_BYTES", "BodyLimitMiddleware"]

MAX_REQUEST_BODY_BYTES = 1024 * 1024


class BodyLimitMiddleware:
    """413 (JSON under /api, text elsewhere) for request bodies over `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_REQUEST_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        body = await self._read_capped(receive)
        if body is None:
            await self._refuse(scope, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_capped(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the cap (the rest is never read)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        limit = f"{self.max_bytes // 1024} KiB"
        text = (
            f"the request body is larger than {limit}: a source or form is far smaller; "
            "send less (at most 1,000 names per list)"
        )
        is_api = str(scope.get("path", "")).startswith("/api")
        body = json.dumps({"detail": text}).encode() if is_api else text.encode()
        kind = b"application/json" if is_api else b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the client's own messages (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
