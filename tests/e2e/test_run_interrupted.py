"""A `pinads backfill` process killed with SIGKILL (no cleanup at all): its run record still
says "running" until history is read; `pinads runs` then shows it interrupted with the command
that resumes it, marks it so in the control DB (what the web UI reads) and frees its lock; that
command (here without --to) continues the same range from its checkpoints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from pinads.emulator import EUR_ADVERTISER_ID, EmulatorConfig, EmulatorServer
from pinads.runner import service
from pinads.settings import load_settings
from pinads.state import RunStatus, open_control_db

PINADS = Path(sys.executable).parent / "pinads"


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "400"}  # this test's PINADS_HOME; the advice fits a row


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # A report is FINISHED at its fifth poll (~8 s with the client's backoff): the backfill is
    # still running when it is killed.
    return EmulatorConfig(seed=7, report_polls_until_finished=4)


def _pinads(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PINADS), *args], env=_env(), capture_output=True, text=True, timeout=300, check=False
    )


def _planned_run(process: subprocess.Popen[str], start: date) -> str:
    """The id of the backfill run the process recorded, once it stored its plan (its steps
    start then: the async report takes seconds)."""
    deadline = time.monotonic() + 60
    with open_control_db(load_settings()) as db:
        source = db.sources.get("shop")
        while process.poll() is None and time.monotonic() < deadline:
            stored = db.plans.latest_backfill(source.id, start=start)
            if stored is not None:
                return stored.run.id
            time.sleep(0.05)
    raise AssertionError(f"the backfill never planned: {process.communicate()}")


def test_a_killed_backfill_shows_interrupted_and_resumes(
    emulator_server: EmulatorServer, authorizer: str, tmp_path: Path
) -> None:
    service.create_source(
        {
            "name": "shop",
            "dataset": "campaign_analytics",
            "authorizer": authorizer,
            "accounts": [EUR_ADVERTISER_ID],
            "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
            "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
            "destination": f"duckdb:///{tmp_path}/shop.duckdb",
        }
    )
    today = emulator_server.state.today()
    start, end = today - timedelta(days=300), today - timedelta(days=150)  # one async report
    backfill = subprocess.Popen(
        [str(PINADS), "backfill", "shop", "--from", str(start), "--to", str(end)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = _planned_run(backfill, start)
    finally:
        backfill.send_signal(signal.SIGKILL)
        backfill.wait(timeout=30)
    assert backfill.returncode == -signal.SIGKILL
    with open_control_db(load_settings()) as db:  # nothing has looked at it yet
        assert db.runs.get(run_id).status is RunStatus.RUNNING

    listed = _pinads("runs", "shop")
    assert listed.returncode == 0, listed.stderr
    advice = (
        f"interrupted: its process ({socket.gethostname()} pid {backfill.pid}) is gone; "
        f"`pinads backfill shop --from {start} --to {end}` resumes it from its checkpoints"
    )
    [row] = [line for line in listed.stdout.splitlines() if run_id in line]
    assert "│ interrupted │" in row and advice in row, listed.stdout
    with open_control_db(load_settings()) as db:  # marked, so the web UI shows the same
        record = db.runs.get(run_id)
        assert (record.status, record.error) == (RunStatus.INTERRUPTED, advice)
        assert record.finished_at is not None
        assert db.runs.lock_of(db.sources.get("shop").id) is None

    resumed = _pinads("backfill", "shop", "--from", str(start))  # no --to: its own range
    assert resumed.returncode == 0, resumed.stderr
    assert "backfill run " in resumed.stdout and f"of shop {start}..{end}: " in resumed.stdout
    statuses = [(run.kind, run.status) for run in service.list_runs("shop")]
    assert statuses == [("backfill", "succeeded"), ("backfill", "interrupted")]
