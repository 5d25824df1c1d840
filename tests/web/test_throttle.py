"""Login throttling: failed logins counted per user name and per client address over a
sliding window in the control DB; beyond the limit 429 with Retry-After (a readable message
on the login form, JSON on the API); a success resets the user's count; bad API tokens too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pinads.settings import load_settings
from pinads.web.app import create_app
from pinads.web.users import WebUsers

from .conftest import ADMIN, PASSWORD, Browser

WINDOW_SECONDS = 15 * 60


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(web_store: WebUsers, clock: Clock) -> FastAPI:
    web_store.set_user("bob", "bobs-password-1")
    return create_app(load_settings(), clock=clock)


def _client(app: FastAPI, address: str = "192.0.2.10") -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000", client=(address, 50000))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with _client(app) as test_client:
        yield test_client


def _statuses(browser: Browser, count: int, *, user: str = ADMIN) -> list[int]:
    return [browser.login(user, f"wrong-guess-{n}").status_code for n in range(count)]


def test_wrong_passwords_are_throttled_after_five(client: TestClient) -> None:
    browser = Browser(client)
    statuses = _statuses(browser, 60)
    assert statuses == [401] * 5 + [429] * 55
    refused = browser.login(ADMIN, PASSWORD)  # even the right password, while throttled
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= WINDOW_SECONDS
    assert 'id="login-error"' in refused.text
    assert "Too many failed logins" in refused.text and "try again in 15 minutes" in refused.text
    assert client.get("/sources", follow_redirects=False).status_code == 303


def test_the_window_slides(client: TestClient, clock: Clock) -> None:
    browser = Browser(client)
    _statuses(browser, 3)
    clock.now += timedelta(minutes=10)
    assert _statuses(browser, 3) == [401, 401, 429]
    retry = int(browser.login(ADMIN, "x" * 9).headers["retry-after"])
    assert retry == 5 * 60  # when the first three leave the window
    clock.now += timedelta(minutes=5, seconds=1)
    assert browser.login(ADMIN, PASSWORD).status_code == 303


def test_a_success_resets_the_users_count(client: TestClient) -> None:
    browser = Browser(client)
    assert _statuses(browser, 4) == [401] * 4
    assert browser.login(ADMIN, PASSWORD).status_code == 303
    assert _statuses(browser, 4) == [401] * 4


def test_the_user_limit_holds_from_every_address(app: FastAPI) -> None:
    with _client(app, "192.0.2.1") as first, _client(app, "192.0.2.2") as second:
        assert _statuses(Browser(first), 5) == [401] * 5
        assert Browser(second).login(ADMIN, "another-guess").status_code == 429
        # Other users are not affected.
        assert Browser(second).login("bob", "bobs-password-1").status_code == 303


def test_one_address_trying_many_users_is_throttled(app: FastAPI) -> None:
    with _client(app, "198.51.100.7") as attacker, _client(app, "192.0.2.3") as other:
        browser = Browser(attacker)
        statuses = [browser.login(f"user{n}", "guess-guess").status_code for n in range(25)]
        assert statuses == [401] * 20 + [429] * 5
        assert browser.login("bob", "bobs-password-1").status_code == 429
        assert Browser(other).login("bob", "bobs-password-1").status_code == 303


def test_the_counts_survive_a_restart(web_store: WebUsers, clock: Clock) -> None:
    with _client(create_app(load_settings(), clock=clock)) as first:
        _statuses(Browser(first), 5)
    with _client(create_app(load_settings(), clock=clock)) as second:
        assert Browser(second).login(ADMIN, PASSWORD).status_code == 429


def test_bad_api_tokens_are_throttled(client: TestClient, api_token: str) -> None:
    def call(token: str) -> httpx.Response:
        response: httpx.Response = client.get(
            "/api/me", headers={"Authorization": f"Bearer {token}"}
        )
        return response

    assert call(api_token).status_code == 200
    statuses = [call(f"pinads_not-a-token-{n}").status_code for n in range(25)]
    assert statuses == [401] * 20 + [429] * 5
    refused = call("pinads_one-more")
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 900
    assert "too many invalid API tokens" in refused.json()["detail"]


def test_limits_come_from_the_environment(
    web_store: WebUsers, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINADS_LOGIN_FAILURES_PER_USER", "2")
    with _client(create_app(load_settings(), clock=clock)) as client:
        assert _statuses(Browser(client), 3) == [401, 401, 429]
