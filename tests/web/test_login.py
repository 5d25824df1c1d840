"""Login, logout, sessions, CSRF on forms, first-start admin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import SESSION_COOKIE, create_app
from pinads.web.users import WebUsers

from .conftest import ADMIN, PASSWORD, Browser, csrf_of


def test_pages_redirect_to_login_when_logged_out(client: TestClient) -> None:
    for path in ("/", "/authorizers", "/sources", "/sources/new", "/authorizers/new"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_login_sets_an_httponly_samesite_cookie_and_opens_pages(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label for="password">' in page.text
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": ADMIN,
            "password": PASSWORD,
            "next": "/authorizers",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/authorizers"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/authorizers").status_code == 200


def test_wrong_password_is_refused(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": ADMIN, "password": "wrong-one!"},
    )
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert client.get("/sources", follow_redirects=False).status_code == 303


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": ADMIN, "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_forms_need_the_sessions_csrf_token(browser: Browser) -> None:
    response = browser.client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    response = browser.post_form("/logout", {}, follow_redirects=False)
    assert response.status_code == 303
    assert browser.client.get("/sources", follow_redirects=False).status_code == 303


def test_open_redirect_after_login_is_refused(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": ADMIN,
            "password": PASSWORD,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_first_start_creates_admin_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINADS_ADMIN_PASSWORD", "from-the-environment")
    with TestClient(create_app(load_settings())) as client:
        session = Browser(client)
        assert session.login(ADMIN, "from-the-environment").status_code == 303
    store = WebUsers(open_control_db(load_settings()))
    try:
        assert store.authenticate(ADMIN, "from-the-environment")
        assert not store.authenticate(ADMIN, "another-password")
    finally:
        store.db.close()


def test_login_page_says_how_to_create_the_first_user() -> None:
    with TestClient(create_app(load_settings())) as client:
        assert "pinads users create" in client.get("/login").text


def test_secure_cookies_are_sent_over_https_only(web_store: WebUsers) -> None:
    app = create_app(load_settings(), secure_cookies=True)
    with TestClient(app, base_url="https://pinads.example") as client:
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "username": ADMIN, "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith(SESSION_COOKIE) and "; secure" in cookie and "httponly" in cookie
        assert client.get("/sources").status_code == 200  # the browser sends it back over HTTPS
    with TestClient(app, base_url="http://pinads.example") as plain:
        page = plain.get("/login")
        plain.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "username": ADMIN, "password": PASSWORD},
        )
        # over plain HTTP the cookie is not sent back: still logged out
        assert plain.get("/sources", follow_redirects=False).status_code == 303
