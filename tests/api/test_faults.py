"""Under the emulator's injected faults every request succeeds or fails clearly, within bounds.

Sleeps are injected (nothing waits for real); call counts come from `/_emulator/stats`.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pinads.api import PinterestClient, RetryPolicy, SlidingWindowBudgets, refresh_tokens
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    LARGE_ADVERTISER_ID,
    EmulatorServer,
    EmulatorState,
)
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.errors import AuthError, RateLimitedError, RetriableApiError, UnreachableError

from .conftest import IN_PROCESS_API_URL, FakeTime, RecordingSink, demo_app, token_set

CAMPAIGNS = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"


def _control(
    transport: httpx.BaseTransport | None,
    path: str,
    body: Any = None,
    *,
    base_url: str = "http://emulator.test",
) -> Any:
    with httpx.Client(transport=transport, base_url=base_url) as http:
        response = http.post(path, json=body) if body is not None else http.get(path)
    response.raise_for_status()
    return response.json()


def _client(
    tokens: IssuedTokens,
    transport: httpx.BaseTransport | None,
    fake: FakeTime,
    attempts: int,
    *,
    api_url: str = IN_PROCESS_API_URL,
) -> PinterestClient:
    return PinterestClient(
        demo_app(api_url),
        token_set(tokens),
        RecordingSink(),
        transport=transport,
        budgets=SlidingWindowBudgets(clock=fake.clock, sleep=fake.sleep),
        retry=RetryPolicy(max_attempts=attempts),
        sleep=fake.sleep,
    )


@dataclass
class _Target:
    """Where the emulator answers: in-process (an ASGI transport) or over loopback (uvicorn,
    where a reset really drops the TCP connection)."""

    tokens: IssuedTokens
    transport: httpx.BaseTransport | None
    api_url: str
    base_url: str


def _target(over: str, request: pytest.FixtureRequest) -> _Target:
    if over == "in-process":
        return _Target(
            request.getfixturevalue("emulator_tokens"),
            request.getfixturevalue("emulator_transport"),
            IN_PROCESS_API_URL,
            "http://emulator.test",
        )
    server: EmulatorServer = request.getfixturevalue("emulator_server")
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    tokens = server.state.tokens.mint(info, now=server.state.now())
    return _Target(tokens, None, server.api_url, server.base_url)


@pytest.mark.parametrize("over", ["in-process", "loopback"])
def test_mixed_faults_every_request_succeeds_with_bounded_calls(
    over: str, request: pytest.FixtureRequest
) -> None:
    target = _target(over, request)
    faults = {
        "seed": 3,
        "rate_limit_probability": 0.1,
        "server_error_probability": 0.1,
        "unavailable_probability": 0.05,
        "connection_reset_probability": 0.05,
        "truncated_body_probability": 0.05,
        "malformed_body_probability": 0.05,
    }
    _control(target.transport, "/_emulator/faults", faults, base_url=target.base_url)
    fake = FakeTime()
    attempts = 8
    with _client(target.tokens, target.transport, fake, attempts, api_url=target.api_url) as client:
        campaigns = list(client.iter_items(CAMPAIGNS))
        users = [client.user_account()["id"] for _ in range(30)]
        stats = client.stats
    server = _control(target.transport, "/_emulator/stats", base_url=target.base_url)
    assert len(campaigns) == 1000
    assert len({c["id"] for c in campaigns}) == 1000
    assert users == [DEFAULT_USER_ID] * 30
    logical = 4 + 30
    injected = sum(server["faults"].values())
    assert injected > 0
    # Every fault cost exactly one extra call, nothing else was called.
    assert server["requests"] == logical + injected == stats.calls
    assert stats.retries == injected
    assert server["requests"] <= logical * attempts
    assert stats.rate_limited_responses == server["faults"]["rate_limit"]
    assert {k for k, n in server["faults"].items() if n} >= {
        "rate_limit",
        "server_error",
        "connection_reset",
        "malformed_body",
    }


@pytest.mark.parametrize(
    ("fault", "error", "fragment"),
    [
        ("server_error_probability", RetriableApiError, "HTTP 500"),
        ("unavailable_probability", RetriableApiError, "HTTP 503"),
        ("connection_reset_probability", RetriableApiError, "did not answer"),
        ("truncated_body_probability", RetriableApiError, "not valid JSON"),
        ("rate_limit_probability", RateLimitedError, "rate limit"),
    ],
)
def test_persistent_fault_fails_clearly_after_exact_attempts(
    emulator_tokens: IssuedTokens,
    emulator_transport: httpx.BaseTransport,
    fault: str,
    error: type[Exception],
    fragment: str,
) -> None:
    _control(emulator_transport, "/_emulator/faults", {fault: 1.0})
    fake = FakeTime()
    with (
        _client(emulator_tokens, emulator_transport, fake, 5) as client,
        pytest.raises(error, match=r"gave up after 5 attempt") as info,
    ):
        client.user_account()
    assert fragment in str(info.value)
    assert _control(emulator_transport, "/_emulator/stats")["requests"] == 5
    assert len(fake.sleeps) >= 4


def test_rate_limit_waits_for_the_reset_header(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    _control(emulator_transport, "/_emulator/faults", {"rate_limit_probability": 1.0})
    fake = FakeTime()
    with (
        _client(emulator_tokens, emulator_transport, fake, 3) as client,
        pytest.raises(RateLimitedError),
    ):
        client.get_json(CAMPAIGNS)
    retry_waits = [s for s in fake.sleeps if s >= 1.0]
    # The emulator says `x-ratelimit-reset: 1`: waits are one second plus a little jitter.
    assert len(retry_waits) >= 2
    assert all(1.0 <= s <= 1.2 for s in retry_waits)
    assert client.stats.rate_limited_responses == 3


def test_token_revoked_mid_run_says_reauthorize(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    _control(emulator_transport, "/_emulator/faults", {"revoke_tokens_after_requests": 2})
    fake = FakeTime()
    with _client(emulator_tokens, emulator_transport, fake, 5) as client:
        with pytest.raises(AuthError, match="re-authorize this authorizer") as info:
            for _ in range(10):
                client.user_account()
        calls = client.stats.calls
    assert emulator_tokens.access_token not in str(info.value)
    assert emulator_tokens.refresh_token not in str(info.value)
    # 3 answered calls, one refused, one refresh attempt refused: no retry storm.
    assert calls <= 6


def test_token_endpoint_outage_within_margin_uses_current_token(
    emulator: EmulatorState, emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    _control(
        emulator_transport,
        "/_emulator/faults",
        {"server_error_probability": 1.0, "operations": ["oauth/token"]},
    )
    fake = FakeTime()
    sink = RecordingSink()
    client = PinterestClient(
        demo_app(),
        token_set(emulator_tokens),
        sink,
        transport=emulator_transport,
        clock=emulator.now,
        budgets=SlidingWindowBudgets(clock=fake.clock, sleep=fake.sleep),
        sleep=fake.sleep,
    )
    # Two minutes before expiry: inside the five-minute refresh margin, still valid.
    emulator.advance(days=30, seconds=-120)
    with client:
        assert client.user_account()["id"] == DEFAULT_USER_ID
        # The refresh was tried (and failed) before the call went out with the current token.
        assert _control(emulator_transport, "/_emulator/stats")["faults"]["server_error"] == 1
        emulator.advance(seconds=240)  # now really expired, and refresh still fails
        with pytest.raises(RetriableApiError, match="gave up after"):
            client.user_account()
    assert sink.saved == []


def test_nothing_listening_fails_after_three_attempts_not_six(
    emulator_tokens: IssuedTokens,
) -> None:
    # A port with no server: every connection is refused (a wrong API URL or a server down).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v5"
    fake = FakeTime()
    with (
        _client(emulator_tokens, None, fake, 6, api_url=dead) as client,
        pytest.raises(UnreachableError, match=r"\(ConnectError\).*gave up after 3 attempt") as info,
    ):
        client.user_account()
    assert "the authorizer's API URL" in str(info.value)
    assert len(fake.sleeps) == 2  # waits between the three attempts only
    with pytest.raises(UnreachableError, match=r"token endpoint .*gave up after 3 attempt"):
        refresh_tokens(demo_app(dead), refresh_token=SecretStr("x"), sleep=fake.sleep)
