"""Server-side sessions: the cookie carries only a random id (its hash is stored); logout and
a password change revoke it; idle timeout and absolute lifetime, with time moved by an
injected clock; expired sessions are refused and deleted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pinads.cli import app as cli_app
from pinads.errors import ConfigError
from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import SESSION_COOKIE, create_app
from pinads.web.users import WebUsers

from .conftest import ADMIN, PASSWORD, Browser, csrf_of

NEW_PASSWORD = "a brand new passphrase"


class Clock:
    """The time the app sees; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_app(web_store: WebUsers, clock: Clock) -> FastAPI:
    return create_app(load_settings(), clock=clock)


@pytest.fixture
def clocked(clocked_app: FastAPI) -> Iterator[Browser]:
    with TestClient(clocked_app, base_url="http://127.0.0.1:8000") as client:
        session = Browser(client)
        assert session.login().status_code == 303
        yield session


def _cookie(browser: Browser) -> str:
    value: str | None = browser.client.cookies.get(SESSION_COOKIE)
    assert value, "no session cookie"
    return value


def _logged_in_with(app: FastAPI, cookie: str) -> bool:
    """Whether a request carrying only `cookie` is let in (page and API)."""
    with TestClient(app, base_url="http://127.0.0.1:8000") as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        page: httpx.Response = other.get("/sources", follow_redirects=False)
        api = other.get("/api/me")
    assert (page.status_code == 200) == (api.status_code == 200), (page, api)
    return page.status_code == 200


def _stored_sessions() -> list[str]:
    store = WebUsers(open_control_db(load_settings()))
    try:
        with store.db.engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT id_sha256 FROM web_sessions")).scalars())
    finally:
        store.db.close()


def test_the_cookie_is_a_random_id_and_only_its_hash_is_stored(browser: Browser) -> None:
    cookie = _cookie(browser)
    assert len(cookie) >= 40 and "." not in cookie  # no signed payload, just the id
    assert _stored_sessions() == [hashlib.sha256(cookie.encode()).hexdigest()]


def test_logout_revokes_the_session(web_app: FastAPI, browser: Browser) -> None:
    old = _cookie(browser)
    assert _logged_in_with(web_app, old)
    response = browser.post_form("/logout", {}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not _logged_in_with(web_app, old)
    assert _stored_sessions() == []


def test_a_new_login_replaces_the_session_id(web_app: FastAPI, browser: Browser) -> None:
    before = _cookie(browser)
    assert browser.login().status_code == 303
    assert _cookie(browser) != before
    assert not _logged_in_with(web_app, before)


def test_changing_the_password_logs_out_every_other_session(
    web_app: FastAPI, client: TestClient, browser: Browser
) -> None:
    with TestClient(web_app, base_url="http://127.0.0.1:8000") as laptop_client:
        laptop = Browser(laptop_client)
        laptop.login()
        laptop_cookie, mine = _cookie(laptop), _cookie(browser)
        page = browser.client.get("/account")
        assert page.status_code == 200 and '<label for="new_password">' in page.text
        changed = browser.post_form(
            "/account/password",
            {"current": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
        )
        assert changed.status_code == 200
        assert "Password changed" in changed.text
    assert not _logged_in_with(web_app, laptop_cookie)
    assert not _logged_in_with(web_app, mine)
    # This browser goes on with a new session.
    assert _cookie(browser) != mine and browser.client.get("/api/me").status_code == 200
    again = Browser(client)
    assert again.login(ADMIN, PASSWORD).status_code == 401
    assert again.login(ADMIN, NEW_PASSWORD).status_code == 303


def test_the_password_form_refuses_mistakes(browser: Browser) -> None:
    cases = {
        "the current password is wrong": ("not-it-at-all", NEW_PASSWORD, NEW_PASSWORD),
        "the new passwords differ": (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"),
        "the password is too short": (PASSWORD, "short", "short"),
    }
    for message, (current, new, repeat) in cases.items():
        response = browser.post_form(
            "/account/password", {"current": current, "new_password": new, "repeat": repeat}
        )
        assert response.status_code == 400, message
        assert message in response.text, message
    assert browser.client.get("/api/me").status_code == 200  # still logged in


def test_set_password_on_the_command_line_revokes_the_sessions(
    web_app: FastAPI, browser: Browser
) -> None:
    old = _cookie(browser)
    result = CliRunner().invoke(
        cli_app, ["users", "set-password", ADMIN, "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "new password set for admin; its web sessions were logged out" in result.output
    assert not _logged_in_with(web_app, old)


def test_set_password_of_an_unknown_user_says_how_to_create_it() -> None:
    result = CliRunner().invoke(
        cli_app, ["users", "set-password", "nobody", "--password-stdin"], input="whatever-1234\n"
    )
    assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 2
    assert "no user 'nobody': create it with `pinads users create nobody`" in str(result.exception)


def test_an_idle_session_expires(clocked_app: FastAPI, clocked: Browser, clock: Clock) -> None:
    cookie = _cookie(clocked)
    for _ in range(3):  # used every 7 h: still valid after 21 h
        clock.advance(hours=7)
        assert _logged_in_with(clocked_app, cookie)
    clock.advance(hours=8, minutes=1)
    assert not _logged_in_with(clocked_app, cookie)
    assert _stored_sessions() == []  # refused and deleted


def test_a_session_in_use_ends_at_its_absolute_lifetime(
    clocked_app: FastAPI, clocked: Browser, clock: Clock
) -> None:
    cookie = _cookie(clocked)
    for _ in range(7 * 24 // 6 - 1):  # every 6 h, never idle, for 6 days and 18 h
        clock.advance(hours=6)
        assert _logged_in_with(clocked_app, cookie)
    clock.advance(hours=5, minutes=59)
    assert _logged_in_with(clocked_app, cookie)
    clock.advance(minutes=2)  # 7 days after the login
    assert not _logged_in_with(clocked_app, cookie)


def test_an_expired_session_sends_the_page_to_the_login(clocked: Browser, clock: Clock) -> None:
    clock.advance(hours=9)
    response = clocked.client.get("/sources", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # The browser is told to drop the dead cookie.
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert clocked.login().status_code == 303  # and can log in again


def test_session_limits_come_from_the_environment(
    web_store: WebUsers, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINADS_SESSION_IDLE_MINUTES", "5")
    app = create_app(load_settings(), clock=clock)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        session = Browser(client)
        session.login()
        clock.advance(minutes=4)
        assert client.get("/api/me").status_code == 200
        clock.advance(minutes=6)
        assert client.get("/api/me").status_code == 401


def test_a_bad_session_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINADS_SESSION_LIFETIME_HOURS", "forever")
    with pytest.raises(ConfigError, match="PINADS_SESSION_LIFETIME_HOURS"):
        create_app(load_settings())


def test_the_login_form_works_before_any_session(client: TestClient) -> None:
    """The login form's CSRF token lives in a cookie of its own before a session exists:
    an anonymous visit writes nothing to the control DB."""
    page = client.get("/login")
    assert _stored_sessions() == []
    forged = client.post(
        "/login", data={"csrf_token": "forged", "username": ADMIN, "password": PASSWORD}
    )
    assert forged.status_code == 403
    response = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": ADMIN, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert len(_stored_sessions()) == 1
