"""`pinads run-due` and `pinads scheduler` over the real control DB, runner and DuckDB, with the
in-process emulator behind the authorizer; the scheduler process is stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from pinads.api import PinterestClient
from pinads.cli import app
from pinads.cli.schedule_cmd import load_candidates, run_due, scheduled_runner
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.load import open_destination
from pinads.runner import RunResult, SourceStore
from pinads.runner.service import list_runs
from pinads.schedule import (
    OutcomeStatus,
    find_due,
    next_run_after,
    parse_schedule,
    run_due_once,
    utc_now,
)
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state.schema import SOURCES
from pinads.values import RunKind

Opener = Callable[[str], PinterestClient]


def _save(
    tmp_path: Path,
    name: str,
    schedule: str | None,
    authorizer: str = "demo",
    *,
    days_ago: int | None = 2,
) -> None:
    """Save a source, created `days_ago` (so its latest slot is due), or now with None."""
    # an entity list keeps the runs small: the EUR advertiser's campaigns
    document = {
        "name": name,
        "dataset": "campaigns",
        "authorizer": authorizer,
        "accounts": [EUR_ADVERTISER_ID],
        "destination": f"duckdb:///{tmp_path}/warehouse.duckdb",
        "schedule": schedule,
    }
    store = SourceStore(load_settings())
    try:
        store.save(SourceConfig.model_validate(document))
        if days_ago is not None:  # the control DB stamps creation itself: move it back
            with store.db.engine.begin() as conn:
                conn.execute(
                    SOURCES.update()
                    .where(SOURCES.c.name == name)
                    .values(created_at=utc_now() - timedelta(days=days_ago))
                )
    finally:
        store.close()


def _record_scheduled_run(name: str) -> None:
    store = SourceStore(load_settings())
    try:
        store.begin(source=name, kind="scheduled", run_id=f"{name}-earlier", start=None, end=None)
        store.finish(f"{name}-earlier", result=None, error=None)
    finally:
        store.close()


def test_run_due_runs_only_due_sources_as_scheduled_runs_once(
    emulator_opener: Opener, tmp_path: Path
) -> None:
    _save(tmp_path, "hourly_spend", "hourly", days_ago=None)  # new: due at its first slot
    _save(tmp_path, "by_hand", None)
    _save(tmp_path, "leap_day", "cron: 0 0 29 2 *")
    _record_scheduled_run("leap_day")  # served its latest slot (a 29 February) already
    settings = load_settings()
    candidates = {c.name: c for c in load_candidates(settings)}
    assert candidates["leap_day"].last_run_started is not None
    assert candidates["leap_day"].last_run_started.tzinfo is not None
    assert candidates["hourly_spend"].schedule == parse_schedule("hourly")
    created = candidates["hourly_spend"].created_at
    assert created is not None and created.tzinfo is not None

    # the hour it was created in is not due: its slot came before the source existed
    assert run_due(settings, opener=emulator_opener, now=created + timedelta(seconds=1)) == []
    first_slot = next_run_after(parse_schedule("hourly"), created, source_name="hourly_spend")
    assert first_slot is not None
    now = first_slot + timedelta(minutes=5)
    outcomes = run_due(settings, opener=emulator_opener, now=now)
    assert [(o.source, o.status, o.slot) for o in outcomes] == [
        ("hourly_spend", OutcomeStatus.OK, first_slot)
    ]
    result = outcomes[0].result
    assert isinstance(result, RunResult) and result.kind is RunKind.SCHEDULED
    destination = open_destination(f"duckdb:///{tmp_path}/warehouse.duckdb", settings=settings)
    try:
        assert destination.read_table("hourly_spend").num_rows == result.rows_written > 0
    finally:
        destination.close()
    store = SourceStore(settings)
    try:
        history = store.runs("hourly_spend")
    finally:
        store.close()
    assert [(r.kind, r.status) for r in history] == [("scheduled", "succeeded")]
    # the slot is served (the run started after it): asking again runs nothing
    assert run_due(settings, opener=emulator_opener, now=utc_now() + timedelta(seconds=1)) == []


def test_a_source_already_running_elsewhere_is_skipped_with_the_lock_message(
    emulator_opener: Opener, tmp_path: Path
) -> None:
    _save(tmp_path, "busy", "daily 06:00")
    store = SourceStore(load_settings())
    store.begin(source="busy", kind="manual", run_id="manual-run", start=None, end=None)
    try:
        outcomes = run_due(load_settings(), opener=emulator_opener)
        assert [(o.source, o.status) for o in outcomes] == [("busy", OutcomeStatus.SKIPPED)]
        assert "source 'busy' is already running" in outcomes[0].message
    finally:
        store.finish("manual-run", result=None, error=None)
        store.close()
    # a manual run does not serve the schedule: once it is over, the scheduled run happens
    outcomes = run_due(load_settings(), opener=emulator_opener)
    assert [(o.source, o.status) for o in outcomes] == [("busy", OutcomeStatus.OK)]


def test_run_due_command_prints_a_summary_and_fails_when_a_run_fails(tmp_path: Path) -> None:
    _save(tmp_path, "no_auth", "daily 06:00", authorizer="nobody")
    _save(tmp_path, "by_hand", "manual")
    runner = CliRunner()
    dry = runner.invoke(app, ["run-due", "--dry-run"], env={"COLUMNS": "200"})
    assert dry.exit_code == 0
    assert "due     no_auth (due " in dry.output and "by_hand" not in dry.output
    result = runner.invoke(app, ["run-due"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "failed  no_auth (due " in result.output
    assert "1 due: 0 ok, 1 failed, 0 skipped" in result.output
    assert "next: no_auth at " in result.output


def test_nothing_due_exits_zero() -> None:
    result = CliRunner().invoke(app, ["run-due"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "nothing due" in result.output
    assert "no source has a schedule" in result.output


def test_scheduler_process_runs_due_sources_and_stops_on_sigterm(tmp_path: Path) -> None:
    _save(tmp_path, "no_auth", "daily 06:00", authorizer="nobody")
    process = subprocess.Popen(
        [sys.executable, "-m", "pinads", "scheduler", "--max-sleep", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    watchdog = threading.Timer(60, process.kill)  # a hung scheduler fails the test, not CI
    watchdog.start()
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        assert lines[0].startswith("scheduler started: 1 of 1 sources scheduled; next: no_auth")
        lines.append(process.stdout.readline())  # the first run fails: no such authorizer
        assert lines[1].startswith("failed  no_auth (due ")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 0, err
    assert out.strip().splitlines()[-1] == "scheduler stopped: 1 runs: 0 ok, 1 failed, 0 skipped"
    assert "received SIGTERM: stopping after the run in progress" in err


def test_a_slot_served_by_another_scheduler_meanwhile_is_not_run_again(
    emulator_opener: Opener, tmp_path: Path
) -> None:
    _save(tmp_path, "shared", "daily 06:00")
    settings = load_settings()
    listed = load_candidates(settings)  # this scheduler lists the sources ...
    _record_scheduled_run("shared")  # ... another one runs the source in the meantime
    outcomes = run_due_once(listed, now=utc_now(), run=scheduled_runner(settings, emulator_opener))
    assert [(o.source, o.status, o.message) for o in outcomes] == [
        (
            "shared",
            OutcomeStatus.SKIPPED,
            "source 'shared' already ran for this slot (another scheduler or run-due): "
            "nothing to do",
        )
    ]
    store = SourceStore(settings)
    try:
        assert [r.id for r in store.runs("shared")] == ["shared-earlier"]
    finally:
        store.close()


def test_a_slot_claimed_by_another_scheduler_is_not_run(
    emulator_opener: Opener, tmp_path: Path
) -> None:
    # Two schedulers that both believe they lead (a leader paused past its lease) list the
    # same due slot; the other one claimed it first.
    _save(tmp_path, "contested", "daily 06:00")
    settings = load_settings()
    listed = load_candidates(settings)
    store = SourceStore(settings)
    try:
        source_id = store.db.sources.get("contested").id
        ((_, slot),) = find_due(listed, now=utc_now())
        assert store.db.schedule.claim_slot(source_id, slot, claimed_by="other host pid 1")
    finally:
        store.close()
    outcomes = run_due_once(listed, now=utc_now(), run=scheduled_runner(settings, emulator_opener))
    assert [(o.source, o.status) for o in outcomes] == [("contested", OutcomeStatus.SKIPPED)]
    assert "slot was claimed by another scheduler" in outcomes[0].message
    assert list_runs("contested", settings=settings) == []
