"""Helpers shared by the page routes: rendering, the logged-in user, checked forms, flashes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from pinads.errors import (
    AccessDeniedError,
    ApiError,
    AuthError,
    ConfigError,
    ExtractError,
    LoadError,
    PinadsError,
    StateError,
)
from pinads.web.access import caller_of
from pinads.web.context import WebContext
from pinads.web.roles import GRANTS
from pinads.web.security import CSRF_FIELD, check_csrf_value, csrf_token, session_user
from pinads.web.session_layer import client_address

__all__ = [
    "TEMPLATES",
    "LoginRequiredError",
    "audit",
    "checked_form",
    "context_of",
    "flash",
    "for_web",
    "page_user",
    "redirect",
    "render",
    "status_for",
]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class LoginRequiredError(Exception):
    """A page was asked for without a session; the app redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


# Services phrase "what to do" for the CLI; on a page the same advice names the page instead.
_CLI_HINTS: tuple[tuple[str, str], ...] = (
    ("with `pinads auth add`", "on the Authorizers page (Authorize new service)"),
    ("with `pinads auth reauthorize`", "with Reauthorize on its Authorizers page"),
    ("with `pinads sources create`", "with Create Source"),
    ("run `pinads datasets` to list them", "search them on the Dataset step"),
    ("list them with `pinads datasets`", "search them on the Dataset step"),
    ("(`pinads datasets`)", "(see the Dataset step)"),
    ("(`pinads auth list`)", "(see the Authorizers page)"),
    ("check `pinads runs`", "check the source's run history"),
    ("`pinads runs` shows it", "the source's run history shows it"),
    (
        "or authorize in the browser (leave out --refresh-token)",
        "or authorize with Continue to Pinterest instead",
    ),
    (
        "or set allow_empty: true if an empty result is expected",
        'or tick "Allow Empty Data Extractions" (Edit, Snapshot step) if no data is expected',
    ),
)
# CLI commands with arguments, as the pages say them.
_CLI_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"check with `pinads preview [^`]+`"), "check with Test Data (Edit, last step)"),
    (
        re.compile(r"`pinads backfill \S+ --from (\S+) --to ([^`]+)` resumes it"),
        r"a backfill from \1 to \2 (Backfill on the source's page) resumes it",
    ),
    (re.compile(r"run it again with `pinads run [^`]+`"), "run it again with Run now"),
    (re.compile(r" - `pinads runs [^`]+` shows it"), ": the run history shows it"),
    (re.compile(r"its process \([^)]*pid \d+\) is gone"), "the server process running it stopped"),
    # Which process holds a run lock is for the server's operator, not a page's reader.
    (re.compile(r"\(run \w+, pid \d+ on [^,]+, since ([^)]+)\)"), r"(since \1)"),
)

_ACCOUNTS_HINT = re.compile(r"list them with `pinads accounts list --authorizer ([^`]+)`")


def for_web(message: str) -> str:
    """A service's message with its CLI advice turned into the pages' words."""
    for cli, web in _CLI_HINTS:
        message = message.replace(cli, web)
    for pattern, words in _CLI_PATTERNS:
        message = pattern.sub(words, message)
    return _ACCOUNTS_HINT.sub(r"see the Account step for authorizer \1", message)


TEMPLATES.env.filters["web"] = for_web


def context_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def audit(
    request: Request, actor: str, action: str, target: str | None = None, **details: Any
) -> None:
    """Record a change in the audit log, with where it came from (pages or API) and the
    client's address. `details` must never hold a secret."""
    via = "api" if request.url.path.startswith("/api") else "web"
    context_of(request).audit.record(
        actor=actor,
        action=action,
        target=target,
        details={**details, "via": via},
        address=client_address(request),
    )


def page_user(request: Request) -> str:
    user = session_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target)
    return user


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked against the session's."""
    form = await request.form()
    value = form.get(CSRF_FIELD)
    check_csrf_value(request, value if isinstance(value, str) else None)
    return form


def form_text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def form_list(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def flash(request: Request, message: str, *, kind: str = "info") -> None:
    messages = list(request.session.get("flash", []))
    messages.append({"kind": kind, "text": message})
    request.session["flash"] = messages[-5:]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(next_url: str) -> RedirectResponse:
    return redirect(f"/login?next={quote(next_url, safe='/')}")


def _permissions(request: Request) -> frozenset[str]:
    caller = caller_of(request)
    if caller is not None:
        return frozenset(p.value for p in caller.permissions)
    user = session_user(request)  # a page outside the checked routers (an error page)
    role = context_of(request).users.role(user) if user else None
    return frozenset(p.value for p in GRANTS[role]) if role is not None else frozenset()


def render(request: Request, name: str, *, status_code: int = 200, **values: Any) -> Response:
    messages = request.session.pop("flash", [])
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "user": session_user(request),
            # What the caller may do (the menu shows only that): see pinads.web.roles.
            "can": _permissions(request),
            "csrf": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "messages": messages,
            **values,
        },
        status_code=status_code,
    )


def status_for(exc: PinadsError) -> int:
    """HTTP status for an error of the tree (the most specific class first)."""
    table: tuple[tuple[type[PinadsError], int], ...] = (
        (AccessDeniedError, 403),
        (AuthError, 409),
        (ConfigError, 400),
        (ApiError, 502),
        (ExtractError, 502),
        (LoadError, 409),
        (StateError, 503),
    )
    return next((status for kind, status in table if isinstance(exc, kind)), 500)
