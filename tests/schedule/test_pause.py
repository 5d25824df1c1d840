"""A schedule whose authorizer needs re-authorization pauses (no failed run at every slot)
with a status that says so, and resumes once the authorizer is re-authorized."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from pinads.auth import AuthorizerService
from pinads.cli import app
from pinads.cli.schedule_cmd import run_due
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.runner import SourceStore, service
from pinads.schedule import OutcomeStatus, utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state.schema import SOURCES

PAUSED = (
    "paused: authorizer demo needs re-authorization (it was revoked); "
    "`pinads auth reauthorize demo` resumes the schedule"
)


def _refresh_token(server: EmulatorServer) -> str:
    minted = httpx.post(f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID})
    return str(minted.json()["refresh_token"])


def _setup(server: EmulatorServer, tmp_path: Path) -> None:
    with AuthorizerService(load_settings()) as auth:
        auth.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=_refresh_token(server),
            api_url=server.api_url,
            label="demo",
        )
    store = SourceStore(load_settings())
    try:
        document = {
            "name": "daily",
            "dataset": "campaigns",
            "authorizer": "demo",
            "accounts": [EUR_ADVERTISER_ID],
            "destination": f"duckdb:///{tmp_path}/warehouse.duckdb",
            "schedule": "daily 06:00",
        }
        store.save(SourceConfig.model_validate(document))
        with store.db.engine.begin() as conn:  # created two days ago: its latest slot is due
            conn.execute(SOURCES.update().values(created_at=utc_now() - timedelta(days=2)))
    finally:
        store.close()


def test_a_revoked_authorizer_pauses_its_schedules_until_reauthorized(
    emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _setup(emulator_server, tmp_path)
    settings = load_settings()
    with AuthorizerService(settings) as auth:
        auth.revoke("demo")
    for _ in range(2):  # every check passes the slot over: nothing fails, nothing is recorded
        [outcome] = run_due(settings)
        assert (outcome.status, outcome.message) == (OutcomeStatus.PAUSED, PAUSED)
    assert service.list_runs("daily", settings=settings) == []
    shown = CliRunner().invoke(app, ["sources", "show", "daily"], env={"COLUMNS": "300"})
    assert f"next due: {PAUSED}" in shown.output
    cli = CliRunner().invoke(app, ["run-due"], env={"COLUMNS": "300"})
    assert cli.exit_code == 0  # paused is not a failure
    assert (
        "paused  daily (due " in cli.output
        and "1 due: 0 ok, 0 failed, 0 skipped, 1 paused" in cli.output
    )

    with AuthorizerService(settings) as auth:
        auth.reauthorize("demo", refresh_token=_refresh_token(emulator_server))
    [outcome] = run_due(settings)
    assert outcome.status is OutcomeStatus.OK, outcome
    [run] = service.list_runs("daily", settings=settings)
    assert run.kind == "scheduled" and run.status == "succeeded"
    assert run_due(settings) == []  # the slot was served once
