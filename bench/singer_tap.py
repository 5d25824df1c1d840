"""Singer tap benchmark: what emitting Singer messages costs next to loading DuckDB directly.

    .venv/bin/python bench/singer_tap.py             # 60 days, every account of the demo user
    .venv/bin/python bench/singer_tap.py --days 30

One source over a loopback emulator, twice: `pinads run` into a DuckDB file, then the tap's
sync into a file (the same plan and extraction, SingerDestination instead of a table). Prints
rows, wall seconds and rows per second of each, and the bytes of Singer output per record.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml


def _authorize(api_url: str, base_url: str) -> None:
    from pinads.auth import AuthorizerService
    from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from pinads.settings import load_settings

    minted = httpx.post(f"{base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    with AuthorizerService(load_settings()) as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=api_url,
            label="demo",
        )


def _source(work: Path, days: int) -> Path:
    today = datetime.now(UTC).date()
    path = work / "bench.yaml"
    path.write_text(
        "name: bench\ndataset: campaign_analytics\nauthorizer: demo\naccounts: all\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID, CAMPAIGN_NAME]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1, CLICKTHROUGH_1, TOTAL_CONVERSIONS]\n"
        f"date_range: {{start: {today - timedelta(days=days)}, end: {today - timedelta(days=1)}}}\n"
        "metadata: [extracted_at, source_name, run_id, account_currency]\n"
        f"destination: duckdb:///{work}/home/bench.duckdb\n"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    days = parser.parse_args().days
    work = Path(tempfile.mkdtemp(prefix="pinads-bench-singer-"))
    os.environ["PINADS_HOME"] = str(work / "home")
    from pinads.emulator import EmulatorConfig, EmulatorServer
    from pinads.runner import service
    from pinads.singer import load_tap_config, sync

    with EmulatorServer(EmulatorConfig(seed=7)) as server:
        _authorize(server.api_url, server.base_url)
        path = _source(work, days)
        service.create_source(yaml.safe_load(path.read_text()))
        started = time.perf_counter()
        result = service.run("bench")
        run_seconds = time.perf_counter() - started

        tap = load_tap_config(path, today=datetime.now(UTC).date())
        sink = work / "singer.jsonl"
        started = time.perf_counter()
        with sink.open("wb") as out:
            synced = sync(
                tap,
                catalog=None,
                state=None,
                out=out,
                opener=lambda label: service.open_authorizer_client(label, tap.settings),
            )
        tap_seconds = time.perf_counter() - started
    rows, records = result.rows_written, synced[0].records
    print(
        f"{days} days, pinads run into DuckDB: {rows:,} rows in {run_seconds:.2f} s "
        f"({rows / run_seconds:,.0f} rows/s)"
    )
    print(
        f"{days} days, tap sync into a file: {records:,} records in {tap_seconds:.2f} s "
        f"({records / tap_seconds:,.0f} records/s), "
        f"{sink.stat().st_size / max(records, 1):.0f} bytes/record"
    )


if __name__ == "__main__":
    main()
