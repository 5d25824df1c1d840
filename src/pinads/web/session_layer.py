"""The ASGI layer that gives each request its server-side session as `request.session`.

A logged-in request's `request.session` is its row's data, saved back when a route changed
it. Before a login there is no row (an anonymous visit writes nothing to the control DB):
only the login form's CSRF token is kept, in a cookie of its own.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pinads.state import ActiveSession, WebSessionRepository, session_key

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "ServerSessionMiddleware",
    "client_address",
    "end_session",
    "session_user",
    "start_session",
]

SESSION_COOKIE = "pinads_session"
LOGIN_CSRF_COOKIE = "pinads_login"
_STATE = "pinads.session"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@dataclass
class _SessionState:
    store: WebSessionRepository
    data: dict[str, Any]
    active: ActiveSession | None = None
    saved: str = ""  # the data as last stored, to write only changes
    new_id: str | None = None
    ended: bool = False
    stale_cookie: bool = False
    login_csrf: str | None = field(default=None)


def _serialised(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except ValueError:
                continue
    return {key: morsel.value for key, morsel in jar.items()}


def _state(request: Request) -> _SessionState:
    state: _SessionState = request.scope[_STATE]
    return state


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_user(request: Request) -> str | None:
    state = request.scope.get(_STATE)
    if not isinstance(state, _SessionState) or state.active is None or state.ended:
        return None
    return state.active.username


def start_session(request: Request, username: str) -> None:
    """Log `username` in: a new session id (the old one, if any, is revoked) with a new
    CSRF token, so an id or token seen before the login is worth nothing after it."""
    state = _state(request)
    if state.active is not None:
        state.store.revoke(state.active.key)
    data: dict[str, Any] = {"csrf": secrets.token_urlsafe(32)}
    state.new_id = state.store.create(username, data, client_address(request))
    state.active = ActiveSession(key=session_key(state.new_id), username=username, data=data)
    state.ended = False
    state.saved = _serialised(data)
    state.data.clear()
    state.data.update(data)


def end_session(request: Request) -> None:
    """Log out: the session is deleted, so its cookie is refused from now on."""
    state = _state(request)
    if state.active is not None:
        state.store.revoke(state.active.key)
    state.ended = True
    state.data.clear()


class ServerSessionMiddleware:
    def __init__(self, app: ASGIApp, *, store: WebSessionRepository, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = await self._load(_cookies(scope))
        scope["session"] = state.data  # what `request.session` returns
        scope[_STATE] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._finish(state, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _load(self, cookies: dict[str, str]) -> _SessionState:
        session_id = cookies.get(SESSION_COOKIE, "")
        active = await run_in_threadpool(self.store.resume, session_id) if session_id else None
        if active is not None:
            data = dict(active.data)
            return _SessionState(
                store=self.store, data=data, active=active, saved=_serialised(data)
            )
        login_csrf = cookies.get(LOGIN_CSRF_COOKIE)
        login_csrf = login_csrf if login_csrf and _TOKEN.fullmatch(login_csrf) else None
        data = {"csrf": login_csrf} if login_csrf else {}
        return _SessionState(
            store=self.store, data=data, stale_cookie=bool(session_id), login_csrf=login_csrf
        )

    async def _finish(self, state: _SessionState, headers: MutableHeaders) -> None:
        if state.new_id is not None:
            lifetime = int(self.store.lifetime.total_seconds())
            headers.append("set-cookie", self._cookie(SESSION_COOKIE, state.new_id, lifetime))
            headers.append("set-cookie", self._cookie(LOGIN_CSRF_COOKIE, "", 0))
        if state.active is not None and not state.ended:
            if _serialised(state.data) != state.saved:
                await run_in_threadpool(self.store.save_data, state.active.key, state.data)
            return
        if state.ended or state.stale_cookie:
            headers.append("set-cookie", self._cookie(SESSION_COOKIE, "", 0))
        csrf = state.data.get("csrf")
        if isinstance(csrf, str) and csrf != state.login_csrf and not state.ended:
            headers.append("set-cookie", self._cookie(LOGIN_CSRF_COOKIE, csrf, None))

    def _cookie(self, name: str, value: str, max_age: int | None) -> str:
        parts = [f'{name}="{value}"' if not value else f"{name}={value}", "Path=/"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
            if max_age == 0:
                parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        parts += ["HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
