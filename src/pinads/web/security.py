"""CSRF tokens and the current user (session cookie or API token)."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request

from pinads.web.context import WebContext
from pinads.web.roles import Role
from pinads.web.session_layer import client_address, session_user
from pinads.web.throttle import minutes, token_counter

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "api_credentials",
    "api_user",
    "bearer_token",
    "check_csrf_value",
    "csrf_token",
    "session_user",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def bearer_token(request: Request) -> str | None:
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def _token_user(request: Request, token: str) -> tuple[str, Role | None]:
    """The token's user and own role; 429 once an address has sent too many invalid tokens.
    An expired token, or one of a disabled or deleted user, is invalid."""
    ctx: WebContext = request.app.state.web
    counter = token_counter(ctx.policy, client_address(request))
    wait = ctx.throttle.retry_after([counter])
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"too many invalid API tokens from this address: try again in "
            f"{minutes(wait)}, with a token from `pinads tokens list`",
            headers={"Retry-After": str(wait)},
        )
    use = ctx.users.token_use(token)
    if use is None or ctx.users.role(use[0]) is None:
        ctx.throttle.record_failure([counter])
        raise HTTPException(status_code=401, detail="invalid or expired API token")
    return use


def api_credentials(request: Request) -> tuple[str, Role | None]:
    """The API caller and its token's role (None: a session, or a token with its user's
    role): an API token (no CSRF needed: browsers never send it by themselves) or the
    session cookie plus the X-CSRF-Token header on state-changing methods."""
    token = bearer_token(request)
    found = (_session_caller(request), None) if token is None else _token_user(request, token)
    request.state.api_user = found[0]  # the actor of what the call changes (audit log)
    return found


def api_user(request: Request) -> str:
    """The API caller's user name (see `api_credentials`)."""
    return api_credentials(request)[0]


def _session_caller(request: Request) -> str:
    user = session_user(request)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="log in, or send an API token (`pinads tokens create`) as a Bearer token",
        )
    if request.method not in _SAFE_METHODS:
        check_csrf_value(request, request.headers.get(CSRF_HEADER))
    return user
