"""Session secret, CSRF tokens and the current user (session cookie or API token)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import HTTPException, Request

from pinads.settings import AppSettings
from pinads.web.store import WebStore

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "api_user",
    "check_csrf_value",
    "csrf_token",
    "load_session_secret",
    "session_user",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_session_secret(settings: AppSettings) -> str:
    """The key that signs session cookies: PINADS_SESSION_SECRET, else a 0600 file in
    PINADS_HOME (created once, so sessions survive restarts)."""
    from_env = os.environ.get("PINADS_SESSION_SECRET")
    if from_env:
        return from_env
    path: Path = settings.ensure_home() / "web-session.key"
    if path.exists():
        return path.read_text("utf-8").strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf_value(request: Request, value: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not value or not secrets.compare_digest(value, expected):
        raise HTTPException(
            status_code=403,
            detail="CSRF token missing or wrong: reload the page and submit the form again",
        )


def session_user(request: Request) -> str | None:
    user = request.session.get("user")
    return user if isinstance(user, str) else None


def _bearer(request: Request) -> str | None:
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def api_user(request: Request) -> str:
    """The API caller: an API token (no CSRF needed: browsers never send it by themselves) or
    the session cookie plus the X-CSRF-Token header on state-changing methods."""
    token = _bearer(request)
    store: WebStore = request.app.state.web.store
    if token is not None:
        user = store.user_for_token(token)
        if user is None:
            raise HTTPException(status_code=401, detail="invalid API token")
        return user
    user = session_user(request)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="log in, or send an API token (`pinads tokens create`) as a Bearer token",
        )
    if request.method not in _SAFE_METHODS:
        check_csrf_value(request, request.headers.get(CSRF_HEADER))
    return user
