"""`pinads sources edit` over a loopback emulator: an edit that changes the table's grain is
refused with one line (exit 2) and the table kept; `--rebuild` swaps in a table of the new
grain, with progress on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pinads.emulator import EUR_ADVERTISER_ID

PINADS = Path(sys.executable).parent / "pinads"


def _pinads(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run(
        [str(PINADS), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _source_file(tmp_path: Path, granularity: str) -> Path:
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=27), today - timedelta(days=1)
    path = tmp_path / f"shop-{granularity}.yaml"
    path.write_text(
        "name: shop\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: [{EUR_ADVERTISER_ID}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1]\n"
        f"granularity: {granularity}\n"
        f"date_range: {{start: {start}, end: {end}}}\n"
        f"destination: duckdb:///{tmp_path}/shop.duckdb\n"
    )
    return path


def _table(tmp_path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as conn:
        return conn.execute(
            "SELECT date, campaign_id, spend_in_micro_dollar, impression_1 FROM shop ORDER BY 1, 2"
        ).fetchall()


def test_edit_to_weekly_is_refused_then_rebuilt(authorizer: str, tmp_path: Path) -> None:
    created = _pinads("sources", "create", "--file", str(_source_file(tmp_path, "DAY")))
    assert created.returncode == 0, created.stderr
    ran = _pinads("run", "shop")
    assert ran.returncode == 0, ran.stderr
    daily = _table(tmp_path)
    weekly_file = str(_source_file(tmp_path, "WEEK"))

    refused = _pinads("sources", "edit", "shop", "--file", weekly_file)

    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert lines[0].startswith("error: source 'shop' has already written its table 'shop'")
    assert "granularity (DAY -> WEEK: WEEK totals would be written next to the DAY rows" in lines[0]
    assert "--rebuild" in lines[0]
    assert _table(tmp_path) == daily
    shown = _pinads("sources", "show", "shop")
    assert "granularity: DAY" in shown.stdout

    rebuilt = _pinads("sources", "edit", "shop", "--file", weekly_file, "--rebuild")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuild " in rebuilt.stderr and " batch" in rebuilt.stderr  # the plan, on stderr
    assert "done rebuild run " in rebuilt.stdout
    assert "updated source shop: its table was rebuilt with the new config" in rebuilt.stdout
    weekly = _table(tmp_path)
    assert weekly and len(weekly) < len(daily)
    assert {row[0].weekday() for row in weekly} == {0}  # Mondays
    assert sum(int(r[2] or 0) for r in weekly) == sum(int(r[2] or 0) for r in daily)
    assert "granularity: WEEK" in _pinads("sources", "show", "shop").stdout
    history = _pinads("runs", "shop")
    assert "rebuild" in history.stdout
