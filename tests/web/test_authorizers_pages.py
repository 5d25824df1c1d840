"""Authorizers pages: OAuth through the emulator's consent page and our callback, list, edit
label, test, revoke, delete, import a refresh token."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pinads.auth import AuthorizerService
from pinads.auth.tokens import seal_tokens, tokens_of
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SECOND_USER_ID,
    EmulatorServer,
)
from pinads.settings import load_settings

from .conftest import Browser


def consent_url(start: httpx.Response) -> str:
    """Where our page sends the browser on (a page, not a redirect: see `_to_consent`)."""
    assert start.status_code == 200, start.text
    found = re.search(r'id="consent-link" href="([^"]+)"', start.text)
    assert found, "no link to the consent page"
    return html.unescape(found.group(1))


def _authorize(browser: Browser, emulator: EmulatorServer, *, user_id: str, label: str = "") -> str:
    """Start on our page, approve on the emulator's consent form, come back to our callback."""
    start = browser.post_form(
        "/authorizers/new",
        {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "api_url": emulator.api_url,
            "label": label,
            "scopes": ["ads:read", "user_accounts:read"],
        },
        follow_redirects=False,
    )
    consent = consent_url(start)
    assert consent.startswith(f"{emulator.base_url}/oauth/")
    query = parse_qs(urlsplit(consent).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/authorizers/callback"]
    form = httpx.get(consent).text
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    approved = httpx.post(
        f"{emulator.base_url}/oauth/",
        data={**fields, "user_id": user_id, "decision": "approve"},
        follow_redirects=False,
    )
    callback = approved.headers["location"]
    assert callback.startswith("http://127.0.0.1:8000/authorizers/callback?")
    done = browser.client.get(
        callback.removeprefix("http://127.0.0.1:8000"), follow_redirects=False
    )
    assert done.status_code == 303, done.text
    location: str = done.headers["location"]
    return location


def test_authorize_through_the_consent_page_then_manage(
    browser: Browser, emulator_server: EmulatorServer
) -> None:
    target = _authorize(browser, emulator_server, user_id=DEFAULT_USER_ID, label="shop")
    assert target == "/authorizers"
    listing = browser.client.get("/authorizers").text
    assert "Authorizer shop saved." in listing
    assert ">shop</a>" in listing and "ads:read" in listing and "active" in listing
    with AuthorizerService(load_settings()) as service:
        (saved,) = service.list()
    assert saved.pinterest_user_id == DEFAULT_USER_ID

    page = browser.client.get(f"/authorizers/{saved.id}")
    assert page.status_code == 200 and '<label for="new_label">' in page.text
    renamed = browser.post_form(f"/authorizers/{saved.id}/rename", {"label": "shop2"})
    assert "Renamed to shop2." in renamed.text

    tested = browser.post_form(f"/authorizers/{saved.id}/test", {})
    assert tested.status_code == 200
    assert "Test passed" in tested.text and "Your roles" in tested.text

    revoked = browser.post_form(f"/authorizers/{saved.id}/revoke", {})
    assert "Revoked at Pinterest and here" in revoked.text
    listing = browser.client.get("/authorizers").text
    assert "needs re-authorization (revoked): reauthorize it" in listing

    deleted = browser.post_form(f"/authorizers/{saved.id}/delete", {})
    assert "Authorizer shop2 deleted." in deleted.text
    with AuthorizerService(load_settings()) as service:
        assert service.list() == []


def test_reauthorize_goes_through_consent_again(
    browser: Browser, emulator_server: EmulatorServer
) -> None:
    _authorize(browser, emulator_server, user_id=DEFAULT_USER_ID, label="shop")
    with AuthorizerService(load_settings()) as service:
        (saved,) = service.list()
        service.revoke(saved.id)
    start = browser.post_form(f"/authorizers/{saved.id}/reauthorize", {}, follow_redirects=False)
    form = httpx.get(consent_url(start)).text
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    approved = httpx.post(
        f"{emulator_server.base_url}/oauth/",
        data={**fields, "user_id": DEFAULT_USER_ID, "decision": "approve"},
        follow_redirects=False,
    )
    done = browser.client.get(
        approved.headers["location"].removeprefix("http://127.0.0.1:8000"), follow_redirects=False
    )
    assert done.headers["location"] == f"/authorizers/{saved.id}"
    with AuthorizerService(load_settings()) as service:
        assert not service.get(saved.id).is_revoked


def test_denied_consent_stores_nothing_and_says_so(
    browser: Browser, emulator_server: EmulatorServer
) -> None:
    start = browser.post_form(
        "/authorizers/new",
        {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "api_url": emulator_server.api_url,
        },
        follow_redirects=False,
    )
    form = httpx.get(consent_url(start)).text
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    denied = httpx.post(
        f"{emulator_server.base_url}/oauth/",
        data={**fields, "decision": "deny"},
        follow_redirects=False,
    )
    page = browser.client.get(denied.headers["location"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 409
    assert "denied" in page.text and "nothing was stored" in page.text
    with AuthorizerService(load_settings()) as service:
        assert service.list() == []


def test_forged_callback_state_is_refused(browser: Browser) -> None:
    page = browser.client.get("/authorizers/callback?code=abc&state=forged")
    assert page.status_code == 409
    assert "unknown or expired" in page.text


@pytest.mark.parametrize("user_id", [SECOND_USER_ID])
def test_import_refresh_token(
    browser: Browser, emulator_server: EmulatorServer, user_id: str
) -> None:
    minted = httpx.post(
        f"{emulator_server.base_url}/_emulator/tokens", json={"user_id": user_id}
    ).json()
    response = browser.post_form(
        "/authorizers/import",
        {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": minted["refresh_token"],
            "api_url": emulator_server.api_url,
            "label": "imported",
        },
    )
    assert response.status_code == 200
    assert "Authorizer imported saved." in response.text
    assert minted["refresh_token"] not in response.text


def test_authorizer_delete_refused_while_a_source_uses_it(
    browser: Browser, authorizer: str, tmp_path: object
) -> None:
    from pinads.runner import service as runs

    runs.create_source(
        {"name": "shop", "dataset": "campaigns", "authorizer": authorizer},
        settings=load_settings(),
    )
    with AuthorizerService(load_settings()) as service:
        (saved,) = service.list()
    response = browser.post_form(f"/authorizers/{saved.id}/delete", {})
    assert response.status_code == 400
    assert "is used by source(s) shop" in response.text


def _expire_in(days: int) -> int:
    """Make the only authorizer's refresh token end `days` days from now (as Pinterest would
    have said when it was issued); its id."""
    with AuthorizerService(load_settings()) as service:
        (saved,) = service.list()
        tokens = tokens_of(service.box, service.db.authorizers.get(saved.id))
        soon = tokens.model_copy(
            update={"refresh_expires_at": datetime.now(UTC) + timedelta(days=days, hours=1)}
        )
        service.db.authorizers.save_tokens(saved.id, seal_tokens(service.box, soon))
        return saved.id


def test_expiry_warnings_on_authorizers_sources_and_wizard_until_test_renews(
    browser: Browser, authorizer: str, tmp_path: object
) -> None:
    from pinads.runner import service as runs

    runs.create_source(
        {"name": "shop", "dataset": "campaigns", "authorizer": authorizer},
        settings=load_settings(),
    )
    assert "warning" not in browser.client.get("/sources").text
    authorizer_id = _expire_in(3)
    expected = "the refresh token expires in 3 day(s): press Test on the authorizer to renew it"
    listing = browser.client.get("/authorizers").text
    assert f'<span class="badge warning">{expected}' in listing
    sources = browser.client.get("/sources").text
    assert f'Authorizer <a href="/authorizers/{authorizer_id}">demo</a>: {expected}' in sources
    detail = browser.client.get(f"/authorizers/{authorizer_id}").text
    assert expected in detail
    wizard = browser.client.get("/sources/new").text
    draft = '{"name": "other", "dataset": "campaigns"}'
    account = browser.post_form(
        "/sources/new",
        {"draft": draft, "step": "account", "nav": "refresh", "authorizer": "demo"},
    ).text
    assert "sources/new" in wizard and 'id="authorizer-warning"' in account
    assert f"demo: {expected}" in account
    # Test refreshes the tokens, and Pinterest's refresh gives the refresh token a new life.
    tested = browser.post_form(f"/authorizers/{authorizer_id}/test", {}).text
    assert "Test passed" in tested and expected not in tested
    assert "warning" not in browser.client.get("/sources").text


def test_expired_authorizer_says_reauthorize(browser: Browser, authorizer: str) -> None:
    _expire_in(-2)
    listing = browser.client.get("/authorizers").text
    assert "needs re-authorization (the refresh token expired): reauthorize" in listing
