"""Web fixtures: the app on a temporary PINADS_HOME, a logged-in TestClient, an API token, and
an authorizer on a loopback emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.users import WebUsers

if TYPE_CHECKING:
    pass

ADMIN = "admin"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


class Browser:
    """A TestClient that logs in and posts forms with the page's CSRF token.

    Responses are annotated by hand: starlette types TestClient against `httpx2`, which is not
    installed, so its methods are `Any` to mypy.
    """

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, username: str = ADMIN, password: str = PASSWORD) -> httpx.Response:
        page = self.client.get("/login")
        response: httpx.Response = self.client.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
            follow_redirects=False,
        )
        self.refresh_csrf()
        return response

    def refresh_csrf(self) -> None:
        self.csrf = csrf_of(self.client.get("/login").text)

    def post_form(self, url: str, data: dict[str, object], **kwargs: object) -> httpx.Response:
        response: httpx.Response = self.client.post(
            url, data={"csrf_token": self.csrf, **data}, **kwargs
        )
        return response


@pytest.fixture
def web_store() -> Iterator[WebUsers]:
    store = WebUsers(open_control_db(load_settings()))
    store.set_user(ADMIN, PASSWORD)
    yield store
    store.db.close()


@pytest.fixture
def web_app(web_store: WebUsers) -> Iterator[FastAPI]:
    yield create_app(load_settings())


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def browser(client: TestClient) -> Browser:
    session = Browser(client)
    response = session.login()
    assert response.status_code == 303
    return session


@pytest.fixture
def api_token(web_store: WebUsers) -> str:
    return web_store.create_token(name="tests", username=ADMIN)
