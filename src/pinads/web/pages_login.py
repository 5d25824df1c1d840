"""Log in (throttled: `pinads.web.throttle`) and log out, each recorded in the audit log."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from pinads.web.common import audit, checked_form, context_of, form_text, redirect, render
from pinads.web.session_layer import client_address, end_session, session_user, start_session
from pinads.web.throttle import login_counters, minutes

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    has_users = context_of(request).users.has_users()
    return render(request, "login.html", next=_safe_next(next), has_users=has_users)


def _form_again(
    request: Request, *, status_code: int, error: str, username: str, target: str
) -> Response:
    return render(
        request,
        "login.html",
        status_code=status_code,
        next=target,
        has_users=True,
        error=error,
        username=username,
    )


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    username, password = form_text(form, "username"), form_text(form, "password")
    target = _safe_next(form_text(form, "next", "/"))
    ctx, address = context_of(request), client_address(request)
    counters = login_counters(ctx.policy, username, address)
    wait = ctx.throttle.retry_after(counters)
    if wait is not None:
        log.warning("login throttled for %r from %s", username, address)
        error = f"Too many failed logins: try again in {minutes(wait)}."
        response = _form_again(
            request, status_code=429, error=error, username=username, target=target
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not ctx.users.authenticate(username, password):
        ctx.throttle.record_failure(counters)
        audit(request, username or "(empty)", "login.failure", username)
        return _form_again(
            request,
            status_code=401,
            error="Wrong user name or password.",
            username=username,
            target=target,
        )
    ctx.throttle.reset(counters[0])
    start_session(request, username)
    audit(request, username, "login.success", username)
    return redirect(target)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    user = session_user(request)
    end_session(request)
    if user is not None:
        audit(request, user, "logout", user)
    return redirect("/login")
