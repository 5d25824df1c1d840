"""Process-wide switches (the collector, Arrow's allocator) belong to the process's entry point:
a run leaves them as it found them, during the run too (the web server runs several at once),
and `pinads` sets them once when it starts."""

from __future__ import annotations

import gc
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa

from pinads.extract import RunProgress
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .fake_pinterest import FakePinterest, fake_client

TODAY = date(2026, 11, 28)


def _switches() -> tuple[tuple[int, ...], int, str]:
    return gc.get_threshold(), gc.get_freeze_count(), pa.default_memory_pool().backend_name


def test_a_run_changes_no_process_wide_switch(tmp_path: Path) -> None:
    config, dataset = parse_config(
        {
            "name": "campaign_daily",
            "dataset": "campaign_analytics",
            "authorizer": "demo",
            "attributes": ["DATE", "CAMPAIGN_ID"],
            "metrics": ["SPEND_IN_MICRO_DOLLAR"],
            "date_range": {"start": "2026-11-01", "end": "2026-11-10"},
            "destination": f"duckdb:///{tmp_path}/out.duckdb",
        },
        today=TODAY,
    )
    before = _switches()
    seen: list[tuple[tuple[int, ...], int, str]] = []

    def progress(_: RunProgress) -> None:
        seen.append(_switches())

    destination = open_destination(config.destination, settings=load_settings())
    with fake_client(FakePinterest(campaigns=3)) as client:
        result = run_source(
            config, dataset, client=client, destination=destination, today=TODAY, progress=progress
        )
    destination.close()
    assert result.rows_written == 30
    assert seen and set(seen) == {before}
    assert _switches() == before


def test_the_pinads_entry_point_sets_them_once() -> None:
    code = (
        "import gc, sys\n"
        "import pyarrow as pa\n"
        "from pinads.cli import main\n"
        "before = (gc.get_freeze_count(), pa.default_memory_pool().backend_name)\n"
        "sys.argv = ['pinads', 'datasets']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    after = (gc.get_freeze_count() > 0, pa.default_memory_pool().backend_name)\n"
        "    print('SWITCHES', before[0], before[1], *after, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("SWITCHES"))
    assert line.split()[1:] == ["0", "mimalloc", "True", "system"]
