"""Runs whose process is gone are found (`dead_runs`) and marked interrupted (`interrupt`), with
their lock freed; backfill plans are stored with their runs and found by range. SQLite and
PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import sqlalchemy as sa

from pinads.state import BackfillBatch, ControlDB, RunStatus
from pinads.state.db import utc_now
from pinads.state.schema import RUN_LOCKS, RUNS
from pinads.values import RunKind

JAN, JUN = date(2025, 1, 1), date(2025, 6, 30)


def _dead_pid() -> int:
    proc = subprocess.run(  # a process that has exited: its pid is not alive any more
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_a_dead_holder_is_interrupted_with_its_batches_rows_and_its_lock_freed(
    db: ControlDB,
) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    dead = _dead_pid()
    crashed = db.runs.start(
        source.id, kind=RunKind.BACKFILL, range_start=JAN, range_end=JUN, pid=dead
    )
    db.runs.acquire_run_lock(source.id, crashed.id, pid=dead)
    for batch, rows in ((1, 120), (2, 80)):
        db.runs.record_batch(
            BackfillBatch(
                run_id=crashed.id,
                batch=batch,
                source_id=source.id,
                range_start=JAN,
                range_end=JUN,
                status="done",
                rows_written=rows,
                updated_at=utc_now(),
            )
        )
    alive = db.sources.create("t", {}, authorizer_id=None)
    running = db.runs.start(alive.id, kind=RunKind.MANUAL)  # this process: alive
    db.runs.acquire_run_lock(alive.id, running.id)

    assert [run.id for run in db.runs.dead_runs()] == [crashed.id]
    assert db.runs.dead_runs(alive.id) == []
    assert db.runs.interrupt(crashed.id, error="interrupted: resume it")
    assert not db.runs.interrupt(crashed.id, error="again")  # marked once
    record = db.runs.get(crashed.id)
    assert (record.status, record.rows_written, record.error) == (
        RunStatus.INTERRUPTED,
        200,
        "interrupted: resume it",
    )
    assert record.finished_at is not None and record.duration_seconds is not None
    assert db.runs.lock_of(source.id) is None
    assert db.runs.dead_runs() == []
    assert db.runs.get(running.id).status is RunStatus.RUNNING


def test_a_stale_heartbeat_on_another_host_is_dead_a_fresh_one_is_not(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    remote = db.runs.start(source.id, kind=RunKind.SCHEDULED, pid=1)
    with db.engine.begin() as conn:
        conn.execute(sa.update(RUNS).values(host="elsewhere"))
        conn.execute(
            RUN_LOCKS.insert().values(
                source_id=source.id,
                run_id=remote.id,
                pid=1,
                host="elsewhere",
                acquired_at=utc_now() - timedelta(hours=1),
                heartbeat_at=utc_now() - timedelta(minutes=1),
            )
        )
    assert db.runs.dead_runs() == []  # beating: alive, whatever its pid means here
    with db.engine.begin() as conn:
        stale = utc_now() - db.runs.stale_after - timedelta(seconds=1)
        conn.execute(sa.update(RUN_LOCKS).values(heartbeat_at=stale))
    assert [run.id for run in db.runs.dead_runs()] == [remote.id]


def test_a_run_without_a_lock_is_judged_by_its_process(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    gone = db.runs.start(source.id, kind=RunKind.PREVIEW, pid=_dead_pid())
    here = db.runs.start(source.id, kind=RunKind.PREVIEW)
    assert [run.id for run in db.runs.dead_runs(source.id)] == [gone.id]
    assert db.runs.get(here.id).status is RunStatus.RUNNING


def _started(db: ControlDB, run_id: str, hours_ago: int) -> None:
    with db.engine.begin() as conn:
        moment = utc_now() - timedelta(hours=hours_ago)
        conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(started_at=moment))


def test_the_latest_backfill_plan_of_a_range(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    other = db.runs.start(source.id, kind=RunKind.BACKFILL, range_start=JAN, range_end=JAN)
    db.plans.save(other.id, basis="campaign_analytics DAY", plan={"steps": ["other range"]})
    first = db.runs.start(source.id, kind=RunKind.BACKFILL, range_start=JAN, range_end=JUN)
    db.plans.save(first.id, basis="campaign_analytics DAY", plan={"steps": ["a"]})
    db.plans.save(first.id, basis="campaign_analytics DAY", plan={"steps": ["b"]})  # replaced
    unplanned = db.runs.start(source.id, kind=RunKind.BACKFILL, range_start=JAN, range_end=JUN)
    for run_id, hours_ago in ((other.id, 3), (first.id, 2), (unplanned.id, 1)):
        _started(db, run_id, hours_ago)

    stored = db.plans.latest_backfill(source.id, start=JAN, end=JUN)
    assert stored is not None
    assert (stored.run.id, stored.basis, stored.plan) == (
        first.id,
        "campaign_analytics DAY",
        {"steps": ["b"]},
    )
    latest = db.plans.latest_backfill(source.id, start=JAN)  # any end
    assert latest is not None and latest.run.id == first.id
    _started(db, other.id, 0)
    latest = db.plans.latest_backfill(source.id, start=JAN)
    assert latest is not None and latest.plan == {"steps": ["other range"]}
    assert db.plans.latest_backfill(source.id, start=JUN) is None
    db.sources.delete("s")  # plans go with their runs
    assert db.plans.latest_backfill(source.id, start=JAN, end=JUN) is None
