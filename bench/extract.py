"""Extraction benchmark: a large advertiser from a loopback emulator into DuckDB.

The emulator runs in its own process (`pinads emulator`), so the CPU and memory figures are the
client's alone. Each case runs in fresh child processes, one per mode, so each peak RSS is its
own: `extract` (plan, requests, JSON, Arrow; rows dropped) and `whole` (what `pinads run` does,
closing the destination included). A `:rerun` case runs the source twice into the same file and
reports the second run (every key already there).

    .venv/bin/python bench/extract.py                               # the default cases below
    .venv/bin/python bench/extract.py --case ad_analytics:90 --repeat 3   # DATASET:DAYS[:rerun]
    .venv/bin/python bench/extract.py --case ad_analytics:90:wide   # every metric, not 30

Prints one JSON line per case and mode: rows, API calls vs the planner's count and the lower
bound, client CPU seconds, rows per second of client CPU, wall seconds, RSS before the run and
peak RSS. Ads x 45 and x 90 days make the same number of calls of different sizes; ad groups and
ads x 90 days make calls of the same size for different row counts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import TYPICAL_METRICS, free_port, start_emulator


def _metrics(dataset_name: str, *, wide: bool = False) -> list[str]:
    """30 metrics (the common ones first), or with `wide` every metric the sync endpoint has."""
    from pinads.catalog import get_dataset

    dataset = get_dataset(dataset_name)
    chosen = [m for m in TYPICAL_METRICS if _in_sync(dataset.metric(m))]
    extra = [m.name for m in dataset.metrics if m.in_sync and m.name not in chosen]
    return chosen + extra if wide else (chosen + extra)[:30]


def _in_sync(metric: Any) -> bool:
    return metric is not None and bool(metric.in_sync)


def _attributes(dataset_name: str) -> list[str]:
    if dataset_name == "ad_analytics":
        return ["DATE", "AD_ACCOUNT_ID", "AD_ID", "CAMPAIGN_ID", "AD_GROUP_ID"]
    return ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID", "CAMPAIGN_ID"]


def _config(dataset_name: str, days: int, out: Path, today: date, *, wide: bool = False) -> Any:
    from pinads.emulator import LARGE_ADVERTISER_ID
    from pinads.sources.config import SourceConfig

    return SourceConfig.model_validate(
        {
            "name": f"bench_{dataset_name}_{days}d",
            "dataset": dataset_name,
            "authorizer": "bench",
            "accounts": [LARGE_ADVERTISER_ID],
            "attributes": _attributes(dataset_name),
            "metrics": _metrics(dataset_name, wide=wide),
            "granularity": "DAY",
            "date_range": {"start": today - timedelta(days=days), "end": today - timedelta(days=1)},
            "metadata": ["extracted_at", "source_name", "run_id", "account_currency"],
            "destination": f"duckdb:///{out}",
        }
    )


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _extract_only(base_url: str, config: Any, today: date) -> dict[str, object]:
    """Client CPU of the extraction alone (requests, JSON, Arrow), rows dropped unwritten."""
    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.extract import build_job, discover, make_plan, stream_steps
    from pinads.runner.request import new_request
    from pinads.values import RunKind

    app, tokens = authorize(base_url, f"{base_url}/v5")
    rows = 0
    start_rss = _rss_mb()
    cpu0 = time.process_time()
    with PinterestClient(app, tokens, MemorySink()) as client:
        dataset = get_dataset(config.dataset)
        request = new_request(
            config,
            dataset,
            kind=RunKind.MANUAL,
            run_id="extract-only",
            today=today,
            period=config.date_range,
        )
        found = discover(request, client)
        plan = make_plan(request, found)
        for output in stream_steps(build_job(request, found, client), list(plan.steps)):
            rows += sum(batch.num_rows for batch in output.batches)
            output.close()
    cpu = time.process_time() - cpu0
    return {
        "rows": rows,
        "extract_only_cpu_s": round(cpu, 2),
        "extract_only_rows_per_cpu_s": round(rows / cpu),
        "extract_only_start_rss_mb": start_rss,
        "extract_only_peak_rss_mb": _peak_rss_mb(),
    }


def _whole_run(base_url: str, config: Any, today: date, *, runs: int) -> dict[str, object]:
    """The run as `pinads run` makes it (plan, extract, DuckDB upsert, checkpoints), `runs`
    times into the same file (a rerun upserts every row again); figures of the last run,
    closing the destination (its final checkpoint) included."""
    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.extract.plan import Plan, list_calls
    from pinads.load import open_destination
    from pinads.runner.run import run_source
    from pinads.settings import load_settings

    dataset = get_dataset(config.dataset)
    app, tokens = authorize(base_url, f"{base_url}/v5")
    start_rss = _rss_mb()
    for _ in range(runs):
        destination = open_destination(config.destination, settings=load_settings())
        plans: list[Plan] = []
        cpu0, wall0 = time.process_time(), time.monotonic()
        with PinterestClient(app, tokens, MemorySink()) as client:
            result = run_source(
                config,
                dataset,
                client=client,
                destination=destination,
                today=today,
                on_plan=plans.append,
            )
        destination.close()
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    plan = plans[0]
    days = (config.date_range.end - config.date_range.start).days + 1
    entities = sum(len(step.ids) for step in plan.steps if step.start == plan.steps[0].start)
    lower = 1 + list_calls(entities) + math.ceil(entities / 250) * math.ceil(days / 90)
    return {
        "entities": entities,
        "metrics": len(config.metrics),
        "rows": result.rows_written,
        "api_calls": result.api_calls,
        "planned_calls": result.planned_calls,
        "lower_bound_calls": lower,
        "client_cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "rows_per_cpu_s": round(result.rows_written / cpu) if cpu else None,
        "start_rss_mb": start_rss,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child(base_url: str, case: str, mode: str, out: Path) -> dict[str, object]:
    """One measured run (in its own process, so its peak RSS is its own)."""
    dataset_name, days, *rest = case.split(":")
    today = datetime.now(UTC).date()
    config = _config(dataset_name, int(days), out, today, wide="wide" in rest)
    figures: dict[str, object] = {"case": case, "mode": mode}
    if mode == "extract":
        figures.update(_extract_only(base_url, config, today))
    else:
        runs = 2 if "rerun" in rest else 1
        figures.update(_whole_run(base_url, config, today, runs=runs))
    return figures


DEFAULT_CASES = (
    "ad_group_analytics:90",
    "ad_analytics:45",
    "ad_analytics:90",
    "ad_analytics:90:rerun",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case",
        action="append",
        help="DATASET:DAYS[:rerun][:wide] (repeatable; wide: every metric); default "
        + " ".join(DEFAULT_CASES),
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each case (fresh processes); default 1"
    )
    parser.add_argument("--child", choices=("extract", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.case or list(DEFAULT_CASES)
    if args.child:
        # What the `pinads` entry point sets for its process (the library leaves it alone),
        # once the CLI's modules are loaded, as `pinads` does: the frozen heap then holds them.
        import pinads.cli  # noqa: F401
        from pinads.process import tune_process

        tune_process()
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["PINADS_HOME"] = tmp
            figures = child(args.url, cases[0], args.child, Path(tmp) / "bench.duckdb")
            print(json.dumps(figures))
        return
    port = free_port()
    emulator = start_emulator(port)
    try:
        url = f"http://127.0.0.1:{port}"
        for case in cases:
            for _ in range(args.repeat):
                for mode in ("whole",) if "rerun" in case else ("extract", "whole"):
                    cmd = [sys.executable, __file__, "--child", mode, "--case", case, "--url", url]
                    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                    print(out.strip().splitlines()[-1], flush=True)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
