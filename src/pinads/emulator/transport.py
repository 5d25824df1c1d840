"""A synchronous httpx transport that drives an ASGI app in-process (no sockets).

The app runs on an event loop in a background thread (an anyio blocking portal), so sync
clients like pinads' `PinterestClient` can take it as `transport=`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx
from anyio.from_thread import BlockingPortal

__all__ = ["InProcessTransport"]


class InProcessTransport(httpx.BaseTransport):
    """`httpx.Client(transport=InProcessTransport(app), base_url=...)`; close it when done."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None

    def _get_portal(self) -> BlockingPortal:
        if self._portal is None:
            self._portal_cm = anyio.from_thread.start_blocking_portal()
            self._portal = self._portal_cm.__enter__()
        return self._portal

    async def _call(self, request: httpx.Request, body: bytes) -> httpx.Response:
        inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self._asgi.handle_async_request(inner)
        content = await response.aread()
        await response.aclose()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self._get_portal().call(self._call, request, body)

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
        self._portal_cm = self._portal = None
