"""Authorizers pages: list with expiry warnings, authorize (OAuth redirect and callback),
import a refresh token, edit label, test, reauthorize, revoke, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from pinads.api import PRODUCTION_API_URL
from pinads.auth import DEFAULT_SCOPES, REFRESH_WARNING, Authorizer, CodeFlowOptions
from pinads.errors import ConfigError, PinadsError, redact
from pinads.runner.alerts import watch_authorizers
from pinads.web.common import (
    audit,
    checked_form,
    context_of,
    flash,
    for_web,
    form_list,
    form_text,
    page_user,
    redirect,
    render,
    status_for,
)
from pinads.web.context import WebContext

__all__ = ["authorizer_warnings", "router"]

router = APIRouter(include_in_schema=False)
ALL_SCOPES = ("ads:read", "user_accounts:read", "catalogs:read", "pins:read", "boards:read")


def authorizer_warnings(authorizer: Authorizer, *, now: datetime) -> list[str]:
    """What a user must act on: revoked, refresh token expired or expiring soon."""
    if authorizer.is_revoked:
        return ["needs re-authorization (revoked): reauthorize it before sources can use it"]
    expires = authorizer.refresh_expires_at
    if expires is not None and expires <= now:
        return ["needs re-authorization (the refresh token expired): reauthorize"]
    if authorizer.refresh_expires_within(REFRESH_WARNING, now=now) and expires is not None:
        days = max(0, (expires - now).days)
        # Any refresh renews Pinterest's continuous refresh tokens: Test does one at once.
        return [
            f"the refresh token expires in {days} day(s): press Test on the authorizer to "
            "renew it (a run renews it too)"
        ]
    return []


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/authorizers"


@router.get("/authorizers")
def authorizers_page(request: Request, user: str = Depends(page_user)) -> Response:
    now = datetime.now(UTC)
    with context_of(request).authorizers() as service:
        rows = [(a, authorizer_warnings(a, now=now)) for a in service.list()]
    return render(request, "authorizers.html", rows=rows)


def _new_page(
    request: Request,
    *,
    next_url: str,
    failed: str = "",
    error: PinadsError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The Authorize new service page; after a refused form (`failed`: oauth or import), the
    error beside that form and what was typed in it, secrets excepted (typed again)."""
    return render(
        request,
        "authorizer_new.html",
        status_code=status_for(error) if error is not None else 200,
        next=_safe_next(next_url),
        default_api_url=PRODUCTION_API_URL,
        all_scopes=ALL_SCOPES,
        default_scopes=DEFAULT_SCOPES,
        failed=failed,
        error=for_web(redact(str(error))) if error is not None else "",
        values=values or {},
    )


@router.get("/authorizers/new")
def new_authorizer_page(
    request: Request, next: str = "/authorizers", user: str = Depends(page_user)
) -> Response:
    return _new_page(request, next_url=next)


def check_reachable(ctx: WebContext, api_url: str) -> None:
    """An API URL other than Pinterest's must answer before the browser is sent to its consent
    page: an unreachable one would leave the user on the browser's own error page."""
    if api_url == PRODUCTION_API_URL:
        return
    try:
        with httpx.Client(transport=ctx.transport, timeout=5.0) as client:
            client.get(api_url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"the API URL {api_url!r} is not a URL: check it") from exc
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"the API URL {api_url} did not answer ({type(exc).__name__}): check the address "
            f"and that the server is up, or clear it to use Pinterest's ({PRODUCTION_API_URL})"
        ) from exc


def _scopes(values: list[str]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in ALL_SCOPES]
    if unknown:
        raise ConfigError(f"unknown scope(s) {', '.join(unknown)}: choose from the list")
    return tuple(values) or DEFAULT_SCOPES


def _oauth_values(form: FormData) -> dict[str, Any]:
    return {
        "client_id": form_text(form, "client_id"),
        "label": form_text(form, "label"),
        "api_url": form_text(form, "api_url") or PRODUCTION_API_URL,
        "rate_tier": form_text(form, "rate_tier") or "standard",
        "scopes": form_list(form, "scopes"),
    }


@router.post("/authorizers/new")
async def start_authorization(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    values = _oauth_values(form)
    next_url = form_text(form, "next", "/authorizers")
    try:
        url = _start_flow(request, form, values=values, user=user)
    except PinadsError as exc:
        return _new_page(request, next_url=next_url, failed="oauth", error=exc, values=values)
    request.session["oauth_next"] = _safe_next(next_url)
    # Kept for the callback: a refusal there (a wrong secret) shows this form again, filled.
    request.session["oauth_form"] = values
    return _to_consent(request, url)


def _start_flow(request: Request, form: FormData, *, values: dict[str, Any], user: str) -> str:
    ctx = context_of(request)
    secret = form_text(form, "client_secret")
    scopes = _scopes(values["scopes"])
    if not values["client_id"] or not secret:
        raise ConfigError("enter the app id (client id) and the app secret of your Pinterest app")
    check_reachable(ctx, values["api_url"])

    def work(options: CodeFlowOptions) -> Authorizer:
        with ctx.authorizers() as service:
            return service.add_with_code_flow(
                client_id=values["client_id"],
                client_secret=secret,
                flow=options,
                api_url=values["api_url"],
                scopes=scopes,
                label=values["label"] or None,
                rate_tier=values["rate_tier"],
            )

    return ctx.flows.start(user=user, redirect_uri=_callback_uri(request), work=work)


def _to_consent(request: Request, url: str) -> Response:
    """A page that goes on to Pinterest's consent page: browsers refuse a form's redirect
    to another site under the pages' `form-action 'self'` policy, not a page's refresh."""
    return render(request, "oauth_continue.html", url=url)


def _callback_uri(request: Request) -> str:
    return str(request.url_for("oauth_callback"))


@router.get("/authorizers/callback", name="oauth_callback")
def oauth_callback(request: Request, state: str = "", user: str = Depends(page_user)) -> Response:
    values = request.session.pop("oauth_form", None)
    try:
        authorizer = context_of(request).flows.finish(
            state=state, callback_url=str(request.url), user=user
        )
    except PinadsError as exc:
        next_url = request.session.pop("oauth_next", "/authorizers")
        if not isinstance(values, dict):
            raise
        return _new_page(request, next_url=next_url, failed="oauth", error=exc, values=values)
    audit(request, user, "authorizer.authorize", authorizer.label, id=authorizer.id)
    flash(request, f"Authorizer {authorizer.label} saved.", kind="success")
    target = request.session.pop("oauth_next", "/authorizers")
    separator = "&" if "?" in target else "?"
    if target.startswith("/sources/new"):
        target = f"{target}{separator}authorizer={authorizer.label}"
    return redirect(target)


@router.post("/authorizers/import")
async def import_refresh_token(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    values = _oauth_values(form)
    try:
        with context_of(request).authorizers() as service:
            authorizer = service.add_with_refresh_token(
                client_id=values["client_id"],
                client_secret=form_text(form, "client_secret"),
                refresh_token=form_text(form, "refresh_token"),
                api_url=values["api_url"],
                label=values["label"] or None,
                rate_tier=values["rate_tier"],
            )
    except PinadsError as exc:
        next_url = form_text(form, "next", "/authorizers")
        return _new_page(request, next_url=next_url, failed="import", error=exc, values=values)
    audit(request, user, "authorizer.add", authorizer.label, id=authorizer.id)
    flash(request, f"Authorizer {authorizer.label} saved.", kind="success")
    return redirect(_safe_next(form_text(form, "next", "/authorizers")))


@router.get("/authorizers/{authorizer_id}")
def authorizer_page(
    request: Request, authorizer_id: int, user: str = Depends(page_user)
) -> Response:
    with context_of(request).authorizers() as service:
        authorizer = service.get(authorizer_id)
    warnings = authorizer_warnings(authorizer, now=datetime.now(UTC))
    return render(request, "authorizer.html", a=authorizer, warnings=warnings, report=None)


@router.post("/authorizers/{authorizer_id}/rename")
async def rename(request: Request, authorizer_id: int, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    with context_of(request).authorizers() as service:
        old = service.get(authorizer_id).label
        authorizer = service.rename(authorizer_id, form_text(form, "label"))
    audit(request, user, "authorizer.rename", authorizer.label, **{"from": old})
    flash(request, f"Renamed to {authorizer.label}.", kind="success")
    return redirect(f"/authorizers/{authorizer_id}")


@router.post("/authorizers/{authorizer_id}/test")
async def test(request: Request, authorizer_id: int, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    with context_of(request).authorizers() as service:
        report = service.test(authorizer_id)
        accounts = service.accounts(authorizer_id)
    warnings = authorizer_warnings(report.authorizer, now=datetime.now(UTC))
    return render(
        request,
        "authorizer.html",
        a=report.authorizer,
        warnings=warnings,
        report=report,
        accounts=accounts,
    )


@router.post("/authorizers/{authorizer_id}/reauthorize")
async def reauthorize(
    request: Request, authorizer_id: int, user: str = Depends(page_user)
) -> Response:
    await checked_form(request)
    ctx = context_of(request)

    def work(options: CodeFlowOptions) -> Authorizer:
        with ctx.authorizers() as service:
            return service.reauthorize(authorizer_id, flow=options)

    request.session["oauth_next"] = f"/authorizers/{authorizer_id}"
    url = ctx.flows.start(user=user, redirect_uri=_callback_uri(request), work=work)
    return _to_consent(request, url)


@router.post("/authorizers/{authorizer_id}/revoke")
async def revoke(request: Request, authorizer_id: int, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    with context_of(request).authorizers() as service:
        result = service.revoke(authorizer_id)
        label = service.get(authorizer_id).label
    audit(request, user, "authorizer.revoke", label, at_pinterest=result.revoked_at_pinterest)
    await run_in_threadpool(watch_authorizers, context_of(request).settings)
    where = "at Pinterest and here" if result.revoked_at_pinterest else "here"
    flash(request, f"Revoked {where} ({result.detail}).", kind="success")
    return redirect(f"/authorizers/{authorizer_id}")


@router.post("/authorizers/{authorizer_id}/delete")
async def delete(request: Request, authorizer_id: int, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    with context_of(request).authorizers() as service:
        authorizer = service.get(authorizer_id)
        try:
            service.delete(authorizer_id)
        except ConfigError as exc:  # a source uses it: said on its page, nothing changed
            warnings = authorizer_warnings(authorizer, now=datetime.now(UTC))
            return render(
                request,
                "authorizer.html",
                status_code=status_for(exc),
                a=authorizer,
                warnings=warnings,
                report=None,
                error=for_web(str(exc)),
            )
    label = authorizer.label
    audit(request, user, "authorizer.delete", label)
    flash(request, f"Authorizer {label} deleted.", kind="success")
    return redirect("/authorizers")
