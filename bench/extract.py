"""Extraction benchmark: a large advertiser from a loopback emulator into DuckDB.

The emulator runs in its own process (`pinads emulator`), so the CPU and memory figures are the
client's alone. Each size runs in a fresh child process so its peak RSS is its own.

    .venv/bin/python bench/extract.py                        # the default cases below
    .venv/bin/python bench/extract.py --case ad_analytics:90 # one case: DATASET:DAYS

Prints, per case: rows, API calls vs the planner's count and the lower bound, rows per second
of client CPU (the whole run, and the extraction alone without the DuckDB write), client CPU
seconds, wall seconds and peak RSS. Ad groups x 90 days and ads x 90 days make the same calls
(250 ids x 90 days each), so their peak RSS shows memory does not grow with the row count.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
METRICS = (
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
    "TOTAL_ADD_TO_CART",
    "VIDEO_MRC_VIEWS_2",
    "PIN_PROMOTION_ID",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_emulator(port: int) -> subprocess.Popen[bytes]:
    cmd = [str(ROOT / ".venv/bin/pinads"), "emulator", "--port", str(port), "--auto-approve"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the emulator did not start within 60 s")


def _metrics(dataset_name: str) -> list[str]:
    from pinads.catalog import get_dataset

    dataset = get_dataset(dataset_name)
    chosen = [m for m in METRICS if dataset.metric(m) is not None and dataset.metric(m).in_sync]  # type: ignore[union-attr]
    extra = [m.name for m in dataset.metrics if m.in_sync and m.name not in chosen]
    return (chosen + extra)[:30]


def _attributes(dataset_name: str) -> list[str]:
    if dataset_name == "ad_analytics":
        return ["DATE", "AD_ACCOUNT_ID", "AD_ID", "CAMPAIGN_ID", "AD_GROUP_ID"]
    return ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID", "CAMPAIGN_ID"]


def _extract_only(app: Any, tokens: Any, config: Any, dataset: Any, today: Any) -> float:
    """Client CPU of the extraction alone (requests, JSON, Arrow), rows dropped unwritten."""
    from pinads.api import PinterestClient
    from pinads.cli.demo_cmd import MemorySink
    from pinads.extract.engine import run_steps
    from pinads.runner.core import build_job
    from pinads.runner.prepare import prepare

    cpu0 = time.process_time()
    with PinterestClient(app, tokens, MemorySink()) as client:
        prepared = prepare(client, config, dataset, period=config.date_range, today=today)
        job = build_job(prepared, client, run_id="extract-only", extracted_at=None, polling=None)
        for output in run_steps(job, list(prepared.plan.steps)):
            for _ in output.batches:
                pass
            output.close()
    return time.process_time() - cpu0


def child(base_url: str, dataset_name: str, days: int, out: Path) -> dict[str, object]:
    """One measured run (in its own process)."""
    from pinads.api import PinterestClient
    from pinads.catalog import get_dataset
    from pinads.cli.demo_cmd import MemorySink, authorize
    from pinads.emulator import LARGE_ADVERTISER_ID
    from pinads.extract.plan import list_calls
    from pinads.load import open_destination
    from pinads.runner.run import run_source
    from pinads.settings import load_settings
    from pinads.sources.config import SourceConfig

    today = datetime.now(UTC).date()
    config = SourceConfig.model_validate(
        {
            "name": f"bench_ads_{days}d",
            "dataset": "ad_analytics",
            "authorizer": "bench",
            "accounts": [LARGE_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", "AD_ID", "CAMPAIGN_ID", "AD_GROUP_ID"],
            "metrics": _metrics("ad_analytics"),
            "granularity": "DAY",
            "date_range": {"start": today - timedelta(days=days), "end": today - timedelta(days=1)},
            "metadata": ["extracted_at", "source_name", "run_id", "account_currency"],
            "destination": f"duckdb:///{out}",
        }
    )
    dataset = get_dataset(config.dataset)
    app, tokens = authorize(base_url, f"{base_url}/v5")
    extract_cpu = _extract_only(app, tokens, config, dataset, today)
    extract_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    destination = open_destination(config.destination, settings=load_settings())
    cpu0, wall0 = time.process_time(), time.monotonic()
    with PinterestClient(app, tokens, MemorySink()) as client:
        plans: list[object] = []
        result = run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=today,
            on_plan=plans.append,
        )
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    destination.close()
    plan = plans[0]
    ads = sum(len(step.ids) for step in plan.steps if step.start == plan.steps[0].start)  # type: ignore[attr-defined]
    lower = 1 + list_calls(ads) + math.ceil(ads / 250) * math.ceil(days / 90)
    return {
        "dataset": dataset_name,
        "days": days,
        "entities": ads,
        "metrics": len(config.metrics),
        "rows": result.rows_written,
        "api_calls": result.api_calls,
        "planned_calls": result.planned_calls,
        "lower_bound_calls": lower,
        "client_cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "rows_per_cpu_s": round(result.rows_written / cpu) if cpu else None,
        "extract_only_cpu_s": round(extract_cpu, 2),
        "extract_only_rows_per_cpu_s": round(result.rows_written / extract_cpu),
        "extract_only_peak_rss_mb": round(extract_rss, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


DEFAULT_CASES = ("ad_group_analytics:90", "ad_analytics:45", "ad_analytics:90")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case",
        action="append",
        help="DATASET:DAYS (repeatable); default " + " ".join(DEFAULT_CASES),
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.case or list(DEFAULT_CASES)
    if args.child:
        dataset_name, days = cases[0].split(":")
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["PINADS_HOME"] = tmp
            figures = child(args.url, dataset_name, int(days), Path(tmp) / "bench.duckdb")
            print(json.dumps(figures))
        return
    port = _free_port()
    emulator = _start_emulator(port)
    try:
        for case in cases:
            url = f"http://127.0.0.1:{port}"
            cmd = [sys.executable, __file__, "--child", "--case", case, "--url", url]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            print(out.strip().splitlines()[-1])
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
