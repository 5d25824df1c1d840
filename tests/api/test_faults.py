"""Under the emulator's injected faults every request succeeds or fails clearly, within bounds.

Sleeps are injected (nothing waits for real); call counts come from `/_emulator/stats`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinads.api import PinterestClient, RetryPolicy, SlidingWindowBudgets
from pinads.emulator import DEFAULT_USER_ID, LARGE_ADVERTISER_ID, EmulatorState
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import AuthError, RateLimitedError, RetriableApiError

from .conftest import FakeTime, RecordingSink, demo_app, token_set

CAMPAIGNS = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"


def _control(transport: httpx.BaseTransport, path: str, body: Any = None) -> Any:
    with httpx.Client(transport=transport, base_url="http://emulator.test") as http:
        response = http.post(path, json=body) if body is not None else http.get(path)
    response.raise_for_status()
    return response.json()


def _client(
    tokens: IssuedTokens, transport: httpx.BaseTransport, fake: FakeTime, attempts: int
) -> PinterestClient:
    return PinterestClient(
        demo_app(),
        token_set(tokens),
        RecordingSink(),
        transport=transport,
        budgets=SlidingWindowBudgets(clock=fake.clock, sleep=fake.sleep),
        retry=RetryPolicy(max_attempts=attempts),
        sleep=fake.sleep,
    )


def test_mixed_faults_every_request_succeeds_with_bounded_calls(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    faults = {
        "seed": 3,
        "rate_limit_probability": 0.1,
        "server_error_probability": 0.1,
        "unavailable_probability": 0.05,
        "connection_reset_probability": 0.05,
        "truncated_body_probability": 0.05,
        "malformed_body_probability": 0.05,
    }
    _control(emulator_transport, "/_emulator/faults", faults)
    fake = FakeTime()
    attempts = 8
    with _client(emulator_tokens, emulator_transport, fake, attempts) as client:
        campaigns = list(client.iter_items(CAMPAIGNS))
        users = [client.user_account()["id"] for _ in range(30)]
        stats = client.stats
    server = _control(emulator_transport, "/_emulator/stats")
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
