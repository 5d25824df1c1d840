"""A synchronous httpx transport that drives an ASGI app in-process (no sockets).

The app runs on an asyncio loop in a daemon thread, so sync clients like pinads'
`PinterestClient` can take it as `transport=`, and a forgotten `close()` never keeps the
interpreter from exiting. One transport serves any number of threads at once (a run's
workers share it): the loop is started once, under a lock, on first use; `close()` cancels
the requests still in flight (their callers get an `httpx.TransportError`, never a hang) and
the next request starts a fresh loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

import httpx

__all__ = ["InProcessTransport"]

_SHUTDOWN_SECONDS = 30  # a request running CPU-bound work in a thread is waited for


class InProcessTransport(httpx.BaseTransport):
    """`httpx.Client(transport=InProcessTransport(app), base_url="http://emulator.test")`."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _submit(self, call: Coroutine[Any, Any, httpx.Response]) -> concurrent.futures.Future[Any]:
        """Schedule `call` on the loop, starting the loop on first use. Under the lock, so
        two first requests start one loop, and close() cannot stop it in between."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, daemon=True, name="emulator-asgi"
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return asyncio.run_coroutine_threadsafe(call, self._loop)

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
        future = self._submit(self._call(request, body))
        try:
            response: httpx.Response = future.result()
        except concurrent.futures.CancelledError as exc:
            raise httpx.TransportError(
                "the in-process emulator transport was closed during the request"
            ) from exc
        return response

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_cancel_requests(), loop).result(_SHUTDOWN_SECONDS)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=_SHUTDOWN_SECONDS)
            if not thread.is_alive():
                loop.close()


async def _cancel_requests() -> None:
    """Cancel every request task on this loop and wait until they have unwound."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
