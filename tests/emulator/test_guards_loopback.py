"""Guards over a real uvicorn server on loopback: resets are transport errors, headers on wire."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from pinads.emulator import DEFAULT_USER_ID, EmulatorConfig, EmulatorServer
from pinads.emulator.guards import RATE_LIMIT_BODY, install
from pinads.emulator.limits import RateLimitConfig

from .conftest import TODAY
from .schema import assert_response_matches_spec

USER = "/v5/user_account"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    limits = RateLimitConfig().scaled(window_seconds=60, per_window={"org_read": 4})
    emulator = EmulatorServer(EmulatorConfig(seed=7, today=TODAY, rate_limits=limits))
    install(emulator.app)  # idempotent if create_app already did
    with emulator:
        yield emulator


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def auth(http: httpx.Client) -> dict[str, str]:
    minted = http.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID})
    return {"Authorization": f"Bearer {minted.json()['access_token']}"}


def test_connection_reset_is_a_transport_error_and_the_server_keeps_serving(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    http.post("/_emulator/faults", json={"connection_reset_probability": 1.0})
    for _ in range(3):
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(USER, headers=auth)
    http.post("/_emulator/faults", json={})
    response = http.get(USER, headers=auth)
    assert response.status_code == 200
    assert_response_matches_spec(response)
    assert response.json()["id"] == DEFAULT_USER_ID
    assert http.get("/_emulator/stats").json()["faults"]["connection_reset"] == 3


def test_rate_limit_over_the_wire(http: httpx.Client, auth: dict[str, str]) -> None:
    remaining = [http.get(USER, headers=auth).headers["x-ratelimit-remaining"] for _ in range(4)]
    assert remaining == ["3", "2", "1", "0"]
    refused = http.get(USER, headers=auth)
    assert refused.status_code == 429
    assert refused.json() == RATE_LIMIT_BODY
    assert refused.headers["x-ratelimit-limit"] == "4, 4;w=60"
    assert 0 < int(refused.headers["x-ratelimit-reset"]) <= 60
    assert refused.headers["x-pinterest-rid"]
    assert_response_matches_spec(refused)


def test_body_faults_over_the_wire(http: httpx.Client, auth: dict[str, str]) -> None:
    whole = http.get(USER, headers=auth).content
    http.post("/_emulator/faults", json={"truncated_body_probability": 1.0})
    truncated = http.get(USER, headers=auth)
    assert truncated.content == whole[: len(whole) // 2]
    http.post("/_emulator/faults", json={"malformed_body_probability": 1.0})
    malformed = http.get(USER, headers=auth)
    assert len(malformed.content) == len(whole) + 1
    for response in (truncated, malformed):
        assert response.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)
