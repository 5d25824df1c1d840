"""Backfill benchmark: two years of a large advertiser through async reports into DuckDB.

The emulator runs in its own process (`pinads emulator`); the backfill runs in this process.

    .venv/bin/python bench/backfill.py                    # campaign level, 730 days
    .venv/bin/python bench/backfill.py --dataset ad_group_analytics --days 730

Prints rows, reports, API calls (and the planner's minimum), wall time against its lower bound,
client CPU, the emulator's CPU, and peak RSS. The lower bound is the largest of: the calls at
the ads_analytics rate limit; the polling wait one report needs before the emulator answers
FINISHED (reports run side by side); and the emulator's own CPU time building the reports (one
Python process: it cannot build them faster than that).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract import _free_port, _start_emulator

ANALYTICS_CALLS_PER_MINUTE = 300
EMULATOR_POLLS_UNTIL_FINISHED = 2  # the emulator's default report_polls_until_finished
METRICS = [
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "CLICKTHROUGH_1",
    "OUTBOUND_CLICK_1",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
]


def _polling_floor_seconds() -> float:
    from pinads.api import ReportPolling

    polling = ReportPolling()
    delay, total = polling.first_delay_seconds, 0.0
    for _ in range(EMULATOR_POLLS_UNTIL_FINISHED + 1):
        total += delay
        delay = min(delay * polling.backoff_factor, polling.max_delay_seconds)
    return total


def run(
    base_url: str, *, dataset_name: str, days: int, home: Path, emulator_pid: int
) -> dict[str, object]:
    import os

    os.environ["PINADS_HOME"] = str(home)
    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.emulator import LARGE_ADVERTISER_ID
    from pinads.load import open_destination
    from pinads.runner.core import RunKind
    from pinads.runner.run import run_source
    from pinads.settings import load_settings
    from pinads.sources.config import SourceConfig

    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=days), today - timedelta(days=1)
    dataset = get_dataset(dataset_name)
    id_attr = dataset.async_report.row_id_key if dataset.async_report else "AD_ACCOUNT_ID"
    config = SourceConfig.model_validate(
        {
            "name": "bench_backfill",
            "dataset": dataset_name,
            "authorizer": "bench",
            "accounts": [LARGE_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", id_attr],
            "metrics": METRICS,
            "date_range": {"start": start, "end": end},
            "destination": f"duckdb:///{home}/backfill.duckdb",
        }
    )
    app, tokens = authorize(base_url, f"{base_url}/v5")
    destination = open_destination(config.destination, settings=load_settings())
    import psutil

    server = psutil.Process(emulator_pid)
    server_cpu0 = sum(server.cpu_times()[:2])
    wall0, cpu0 = time.monotonic(), time.process_time()
    with PinterestClient(app, tokens, MemorySink()) as client:
        result = run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=RunKind.BACKFILL,
        )
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    server_cpu = sum(server.cpu_times()[:2]) - server_cpu0
    destination.close()
    reports = math.ceil(days / 186)
    floor = max(
        result.api_calls / (ANALYTICS_CALLS_PER_MINUTE / 60), _polling_floor_seconds(), server_cpu
    )
    return {
        "dataset": dataset_name,
        "days": days,
        "reports": reports,
        "rows": result.rows_written,
        "api_calls": result.api_calls,
        "planned_calls": result.planned_calls,
        "wall_s": round(wall, 2),
        "wall_lower_bound_s": round(floor, 2),
        "rows_per_wall_s": round(result.rows_written / wall) if wall else None,
        "client_cpu_s": round(cpu, 2),
        "emulator_cpu_s": round(server_cpu, 2),
        "polling_floor_s": round(_polling_floor_seconds(), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="campaign_analytics")
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    port = _free_port()
    emulator = _start_emulator(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(
                f"http://127.0.0.1:{port}",
                dataset_name=args.dataset,
                days=args.days,
                home=Path(tmp),
                emulator_pid=emulator.pid,
            )
        print(json.dumps(figures))
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
