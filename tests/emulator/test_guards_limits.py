"""Rate limits of the emulator: per category, per user per app, windows on the emulator clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import (
    DEFAULT_USER_ID,
    LARGE_ADVERTISER_ID,
    SECOND_USER_ID,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from pinads.emulator.guards import RATE_LIMIT_BODY, guards_of, install, resolve_operation
from pinads.emulator.limits import STANDARD_TIER_PER_MINUTE, RateLimitConfig, RateLimiter
from pinads.emulator.spec import extract

from .conftest import TODAY, MintHeaders
from .schema import assert_response_matches_spec

CAMPAIGNS = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
ADS = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/ads"
USER = "/v5/user_account"
LIMITS = RateLimitConfig().scaled(window_seconds=60, per_window={"ads_read": 5, "org_read": 3})


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, today=TODAY, rate_limits=LIMITS)


@pytest.fixture
def emulator_app(emulator_config: EmulatorConfig) -> Starlette:
    app = create_app(emulator_config)
    install(app)  # idempotent: create_app may already have done it
    return app


def _validate_operations(response: httpx.Response) -> None:
    """Schema-check every answer to a spec operation (unknown paths are not in the spec)."""
    request = response.request
    if resolve_operation(request.method, request.url.path) is not None:
        response.read()
        assert_response_matches_spec(response)


@pytest.fixture
def client(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emulator_transport,
        base_url="http://emulator.test",
        event_hooks={"response": [_validate_operations]},
    ) as http:
        yield http


def _exhaust(client: httpx.Client, path: str, headers: dict[str, str], n: int) -> None:
    for _ in range(n):
        assert client.get(path, headers=headers).status_code == 200


def test_defaults_are_pinterest_standard_tier() -> None:
    limits = RateLimitConfig()
    assert limits.window_seconds == 60
    assert limits.limit_for("ads_analytics") == 300
    assert limits.limit_for("ads_read") == 1000
    assert limits.limit_for("org_read") == 1000
    assert limits.categories == dict(STANDARD_TIER_PER_MINUTE)
    assert RateLimitConfig(enabled=False).limit_for("ads_read") is None
    with pytest.raises(ValueError, match="ads_read"):
        RateLimitConfig(categories={"ads_read": -1})


def test_429_after_the_quota_with_pinterest_body_and_headers(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    remaining = []
    for _ in range(5):
        response = client.get(CAMPAIGNS, headers=headers)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "5, 5;w=60"
        assert "x-ratelimit-reset" not in response.headers
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]

    refused = client.get(CAMPAIGNS, headers=headers)
    assert refused.status_code == 429
    assert refused.json() == RATE_LIMIT_BODY
    assert refused.json()["code"] == 8
    assert refused.headers["x-ratelimit-limit"] == "5, 5;w=60"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 0 < int(refused.headers["x-ratelimit-reset"]) <= 60
    assert refused.headers["content-type"] == "application/json"
    assert_response_matches_spec(refused)
    # Refused requests do not use up more quota and keep being refused within the window.
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429


def test_window_resets_when_the_clock_moves_past_it(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _exhaust(client, CAMPAIGNS, headers, 5)
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429
    client.post("/_emulator/clock", json={"advance_seconds": 30})
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429
    client.post("/_emulator/clock", json={"advance_seconds": 31})
    again = client.get(CAMPAIGNS, headers=headers)
    assert again.status_code == 200
    assert again.headers["x-ratelimit-remaining"] == "4"


def test_operations_of_one_category_share_its_quota(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _exhaust(client, CAMPAIGNS, headers, 3)
    _exhaust(client, ADS, headers, 2)
    assert client.get(f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}", headers=headers).status_code == 429


def test_categories_are_independent(client: httpx.Client, headers: dict[str, str]) -> None:
    _exhaust(client, CAMPAIGNS, headers, 5)
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429
    user = client.get(USER, headers=headers)
    assert user.status_code == 200
    assert user.headers["x-ratelimit-limit"] == "3, 3;w=60"
    assert user.headers["x-ratelimit-remaining"] == "2"


def test_users_and_apps_have_their_own_quota(client: httpx.Client, mint: MintHeaders) -> None:
    first, second = mint(DEFAULT_USER_ID), mint(SECOND_USER_ID)
    _exhaust(client, USER, first, 3)
    assert client.get(USER, headers=first).status_code == 429
    # Another token of the same user and app shares the quota...
    assert client.get(USER, headers=mint(DEFAULT_USER_ID)).status_code == 429
    # ...another user does not...
    assert client.get(USER, headers=second).status_code == 200
    # ...nor does the same user through another app.
    other_app = client.post(
        "/_emulator/tokens", json={"user_id": DEFAULT_USER_ID, "app_id": "another-app"}
    ).json()["access_token"]
    assert client.get(USER, headers={"Authorization": f"Bearer {other_app}"}).status_code == 200


def test_requests_without_a_valid_token_are_limited_per_client(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.get(USER).status_code == 401
    assert client.get(USER, headers={"Authorization": "Bearer nope"}).status_code == 429


def test_unlisted_categories_and_disabled_limits_are_unlimited(
    emulator_app: Starlette, client: httpx.Client, headers: dict[str, str]
) -> None:
    guards = guards_of(emulator_app)
    guards.limiter = RateLimiter(RateLimitConfig(enabled=False))
    for _ in range(8):
        response = client.get(USER, headers=headers)
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers
    guards.limiter = RateLimiter(RateLimitConfig(categories={"ads_read": 1}))
    _exhaust(client, USER, headers, 8)
    _exhaust(client, CAMPAIGNS, headers, 1)
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429


def test_rate_limits_can_be_replaced_at_run_time(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    body = {"window_seconds": 1, "categories": {"org_read": 1}}
    set_limits = client.post("/_emulator/rate-limits", json=body)
    assert set_limits.status_code == 200
    assert set_limits.json()["categories"] == {"org_read": 1}
    assert client.get(USER, headers=headers).headers["x-ratelimit-limit"] == "1, 1;w=1"
    assert client.get(USER, headers=headers).status_code == 429
    assert client.get("/_emulator/rate-limits").json()["window_seconds"] == 1
    bad = client.post("/_emulator/rate-limits", json={"window_seconds": 0})
    assert bad.status_code == 400
    assert bad.json()["code"] == 1
    assert "greater than 0" in bad.json()["message"]


def test_universal_cap_per_second(client: httpx.Client, headers: dict[str, str]) -> None:
    client.post("/_emulator/rate-limits", json={"universal_per_second": 2})
    _exhaust(client, USER, headers, 1)
    _exhaust(client, CAMPAIGNS, headers, 1)
    refused = client.get(CAMPAIGNS, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-limit"] == "2, 2;w=1"
    client.post("/_emulator/clock", json={"advance_seconds": 1})
    assert client.get(CAMPAIGNS, headers=headers).status_code == 200


def test_stats_count_requests_operations_categories_and_429s(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _exhaust(client, CAMPAIGNS, headers, 5)
    client.get(CAMPAIGNS, headers=headers)
    client.get(USER, headers=headers)
    client.get("/v5/no_such_thing", headers=headers)
    stats = client.get("/_emulator/stats").json()
    assert stats["requests"] == 7
    assert stats["operations"] == {"campaigns/list": 6, "user_account/get": 1}
    assert stats["categories"] == {"ads_read": 6, "org_read": 1}
    assert stats["statuses"] == {"200": 6, "429": 1}
    assert stats["rate_limited"] == 1
    assert stats["rate_limited_by_category"] == {"ads_read": 1}
    assert set(stats["faults"].values()) == {0}

    cleared = client.post("/_emulator/stats/reset").json()
    assert cleared["requests"] == 0
    # Clearing the counters leaves the quota windows alone...
    assert client.get(CAMPAIGNS, headers=headers).status_code == 429
    # ...while /_emulator/reset starts everything afresh (tokens too).
    client.post("/_emulator/reset")
    assert client.get("/_emulator/stats").json()["requests"] == 0
    fresh = client.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    auth = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.get(CAMPAIGNS, headers=auth).status_code == 200


def test_every_response_carries_a_distinct_request_id(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    responses = [
        client.get(USER, headers=headers),
        client.get(USER),
        client.get("/v5/nothing/here"),
        client.get("/_emulator/stats"),
        client.get("/oauth/", params={"client_id": "x"}),
    ]
    ids = [response.headers["x-pinterest-rid"] for response in responses]
    assert all(len(rid) == 16 for rid in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("op_id", sorted(extract()["operations"]))
def test_every_implemented_operation_resolves_from_a_concrete_path(op_id: str) -> None:
    op = extract()["operations"][op_id]
    path = "/v5" + op["path"].replace("{ad_account_id}", LARGE_ADVERTISER_ID)
    resolved = resolve_operation(op["method"], path)
    assert resolved is not None
    assert (resolved.operation_id, resolved.category) == (op_id, op["ratelimit_category"])
    assert resolve_operation(op["method"], path + "/") == resolved


def test_non_operations_do_not_resolve() -> None:
    assert resolve_operation("GET", "/v5/ad_accounts/1/campaigns/extra") is None
    assert resolve_operation("DELETE", f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}") is None
    assert resolve_operation("GET", "/_emulator/stats") is None
    assert resolve_operation("GET", "/v5x/user_account") is None
    # literal segments win over parameters: .../ads/analytics is not "ads of account".
    analytics = resolve_operation("GET", f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/ads/analytics")
    assert analytics is not None
    assert analytics.operation_id == "ads/analytics"
