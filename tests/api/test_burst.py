"""A client budget equal to the server's limit keeps a multi-threaded burst free of 429s.

Over loopback against a real uvicorn emulator, with Pinterest's per-minute analytics quota
scaled down to 20 calls per 1-second window on both sides. This one waits for real (~4 s):
pacing is the behaviour under test.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pinads.api import (
    PinterestClient,
    RateLimit,
    RateLimits,
    RetryPolicy,
    SlidingWindowBudgets,
)
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.emulator.limits import RateLimitConfig
from pinads.emulator.tokens import TokenInfo
from pinads.errors import PinadsError, RateLimitedError

from .conftest import RecordingSink, demo_app, token_set

PER_WINDOW = 20
THREADS = 5
CALLS_PER_THREAD = 20


def _burst(
    server: EmulatorServer, limits: RateLimits, *, per_thread: int = CALLS_PER_THREAD
) -> tuple[int, list[Exception]]:
    """`THREADS` x `per_thread` analytics calls; (answered calls, errors)."""
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    issued = server.state.tokens.mint(info, now=server.state.now())
    today = datetime.now(UTC).date()
    params = {
        "start_date": today - timedelta(days=1),
        "end_date": today - timedelta(days=1),
        "columns": ["SPEND_IN_DOLLAR", "TOTAL_CLICKTHROUGH"],
        "granularity": "TOTAL",
    }
    path = f"/ad_accounts/{EUR_ADVERTISER_ID}/analytics"
    answered: list[Any] = []
    errors: list[Exception] = []
    client = PinterestClient(
        demo_app(server.api_url),
        token_set(issued),
        RecordingSink(),
        budgets=SlidingWindowBudgets(limits),
        retry=RetryPolicy(max_attempts=1),  # any 429 would surface as an error
    )

    def work() -> None:
        for _ in range(per_thread):
            try:
                answered.append(client.get_json(path, params))
            except PinadsError as exc:  # collected: the assertions show what happened
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return len(answered), errors


def _server_stats(server: EmulatorServer) -> Any:
    return httpx.get(f"{server.base_url}/_emulator/stats", timeout=10).json()


def _config(per_window: int = PER_WINDOW) -> EmulatorConfig:
    limits = RateLimitConfig().scaled(window_seconds=1.0, per_window={"ads_analytics": per_window})
    return EmulatorConfig(seed=7, rate_limits=limits)


def test_budgeted_burst_gets_no_429() -> None:
    limits = RateLimits(categories={"ads_analytics": RateLimit(calls=PER_WINDOW, per_seconds=1.0)})
    with EmulatorServer(_config()) as server:
        answered, errors = _burst(server, limits)
        stats = _server_stats(server)
    assert errors == []
    assert answered == THREADS * CALLS_PER_THREAD
    assert stats["rate_limited"] == 0
    assert stats["categories"]["ads_analytics"] == THREADS * CALLS_PER_THREAD


def test_unbudgeted_burst_does_get_429s() -> None:
    """The control: without the client budget the same burst trips the server's limit."""
    generous = RateLimits(categories={"ads_analytics": RateLimit(calls=10_000, per_seconds=1.0)})
    # A quota of 5 a second, so even a slow, busy machine sends more than that.
    with EmulatorServer(_config(per_window=5)) as server:
        # 40 calls sent as fast as the threads can.
        answered, errors = _burst(server, generous, per_thread=8)
        stats = _server_stats(server)
    assert errors
    assert all(isinstance(e, RateLimitedError) for e in errors)
    assert stats["rate_limited"] == len(errors)
    assert answered + len(errors) == THREADS * 8
