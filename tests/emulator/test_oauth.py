"""OAuth 2.0 flows of the emulator: consent, code exchange, refresh rotation, expiry, revoke."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SECOND_USER_ID,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)

from .conftest import checked_client

REDIRECT = "http://127.0.0.1:8765/callback"
BASIC = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
CONSENT = {
    "client_id": DEMO_CLIENT_ID,
    "redirect_uri": REDIRECT,
    "response_type": "code",
    "scope": "ads:read,user_accounts:read",
    "state": "st-123",
}
AUTH_FAILED = {"code": 2, "message": "Authentication failed."}


def _approve(client: httpx.Client, user_id: str = DEFAULT_USER_ID) -> str:
    response = client.post("/oauth/", data={**CONSENT, "decision": "approve", "user_id": user_id})
    assert response.status_code == 302
    location = httpx.URL(response.headers["location"])
    assert str(location).startswith(REDIRECT + "?")
    assert location.params["state"] == "st-123"
    return location.params["code"]


def _exchange(client: httpx.Client, code: str, redirect: str = REDIRECT) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    return client.post("/v5/oauth/token", data=form, auth=BASIC)


def _refresh(client: httpx.Client, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, "continuous_refresh": "true"}
    return client.post("/v5/oauth/token", data=form, auth=BASIC)


def _me(client: httpx.Client, access_token: str) -> httpx.Response:
    return client.get("/v5/user_account", headers={"Authorization": f"Bearer {access_token}"})


def test_consent_page_lists_users_and_buttons(client: httpx.Client) -> None:
    page = client.get("/oauth/", params=CONSENT)
    assert page.status_code == 200
    assert 'value="approve"' in page.text and 'value="deny"' in page.text
    for user_id in (DEFAULT_USER_ID, SECOND_USER_ID):
        assert f'value="{user_id}"' in page.text


def test_code_flow_gives_tokens_for_the_chosen_user(client: httpx.Client) -> None:
    response = _exchange(client, _approve(client, SECOND_USER_ID))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "bearer"
    assert body["response_type"] == "authorization_code"
    assert body["expires_in"] == 30 * 86400
    assert body["refresh_token_expires_in"] == 60 * 86400
    assert set(body["scope"].split(",")) == {"ads:read", "user_accounts:read"}
    assert _me(client, body["access_token"]).json()["id"] == SECOND_USER_ID


def test_deny_redirects_with_access_denied(client: httpx.Client) -> None:
    response = client.post("/oauth/", data={**CONSENT, "decision": "deny"})
    assert response.status_code == 302
    params = httpx.URL(response.headers["location"]).params
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert "code" not in params


def test_auto_approve_redirects_at_once_as_default_user() -> None:
    transport = InProcessTransport(create_app(EmulatorConfig(auto_approve=True)))
    with checked_client(transport) as client:
        response = client.get("/oauth/", params=CONSENT)
        assert response.status_code == 302
        code = httpx.URL(response.headers["location"]).params["code"]
        token = _exchange(client, code).json()["access_token"]
        assert _me(client, token).json()["id"] == DEFAULT_USER_ID
    transport.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("redirect_uri", "https://evil.example/cb"),
        ("client_id", "someone-else"),
        ("response_type", "token"),
        ("scope", ""),
    ],
)
def test_bad_consent_request_is_shown_not_redirected(
    client: httpx.Client, field: str, value: str
) -> None:
    response = client.get("/oauth/", params={**CONSENT, field: value})
    assert response.status_code == 400
    assert "location" not in response.headers


def test_wrong_client_secret_is_401(client: httpx.Client) -> None:
    code = _approve(client)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    response = client.post("/v5/oauth/token", data=form, auth=(DEMO_CLIENT_ID, "wrong"))
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED
    no_auth = client.post("/v5/oauth/token", data=form)
    assert no_auth.status_code == 401


def test_code_is_single_use(client: httpx.Client) -> None:
    code = _approve(client)
    assert _exchange(client, code).status_code == 200
    again = _exchange(client, code)
    assert again.status_code == 400
    assert again.json()["code"] == 1


def test_code_expires_after_ten_minutes(client: httpx.Client) -> None:
    code = _approve(client)
    client.post("/_emulator/clock", json={"advance_seconds": 601})
    assert _exchange(client, code).status_code == 400


def test_redirect_uri_must_equal_the_consent_one(client: httpx.Client) -> None:
    response = _exchange(client, _approve(client), redirect="http://127.0.0.1:8765/other")
    assert response.status_code == 400
    assert response.json() == {
        "code": 1,
        "message": "redirect_uri does not match the one used at consent.",
    }


def test_refresh_rotates_and_old_refresh_token_stops_working(client: httpx.Client) -> None:
    first = _exchange(client, _approve(client)).json()
    second = _refresh(client, first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert body["response_type"] == "refresh_token"
    assert body["refresh_token"] != first["refresh_token"]
    assert body["refresh_token_expires_in"] == 60 * 86400
    assert body["refresh_token_expires_at"] > 0
    assert _me(client, body["access_token"]).status_code == 200
    replay = _refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json() == AUTH_FAILED
    assert _refresh(client, body["refresh_token"]).status_code == 200


def test_access_token_expires_after_its_lifetime(client: httpx.Client) -> None:
    tokens = _exchange(client, _approve(client)).json()
    client.post("/_emulator/clock", json={"advance_days": 29})
    assert _me(client, tokens["access_token"]).status_code == 200
    client.post("/_emulator/clock", json={"advance_days": 1.01})
    expired = _me(client, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == AUTH_FAILED
    # The refresh token (60 days) still works and gives a live access token.
    fresh = _refresh(client, tokens["refresh_token"]).json()["access_token"]
    assert _me(client, fresh).status_code == 200


def test_refresh_token_expires_after_sixty_days(client: httpx.Client) -> None:
    tokens = _exchange(client, _approve(client)).json()
    client.post("/_emulator/clock", json={"advance_days": 60.01})
    assert _refresh(client, tokens["refresh_token"]).status_code == 401


def test_configured_lifetimes_are_reported() -> None:
    config = EmulatorConfig(access_token_lifetime_days=1, refresh_token_lifetime_days=2)
    transport = InProcessTransport(create_app(config))
    with checked_client(transport) as client:
        body = _exchange(client, _approve(client)).json()
        assert body["expires_in"] == 86400
        assert body["refresh_token_expires_in"] == 2 * 86400
    transport.close()


def test_revoke_kills_access_and_refresh_tokens(client: httpx.Client) -> None:
    tokens = _exchange(client, _approve(client)).json()
    form = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    response = client.post("/v5/oauth/token/revoke", data=form, auth=BASIC)
    assert response.status_code == 200
    assert response.content == b""
    assert _me(client, tokens["access_token"]).status_code == 401
    assert _refresh(client, tokens["refresh_token"]).status_code == 401


def test_revoke_needs_client_auth(client: httpx.Client) -> None:
    tokens = _exchange(client, _approve(client)).json()
    form = {"token": tokens["access_token"], "token_type_hint": "access_token"}
    response = client.post("/v5/oauth/token/revoke", data=form, auth=(DEMO_CLIENT_ID, "x"))
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED
    assert _me(client, tokens["access_token"]).status_code == 200


def test_unknown_grant_type_and_json_body_are_400(client: httpx.Client) -> None:
    bad_grant = client.post("/v5/oauth/token", data={"grant_type": "password"}, auth=BASIC)
    assert bad_grant.status_code == 400
    as_json = client.post("/v5/oauth/token", json={"grant_type": "refresh_token"}, auth=BASIC)
    assert as_json.status_code == 400


def test_missing_scope_is_401_code_3(client: httpx.Client, mint: Any) -> None:
    no_ads = mint(scopes=("user_accounts:read",))
    response = client.get("/v5/ad_accounts", headers=no_ads)
    assert response.status_code == 401
    assert response.json() == {
        "code": 3,
        "message": "Your token does not have sufficient permissions to perform this operation. "
        "Please ensure your token is authorized with the correct set of scopes.",
    }
    assert client.get("/v5/user_account", headers=no_ads).status_code == 200
    no_user = mint(scopes=("ads:read",))
    assert client.get("/v5/user_account", headers=no_user).json()["code"] == 3


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_unknown_token_is_401_code_2(client: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/v5/ad_accounts", headers=headers)
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_reset_forgets_tokens(client: httpx.Client, mint: Any) -> None:
    headers = mint()
    assert client.get("/v5/ad_accounts", headers=headers).status_code == 200
    assert client.post("/_emulator/reset").status_code == 200
    assert client.get("/v5/ad_accounts", headers=headers).status_code == 401
