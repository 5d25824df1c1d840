"""One run per source across processes, as a user meets it: a `pinads backfill` process holds
the source; `pinads run` in another process is refused with who holds it; once the backfill's
process is killed (SIGKILL: no cleanup), history shows the backfill interrupted (its lock freed)
and the next run proceeds; the backfill then runs again to the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from pinads.auth import AuthorizerService
from pinads.cli import app
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.runner import SourceStore, service
from pinads.settings import load_settings

PINADS = Path(sys.executable).parent / "pinads"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # FINISHED at the fifth poll (~8 s with the client's backoff): the backfill holds its lock
    # long enough for the other process to be refused.
    return EmulatorConfig(seed=7, report_polls_until_finished=4)


def pinads(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), f"{result.output}{result.exception}"
    return result.exit_code, result.output


def _setup(server: EmulatorServer, tmp_path: Path) -> None:
    minted = httpx.post(f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID})
    with AuthorizerService(load_settings()) as auth:
        auth.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted.json()["refresh_token"],
            api_url=server.api_url,
            label="demo",
        )
    path = tmp_path / "shop.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "shop",
                "dataset": "campaign_analytics",
                "authorizer": "demo",
                "accounts": [EUR_ADVERTISER_ID],
                "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
                "date_range": "last_7_days",
                "destination": f"duckdb:///{tmp_path}/shop.duckdb",
            }
        )
    )
    assert pinads("sources", "create", "--file", str(path))[0] == 0


def _lock_holder() -> str | None:
    store = SourceStore(load_settings())
    try:
        lock = store.db.runs.lock_of(store.db.sources.get("shop").id)
    finally:
        store.close()
    return None if lock is None else lock.run_id


def _recorded(run_id: str) -> bool:
    return any(run.id == run_id for run in service.list_runs("shop"))


def test_a_second_process_is_refused_and_a_killed_runs_lock_is_taken_over(
    emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _setup(emulator_server, tmp_path)
    today = emulator_server.state.today()
    start, end = today - timedelta(days=300), today - timedelta(days=150)  # one async report
    args = ["backfill", "shop", "--from", str(start), "--to", str(end)]
    backfill = subprocess.Popen(
        [str(PINADS), *args],
        env={**os.environ, "COLUMNS": "250"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # The lock comes first (before the destination is opened), the run's record next.
        while (holder := _lock_holder()) is None or not _recorded(holder):
            assert backfill.poll() is None, backfill.communicate()[1]
            assert time.monotonic() < deadline, "the backfill never took its lock"
            time.sleep(0.05)
        assert holder is not None and backfill.poll() is None, backfill.communicate()[1]

        code, output = pinads("run", "shop")
        assert code == 7, output
        assert output.startswith(
            f"source 'shop' is already running (run {holder}, pid {backfill.pid} on "
            f"{socket.gethostname()}, since "
        )
        assert output.endswith(" UTC): wait for it to finish - `pinads runs shop` shows it")
    finally:
        backfill.send_signal(signal.SIGKILL)
        backfill.wait(timeout=30)
    assert backfill.returncode == -signal.SIGKILL

    [dead] = service.list_runs("shop")  # reading history finds the dead process
    assert (dead.id, dead.kind, dead.status) == (holder, "backfill", "interrupted")
    assert dead.error == (
        f"interrupted: its process ({socket.gethostname()} pid {backfill.pid}) is gone; "
        f"`pinads backfill shop --from {start} --to {end}` resumes it from its checkpoints"
    )
    assert _lock_holder() is None
    code, output = pinads("run", "shop")
    assert code == 0, output

    code, output = pinads(*args)
    assert code == 0, output
    assert f"of shop {start}..{end}: " in output and "1 batch (0 already done)" in output
    assert [(run.kind, run.status) for run in service.list_runs("shop")] == [
        ("backfill", "succeeded"),
        ("manual", "succeeded"),
        ("backfill", "interrupted"),
    ]
