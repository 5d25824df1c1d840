"""`pinads demo` from a fresh PINADS_HOME, twice: same table, every run recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

PINADS = Path(sys.executable).parent / "pinads"


def _demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PINADS_HOME": str(home), "COLUMNS": "160"}
    return subprocess.run(
        [str(PINADS), "demo"], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _table(home: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(home / "pinads.duckdb"), read_only=True) as conn:
        return conn.execute(
            "SELECT date, campaign_id, spend_in_micro_dollar, impression_1, total_conversions "
            "FROM demo_campaign_daily ORDER BY date, campaign_id"
        ).fetchall()


def test_demo_runs_from_a_fresh_home_and_again(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    first = _demo(home)
    assert first.returncode == 0, first.stderr
    assert "authorized the demo app (OAuth code flow, auto-approved)" in first.stdout
    assert "done manual run" in first.stdout and "API calls (planned 3)" in first.stdout
    rows = _table(home)
    assert len(rows) > 0
    second = _demo(home)
    assert second.returncode == 0, second.stderr
    again = _table(home)
    days = {row[0] for row in rows}
    # The same days upserted: nothing duplicated, nothing changed (a run just after midnight
    # UTC adds the new day, hence the comparison on the first run's days).
    assert [row for row in again if row[0] in days] == rows
    assert len({row[:2] for row in again}) == len(again)
    runs = subprocess.run(
        [str(PINADS), "runs", "demo_campaign_daily"],
        env={**os.environ, "PINADS_HOME": str(home), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert runs.count("succeeded") == 2
