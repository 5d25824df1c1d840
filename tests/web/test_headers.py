"""Security headers on every kind of response: pages, redirects, the JSON API, static files,
404s, validation errors and unexpected errors; no-store everywhere but static files."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from .conftest import Browser

CSP_PARTS = (
    "default-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def _missing(response: httpx.Response, *, cached: bool = False) -> list[str]:
    """The security headers `response` lacks or has wrong."""
    headers = response.headers
    problems = []
    csp = headers.get("content-security-policy", "")
    problems += [f"CSP without {part}" for part in CSP_PARTS if part not in csp]
    expected = {
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    }
    problems += [f"{k}: {headers.get(k)}" for k, v in expected.items() if headers.get(k) != v]
    no_store = headers.get("cache-control") == "no-store"
    if no_store == cached:
        problems.append(f"cache-control: {headers.get('cache-control')}")
    return problems


def test_pages_redirects_and_errors_have_the_headers(browser: Browser) -> None:
    client = browser.client
    answers = {
        "page": client.get("/sources"),
        "login page": client.get("/login"),
        "redirect": client.get("/", follow_redirects=False),
        "404 page": client.get("/no/such/page"),
        "404 source": client.get("/sources/nothing-here"),
        "422 page": client.get("/authorizers/abc"),
    }
    assert answers["redirect"].status_code == 303 and answers["404 page"].status_code == 404
    wrong = {name: _missing(r) for name, r in answers.items() if _missing(r)}
    assert wrong == {}


def test_logged_out_redirects_have_the_headers(client: TestClient) -> None:
    response = client.get("/sources", follow_redirects=False)
    assert response.status_code == 303
    assert _missing(response) == []


def test_api_answers_have_the_headers(client: TestClient, api_token: str) -> None:
    auth = {"Authorization": f"Bearer {api_token}"}
    answers = {
        "health": client.get("/api/health"),
        "me": client.get("/api/me", headers=auth),
        "401": client.get("/api/me"),
        "404": client.get("/api/sources/nothing", headers=auth),
        "422": client.get("/api/runs?limit=many", headers=auth),
        "unknown path": client.get("/api/no-such-thing", headers=auth),
    }
    assert answers["me"].status_code == 200 and answers["401"].status_code == 401
    wrong = {name: _missing(r) for name, r in answers.items() if _missing(r)}
    assert wrong == {}


def test_static_files_have_the_headers_and_may_be_cached(client: TestClient) -> None:
    for path in ("/static/app.css", "/static/app.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert _missing(response, cached=True) == [], path
    assert _missing(client.get("/static/nothing.js")) == []


def test_unexpected_errors_have_the_headers(web_app: FastAPI) -> None:
    def broken() -> None:
        raise KeyError("internal detail")

    web_app.add_api_route("/broken", broken)
    web_app.add_api_route("/api/broken", broken)
    with TestClient(web_app, raise_server_exceptions=False) as client:
        Browser(client).login()
        page, api = client.get("/broken"), client.get("/api/broken")
    assert page.status_code == api.status_code == 500
    assert _missing(page) == [] and _missing(api) == []
