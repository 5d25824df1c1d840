"""Every route, enumerated from the app: pages need a login, the API needs credentials, every
state-changing form and API call is refused without the session's CSRF token; the OpenAPI
document and the API page are behind the login; errors are a page or JSON, never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from pinads.settings import AppSettings
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
from pinads.web.app import create_app

from .conftest import Browser

_CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
_PARAMS = {
    "name": "shop",
    "ref": "demo",
    "authorizer_id": "1",
    "job_id": "x",
    "username": "nobody",
}
_PUBLIC = {"/login", "/api/health"}


# The routers the app includes (FastAPI keeps included routers behind a private wrapper).
ROUTERS = (
    api.router,
    api_notify.router,
    metrics.router,
    pages_admin.router,
    pages_auth.router,
    pages_account.router,
    pages_login.router,
    wizard.router,
    pages_sources.router,
)
# At collection, before the per-test PINADS_HOME exists: a throwaway home of its own.
APP = create_app(AppSettings(home=Path(tempfile.mkdtemp(prefix="pinads-web-routes-"))))


def _routes() -> list[tuple[str, str]]:
    """(method, path with its parameters filled) of every route of the app."""
    found = []
    for route in [*APP.routes, *(r for router in ROUTERS for r in router.routes)]:
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: _PARAMS[m.group(1)], route.path)
        found += [(method, path) for method in sorted(route.methods or ())]
    return found


ROUTES = _routes()
PAGE_CHANGES = [(m, p) for m, p in ROUTES if m in _CHANGES and not p.startswith("/api/")]
API_CHANGES = [(m, p) for m, p in ROUTES if m in _CHANGES and p.startswith("/api/")]
API_READS = [(m, p) for m, p in ROUTES if m == "GET" and p.startswith("/api/")]
PAGE_READS = [(m, p) for m, p in ROUTES if m == "GET" and not p.startswith("/api/")]


def test_the_route_lists_cover_the_app() -> None:
    included = [r for r in APP.routes if not isinstance(r, APIRoute | Mount)]
    assert len(included) == len(ROUTERS)  # a new router must be added to ROUTERS
    assert ("POST", "/sources/new") in PAGE_CHANGES and ("POST", "/logout") in PAGE_CHANGES
    assert ("POST", "/authorizers/1/delete") in PAGE_CHANGES
    assert ("DELETE", "/api/sources/shop") in API_CHANGES
    assert ("PATCH", "/api/authorizers/demo") in API_CHANGES
    assert ("GET", "/api/openapi.json") in API_READS and ("GET", "/api/docs") in API_READS


# One app and one login for all routes of a kind (a login costs a password hash): each test
# lists every route that answered wrongly.


def test_every_form_refuses_a_missing_or_forged_csrf_token(browser: Browser) -> None:
    wrong = []
    for method, path in PAGE_CHANGES:
        missing = browser.client.request(method, path, data={"label": "x"})
        forged = browser.client.request(method, path, data={"csrf_token": "forged"})
        if (missing.status_code, forged.status_code) != (403, 403) or (
            "CSRF token missing or wrong" not in missing.text
        ):
            wrong.append((method, path, missing.status_code, forged.status_code))
    assert wrong == []


def test_every_api_change_needs_the_csrf_header_with_a_session(browser: Browser) -> None:
    wrong = []
    for method, path in API_CHANGES:
        missing = browser.client.request(method, path, json={})
        forged = browser.client.request(method, path, json={}, headers={"X-CSRF-Token": "x"})
        if (missing.status_code, forged.status_code) != (403, 403) or (
            "CSRF" not in missing.json()["detail"]
        ):
            wrong.append((method, path, missing.status_code, forged.status_code))
    assert wrong == []
    # The same calls with the header get past the check (to a 2xx or a 4xx of their own).
    ok = browser.client.post(
        "/api/validate-selection",
        json={"dataset": "campaigns", "attributes": ["ID"]},
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert ok.status_code == 200


def test_every_api_call_needs_credentials(client: TestClient) -> None:
    wrong = []
    for method, path in API_READS + API_CHANGES:
        response = client.request(method, path, json={}, follow_redirects=False)
        if path in _PUBLIC:
            expected = 200
        elif path == "/api/docs":  # a page: to the login page
            expected = 303
        else:
            expected = 401
        if response.status_code != expected:
            wrong.append((method, path, response.status_code))
    assert wrong == []


def test_every_page_needs_a_login(client: TestClient) -> None:
    wrong = []
    for method, path in PAGE_READS:
        response = client.request(method, path, follow_redirects=False)
        if path in _PUBLIC:
            if response.status_code != 200:
                wrong.append((method, path, response.status_code))
        elif path == "/metrics":  # for scrapers, not people: credentials, no login page
            if response.status_code != 401:
                wrong.append((method, path, response.status_code))
        elif response.status_code != 303 or not response.headers["location"].startswith(
            "/login?next="
        ):
            wrong.append((method, path, response.status_code))
    assert wrong == []


def test_openapi_document_and_api_page_behind_the_login(
    browser: Browser, client: TestClient, api_token: str
) -> None:
    document = browser.client.get("/api/openapi.json")
    assert document.status_code == 200 and "/api/sources" in document.json()["paths"]
    with_token = client.get("/api/openapi.json", headers={"Authorization": f"Bearer {api_token}"})
    assert with_token.status_code == 200
    page = browser.client.get("/api/docs").text
    assert "/api/sources/{name}/backfill" in page and "pinads tokens create" in page
    # Self-contained: no script or stylesheet from a CDN the server may not reach.
    assert not re.search(r'(src|href)="https?://', page)
    assert "Start a backfill (async reports, resumable) in the background." in page


def test_bad_address_on_a_page_is_an_error_page_and_json_on_the_api(
    browser: Browser, api_token: str
) -> None:
    page = browser.client.get("/authorizers/abc")
    assert page.status_code == 422 and 'id="error-message"' in page.text
    assert "authorizer_id: Input should be a valid integer" in page.text
    assert "use the links and forms of the pages" in page.text
    api = browser.client.get("/api/sources/shop/runs?limit=many")
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["query", "limit"]


def test_an_unexpected_error_is_one_line_without_traceback(
    web_app: FastAPI, browser: Browser
) -> None:
    # A route that fails like a bug would (the handler under test is the app's own).
    def broken() -> None:
        raise KeyError("internal detail")

    web_app.add_api_route("/broken", broken)
    web_app.add_api_route("/api/broken", broken)
    with TestClient(web_app, raise_server_exceptions=False) as client:
        session = Browser(client)
        session.login()
        page = client.get("/broken")
        api = client.get("/api/broken")
    assert page.status_code == 500 and 'id="error-message"' in page.text
    assert "unexpected error (KeyError) in pinads: it is in the server&#39;s log" in page.text
    assert "Traceback" not in page.text and "internal detail" not in page.text
    assert api.status_code == 500 and api.json()["detail"].startswith("unexpected error (KeyError)")
