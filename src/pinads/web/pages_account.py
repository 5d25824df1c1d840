"""The account page (change the password, which logs out every other session) and the audit
log's page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pinads.errors import ConfigError
from pinads.web.common import audit, checked_form, context_of, flash, page_user, redirect, render
from pinads.web.session_layer import start_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    before: int | None = None,
    action: str = "",
    user: str = Depends(page_user),
) -> Response:
    page = context_of(request).audit.page(limit=100, before=before, action=action[:64] or None)
    return render(request, "audit.html", page=page, action=action[:64])


@router.get("/account")
def account_page(request: Request, user: str = Depends(page_user)) -> Response:
    return render(request, "account.html")


def _password_problem(request: Request, user: str, current: str, new: str, repeat: str) -> str:
    if not context_of(request).users.authenticate(user, current):
        return "the current password is wrong: type it again"
    if new != repeat:
        return "the new passwords differ: type the same one twice"
    return ""


@router.post("/account/password")
async def change_password(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    current, new, repeat = (
        str(form.get(name) or "") for name in ("current", "new_password", "repeat")
    )
    problem = _password_problem(request, user, current, new, repeat)
    if not problem:
        try:
            context_of(request).users.set_password(user, new)
        except ConfigError as exc:
            problem = str(exc)
    if problem:
        return render(request, "account.html", status_code=400, error=problem)
    # Every session of the user was revoked with the old password; this browser goes on
    # in a new one.
    start_session(request, user)
    audit(request, user, "password.change", user)
    flash(request, "Password changed; every other session of yours was logged out.", kind="success")
    return redirect("/account")
