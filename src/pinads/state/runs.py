"""Run history, per-source run locks and backfill batch progress.

A run lock is one row per source (primary key), so a second live run is refused even from
another process or machine. A holder is dead when it ran on this host and its pid is gone, or
when its heartbeat is older than `stale_after` (any host): the next acquirer takes the lock
over and marks the dead run interrupted, in the same transaction. Reading history finds such
runs too (`dead_runs`, `interrupt`), so a killed run never shows "running" until the next run.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from pinads.errors import StateError
from pinads.state.db import utc_now
from pinads.state.records import BackfillBatch, RunLock, RunRecord, RunStatus
from pinads.state.schema import BACKFILL_PROGRESS, RUN_LOCKS, RUNS
from pinads.values import RunKind

__all__ = ["DEFAULT_STALE_AFTER", "RunRepository", "pid_alive"]

DEFAULT_STALE_AFTER = timedelta(minutes=10)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _holder_dead(lock: RunLock, *, host: str, stale_after: timedelta) -> bool:
    if lock.host == host and not pid_alive(lock.pid):
        return True
    return utc_now() - lock.heartbeat_at > stale_after


def _run_dead(run: RunRecord, lock: RunLock | None, *, host: str, stale_after: timedelta) -> bool:
    """Whether a run recorded as running has no live process any more."""
    if lock is not None and lock.run_id == run.id:
        return _holder_dead(lock, host=host, stale_after=stale_after)
    # It holds no lock: a run without one (Test Data, recorded start to finish in a moment),
    # judged by its own process, or by its age when that ran on another host.
    if run.host == host:
        return not pid_alive(run.pid)
    return utc_now() - run.started_at > stale_after


def _day(value: Any) -> date | None:
    """A date column's aggregate: SQLite returns it as ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class RunRepository:
    """Runs, run locks and backfill progress."""

    def __init__(self, engine: sa.Engine, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
        self._engine = engine
        self.stale_after = stale_after
        self.host = socket.gethostname()

    # -- runs ------------------------------------------------------------------------------

    def start(
        self,
        source_id: int,
        *,
        kind: RunKind,
        range_start: date | None = None,
        range_end: date | None = None,
        run_id: str | None = None,
        pid: int | None = None,
    ) -> RunRecord:
        """Record a new run as running (take the run lock separately, before or after)."""
        run_id = run_id or uuid.uuid4().hex
        with self._engine.begin() as conn:
            conn.execute(
                RUNS.insert().values(
                    id=run_id,
                    source_id=source_id,
                    kind=kind.value,
                    range_start=range_start,
                    range_end=range_end,
                    status=RunStatus.RUNNING.value,
                    rows_written=0,
                    api_calls=0,
                    rate_limited_waits=0,
                    started_at=utc_now(),
                    pid=pid if pid is not None else os.getpid(),
                    host=self.host,
                )
            )
        return self.get(run_id)

    def finish(
        self,
        run_id: str,
        *,
        status: RunStatus,
        rows_written: int = 0,
        api_calls: int = 0,
        rate_limited_waits: int = 0,
        error: str | None = None,
    ) -> RunRecord:
        """Record the outcome and release the run's lock, in one transaction."""
        run = self.get(run_id)
        finished = utc_now()
        with self._engine.begin() as conn:
            conn.execute(
                RUNS.update()
                .where(RUNS.c.id == run_id)
                .values(
                    status=status.value,
                    rows_written=rows_written,
                    api_calls=api_calls,
                    rate_limited_waits=rate_limited_waits,
                    finished_at=finished,
                    duration_seconds=(finished - run.started_at).total_seconds(),
                    error=error,
                )
            )
            conn.execute(RUN_LOCKS.delete().where(RUN_LOCKS.c.run_id == run_id))
        return self.get(run_id)

    def find(self, run_id: str) -> RunRecord | None:
        """The run `run_id`, or None when history has no such run."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
        return None if row is None else RunRecord.model_validate(dict(row._mapping))

    def get(self, run_id: str) -> RunRecord:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
        if row is None:
            raise StateError(f"no run {run_id!r} in the control DB: list runs with `pinads runs`")
        return RunRecord.model_validate(dict(row._mapping))

    def recent(self, source_id: int | None = None, *, limit: int = 20) -> list[RunRecord]:
        query = sa.select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id).limit(limit)
        if source_id is not None:
            query = query.where(RUNS.c.source_id == source_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [RunRecord.model_validate(dict(row._mapping)) for row in rows]

    def written_span(self, source_id: int) -> tuple[bool, date | None, date | None]:
        """Whether the source's runs may have written its table, and the first and last day
        they read. A run counts unless it wrote nothing (a preview, or a run that failed
        before its first step committed); an interrupted run counts, as its committed steps
        are not counted in its record."""
        writing = sa.and_(
            RUNS.c.source_id == source_id,
            RUNS.c.kind != RunKind.PREVIEW.value,
            sa.or_(RUNS.c.status != RunStatus.FAILED.value, RUNS.c.rows_written > 0),
        )
        query = sa.select(
            sa.func.count(), sa.func.min(RUNS.c.range_start), sa.func.max(RUNS.c.range_end)
        ).where(writing)
        with self._engine.connect() as conn:
            count, first, last = conn.execute(query).one()
        return bool(count), _day(first), _day(last)

    # -- run locks -------------------------------------------------------------------------

    def lock_of(self, source_id: int) -> RunLock | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(RUN_LOCKS).where(RUN_LOCKS.c.source_id == source_id)
            ).first()
        return None if row is None else RunLock.model_validate(dict(row._mapping))

    def _select_lock(self, conn: sa.Connection, source_id: int) -> RunLock | None:
        query = sa.select(RUN_LOCKS).where(RUN_LOCKS.c.source_id == source_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None else RunLock.model_validate(dict(row._mapping))

    def _take_over(self, conn: sa.Connection, dead: RunLock) -> None:
        conn.execute(
            RUN_LOCKS.delete().where(
                (RUN_LOCKS.c.source_id == dead.source_id) & (RUN_LOCKS.c.run_id == dead.run_id)
            )
        )
        self._mark_interrupted(
            conn,
            dead.run_id,
            error=f"the run's process ({dead.host} pid {dead.pid}) died; lock taken over",
        )

    def _mark_interrupted(self, conn: sa.Connection, run_id: str, *, error: str) -> bool:
        """Mark a running run interrupted, with the rows its recorded batches wrote (a run
        records its rows when it finishes, which a killed run never does)."""
        started = conn.execute(
            sa.select(RUNS.c.started_at).where(
                (RUNS.c.id == run_id) & (RUNS.c.status == RunStatus.RUNNING.value)
            )
        ).scalar_one_or_none()
        if started is None:
            return False
        rows = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(BACKFILL_PROGRESS.c.rows_written), 0)).where(
                BACKFILL_PROGRESS.c.run_id == run_id
            )
        ).scalar_one()
        now = utc_now()
        conn.execute(
            RUNS.update()
            .where((RUNS.c.id == run_id) & (RUNS.c.status == RunStatus.RUNNING.value))
            .values(
                status=RunStatus.INTERRUPTED.value,
                rows_written=int(rows),
                finished_at=now,
                duration_seconds=(now - started).total_seconds(),
                error=error,
            )
        )
        return True

    def dead_runs(self, source_id: int | None = None) -> list[RunRecord]:
        """Runs recorded as running whose process is gone: same host and its pid not alive,
        or its lock's heartbeat older than `stale_after`."""
        query = sa.select(RUNS).where(RUNS.c.status == RunStatus.RUNNING.value)
        if source_id is not None:
            query = query.where(RUNS.c.source_id == source_id)
        with self._engine.connect() as conn:
            running = [RunRecord.model_validate(dict(r._mapping)) for r in conn.execute(query)]
        return [
            run
            for run in running
            if _run_dead(
                run, self.lock_of(run.source_id), host=self.host, stale_after=self.stale_after
            )
        ]

    def interrupt(self, run_id: str, *, error: str) -> bool:
        """Mark a dead run interrupted and free the lock it still holds, in one transaction;
        False when it is no longer running (it finished, or another reader marked it)."""
        with self._engine.begin() as conn:
            if not self._mark_interrupted(conn, run_id, error=error):
                return False
            conn.execute(RUN_LOCKS.delete().where(RUN_LOCKS.c.run_id == run_id))
        return True

    def _refused(self, source_id: int, holder: RunLock) -> StateError:
        return StateError(
            f"source {source_id} is already running (run {holder.run_id}, pid {holder.pid} on "
            f"{holder.host}, since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC): wait for it to "
            "finish; `pinads runs` shows it"
        )

    def acquire_run_lock(self, source_id: int, run_id: str, *, pid: int | None = None) -> RunLock:
        """Take the source's run lock for `run_id`, or raise StateError if a live run holds
        it. A dead holder's lock is taken over."""
        now = utc_now()
        values: dict[str, Any] = {
            "source_id": source_id,
            "run_id": run_id,
            "pid": pid if pid is not None else os.getpid(),
            "host": self.host,
            "acquired_at": now,
            "heartbeat_at": now,
        }
        try:
            with self._engine.begin() as conn:
                holder = self._select_lock(conn, source_id)
                if holder is not None:
                    if not _holder_dead(holder, host=self.host, stale_after=self.stale_after):
                        raise self._refused(source_id, holder)
                    self._take_over(conn, holder)
                conn.execute(RUN_LOCKS.insert().values(**values))
        except sa.exc.IntegrityError as exc:  # another process inserted first
            holder = self.lock_of(source_id)
            if holder is None:
                raise StateError(
                    f"source {source_id}'s run lock changed hands while taking it: retry"
                ) from exc
            raise self._refused(source_id, holder) from exc
        return RunLock.model_validate(values)

    def heartbeat(self, source_id: int, run_id: str) -> None:
        """Say the holder is alive; raise StateError if the lock was taken over."""
        with self._engine.begin() as conn:
            done = conn.execute(
                RUN_LOCKS.update()
                .where((RUN_LOCKS.c.source_id == source_id) & (RUN_LOCKS.c.run_id == run_id))
                .values(heartbeat_at=utc_now())
            ).rowcount
        if done != 1:
            raise StateError(
                f"run {run_id} lost its lock on source {source_id} (taken over as dead): "
                "stop this run; check `pinads runs`"
            )

    def release_run_lock(self, source_id: int, run_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                RUN_LOCKS.delete().where(
                    (RUN_LOCKS.c.source_id == source_id) & (RUN_LOCKS.c.run_id == run_id)
                )
            )

    # -- backfill progress -----------------------------------------------------------------

    def record_batch(self, batch: BackfillBatch) -> None:
        """Insert or update one batch's progress row."""
        key = (BACKFILL_PROGRESS.c.run_id == batch.run_id) & (
            BACKFILL_PROGRESS.c.batch == batch.batch
        )
        values = batch.model_dump()
        with self._engine.begin() as conn:
            if conn.execute(BACKFILL_PROGRESS.update().where(key).values(**values)).rowcount == 0:
                conn.execute(BACKFILL_PROGRESS.insert().values(**values))

    def batches(self, run_id: str) -> list[BackfillBatch]:
        query = (
            sa.select(BACKFILL_PROGRESS)
            .where(BACKFILL_PROGRESS.c.run_id == run_id)
            .order_by(BACKFILL_PROGRESS.c.batch)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [BackfillBatch.model_validate(dict(row._mapping)) for row in rows]
