"""Backfill benchmark: two years of a large advertiser through async reports into DuckDB.

The emulator runs in its own process (`pinads emulator`); each repetition runs the backfill in
a fresh child process (its own peak RSS) against a fresh emulator.

    .venv/bin/python bench/backfill.py                    # campaign level, 730 days, 3 runs
    .venv/bin/python bench/backfill.py --dataset ad_group_analytics --days 730 --repeat 1

Prints one JSON line per run and one with the medians: rows, reports, API calls (and the
planner's minimum), wall time against its lower bound, when the reports were ready and when
the last one was written, client and emulator CPU seconds, and the client's peak RSS.

The lower bound is the larger of two paths. The rate limit: the calls at 300 per minute. The
report path: a report is built when the emulator answers its finishing poll (the third), so
first the client's polling wait before that poll; then the emulator's own CPU time (one
Python process builds all the reports, one core at a time); then the client's CPU for at least
one report (it cannot write a report before it exists).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, start_emulator

ANALYTICS_CALLS_PER_MINUTE = 300
EMULATOR_POLLS_UNTIL_FINISHED = 2  # the emulator's default: FINISHED at the third poll
METRICS = [
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "CLICKTHROUGH_1",
    "OUTBOUND_CLICK_1",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
]


def _polling_wait_seconds() -> float:
    """The client's sleeps before the finishing poll (it polls once right after creating)."""
    from pinads.api import ReportPolling

    polling = ReportPolling()
    delay, total = polling.first_delay_seconds, 0.0
    for _ in range(EMULATOR_POLLS_UNTIL_FINISHED):
        total += delay
        delay = min(delay * polling.backoff_factor, polling.max_delay_seconds)
    return total


class _Downloads(logging.Handler):
    """When each report file was downloaded (httpx logs every request)."""

    def __init__(self, started: float) -> None:
        super().__init__(logging.INFO)
        self.started = started
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "/_emulator/report-files/" in record.getMessage():
            self.times.append(time.monotonic() - self.started)


def run_once(
    base_url: str, *, dataset_name: str, days: int, home: Path, emulator_pid: int
) -> dict[str, Any]:
    os.environ["PINADS_HOME"] = str(home)
    import psutil

    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.emulator import LARGE_ADVERTISER_ID
    from pinads.extract import RunProgress
    from pinads.extract.plan import StepKind
    from pinads.load import open_destination
    from pinads.runner.run import run_source
    from pinads.settings import load_settings
    from pinads.sources.config import SourceConfig
    from pinads.values import RunKind

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
    server = psutil.Process(emulator_pid)
    server_cpu0 = sum(server.cpu_times()[:2])
    wall0, cpu0 = time.monotonic(), time.process_time()
    downloads = _Downloads(wall0)
    logging.getLogger("httpx").addHandler(downloads)
    logging.getLogger("httpx").setLevel(logging.INFO)
    written: list[float] = []
    plans: list[Any] = []

    def progress(_state: RunProgress) -> None:
        written.append(time.monotonic() - wall0)

    with PinterestClient(app, tokens, MemorySink()) as client:
        result = run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=RunKind.BACKFILL,
            progress=progress,
            on_plan=plans.append,
        )
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    server_cpu = sum(server.cpu_times()[:2]) - server_cpu0
    destination.close()
    reports = sum(step.kind is StepKind.REPORT for step in plans[0].steps)
    wait = _polling_wait_seconds()
    floor = max(
        result.api_calls / (ANALYTICS_CALLS_PER_MINUTE / 60),
        wait + server_cpu + cpu / max(1, reports),
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
        "first_report_downloaded_s": round(min(downloads.times), 2) if downloads.times else None,
        "last_report_downloaded_s": round(max(downloads.times), 2) if downloads.times else None,
        "last_batch_written_s": round(max(written), 2) if written else None,
        "polling_wait_s": round(wait, 2),
        "client_cpu_s": round(cpu, 2),
        "emulator_cpu_s": round(server_cpu, 2),
        "rows_per_client_cpu_s": round(result.rows_written / cpu) if cpu else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def _one(args: argparse.Namespace) -> None:
    port = free_port()
    emulator = start_emulator(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run_once(
                f"http://127.0.0.1:{port}",
                dataset_name=args.dataset,
                days=args.days,
                home=Path(tmp),
                emulator_pid=emulator.pid,
            )
        print(json.dumps(figures), flush=True)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    out: dict[str, Any] = {"median_of": len(runs), "dataset": runs[0]["dataset"]}
    out.update({k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", default="campaign_analytics")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args)
        return
    runs = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, "--one", "--dataset", args.dataset]
        output = subprocess.run(
            [*command, "--days", str(args.days)], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    print(json.dumps(_medians(runs)))


if __name__ == "__main__":
    main()
