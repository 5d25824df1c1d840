"""A real `pinads sources edit --rebuild` (DAY -> WEEK) killed with SIGKILL in the middle: the
config stays as it was, and the unfinished new table it left is not taken for a replace run's
own (which would swap weekly rows in under the daily config): the next run drops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pinads.emulator import EmulatorConfig, EmulatorServer
from pinads.emulator.analytics import attribution_from
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.runner import service
from pinads.settings import load_settings
from pinads.state import open_control_db

from .test_run_backfill_kill import ACCOUNTS, _authorize

PINADS = Path(sys.executable).parent / "pinads"
METRICS = ("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1")
DAYS = 400  # 3 reports of <= 186 days per account


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # A report is FINISHED at its second poll (~2.5 s): time to kill the rebuild between two.
    return EmulatorConfig(seed=7, report_polls_until_finished=1)


def _pinads(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(PINADS), *args],
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(*args: str) -> str:
    process = _pinads(*args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def _source_file(tmp_path: Path, *, granularity: str, write_mode: str) -> Path:
    path = tmp_path / f"history-{granularity}-{write_mode}.yaml"
    path.write_text(
        "name: history\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: [{', '.join(ACCOUNTS)}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID]\n"
        f"metrics: [{', '.join(METRICS)}]\n"
        f"granularity: {granularity}\n"
        "date_range: last_30_days\n"
        f"write_mode: {write_mode}\n"
        f"destination: duckdb:///{tmp_path}/history.duckdb\n"
    )
    return path


def _wait_for_rebuild_batches(process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 120
    with open_control_db(load_settings()) as db:
        while process.poll() is None and time.monotonic() < deadline:
            records = db.runs.recent(limit=1)
            if records and records[0].kind.value == "rebuild":
                done = len(db.runs.batches(records[0].id))
                if done:
                    return done
            time.sleep(0.02)
    return -1


def _daily_truth(
    server: EmulatorServer, start: date, end: date
) -> dict[tuple[str, str], tuple[object, ...]]:
    attribution = attribution_from({}, today=server.state.today_ordinal())
    truth: dict[tuple[str, str], tuple[object, ...]] = {}
    for account in ACCOUNTS:
        query = ReportQuery(
            account_id=account,
            level="CAMPAIGN",
            start_day=start.toordinal(),
            end_day=end.toordinal(),
            granularity="DAY",
            columns=METRICS,
            attribution=attribution,
        )
        for row in build_rows(server.state.world, query).table.to_pylist():
            truth[(row["DATE"], row["CAMPAIGN_ID"])] = tuple(row[m] for m in METRICS)
    return truth


def test_a_killed_rebuild_leaves_the_config_and_its_new_table_is_dropped(
    emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _authorize(emulator_server)
    _finished(
        "sources",
        "create",
        "--file",
        str(_source_file(tmp_path, granularity="DAY", write_mode="upsert")),
    )
    today = emulator_server.state.today()
    _finished("backfill", "history", "--from", str(today - timedelta(days=DAYS)))
    weekly = _source_file(tmp_path, granularity="WEEK", write_mode="upsert")

    rebuild = _pinads("sources", "edit", "history", "--file", str(weekly), "--rebuild")
    done = _wait_for_rebuild_batches(rebuild)
    assert done >= 1 and rebuild.poll() is None, rebuild.communicate()
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait(timeout=30)

    assert service.get_source("history").granularity.value == "DAY"
    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "history__pinads_shadow" in tables  # what the killed rebuild left
    # A replace run now (allowed: the grain does not change) must not swap that table in.
    daily_replace = _source_file(tmp_path, granularity="DAY", write_mode="replace")
    _finished("sources", "edit", "history", "--file", str(daily_replace))
    _finished("run", "history")

    with duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        rows = conn.execute(
            "SELECT CAST(date AS VARCHAR), campaign_id, spend_in_micro_dollar, impression_1 "
            "FROM history"
        ).fetchall()
    assert "history__pinads_shadow" not in tables
    got = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    assert len(got) == len(rows) > 0
    config = service.get_source("history")
    first = min(date.fromisoformat(day) for day, _ in got)
    assert got == _daily_truth(emulator_server, first, today - timedelta(days=1))
    assert first >= today - timedelta(days=config.effective_lookback_days + 31)
