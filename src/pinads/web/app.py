"""`create_app`: the FastAPI app behind `pinads serve` (pages + JSON API under /api)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.responses import Response

from pinads.errors import ConfigError, PinadsError, redact
from pinads.settings import AppSettings, load_settings
from pinads.state import Clock, open_control_db
from pinads.state.db import utc_now
from pinads.web import (
    api,
    api_notify,
    metrics,
    pages_account,
    pages_admin,
    pages_auth,
    pages_login,
    pages_sources,
    wizard,
)
from pinads.web.access import Caller, api_access, page_access
from pinads.web.api_docs import add_source_schema
from pinads.web.common import (
    LoginRequiredError,
    for_web,
    login_redirect,
    redirect,
    render,
    status_for,
)
from pinads.web.context import WebContext
from pinads.web.headers import SecurityHeadersMiddleware, security_headers
from pinads.web.limits import BodyLimitMiddleware
from pinads.web.policy import WebPolicy, load_web_policy
from pinads.web.session_layer import (
    SESSION_COOKIE,
    ServerSessionMiddleware,
    session_user,
)
from pinads.web.users import MIN_PASSWORD_CHARS, WebUsers

__all__ = ["SESSION_COOKIE", "create_app"]

log = logging.getLogger(__name__)
ADMIN_USER = "admin"


def _first_start_admin(store: WebUsers) -> None:
    """PINADS_ADMIN_PASSWORD creates the user `admin` when no user exists yet."""
    password = os.environ.get("PINADS_ADMIN_PASSWORD")
    if password and not store.has_users():
        if len(password) < MIN_PASSWORD_CHARS:
            raise ConfigError(
                f"PINADS_ADMIN_PASSWORD is too short: use at least {MIN_PASSWORD_CHARS} "
                "characters, or create the user with `pinads users create`"
            )
        store.set_user(ADMIN_USER, password)
        log.warning("created the web user %r from PINADS_ADMIN_PASSWORD", ADMIN_USER)


def create_app(
    settings: AppSettings | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    secure_cookies: bool = False,
    policy: WebPolicy | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The web UI and JSON API. `secure_cookies` marks the session cookie Secure (browsers
    then send it over HTTPS only): for a server behind an HTTPS reverse proxy. `policy`
    (default: from PINADS_ variables) sets session and login limits; `clock` is for tests."""
    settings = settings or load_settings()
    policy = policy or load_web_policy()
    db = open_control_db(settings)
    _first_start_admin(WebUsers(db))
    app = FastAPI(
        title="pinads",
        version="1",
        description="pinads JSON API: authorizers, datasets, sources, runs, Test Data. "
        "Authenticate with an API token (`pinads tokens create`) as `Authorization: Bearer`, "
        "or with the session cookie plus the `X-CSRF-Token` header on changes.",
        # Served by our own routes below: behind the login, and without the CDN-hosted
        # Swagger UI, which a self-hosted server may not reach.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    web = WebContext(
        settings=settings,
        db=db,
        transport=transport,
        policy=policy,
        clock=clock or utc_now,
    )
    app.state.web = web
    app.add_middleware(ServerSessionMiddleware, store=web.sessions, secure=secure_cookies)
    # Before any route or the session layer reads a body: none is read past 1 MiB.
    app.add_middleware(BodyLimitMiddleware)
    # Added last, so it wraps the session layer too (a refused session's redirect included).
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")
    _install_handlers(app)
    _install_login(app)
    app.include_router(pages_login.router)
    _install_api_docs(app)
    app.include_router(api.router)
    app.include_router(api_notify.router)
    app.include_router(metrics.router)
    # Every page router passes the role check of `roles.POLICY` first.
    pages = [Depends(page_access)]
    app.include_router(pages_auth.router, dependencies=pages)
    app.include_router(pages_account.router, dependencies=pages)
    app.include_router(pages_admin.router, dependencies=pages)
    # The wizard before /sources/{name}, which would take /sources/new.
    app.include_router(wizard.router, dependencies=pages)
    app.include_router(pages_sources.router, dependencies=pages)
    app.router.add_event_handler("shutdown", app.state.web.close)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error(request: Request, message: str, status_code: int) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status_code)
    return render(
        request,
        "error.html",
        status_code=status_code,
        message=for_web(message),
        back=_back(request),
    )


# Where FastAPI found a value: not part of the field's name for a user.
_LOCATIONS = frozenset({"body", "value", "path", "query", "header", "cookie"})


def _validation_text(errors: Sequence[Any]) -> str:
    """pydantic's errors as one line: "field: what is wrong" (no "Value error, " noise)."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in _LOCATIONS)
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, exc: LoginRequiredError) -> Response:
        return login_redirect(exc.next_url)

    @app.exception_handler(PinadsError)
    async def _pinads(request: Request, exc: PinadsError) -> Response:
        return _error(request, redact(str(exc)), status_for(exc))

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: ValidationError) -> Response:
        # A model built from request data inside a service (a source document, a date range).
        return _error(request, _validation_text(exc.errors()), 422)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):  # the API keeps FastAPI's documented 422 body
            return await request_validation_exception_handler(request, exc)
        text = _validation_text(exc.errors())
        return _error(request, f"{text}: use the links and forms of the pages", 422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return _error(request, str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not a user error: the traceback goes to the server log, the page says so.
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        message = (
            f"unexpected error ({type(exc).__name__}) in pinads: it is in the server's log; "
            "try again, and report it if it happens again"
        )
        response = _error(request, message, 500)
        # Starlette answers this one outside the app's middleware: add the headers here.
        response.headers.update(security_headers(request.url.path, status_code=500))
        return response


def _back(request: Request) -> str:
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    # Only our own pages: a foreign referer must not become a link.
    if parts.netloc == request.url.netloc and parts.path.startswith("/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _install_login(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        if session_user(request) is None:
            return login_redirect("/")
        return redirect("/sources")

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness (no login needed)."""
        return {"status": "ok"}


_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(document: dict[str, Any]) -> list[dict[str, str]]:
    """The API's operations, for the docs page: method, path, tag, summary."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "tag": (operation.get("tags") or ["other"])[0],
                    "summary": operation.get("summary", ""),
                    # The docstring's first paragraph, unwrapped.
                    "description": " ".join(
                        (operation.get("description") or "").split("\n\n")[0].split()
                    ),
                }
            )
    return found


def _install_api_docs(app: FastAPI) -> None:
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        return add_source_schema(generated())  # idempotent on FastAPI's cached document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_document(caller: Annotated[Caller, Depends(api_access)]) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request, caller: Annotated[Caller, Depends(page_access)]) -> Response:
        return render(request, "api_docs.html", operations=_operations(app.openapi()))
