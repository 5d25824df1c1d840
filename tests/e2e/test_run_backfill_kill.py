"""A real `pinads backfill` process over 600 days, killed with SIGKILL in the middle, run again:
the table then equals the emulator's numbers day by day, with no gap and no duplicate key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from pinads.auth import AuthorizerService
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.emulator.analytics import attribution_from
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.runner import service
from pinads.settings import load_settings
from pinads.state import open_control_db

PINADS = Path(sys.executable).parent / "pinads"
SECOND_ACCOUNT = "549755813003"  # the default user is an admin there
ACCOUNTS = (EUR_ADVERTISER_ID, SECOND_ACCOUNT)
METRICS = ("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "TOTAL_CONVERSIONS")
DAYS = 600  # 4 reports of <= 186 days per account: 8 reports


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # A report is FINISHED at its second poll (~2.5 s with the client's backoff): the batches are
    # then written one after another, long enough to kill the run between two of them.
    return EmulatorConfig(seed=7, report_polls_until_finished=1)


def _authorize(server: EmulatorServer) -> None:
    minted = httpx.post(
        f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(load_settings()) as auth:
        auth.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=server.api_url,
            label="demo",
        )


def _backfill(start: date, end: date) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(PINADS), "backfill", "history", "--from", start.isoformat(), "--to", end.isoformat()],
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_batches(run: subprocess.Popen[str], *, at_least: int) -> int:
    """Batches the running backfill has committed, once there are `at_least` (or it ended)."""
    deadline = time.monotonic() + 120
    with open_control_db(load_settings()) as db:
        while run.poll() is None and time.monotonic() < deadline:
            records = db.runs.recent(limit=1)
            done = len(db.runs.batches(records[0].id)) if records else 0
            if done >= at_least:
                return done
            time.sleep(0.02)
    return -1


def _truth(
    server: EmulatorServer, start: date, end: date
) -> dict[tuple[str, str], tuple[object, ...]]:
    """(date, campaign id) -> metrics, straight from the emulator's own row builder."""
    state = server.state
    attribution = attribution_from({}, today=state.today_ordinal())
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
        for row in build_rows(state.world, query).table.to_pylist():
            truth[(row["DATE"], row["CAMPAIGN_ID"])] = tuple(row[m] for m in METRICS)
    return truth


def test_backfill_survives_sigkill(emulator_server: EmulatorServer, tmp_path: Path) -> None:
    _authorize(emulator_server)
    database = tmp_path / "history.duckdb"
    service.create_source(
        {
            "name": "history",
            "dataset": "campaign_analytics",
            "authorizer": "demo",
            "accounts": list(ACCOUNTS),
            "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
            "metrics": list(METRICS),
            "destination": f"duckdb:///{database}",
        }
    )
    today = emulator_server.state.today()
    start, end = today - timedelta(days=DAYS), today - timedelta(days=1)

    first = _backfill(start, end)
    # Kill once some batches are written (the run records each committed one) and not all.
    done = _wait_for_batches(first, at_least=1)
    assert 1 <= done < 8 and first.poll() is None, first.communicate()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    second = _backfill(start, end)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "already done)" in out and "(0 already done)" not in out  # it resumed

    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT CAST(date AS VARCHAR), campaign_id, spend_in_micro_dollar, impression_1, "
            "clickthrough_1, total_conversions FROM history"
        ).fetchall()
    got = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    assert len(got) == len(rows)  # no duplicate key
    assert got == _truth(emulator_server, start, end)
