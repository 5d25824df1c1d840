"""API client benchmark: what pinads' client layer costs per call, and that pacing holds.

The emulator runs in its own process (`pinads emulator`), so CPU figures are the client's.

    .venv/bin/python bench/api_client.py            # 800 calls per measurement
    .venv/bin/python bench/api_client.py --calls 400

Prints, for GET /user_account over loopback: client CPU microseconds per call with raw httpx
and with `PinterestClient` (auth, budget, retry, error mapping, JSON decode, stats), the
difference, and wall calls per second; then paging 1,000 campaigns; then the Standard tier's
100-per-second universal budget pacing a 20-thread burst of 300 calls; then the streaming
JSON report parser's rate.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import httpx

from common import free_port, start_emulator


def _mint(base_url: str, user_id: str) -> dict[str, Any]:
    body = {"user_id": user_id, "scopes": ["ads:read", "user_accounts:read"]}
    response = httpx.post(f"{base_url}/_emulator/tokens", json=body, timeout=30)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def _measure(calls: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(client CPU seconds, wall seconds) for `calls` calls of `fn`."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _burst(client: Any, *, threads: int, calls: int) -> float:
    """Wall seconds for `calls` user_account calls spread over `threads` threads."""
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: client.user_account(), range(calls)))
    return time.perf_counter() - start


def _json_report_rate() -> str:
    """Streaming parse of a synthetic BY_ID JSON report: 2,000 entities x 186 days."""
    import io

    import orjson

    from pinads.api.reports import iter_report_rows

    row = {
        "CAMPAIGN_ID": "626000000001",
        "DATE": "2026-01-01",
        "SPEND_IN_MICRO_DOLLAR": 123456,
        "IMPRESSION_1": 1000,
        "CLICKTHROUGH_1": 12,
        "TOTAL_CONVERSIONS": 3,
    }
    data = orjson.dumps({str(626000000000 + i): [row] * 186 for i in range(2000)})
    start = time.perf_counter()
    rows = sum(1 for _ in iter_report_rows(io.BytesIO(data), "JSON"))
    wall = time.perf_counter() - start
    return f"JSON report, {rows} rows, {len(data) / 1e6:.0f} MB: {rows / wall:,.0f} rows/s streamed"


def _line(label: str, cpu: float, wall: float, calls: int) -> str:
    return f"  {label:<16} {cpu / calls * 1e6:7.0f} us CPU/call  {calls / wall:6.0f} calls/s"


def _client(base_url: str, user_id: str, limits: Any = None) -> Any:
    from datetime import UTC, datetime, timedelta

    from pydantic import SecretStr

    from pinads.api import OAuthApp, PinterestClient, SlidingWindowBudgets, TokenSet
    from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    minted = _mint(base_url, user_id)
    now = datetime.now(UTC)
    tokens = TokenSet(
        access_token=SecretStr(minted["access_token"]),
        access_expires_at=now + timedelta(seconds=minted["expires_in"]),
        refresh_token=SecretStr(minted["refresh_token"]),
        scopes=tuple(minted["scope"].split(",")),
    )
    app = OAuthApp(
        client_id=DEMO_CLIENT_ID,
        client_secret=SecretStr(DEMO_CLIENT_SECRET),
        api_url=f"{base_url}/v5",
    )

    class Sink:
        def save(self, tokens: TokenSet) -> None:
            """Tokens minted for the benchmark are not kept."""

    return PinterestClient(app, tokens, Sink(), budgets=SlidingWindowBudgets(limits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=800, help="calls per measurement (<1000)")
    calls = parser.parse_args().calls

    from pinads.api import RateLimit, RateLimits
    from pinads.emulator import DEMO_USER_IDS, LARGE_ADVERTISER_ID

    port = free_port()
    emulator = start_emulator(port)
    base_url = f"http://127.0.0.1:{port}"
    unpaced = RateLimits(total=RateLimit(calls=1_000_000, per_seconds=1.0))
    try:
        # Each measurement acts as another demo user: the emulator's quotas are per user.
        raw_token = _mint(base_url, DEMO_USER_IDS[0])["access_token"]
        with httpx.Client(
            base_url=f"{base_url}/v5", headers={"Authorization": f"Bearer {raw_token}"}
        ) as raw:
            raw.get("/user_account").raise_for_status()  # connection warm-up
            raw_cpu, raw_wall = _measure(calls, lambda: raw.get("/user_account").json())
        with _client(base_url, DEMO_USER_IDS[1], unpaced) as client:
            client.user_account()
            ours_cpu, ours_wall = _measure(calls, client.user_account)
        print(f"GET /user_account x {calls} over loopback")
        print(_line("raw httpx", raw_cpu, raw_wall, calls))
        print(_line("PinterestClient", ours_cpu, ours_wall, calls))
        print(f"  {'client overhead':<16} {(ours_cpu - raw_cpu) / calls * 1e6:7.0f} us CPU/call")

        with _client(base_url, DEMO_USER_IDS[2], unpaced) as client:
            path = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
            cpu, wall = time.process_time(), time.perf_counter()
            items = sum(1 for _ in client.iter_items(path))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"paging {items} campaigns: {client.stats.calls} calls, {wall:.2f} s wall, "
                f"{cpu:.2f} s client CPU"
            )

        standard = RateLimits(total=RateLimit(calls=100, per_seconds=1.0))
        with _client(base_url, DEMO_USER_IDS[2], standard) as client:
            wall = _burst(client, threads=20, calls=300)
            print(
                f"300 calls from 20 threads under the 100/s universal budget: {wall:.2f} s "
                f"wall (>= 2 s expected), budget waits {client.stats.budget_waited_seconds:.1f}"
                " s summed over threads"
            )
        print(_json_report_rate())
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
