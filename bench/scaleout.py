"""Scale-out benchmark: runs per second of 1, 2 and 4 `pinads worker` processes that share one
Pinterest rate budget through Redis, until the rate limit binds.

    .venv/bin/python bench/scaleout.py [--workers 1 2 4] [--sources 40] [--latency-ms 150]
        [--analytics-per-second 2]

Pinterest is the emulator on a loopback port with its rate limits on (scaled to one-second
windows so a limit binds within seconds; pinads paces by the same numbers through
PINADS_RATE_LIMITS) and a latency added to every call, as a real network has. The control DB is
a fresh schema of the local PostgreSQL, the broker and the budget the local Redis under a prefix
of their own. Each source reads 30 days of campaign analytics of one ad account into a DuckDB
file of its own; all sources are sent as tasks at once and the clock stops when the last one
finished. Reported per worker count: wall time, rows/s, API calls per minute (emulator's
count) and ads_analytics calls per minute against the limit, and the 429s the emulator answered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from pinads.auth import AuthorizerService
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.emulator.limits import FaultConfig, RateLimitConfig
from pinads.runner import RunResult, SourceStore, remote
from pinads.runner.run import new_run_id
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.values import RunKind

PINADS = Path(sys.executable).parent / "pinads"
PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


# Ad accounts whose analytics the emulator's demo user may read (an Admin or Analyst there).
ACCOUNTS = (EUR_ADVERTISER_ID, "549755813003", "549755813007")


def _environment(home: Path, schema: str, prefix: str, per_second: dict[str, int]) -> None:
    limits = {name: {"calls": n, "per_seconds": 1.0} for name, n in per_second.items()}
    os.environ.update(
        {
            "PINADS_HOME": str(home),
            "PINADS_ALLOWED_ROOTS": str(home),
            "PINADS_DATABASE_URL": (
                f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
            ),
            "PINADS_BROKER_URL": REDIS,
            "PINADS_REDIS_PREFIX": prefix,
            "PINADS_RATE_LIMITS": json.dumps({"categories": limits}),
        }
    )


def _setup(server: EmulatorServer, home: Path, sources: int) -> list[str]:
    minted = httpx.post(
        f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(load_settings()) as auth:
        auth.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=server.api_url,
            label="demo",
        )
    accounts = ACCOUNTS
    names = [f"shop_{i:03d}" for i in range(sources)]
    store = SourceStore(load_settings())
    try:
        for index, name in enumerate(names):
            document = {
                "name": name,
                "dataset": "campaign_analytics",
                "authorizer": "demo",
                "accounts": [accounts[index % len(accounts)]],
                "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1"],
                "date_range": "last_30_days",
                "destination": f"duckdb:///{home}/{name}.duckdb",
            }
            store.save(SourceConfig.model_validate(document))
    finally:
        store.close()
    return names


def _measure(workers: int, args: argparse.Namespace) -> dict[str, float]:
    per_second = {
        "ads_analytics": args.analytics_per_second,
        "ads_read": args.analytics_per_second * 3,
        "org_read": args.analytics_per_second * 3,
    }
    config = EmulatorConfig(
        seed=7,
        rate_limits=RateLimitConfig().scaled(window_seconds=1.0, per_window=per_second),
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    home = Path(tempfile.mkdtemp(prefix="pinads-scaleout-"))
    schema = f"bench_scale_{uuid.uuid4().hex[:10]}"
    prefix = f"pinads-bench-{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _environment(home, schema, prefix, per_second)
    started: list[subprocess.Popen[bytes]] = []
    try:
        with EmulatorServer(config) as server:
            names = _setup(server, home, args.sources)
            for _ in range(workers):
                started.append(
                    subprocess.Popen(
                        [str(PINADS), "worker", "--concurrency", str(args.concurrency)],
                        env=dict(os.environ),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            settings = load_settings()
            before = httpx.get(f"{server.base_url}/_emulator/stats").json()
            clock = time.perf_counter()
            pending = [
                remote.submit(
                    settings,
                    remote.RunRequest(run_id=new_run_id(), source=name, kind=RunKind.MANUAL),
                )
                for name in names
            ]
            payloads = [task.get(timeout=1800) for task in pending]
            seconds = time.perf_counter() - clock
            after = httpx.get(f"{server.base_url}/_emulator/stats").json()
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        shutil.rmtree(home, ignore_errors=True)
    failed = [p for p in payloads if "result" not in p]
    if failed:
        raise SystemExit(f"{len(failed)} runs failed, e.g. {failed[0]}")
    rows = sum(RunResult.model_validate(p["result"]).rows_written for p in payloads)

    def delta(key: str) -> int:
        return int(after["categories"].get(key, 0)) - int(before["categories"].get(key, 0))

    calls = sum(int(n) for n in after["categories"].values()) - sum(
        int(n) for n in before["categories"].values()
    )
    return {
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "calls_per_minute": calls * 60 / seconds,
        "analytics_per_minute": delta("ads_analytics") * 60 / seconds,
        "analytics_limit_per_minute": args.analytics_per_second * 60,
        "answers_429": int(after["statuses"].get("429", 0)) - int(before["statuses"].get("429", 0)),
        "rows": rows,
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=2, help="threads per worker")
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--analytics-per-second", type=int, default=2)
    args = parser.parse_args()
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; "
        f"{args.sources} sources, {args.concurrency} threads per worker, "
        f"{args.latency_ms:g} ms per call, ads_analytics {args.analytics_per_second}/s"
    )
    print("workers  seconds  rows/s  calls/min  ads_analytics/min (limit)  429s")
    for workers in args.workers:
        m = _measure(workers, args)
        print(
            f"{workers:>7}  {m['seconds']:>7.1f}  {m['rows_per_second']:>6.0f}  "
            f"{m['calls_per_minute']:>9.0f}  {m['analytics_per_minute']:>10.0f} "
            f"({m['analytics_limit_per_minute']:.0f})  {m['answers_429']:>9}"
        )


if __name__ == "__main__":
    main()
