"""Fault injection of the emulator, in-process: each kind, targeting, determinism, revocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    LARGE_ADVERTISER_ID,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from pinads.emulator.guards import RATE_LIMIT_BODY, guards_of, install
from pinads.emulator.limits import FAULT_KINDS, FaultConfig

from .conftest import TODAY
from .schema import assert_response_matches_spec

CAMPAIGNS = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
USER = "/v5/user_account"


@pytest.fixture
def emulator_app(emulator_config: EmulatorConfig) -> Starlette:
    app = create_app(emulator_config)
    install(app)
    return app


def _validate_json_answers(response: httpx.Response) -> None:
    """Schema-check `/v5` answers, except the bodies these tests corrupt on purpose (each
    test asserts those are not JSON)."""
    if not response.request.url.path.startswith("/v5/"):
        return
    response.read()
    try:
        orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return
    assert_response_matches_spec(response)


@pytest.fixture
def client(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emulator_transport,
        base_url="http://emulator.test",
        event_hooks={"response": [_validate_json_answers]},
    ) as http:
        yield http


def _set_faults(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/_emulator/faults", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _faults(client: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = client.get("/_emulator/stats").json()["faults"]
    return counts


@pytest.mark.parametrize(
    "case",
    [
        ("rate_limit_probability", 429, 8, RATE_LIMIT_BODY["message"]),
        (
            "server_error_probability",
            500,
            12,
            "Something went wrong on our end. Sorry about that.",
        ),
        (
            "unavailable_probability",
            503,
            12,
            "The service is temporarily unavailable. Please try again later.",
        ),
    ],
    ids=["429", "500", "503"],
)
def test_error_faults_answer_with_pinterest_error_bodies(
    client: httpx.Client, headers: dict[str, str], case: tuple[str, int, int, str]
) -> None:
    field, status, code, message = case
    _set_faults(client, **{field: 1.0})
    response = client.get(CAMPAIGNS, headers=headers)
    assert response.status_code == status
    assert response.json() == {"code": code, "message": message}
    assert response.headers["x-pinterest-rid"]
    assert_response_matches_spec(response)
    if status == 429:
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-reset"] == "1"
    kind = field.removesuffix("_probability")
    assert _faults(client)[kind] == 1
    assert client.get("/_emulator/stats").json()["statuses"] == {str(status): 1}


def test_truncated_body_is_a_prefix_with_a_consistent_length(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    whole = client.get(CAMPAIGNS, headers=headers).content
    _set_faults(client, truncated_body_probability=1.0)
    response = client.get(CAMPAIGNS, headers=headers)
    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    assert _faults(client)["truncated_body"] == 1


def test_malformed_body_is_not_json(client: httpx.Client, headers: dict[str, str]) -> None:
    whole = client.get(USER, headers=headers).content
    _set_faults(client, malformed_body_probability=1.0)
    response = client.get(USER, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.content) == len(whole) + 1
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    assert _faults(client)["malformed_body"] == 1


def test_connection_reset_in_process_is_a_transport_error(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _set_faults(client, connection_reset_probability=1.0)
    with pytest.raises(httpx.TransportError, match="dropped the connection"):
        client.get(USER, headers=headers)
    assert _faults(client)["connection_reset"] == 1
    _set_faults(client)
    assert client.get(USER, headers=headers).status_code == 200


def test_latency_is_added_to_each_targeted_request(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _set_faults(client, latency_ms=40, operations=["user_account/get"])
    started = time.monotonic()
    for _ in range(3):
        assert client.get(USER, headers=headers).status_code == 200
    # A lower bound only: sleeping can never take less than asked.
    assert time.monotonic() - started >= 3 * 0.04
    client.get(CAMPAIGNS, headers=headers)
    assert _faults(client)["latency"] == 3


def _statuses(client: httpx.Client, headers: dict[str, str], n: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(n):
        try:
            response = client.get(USER, headers=headers)
        except httpx.TransportError:
            seen.append("reset")
            continue
        try:
            orjson.loads(response.content)
        except orjson.JSONDecodeError:
            seen.append(f"{response.status_code}-bad-json")
            continue
        seen.append(response.status_code)
    return seen


MIXED = {
    "rate_limit_probability": 0.1,
    "server_error_probability": 0.1,
    "unavailable_probability": 0.1,
    "connection_reset_probability": 0.1,
    "truncated_body_probability": 0.1,
    "malformed_body_probability": 0.1,
}


def test_same_seed_same_request_sequence_same_faults(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _set_faults(client, seed=11, **MIXED)
    first = _statuses(client, headers, 60)
    _set_faults(client, seed=11, **MIXED)
    second = _statuses(client, headers, 60)
    _set_faults(client, seed=12, **MIXED)
    other = _statuses(client, headers, 60)
    assert first == second
    assert first != other
    # Every kind shows up with these odds over 60 draws, and clean answers dominate.
    assert {429, 500, 503, "reset", "200-bad-json"} <= set(first)
    assert first.count(200) > 60 * 0.2


def _run_configured(config: EmulatorConfig) -> list[int | str]:
    app = create_app(config)
    install(app)
    transport = InProcessTransport(app)
    try:
        with httpx.Client(
            transport=transport,
            base_url="http://emulator.test",
            event_hooks={"response": [_validate_json_answers]},
        ) as client:
            token = client.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID})
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            seen = _statuses(client, auth, 30)
            assert client.get("/_emulator/faults").json()["seed"] == 3
            # Run-time changes last until /_emulator/reset restores the config's faults.
            _set_faults(client)
            client.post("/_emulator/reset")
            assert client.get("/_emulator/faults").json()["seed"] == 3
            assert sum(_faults(client).values()) == 0
    finally:
        transport.close()
    return seen


def test_faults_from_the_config_are_reproducible_across_instances() -> None:
    config = EmulatorConfig(seed=7, today=TODAY, faults=FaultConfig(seed=3, **MIXED))
    first, second = _run_configured(config), _run_configured(config)
    assert first == second
    assert set(first) != {200}


def test_targeting_by_operation_and_by_category(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    _set_faults(client, server_error_probability=1.0, operations=["campaigns/list"])
    assert client.get(CAMPAIGNS, headers=headers).status_code == 500
    assert (
        client.get(f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/ads", headers=headers).status_code == 200
    )
    assert client.get(USER, headers=headers).status_code == 200
    _set_faults(client, unavailable_probability=1.0, categories=["org_read"])
    assert client.get(USER, headers=headers).status_code == 503
    assert client.get(CAMPAIGNS, headers=headers).status_code == 200
    # Faults never touch the test-only endpoints.
    assert client.get("/_emulator/stats").status_code == 200


def test_token_revoked_after_n_requests(client: httpx.Client, headers: dict[str, str]) -> None:
    minted = client.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    auth = {"Authorization": f"Bearer {minted['access_token']}"}
    _set_faults(client, revoke_tokens_after_requests=3)
    assert [client.get(USER, headers=auth).status_code for _ in range(3)] == [200] * 3
    revoked = client.get(USER, headers=auth)
    assert revoked.status_code == 401
    assert revoked.json() == {"code": 2, "message": "Authentication failed."}
    assert client.get(CAMPAIGNS, headers=auth).status_code == 401
    # The refresh token of that grant died with it: the user must authorize again.
    refresh = client.post(
        "/v5/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": minted["refresh_token"]},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    assert refresh.status_code == 401
    # Once only: a newly authorized token keeps working, as do other grants.
    assert client.get(USER, headers=headers).status_code == 200
    again = client.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    fresh = {"Authorization": f"Bearer {again['access_token']}"}
    assert [client.get(USER, headers=fresh).status_code for _ in range(5)] == [200] * 5
    assert _faults(client)["token_revoked"] == 1


def test_fault_config_is_validated(client: httpx.Client) -> None:
    too_much = client.post(
        "/_emulator/faults",
        json={"server_error_probability": 0.7, "unavailable_probability": 0.7},
    )
    assert too_much.status_code == 400
    assert too_much.json() == {
        "code": 1,
        "message": "invalid fault config: body: Value error, "
        "the response fault probabilities must add up to at most 1",
    }
    unknown = client.post("/_emulator/faults", json={"explode": True})
    assert unknown.status_code == 400
    assert "explode: Extra inputs are not permitted" in unknown.json()["message"]
    negative = client.post("/_emulator/faults", json={"latency_ms": -1})
    assert negative.status_code == 400
    assert client.get("/_emulator/faults").json() == FaultConfig().model_dump(mode="json")


def test_report_failures_are_deterministic_per_seed_and_key() -> None:
    never, always = FaultConfig(), FaultConfig(report_failure_probability=1.0)
    half = FaultConfig(seed=5, report_failure_probability=0.5)
    keys = [str(n) for n in range(400)]
    assert not any(never.report_fails(k) for k in keys)
    assert all(always.report_fails(k) for k in keys)
    draws = [half.report_fails(k) for k in keys]
    assert draws == [
        FaultConfig(seed=5, report_failure_probability=0.5).report_fails(k) for k in keys
    ]
    assert draws != [
        FaultConfig(seed=6, report_failure_probability=0.5).report_fails(k) for k in keys
    ]
    assert 150 < sum(draws) < 250


def test_stats_list_every_fault_kind(emulator_app: Starlette) -> None:
    assert set(guards_of(emulator_app).snapshot()["faults"]) == set(FAULT_KINDS)
    assert not FaultConfig().active
    assert FaultConfig(latency_ms=1).active
    assert FaultConfig(revoke_tokens_after_requests=0).active
