"""Emulator test helpers: an httpx client on the in-process app and token minting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest

from pinads.emulator import DEFAULT_USER_ID, EmulatorConfig, InProcessTransport

from .schema import assert_response_matches_spec

# A fixed today makes every number in these tests reproducible.
TODAY = date(2026, 6, 15)

MintHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, today=TODAY)


def _validate(response: httpx.Response) -> None:
    """Every `/v5` answer these tests see is checked against the spec's response schema."""
    if response.request.url.path.startswith("/v5/"):
        response.read()
        assert_response_matches_spec(response)


def checked_client(transport: httpx.BaseTransport) -> httpx.Client:
    """A client on `transport` whose `/v5` answers are all checked against the spec (for
    tests that build their own emulator)."""
    return httpx.Client(
        transport=transport, base_url="http://emulator.test", event_hooks={"response": [_validate]}
    )


@pytest.fixture
def client(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    with checked_client(emulator_transport) as http:
        yield http


@pytest.fixture
def raw_client(emulator_transport: InProcessTransport) -> Iterator[httpx.Client]:
    """Without the schema hook: for walking thousands of items whose first page a test
    validates itself (jsonschema over every page would dominate the suite's time)."""
    with httpx.Client(transport=emulator_transport, base_url="http://emulator.test") as http:
        yield http


@pytest.fixture
def mint(client: httpx.Client) -> MintHeaders:
    """mint(user_id=..., scopes=[...]) -> Authorization headers for a fresh access token."""

    def _mint(
        user_id: str = DEFAULT_USER_ID, scopes: tuple[str, ...] = ("ads:read", "user_accounts:read")
    ) -> dict[str, str]:
        response = client.post(
            "/_emulator/tokens", json={"user_id": user_id, "scopes": list(scopes)}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return _mint


@pytest.fixture
def headers(mint: MintHeaders) -> dict[str, str]:
    return mint()
