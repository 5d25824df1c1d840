"""User account and ad accounts: roles, currencies, shared accounts, paging, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinads.emulator import (
    AUDIENCE_ONLY_ADVERTISER_ID,
    EUR_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    SECOND_USER_ID,
    THIRD_USER_ID,
    EmulatorServer,
)


def _all_accounts(
    client: httpx.Client, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    bookmark = None
    for _ in range(20):
        query = {**params, **({"bookmark": bookmark} if bookmark else {})}
        body = client.get("/v5/ad_accounts", headers=headers, params=query).json()
        items.extend(body["items"])
        bookmark = body["bookmark"]
        if bookmark is None:
            return items
    raise AssertionError("paging did not end")


def test_default_user_sees_owned_and_shared_accounts(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    accounts = {a["id"]: a for a in _all_accounts(client, headers, page_size=2)}
    assert accounts[LARGE_ADVERTISER_ID]["permissions"] == ["OWNER"]
    assert accounts[FINANCE_ONLY_ADVERTISER_ID]["permissions"] == ["FINANCE_MANAGER"]
    assert accounts[AUDIENCE_ONLY_ADVERTISER_ID]["permissions"] == ["AUDIENCE_MANAGER"]
    currencies = {a["currency"] for a in accounts.values()}
    assert {"USD", "EUR", "GBP", "JPY"} <= currencies
    large = accounts[LARGE_ADVERTISER_ID]
    assert large["owner"]["id"] == "1000000000000001"
    assert isinstance(large["created_time"], int)


def test_include_shared_accounts_false_keeps_only_owned(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    shared = _all_accounts(client, headers, page_size=250)
    owned = _all_accounts(client, headers, include_shared_accounts="false")
    assert len(owned) < len(shared)
    assert all(a["permissions"] == ["OWNER"] for a in owned)


def test_paging_walks_every_account_once(client: httpx.Client, headers: dict[str, str]) -> None:
    one_by_one = [a["id"] for a in _all_accounts(client, headers, page_size=1)]
    at_once = [a["id"] for a in _all_accounts(client, headers, page_size=250)]
    assert one_by_one == at_once
    assert len(set(at_once)) == len(at_once) >= 6


@pytest.mark.parametrize("page_size", ["0", "251", "x"])
def test_page_size_out_of_range_is_400(
    client: httpx.Client, headers: dict[str, str], page_size: str
) -> None:
    response = client.get("/v5/ad_accounts", headers=headers, params={"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "Invalid parameters."}


def test_forged_bookmark_is_400(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(
        "/v5/ad_accounts", headers=headers, params={"bookmark": "bm90LWEtYm9va21hcms"}
    )
    assert response.status_code == 400


def test_get_one_account_and_roles_per_user(client: httpx.Client, mint: Any) -> None:
    mine = client.get(f"/v5/ad_accounts/{EUR_ADVERTISER_ID}", headers=mint())
    assert mine.status_code == 200
    assert mine.json()["currency"] == "EUR"
    as_second = client.get(f"/v5/ad_accounts/{EUR_ADVERTISER_ID}", headers=mint(SECOND_USER_ID))
    assert as_second.json()["permissions"] == ["ADMIN"]
    stranger = client.get(f"/v5/ad_accounts/{EUR_ADVERTISER_ID}", headers=mint(THIRD_USER_ID))
    assert stranger.status_code == 403
    assert stranger.json() == {
        "code": 29,
        "message": "You are not permitted to access that resource.",
    }


def test_unknown_and_malformed_account_ids(client: httpx.Client, headers: dict[str, str]) -> None:
    unknown = client.get("/v5/ad_accounts/123456789", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"code": 2, "message": "AdAccount not found."}
    malformed = client.get("/v5/ad_accounts/12ab", headers=headers)
    assert malformed.status_code == 400


def test_user_account_shape(client: httpx.Client, headers: dict[str, str]) -> None:
    body = client.get("/v5/user_account", headers=headers).json()
    assert body["account_type"] == "BUSINESS"
    assert body["id"] == "1000000000000001"
    assert body["username"]


def test_server_serves_over_loopback(emulator_server: EmulatorServer) -> None:
    assert emulator_server.api_url == emulator_server.base_url + "/v5"
    minted = httpx.post(
        emulator_server.base_url + "/_emulator/tokens", json={"user_id": SECOND_USER_ID}
    )
    token = minted.json()["access_token"]
    response = httpx.get(
        emulator_server.api_url + "/user_account", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["id"] == SECOND_USER_ID
    assert emulator_server.state.identify(token) is not None


def test_server_stops_cleanly_and_frees_its_port() -> None:
    server = EmulatorServer()
    with server:
        url = server.base_url
        assert httpx.get(url + "/_emulator/clock").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_emulator/clock", timeout=2)
