"""Emulator throughput: analytics rows served per second, peak memory, small requests per second.

The big request is Pinterest's largest synchronous one: ads analytics, DAY granularity, 250 ad
ids x 90 days x 30 columns. Measured two ways:

- in-process: the ASGI app called directly (no HTTP client, no sockets), so the figures are the
  emulator's own work on one core (generation, JSON, guards middleware);
- loopback: the emulator served by uvicorn in a child process, an httpx client in this one;
  rows per second of wall time, and per second of the server process's CPU.

    .venv/bin/python bench/emulator.py                 # all figures
    .venv/bin/python bench/emulator.py --repeat 10 --small 3000 --small-loopback 500
    .venv/bin/python bench/emulator.py --profile       # cProfile of the in-process big request

CPU figures are process CPU time (user + system, every thread: the handler renders in a
thread pool), so they hold better than wall time on a shared machine; medians per request
are printed beside the totals.

Quotas are off (the point is the server's speed, not Pinterest's 300 calls a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import os
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

COLUMNS = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "IMPRESSION_2",
    "CLICKTHROUGH_1",
    "CLICKTHROUGH_2",
    "OUTBOUND_CLICK_1",
    "OUTBOUND_CLICK_2",
    "REPIN_1",
    "REPIN_2",
    "ENGAGEMENT_1",
    "ENGAGEMENT_2",
    "TOTAL_ENGAGEMENT",
    "TOTAL_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "CTR",
    "CPC_IN_MICRO_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
    "ECPC_IN_MICRO_DOLLAR",
    "ECPM_IN_MICRO_DOLLAR",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_CLICK_CHECKOUT",
    "TOTAL_VIEW_CHECKOUT",
    "TOTAL_SIGNUP",
    "TOTAL_LEAD",
    "TOTAL_PAGE_VISIT",
    "TOTAL_CLICK_ADD_TO_CART",
    "VIDEO_MRC_VIEWS_2",
    "TOTAL_VIDEO_3SEC_VIEWS",
)
DAYS = 90
IDS = 250


def _config(today: date) -> Any:
    from pinads.emulator import EmulatorConfig
    from pinads.emulator.limits import RateLimitConfig

    return EmulatorConfig(seed=7, today=today, rate_limits=RateLimitConfig(enabled=False))


def _big_query(app: Any, today: date) -> str:
    """Query string of the big request: the large advertiser's 250 ads that deliver most."""
    from pinads.emulator import LARGE_ADVERTISER_ID

    world = app.state.emulator.world
    ads = [world.ads[ad_id] for ad_id in world.ads_by_account[LARGE_ADVERTISER_ID]]
    start = today - timedelta(days=DAYS - 1)
    live = [
        ad
        for ad in ads
        if ad.start_day <= start.toordinal() and (ad.end_day or 10**9) >= today.toordinal()
    ]
    chosen = sorted(live or ads, key=lambda ad: -ad.base_impressions)[:IDS]
    params: list[tuple[str, str]] = [
        ("start_date", start.isoformat()),
        ("end_date", today.isoformat()),
        ("granularity", "DAY"),
        ("columns", ",".join(COLUMNS)),
    ]
    params += [("ad_ids", ad.id) for ad in chosen]
    return urlencode(params)


def _big_path() -> str:
    from pinads.emulator import LARGE_ADVERTISER_ID

    return f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/ads/analytics"


def _mint(app: Any) -> str:
    from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID
    from pinads.emulator.tokens import TokenInfo

    state = app.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    token: str = state.tokens.mint(info, now=state.now()).access_token
    return token


async def _asgi_get(app: Any, path: str, query: str, token: str) -> tuple[int, bytes]:
    """One GET straight into the ASGI app; (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _profile(call: Callable[[], Awaitable[Any]], repeat: int) -> None:
    """cProfile of `repeat` big requests, the handler's thread-pool work run inline (cProfile
    sees one thread only)."""
    from pinads.emulator import analytics

    async def inline(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    handlers = vars(analytics)
    pooled = handlers["run_in_threadpool"]
    handlers["run_in_threadpool"] = inline
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        for _ in range(repeat):
            await call()
        profiler.disable()
    finally:
        handlers["run_in_threadpool"] = pooled
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def in_process(today: date, repeat: int, small: int, profile: bool) -> dict[str, Any]:
    from pinads.emulator import create_app
    from pinads.emulator.guards import install

    app = create_app(_config(today))
    install(app)
    token, query, path = _mint(app), _big_query(app, today), _big_path()
    rss_before = _peak_rss_mb()

    async def run() -> dict[str, Any]:
        status, body = await _asgi_get(app, path, query, token)  # warm-up, and the row count
        if status != 200:
            raise SystemExit(f"big request failed: HTTP {status}: {body[:300]!r}")
        rows = len(orjson.loads(body))
        if profile:
            await _profile(lambda: _asgi_get(app, path, query, token), repeat)
        walls, cpus = [], []
        for _ in range(repeat):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await _asgi_get(app, path, query, token)
            walls.append(time.perf_counter() - wall0)
            cpus.append(time.process_time() - cpu0)
        small0 = time.perf_counter()
        for _ in range(small):
            await _asgi_get(app, "/v5/user_account", "", token)
        small_wall = time.perf_counter() - small0
        return {
            "rows_per_request": rows,
            "bytes_per_request": len(body),
            "rows_per_s_wall": rows * repeat / sum(walls),
            "rows_per_s_cpu": rows * repeat / sum(cpus),
            "rows_per_s_cpu_median": rows / statistics.median(cpus),
            "cpu_ms_per_request_median": statistics.median(cpus) * 1000,
            "cpu_ms_per_request_min": min(cpus) * 1000,
            "ms_per_big_request": statistics.median(walls) * 1000,
            "small_requests_per_s": small / small_wall,
        }

    result = asyncio.run(run())
    result["peak_rss_mb"] = _peak_rss_mb()
    result["peak_rss_growth_mb"] = _peak_rss_mb() - rss_before
    return result


def _serve(today: date, ready: Any) -> None:
    """Child process: the emulator on a free loopback port until terminated."""
    from pinads.emulator import EmulatorServer
    from pinads.emulator.guards import install

    server = EmulatorServer(_config(today))
    install(server.app)
    server.start()
    ready.send((server.base_url, _mint(server.app), _big_query(server.app, today)))
    server.serve_forever()


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident set of a process (Linux VmHWM), else its current RSS."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def loopback(today: date, repeat: int, small: int) -> dict[str, Any]:
    import httpx

    ctx = mp.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(today, child_end), daemon=True)
    proc.start()
    try:
        base_url, token, query = parent_end.recv()
        server = psutil.Process(proc.pid)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            url = f"{_big_path()}?{query}"
            first = client.get(url)
            first.raise_for_status()
            rows = len(first.json())
            walls, cpus = [], []
            for _ in range(repeat):
                cpu0, wall0 = sum(server.cpu_times()[:2]), time.perf_counter()
                client.get(url).raise_for_status()
                walls.append(time.perf_counter() - wall0)
                cpus.append(sum(server.cpu_times()[:2]) - cpu0)
            wall, cpu = sum(walls), sum(cpus)
            small0 = time.perf_counter()
            for _ in range(small):
                client.get("/v5/user_account")
            small_wall = time.perf_counter() - small0
        return {
            "rows_per_request": rows,
            "rows_per_s_wall": rows * repeat / wall,
            "rows_per_s_server_cpu": rows * repeat / cpu if cpu else float("nan"),
            "server_cpu_ms_per_request_median": statistics.median(cpus) * 1000,
            "ms_per_big_request": statistics.median(walls) * 1000,
            "small_requests_per_s": small / small_wall,
            "server_peak_rss_mb": _vm_hwm_mb(server.pid),
        }
    finally:
        proc.terminate()
        proc.join(10)


def _print(title: str, figures: dict[str, Any]) -> None:
    print(title)
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {key:<24} {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="big requests timed per mode")
    parser.add_argument("--small", type=int, default=2000, help="small requests timed in-process")
    parser.add_argument(
        "--small-loopback", type=int, default=300, help="small requests timed over loopback"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process run")
    parser.add_argument("--skip-loopback", action="store_true")
    args = parser.parse_args()
    today = datetime.now(UTC).date()
    print(
        f"ads analytics, DAY, {IDS} ids x {DAYS} days x {len(COLUMNS)} columns; "
        f"{args.repeat} timed big requests, {args.small} in-process and {args.small_loopback} "
        "loopback small ones (GET /v5/user_account); "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    _print(
        "in-process (ASGI app called directly)",
        in_process(today, args.repeat, args.small, args.profile),
    )
    if not args.skip_loopback:
        _print(
            "loopback (uvicorn in a child process, httpx client)",
            loopback(today, args.repeat, args.small_loopback),
        )


if __name__ == "__main__":
    main()
