"""Scheduled conversion source: a daily run of async-only conversion metrics for the large
advertiser, re-reading its 30-day lookback window through async reports, into DuckDB.

The emulator runs in its own process (`pinads emulator`); each repetition runs the scheduled
run in this process against a fresh emulator.

    .venv/bin/python bench/scheduled_conversions.py              # campaign level, 3 runs
    .venv/bin/python bench/scheduled_conversions.py --dataset ad_group_analytics --repeat 1

Prints one JSON line per run: rows, reports, API calls (and the planner's minimum), wall time,
client and emulator CPU seconds, and the path the planner chose.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, start_emulator

# Conversion metrics only async reports serve (the synchronous endpoints refuse them).
METRICS = [
    "TOTAL_CLICK_PAGE_VISIT",
    "TOTAL_ENGAGEMENT_ADD_TO_CART",
    "TOTAL_CLICK_SEARCH",
    "TOTAL_CLICK_CUSTOM",
]


def run_once(base_url: str, *, dataset_name: str, home: Path, emulator_pid: int) -> dict[str, Any]:
    os.environ["PINADS_HOME"] = str(home)
    import psutil

    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.emulator import LARGE_ADVERTISER_ID
    from pinads.extract.plan import Plan, StepKind
    from pinads.load import open_destination
    from pinads.runner.run import run_source
    from pinads.settings import load_settings
    from pinads.sources.config import SourceConfig
    from pinads.values import RunKind

    dataset = get_dataset(dataset_name)
    assert dataset.async_report is not None
    config = SourceConfig.model_validate(
        {
            "name": "bench_conversions",
            "dataset": dataset_name,
            "authorizer": "bench",
            "accounts": [LARGE_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", dataset.async_report.row_id_key],
            "metrics": METRICS,
            "date_range": "yesterday",
            "schedule": "daily 06:00",
            "lookback_days": 30,
            "destination": f"duckdb:///{home}/conversions.duckdb",
        }
    )
    app, tokens = authorize(base_url, f"{base_url}/v5")
    destination = open_destination(config.destination, settings=load_settings())
    server = psutil.Process(emulator_pid)
    server_cpu0 = sum(server.cpu_times()[:2])
    plans: list[Plan] = []
    wall0, cpu0 = time.monotonic(), time.process_time()
    with PinterestClient(app, tokens, MemorySink()) as client:
        result = run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=datetime.now(UTC).date(),
            kind=RunKind.SCHEDULED,
            on_plan=plans.append,
        )
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    destination.close()
    return {
        "dataset": dataset_name,
        "range": f"{result.start}..{result.end}",
        "path": plans[0].reason,
        "reports": sum(step.kind is StepKind.REPORT for step in plans[0].steps),
        "rows": result.rows_written,
        "api_calls": result.api_calls,
        "planned_calls": result.planned_calls,
        "wall_s": round(wall, 2),
        "client_cpu_s": round(cpu, 2),
        "emulator_cpu_s": round(sum(server.cpu_times()[:2]) - server_cpu0, 2),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", default="campaign_analytics")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.repeat):
        port = free_port()
        emulator = start_emulator(port)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                figures = run_once(
                    f"http://127.0.0.1:{port}",
                    dataset_name=args.dataset,
                    home=Path(tmp),
                    emulator_pid=emulator.pid,
                )
            print(json.dumps(figures), flush=True)
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
